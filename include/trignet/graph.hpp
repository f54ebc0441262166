#pragma once
// Graph validation and shape inference over a ModelSpec: names, connectivity,
// cycles, every layer's configuration and weights, output shapes.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/model_spec.hpp"

namespace trignet {

/// Bounds on what a model may declare, so that a hostile or broken file is
/// rejected with a FormatError before anything of that size is allocated
/// (docs/errors.md, "Resource limits"). Pass them in LoadOptions::limits.
struct ResourceLimits {
  /// Size of the model file read by load_model (checked before reading it).
  std::size_t max_file_bytes = std::size_t(1) << 30;
  /// Nodes in the graph (checked before the nodes are parsed).
  std::size_t max_nodes = 10000;
  /// Weight elements of all nodes together (counted while parsing).
  std::size_t max_weight_elements = std::size_t(1) << 28;
  /// Elements of one per-sample tensor: a model input or any node's output.
  std::size_t max_tensor_elements = std::size_t(1) << 26;
  /// Sum of the per-sample elements of every evaluated node's output: bounds a
  /// Session's buffers per sample of batch.
  std::size_t max_activation_elements = std::size_t(1) << 28;

  /// No limit beyond the format's own (2^31 elements per tensor, what
  /// format::max_tensor_elements allows, and no size_t overflow).
  static ResourceLimits format_maximum() {
    ResourceLimits l;
    l.max_file_bytes = std::numeric_limits<std::size_t>::max();
    l.max_nodes = std::numeric_limits<std::size_t>::max();
    l.max_weight_elements = std::numeric_limits<std::size_t>::max();
    l.max_tensor_elements = std::size_t(1) << 31;
    l.max_activation_elements = std::numeric_limits<std::size_t>::max();
    return l;
  }
};

/// A tensor in the graph: a model input or a node's result.
struct ValueRef {
  bool is_model_input = false;
  std::size_t index = 0;  // into ModelSpec::inputs or ModelSpec::nodes
  bool operator==(const ValueRef& o) const {
    return is_model_input == o.is_model_input && index == o.index;
  }
};

/// What validation learns about a ModelSpec; backends compile from it.
struct GraphInfo {
  std::vector<Shape> node_shapes;                 // output shape of every node
  std::vector<std::vector<ValueRef>> node_inputs;  // resolved inputs of every node
  std::vector<double> node_flops;                 // per sample
  std::vector<std::size_t> order;  // nodes some output needs, in evaluation order
  std::vector<std::size_t> output_nodes;  // node index of each model output
  std::size_t parameter_count = 0;        // all weight elements in the file
  double flops_per_sample = 0;            // of the evaluated nodes
};

namespace detail {

[[noreturn]] inline void graph_fail(const ModelSpec& spec, const std::string& path,
                                    const std::string& message) {
  throw FormatError("trignet: " + (spec.source.empty() ? "" : spec.source + ": ") + path + ": " +
                    message);
}

inline void check_shape(const ModelSpec& spec, const std::string& path, const Shape& shape) {
  if (shape.empty()) graph_fail(spec, path, "expected a shape of rank >= 1, found []");
  for (std::size_t d : shape)
    if (d == 0) graph_fail(spec, path, "expected positive dimensions, found " + to_string(shape));
}

/// Element count of `shape`, or `cap + 1` as soon as it exceeds `cap` (never overflows).
inline std::size_t bounded_element_count(const Shape& shape, std::size_t cap) {
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > cap / d) return cap + 1;
    n *= d;
  }
  return n;
}

inline void check_tensor_size(const ModelSpec& spec, const std::string& path, const Shape& shape,
                              const ResourceLimits& limits, const char* what) {
  const std::size_t cap = std::min(limits.max_tensor_elements, ResourceLimits::format_maximum().max_tensor_elements);
  if (bounded_element_count(shape, cap) > cap)
    graph_fail(spec, path,
               std::string(what) + " " + to_string(shape) + " has more than " + std::to_string(cap) +
                   " elements per sample (ResourceLimits::max_tensor_elements)");
}

inline void check_per_feature(const ModelSpec& spec, const std::string& path, std::size_t found,
                              std::size_t features) {
  if (found != features)
    graph_fail(spec, path,
               "expected " + std::to_string(features) +
                   " entries (one per element of the last axis), found " + std::to_string(found));
}

}  // namespace detail

/// Validates the whole spec and infers every shape. Throws FormatError naming
/// the JSON path of the first problem. `limits` bound the tensor sizes, node
/// and weight counts; without them only the format's maxima apply.
/// With TRIGNET_SEPARATE_LOADER it is compiled once, with the JSON loader, in
/// the TU that defines TRIGNET_LOADER_IMPLEMENTATION (format/load_spec.hpp).
#if defined(TRIGNET_SEPARATE_LOADER)
GraphInfo analyse(const ModelSpec& spec, const ResourceLimits& limits = ResourceLimits::format_maximum());
#endif
#if !defined(TRIGNET_SEPARATE_LOADER) || defined(TRIGNET_LOADER_IMPLEMENTATION)
#if defined(TRIGNET_SEPARATE_LOADER)
GraphInfo analyse(const ModelSpec& spec, const ResourceLimits& limits) {
#else
inline GraphInfo analyse(const ModelSpec& spec,
                         const ResourceLimits& limits = ResourceLimits::format_maximum()) {
#endif
  using detail::graph_fail;
  GraphInfo info;
  if (spec.nodes.size() > limits.max_nodes)
    graph_fail(spec, "nodes",
               "the graph has " + std::to_string(spec.nodes.size()) + " nodes, more than " +
                   std::to_string(limits.max_nodes) + " (ResourceLimits::max_nodes)");
  if (spec.name.empty()) graph_fail(spec, "name", "expected a non-empty model name");
  if (spec.inputs.empty()) graph_fail(spec, "inputs", "expected at least one model input");
  if (spec.outputs.empty()) graph_fail(spec, "outputs", "expected at least one model output");
  if (spec.nodes.empty()) graph_fail(spec, "nodes", "expected at least one node");

  std::unordered_map<std::string, ValueRef> names;
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    const InputSpec& in = spec.inputs[i];
    const std::string path = "inputs[" + std::to_string(i) + "]";
    if (in.name.empty()) graph_fail(spec, path + ".name", "expected a non-empty name");
    if (!names.emplace(in.name, ValueRef{true, i}).second)
      graph_fail(spec, path + ".name", "duplicate input name '" + in.name + "'");
    detail::check_shape(spec, path + ".shape", in.shape);
    detail::check_tensor_size(spec, path + ".shape", in.shape, limits, "input shape");
    const std::size_t features = in.shape.back();
    const Preprocessing& pre = in.preprocessing;
    if (!pre.offset.empty())
      detail::check_per_feature(spec, path + ".preprocessing.offset", pre.offset.size(), features);
    if (!pre.scale.empty())
      detail::check_per_feature(spec, path + ".preprocessing.scale", pre.scale.size(), features);
    if (!pre.nan_replacement.empty())
      detail::check_per_feature(spec, path + ".preprocessing.nan_replacement",
                                pre.nan_replacement.size(), features);
    if (!in.variables.empty())
      detail::check_per_feature(spec, path + ".variables", in.variables.size(), features);
  }
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
    const std::string& name = spec.nodes[i].name;
    const std::string path = "nodes[" + std::to_string(i) + "].name";
    if (name.empty()) graph_fail(spec, path, "expected a non-empty name");
    auto [it, fresh] = names.emplace(name, ValueRef{false, i});
    if (!fresh)
      graph_fail(spec, path,
                 "duplicate name '" + name + "' (already used by " +
                     (it->second.is_model_input ? "an input" : "nodes[" +
                                                                   std::to_string(it->second.index) +
                                                                   "]") +
                     ")");
  }

  // Resolve node inputs by name.
  const std::size_t n = spec.nodes.size();
  info.node_inputs.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const NodeSpec& node = spec.nodes[i];
    if (node.inputs.empty())
      graph_fail(spec, "nodes[" + std::to_string(i) + "].inputs",
                 "expected at least one input name (node '" + node.name + "')");
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      auto it = names.find(node.inputs[k]);
      if (it == names.end())
        graph_fail(spec, "nodes[" + std::to_string(i) + "].inputs[" + std::to_string(k) + "]",
                   "unknown name '" + node.inputs[k] + "' (not a model input or node)");
      info.node_inputs[i].push_back(it->second);
    }
  }

  // Topological order of all nodes (depth-first, iterative), with cycle detection.
  std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
  std::vector<std::size_t> topo;
  topo.reserve(n);
  for (std::size_t root = 0; root < n; ++root) {
    if (state[root]) continue;
    std::vector<std::pair<std::size_t, std::size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < info.node_inputs[node].size()) {
        const ValueRef ref = info.node_inputs[node][next++];
        if (ref.is_model_input) continue;
        if (state[ref.index] == 1) {
          std::string cycle = "'" + spec.nodes[ref.index].name + "'";
          for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
            cycle = "'" + spec.nodes[it->first].name + "' <- " + cycle;
            if (it->first == ref.index) break;
          }
          graph_fail(spec, "nodes[" + std::to_string(node) + "].inputs",
                     "the graph has a cycle: " + cycle);
        }
        if (state[ref.index] == 0) {
          state[ref.index] = 1;
          stack.emplace_back(ref.index, 0);
        }
      } else {
        state[node] = 2;
        topo.push_back(node);
        stack.pop_back();
      }
    }
  }

  // Shape inference and per-layer validation, in dependency order.
  info.node_shapes.resize(n);
  info.node_flops.resize(n, 0.0);
  for (std::size_t i : topo) {
    const NodeSpec& node = spec.nodes[i];
    std::vector<Shape> in_shapes;
    for (const ValueRef& ref : info.node_inputs[i])
      in_shapes.push_back(ref.is_model_input ? spec.inputs[ref.index].shape
                                             : info.node_shapes[ref.index]);
    for (const auto& [wname, w] : node.weights) {
      const std::string wpath = "nodes[" + std::to_string(i) + "].weights." + wname;
      detail::check_shape(spec, wpath + ".shape", w.shape);
      detail::check_tensor_size(spec, wpath + ".shape", w.shape, ResourceLimits::format_maximum(),
                                "weight shape");
      if (w.values.size() != element_count(w.shape))
        graph_fail(spec, "nodes[" + std::to_string(i) + "].weights." + wname + ".data",
                   "expected " + std::to_string(element_count(w.shape)) + " values for shape " +
                       to_string(w.shape) + ", found " + std::to_string(w.values.size()));
    }
    NodeCheck check(spec.source, i, node.name, layer_type_name(node.params), in_shapes,
                    node.weights);
    info.node_shapes[i] = std::visit([&](const auto& p) { return check_layer(p, check); },
                                     node.params);
    // Inferred shapes can grow without bound (Dense units, Concatenate,
    // Reshape): checked here, without overflow, before a backend allocates.
    detail::check_tensor_size(spec, "nodes[" + std::to_string(i) + "]", info.node_shapes[i],
                              limits, "output shape");
    info.node_flops[i] = std::visit(
        [&](const auto& p) { return layer_flops(p, in_shapes, info.node_shapes[i]); },
        node.params);
    for (const auto& entry : node.weights) info.parameter_count += entry.second.values.size();
    if (info.parameter_count > limits.max_weight_elements)
      graph_fail(spec, "nodes[" + std::to_string(i) + "].weights",
                 "the model has more than " + std::to_string(limits.max_weight_elements) +
                     " weight elements (ResourceLimits::max_weight_elements)");
  }

  // Outputs, then the subset of nodes they need.
  std::unordered_map<std::string, std::size_t> output_names;
  std::vector<bool> needed(n, false);
  for (std::size_t o = 0; o < spec.outputs.size(); ++o) {
    const OutputSpec& out = spec.outputs[o];
    const std::string path = "outputs[" + std::to_string(o) + "]";
    if (out.name.empty()) graph_fail(spec, path + ".name", "expected a non-empty name");
    if (!output_names.emplace(out.name, o).second)
      graph_fail(spec, path + ".name", "duplicate output name '" + out.name + "'");
    auto it = names.find(out.node);
    if (it == names.end()) graph_fail(spec, path + ".node", "unknown node '" + out.node + "'");
    if (it->second.is_model_input)
      graph_fail(spec, path + ".node",
                 "'" + out.node + "' is a model input, not a node (outputs name nodes)");
    const std::size_t node = it->second.index;
    const Shape& shape = info.node_shapes[node];
    if (out.shape && *out.shape != shape)
      graph_fail(spec, path + ".shape",
                 "expected " + to_string(shape) + " (inferred for node '" + out.node +
                     "'), found " + to_string(*out.shape));
    if (!out.labels.empty())
      detail::check_per_feature(spec, path + ".labels", out.labels.size(), shape.back());
    info.output_nodes.push_back(node);
    needed[node] = true;
  }
  for (auto it = topo.rbegin(); it != topo.rend(); ++it)
    if (needed[*it])
      for (const ValueRef& ref : info.node_inputs[*it])
        if (!ref.is_model_input) needed[ref.index] = true;
  std::size_t activations = 0;
  for (std::size_t i : topo)
    if (needed[i]) {
      info.order.push_back(i);
      info.flops_per_sample += info.node_flops[i];
      activations += element_count(info.node_shapes[i]);  // each <= 2^31: no overflow
      if (activations > limits.max_activation_elements)
        graph_fail(spec, "nodes",
                   "the evaluated nodes produce more than " +
                       std::to_string(limits.max_activation_elements) +
                       " values per sample (ResourceLimits::max_activation_elements)");
    }
  return info;
}
#endif  // !TRIGNET_SEPARATE_LOADER || TRIGNET_LOADER_IMPLEMENTATION

}  // namespace trignet
