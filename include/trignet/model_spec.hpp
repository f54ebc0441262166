#pragma once
// ModelSpec: the validated, plain-data description of a model. It is what the
// loader produces and the only thing backends see (they never touch JSON).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "trignet/layers/activation.hpp"
#include "trignet/layers/dense.hpp"
#include "trignet/layers/merge.hpp"
#include "trignet/layers/normalization.hpp"
#include "trignet/layers/reshape.hpp"
#include "trignet/shape.hpp"
#include "trignet/weights.hpp"

namespace trignet {

/// The file format version this library reads.
inline constexpr int format_version = 1;

/// Every layer's parameters. Adding a layer adds one alternative here.
using LayerParams = std::variant<DenseParams, ActivationParams, BatchNormParams, LayerNormParams,
                                 FlattenParams, ReshapeParams, PermuteParams, DropoutParams,
                                 ConcatenateParams, MergeParams>;

/// The node type as written in the file ("Dense", "Add", ...).
inline std::string layer_type_name(const LayerParams& params) {
  return std::visit(
      [](const auto& p) -> std::string {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, MergeParams>)
          return merge_type_name(p.op);
        else
          return P::type_name;
      },
      params);
}

/// Per-feature input preprocessing: NaN replacement, then (x - offset) * scale.
/// Empty vectors mean "not given". Each has one entry per element of the last axis.
struct Preprocessing {
  std::vector<float> offset;
  std::vector<float> scale;
  std::vector<float> nan_replacement;

  bool empty() const { return offset.empty() && scale.empty() && nan_replacement.empty(); }
};

struct InputSpec {
  std::string name;
  Shape shape;
  Preprocessing preprocessing;
  std::vector<std::string> variables;
};

struct OutputSpec {
  std::string name;
  std::string node;
  std::optional<Shape> shape;  // checked against inference when given
  std::vector<std::string> labels;
};

struct NodeSpec {
  std::string name;
  LayerParams params;
  std::vector<std::string> inputs;
  WeightMap weights;
  std::string config_text;  // canonical JSON of the config as read (for the content hash)
};

/// Embedded test vector: raw inputs and the framework's outputs for a batch.
struct TestVector {
  std::size_t batch = 0;
  std::vector<std::vector<double>> inputs;   // per model input, batch-major flat
  std::vector<std::vector<double>> outputs;  // per model output, batch-major flat
  double abs_tolerance = 1e-6;
  double rel_tolerance = 1e-4;
};

struct ModelSpec {
  std::string source;  // file path or "<string>", used in error messages
  std::string name;
  std::map<std::string, std::string> metadata;  // top-level metadata, scalars as text
  std::string metadata_json;                    // the whole metadata object as JSON text
  std::vector<InputSpec> inputs;
  std::vector<OutputSpec> outputs;
  std::vector<NodeSpec> nodes;
  std::vector<TestVector> test_vectors;
};

}  // namespace trignet
