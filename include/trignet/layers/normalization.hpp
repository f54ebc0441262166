#pragma once
// Normalisation layers at inference: BatchNormalization (folded to one scale
// and shift per channel) and LayerNormalization over trailing axes.

#include <cmath>
#include <vector>

#include "trignet/detail/text.hpp"
#include "trignet/layers/node_check.hpp"

namespace trignet {

/// Node type "BatchNormalization". Weights moving_mean, moving_variance, gamma?, beta? of [C].
struct BatchNormParams {
  static constexpr const char* type_name = "BatchNormalization";
  long long axis = -1;
  double epsilon = 0.0;
};

inline Shape check_layer(const BatchNormParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  const std::size_t axis = node.axis("config.axis", p.axis, node.input(0).size());
  if (!(p.epsilon > 0.0) || !std::isfinite(p.epsilon))
    node.fail("config.epsilon",
              "expected a positive finite number, found " + detail::number_text(p.epsilon, 17));
  node.allow_weights({"gamma", "beta", "moving_mean", "moving_variance"});
  const Shape c{node.input(0)[axis]};
  node.weight("gamma", c, false, "channels along axis");
  node.weight("beta", c, false, "channels along axis");
  node.weight("moving_mean", c, true, "channels along axis");
  const WeightTensor* var = node.weight("moving_variance", c, true, "channels along axis");
  for (std::size_t i = 0; i < var->values.size(); ++i)
    if (var->values[i] < 0.0f)
      node.fail("weights.moving_variance.data[" + std::to_string(i) + "]",
                "expected a non-negative variance, found " + detail::float_text(var->values[i]));
  return node.input(0);
}

inline double layer_flops(const BatchNormParams&, const std::vector<Shape>&, const Shape& out) {
  return 2.0 * static_cast<double>(element_count(out));
}

/// Node type "LayerNormalization" over the trailing `axes` of its input.
struct LayerNormParams {
  static constexpr const char* type_name = "LayerNormalization";
  std::vector<long long> axes{-1};
  double epsilon = 0.0;
};

/// Number of trailing axes normalised together; validates that they are trailing.
inline std::size_t layer_norm_trailing_axes(const LayerNormParams& p, const NodeCheck& node) {
  const std::size_t rank = node.input(0).size();
  if (p.axes.empty()) node.fail("config.axis", "expected at least one axis");
  std::vector<bool> seen(rank, false);
  for (long long a : p.axes) {
    const std::size_t ax = node.axis("config.axis", a, rank);
    if (seen[ax]) node.fail("config.axis", "axis " + std::to_string(a) + " is listed twice");
    seen[ax] = true;
  }
  const std::size_t k = p.axes.size();
  for (std::size_t ax = rank - k; ax < rank; ++ax)
    if (!seen[ax])
      node.fail("config.axis",
                "normalised axes must be the trailing axes of the input (shape " +
                    to_string(node.input(0)) + "); other axis sets are not supported");
  return k;
}

inline Shape check_layer(const LayerNormParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  const std::size_t k = layer_norm_trailing_axes(p, node);
  if (!(p.epsilon > 0.0) || !std::isfinite(p.epsilon))
    node.fail("config.epsilon",
              "expected a positive finite number, found " + detail::number_text(p.epsilon, 17));
  node.allow_weights({"gamma", "beta"});
  const Shape& in = node.input(0);
  const Shape normalised(in.end() - static_cast<std::ptrdiff_t>(k), in.end());
  node.weight("gamma", normalised, false, "normalised axes");
  node.weight("beta", normalised, false, "normalised axes");
  return in;
}

inline double layer_flops(const LayerNormParams&, const std::vector<Shape>&, const Shape& out) {
  return 7.0 * static_cast<double>(element_count(out));
}

}  // namespace trignet
