#pragma once
// Reproducible mode (docs/user-guide.md, "Reproducible mode"): kernels whose
// result for one sample is a fixed sequence of IEEE-754 operations, so it is
// bit-identical whatever the batch size, the sample's position in the batch,
// and the instruction set the code was compiled for (SSE2, AVX2, AVX-512).
//
// Why the normal kernels are not: a GEMM's summation order depends on its
// blocking and therefore on the batch size, SIMD code splits sums over as
// many partial accumulators as it has lanes, vectorised exp/tanh differ by
// an ulp between the vector body and the scalar tail, and the compiler fuses
// a*b+c into an FMA on some targets and not on others.
//
// How these are: every multiply-add is an explicit std::fma (one rounding
// everywhere: an instruction where the target has FMA, glibc's correctly
// rounded fmaf/fma otherwise, slow but equal); no expression leaves a
// multiply followed by an add to the compiler; a Dense output is the bias
// followed by its products in input order; SIMD only ever runs the same
// operation on independent outputs (across units), never splits one sum;
// transcendental functions are computed here in double from +, -, *, /,
// fma, sqrt and exact scaling, never from libm (glibc picks FMA or non-FMA
// variants of exp at run time). Layers whose normal kernels already do
// exact per-sample arithmetic (data movement, pooling, element-wise merges)
// keep them; layers with no reproducible kernel yet are refused by name.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "trignet/cpu/activation.hpp"
#include "trignet/cpu/layer.hpp"
#include "trignet/error.hpp"
#include "trignet/layers/activation.hpp"
#include "trignet/layers/dense.hpp"
#include "trignet/layers/normalization.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/weights.hpp"

namespace trignet::cpu::reproducible {

// ---------------------------------------------------------------------------
// Deterministic double-precision functions (errors measured in
// tests/test_reproducible.cpp against long double libm: exp, expm1, tanh and
// sigmoid below 6 ulp of double, erf and erfc (z >= 2) below 64,
// so results rounded to float are correctly rounded except in rare ties).

namespace math {

/// exp(r) for |r| <= ln2/2 + a little: Taylor to degree 13 (truncation < 1e-17).
inline double exp_reduced(double r) {
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = std::fma(p, r, 1.0 / 479001600.0);
  p = std::fma(p, r, 1.0 / 39916800.0);
  p = std::fma(p, r, 1.0 / 3628800.0);
  p = std::fma(p, r, 1.0 / 362880.0);
  p = std::fma(p, r, 1.0 / 40320.0);
  p = std::fma(p, r, 1.0 / 5040.0);
  p = std::fma(p, r, 1.0 / 720.0);
  p = std::fma(p, r, 1.0 / 120.0);
  p = std::fma(p, r, 1.0 / 24.0);
  p = std::fma(p, r, 1.0 / 6.0);
  p = std::fma(p, r, 0.5);
  p = std::fma(p, r, 1.0);
  return std::fma(p, r, 1.0);
}

/// 2^e for -1022 <= e <= 1023, built from its bits (exact).
inline double pow2(int e) {
  const std::uint64_t bits = static_cast<std::uint64_t>(e + 1023) << 52;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

inline double exp(double x) {
  if (x != x) return x;
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  constexpr double inv_ln2 = 1.4426950408889634;
  constexpr double ln2_hi = 0.6931471805599453;     // ln 2 rounded to double
  constexpr double ln2_lo = 2.3190468138462996e-17;  // ln 2 - ln2_hi
  const double k = std::nearbyint(x * inv_ln2);
  double r = std::fma(-k, ln2_hi, x);
  r = std::fma(-k, ln2_lo, r);
  // Times 2^k in two steps, so k near the ends of the range never overflows
  // early: the first product is exact, the second rounds once (only into
  // denormals), as ldexp would, without its library call.
  const int half = static_cast<int>(k) / 2;
  return exp_reduced(r) * pow2(half) * pow2(static_cast<int>(k) - half);
}

/// exp(x) - 1 without cancellation near 0.
inline double expm1(double x) {
  if (std::fabs(x) >= 0.34) return exp(x) - 1.0;
  // x * (1 + x/2 + x^2/6 + ... + x^14/15!)
  double p = 1.0 / 1307674368000.0;  // 1/15!
  const double c[] = {1.0 / 87178291200.0, 1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0,
                      1.0 / 3628800.0,     1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,
                      1.0 / 720.0,         1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,
                      0.5,                 1.0};
  for (double ci : c) p = std::fma(p, x, ci);
  return p * x;
}

/// log(1 + y) for y >= 0: 2 atanh(s), s = y / (2 + y), after halving y into
/// [0, 1] with exact ln 2 multiples; the series in s^2 <= 1/9 needs 17 terms.
inline double log1p_nonnegative(double y) {
  if (y != y || y == std::numeric_limits<double>::infinity()) return y;
  int e = 0;
  double m = 1.0 + y;  // only used for the exponent when y is large
  if (y > 1.0) {
    m = std::frexp(m, &e);  // 1 + y = m 2^e, m in [0.5, 1)
    m *= 2.0;
    --e;  // m in [1, 2)
    y = m - 1.0;  // loses the part of y below ulp(1+y): that is log(1+y)'s own rounding
  }
  const double s = y / (2.0 + y);
  const double s2 = s * s;
  double p = 1.0 / 35.0;
  for (int n = 33; n >= 1; n -= 2) p = std::fma(p, s2, 1.0 / n);
  constexpr double ln2 = 0.6931471805599453;
  return std::fma(static_cast<double>(e), ln2, 2.0 * s * p);
}

inline double tanh(double x) {
  if (x != x) return x;
  const double a = std::fabs(x);
  if (a >= 20.0) return x > 0 ? 1.0 : -1.0;
  const double e = expm1(2.0 * a);
  const double t = e / (e + 2.0);
  return x < 0 ? -t : t;
}

inline double sigmoid(double x) {
  if (x != x) return x;
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  const double e = exp(x);
  return e / (1.0 + e);
}

/// erf by the everywhere-positive series erf(x) = 2/sqrt(pi) exp(-x^2)
/// sum_n x (2x^2)^n / (1 3 5 ... (2n+1)): no cancellation, |x| < 6.
inline double erf(double x) {
  if (x != x) return x;
  const double a = std::fabs(x);
  if (a >= 6.0) return x > 0 ? 1.0 : -1.0;
  const double two_a2 = 2.0 * a * a;
  double term = a, sum = a;
  for (int n = 1; n < 400 && term > sum * 1e-18; ++n) {
    term = term * two_a2 / (2.0 * n + 1.0);
    sum += term;
  }
  constexpr double two_over_sqrt_pi = 1.1283791670955126;
  const double hi = a * a, lo = std::fma(a, a, -hi);  // a^2 = hi + lo exactly
  const double r = two_over_sqrt_pi * (exp(-hi) * (1.0 - lo)) * sum;
  const double clipped = r > 1.0 ? 1.0 : r;
  return x < 0 ? -clipped : clipped;
}

/// erfc(z) = 1 - erf(z) without cancellation for z >= 2: the continued
/// fraction exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))),
/// evaluated backwards from a fixed depth (converged to double for z >= 2).
inline double erfc(double z) {
  if (z != z) return z;
  if (z < 2.0) return 1.0 - erf(z);
  if (z > 27.3) return 0.0;  // below the smallest denormal
  double f = z;
  for (int k = 80; k >= 1; --k) f = z + (0.5 * k) / f;
  constexpr double inv_sqrt_pi = 0.5641895835477563;
  // z^2 = hi + lo exactly: rounding z^2 alone would cost z^2 * 1e-16 of relative error.
  const double hi = z * z;
  const double lo = std::fma(z, z, -hi);
  return exp(-hi) * (1.0 - lo) * inv_sqrt_pi / f;
}

inline double softplus(double x) {
  if (x != x) return x;
  const double relu = x > 0 ? x : 0.0;
  return relu + log1p_nonnegative(exp(-std::fabs(x)));
}

}  // namespace math

/// One element of an element-wise activation, computed in double.
template <typename T>
T activate(const Activation& a, T value) {
  const double x = static_cast<double>(value);
  const bool inf = std::isinf(x);
  switch (a.kind) {
    case ActivationKind::linear:
    case ActivationKind::softmax:
      return value;
    case ActivationKind::relu:
      return value > T(0) ? value : (value == value ? T(0) : value);
    case ActivationKind::relu6:
      return value > T(6) ? T(6) : (value > T(0) ? value : (value == value ? T(0) : value));
    case ActivationKind::leaky_relu:
      return value >= T(0) ? value : static_cast<T>(static_cast<T>(a.alpha) * value);
    case ActivationKind::elu:
      return value > T(0) ? value : static_cast<T>(a.alpha * math::expm1(x));
    case ActivationKind::selu:
      return static_cast<T>(selu_scale * (x > 0 ? x : selu_alpha * math::expm1(x)));
    case ActivationKind::gelu: {
      if (inf) return x > 0 ? value : T(0);
      if (a.approximate) {
        const double inner = 0.7978845608028654 * std::fma(0.044715 * x * x, x, x);
        return static_cast<T>(0.5 * x * (1.0 + math::tanh(inner)));
      }
      // 0.5 x erfc(-x / sqrt 2): for negative x, 1 + erf(x / sqrt 2) would cancel.
      return static_cast<T>(0.5 * x * math::erfc(-x * 0.7071067811865476));
    }
    case ActivationKind::sigmoid:
      return static_cast<T>(math::sigmoid(x));
    case ActivationKind::hard_sigmoid: {
      const double y = std::fma(a.slope, x, a.offset);
      return static_cast<T>(y < 0 ? 0.0 : (y > 1 ? 1.0 : y));
    }
    case ActivationKind::tanh:
      return static_cast<T>(math::tanh(x));
    case ActivationKind::softplus:
      return static_cast<T>(math::softplus(x));
    case ActivationKind::softsign:
      if (inf) return x > 0 ? T(1) : T(-1);
      return static_cast<T>(x / (1.0 + std::fabs(x)));
    case ActivationKind::silu:
      if (inf) return x > 0 ? value : T(0);
      return static_cast<T>(x * math::sigmoid(x));
    case ActivationKind::exponential:
      return static_cast<T>(math::exp(x));
  }
  throw UnsupportedError(std::string("trignet: reproducible mode has no kernel for activation ") +
                         activation_name(a.kind));
}

/// Any activation over the samples of a tensor of `shape`, one sample at a time.
template <typename T>
class ActivationKernel {
 public:
  ActivationKernel(const Activation& a, const Shape& shape) : a_(a), per_sample_(element_count(shape)) {
    if (a.kind == ActivationKind::softmax) {
      std::size_t axis = 0;
      normalize_axis(a.axis, shape.size(), axis);
      axis_size_ = shape[axis];
      inner_ = 1;
      for (std::size_t d = axis + 1; d < shape.size(); ++d) inner_ *= shape[d];
    }
  }

  void operator()(T* data, std::size_t batch) const {
    const std::size_t n = batch * per_sample_;
    switch (a_.kind) {  // exact piecewise-linear kinds: one loop each, no per-element dispatch
      case ActivationKind::linear:
        return;
      case ActivationKind::relu:
        for (std::size_t i = 0; i < n; ++i) data[i] = data[i] > T(0) ? data[i] : (data[i] == data[i] ? T(0) : data[i]);
        return;
      case ActivationKind::leaky_relu: {
        const T alpha = static_cast<T>(a_.alpha);
        for (std::size_t i = 0; i < n; ++i) data[i] = data[i] >= T(0) ? data[i] : alpha * data[i];
        return;
      }
      default:
        break;
    }
    if (a_.kind != ActivationKind::softmax) {
      for (std::size_t i = 0; i < batch * per_sample_; ++i) data[i] = activate(a_, data[i]);
      return;
    }
    // Softmax: max, exp(x - max) and the sum in double, in axis order.
    const std::size_t groups = batch * per_sample_ / (axis_size_ * inner_);
    for (std::size_t g = 0; g < groups; ++g)
      for (std::size_t in = 0; in < inner_; ++in) {
        T* x = data + g * axis_size_ * inner_ + in;
        double max = static_cast<double>(x[0]);
        for (std::size_t k = 1; k < axis_size_; ++k) {
          const double v = static_cast<double>(x[k * inner_]);
          if (v > max || v != v) max = v;
          if (max != max) break;
        }
        double sum = 0.0;
        for (std::size_t k = 0; k < axis_size_; ++k) sum += math::exp(static_cast<double>(x[k * inner_]) - max);
        for (std::size_t k = 0; k < axis_size_; ++k)
          x[k * inner_] = static_cast<T>(math::exp(static_cast<double>(x[k * inner_]) - max) / sum);
      }
  }

 private:
  Activation a_;
  std::size_t per_sample_;
  std::size_t axis_size_ = 1, inner_ = 1;
};

/// Dense: y[j] = bias[j], then y[j] = fma(w[i][j], x[i], y[j]) for i in input
/// order. The inner loop runs over independent outputs j, so the compiler may
/// vectorise it at any width without changing a single rounding.
template <typename T>
class DenseLayer final : public Layer<T> {
 public:
  DenseLayer(const DenseParams& p, const WeightMap& weights, const Shape& input_shape,
             const Shape& output_shape)
      : in_(input_shape.back()),
        units_(p.units),
        rows_per_sample_(element_count(input_shape) / input_shape.back()),
        activation_(p.activation, output_shape) {
    const WeightTensor& k = weights.at("kernel");  // [in, units] row-major: what the loop wants
    kernel_.assign(k.values.begin(), k.values.end());
    bias_.assign(units_, T(0));
    if (p.use_bias) {
      const WeightTensor& b = weights.at("bias");
      for (std::size_t j = 0; j < units_; ++j) bias_[j] = static_cast<T>(b.values[j]);
    }
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    // Rows in blocks share each kernel row while it is in L1; every y[r][j]
    // still receives its products in input order, so blocking changes no bit.
    constexpr std::size_t block = 8;
    const std::size_t rows = batch * rows_per_sample_;
    for (std::size_t r0 = 0; r0 < rows; r0 += block) {
      const std::size_t nr = std::min(block, rows - r0);
      for (std::size_t r = r0; r < r0 + nr; ++r)
        for (std::size_t j = 0; j < units_; ++j) output[r * units_ + j] = bias_[j];
      for (std::size_t i = 0; i < in_; ++i) {
        const T* w = kernel_.data() + i * units_;
        for (std::size_t r = r0; r < r0 + nr; ++r) {
          const T xi = inputs[0][r * in_ + i];
          T* y = output + r * units_;
          for (std::size_t j = 0; j < units_; ++j) y[j] = std::fma(w[j], xi, y[j]);
        }
      }
    }
    activation_(output, batch);
  }

 private:
  std::size_t in_, units_, rows_per_sample_;
  std::vector<T> kernel_, bias_;
  ActivationKernel<T> activation_;
};

/// BatchNormalization folded in double to y = fma(x, scale, shift).
template <typename T>
class BatchNormLayer final : public Layer<T> {
 public:
  BatchNormLayer(const BatchNormParams& p, const WeightMap& weights, const Shape& shape) {
    std::size_t axis = 0;
    normalize_axis(p.axis, shape.size(), axis);
    channels_ = shape[axis];
    for (std::size_t d = axis + 1; d < shape.size(); ++d) inner_ *= shape[d];
    outer_ = element_count(shape) / (channels_ * inner_);
    auto get = [&](const char* name, double fallback, std::size_t c) {
      auto it = weights.find(name);
      return it == weights.end() ? fallback : static_cast<double>(it->second.values[c]);
    };
    for (std::size_t c = 0; c < channels_; ++c) {
      const double s = get("gamma", 1.0, c) / std::sqrt(get("moving_variance", 1.0, c) + p.epsilon);
      scale_.push_back(static_cast<T>(s));
      shift_.push_back(static_cast<T>(std::fma(-get("moving_mean", 0.0, c), s, get("beta", 0.0, c))));
    }
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const T* x = inputs[0];
    for (std::size_t o = 0; o < batch * outer_; ++o)
      for (std::size_t c = 0; c < channels_; ++c) {
        const std::size_t base = (o * channels_ + c) * inner_;
        for (std::size_t i = 0; i < inner_; ++i) output[base + i] = std::fma(x[base + i], scale_[c], shift_[c]);
      }
  }

 private:
  std::size_t outer_ = 1, channels_ = 1, inner_ = 1;
  std::vector<T> scale_, shift_;
};

/// The layers this mode covers, for messages and docs.
inline const char* supported_layers() {
  return "Dense, Activation, BatchNormalization, Flatten, Reshape, Permute, Dropout, Concatenate, "
         "Add, Subtract, Multiply, Average, Maximum, Minimum, MaxPooling/AveragePooling 1D/2D, "
         "GlobalMax/GlobalAveragePooling 1D/2D, UpSampling, ZeroPadding, Cropping, Reverse, Embedding";
}

/// The reproducible kernel of a node; nullptr where the normal kernel already
/// computes each sample by a fixed sequence of operations (the caller then
/// uses it); UnsupportedError for layers with no reproducible kernel.
template <typename T>
std::unique_ptr<Layer<T>> make_layer(const NodeSpec& node, const std::vector<Shape>& in_shapes,
                                     const Shape& out_shape) {
  if (const auto* p = std::get_if<DenseParams>(&node.params))
    return std::make_unique<DenseLayer<T>>(*p, node.weights, in_shapes[0], out_shape);
  if (const auto* p = std::get_if<ActivationParams>(&node.params))
    return std::make_unique<cpu::ActivationLayer<T, ActivationKernel<T>>>(*p, out_shape);
  if (const auto* p = std::get_if<BatchNormParams>(&node.params))
    return std::make_unique<BatchNormLayer<T>>(*p, node.weights, out_shape);
  const bool exact_already =
      std::holds_alternative<FlattenParams>(node.params) || std::holds_alternative<ReshapeParams>(node.params) ||
      std::holds_alternative<PermuteParams>(node.params) || std::holds_alternative<DropoutParams>(node.params) ||
      std::holds_alternative<ConcatenateParams>(node.params) || std::holds_alternative<MergeParams>(node.params) ||
      std::holds_alternative<PoolParams>(node.params) || std::holds_alternative<GlobalPoolParams>(node.params) ||
      std::holds_alternative<UpSamplingParams>(node.params) ||
      std::holds_alternative<SpatialPadParams>(node.params) || std::holds_alternative<ReverseParams>(node.params) ||
      std::holds_alternative<EmbeddingParams>(node.params);
  if (exact_already) return nullptr;
  throw UnsupportedError("trignet: node '" + node.name + "' (" + layer_type_name(node.params) +
                         "): reproducible mode has no kernel for this layer yet (it covers " +
                         supported_layers() + "); load without LoadOptions::reproducible");
}

}  // namespace trignet::cpu::reproducible
