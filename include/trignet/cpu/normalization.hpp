#pragma once
// BatchNormalization (folded at construction to y = x * scale + shift per
// channel) and LayerNormalization over the trailing axes.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "trignet/cpu/layer.hpp"
#include "trignet/layers/normalization.hpp"
#include "trignet/weights.hpp"

namespace trignet::cpu {

template <typename T>
class BatchNormLayer final : public Layer<T> {
 public:
  BatchNormLayer(const BatchNormParams& p, const WeightMap& weights, const Shape& shape) {
    std::size_t axis = 0;
    normalize_axis(p.axis, shape.size(), axis);
    channels_ = shape[axis];
    inner_ = 1;
    for (std::size_t d = axis + 1; d < shape.size(); ++d) inner_ *= shape[d];
    outer_ = element_count(shape) / (channels_ * inner_);
    auto get = [&](const char* name, double fallback, std::size_t c) {
      auto it = weights.find(name);
      return it == weights.end() ? fallback : static_cast<double>(it->second.values[c]);
    };
    for (std::size_t c = 0; c < channels_; ++c) {
      // Folded in double so float and double models share the same rounding point.
      const double s = get("gamma", 1.0, c) / std::sqrt(get("moving_variance", 1.0, c) + p.epsilon);
      scale_.push_back(static_cast<T>(s));
      shift_.push_back(static_cast<T>(get("beta", 0.0, c) - get("moving_mean", 0.0, c) * s));
    }
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const T* x = inputs[0];
    for (std::size_t o = 0; o < batch * outer_; ++o)
      for (std::size_t c = 0; c < channels_; ++c) {
        const T s = scale_[c], b = shift_[c];
        const std::size_t base = (o * channels_ + c) * inner_;
        for (std::size_t i = 0; i < inner_; ++i) output[base + i] = x[base + i] * s + b;
      }
  }

 private:
  std::size_t outer_ = 1, channels_ = 1, inner_ = 1;
  std::vector<T> scale_, shift_;
};

template <typename T>
class LayerNormLayer final : public Layer<T> {
 public:
  LayerNormLayer(const LayerNormParams& p, const WeightMap& weights, const Shape& shape)
      : epsilon_(static_cast<T>(p.epsilon)) {
    group_ = 1;
    for (std::size_t d = shape.size() - p.axes.size(); d < shape.size(); ++d) group_ *= shape[d];
    groups_per_sample_ = element_count(shape) / group_;
    auto copy = [&](const char* name, std::vector<T>& out) {
      auto it = weights.find(name);
      if (it != weights.end()) out.assign(it->second.values.begin(), it->second.values.end());
    };
    copy("gamma", gamma_);
    copy("beta", beta_);
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const T n = static_cast<T>(group_);
    for (std::size_t g = 0; g < batch * groups_per_sample_; ++g) {
      const T* x = inputs[0] + g * group_;
      T* y = output + g * group_;
      T mean = 0;
      for (std::size_t i = 0; i < group_; ++i) mean += x[i];
      mean /= n;
      T var = 0;  // two passes: no cancellation for inputs with a large mean
      for (std::size_t i = 0; i < group_; ++i) var += (x[i] - mean) * (x[i] - mean);
      var /= n;
      const T inv = T(1) / std::sqrt(var + epsilon_);
      if (!std::isfinite(mean) || !std::isfinite(var)) {
        // Finite values so large that their sum or squares overflow: work on
        // x / max|x| instead (the result is scale-invariant up to epsilon).
        // Infinite or NaN entries give NaN, as in the frameworks.
        T big = 0;
        bool finite = true;
        for (std::size_t i = 0; i < group_; ++i) {
          finite = finite && std::isfinite(x[i]);
          big = std::max(big, std::fabs(x[i]));
        }
        if (finite && big > T(0)) {
          T m = 0;
          for (std::size_t i = 0; i < group_; ++i) m += x[i] / big;
          m /= n;
          T v = 0;
          for (std::size_t i = 0; i < group_; ++i) v += (x[i] / big - m) * (x[i] / big - m);
          v /= n;
          const T root = std::sqrt(v + epsilon_ / big / big);  // epsilon/big^2 may underflow
          const T inv_scaled = root > T(0) ? T(1) / root : T(0);   // all equal: 0, not 0/0
          for (std::size_t i = 0; i < group_; ++i) y[i] = affine(i, (x[i] / big - m) * inv_scaled);
          continue;
        }
      }
      for (std::size_t i = 0; i < group_; ++i) y[i] = affine(i, (x[i] - mean) * inv);
    }
  }

 private:
  T affine(std::size_t i, T v) const {
    if (!gamma_.empty()) v *= gamma_[i];
    if (!beta_.empty()) v += beta_[i];
    return v;
  }

  T epsilon_;
  std::size_t group_ = 1;
  std::size_t groups_per_sample_ = 1;
  std::vector<T> gamma_, beta_;
};

}  // namespace trignet::cpu
