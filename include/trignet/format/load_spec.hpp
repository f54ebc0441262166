#pragma once
// Model file (JSON text) -> validated ModelSpec. Every field of format v1 is
// checked here or in analyse(); see docs/format.md.
//
// Compiling the JSON loader (nlohmann::json and the strict validation of every
// layer) costs ~9 s at -O2 in each translation unit that calls it. A program
// can compile it once instead (docs/fast-path.md, "Compile time"): build every
// TU with -DTRIGNET_SEPARATE_LOADER, and one of them with
//   #define TRIGNET_LOADER_IMPLEMENTATION
//   #include <trignet/format/load_spec.hpp>
// The others then see only the two declarations below.

#include <string>

#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"

#if defined(TRIGNET_SEPARATE_LOADER)
namespace trignet {
ModelSpec parse_model_spec(const std::string& text, const std::string& source = "<string>",
                           const ResourceLimits& limits = ResourceLimits(),
                           const std::string& weights_directory = "");
ModelSpec load_model_spec(const std::string& path, const ResourceLimits& limits = ResourceLimits());
}  // namespace trignet
#define TRIGNET_LOADER_FUNCTION
#define TRIGNET_LOADER_DEFAULT(...)
#else
#define TRIGNET_LOADER_FUNCTION inline
#define TRIGNET_LOADER_DEFAULT(...) = __VA_ARGS__
#endif

#if !defined(TRIGNET_SEPARATE_LOADER) || defined(TRIGNET_LOADER_IMPLEMENTATION)

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trignet/config.hpp"
#include "trignet/format/batch_json.hpp"
#include "trignet/format/json_reader.hpp"
#include "trignet/format/parse_layers.hpp"
#include "trignet/format/parse_precision.hpp"
#include "trignet/format/weights_file.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"

namespace trignet {

static_assert(format::max_tensor_elements == std::size_t(1) << 31,
              "ResourceLimits::format_maximum() mirrors format::max_tensor_elements");

namespace format {

inline Preprocessing parse_preprocessing(const JsonReader& j) {
  j.only_keys({"offset", "scale", "nan_replacement"});
  Preprocessing p;
  if (auto o = j.find("offset")) p.offset = o->float_array();
  if (auto s = j.find("scale")) p.scale = s->float_array();
  if (auto n = j.find("nan_replacement")) p.nan_replacement = n->float_array();
  return p;
}

inline InputSpec parse_input(const JsonReader& j) {
  j.only_keys({"name", "shape", "dtype", "variables", "preprocessing"});
  InputSpec in;
  in.name = j.at("name").string();
  in.shape = j.at("shape").shape();
  if (auto d = j.find("dtype")) {
    const std::string dtype = d->string();
    if (dtype == "int32")
      in.dtype = InputType::int32;
    else if (dtype != "float32")
      d->fail("unsupported input dtype \"" + dtype + "\" (expected \"float32\" or \"int32\")");
  }
  if (auto v = j.find("variables")) in.variables = v->string_array();
  if (auto p = j.find("preprocessing")) {
    if (in.dtype == InputType::int32) p->fail("an int32 input cannot have preprocessing");
    in.preprocessing = parse_preprocessing(*p);
  }
  return in;
}

inline OutputSpec parse_output(const JsonReader& j) {
  j.only_keys({"name", "node", "shape", "labels"});
  OutputSpec out;
  out.name = j.at("name").string();
  out.node = j.at("node").string();
  if (auto s = j.find("shape")) out.shape = s->shape();
  if (auto l = j.find("labels")) out.labels = l->string_array();
  return out;
}

/// A weight carries its values as a "data" array or, with a binary weight
/// file, as an element "offset" into it (exactly one of the two).
inline WeightTensor parse_weight(const JsonReader& j, const WeightsFile* file = nullptr) {
  j.only_keys({"shape", "data", "offset"});
  WeightTensor w;
  w.shape = j.at("shape").shape();
  const std::size_t expected = element_count(w.shape);
  if (auto offset = j.find("offset")) {
    if (j.has("data")) j.fail("a weight has either \"data\" or \"offset\", not both");
    w.values = weight_values_from_file(*offset, expected, file);
    return w;
  }
  const JsonReader data = j.at("data");
  if (data.size() != expected)
    data.fail("expected " + std::to_string(expected) + " values for shape " + to_string(w.shape) +
              ", found " + std::to_string(data.size()));
  w.values = data.float_array();
  return w;
}

inline NodeSpec parse_node(const JsonReader& j, const WeightsFile* file = nullptr) {
  j.only_keys({"name", "type", "inputs", "config", "weights", "precision"});
  NodeSpec node;
  node.name = j.at("name").string();
  const JsonReader type = j.at("type");
  const std::string type_name = type.string();
  const auto& parsers = layer_parsers();
  auto parser = parsers.find(type_name);
  if (parser == parsers.end())
    type.fail("unknown layer type \"" + type_name + "\" (node '" + node.name +
              "'; supported: " + supported_layer_types() + ")");
  node.inputs = j.at("inputs").string_array();
  const JsonReader cfg = j.object_or_empty("config");
  node.params = parser->second(cfg);
  node.config_text = cfg.json().dump();
  if (auto weights = j.find("weights")) {
    weights->expect_object();
    for (auto it = weights->json().begin(); it != weights->json().end(); ++it)
      node.weights.emplace(it.key(), parse_weight(weights->at(it.key().c_str()), file));
  }
  // Fixed-point precision (docs/format.md): after the weights, which raw values are checked against.
  if (auto precision = j.find("precision")) {
    node.precision = parse_precision(*precision, node);
    node.precision_text = precision->json().dump();
  }
  return node;
}

/// Test vectors need the inferred output shapes, so they are read after analyse().
inline TestVector parse_test_vector(const JsonReader& j, const ModelSpec& spec,
                                    const GraphInfo& info) {
  j.only_keys({"inputs", "outputs", "tolerance"});
  TestVector tv;
  auto read_group = [&](const JsonReader& group, const std::vector<std::string>& names,
                        const std::vector<Shape>& shapes, std::vector<std::vector<double>>& out) {
    group.expect_object();
    for (auto it = group.json().begin(); it != group.json().end(); ++it) {
      bool known = false;
      for (const std::string& n : names) known = known || n == it.key();
      if (!known) group.at(it.key().c_str()).fail("not a model input or output name");
    }
    out.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      const JsonReader values = group.at(names[i].c_str());
      const std::size_t batch = read_batch(values, shapes[i], out[i]);
      if (tv.batch == 0) tv.batch = batch;
      if (batch != tv.batch)
        values.fail("expected a batch of " + std::to_string(tv.batch) +
                    " samples like the other entries, found " + std::to_string(batch));
    }
  };
  std::vector<std::string> in_names, out_names;
  std::vector<Shape> in_shapes, out_shapes;
  for (const InputSpec& in : spec.inputs) {
    in_names.push_back(in.name);
    in_shapes.push_back(in.shape);
  }
  for (std::size_t o = 0; o < spec.outputs.size(); ++o) {
    out_names.push_back(spec.outputs[o].name);
    out_shapes.push_back(info.node_shapes[info.output_nodes[o]]);
  }
  read_group(j.at("inputs"), in_names, in_shapes, tv.inputs);
  // Inputs are float32 (docs/format.md): round as a caller's float buffer would be.
  for (auto& values : tv.inputs)
    for (double& v : values) v = static_cast<double>(static_cast<float>(v));
  read_group(j.at("outputs"), out_names, out_shapes, tv.outputs);
  if (auto tol = j.find("tolerance")) {
    tol->only_keys({"abs", "rel"});
    if (auto a = tol->find("abs")) tv.abs_tolerance = a->number();
    if (auto r = tol->find("rel")) tv.rel_tolerance = r->number();
    if (tv.abs_tolerance < 0 || tv.rel_tolerance < 0)
      tol->fail("expected non-negative tolerances");
  }
  return tv;
}

}  // namespace format

/// Parses and validates model JSON text. `source` names it in error messages;
/// `limits` bound what the file may declare (FormatError beyond them);
/// `weights_directory` is where a binary "weights_file" is looked up (the
/// model file's directory; empty: the model may not have one).
TRIGNET_LOADER_FUNCTION ModelSpec parse_model_spec(const std::string& text,
                                                   const std::string& source TRIGNET_LOADER_DEFAULT("<string>"),
                                                   const ResourceLimits& limits TRIGNET_LOADER_DEFAULT(ResourceLimits()),
                                                   const std::string& weights_directory TRIGNET_LOADER_DEFAULT("")) {
  if (text.size() > limits.max_file_bytes)
    throw FormatError("trignet: " + source + ": " + std::to_string(text.size()) +
                      " bytes of JSON, more than " + std::to_string(limits.max_file_bytes) +
                      " (ResourceLimits::max_file_bytes)");
  const nlohmann::json doc = format::parse_json_text(text, source);
  const format::JsonReader root(doc, "", source);
  root.expect_object();
  const format::JsonReader fmt = root.at("format");
  if (fmt.string() != "trignet")
    fmt.fail("expected \"trignet\", found " + fmt.describe() + " (not a trignet model file)");
  const format::JsonReader ver = root.at("format_version");
  const long long version = ver.integer();
  if (version > format_version)
    ver.fail("format version " + std::to_string(version) + " is newer than this trignet (" +
             version_string + ") reads (version " + std::to_string(format_version) +
             "): upgrade trignet");
  if (version < 1) ver.fail("expected format version 1, found " + std::to_string(version));
  // Checked after the version, so a newer file gets the upgrade message, not "unknown key".
  root.only_keys({"format", "format_version", "name", "metadata", "inputs", "outputs", "nodes",
                  "test_vectors", "weights_file", "fixed_point"});

  ModelSpec spec;
  spec.source = source;
  spec.name = root.at("name").string();
  if (auto meta = root.find("metadata")) {
    meta->expect_object();
    spec.metadata_json = meta->json().dump();
    for (auto it = meta->json().begin(); it != meta->json().end(); ++it)
      spec.metadata[it.key()] = it.value().is_string() ? it.value().get<std::string>()
                                                       : it.value().dump();
  }
  const format::JsonReader inputs = root.at("inputs");
  for (std::size_t i = 0; i < inputs.size(); ++i) spec.inputs.push_back(format::parse_input(inputs[i]));
  if (auto fp = root.find("fixed_point")) {
    spec.fixed_point = format::parse_fixed_point(*fp, spec.inputs);
    spec.fixed_point_text = fp->json().dump();
  }
  const format::JsonReader outputs = root.at("outputs");
  for (std::size_t i = 0; i < outputs.size(); ++i)
    spec.outputs.push_back(format::parse_output(outputs[i]));
  const format::JsonReader nodes = root.at("nodes");
  if (nodes.size() > limits.max_nodes)
    nodes.fail("the graph has " + std::to_string(nodes.size()) + " nodes, more than " +
               std::to_string(limits.max_nodes) + " (ResourceLimits::max_nodes)");
  std::optional<format::WeightsFile> weights_file;
  if (auto wf = root.find("weights_file"))
    weights_file = format::read_weights_file(*wf, weights_directory, limits);
  std::size_t weight_elements = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    spec.nodes.push_back(format::parse_node(nodes[i], weights_file ? &*weights_file : nullptr));
    for (const auto& entry : spec.nodes.back().weights) weight_elements += entry.second.values.size();
    if (weight_elements > limits.max_weight_elements)
      nodes[i].fail("the model has more than " + std::to_string(limits.max_weight_elements) +
                    " weight elements (ResourceLimits::max_weight_elements)");
  }

  const GraphInfo info = analyse(spec, limits);
  if (auto tvs = root.find("test_vectors"))
    for (std::size_t i = 0; i < tvs->size(); ++i)
      spec.test_vectors.push_back(format::parse_test_vector((*tvs)[i], spec, info));
  return spec;
}

/// Reads and validates a model file.
TRIGNET_LOADER_FUNCTION ModelSpec load_model_spec(const std::string& path,
                                                  const ResourceLimits& limits TRIGNET_LOADER_DEFAULT(ResourceLimits())) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw FormatError("trignet: " + path + ": is a directory, not a model file");
  const std::uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > limits.max_file_bytes)
    throw FormatError("trignet: " + path + ": the file has " + std::to_string(bytes) +
                      " bytes, more than " + std::to_string(limits.max_file_bytes) +
                      " (ResourceLimits::max_file_bytes)");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw FormatError("trignet: " + path + ": cannot open model file");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw FormatError("trignet: " + path + ": error while reading the file");
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  return parse_model_spec(text.str(), path, limits, directory);
}

}  // namespace trignet

#endif  // !TRIGNET_SEPARATE_LOADER || TRIGNET_LOADER_IMPLEMENTATION

#undef TRIGNET_LOADER_FUNCTION
#undef TRIGNET_LOADER_DEFAULT
