#pragma once
// trignet::fixed<W, I, Q, O, Signed>: a fixed-point scalar with the semantics
// of Vitis HLS ap_fixed<W, I, Q, O> / ap_ufixed<W, I, Q, O>, bit for bit.
//
// A value is raw * 2^-(W - I), raw a W-bit two's-complement (or unsigned)
// integer. Arithmetic between fixed types is exact: a + b, a - b, a * b have a
// wider fixed type that holds the exact result (the ap_fixed result types),
// and only construction or assignment into a narrower type rounds (Q) and
// handles overflow (O). docs/fixed-point.md describes the rules and limits;
// tests/test_fixed.cpp and tools/check-fixed-vs-ap.sh verify them.

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <trignet/config.hpp>

namespace trignet {

/// How bits below the target's least significant bit are dropped (ap_q_mode).
enum class Quantization : unsigned char {
  TRN,          ///< truncate towards minus infinity (floor); the default
  TRN_ZERO,     ///< truncate towards zero
  RND,          ///< round to nearest, ties towards plus infinity
  RND_ZERO,     ///< round to nearest, ties towards zero
  RND_MIN_INF,  ///< round to nearest, ties towards minus infinity
  RND_INF,      ///< round to nearest, ties away from zero
  RND_CONV      ///< round to nearest, ties to even (convergent)
};

/// What happens to a value outside the target's range (ap_o_mode, no N bits).
enum class Overflow : unsigned char {
  WRAP,      ///< keep the low W bits (two's complement wrap-around); the default
  SAT,       ///< clamp to the largest or smallest representable value
  SAT_ZERO,  ///< set to zero
  SAT_SYM    ///< clamp symmetrically: signed types never hold -2^(W-1)
};

template <int W, int I, Quantization Q = Quantization::TRN, Overflow O = Overflow::WRAP,
          bool Signed = true>
class fixed;

/// Unsigned fixed point, as ap_ufixed<W, I, Q, O>.
template <int W, int I, Quantization Q = Quantization::TRN, Overflow O = Overflow::WRAP>
using ufixed = fixed<W, I, Q, O, false>;

/// Widest storage of any fixed type, intermediate results included: a raw
/// value (plus one bit for unsigned types) must fit in a 128-bit integer.
inline constexpr int fixed_max_bits = 128;

namespace detail {

__extension__ typedef __int128 fixed_int128;
__extension__ typedef unsigned __int128 fixed_uint128;

template <class Int>
struct fixed_int_traits;
template <>
struct fixed_int_traits<std::int32_t> {
  using unsigned_type = std::uint32_t;
  static constexpr int bits = 32;
};
template <>
struct fixed_int_traits<std::int64_t> {
  using unsigned_type = std::uint64_t;
  static constexpr int bits = 64;
};
template <>
struct fixed_int_traits<fixed_int128> {
  using unsigned_type = fixed_uint128;
  static constexpr int bits = 128;
};

/// Storage of a raw value that needs `Bits` bits as a signed integer: the
/// common small widths stay in 32 or 64 bits (fast paths).
template <int Bits>
using fixed_storage_t =
    std::conditional_t<(Bits <= 32), std::int32_t,
                       std::conditional_t<(Bits <= 64), std::int64_t, fixed_int128>>;

/// Integer type in which a cast is computed: 64 bits when source and target fit.
template <int Bits>
using fixed_work_t = std::conditional_t<(Bits <= 64), std::int64_t, fixed_int128>;

TRIGNET_HOST_DEVICE constexpr int fixed_imax(int a, int b) { return a > b ? a : b; }

/// The low W bits of v, sign-extended (S) or zero-extended.
template <class Int>
TRIGNET_HOST_DEVICE constexpr Int fixed_wrap(Int v, int W, bool S) {
  using U = typename fixed_int_traits<Int>::unsigned_type;
  if (W >= fixed_int_traits<Int>::bits) return v;
  const U mask = static_cast<U>((static_cast<U>(1) << W) - 1);
  U u = static_cast<U>(static_cast<U>(v) & mask);
  if (S && ((u >> (W - 1)) & 1u) != 0) u = static_cast<U>(u | static_cast<U>(~mask));
  return static_cast<Int>(u);  // modular (implementation-defined before C++20, two's complement everywhere)
}

/// v * 2^s for 0 <= s < bits(Int), computed without signed-overflow UB.
template <class Int>
TRIGNET_HOST_DEVICE constexpr Int fixed_shl(Int v, int s) {
  using U = typename fixed_int_traits<Int>::unsigned_type;
  return static_cast<Int>(static_cast<U>(static_cast<U>(v) << s));
}

/// The cast at the heart of the type: raw value v with F2 fractional bits into
/// a W-bit (S signed) raw value with F fractional bits, d = F2 - F, applying Q
/// when bits are dropped (d > 0) and O when the result is out of range.
/// Requires W + !S <= bits(Int); v any value of Int; d any int.
template <class Int>
TRIGNET_HOST_DEVICE constexpr Int fixed_cast(Int v, int d, int W, bool S, Quantization Q,
                                             Overflow O) {
  using U = typename fixed_int_traits<Int>::unsigned_type;
  constexpr int B = fixed_int_traits<Int>::bits;
  const Int maxv = static_cast<Int>((static_cast<U>(1) << (W - (S ? 1 : 0))) - 1);
  const Int minv = S ? static_cast<Int>(-maxv - 1) : static_cast<Int>(0);
  // SAT_SYM's lower bound: -max, except for 1-bit signed types where ap_fixed
  // stores the pattern 1 (-1), i.e. behaves as SAT.
  const Int sym_min = S && W > 1 ? static_cast<Int>(-maxv) : minv;
  bool over = false;
  bool under = false;
  if (d > 0) {
    // Floor division by 2^d, then the dropped remainder decides the increment.
    Int q = 0;
    bool nonzero = false;
    int vs_half = 0;  // remainder compared with half an LSB: -1, 0 (tie), +1
    if (d >= B) {
      q = v < 0 ? static_cast<Int>(-1) : static_cast<Int>(0);
      nonzero = v != 0;
      // remainder 2^d + v for negative v, above half unless d == B and v == -2^(B-1).
      vs_half = v >= 0 ? -1 : ((d == B && v == static_cast<Int>(static_cast<U>(1) << (B - 1))) ? 0 : 1);
    } else {
      q = static_cast<Int>(v >> d);  // arithmetic shift (GCC, Clang, NVCC, MSVC)
      const U rem = static_cast<U>(static_cast<U>(v) & static_cast<U>((static_cast<U>(1) << d) - 1));
      const U half = static_cast<U>(static_cast<U>(1) << (d - 1));
      nonzero = rem != 0;
      vs_half = rem < half ? -1 : (rem == half ? 0 : 1);
    }
    const bool neg = v < 0;
    bool inc = false;
    switch (Q) {
      case Quantization::TRN: inc = false; break;
      case Quantization::TRN_ZERO: inc = neg && nonzero; break;
      case Quantization::RND: inc = vs_half >= 0; break;
      case Quantization::RND_ZERO: inc = vs_half > 0 || (vs_half == 0 && neg); break;
      case Quantization::RND_MIN_INF: inc = vs_half > 0; break;
      case Quantization::RND_INF: inc = vs_half > 0 || (vs_half == 0 && !neg); break;
      case Quantization::RND_CONV: inc = vs_half > 0 || (vs_half == 0 && (q & 1) != 0); break;
    }
    if (inc) q = static_cast<Int>(q + 1);  // |q| <= 2^(B-2): cannot overflow
    over = q > maxv;
    under = q < minv;
    if (!over && !under) {
      if (O == Overflow::SAT_SYM && q == minv) return sym_min;
      return q;
    }
    if (O == Overflow::WRAP) return fixed_wrap(q, W, S);
  } else {
    const int s = -d;
    if (v == 0) return 0;
    if (s >= W) {  // every source bit lands above the target's MSB
      over = v > 0;
      under = v < 0;
      if (O == Overflow::WRAP) return 0;
    } else {
      over = v > static_cast<Int>(maxv >> s);
      under = v < static_cast<Int>(minv >> s);
      const Int shifted = fixed_shl(v, s);
      if (!over && !under) {
        if (O == Overflow::SAT_SYM && shifted == minv) return sym_min;
        return shifted;
      }
      if (O == Overflow::WRAP) return fixed_wrap(shifted, W, S);
    }
  }
  switch (O) {
    case Overflow::SAT_ZERO: return 0;
    case Overflow::SAT_SYM: return over ? maxv : sym_min;
    default: return over ? maxv : minv;  // SAT
  }
}

/// 2^e as a double, exact for -1022 <= e <= 1023.
TRIGNET_HOST_DEVICE constexpr double fixed_pow2(int e) {
  double r = 1.0;
  for (; e > 0; --e) r *= 2.0;
  for (; e < 0; ++e) r *= 0.5;
  return r;
}

TRIGNET_HOST_DEVICE constexpr float fixed_pow2f(int e) {
  float r = 1.0f;
  for (; e > 0; --e) r *= 2.0f;
  for (; e < 0; ++e) r *= 0.5f;
  return r;
}

struct fixed_raw_tag {};

/// Built-in integers take part in arithmetic as ap_fixed treats them: an
/// integer of N bits is fixed<N, N> (bool is ufixed<1, 1>).
template <class T, class = void>
struct fixed_of_integer {};
template <class T>
struct fixed_of_integer<T, std::enable_if_t<std::is_integral<T>::value>> {
  static constexpr int bits = std::is_same<T, bool>::value ? 1 : static_cast<int>(sizeof(T) * 8);
  using type = fixed<bits, bits, Quantization::TRN, Overflow::WRAP,
                     std::is_signed<T>::value && !std::is_same<T, bool>::value>;
};

/// Result types of the exact operations (ap_fixed_base::RType).
template <int W1, int I1, bool S1, int W2, int I2, bool S2>
struct fixed_result {
  static constexpr int F1 = W1 - I1;
  static constexpr int F2 = W2 - I2;
  static constexpr int F = fixed_imax(F1, F2);
  static constexpr int plus_i = fixed_imax(I1 + (S2 && !S1 ? 1 : 0), I2 + (S1 && !S2 ? 1 : 0)) + 1;
  using plus = fixed<plus_i + F, plus_i, Quantization::TRN, Overflow::WRAP, S1 || S2>;
  using minus = fixed<plus_i + F, plus_i, Quantization::TRN, Overflow::WRAP, true>;
  using mult = fixed<W1 + W2, I1 + I2, Quantization::TRN, Overflow::WRAP, S1 || S2>;
  using div = fixed<(S2 ? 1 : 0) + W1 + fixed_imax(F2, 0), (S2 ? 1 : 0) + I1 + F2,
                    Quantization::TRN, Overflow::WRAP, S1 || S2>;
};

}  // namespace detail

template <int W, int I, Quantization Q, Overflow O, bool Signed>
class fixed {
  static_assert(W >= 1, "trignet::fixed: the width W must be at least 1");
  static_assert(W + (Signed ? 0 : 1) <= fixed_max_bits,
                "trignet::fixed: at most 128 bits (127 unsigned), intermediate results included");

 public:
  static constexpr int width = W;
  static constexpr int integer_bits = I;
  static constexpr int fractional_bits = W - I;
  static constexpr bool is_signed = Signed;
  static constexpr Quantization quantization = Q;
  static constexpr Overflow overflow = O;

  /// The raw integer: value * 2^fractional_bits, sign- or zero-extended.
  using raw_type = detail::fixed_storage_t<W + (Signed ? 0 : 1)>;

  TRIGNET_HOST_DEVICE constexpr fixed() noexcept : raw_(0) {}

  /// From another fixed type: rounds with this type's Q, then applies its O.
  template <int W2, int I2, Quantization Q2, Overflow O2, bool S2>
  TRIGNET_HOST_DEVICE constexpr fixed(const fixed<W2, I2, Q2, O2, S2>& x) noexcept
      : raw_(cast_from<detail::fixed_work_t<detail::fixed_imax(W2 + (S2 ? 0 : 1), W + (Signed ? 0 : 1))>>(
            x.raw(), (W2 - I2) - fractional_bits)) {}

  /// From a built-in integer (as ap_fixed: an N-bit integer is fixed<N, N>).
  template <class T, std::enable_if_t<std::is_integral<T>::value, int> = 0>
  TRIGNET_HOST_DEVICE constexpr fixed(T x) noexcept
      : raw_(cast_from<detail::fixed_work_t<detail::fixed_imax(
                 static_cast<int>(sizeof(T) * 8) + 1, W + (Signed ? 0 : 1))>>(x, -fractional_bits)) {}

  /// From double, as ap_fixed: the exact value of d, rounded with Q, then O.
  /// NaN and infinities are read as ap_fixed reads them (see docs/fixed-point.md).
  TRIGNET_HOST_DEVICE fixed(double d) noexcept : raw_(from_double(d)) {}
  /// From float: exactly as from the equal double.
  TRIGNET_HOST_DEVICE fixed(float f) noexcept : raw_(from_double(static_cast<double>(f))) {}

  /// The fixed value with raw integer r, wrapped to W bits (as setting ap_fixed's .V).
  TRIGNET_HOST_DEVICE static constexpr fixed from_raw(raw_type r) noexcept {
    return fixed(detail::fixed_raw_tag{}, detail::fixed_wrap(r, W, Signed));
  }
  /// Unchecked: r must already be a W-bit value (used by the exact operators).
  TRIGNET_HOST_DEVICE constexpr fixed(detail::fixed_raw_tag, raw_type r) noexcept : raw_(r) {}

  /// value * 2^fractional_bits as an integer (sign-extended for signed types).
  TRIGNET_HOST_DEVICE constexpr raw_type raw() const noexcept { return raw_; }
  /// The W-bit pattern, zero-extended (what ap_fixed's .V holds as bits).
  TRIGNET_HOST_DEVICE constexpr auto bits() const noexcept {
    using U = std::conditional_t<(W <= 64), std::uint64_t, detail::fixed_uint128>;
    using WU = typename detail::fixed_int_traits<detail::fixed_work_t<W + 1>>::unsigned_type;
    constexpr int B = detail::fixed_int_traits<detail::fixed_work_t<W + 1>>::bits;
    const WU mask = static_cast<WU>(W >= B ? ~static_cast<WU>(0) : (static_cast<WU>(1) << (W % B)) - 1);
    return static_cast<U>(static_cast<WU>(raw_) & mask);
  }

  /// The largest, smallest (most negative) and smallest positive values.
  TRIGNET_HOST_DEVICE static constexpr fixed max() noexcept {
    using WU = typename detail::fixed_int_traits<detail::fixed_work_t<W + 1>>::unsigned_type;
    return fixed(detail::fixed_raw_tag{},
                 static_cast<raw_type>((static_cast<WU>(1) << (W - (Signed ? 1 : 0))) - 1));
  }
  TRIGNET_HOST_DEVICE static constexpr fixed lowest() noexcept {
    return fixed(detail::fixed_raw_tag{},
                 Signed ? static_cast<raw_type>(-max().raw() - 1) : static_cast<raw_type>(0));
  }
  TRIGNET_HOST_DEVICE static constexpr fixed lsb() noexcept {
    return fixed(detail::fixed_raw_tag{}, static_cast<raw_type>(1));
  }

  /// Rounded to nearest, ties to even (exact when the value needs at most 53
  /// significant bits and lies in the normal double range), as ap_fixed::to_double.
  TRIGNET_HOST_DEVICE constexpr double to_double() const noexcept {
    constexpr double scale = detail::fixed_pow2(-fractional_bits);  // folded at compile time
    return static_cast<double>(raw_) * scale;
  }
  /// Rounded to nearest float, ties to even (one rounding), as ap_fixed::to_float.
  TRIGNET_HOST_DEVICE constexpr float to_float() const noexcept {
    if (W <= 53) return static_cast<float>(to_double());
    constexpr float scale = detail::fixed_pow2f(-fractional_bits);
    return static_cast<float>(raw_) * scale;
  }
  /// Truncated towards zero, as ap_fixed::to_int64 (wraps outside int64).
  /// As ap_fixed, a signed type with I == 0 gives -1 for negative values
  /// (its 1-bit intermediate wraps); for I < 0 ap_fixed reads an uninitialised
  /// value, trignet gives 0.
  TRIGNET_HOST_DEVICE constexpr std::int64_t to_int64() const noexcept {
    using Wk = detail::fixed_work_t<W + 2>;
    constexpr int B = detail::fixed_int_traits<Wk>::bits;
    const Wk v = static_cast<Wk>(raw_);
    if constexpr (I == 0 && Signed) {
      return v < 0 ? -1 : 0;
    } else if constexpr (I < 0) {
      return 0;
    } else if constexpr (fractional_bits <= 0) {
      return -fractional_bits >= B ? 0 : static_cast<std::int64_t>(detail::fixed_shl(v, -fractional_bits));
    } else if constexpr (fractional_bits >= B) {
      return 0;
    } else {
      const Wk t = v < 0 ? static_cast<Wk>(-(static_cast<Wk>(-v) >> fractional_bits))
                         : static_cast<Wk>(v >> fractional_bits);
      return static_cast<std::int64_t>(t);
    }
  }
  TRIGNET_HOST_DEVICE explicit constexpr operator double() const noexcept { return to_double(); }
  TRIGNET_HOST_DEVICE explicit constexpr operator float() const noexcept { return to_float(); }

  /// Exact negation: fixed<W + 1, I + 1>, as ap_fixed.
  TRIGNET_HOST_DEVICE constexpr fixed<W + 1, I + 1, Quantization::TRN, Overflow::WRAP, true> operator-()
      const noexcept {
    using R = fixed<W + 1, I + 1, Quantization::TRN, Overflow::WRAP, true>;
    using RR = typename R::raw_type;
    return R(detail::fixed_raw_tag{}, static_cast<RR>(-static_cast<RR>(raw_)));
  }
  TRIGNET_HOST_DEVICE constexpr fixed operator+() const noexcept { return *this; }

  /// Compound assignment: the exact result, then this type's Q and O.
  template <class T>
  TRIGNET_HOST_DEVICE constexpr fixed& operator+=(const T& x) noexcept {
    return *this = fixed(*this + x);
  }
  template <class T>
  TRIGNET_HOST_DEVICE constexpr fixed& operator-=(const T& x) noexcept {
    return *this = fixed(*this - x);
  }
  template <class T>
  TRIGNET_HOST_DEVICE constexpr fixed& operator*=(const T& x) noexcept {
    return *this = fixed(*this * x);
  }
  template <class T>
  TRIGNET_HOST_DEVICE constexpr fixed& operator/=(const T& x) noexcept {
    return *this = fixed(*this / x);
  }

 private:
  template <class Work, class Src>
  TRIGNET_HOST_DEVICE static constexpr raw_type cast_from(Src v, int d) noexcept {
    return static_cast<raw_type>(detail::fixed_cast<Work>(static_cast<Work>(v), d, W, Signed, Q, O));
  }

  // ap_fixed reads a double as sign, 11-bit exponent field e and 52-bit
  // fraction m: the value (1.m) * 2^(e - 1023), hidden bit always set (so
  // subnormals, infinities and NaN follow the same formula), and +-0 as 0.
  TRIGNET_HOST_DEVICE static raw_type from_double(double d) noexcept {
#if defined(__CUDA_ARCH__)
    const std::uint64_t b = static_cast<std::uint64_t>(__double_as_longlong(d));
#else
    std::uint64_t b = 0;
    std::memcpy(&b, &d, sizeof b);
#endif
    if ((b & 0x7fffffffffffffffull) == 0) return 0;
    const int e = static_cast<int>((b >> 52) & 0x7ff) - 1023;
    std::int64_t man = static_cast<std::int64_t>((b & 0xfffffffffffffull) | (1ull << 52));
    if ((b >> 63) != 0) man = -man;
    using Work = detail::fixed_work_t<detail::fixed_imax(54, W + (Signed ? 0 : 1))>;
    return cast_from<Work>(man, (52 - e) - fractional_bits);
  }

  raw_type raw_;
};

// ---- exact arithmetic ------------------------------------------------------

namespace detail {
/// x's raw value aligned to R's fractional bits, as R's raw type (exact: R holds x).
template <class R, int W, int I, Quantization Q, Overflow O, bool S>
TRIGNET_HOST_DEVICE constexpr typename R::raw_type fixed_align(const fixed<W, I, Q, O, S>& x) {
  using RR = typename R::raw_type;
  return fixed_shl(static_cast<RR>(x.raw()), R::fractional_bits - (W - I));
}
}  // namespace detail

#define TRIGNET_FIXED_TEMPLATE_2                                                              \
  template <int W1, int I1, Quantization Q1, Overflow O1, bool S1, int W2, int I2, Quantization Q2, \
            Overflow O2, bool S2>
#define TRIGNET_FIXED_A const fixed<W1, I1, Q1, O1, S1>&
#define TRIGNET_FIXED_B const fixed<W2, I2, Q2, O2, S2>&

TRIGNET_FIXED_TEMPLATE_2
TRIGNET_HOST_DEVICE constexpr auto operator+(TRIGNET_FIXED_A a, TRIGNET_FIXED_B b) noexcept {
  using R = typename detail::fixed_result<W1, I1, S1, W2, I2, S2>::plus;
  using RR = typename R::raw_type;
  return R(detail::fixed_raw_tag{}, static_cast<RR>(detail::fixed_align<R>(a) + detail::fixed_align<R>(b)));
}

TRIGNET_FIXED_TEMPLATE_2
TRIGNET_HOST_DEVICE constexpr auto operator-(TRIGNET_FIXED_A a, TRIGNET_FIXED_B b) noexcept {
  using R = typename detail::fixed_result<W1, I1, S1, W2, I2, S2>::minus;
  using RR = typename R::raw_type;
  return R(detail::fixed_raw_tag{}, static_cast<RR>(detail::fixed_align<R>(a) - detail::fixed_align<R>(b)));
}

TRIGNET_FIXED_TEMPLATE_2
TRIGNET_HOST_DEVICE constexpr auto operator*(TRIGNET_FIXED_A a, TRIGNET_FIXED_B b) noexcept {
  using R = typename detail::fixed_result<W1, I1, S1, W2, I2, S2>::mult;
  using RR = typename R::raw_type;
  return R(detail::fixed_raw_tag{}, static_cast<RR>(static_cast<RR>(a.raw()) * static_cast<RR>(b.raw())));
}

/// Division as ap_fixed computes it: raw(a) * 2^max(F2, 0) / raw(b), the integer
/// quotient truncated towards zero, in the ap_fixed div type. Division by zero gives 0.
TRIGNET_FIXED_TEMPLATE_2
TRIGNET_HOST_DEVICE constexpr auto operator/(TRIGNET_FIXED_A a, TRIGNET_FIXED_B b) noexcept {
  using R = typename detail::fixed_result<W1, I1, S1, W2, I2, S2>::div;
  using RR = typename R::raw_type;
  constexpr int F2 = W2 - I2;
  constexpr int shift = F2 > 0 ? F2 : 0;
  static_assert(W1 + shift + 2 <= fixed_max_bits && W2 + 2 <= fixed_max_bits,
                "trignet::fixed: division needs W1 + max(F2, 0) + 2 <= 128 bits");
  using Wk = detail::fixed_work_t<detail::fixed_imax(W1 + shift + 2, W2 + 2)>;
  const Wk num = detail::fixed_shl(static_cast<Wk>(a.raw()), shift);
  const Wk den = static_cast<Wk>(b.raw());
  if (den == 0) return R();
  return R(detail::fixed_raw_tag{},
           static_cast<RR>(detail::fixed_wrap(static_cast<Wk>(num / den), R::width, R::is_signed)));
}

// Comparisons: exact, on the values.
#define TRIGNET_FIXED_COMPARE(OP)                                                          \
  TRIGNET_FIXED_TEMPLATE_2                                                                 \
  TRIGNET_HOST_DEVICE constexpr bool operator OP(TRIGNET_FIXED_A a, TRIGNET_FIXED_B b) noexcept { \
    using R = typename detail::fixed_result<W1, I1, S1, W2, I2, S2>::minus;                \
    return detail::fixed_align<R>(a) OP detail::fixed_align<R>(b);                         \
  }
TRIGNET_FIXED_COMPARE(==)
TRIGNET_FIXED_COMPARE(!=)
TRIGNET_FIXED_COMPARE(<)
TRIGNET_FIXED_COMPARE(<=)
TRIGNET_FIXED_COMPARE(>)
TRIGNET_FIXED_COMPARE(>=)
#undef TRIGNET_FIXED_COMPARE

// Mixed with built-in integers: the integer becomes fixed<N, N> (exact), as in ap_fixed.
#define TRIGNET_FIXED_WITH_INTEGER(OP, RET)                                                     \
  template <int W1, int I1, Quantization Q1, Overflow O1, bool S1, class T,                     \
            std::enable_if_t<std::is_integral<T>::value, int> = 0>                              \
  TRIGNET_HOST_DEVICE constexpr RET operator OP(TRIGNET_FIXED_A a, T b) noexcept {              \
    return a OP typename detail::fixed_of_integer<T>::type(b);                                  \
  }                                                                                             \
  template <int W1, int I1, Quantization Q1, Overflow O1, bool S1, class T,                     \
            std::enable_if_t<std::is_integral<T>::value, int> = 0>                              \
  TRIGNET_HOST_DEVICE constexpr RET operator OP(T a, TRIGNET_FIXED_A b) noexcept {              \
    return typename detail::fixed_of_integer<T>::type(a) OP b;                                  \
  }
TRIGNET_FIXED_WITH_INTEGER(+, auto)
TRIGNET_FIXED_WITH_INTEGER(-, auto)
TRIGNET_FIXED_WITH_INTEGER(*, auto)
TRIGNET_FIXED_WITH_INTEGER(/, auto)
TRIGNET_FIXED_WITH_INTEGER(==, bool)
TRIGNET_FIXED_WITH_INTEGER(!=, bool)
TRIGNET_FIXED_WITH_INTEGER(<, bool)
TRIGNET_FIXED_WITH_INTEGER(<=, bool)
TRIGNET_FIXED_WITH_INTEGER(>, bool)
TRIGNET_FIXED_WITH_INTEGER(>=, bool)
#undef TRIGNET_FIXED_WITH_INTEGER

#undef TRIGNET_FIXED_TEMPLATE_2
#undef TRIGNET_FIXED_A
#undef TRIGNET_FIXED_B

}  // namespace trignet
