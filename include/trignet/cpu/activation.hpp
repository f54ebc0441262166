#pragma once
// Activations over whole buffers. The kind is dispatched once per buffer.
// float uses the SIMD activations of simd/activation.hpp (maximum errors in
// docs/fast-path.md); double keeps loops the compiler can vectorise, with
// Eigen's tanh, sigmoid and exp.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include <Eigen/Core>

#include "trignet/cpu/layer.hpp"
#include "trignet/layers/activation.hpp"
#include "trignet/simd/activation.hpp"

namespace trignet::cpu {

template <typename T, typename F>
inline void transform_inplace(T* data, std::size_t n, F f) {
  for (std::size_t i = 0; i < n; ++i) data[i] = f(data[i]);
}

/// Softmax over one axis of `outer x axis_size x inner` blocks, in place.
template <typename T>
void softmax_inplace(T* data, std::size_t outer, std::size_t axis_size, std::size_t inner) {
  using std::exp;
  if constexpr (std::is_same_v<T, float>) {
    if (inner == 1) {  // contiguous rows: the SIMD softmax (same NaN and inf rules)
      for (std::size_t o = 0; o < outer; ++o) simd::softmax_row(data + o * axis_size, axis_size);
      return;
    }
  }
  for (std::size_t o = 0; o < outer; ++o) {
    T* block = data + o * axis_size * inner;
    for (std::size_t i = 0; i < inner; ++i) {
      T* x = block + i;
      T max = -std::numeric_limits<T>::infinity();
      bool nan = false;
      for (std::size_t k = 0; k < axis_size; ++k) {
        nan = nan || std::isnan(x[k * inner]);
        max = std::max(max, x[k * inner]);
      }
      if (nan) {  // one NaN poisons the whole distribution, as in the frameworks
        for (std::size_t k = 0; k < axis_size; ++k) x[k * inner] = std::numeric_limits<T>::quiet_NaN();
        continue;
      }
      if (std::isinf(max) && max > 0) {  // +inf entries share the mass
        std::size_t count = 0;
        for (std::size_t k = 0; k < axis_size; ++k) count += x[k * inner] == max;
        for (std::size_t k = 0; k < axis_size; ++k)
          x[k * inner] = x[k * inner] == max ? T(1) / T(count) : T(0);
        continue;
      }
      T sum = 0;
      for (std::size_t k = 0; k < axis_size; ++k) {
        const T e = exp(x[k * inner] - max);
        x[k * inner] = e;
        sum += e;
      }
      const T inv = T(1) / sum;
      for (std::size_t k = 0; k < axis_size; ++k) x[k * inner] *= inv;
    }
  }
}

/// Results below the smallest normal number become 0. Eigen's vectorised exp
/// clamps its argument, so exp(-inf) and logistic(-inf) come out as tiny
/// denormals (2.9e-39 in float with SSE, 0 with AVX): this makes them 0 on
/// every SIMD level and keeps denormals out of the following layers.
template <typename T>
inline void flush_tiny_results(T* data, std::size_t n) {
  constexpr T tiny = std::numeric_limits<T>::min();
  transform_inplace(data, n, [](T y) { return y < tiny ? T(0) : y; });
}

/// An element-wise activation over n elements, in place (loops for double).
template <typename T>
void activate_inplace_loops(const ElementwiseActivation<T>& a, T* data, std::size_t n) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  Eigen::Map<Array> v(data, static_cast<Eigen::Index>(n));
  switch (a.kind) {
    case ActivationKind::linear:
    case ActivationKind::softmax:
      return;
    case ActivationKind::relu:
      return transform_inplace(data, n, [](T x) { return x < T(0) ? T(0) : x; });
    case ActivationKind::relu6:
      return transform_inplace(data, n, [](T x) { return x < T(0) ? T(0) : (x > T(6) ? T(6) : x); });
    case ActivationKind::leaky_relu:
      return transform_inplace(data, n, [s = a.alpha](T x) { return x < T(0) ? s * x : x; });
    case ActivationKind::tanh:
      v = v.tanh();
      return;
    case ActivationKind::sigmoid:
      v = v.logistic();
      return flush_tiny_results(data, n);
    case ActivationKind::exponential:
      v = v.exp();
      return flush_tiny_results(data, n);
    case ActivationKind::hard_sigmoid:
      return transform_inplace(data, n, [s = a.slope, o = a.offset](T x) {
        const T y = s * x + o;
        return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
      });
    default:
      return transform_inplace(data, n, [&a](T x) { return apply_activation(a, x); });
  }
}

/// An element-wise activation over n elements, in place.
template <typename T>
void activate_inplace(const ElementwiseActivation<T>& a, T* data, std::size_t n) {
  if constexpr (std::is_same_v<T, float>) {
    Activation params;
    params.kind = a.kind;
    params.alpha = a.alpha;
    params.slope = a.slope;
    params.offset = a.offset;
    params.approximate = a.approximate;
    simd::activate(params, data, n);
  } else {
    activate_inplace_loops(a, data, n);
  }
}

/// Any activation (softmax included) over `rows` samples of a tensor of `shape`.
template <typename T>
class ActivationKernel {
 public:
  ActivationKernel() = default;
  ActivationKernel(const Activation& activation, const Shape& shape)
      : elementwise_(activation), per_sample_(element_count(shape)) {
    if (activation.kind == ActivationKind::softmax) {
      std::size_t axis = 0;
      normalize_axis(activation.axis, shape.size(), axis);  // validated by check_layer
      axis_size_ = shape[axis];
      inner_ = 1;
      for (std::size_t d = axis + 1; d < shape.size(); ++d) inner_ *= shape[d];
    }
  }

  void operator()(T* data, std::size_t batch) const {
    if (elementwise_.kind == ActivationKind::softmax) {
      const std::size_t outer = batch * per_sample_ / (axis_size_ * inner_);
      softmax_inplace(data, outer, axis_size_, inner_);
    } else {
      activate_inplace(elementwise_, data, batch * per_sample_);
    }
  }

  bool is_identity() const { return elementwise_.kind == ActivationKind::linear; }

 private:
  ElementwiseActivation<T> elementwise_;
  std::size_t per_sample_ = 0;
  std::size_t axis_size_ = 1;
  std::size_t inner_ = 1;
};

/// Node type "Activation". `Kernel` is the activation over a batch
/// (reproducible mode passes its own, cpu/reproducible.hpp).
template <typename T, typename Kernel = ActivationKernel<T>>
class ActivationLayer final : public Layer<T> {
 public:
  ActivationLayer(const ActivationParams& p, const Shape& shape)
      : kernel_(p.activation, shape), per_sample_(element_count(shape)) {}

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    std::copy(inputs[0], inputs[0] + batch * per_sample_, output);
    kernel_(output, batch);
  }

 private:
  Kernel kernel_;
  std::size_t per_sample_;
};

}  // namespace trignet::cpu
