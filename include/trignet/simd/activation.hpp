#pragma once
// Every activation of the engine's list on float vectors, plus whole-buffer
// loops and a row softmax that never lets padded lanes into its sums.

#include <cstddef>
#include <limits>

#include "trignet/layers/activation.hpp"
#include "trignet/simd/math.hpp"

namespace trignet::simd {
inline namespace TRIGNET_SIMD_NS {

/// An element-wise activation's parameters in float (kind fixed elsewhere).
struct ActParams {
  float alpha = 0.0f;   // leaky_relu, elu
  float slope = 0.0f;   // hard_sigmoid
  float offset = 0.0f;  // hard_sigmoid
  bool approximate = false;  // gelu

  ActParams() = default;
  explicit ActParams(const Activation& a)
      : alpha(static_cast<float>(a.alpha)),
        slope(static_cast<float>(a.slope)),
        offset(static_cast<float>(a.offset)),
        approximate(a.approximate) {}
};

/// Activation K on one vector. softmax is the identity here (it needs a whole row).
template <ActivationKind K>
inline vf apply(vf x, const ActParams& p) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  (void)p;
  if constexpr (K == ActivationKind::linear || K == ActivationKind::softmax) {
    return x;
  } else if constexpr (K == ActivationKind::relu) {
    return select(x < zero(), zero(), x);
  } else if constexpr (K == ActivationKind::relu6) {
    return select(x < zero(), zero(), select(x > set1(6.0f), set1(6.0f), x));
  } else if constexpr (K == ActivationKind::leaky_relu) {
    return select(x < zero(), x * set1(p.alpha), x);
  } else if constexpr (K == ActivationKind::elu) {
    return select(x > zero(), x, set1(p.alpha) * expm1(x));
  } else if constexpr (K == ActivationKind::selu) {
    return set1(static_cast<float>(selu_scale)) *
           select(x > zero(), x, set1(static_cast<float>(selu_alpha)) * expm1(x));
  } else if constexpr (K == ActivationKind::gelu) {
    return p.approximate ? gelu_tanh(x) : gelu(x);
  } else if constexpr (K == ActivationKind::sigmoid) {
    return sigmoid(x);
  } else if constexpr (K == ActivationKind::hard_sigmoid) {
    const vf y = set1(p.slope) * x + set1(p.offset);  // unfused, as the run-time engine
    return select(y < zero(), zero(), select(y > set1(1.0f), set1(1.0f), y));
  } else if constexpr (K == ActivationKind::tanh) {
    return tanh(x);
  } else if constexpr (K == ActivationKind::softplus) {
    return softplus(x);
  } else if constexpr (K == ActivationKind::softsign) {
    const vf a = abs(x);
    return select(a == set1(inf), copysign(set1(1.0f), x), x / (set1(1.0f) + a));
  } else if constexpr (K == ActivationKind::silu) {
    return silu(x);
  } else if constexpr (K == ActivationKind::exponential) {
    return exp(x);
  }
}

/// Activation K over n floats in place; the tail goes through the same vector code.
template <ActivationKind K>
inline void activate(float* data, std::size_t n, const ActParams& p) {
  if constexpr (K == ActivationKind::linear || K == ActivationKind::softmax) {
    (void)data, (void)n, (void)p;
  } else {
    std::size_t i = 0;
    for (; i + width <= n; i += width) store(data + i, apply<K>(load(data + i), p));
    if (i < n) store_partial(data + i, apply<K>(load_partial(data + i, n - i, 0.0f), p), n - i);
  }
}

/// Any element-wise activation over n floats in place (one dispatch per buffer).
inline void activate(const Activation& a, float* data, std::size_t n) {
  const ActParams p(a);
  switch (a.kind) {
    case ActivationKind::linear: return;
    case ActivationKind::softmax: return;
    case ActivationKind::relu: return activate<ActivationKind::relu>(data, n, p);
    case ActivationKind::relu6: return activate<ActivationKind::relu6>(data, n, p);
    case ActivationKind::leaky_relu: return activate<ActivationKind::leaky_relu>(data, n, p);
    case ActivationKind::elu: return activate<ActivationKind::elu>(data, n, p);
    case ActivationKind::selu: return activate<ActivationKind::selu>(data, n, p);
    case ActivationKind::gelu: return activate<ActivationKind::gelu>(data, n, p);
    case ActivationKind::sigmoid: return activate<ActivationKind::sigmoid>(data, n, p);
    case ActivationKind::hard_sigmoid: return activate<ActivationKind::hard_sigmoid>(data, n, p);
    case ActivationKind::tanh: return activate<ActivationKind::tanh>(data, n, p);
    case ActivationKind::softplus: return activate<ActivationKind::softplus>(data, n, p);
    case ActivationKind::softsign: return activate<ActivationKind::softsign>(data, n, p);
    case ActivationKind::silu: return activate<ActivationKind::silu>(data, n, p);
    case ActivationKind::exponential: return activate<ActivationKind::exponential>(data, n, p);
  }
}

/// Softmax of a row of n <= width values held in one vector, the other lanes
/// -inf, written to y[0..n) (y[0..valid) when valid > n: padded lanes get 0).
/// Kept in registers: the same operations in the same order as softmax_row
/// below, so the same bits, without its round trips through memory.
inline void softmax_vector(vf v, float* y, std::size_t n, std::size_t valid) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float m = reduce_max(v);
  vf r;
  if (!any(is_nan(v)) && m != inf) {
    const vf e = exp_nonpositive(v - set1(m));  // the -inf lanes: exp(-inf) = 0
    r = e * set1(1.0f / reduce_add(e));
  } else {  // rare: NaN poisons the row; +inf entries share the mass
    alignas(alignment) float t[width];
    store(t, v);
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) count += t[i] == inf;
    const bool nan = any(is_nan(v));
    const float share = count ? 1.0f / static_cast<float>(count) : 0.0f;
    for (std::size_t i = 0; i < width; ++i)
      t[i] = i >= n ? 0.0f : nan ? std::numeric_limits<float>::quiet_NaN() : t[i] == inf ? share : 0.0f;
    r = load(t);
  }
  store_lanes(y, r, valid);
}

/// Softmax over one contiguous row of n floats, in place, with the run-time
/// engine's rules: a NaN makes the row NaN; +inf entries share the mass;
/// the maximum is subtracted first, so nothing overflows.
inline void softmax_row(float* x, std::size_t n) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  if (n <= width) return softmax_vector(load_partial(x, n, -inf), x, n, n);
  const std::size_t full = n / width * width, tail = n - full;
  vf vmax = set1(-inf);
  bool has_nan = false;
  for (std::size_t i = 0; i < full; i += width) {
    const vf v = load(x + i);
    has_nan = has_nan || any(is_nan(v));
    vmax = max(vmax, v);
  }
  if (tail) {
    const vf v = load_partial(x + full, tail, -inf);
    has_nan = has_nan || any(is_nan(v));
    vmax = max(vmax, v);
  }
  if (has_nan) {
    for (std::size_t i = 0; i < n; ++i) x[i] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  const float m = reduce_max(vmax);
  if (m == inf) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) count += x[i] == inf;
    for (std::size_t i = 0; i < n; ++i) x[i] = x[i] == inf ? 1.0f / static_cast<float>(count) : 0.0f;
    return;
  }
  const vf vm_ = set1(m);
  vf sum = zero();
  for (std::size_t i = 0; i < full; i += width) {
    const vf e = exp(load(x + i) - vm_);
    store(x + i, e);
    sum = sum + e;
  }
  if (tail) {  // padded lanes are exp(-inf) = 0: they add nothing to the sum
    const vf e = exp(load_partial(x + full, tail, -inf) - vm_);
    store_partial(x + full, e, tail);
    sum = sum + e;
  }
  const vf inv = set1(1.0f / reduce_add(sum));
  for (std::size_t i = 0; i < full; i += width) store(x + i, load(x + i) * inv);
  if (tail) store_partial(x + full, load_partial(x + full, tail, 0.0f) * inv, tail);
}

}  // inline namespace TRIGNET_SIMD_NS
}  // namespace trignet::simd
