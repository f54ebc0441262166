#pragma once
// Concatenate and the element-wise merges (Add, Subtract, Multiply, Average,
// Maximum, Minimum).

#include <algorithm>
#include <cstddef>
#include <vector>

#include "trignet/cpu/layer.hpp"
#include "trignet/layers/merge.hpp"

namespace trignet::cpu {

template <typename T>
class ConcatenateLayer final : public Layer<T> {
 public:
  ConcatenateLayer(const ConcatenateParams& p, const std::vector<Shape>& in_shapes,
                   const Shape& out_shape) {
    std::size_t axis = 0;
    normalize_axis(p.axis, out_shape.size(), axis);
    outer_ = 1;
    for (std::size_t d = 0; d < axis; ++d) outer_ *= out_shape[d];
    for (const Shape& s : in_shapes) chunks_.push_back(element_count(s) / outer_);
    out_per_sample_ = element_count(out_shape);
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    T* y = output;
    for (std::size_t o = 0; o < batch * outer_; ++o)
      for (std::size_t i = 0; i < chunks_.size(); ++i) {
        const T* x = inputs[i] + o * chunks_[i];
        y = std::copy(x, x + chunks_[i], y);
      }
  }

 private:
  std::size_t outer_ = 1;
  std::size_t out_per_sample_ = 0;
  std::vector<std::size_t> chunks_;  // elements each input contributes per outer index
};

template <typename T>
class MergeLayer final : public Layer<T> {
 public:
  MergeLayer(const MergeParams& p, std::size_t input_count, const Shape& shape)
      : op_(p.op), inputs_(input_count), per_sample_(element_count(shape)) {}

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const std::size_t n = batch * per_sample_;
    std::copy(inputs[0], inputs[0] + n, output);
    for (std::size_t k = 1; k < inputs_; ++k) {
      const T* x = inputs[k];
      switch (op_) {
        case MergeOp::add:
        case MergeOp::average:
          for (std::size_t i = 0; i < n; ++i) output[i] += x[i];
          break;
        case MergeOp::subtract:
          for (std::size_t i = 0; i < n; ++i) output[i] -= x[i];
          break;
        case MergeOp::multiply:
          for (std::size_t i = 0; i < n; ++i) output[i] *= x[i];
          break;
        case MergeOp::maximum:  // NaN propagates, as in the frameworks
          for (std::size_t i = 0; i < n; ++i)
            output[i] = (x[i] > output[i] || x[i] != x[i]) ? x[i] : output[i];
          break;
        case MergeOp::minimum:
          for (std::size_t i = 0; i < n; ++i)
            output[i] = (x[i] < output[i] || x[i] != x[i]) ? x[i] : output[i];
          break;
      }
    }
    if (op_ == MergeOp::average) {
      const T count = static_cast<T>(inputs_);
      for (std::size_t i = 0; i < n; ++i) output[i] /= count;
    }
  }

 private:
  MergeOp op_;
  std::size_t inputs_;
  std::size_t per_sample_;
};

}  // namespace trignet::cpu
