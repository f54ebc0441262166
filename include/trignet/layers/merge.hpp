#pragma once
// Layers that combine several tensors: Concatenate and the element-wise merges.

#include <vector>

#include "trignet/layers/node_check.hpp"

namespace trignet {

/// Node type "Concatenate" along `axis`.
struct ConcatenateParams {
  static constexpr const char* type_name = "Concatenate";
  long long axis = -1;
};

inline Shape check_layer(const ConcatenateParams& p, const NodeCheck& node) {
  node.expect_at_least_inputs(2);
  node.allow_weights({});
  const Shape& first = node.input(0);
  const std::size_t axis = node.axis("config.axis", p.axis, first.size());
  Shape out = first;
  for (std::size_t i = 1; i < node.input_count(); ++i) {
    const Shape& s = node.input(i);
    bool ok = s.size() == first.size();
    for (std::size_t d = 0; ok && d < s.size(); ++d) ok = d == axis || s[d] == first[d];
    if (!ok)
      node.fail("inputs[" + std::to_string(i) + "]",
                "shape " + to_string(s) + " cannot be concatenated with " + to_string(first) +
                    " along axis " + std::to_string(p.axis));
    out[axis] += s[axis];
  }
  return out;
}

inline double layer_flops(const ConcatenateParams&, const std::vector<Shape>&, const Shape&) {
  return 0;  // data movement only
}

enum class MergeOp { add, subtract, multiply, average, maximum, minimum };

inline const char* merge_type_name(MergeOp op) {
  switch (op) {
    case MergeOp::add: return "Add";
    case MergeOp::subtract: return "Subtract";
    case MergeOp::multiply: return "Multiply";
    case MergeOp::average: return "Average";
    case MergeOp::maximum: return "Maximum";
    case MergeOp::minimum: return "Minimum";
  }
  return "?";
}

/// Node types "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum".
struct MergeParams {
  MergeOp op = MergeOp::add;
};

inline Shape check_layer(const MergeParams& p, const NodeCheck& node) {
  if (p.op == MergeOp::subtract)
    node.expect_inputs(2);
  else
    node.expect_at_least_inputs(2);
  node.allow_weights({});
  for (std::size_t i = 1; i < node.input_count(); ++i)
    if (node.input(i) != node.input(0))
      node.fail("inputs[" + std::to_string(i) + "]",
                "expected the same shape as inputs[0] " + to_string(node.input(0)) + ", found " +
                    to_string(node.input(i)) + " (no broadcasting)");
  return node.input(0);
}

inline double layer_flops(const MergeParams&, const std::vector<Shape>& in, const Shape& out) {
  return static_cast<double>(in.size() - 1) * static_cast<double>(element_count(out));
}

}  // namespace trignet
