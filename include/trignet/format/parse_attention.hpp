#pragma once
// JSON -> AttentionParams for "MultiHeadAttention" (docs/format.md, "Attention").

#include <map>
#include <string>

#include "trignet/format/json_reader.hpp"
#include "trignet/format/parse_activation.hpp"  // LayerParser
#include "trignet/model_spec.hpp"

namespace trignet::format {

inline LayerParams parse_multi_head_attention(const JsonReader& c) {
  c.only_keys({"num_heads", "key_dim", "value_dim", "use_bias", "use_mask", "causal"});
  AttentionParams p;
  p.num_heads = c.at("num_heads").positive_integer();
  p.key_dim = c.at("key_dim").positive_integer();
  p.value_dim = p.key_dim;
  if (auto v = c.find("value_dim")) p.value_dim = v->positive_integer();
  if (auto b = c.find("use_bias")) p.use_bias = b->boolean();
  if (auto m = c.find("use_mask")) p.use_mask = m->boolean();
  if (auto k = c.find("causal")) p.causal = k->boolean();
  return p;
}

/// Adds this family's node types to the parser table.
inline void add_attention_parsers(std::map<std::string, LayerParser>& parsers) {
  parsers.emplace("MultiHeadAttention", parse_multi_head_attention);
}

}  // namespace trignet::format
