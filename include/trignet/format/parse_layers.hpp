#pragma once
// JSON -> LayerParams: one parse function per layer type, found by name.
// Adding a layer means adding one entry to layer_parsers().

#include <functional>
#include <map>
#include <string>

#include "trignet/format/json_reader.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::format {

/// An activation: a name, or an object with a name and its parameters.
inline Activation parse_activation(const JsonReader& j) {
  const bool is_object = j.json().is_object();
  if (!is_object && !j.json().is_string())
    j.fail("expected an activation name or an object with \"name\", found " + j.describe());
  const std::string name = is_object ? j.at("name").string() : j.string();
  auto param = [&](const char* key) { return is_object ? j.find(key) : std::nullopt; };
  Activation a;
  static const std::map<std::string, ActivationKind> kinds = {
      {"linear", ActivationKind::linear},       {"relu", ActivationKind::relu},
      {"relu6", ActivationKind::relu6},         {"leaky_relu", ActivationKind::leaky_relu},
      {"elu", ActivationKind::elu},             {"selu", ActivationKind::selu},
      {"gelu", ActivationKind::gelu},           {"sigmoid", ActivationKind::sigmoid},
      {"hard_sigmoid", ActivationKind::hard_sigmoid}, {"tanh", ActivationKind::tanh},
      {"softmax", ActivationKind::softmax},     {"softplus", ActivationKind::softplus},
      {"softsign", ActivationKind::softsign},   {"silu", ActivationKind::silu},
      {"swish", ActivationKind::silu},          {"exponential", ActivationKind::exponential},
  };
  auto it = kinds.find(name);
  if (it == kinds.end()) {
    std::string list;
    for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k.first;
    (is_object ? j.at("name") : j).fail("unknown activation \"" + name + "\" (supported: " + list + ")");
  }
  a.kind = it->second;
  switch (a.kind) {
    case ActivationKind::leaky_relu:
      if (is_object) j.only_keys({"name", "alpha"});
      if (!param("alpha"))
        j.fail("leaky_relu needs \"alpha\" (Keras and PyTorch defaults differ): write "
               "{\"name\": \"leaky_relu\", \"alpha\": ...}");
      a.alpha = param("alpha")->number();
      break;
    case ActivationKind::elu:
      if (is_object) j.only_keys({"name", "alpha"});
      a.alpha = param("alpha") ? param("alpha")->number() : 1.0;
      break;
    case ActivationKind::gelu:
      if (is_object) j.only_keys({"name", "approximate"});
      a.approximate = param("approximate") ? param("approximate")->boolean() : false;
      break;
    case ActivationKind::hard_sigmoid:
      if (is_object) j.only_keys({"name", "slope", "offset"});
      if (!param("slope") || !param("offset"))
        j.fail("hard_sigmoid needs \"slope\" and \"offset\" (Keras 2: 0.2, 0.5; Keras 3 and "
               "PyTorch: 1/6, 0.5)");
      a.slope = param("slope")->number();
      a.offset = param("offset")->number();
      break;
    case ActivationKind::softmax:
      if (is_object) j.only_keys({"name", "axis"});
      a.axis = param("axis") ? param("axis")->integer() : -1;
      break;
    default:
      if (is_object) j.only_keys({"name"});
  }
  return a;
}

/// Integer or array of integers (LayerNormalization's axis).
inline std::vector<long long> parse_axes(const JsonReader& j) {
  if (j.json().is_array()) return j.integer_array();
  return {j.integer()};
}

inline LayerParams parse_dense(const JsonReader& c) {
  c.only_keys({"units", "activation", "use_bias"});
  DenseParams p;
  p.units = c.at("units").positive_integer();
  if (auto a = c.find("activation")) p.activation = parse_activation(*a);
  if (auto b = c.find("use_bias")) p.use_bias = b->boolean();
  return p;
}

inline LayerParams parse_activation_layer(const JsonReader& c) {
  c.only_keys({"activation"});
  return ActivationParams{parse_activation(c.at("activation"))};
}

inline LayerParams parse_batch_norm(const JsonReader& c) {
  c.only_keys({"axis", "epsilon"});
  BatchNormParams p;
  if (auto a = c.find("axis")) p.axis = a->integer();
  p.epsilon = c.at("epsilon").number();
  return p;
}

inline LayerParams parse_layer_norm(const JsonReader& c) {
  c.only_keys({"axis", "epsilon"});
  LayerNormParams p;
  if (auto a = c.find("axis")) p.axes = parse_axes(*a);
  p.epsilon = c.at("epsilon").number();
  return p;
}

inline LayerParams parse_flatten(const JsonReader& c) {
  c.only_keys({});
  return FlattenParams{};
}

inline LayerParams parse_reshape(const JsonReader& c) {
  c.only_keys({"shape"});
  return ReshapeParams{c.at("shape").integer_array()};
}

inline LayerParams parse_permute(const JsonReader& c) {
  c.only_keys({"dims"});
  PermuteParams p;
  const JsonReader dims = c.at("dims");
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const long long d = dims[i].integer();
    if (d < 0) dims[i].fail("expected a non-negative axis, found " + std::to_string(d));
    p.dims.push_back(static_cast<std::size_t>(d));
  }
  return p;
}

inline LayerParams parse_dropout(const JsonReader& c) {
  c.only_keys({"rate"});
  if (auto r = c.find("rate")) r->number();
  return DropoutParams{};
}

inline LayerParams parse_concatenate(const JsonReader& c) {
  c.only_keys({"axis"});
  ConcatenateParams p;
  if (auto a = c.find("axis")) p.axis = a->integer();
  return p;
}

template <MergeOp op>
LayerParams parse_merge(const JsonReader& c) {
  c.only_keys({});
  return MergeParams{op};
}

using LayerParser = LayerParams (*)(const JsonReader& config);

/// Node type name -> parser. The single place where a layer type becomes known.
inline const std::map<std::string, LayerParser>& layer_parsers() {
  static const std::map<std::string, LayerParser> parsers = {
      {"Dense", parse_dense},
      {"Activation", parse_activation_layer},
      {"BatchNormalization", parse_batch_norm},
      {"LayerNormalization", parse_layer_norm},
      {"Flatten", parse_flatten},
      {"Reshape", parse_reshape},
      {"Permute", parse_permute},
      {"Dropout", parse_dropout},
      {"Concatenate", parse_concatenate},
      {"Add", parse_merge<MergeOp::add>},
      {"Subtract", parse_merge<MergeOp::subtract>},
      {"Multiply", parse_merge<MergeOp::multiply>},
      {"Average", parse_merge<MergeOp::average>},
      {"Maximum", parse_merge<MergeOp::maximum>},
      {"Minimum", parse_merge<MergeOp::minimum>},
  };
  return parsers;
}

/// "Activation, Add, ...": the list printed when a type is unknown.
inline std::string supported_layer_types() {
  std::string list;
  for (const auto& entry : layer_parsers()) list += (list.empty() ? "" : ", ") + entry.first;
  return list;
}

}  // namespace trignet::format
