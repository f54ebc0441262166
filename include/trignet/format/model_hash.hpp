#pragma once
// The model content hash: SHA-256 over everything that determines what a model
// computes, independent of number spelling, metadata and test vectors.
//
// Byte stream (all integers little-endian uint64, strings as length + UTF-8 bytes,
// float arrays as count + IEEE-754 float32 little-endian bit patterns):
//   "trignet-model-v1"
//   #inputs,  per input:  name, rank, dims..., offset[], scale[], nan_replacement[]
//   #outputs, per output: name, node
//   #nodes,   per node:   name, type, #inputs, input names..., config (compact JSON
//                         with sorted keys, as re-serialised after parsing),
//                         #weights, per weight in name order: name, rank, dims..., values[]
//   then, only if the model has fixed-point precision: "fixed-point", the
//   top-level fixed_point object and every node's precision object (compact
//   JSON with sorted keys, "" where absent)

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "trignet/detail/sha256.hpp"
#include "trignet/model_spec.hpp"

namespace trignet {

namespace detail {

class HashStream {
 public:
  void u64(std::uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    sha_.update(b, 8);
  }
  void str(const std::string& s) {
    u64(s.size());
    sha_.update(s);
  }
  void shape(const Shape& s) {
    u64(s.size());
    for (std::size_t d : s) u64(d);
  }
  void floats(const std::vector<float>& v) {
    u64(v.size());
    for (float f : v) {
      std::uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      const unsigned char b[4] = {static_cast<unsigned char>(bits), static_cast<unsigned char>(bits >> 8),
                                  static_cast<unsigned char>(bits >> 16),
                                  static_cast<unsigned char>(bits >> 24)};
      sha_.update(b, 4);
    }
  }
  std::string hex() { return sha_.finish_hex(); }

 private:
  Sha256 sha_;
};

}  // namespace detail

/// Lower-case hex SHA-256 content hash of a model (see the byte stream above).
inline std::string content_hash(const ModelSpec& spec) {
  detail::HashStream h;
  h.str("trignet-model-v1");
  h.u64(spec.inputs.size());
  for (const InputSpec& in : spec.inputs) {
    h.str(in.name);
    h.shape(in.shape);
    h.floats(in.preprocessing.offset);
    h.floats(in.preprocessing.scale);
    h.floats(in.preprocessing.nan_replacement);
  }
  h.u64(spec.outputs.size());
  for (const OutputSpec& out : spec.outputs) {
    h.str(out.name);
    h.str(out.node);
  }
  h.u64(spec.nodes.size());
  for (const NodeSpec& node : spec.nodes) {
    h.str(node.name);
    h.str(layer_type_name(node.params));
    h.u64(node.inputs.size());
    for (const std::string& in : node.inputs) h.str(in);
    h.str(node.config_text);
    h.u64(node.weights.size());
    for (const auto& [name, w] : node.weights) {
      h.str(name);
      h.shape(w.shape);
      h.floats(w.values);
    }
  }
  // Fixed-point precision changes what the fixed-point engine computes. Only
  // models that have it hash it, so float-only models keep their hashes.
  bool fixed = !spec.fixed_point_text.empty();
  for (const NodeSpec& node : spec.nodes) fixed = fixed || !node.precision_text.empty();
  if (fixed) {
    h.str("fixed-point");
    h.str(spec.fixed_point_text);
    for (const NodeSpec& node : spec.nodes) h.str(node.precision_text);
  }
  return h.hex();
}

}  // namespace trignet
