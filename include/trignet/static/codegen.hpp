#pragma once
// `trignet codegen`: writes a C++ header with the static_model type of a model
// (and optionally its weights as constexpr arrays). The generator lives in the
// library so that tests and tools share it; the CLI only reads and writes files.

#include <cstdio>
#include <string>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/format/model_hash.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/static/chain.hpp"
#include "trignet/static/layers.hpp"

namespace trignet {

struct CodegenOptions {
  std::string namespace_name;       // required; "a::b" allowed
  std::string type_name = "Model";  // the static_model alias
  bool embed_weights = false;       // weights as constexpr arrays plus make()
};

namespace detail {

inline bool is_identifier(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

inline bool is_namespace_name(const std::string& s) {
  std::size_t start = 0;
  while (true) {
    const std::size_t sep = s.find("::", start);
    if (!is_identifier(s.substr(start, sep == std::string::npos ? std::string::npos : sep - start))) return false;
    if (sep == std::string::npos) return true;
    start = sep + 2;
  }
}

/// Exact float literal (hexadecimal: round-trips every bit).
inline std::string float_literal(float v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%af", static_cast<double>(v));
  return buf;
}

inline std::string double_literal(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

inline void append_array(std::string& out, const std::string& name, const std::vector<float>& values) {
  out += "inline constexpr float " + name + "[" + std::to_string(values.size()) + "] = {";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += (i % 6 == 0) ? "\n    " : " ";
    out += float_literal(values[i]) + (i + 1 < values.size() ? "," : "");
  }
  out += "};\n";
}

inline std::string activation_literal(const Activation& a) {
  return std::string("trignet::Activation{trignet::ActivationKind::") + activation_name(a.kind) + ", " +
         double_literal(a.alpha) + ", " + double_literal(a.slope) + ", " + double_literal(a.offset) + ", " +
         (a.approximate ? "true" : "false") + ", " + std::to_string(a.axis) + "}";
}

}  // namespace detail

/// The header text for `spec`; throws UnsupportedError naming the node and the
/// reason when a compile-time network cannot express the model.
inline std::string generate_static_header(const ModelSpec& spec, const CodegenOptions& options) {
  const std::string prefix = detail::static_prefix(spec, "codegen");
  if (!detail::is_namespace_name(options.namespace_name))
    throw Error(prefix + " --namespace '" + options.namespace_name + "' is not a C++ namespace name");
  if (!detail::is_identifier(options.type_name))
    throw Error(prefix + " --name '" + options.type_name + "' is not a C++ identifier");
  const GraphInfo graph = analyse(spec);
  const std::vector<std::size_t> chain = detail::static_chain(spec, graph, "codegen");

  std::vector<std::string> types;
  std::string arrays, layer_data;
  Shape shape = spec.inputs[0].shape;
  for (std::size_t k = 0; k < chain.size(); ++k) {
    const NodeSpec& node = spec.nodes[chain[k]];
    const std::size_t features = shape.back();
    const std::string n = std::to_string(features);
    const auto* rnn = std::get_if<RecurrentParams>(&node.params);
    const bool is_gru = rnn && rnn->kind == RecurrentKind::gru;
    const bool supported = is_gru || std::holds_alternative<DenseParams>(node.params) ||
                           std::holds_alternative<BatchNormParams>(node.params) ||
                           std::holds_alternative<ActivationParams>(node.params);
    if (!supported)
      throw UnsupportedError(prefix + " " + detail::node_label(spec, chain[k]) + " is " +
                             layer_type_name(node.params) +
                             ", which a compile-time network cannot express (supported: Dense, "
                             "BatchNormalization, Activation, GRU)");
    if (is_gru ? shape.size() != 2 : shape.size() != 1)
      throw UnsupportedError(prefix + " " + detail::node_label(spec, chain[k]) + " (" + layer_type_name(node.params) +
                             ") has input shape " + to_string(shape) +
                             "; a compile-time network applies it to rank-" + (is_gru ? "2" : "1") + " inputs only");
    const std::string tag = "layer" + std::to_string(k);
    std::string a = "nullptr", b = "nullptr", act = "trignet::Activation{}";
    std::string recurrent = "nullptr, trignet::Activation{}";  // GRU only
    if (const auto* d = std::get_if<DenseParams>(&node.params)) {
      types.push_back("trignet::dense<" + n + ", " + std::to_string(d->units) + ", trignet::act::" +
                      activation_name(d->activation.kind) + (d->use_bias ? "" : ", false") + ">");
      if (options.embed_weights) {
        detail::append_array(arrays, tag + "_kernel", node.weights.at("kernel").values);
        a = tag + "_kernel";
        if (d->use_bias) {
          detail::append_array(arrays, tag + "_bias", node.weights.at("bias").values);
          b = tag + "_bias";
        }
      }
      act = detail::activation_literal(d->activation);
      shape = {d->units};
    } else if (is_gru) {
      if (rnn->return_sequences)
        throw UnsupportedError(prefix + " " + detail::node_label(spec, chain[k]) +
                               " is a GRU with return_sequences; a compile-time network supports the last state only");
      auto flag = [](bool on) { return on ? "true" : "false"; };
      types.push_back("trignet::gru<" + std::to_string(shape[0]) + ", " + n + ", " + std::to_string(rnn->units) +
                      ", trignet::act::" + activation_name(rnn->activation.kind) + ", trignet::act::" +
                      activation_name(rnn->recurrent_activation.kind) + ", " + flag(rnn->reset_after) + ", " +
                      flag(rnn->use_bias) + ", " + flag(rnn->go_backwards) + ">");
      std::string c = "nullptr";
      if (options.embed_weights) {
        detail::append_array(arrays, tag + "_kernel", node.weights.at("kernel").values);
        detail::append_array(arrays, tag + "_recurrent_kernel", node.weights.at("recurrent_kernel").values);
        a = tag + "_kernel";
        c = tag + "_recurrent_kernel";
        if (rnn->use_bias) {
          detail::append_array(arrays, tag + "_bias", node.weights.at("bias").values);
          b = tag + "_bias";
        }
      }
      act = detail::activation_literal(rnn->activation);
      recurrent = c + ", " + detail::activation_literal(rnn->recurrent_activation);
      shape = {rnn->units};
    } else if (std::holds_alternative<BatchNormParams>(node.params)) {
      types.push_back("trignet::batch_norm<" + n + ">");
      if (options.embed_weights) {
        std::vector<float> scale, shift;
        detail::fold_batch_norm(node, features, scale, shift);
        detail::append_array(arrays, tag + "_scale", scale);
        detail::append_array(arrays, tag + "_shift", shift);
        a = tag + "_scale";
        b = tag + "_shift";
      }
    } else if (const auto* p = std::get_if<ActivationParams>(&node.params)) {
      types.push_back("trignet::activation<" + n + ", trignet::act::" + activation_name(p->activation.kind) + ">");
      act = detail::activation_literal(p->activation);
    } else {
      throw UnsupportedError(prefix + " " + detail::node_label(spec, chain[k]) + " is " +
                             layer_type_name(node.params) +
                             ", which a compile-time network cannot express (supported: Dense, "
                             "BatchNormalization, Activation, GRU)");
    }
    layer_data += "      trignet::static_layer_data{" + a + ", " + b + ", " + act + ", " + recurrent + "},\n";
  }

  const std::string& name = options.type_name;
  std::string h;
  h += "// Generated by `trignet codegen` from " + spec.source + "\n";
  h += "// (model \"" + spec.name + "\", content hash " + content_hash(spec) + ").\n";
  h += "// Do not edit: regenerate from the model file.\n#pragma once\n\n#include <string>\n\n";
  h += "#include <trignet/static_model.hpp>\n\nnamespace " + options.namespace_name + " {\n\n";
  h += "using " + name + " = trignet::static_model<float";
  for (const std::string& t : types) h += ",\n    " + t;
  h += ">;\n\n";
  h += "/// SHA-256 content hash of the model the type was generated from.\n";
  h += "inline constexpr const char " + name + "_content_hash[] = \"" + content_hash(spec) + "\";\n\n";
  h += "/// Loads the weights from a model file, checked against the type.\n";
  h += "inline " + name + " load(const std::string& path) { return " + name + "::load(path); }\n";
  if (options.embed_weights) {
    const Preprocessing& pre = spec.inputs[0].preprocessing;
    h += "\nnamespace " + name + "_weights {\n";
    if (!pre.offset.empty()) detail::append_array(h, "input_offset", pre.offset);
    if (!pre.scale.empty()) detail::append_array(h, "input_scale", pre.scale);
    if (!pre.nan_replacement.empty()) detail::append_array(h, "input_nan_replacement", pre.nan_replacement);
    h += arrays;
    h += "}  // namespace " + name + "_weights\n\n";
    h += "/// The model with its weights compiled in: reads no file.\n";
    h += "inline " + name + " make() {\n  using namespace " + name + "_weights;\n";
    h += "  trignet::static_input_data input;\n";
    if (!pre.offset.empty()) h += "  input.offset = input_offset;\n";
    if (!pre.scale.empty()) h += "  input.scale = input_scale;\n";
    if (!pre.nan_replacement.empty()) h += "  input.nan_replacement = input_nan_replacement;\n";
    h += "  return " + name + "::from_data(input, {{\n" + layer_data + "  }});\n}\n";
  }
  h += "\n}  // namespace " + options.namespace_name + "\n";
  return h;
}

}  // namespace trignet
