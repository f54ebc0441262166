#pragma once
// ModelSpec node -> CPU layer: the one dispatch from layer parameters to kernels.

#include <memory>
#include <type_traits>
#include <variant>
#include <vector>

#include "trignet/cpu/activation.hpp"
#include "trignet/cpu/attention.hpp"
#include "trignet/cpu/conv.hpp"
#include "trignet/cpu/dense.hpp"
#include "trignet/cpu/embedding.hpp"
#include "trignet/cpu/merge.hpp"
#include "trignet/cpu/normalization.hpp"
#include "trignet/cpu/pooling.hpp"
#include "trignet/cpu/recurrent.hpp"
#include "trignet/cpu/reshape.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::cpu {

template <typename T>
std::unique_ptr<Layer<T>> make_layer(const NodeSpec& node, const std::vector<Shape>& in_shapes,
                                     const Shape& out_shape) {
  return std::visit(
      [&](const auto& p) -> std::unique_ptr<Layer<T>> {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, DenseParams>)
          return std::make_unique<DenseLayer<T>>(p, node.weights, in_shapes[0], out_shape);
        else if constexpr (std::is_same_v<P, ActivationParams>)
          return std::make_unique<ActivationLayer<T>>(p, out_shape);
        else if constexpr (std::is_same_v<P, BatchNormParams>)
          return std::make_unique<BatchNormLayer<T>>(p, node.weights, out_shape);
        else if constexpr (std::is_same_v<P, LayerNormParams>)
          return std::make_unique<LayerNormLayer<T>>(p, node.weights, out_shape);
        else if constexpr (std::is_same_v<P, FlattenParams> || std::is_same_v<P, ReshapeParams> ||
                           std::is_same_v<P, DropoutParams>)
          return std::make_unique<AliasLayer<T>>();
        else if constexpr (std::is_same_v<P, PermuteParams>)
          return std::make_unique<PermuteLayer<T>>(p, in_shapes[0]);
        else if constexpr (std::is_same_v<P, ConcatenateParams>)
          return std::make_unique<ConcatenateLayer<T>>(p, in_shapes, out_shape);
        else if constexpr (std::is_same_v<P, MergeParams>)
          return std::make_unique<MergeLayer<T>>(p, in_shapes.size(), out_shape);
        else  // families with their own kernel header: cpu/<family>.hpp
          return make_cpu_layer<T>(p, node, in_shapes, out_shape);
      },
      node.params);
}

}  // namespace trignet::cpu
