#pragma once
// JSON -> Activation, and the parser signature every layer family uses.

#include <map>
#include <string>

#include "trignet/format/json_reader.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::format {

/// A parser turns a node's config object into its parameters.
using LayerParser = LayerParams (*)(const JsonReader& config);

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

}  // namespace trignet::format
