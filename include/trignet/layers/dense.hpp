#pragma once
// Dense (fully connected) layer on the last axis, with a fused activation.

#include <vector>

#include "trignet/layers/activation.hpp"
#include "trignet/layers/node_check.hpp"

namespace trignet {

/// Node type "Dense". Weights: kernel [in_features, units], bias [units].
struct DenseParams {
  static constexpr const char* type_name = "Dense";
  std::size_t units = 0;
  Activation activation;
  bool use_bias = true;
};

inline Shape check_layer(const DenseParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  node.expect_min_rank(0, 1);
  if (p.units == 0) node.fail("config.units", "expected a positive integer, found 0");
  if (p.activation.kind == ActivationKind::softmax)
    node.axis("config.activation.axis", p.activation.axis, node.input(0).size());
  node.allow_weights({"kernel", "bias"});
  const std::size_t in = node.input(0).back();
  node.weight("kernel", {in, p.units}, true, "input features x units");
  if (p.use_bias) {
    node.weight("bias", {p.units}, true, "units");
  } else if (node.weight("bias", {p.units}, false)) {
    node.fail("weights.bias", "unexpected bias: config.use_bias is false");
  }
  Shape out = node.input(0);
  out.back() = p.units;
  return out;
}

inline double layer_flops(const DenseParams& p, const std::vector<Shape>& in, const Shape& out) {
  const double rows = static_cast<double>(element_count(out) / p.units);
  const double macs = 2.0 * static_cast<double>(in[0].back()) * static_cast<double>(p.units);
  const double units = static_cast<double>(p.units);
  return rows * (macs + (p.use_bias ? units : 0.0) +
                 activation_flops_per_element(p.activation.kind) * units);
}

}  // namespace trignet
