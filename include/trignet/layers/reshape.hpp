#pragma once
// Layers that only move or relabel elements: Flatten, Reshape, Permute, Dropout.

#include <algorithm>
#include <vector>

#include "trignet/layers/node_check.hpp"

namespace trignet {

/// Node type "Flatten": row-major flattening of the per-sample tensor.
struct FlattenParams {
  static constexpr const char* type_name = "Flatten";
};

inline Shape check_layer(const FlattenParams&, const NodeCheck& node) {
  node.expect_inputs(1);
  node.allow_weights({});
  return Shape{element_count(node.input(0))};
}

/// Node type "Reshape"; one entry of `shape` may be -1.
struct ReshapeParams {
  static constexpr const char* type_name = "Reshape";
  std::vector<long long> shape;
};

inline Shape check_layer(const ReshapeParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  node.allow_weights({});
  if (p.shape.empty()) node.fail("config.shape", "expected at least one dimension");
  const std::size_t total = element_count(node.input(0));
  std::size_t known = 1;
  int inferred = -1;
  for (std::size_t i = 0; i < p.shape.size(); ++i) {
    if (p.shape[i] == -1) {
      if (inferred >= 0) node.fail("config.shape", "at most one dimension may be -1");
      inferred = static_cast<int>(i);
    } else if (p.shape[i] <= 0) {
      node.fail("config.shape[" + std::to_string(i) + "]",
                "expected a positive integer or -1, found " + std::to_string(p.shape[i]));
    } else {
      known *= static_cast<std::size_t>(p.shape[i]);
    }
  }
  Shape out(p.shape.size());
  for (std::size_t i = 0; i < p.shape.size(); ++i)
    out[i] = p.shape[i] < 0 ? 0 : static_cast<std::size_t>(p.shape[i]);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      node.fail("config.shape", "cannot reshape " + to_string(node.input(0)) + " (" +
                                    std::to_string(total) + " elements) with a -1 entry");
    out[static_cast<std::size_t>(inferred)] = total / known;
  }
  if (element_count(out) != total)
    node.fail("config.shape", "expected " + std::to_string(total) + " elements (input shape " +
                                  to_string(node.input(0)) + "), found " + to_string(out));
  return out;
}

/// Node type "Permute": output axis k is input axis dims[k].
struct PermuteParams {
  static constexpr const char* type_name = "Permute";
  std::vector<std::size_t> dims;
};

inline Shape check_layer(const PermuteParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  node.allow_weights({});
  const Shape& in = node.input(0);
  if (p.dims.size() != in.size())
    node.fail("config.dims", "expected a permutation of " + std::to_string(in.size()) +
                                 " axes (input shape " + to_string(in) + "), found " +
                                 std::to_string(p.dims.size()) + " entries");
  std::vector<bool> seen(in.size(), false);
  Shape out(in.size());
  for (std::size_t k = 0; k < p.dims.size(); ++k) {
    if (p.dims[k] >= in.size() || seen[p.dims[k]])
      node.fail("config.dims", "expected a permutation of 0.." + std::to_string(in.size() - 1) +
                                   ", found " + to_string(p.dims));
    seen[p.dims[k]] = true;
    out[k] = in[p.dims[k]];
  }
  return out;
}

/// Node type "Dropout": identity at inference.
struct DropoutParams {
  static constexpr const char* type_name = "Dropout";
};

inline Shape check_layer(const DropoutParams&, const NodeCheck& node) {
  node.expect_inputs(1);
  node.allow_weights({});
  return node.input(0);
}

// Data movement only: no arithmetic.
inline double layer_flops(const FlattenParams&, const std::vector<Shape>&, const Shape&) { return 0; }
inline double layer_flops(const ReshapeParams&, const std::vector<Shape>&, const Shape&) { return 0; }
inline double layer_flops(const PermuteParams&, const std::vector<Shape>&, const Shape&) { return 0; }
inline double layer_flops(const DropoutParams&, const std::vector<Shape>&, const Shape&) { return 0; }

}  // namespace trignet
