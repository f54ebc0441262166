#pragma once
// Vectorised float maths for activations: exp, expm1, log, log1p, tanh,
// sigmoid, erfc. Polynomial approximations with the maximum errors measured
// in docs/fast-path.md ("Activation accuracy"); tests/test_simd.cpp sweeps them
// against double references. Special values follow the run-time engine:
// NaN propagates, +/-inf give the mathematical limit, and exp results below
// the smallest normal float are flushed to 0 (as cpu/activation.hpp does).

#include <limits>

#include "trignet/simd/vec.hpp"

namespace trignet::simd {
inline namespace TRIGNET_SIMD_NS {

namespace constants {
inline constexpr float log2e = 1.44269504088896341f;
inline constexpr float ln2_hi = 0.693359375f;  // ln 2 split so n * ln2_hi is exact
inline constexpr float ln2_lo = -2.12194440e-4f;
inline constexpr float exp_max = 88.72283935546875f;   // ln(FLT_MAX)
inline constexpr float exp_min = -87.33654475055310f;  // ln(FLT_MIN)
// The lowest float whose exp() below is a normal float (-0x1.5d589ep+6, just
// above ln(FLT_MIN)): every input below it gives 0, as the flush of results
// under FLT_MIN did before (checked by a scan over [-88, -87] at every SIMD
// level: check_exp_floor in tests/simd_checks.inc).
inline constexpr float exp_lowest = -0x1.5d589ep+6f;
inline constexpr float min_normal = std::numeric_limits<float>::min();
inline constexpr float inf = std::numeric_limits<float>::infinity();
}  // namespace constants

namespace detail {
/// For x clamped to [exp_lowest, 88.8]: n = round(x log2 e) as a float and
/// y = e^(x - n ln 2), so that e^x = y 2^n.
struct exp_split {
  vf n, y;
};
inline exp_split exp_reduce(vf xc) {
  using namespace constants;
  const vf fn = round_nearest(xc * set1(log2e));
  vf r = fmadd(fn, set1(-ln2_hi), xc);
  r = fmadd(fn, set1(-ln2_lo), r);
  // Minimax polynomial c0 + c1 r + ... + c5 r^5 for (e^r - 1 - r) / r^2 on
  // |r| <= ln(2)/2, by Estrin's scheme: a dependency chain of 3 multiply-adds
  // instead of Horner's 5 (exp's latency is on every recurrent step's
  // critical path).
  const vf r2 = r * r;
  const vf lo = fmadd(set1(1.6666665459e-1f), r, set1(5.0000001201e-1f));
  const vf mid = fmadd(set1(8.3334519073e-3f), r, set1(4.1665795894e-2f));
  const vf hi = fmadd(set1(1.9875691500e-4f), r, set1(1.3981999507e-3f));
  const vf p = fmadd(hi, r2 * r2, fmadd(mid, r2, lo));
  return {fn, fmadd(p, r2, r + set1(1.0f))};
}

/// y 2^n for an integral n in [-126, 128] and y in [0.5, 2), whose result is
/// a normal float or +inf: AVX-512's scalef in one operation (a third fewer
/// operations in exp, which the GRU's gates are throughput-bound on);
/// elsewhere as two factors 2^n1 2^n2, each a normal float. Same bits.
inline vf times_pow2(vf y, vf n) {
#if TRIGNET_SIMD_LEVEL == 3
  return {_mm512_scalef_ps(y.v, n.v)};
#else
  const vi n1 = to_int(fmadd(n, set1(0.5f), set1(-0.25f)));  // floor(n / 2)
  const vi n2 = to_int(n) - n1;
  return (y * as_float(shl<23>(n1 + seti(127)))) * as_float(shl<23>(n2 + seti(127)));
#endif
}
}  // namespace detail

/// e^x; 0 below ln(FLT_MIN) (no denormals), +inf above ln(FLT_MAX), NaN for NaN.
inline vf exp(vf x) {
  using namespace constants;
  // Inputs below exp_lowest are clamped to it before the polynomial, so no
  // lane ever computes a denormal (each denormal product costs a microcode
  // assist: 2.5x the whole exp on Zen 4, and softmax's padded lanes are
  // -inf), and set to 0 after.
  const detail::exp_split s = detail::exp_reduce(min(max(x, set1(exp_lowest)), set1(88.8f)));
  const vf e = detail::times_pow2(s.y, s.n);
  // The special cases in one select at the end (their values depend on x only).
  const vm nan = is_nan(x), over = x > set1(exp_max);
  const vf special = select(nan, x, select(over, set1(inf), zero()));
  return select(nan | over | (x < set1(exp_lowest)), special, e);
}

/// e^x for x <= 0 that is not NaN (softmax's shifted logits): the same bits
/// as exp(x) with fewer operations. The result is 0 or a normal float, so
/// 2^n is one normal factor, and there is no NaN or overflow to select.
inline vf exp_nonpositive(vf x) {
  using namespace constants;
  const detail::exp_split s = detail::exp_reduce(max(x, set1(exp_lowest)));
#if TRIGNET_SIMD_LEVEL == 3
  const vf e = detail::times_pow2(s.y, s.n);
#else
  const vf e = s.y * as_float(shl<23>(to_int(s.n) + seti(127)));  // n in [-126, 0]: one normal factor
#endif
  return select(x < set1(exp_lowest), zero(), e);
}

/// e^x - 1, accurate near 0 (Taylor series for |x| < 0.5).
inline vf expm1(vf x) {
  const vf big = exp(x) - set1(1.0f);
  vf p = set1(1.0f / 40320.0f);
  p = fmadd(p, x, set1(1.0f / 5040.0f));
  p = fmadd(p, x, set1(1.0f / 720.0f));
  p = fmadd(p, x, set1(1.0f / 120.0f));
  p = fmadd(p, x, set1(1.0f / 24.0f));
  p = fmadd(p, x, set1(1.0f / 6.0f));
  p = fmadd(p, x, set1(0.5f));
  const vf small = fmadd(p * x, x, x);
  return select(abs(x) < set1(0.5f), small, big);
}

/// Natural logarithm for positive normal x (callers keep to that domain).
inline vf log(vf x) {
  const vi bits = as_int(x);
  vf e = to_float(shr<23>(bits) - seti(126));
  vf m = as_float((bits & seti(0x007fffff)) | seti(0x3f000000));  // in [0.5, 1)
  const vm low = m < set1(0.707106781186547524f);
  e = select(low, e - set1(1.0f), e);
  m = select(low, m + m, m) - set1(1.0f);
  const vf z = m * m;
  vf p = set1(7.0376836292e-2f);
  p = fmadd(p, m, set1(-1.1514610310e-1f));
  p = fmadd(p, m, set1(1.1676998740e-1f));
  p = fmadd(p, m, set1(-1.2420140846e-1f));
  p = fmadd(p, m, set1(1.4249322787e-1f));
  p = fmadd(p, m, set1(-1.6668057665e-1f));
  p = fmadd(p, m, set1(2.0000714765e-1f));
  p = fmadd(p, m, set1(-2.4999993993e-1f));
  p = fmadd(p, m, set1(3.3333331174e-1f));
  vf y = p * m * z;
  y = fmadd(e, set1(constants::ln2_lo), y);
  y = fmadd(z, set1(-0.5f), y);
  return fmadd(e, set1(constants::ln2_hi), m + y);
}

/// log(1 + u) for u >= 0, accurate for small u: log(w) * u / (w - 1), w = 1 + u.
inline vf log1p(vf u) {
  const vf w = u + set1(1.0f);
  const vf d = w - set1(1.0f);
  const vf r = log(w) * (u / select(d == zero(), set1(1.0f), d));
  return select(d == zero(), u, r);
}

inline vf tanh(vf x) {
  const vf a = abs(x);
  // |x| < 0.625: odd minimax polynomial (no cancellation near 0).
  const vf z = x * x;
  vf p = set1(-5.70498872745e-3f);
  p = fmadd(p, z, set1(2.06390887954e-2f));
  p = fmadd(p, z, set1(-5.37397155531e-2f));
  p = fmadd(p, z, set1(1.33314422036e-1f));
  p = fmadd(p, z, set1(-3.33332819422e-1f));
  const vf small = fmadd(p * z, x, x);
  // Otherwise 1 - 2 / (e^{2|x|} + 1), which saturates to exactly 1.
  const vf big = copysign(set1(1.0f) - set1(2.0f) / (exp(a + a) + set1(1.0f)), x);
  return select(a < set1(0.625f), small, big);
}

/// 1 / (1 + e^-x); 0 where the result would be denormal.
inline vf sigmoid(vf x) {
  const vf y = set1(1.0f) / (set1(1.0f) + exp(zero() - x));
  return select(y < set1(constants::min_normal), zero(), y);
}

/// The rounding error of a * b (a * b - fl(a * b)), exactly: by FMA where
/// the hardware has it, by Dekker's splitting otherwise.
inline vf product_error(vf a, vf b, vf p) {
#if TRIGNET_SIMD_LEVEL >= 2
  return fmsub(a, b, p);
#else
  const vf split = set1(4097.0f);
  const vf ca = split * a, cb = split * b;
  const vf ah = ca - (ca - a), bh = cb - (cb - b);
  const vf al = a - ah, bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
}

/// x * Phi(x) with Phi the normal CDF, written with erfc on both sides of 0 so
/// the negative tail keeps its relative accuracy. erfc(z), z = |x| / sqrt(2), is
/// t * exp(-z^2) * exp(P(t)), t = 1 / (1 + z / 2) (a Chebyshev fit with relative
/// error near 1e-7); z^2 = x^2 / 2 is formed exactly (x * x plus its rounding
/// error) because exp magnifies an absolute error of its argument.
inline vf gelu(vf x) {
  const vf a = abs(x);
  const vf t = set1(1.0f) / fmadd(a, set1(0.5f * 0.70710678118654752f), set1(1.0f));
  vf p = set1(0.17087277f);
  p = fmadd(p, t, set1(-0.82215223f));
  p = fmadd(p, t, set1(1.48851587f));
  p = fmadd(p, t, set1(-1.13520398f));
  p = fmadd(p, t, set1(0.27886807f));
  p = fmadd(p, t, set1(-0.18628806f));
  p = fmadd(p, t, set1(0.09678418f));
  p = fmadd(p, t, set1(0.37409196f));
  p = fmadd(p, t, set1(1.00002368f));
  p = fmadd(p, t, set1(-1.26551223f));
  const vf xx = x * x;
  const vf half_err = set1(0.5f) * product_error(x, x, xx);
  const vf e = t * exp(zero() - set1(0.5f) * xx) * exp(p) * (set1(1.0f) - half_err);
  const vf half_xe = select(a > set1(20.0f), zero(), set1(0.5f) * x * e);
  return select(x >= zero(), x - half_xe, half_xe);
}

/// x / (1 + e^-u): x * sigmoid(u) without flushing tiny sigmoids (the
/// product may still be a normal number); x = -inf gives 0.
inline vf times_sigmoid(vf x, vf u) {
  const vf y = x / (set1(1.0f) + exp(zero() - u));
  return select(x == set1(-constants::inf), zero(), y);
}

/// x * sigmoid(x).
inline vf silu(vf x) { return times_sigmoid(x, x); }

/// gelu's tanh approximation, as x * sigmoid(2 * sqrt(2/pi) * (x + 0.044715 x^3)).
inline vf gelu_tanh(vf x) {
  return times_sigmoid(x, set1(2.0f * 0.7978845608028654f) * fmadd(set1(0.044715f) * x * x, x, x));
}

/// max(x, 0) + log1p(e^-|x|).
inline vf softplus(vf x) {
  const vf y = max(x, zero()) + log1p(exp(zero() - abs(x)));
  return select(is_nan(x), x, y);
}

}  // inline namespace TRIGNET_SIMD_NS
}  // namespace trignet::simd
