#pragma once
// ModelSpec: the validated, plain-data description of a model. It is what the
// loader produces and the only thing backends see (they never touch JSON).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "trignet/fixed_engine/precision.hpp"
#include "trignet/layers/activation.hpp"
#include "trignet/layers/attention.hpp"
#include "trignet/layers/conv.hpp"
#include "trignet/layers/dense.hpp"
#include "trignet/layers/embedding.hpp"
#include "trignet/layers/merge.hpp"
#include "trignet/layers/normalization.hpp"
#include "trignet/layers/pooling.hpp"
#include "trignet/layers/recurrent.hpp"
#include "trignet/layers/reshape.hpp"
#include "trignet/shape.hpp"
#include "trignet/weights.hpp"

namespace trignet {

/// The file format version this library reads.
inline constexpr int format_version = 1;

/// Every layer's parameters. Adding a layer adds one alternative here.
using LayerParams =
    std::variant<DenseParams, ActivationParams, BatchNormParams, LayerNormParams, FlattenParams,
                 ReshapeParams, PermuteParams, DropoutParams, ConcatenateParams, MergeParams,
                 ConvParams, PoolParams, GlobalPoolParams, UpSamplingParams, SpatialPadParams,
                 RecurrentParams, ReverseParams, EmbeddingParams, AttentionParams>;

namespace detail {
template <typename P, typename = void>
struct has_static_type_name : std::false_type {};
template <typename P>
struct has_static_type_name<P, std::void_t<decltype(P::type_name + 0)>> : std::true_type {};
}  // namespace detail

/// The node type as written in the file ("Dense", "Add", "Conv2D", ...). One
/// parameter struct may stand for several types (Add/Subtract, Conv1D/Conv2D):
/// those have a type_name() member function instead of a constant.
inline std::string layer_type_name(const LayerParams& params) {
  return std::visit(
      [](const auto& p) -> std::string {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, MergeParams>)
          return merge_type_name(p.op);
        else if constexpr (detail::has_static_type_name<P>::value)
          return P::type_name;
        else
          return p.type_name();
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

/// Element type of a model input. Integer inputs (indices for Embedding) are
/// passed in the same scalar buffers as floats; they carry whole numbers.
enum class InputType { float32, int32 };

struct InputSpec {
  std::string name;
  Shape shape;
  Preprocessing preprocessing;
  std::vector<std::string> variables;
  InputType dtype = InputType::float32;
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
  std::optional<PrecisionSpec> precision;  // fixed point (docs/format.md); float engines ignore it
  std::string precision_text;  // canonical JSON of "precision" as read (for the content hash)
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
  std::optional<FixedPointSpec> fixed_point;  // input types for the fixed-point engine
  std::string fixed_point_text;  // canonical JSON of "fixed_point" as read (for the content hash)
};

}  // namespace trignet
