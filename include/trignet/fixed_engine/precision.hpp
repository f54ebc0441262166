#pragma once
// Plain data of the fixed-point description in a model file (docs/format.md,
// "Fixed-point precision"): per-node precision and the model inputs' types.
// Parsed by format/parse_precision.hpp, consumed by the fixed-point engine;
// the float engine ignores it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trignet/fixed_engine/fixed_type.hpp"

namespace trignet {

enum class SoftmaxImplementation { latency, stable, legacy, argmax };

inline const char* softmax_implementation_name(SoftmaxImplementation s) {
  switch (s) {
    case SoftmaxImplementation::latency: return "latency";
    case SoftmaxImplementation::stable: return "stable";
    case SoftmaxImplementation::legacy: return "legacy";
    case SoftmaxImplementation::argmax: return "argmax";
  }
  return "?";
}

/// One node's `precision` object (or its nested `activation`). Absent keys are
/// empty; which keys a node needs depends on its type.
struct PrecisionSpec {
  std::string path;  // JSON path, e.g. "nodes[3].precision", for later error messages

  std::optional<FixedType> weight, bias, scale, accum, result;
  // Activation tables and parameters.
  std::optional<std::size_t> table_size, exp_table_size, inv_table_size;
  std::optional<FixedType> table, param, slope, shift;
  std::optional<SoftmaxImplementation> implementation;
  std::optional<FixedType> exp_table, inv_table, inv_input, norm_input;
  std::optional<double> exp_scale;
  /// The nested `activation` object (0 or 1 element).
  std::vector<PrecisionSpec> activation;
  /// Raw integers of weights, by weight name.
  std::map<std::string, std::vector<std::int64_t>> raw;
  /// Keys present in the file, sorted by name (for `trignet info`).
  std::vector<std::string> keys;
};

struct FixedInputSpec {
  FixedType type;
  double offset = 0.0;
  int shift = 0;
};

/// The top-level `fixed_point` object: one entry per model input, in the order
/// of ModelSpec::inputs.
struct FixedPointSpec {
  std::vector<FixedInputSpec> inputs;
};

}  // namespace trignet
