#pragma once
// JSON -> PrecisionSpec / FixedPointSpec: the fixed-point description of a
// model file (docs/format.md, "Fixed-point precision"). Checked strictly at
// load, whether or not the model is ever run in fixed point.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "trignet/fixed_engine/precision.hpp"
#include "trignet/format/json_reader.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::format {

inline FixedType parse_fixed_type_json(const JsonReader& j) {
  const std::string text = j.string();
  std::string error;
  const std::optional<FixedType> t = parse_fixed_type(text, error);
  if (!t) j.fail("invalid fixed-point type \"" + text + "\": " + error);
  return *t;
}

namespace detail {

inline void precision_only_keys(const JsonReader& j, const std::vector<std::string>& allowed,
                                const std::string& what) {
  j.expect_object();
  for (auto it = j.json().begin(); it != j.json().end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      j.at(it.key().c_str()).fail("unknown key for " + what + " (allowed here: " + list + ")");
    }
}

inline std::size_t parse_table_size(const JsonReader& j) {
  const long long n = j.integer();
  if (n < 2 || n > (1ll << 20) || (n & (n - 1)) != 0)
    j.fail("expected a power of two from 2 to 1048576, found " + std::to_string(n));
  return static_cast<std::size_t>(n);
}

inline const std::vector<std::string>& all_activation_keys() {
  static const std::vector<std::string> keys = {
      "result",    "table_size", "table",          "param",          "slope",    "shift",
      "implementation", "exp_table", "inv_table", "exp_table_size", "inv_table_size",
      "accum",     "inv_input",  "norm_input",     "exp_scale"};
  return keys;
}

/// Keys an activation's precision may have, by kind (docs/format.md).
inline std::vector<std::string> activation_keys(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::linear:
    case ActivationKind::relu:
    case ActivationKind::relu6: return {"result"};
    case ActivationKind::leaky_relu: return {"result", "param"};
    case ActivationKind::hard_sigmoid: return {"result", "slope", "shift"};
    case ActivationKind::sigmoid:
    case ActivationKind::tanh:
    case ActivationKind::softplus:
    case ActivationKind::softsign: return {"result", "table_size", "table"};
    case ActivationKind::softmax:
      return {"result",    "implementation", "table_size", "table",    "exp_table",
              "inv_table", "exp_table_size", "inv_table_size", "accum", "inv_input",
              "norm_input", "exp_scale"};
    default: return all_activation_keys();  // not run in fixed point; checked by the engine
  }
}

/// Reads the keys shared by every precision object (types, table settings).
inline void read_precision_fields(const JsonReader& j, PrecisionSpec& p) {
  p.path = j.path();
  for (auto it = j.json().begin(); it != j.json().end(); ++it) p.keys.push_back(it.key());
  auto type = [&](const char* key, std::optional<FixedType>& out) {
    if (auto v = j.find(key)) out = parse_fixed_type_json(*v);
  };
  type("weight", p.weight);
  type("bias", p.bias);
  type("scale", p.scale);
  type("accum", p.accum);
  type("result", p.result);
  type("table", p.table);
  type("param", p.param);
  type("slope", p.slope);
  type("shift", p.shift);
  type("exp_table", p.exp_table);
  type("inv_table", p.inv_table);
  type("inv_input", p.inv_input);
  type("norm_input", p.norm_input);
  if (auto v = j.find("table_size")) p.table_size = parse_table_size(*v);
  if (auto v = j.find("exp_table_size")) p.exp_table_size = parse_table_size(*v);
  if (auto v = j.find("inv_table_size")) p.inv_table_size = parse_table_size(*v);
  if (auto v = j.find("exp_scale")) p.exp_scale = v->number();
  if (auto v = j.find("implementation")) {
    const std::string s = v->string();
    if (s == "latency")
      p.implementation = SoftmaxImplementation::latency;
    else if (s == "stable")
      p.implementation = SoftmaxImplementation::stable;
    else if (s == "legacy")
      p.implementation = SoftmaxImplementation::legacy;
    else if (s == "argmax")
      p.implementation = SoftmaxImplementation::argmax;
    else
      v->fail("unknown softmax implementation \"" + s +
              "\" (expected \"latency\", \"stable\", \"legacy\" or \"argmax\")");
  }
}

inline void require_keys(const JsonReader& j, std::initializer_list<const char*> keys,
                         const std::string& what) {
  for (const char* k : keys)
    if (!j.has(k)) j.fail("missing required key \"" + std::string(k) + "\" (" + what + ")");
}

inline PrecisionSpec parse_activation_precision(const JsonReader& j, const Activation& a) {
  const std::string what = std::string("the precision of a ") + activation_name(a.kind) + " activation";
  precision_only_keys(j, activation_keys(a.kind), what);
  require_keys(j, {"result"}, what);
  if (a.kind == ActivationKind::leaky_relu) require_keys(j, {"param"}, what);
  PrecisionSpec p;
  read_precision_fields(j, p);
  return p;
}

/// Raw weights: known names, one integer per element, each within its type.
inline void parse_raw_weights(const JsonReader& j, const NodeSpec& node, PrecisionSpec& p,
                              const std::vector<std::string>& names) {
  j.expect_object();
  for (auto it = j.json().begin(); it != j.json().end(); ++it) {
    const JsonReader arr = j.at(it.key().c_str());
    if (std::find(names.begin(), names.end(), it.key()) == names.end()) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      arr.fail("no raw values for \"" + it.key() + "\" in this node (allowed: " + list + ")");
    }
    // The type of each raw tensor and the number of elements it must have.
    const bool bn = std::holds_alternative<BatchNormParams>(node.params);
    const std::optional<FixedType>& type =
        it.key() == "kernel" ? p.weight : (it.key() == "scale" ? p.scale : p.bias);
    std::size_t expected = 0;
    if (bn) {
      auto mean = node.weights.find("moving_mean");
      expected = mean == node.weights.end() ? 0 : mean->second.values.size();
    } else {
      auto w = node.weights.find(it.key());
      if (w == node.weights.end()) arr.fail("the node has no weight \"" + it.key() + "\"");
      expected = w->second.values.size();
    }
    if (!type) arr.fail("raw values need the matching type in this precision object");
    if (arr.size() != expected)
      arr.fail("expected " + std::to_string(expected) + " raw integers, found " +
               std::to_string(arr.size()));
    std::vector<std::int64_t> values;
    values.reserve(expected);
    for (std::size_t i = 0; i < expected; ++i) {
      const long long v = arr[i].integer();
      if (v < type->min_raw() || v > type->max_raw())
        arr[i].fail("raw value " + std::to_string(v) + " outside " + to_string(*type) + " (" +
                    std::to_string(type->min_raw()) + " to " + std::to_string(type->max_raw()) + ")");
      values.push_back(v);
    }
    p.raw[it.key()] = std::move(values);
  }
}

}  // namespace detail

/// A node's `precision` object, checked against its layer type.
inline PrecisionSpec parse_precision(const JsonReader& j, const NodeSpec& node) {
  j.expect_object();
  PrecisionSpec p;
  const std::string type = layer_type_name(node.params);
  const std::string what = "the precision of a " + type + " node";
  const Activation* fused = nullptr;
  bool use_bias = true;
  std::vector<std::string> allowed;
  std::vector<std::string> raw_names;
  if (auto* d = std::get_if<DenseParams>(&node.params)) {
    fused = &d->activation;
    use_bias = d->use_bias;
  } else if (auto* c = std::get_if<ConvParams>(&node.params); c && c->kind == ConvKind::conv) {
    fused = &c->activation;
    use_bias = c->use_bias;
  }
  if (fused) {
    allowed = {"weight", "bias", "accum", "result", "activation", "raw"};
    raw_names = {"kernel", "bias"};
    detail::precision_only_keys(j, allowed, what);
    detail::require_keys(j, {"weight", "accum", "result"}, what);
    if (use_bias) detail::require_keys(j, {"bias"}, what + " with a bias");
    if (!use_bias && j.has("bias")) j.at("bias").fail("the node has no bias (use_bias is false)");
    const bool linear = fused->kind == ActivationKind::linear;
    if (!linear && !j.has("activation"))
      j.fail("missing required key \"activation\" (the precision of the fused " +
             std::string(activation_name(fused->kind)) + " activation)");
    if (linear && j.has("activation"))
      j.at("activation").fail("the node's activation is linear: no activation precision");
  } else if (auto* a = std::get_if<ActivationParams>(&node.params)) {
    p = detail::parse_activation_precision(j, a->activation);
    return p;
  } else if (std::holds_alternative<BatchNormParams>(node.params)) {
    allowed = {"scale", "bias", "result", "raw"};
    raw_names = {"scale", "bias"};
    detail::precision_only_keys(j, allowed, what);
    detail::require_keys(j, {"scale", "bias", "result"}, what);
  } else if (std::holds_alternative<PoolParams>(node.params) ||
             std::holds_alternative<GlobalPoolParams>(node.params)) {
    allowed = {"accum", "result"};
    detail::precision_only_keys(j, allowed, what);
    detail::require_keys(j, {"accum", "result"}, what);
  } else if (std::holds_alternative<MergeParams>(node.params) ||
             std::holds_alternative<ConcatenateParams>(node.params)) {
    allowed = {"result"};
    detail::precision_only_keys(j, allowed, what);
    detail::require_keys(j, {"result"}, what);
  } else if (std::holds_alternative<FlattenParams>(node.params) ||
             std::holds_alternative<ReshapeParams>(node.params) ||
             std::holds_alternative<PermuteParams>(node.params) ||
             std::holds_alternative<DropoutParams>(node.params) ||
             std::holds_alternative<SpatialPadParams>(node.params) ||
             std::holds_alternative<UpSamplingParams>(node.params)) {
    allowed = {"result"};
    detail::precision_only_keys(j, allowed, what);
  } else {
    // Layers the fixed-point engine does not run: the general keys, so the file
    // still loads in float; load_fixed_model refuses the node.
    allowed = {"weight", "bias", "scale", "accum", "result", "activation", "raw"};
    detail::precision_only_keys(j, allowed, what);
  }
  detail::read_precision_fields(j, p);
  if (auto act = j.find("activation")) {
    act->expect_object();
    p.activation.push_back(fused ? detail::parse_activation_precision(*act, *fused) : [&] {
      detail::precision_only_keys(*act, detail::all_activation_keys(), "an activation precision");
      PrecisionSpec inner;
      detail::read_precision_fields(*act, inner);
      return inner;
    }());
  }
  if (auto raw = j.find("raw")) {
    if (raw_names.empty()) raw_names = {"kernel", "bias"};
    detail::parse_raw_weights(*raw, node, p, raw_names);
  }
  return p;
}

/// The top-level `fixed_point` object: every model input, and nothing else.
inline FixedPointSpec parse_fixed_point(const JsonReader& j, const std::vector<InputSpec>& inputs) {
  j.only_keys({"inputs"});
  const JsonReader in = j.at("inputs");
  in.expect_object();
  for (auto it = in.json().begin(); it != in.json().end(); ++it) {
    bool known = false;
    for (const InputSpec& s : inputs) known = known || s.name == it.key();
    if (!known) in.at(it.key().c_str()).fail("not a model input name");
  }
  FixedPointSpec fp;
  for (const InputSpec& s : inputs) {
    const std::optional<JsonReader> e = in.find(s.name.c_str());
    if (!e) in.fail("missing the type of model input '" + s.name + "' (every input needs one)");
    e->only_keys({"type", "offset", "shift"});
    FixedInputSpec f;
    f.type = parse_fixed_type_json(e->at("type"));
    if (auto o = e->find("offset")) f.offset = o->number();
    if (auto sh = e->find("shift")) {
      const long long v = sh->integer();
      if (v < -64 || v > 64) sh->fail("expected a shift from -64 to 64, found " + std::to_string(v));
      f.shift = static_cast<int>(v);
    }
    fp.inputs.push_back(f);
  }
  return fp;
}

}  // namespace trignet::format
