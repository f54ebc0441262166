#pragma once
// JSON -> parameters for SimpleRNN, GRU, LSTM, Reverse and Embedding
// (docs/format.md, "Recurrent layers" and "Embedding and integer inputs").

#include <map>
#include <string>

#include "trignet/format/json_reader.hpp"
#include "trignet/format/parse_activation.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::format {

namespace detail {

inline RecurrentParams parse_recurrent_common(const JsonReader& c, RecurrentKind kind) {
  RecurrentParams p;
  p.kind = kind;
  p.units = c.at("units").positive_integer();
  if (auto a = c.find("activation")) p.activation = parse_activation(*a);
  if (kind != RecurrentKind::simple_rnn)
    if (auto a = c.find("recurrent_activation")) p.recurrent_activation = parse_activation(*a);
  if (auto b = c.find("use_bias")) p.use_bias = b->boolean();
  if (auto r = c.find("return_sequences")) p.return_sequences = r->boolean();
  if (auto g = c.find("go_backwards")) p.go_backwards = g->boolean();
  return p;
}

}  // namespace detail

inline LayerParams parse_simple_rnn(const JsonReader& c) {
  c.only_keys({"units", "activation", "use_bias", "return_sequences", "go_backwards"});
  return detail::parse_recurrent_common(c, RecurrentKind::simple_rnn);
}

inline LayerParams parse_gru(const JsonReader& c) {
  c.only_keys({"units", "activation", "recurrent_activation", "use_bias", "return_sequences",
               "go_backwards", "reset_after"});
  RecurrentParams p = detail::parse_recurrent_common(c, RecurrentKind::gru);
  if (auto r = c.find("reset_after")) p.reset_after = r->boolean();
  return p;
}

inline LayerParams parse_lstm(const JsonReader& c) {
  c.only_keys({"units", "activation", "recurrent_activation", "use_bias", "return_sequences",
               "go_backwards"});
  return detail::parse_recurrent_common(c, RecurrentKind::lstm);
}

inline LayerParams parse_reverse(const JsonReader& c) {
  c.only_keys({"axis"});
  ReverseParams p;
  if (auto a = c.find("axis")) p.axis = a->integer();
  return p;
}

inline LayerParams parse_embedding(const JsonReader& c) {
  c.only_keys({"input_dim", "output_dim"});
  EmbeddingParams p;
  p.input_dim = c.at("input_dim").positive_integer();
  p.output_dim = c.at("output_dim").positive_integer();
  return p;
}

/// Adds this family's node types to the parser table.
inline void add_recurrent_parsers(std::map<std::string, LayerParser>& parsers) {
  parsers["SimpleRNN"] = parse_simple_rnn;
  parsers["GRU"] = parse_gru;
  parsers["LSTM"] = parse_lstm;
  parsers["Reverse"] = parse_reverse;
  parsers["Embedding"] = parse_embedding;
}

}  // namespace trignet::format

