#pragma once
// Flatten, Reshape and Dropout reuse their input buffer (row-major order is
// unchanged); Permute gathers through an index table built once.

#include <cstddef>
#include <vector>

#include "trignet/cpu/layer.hpp"
#include "trignet/layers/reshape.hpp"

namespace trignet::cpu {

/// Flatten, Reshape, Dropout: the output is the input, relabelled.
template <typename T>
class AliasLayer final : public Layer<T> {
 public:
  void forward(const T* const*, T*, std::size_t, T*) const override {}
  bool is_alias() const override { return true; }
};

template <typename T>
class PermuteLayer final : public Layer<T> {
 public:
  PermuteLayer(const PermuteParams& p, const Shape& in_shape) {
    const std::size_t rank = in_shape.size();
    std::vector<std::size_t> in_strides(rank, 1);
    for (std::size_t a = rank - 1; a-- > 0;) in_strides[a] = in_strides[a + 1] * in_shape[a + 1];
    Shape out_shape(rank);
    for (std::size_t k = 0; k < rank; ++k) out_shape[k] = in_shape[p.dims[k]];
    const std::size_t n = element_count(in_shape);
    source_.resize(n);
    std::vector<std::size_t> index(rank, 0);  // multi-index over the output shape
    for (std::size_t o = 0; o < n; ++o) {
      std::size_t offset = 0;
      for (std::size_t k = 0; k < rank; ++k) offset += index[k] * in_strides[p.dims[k]];
      source_[o] = offset;
      for (std::size_t k = rank; k-- > 0;) {
        if (++index[k] < out_shape[k]) break;
        index[k] = 0;
      }
    }
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const std::size_t n = source_.size();
    for (std::size_t b = 0; b < batch; ++b) {
      const T* x = inputs[0] + b * n;
      T* y = output + b * n;
      for (std::size_t o = 0; o < n; ++o) y[o] = x[source_[o]];
    }
  }

 private:
  std::vector<std::size_t> source_;  // input offset of each output element
};

}  // namespace trignet::cpu
