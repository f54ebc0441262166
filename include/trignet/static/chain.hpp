#pragma once
// Which models a compile-time network can express: one float input, one
// output, and a chain of single-input nodes from the input to the output.
// Shared by static_model (which then matches the chain against its type) and
// `trignet codegen` (which writes the type for the chain).

#include <cstddef>
#include <string>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::detail {

/// "trignet: FILE: WHO:" (the file part when the spec has a source).
inline std::string static_prefix(const ModelSpec& spec, const char* who) {
  return "trignet: " + (spec.source.empty() ? std::string() : spec.source + ": ") + who + ":";
}

/// `node 2 "dense_3"`: the node's index in the file's node list and its name.
inline std::string node_label(const ModelSpec& spec, std::size_t node) {
  return "node " + std::to_string(node) + " \"" + spec.nodes[node].name + "\"";
}

/// The evaluated nodes from input to output, in order; throws
/// UnsupportedError when the graph is not such a chain.
inline std::vector<std::size_t> static_chain(const ModelSpec& spec, const GraphInfo& graph,
                                             const char* who) {
  const std::string prefix = static_prefix(spec, who);
  if (spec.inputs.size() != 1)
    throw UnsupportedError(prefix + " the model has " + std::to_string(spec.inputs.size()) +
                           " inputs; a compile-time network has exactly one");
  if (spec.outputs.size() != 1)
    throw UnsupportedError(prefix + " the model has " + std::to_string(spec.outputs.size()) +
                           " outputs; a compile-time network has exactly one");
  if (spec.inputs[0].dtype != InputType::float32)
    throw UnsupportedError(prefix + " input \"" + spec.inputs[0].name +
                           "\" is an integer input; a compile-time network takes float features");
  std::vector<std::size_t> chain;
  for (std::size_t k = 0; k < graph.order.size(); ++k) {
    const std::size_t node = graph.order[k];
    const auto& refs = graph.node_inputs[node];
    const bool follows = refs.size() == 1 && (k == 0 ? refs[0].is_model_input
                                                      : !refs[0].is_model_input && refs[0].index == chain.back());
    if (!follows)
      throw UnsupportedError(prefix + " " + node_label(spec, node) + " (" + layer_type_name(spec.nodes[node].params) +
                             ") does not read only the previous layer; a compile-time network is a chain");
    chain.push_back(node);
  }
  if (chain.empty() || graph.output_nodes[0] != chain.back())
    throw UnsupportedError(prefix + " the output is not the last layer of a chain");
  return chain;
}

}  // namespace trignet::detail
