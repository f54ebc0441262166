#pragma once
// Embedding on the CPU: each index selects one row of the table. Indices come
// in the scalar buffers as whole numbers; anything else is a RunError naming
// the node, the sample, the position and the value.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "trignet/cpu/layer.hpp"
#include "trignet/error.hpp"
#include "trignet/layers/embedding.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::cpu {

/// Node type "Embedding".
template <typename T>
class EmbeddingLayer final : public Layer<T> {
 public:
  EmbeddingLayer(const EmbeddingParams& p, const NodeSpec& node, const Shape& input_shape)
      : name_(node.name),
        input_shape_(input_shape),
        positions_(element_count(input_shape)),
        input_dim_(p.input_dim),
        output_dim_(p.output_dim) {
    const std::vector<float>& e = node.weights.at("embeddings").values;
    table_.assign(e.begin(), e.end());
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const T* in = inputs[0];
    const T limit = static_cast<T>(input_dim_);
    const std::size_t n = batch * positions_;
    for (std::size_t k = 0; k < n; ++k) {
      const T v = in[k];
      // NaN fails the first comparison; the range check comes before the
      // conversion, so the cast below is always defined.
      if (!(v >= T(0) && v < limit) || v != std::floor(v)) fail(k, v);
      const std::size_t index = static_cast<std::size_t>(v);
      if (index >= input_dim_) fail(k, v);  // limit rounded up in T
      const T* row = table_.data() + index * output_dim_;
      std::copy(row, row + output_dim_, output + k * output_dim_);
    }
  }

 private:
  [[noreturn]] void fail(std::size_t k, T value) const {
    std::size_t within = k % positions_;
    Shape position(input_shape_.size());
    for (std::size_t d = input_shape_.size(); d-- > 0;) {
      position[d] = within % input_shape_[d];
      within /= input_shape_[d];
    }
    char text[64];
    if (std::isnan(value))
      std::snprintf(text, sizeof text, "NaN");
    else
      std::snprintf(text, sizeof text, "%.*g", sizeof(T) == sizeof(float) ? 9 : 17,
                    static_cast<double>(value));
    throw RunError("trignet: node '" + name_ + "' (Embedding): sample " +
                   std::to_string(k / positions_) + ", position " + to_string(position) +
                   ": index " + text + " is not an integer in [0, " +
                   std::to_string(input_dim_) + ")");
  }

  std::string name_;
  Shape input_shape_;
  std::size_t positions_;
  std::size_t input_dim_;
  std::size_t output_dim_;
  std::vector<T> table_;  // input_dim x output_dim, row-major
};

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const EmbeddingParams& p, const NodeSpec& node,
                                         const std::vector<Shape>& in_shapes, const Shape&) {
  return std::make_unique<EmbeddingLayer<T>>(p, node, in_shapes[0]);
}

}  // namespace trignet::cpu
