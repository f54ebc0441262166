#pragma once
// trignet::simd: one float vector type, as wide as the compiler flags allow.
//
//   -DTRIGNET_SIMD_SCALAR       1 lane, plain C++ (any architecture; forced for tests)
//   __AVX512F__                 16 lanes (zmm)
//   __AVX2__ && __FMA__         8 lanes (ymm)
//   __SSE2__ (any x86-64)       4 lanes (xmm), FMA emulated by mul + add
//   anything else               1 lane, plain C++
//
// Everything lives in an inline namespace named after the level, so that
// translation units built with different flags can share one binary without
// ODR clashes (docs/fast-path.md, "ISA selection").

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(TRIGNET_SIMD_SCALAR)
#define TRIGNET_SIMD_LEVEL 0
#elif defined(__AVX512F__)
#define TRIGNET_SIMD_LEVEL 3
#elif defined(__AVX2__) && defined(__FMA__)
#define TRIGNET_SIMD_LEVEL 2
#elif defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define TRIGNET_SIMD_LEVEL 1
#else
#define TRIGNET_SIMD_LEVEL 0
#endif

#if TRIGNET_SIMD_LEVEL >= 2
#include <immintrin.h>
#elif TRIGNET_SIMD_LEVEL == 1
#include <emmintrin.h>
#endif

#if TRIGNET_SIMD_LEVEL == 3
#define TRIGNET_SIMD_NS isa_avx512
#elif TRIGNET_SIMD_LEVEL == 2
#define TRIGNET_SIMD_NS isa_avx2
#elif TRIGNET_SIMD_LEVEL == 1
#define TRIGNET_SIMD_NS isa_sse2
#else
#define TRIGNET_SIMD_NS isa_scalar
#endif

namespace trignet::simd {
inline namespace TRIGNET_SIMD_NS {

/// Name of the instruction set this translation unit was built for.
inline const char* isa_name() {
#if TRIGNET_SIMD_LEVEL == 3
  return "avx512";
#elif TRIGNET_SIMD_LEVEL == 2
  return "avx2+fma";
#elif TRIGNET_SIMD_LEVEL == 1
  return "sse2";
#else
  return "scalar";
#endif
}

/// Alignment of packed weights and internal buffers (one cache line).
inline constexpr std::size_t alignment = 64;

#if TRIGNET_SIMD_LEVEL == 3
inline constexpr std::size_t width = 16;
struct vf { __m512 v; };
struct vi { __m512i v; };
struct vm { __mmask16 v; };
inline vf load(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void store(float* p, vf a) { _mm512_storeu_ps(p, a.v); }
inline vf set1(float x) { return {_mm512_set1_ps(x)}; }
inline vf broadcast(const float* p) { return {_mm512_set1_ps(*p)}; }
inline vf operator+(vf a, vf b) { return {_mm512_add_ps(a.v, b.v)}; }
inline vf operator-(vf a, vf b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline vf operator*(vf a, vf b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline vf operator/(vf a, vf b) { return {_mm512_div_ps(a.v, b.v)}; }
inline vf fmadd(vf a, vf b, vf c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline vf fmsub(vf a, vf b, vf c) { return {_mm512_fmsub_ps(a.v, b.v, c.v)}; }
inline vf min(vf a, vf b) { return {_mm512_min_ps(a.v, b.v)}; }
inline vf max(vf a, vf b) { return {_mm512_max_ps(a.v, b.v)}; }
inline vm operator<(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline vm operator<=(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline vm operator>(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline vm operator>=(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
inline vm operator==(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline vm is_nan(vf a) { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
inline vm operator|(vm a, vm b) { return {static_cast<__mmask16>(a.v | b.v)}; }
inline vm operator&(vm a, vm b) { return {static_cast<__mmask16>(a.v & b.v)}; }
inline bool any(vm m) { return m.v != 0; }
/// m ? a : b, lane by lane.
inline vf select(vm m, vf a, vf b) { return {_mm512_mask_blend_ps(m.v, b.v, a.v)}; }
inline vi as_int(vf a) { return {_mm512_castps_si512(a.v)}; }
inline vf as_float(vi a) { return {_mm512_castsi512_ps(a.v)}; }
inline vi to_int(vf a) { return {_mm512_cvtps_epi32(a.v)}; }  // round to nearest
/// a rounded to the nearest integer (ties to even), as to_float(to_int(a)) for |a| < 2^31.
inline vf round_nearest(vf a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline vf to_float(vi a) { return {_mm512_cvtepi32_ps(a.v)}; }
inline vi operator+(vi a, vi b) { return {_mm512_add_epi32(a.v, b.v)}; }
inline vi operator-(vi a, vi b) { return {_mm512_sub_epi32(a.v, b.v)}; }
inline vi operator&(vi a, vi b) { return {_mm512_and_si512(a.v, b.v)}; }
inline vi operator|(vi a, vi b) { return {_mm512_or_si512(a.v, b.v)}; }
inline vi seti(std::int32_t x) { return {_mm512_set1_epi32(x)}; }
template <int n> inline vi shl(vi a) { return {_mm512_slli_epi32(a.v, n)}; }
template <int n> inline vi shr(vi a) { return {_mm512_srli_epi32(a.v, n)}; }
inline float reduce_add(vf a) { return _mm512_reduce_add_ps(a.v); }
inline float reduce_max(vf a) { return _mm512_reduce_max_ps(a.v); }
/// The first n lanes of p (n < width), the others `fill`.
inline vf load_partial(const float* p, std::size_t n, float fill) {
  const __mmask16 k = static_cast<__mmask16>((1u << n) - 1u);
  return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), k, p)};
}
inline void store_partial(float* p, vf a, std::size_t n) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), a.v);
}
/// True in the first n lanes (n <= width).
inline vm first_lanes(std::size_t n) { return {static_cast<__mmask16>((1u << n) - 1u)}; }

#elif TRIGNET_SIMD_LEVEL == 2 || TRIGNET_SIMD_LEVEL == 1

#if TRIGNET_SIMD_LEVEL == 2
inline constexpr std::size_t width = 8;
using native_f = __m256;
using native_i = __m256i;
#define TRIGNET_PS(op) _mm256_##op##_ps
#define TRIGNET_EPI(op) _mm256_##op##_epi32
#define TRIGNET_SI(op) _mm256_##op##_si256
#else
inline constexpr std::size_t width = 4;
using native_f = __m128;
using native_i = __m128i;
#define TRIGNET_PS(op) _mm_##op##_ps
#define TRIGNET_EPI(op) _mm_##op##_epi32
#define TRIGNET_SI(op) _mm_##op##_si128
#endif

struct vf { native_f v; };
struct vi { native_i v; };
struct vm { native_f v; };  // all-ones lanes where true
inline vf load(const float* p) { return {TRIGNET_PS(loadu)(p)}; }
inline void store(float* p, vf a) { TRIGNET_PS(storeu)(p, a.v); }
inline vf set1(float x) { return {TRIGNET_PS(set1)(x)}; }
inline vf broadcast(const float* p) { return {TRIGNET_PS(set1)(*p)}; }
inline vf operator+(vf a, vf b) { return {TRIGNET_PS(add)(a.v, b.v)}; }
inline vf operator-(vf a, vf b) { return {TRIGNET_PS(sub)(a.v, b.v)}; }
inline vf operator*(vf a, vf b) { return {TRIGNET_PS(mul)(a.v, b.v)}; }
inline vf operator/(vf a, vf b) { return {TRIGNET_PS(div)(a.v, b.v)}; }
#if TRIGNET_SIMD_LEVEL == 2
inline vf fmadd(vf a, vf b, vf c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline vf fmsub(vf a, vf b, vf c) { return {_mm256_fmsub_ps(a.v, b.v, c.v)}; }
inline vm cmp_lt(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline vm cmp_le(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline vm cmp_eq(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }
inline vm is_nan(vf a) { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
inline vf select(vm m, vf a, vf b) { return {_mm256_blendv_ps(b.v, a.v, m.v)}; }
inline bool any(vm m) { return _mm256_movemask_ps(m.v) != 0; }
#else
inline vf fmadd(vf a, vf b, vf c) { return {_mm_add_ps(_mm_mul_ps(a.v, b.v), c.v)}; }
inline vf fmsub(vf a, vf b, vf c) { return {_mm_sub_ps(_mm_mul_ps(a.v, b.v), c.v)}; }
inline vm cmp_lt(vf a, vf b) { return {_mm_cmplt_ps(a.v, b.v)}; }
inline vm cmp_le(vf a, vf b) { return {_mm_cmple_ps(a.v, b.v)}; }
inline vm cmp_eq(vf a, vf b) { return {_mm_cmpeq_ps(a.v, b.v)}; }
inline vm is_nan(vf a) { return {_mm_cmpunord_ps(a.v, a.v)}; }
inline vf select(vm m, vf a, vf b) { return {_mm_or_ps(_mm_and_ps(m.v, a.v), _mm_andnot_ps(m.v, b.v))}; }
inline bool any(vm m) { return _mm_movemask_ps(m.v) != 0; }
#endif
inline vf min(vf a, vf b) { return {TRIGNET_PS(min)(a.v, b.v)}; }
inline vf max(vf a, vf b) { return {TRIGNET_PS(max)(a.v, b.v)}; }
inline vm operator<(vf a, vf b) { return cmp_lt(a, b); }
inline vm operator<=(vf a, vf b) { return cmp_le(a, b); }
inline vm operator>(vf a, vf b) { return cmp_lt(b, a); }
inline vm operator>=(vf a, vf b) { return cmp_le(b, a); }
inline vm operator==(vf a, vf b) { return cmp_eq(a, b); }
inline vm operator|(vm a, vm b) { return {TRIGNET_PS(or)(a.v, b.v)}; }
inline vm operator&(vm a, vm b) { return {TRIGNET_PS(and)(a.v, b.v)}; }
#if TRIGNET_SIMD_LEVEL == 2
inline vi as_int(vf a) { return {_mm256_castps_si256(a.v)}; }
inline vf as_float(vi a) { return {_mm256_castsi256_ps(a.v)}; }
#else
inline vi as_int(vf a) { return {_mm_castps_si128(a.v)}; }
inline vf as_float(vi a) { return {_mm_castsi128_ps(a.v)}; }
#endif
#if TRIGNET_SIMD_LEVEL == 2
inline vi to_int(vf a) { return {_mm256_cvtps_epi32(a.v)}; }  // round to nearest
inline vf to_float(vi a) { return {_mm256_cvtepi32_ps(a.v)}; }
inline vf round_nearest(vf a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
#else
inline vi to_int(vf a) { return {_mm_cvtps_epi32(a.v)}; }
inline vf to_float(vi a) { return {_mm_cvtepi32_ps(a.v)}; }
inline vf round_nearest(vf a) { return to_float(to_int(a)); }  // SSE2 has no roundps
#endif
inline vi operator+(vi a, vi b) { return {TRIGNET_EPI(add)(a.v, b.v)}; }
inline vi operator-(vi a, vi b) { return {TRIGNET_EPI(sub)(a.v, b.v)}; }
inline vi operator&(vi a, vi b) { return {TRIGNET_SI(and)(a.v, b.v)}; }
inline vi operator|(vi a, vi b) { return {TRIGNET_SI(or)(a.v, b.v)}; }
inline vi seti(std::int32_t x) { return {TRIGNET_EPI(set1)(x)}; }
template <int n> inline vi shl(vi a) { return {TRIGNET_EPI(slli)(a.v, n)}; }
template <int n> inline vi shr(vi a) { return {TRIGNET_EPI(srli)(a.v, n)}; }
inline float reduce_add(vf a) {
  alignas(alignment) float t[width];
  store(t, a);
  float s = 0.0f;
  for (std::size_t i = 0; i < width; ++i) s += t[i];
  return s;
}
inline float reduce_max(vf a) {
  alignas(alignment) float t[width];
  store(t, a);
  float m = t[0];
  for (std::size_t i = 1; i < width; ++i) m = t[i] > m ? t[i] : m;
  return m;
}
inline vf load_partial(const float* p, std::size_t n, float fill) {
  alignas(alignment) float t[width];
  for (std::size_t i = 0; i < width; ++i) t[i] = i < n ? p[i] : fill;
  return load(t);
}
inline void store_partial(float* p, vf a, std::size_t n) {
  alignas(alignment) float t[width];
  store(t, a);
  for (std::size_t i = 0; i < width; ++i)  // (a fixed count: GCC turned the n-loop into a memcpy it then misjudged)
    if (i < n) p[i] = t[i];
}
inline vm first_lanes(std::size_t n) {
#if TRIGNET_SIMD_LEVEL == 2
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return {_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lane))};
#else
  return {_mm_castsi128_ps(_mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(n)), _mm_setr_epi32(0, 1, 2, 3)))};
#endif
}
#undef TRIGNET_PS
#undef TRIGNET_EPI
#undef TRIGNET_SI

#else  // scalar

inline constexpr std::size_t width = 1;
struct vf { float v; };
struct vi { std::int32_t v; };
struct vm { bool v; };
inline vf load(const float* p) { return {*p}; }
inline void store(float* p, vf a) { *p = a.v; }
inline vf set1(float x) { return {x}; }
inline vf broadcast(const float* p) { return {*p}; }
inline vf operator+(vf a, vf b) { return {a.v + b.v}; }
inline vf operator-(vf a, vf b) { return {a.v - b.v}; }
inline vf operator*(vf a, vf b) { return {a.v * b.v}; }
inline vf operator/(vf a, vf b) { return {a.v / b.v}; }
inline vf fmadd(vf a, vf b, vf c) { return {a.v * b.v + c.v}; }
inline vf fmsub(vf a, vf b, vf c) { return {a.v * b.v - c.v}; }
inline vf min(vf a, vf b) { return {b.v < a.v ? b.v : a.v}; }  // b if either is NaN, as SSE
inline vf max(vf a, vf b) { return {b.v > a.v ? b.v : a.v}; }
inline vm operator<(vf a, vf b) { return {a.v < b.v}; }
inline vm operator<=(vf a, vf b) { return {a.v <= b.v}; }
inline vm operator>(vf a, vf b) { return {a.v > b.v}; }
inline vm operator>=(vf a, vf b) { return {a.v >= b.v}; }
inline vm operator==(vf a, vf b) { return {a.v == b.v}; }
inline vm is_nan(vf a) { return {a.v != a.v}; }
inline vm operator|(vm a, vm b) { return {a.v || b.v}; }
inline vm operator&(vm a, vm b) { return {a.v && b.v}; }
inline bool any(vm m) { return m.v; }
inline vf select(vm m, vf a, vf b) { return m.v ? a : b; }
inline vi as_int(vf a) { vi r; std::memcpy(&r.v, &a.v, 4); return r; }
inline vf as_float(vi a) { vf r; std::memcpy(&r.v, &a.v, 4); return r; }
inline vi to_int(vf a) { return {static_cast<std::int32_t>(std::nearbyint(a.v))}; }  // as cvtps2dq
inline vf to_float(vi a) { return {static_cast<float>(a.v)}; }
inline vf round_nearest(vf a) { return {std::nearbyint(a.v)}; }
inline vi operator+(vi a, vi b) { return {static_cast<std::int32_t>(static_cast<std::uint32_t>(a.v) + static_cast<std::uint32_t>(b.v))}; }
inline vi operator-(vi a, vi b) { return {static_cast<std::int32_t>(static_cast<std::uint32_t>(a.v) - static_cast<std::uint32_t>(b.v))}; }
inline vi operator&(vi a, vi b) { return {a.v & b.v}; }
inline vi operator|(vi a, vi b) { return {a.v | b.v}; }
inline vi seti(std::int32_t x) { return {x}; }
template <int n> inline vi shl(vi a) { return {static_cast<std::int32_t>(static_cast<std::uint32_t>(a.v) << n)}; }
template <int n> inline vi shr(vi a) { return {static_cast<std::int32_t>(static_cast<std::uint32_t>(a.v) >> n)}; }
inline float reduce_add(vf a) { return a.v; }
inline float reduce_max(vf a) { return a.v; }
inline vf load_partial(const float* p, std::size_t n, float fill) { return {n ? *p : fill}; }
inline void store_partial(float* p, vf a, std::size_t n) { if (n) *p = a.v; }
inline vm first_lanes(std::size_t n) { return {n > 0}; }

#endif

inline vf zero() { return set1(0.0f); }
inline vf abs(vf a) { return as_float(as_int(a) & seti(0x7fffffff)); }
/// |mag| with the sign of `sign`.
inline vf copysign(vf mag, vf sign) {
  return as_float((as_int(mag) & seti(0x7fffffff)) | (as_int(sign) & seti(static_cast<std::int32_t>(0x80000000u))));
}

/// The first `valid` lanes of a to y (all of them when valid >= width).
inline void store_lanes(float* y, vf a, std::size_t valid) {
  if (valid >= width)
    store(y, a);
  else
    store_partial(y, a, valid);
}

/// Round n up to a multiple of the vector width.
constexpr std::size_t round_up(std::size_t n) { return (n + width - 1) / width * width; }

}  // inline namespace TRIGNET_SIMD_NS
}  // namespace trignet::simd
