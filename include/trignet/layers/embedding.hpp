#pragma once
// Embedding: parameters, validation and FLOPs (docs/format.md, "Embedding and
// integer inputs"). Plain data only.

#include <cstddef>
#include <string>
#include <vector>

#include "trignet/layers/node_check.hpp"

namespace trignet {

/// Node type "Embedding": every element of the input (any shape S) is an
/// index into the rows of `embeddings [input_dim, output_dim]`; output
/// [*S, output_dim]. Indices that are not integers in [0, input_dim) are a
/// RunError when the model runs.
struct EmbeddingParams {
  static constexpr const char* type_name = "Embedding";
  std::size_t input_dim = 0;
  std::size_t output_dim = 0;
};

inline Shape check_layer(const EmbeddingParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  if (p.input_dim == 0) node.fail("config.input_dim", "expected a positive integer, found 0");
  if (p.output_dim == 0) node.fail("config.output_dim", "expected a positive integer, found 0");
  node.allow_weights({"embeddings"});
  node.weight("embeddings", {p.input_dim, p.output_dim}, true,
              "config.input_dim x config.output_dim");
  Shape out = node.input(0);
  out.push_back(p.output_dim);
  return out;
}

/// A table lookup: no arithmetic is counted.
inline double layer_flops(const EmbeddingParams&, const std::vector<Shape>&, const Shape&) {
  return 0;
}

}  // namespace trignet
