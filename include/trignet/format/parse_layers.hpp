#pragma once
// JSON -> LayerParams: one parse function per layer type, found by name.
// Adding a layer means adding one entry to layer_parsers().

#include <functional>
#include <map>
#include <string>

#include "trignet/format/json_reader.hpp"
#include "trignet/format/parse_activation.hpp"
#include "trignet/format/parse_attention.hpp"
#include "trignet/format/parse_conv.hpp"
#include "trignet/format/parse_recurrent.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::format {

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

/// Node type name -> parser. The single place where a layer type becomes known.
inline const std::map<std::string, LayerParser>& layer_parsers() {
  static const std::map<std::string, LayerParser> parsers = [] {
    std::map<std::string, LayerParser> table = {
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
    // Families with their own parse header (format/parse_<family>.hpp).
    add_conv_parsers(table);
    add_recurrent_parsers(table);
    add_attention_parsers(table);
    return table;
  }();
  return parsers;
}

/// "Activation, Add, ...": the list printed when a type is unknown.
inline std::string supported_layer_types() {
  std::string list;
  for (const auto& entry : layer_parsers()) list += (list.empty() ? "" : ", ") + entry.first;
  return list;
}

}  // namespace trignet::format
