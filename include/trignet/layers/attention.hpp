#pragma once
// MultiHeadAttention: parameters, validation and FLOPs (docs/format.md, "Attention").
// Plain C++ only (no Eigen): backends other than the CPU one include this header.

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "trignet/error.hpp"

#include "trignet/layers/node_check.hpp"

namespace trignet {

/// Node type "MultiHeadAttention" (Keras layout of the weights).
/// Inputs: [query, value], [query, value, key], plus a last input `mask
/// [T_q, T_v]` when use_mask (0 = masked, any other value = attend).
/// Weights: query_kernel [D_q, H, key_dim], key_kernel [D_k, H, key_dim],
/// value_kernel [D_v, H, value_dim], output_kernel [H, value_dim, D_out], and
/// with use_bias query_bias [H, key_dim], key_bias [H, key_dim],
/// value_bias [H, value_dim], output_bias [D_out]. Output [T_q, D_out].
struct AttentionParams {
  static constexpr const char* type_name = "MultiHeadAttention";
  std::size_t num_heads = 0;
  std::size_t key_dim = 0;
  std::size_t value_dim = 0;  // 0 in a hand-built spec means "same as key_dim"
  bool use_bias = true;
  bool use_mask = false;
  bool causal = false;

  std::size_t value_depth() const { return value_dim ? value_dim : key_dim; }
};

/// The resolved geometry of one MultiHeadAttention node (shared by check_layer,
/// layer_flops and the backends).
struct AttentionDims {
  std::size_t t_q = 0, t_v = 0;             // query and key/value sequence lengths
  std::size_t d_q = 0, d_k = 0, d_v = 0;    // feature sizes of query, key, value
  std::size_t heads = 0, key_dim = 0, value_dim = 0;
  std::size_t d_out = 0;
  bool has_key = false;  // a separate key input (else key = value)
};

/// Geometry from already validated input shapes and the output shape.
inline AttentionDims attention_dims(const AttentionParams& p, const std::vector<Shape>& in,
                                    const Shape& out) {
  AttentionDims d;
  const std::size_t data_inputs = in.size() - (p.use_mask ? 1 : 0);
  d.has_key = data_inputs == 3;
  d.t_q = in[0][0];
  d.d_q = in[0][1];
  d.t_v = in[1][0];
  d.d_v = in[1][1];
  d.d_k = d.has_key ? in[2][1] : d.d_v;
  d.heads = p.num_heads;
  d.key_dim = p.key_dim;
  d.value_dim = p.value_depth();
  d.d_out = out.back();
  return d;
}

namespace detail {

/// The shape of a node's weight, empty if the node has none of that name.
/// MultiHeadAttention is the one layer whose output size comes from a weight's
/// shape (output_kernel [H, value_dim, D_out]).
inline Shape attention_weight_shape(const NodeCheck& node, const std::string& name) {
  const WeightTensor* w = node.find_weight(name);
  return w ? w->shape : Shape{};
}

}  // namespace detail

inline Shape check_layer(const AttentionParams& p, const NodeCheck& node) {
  if (p.num_heads == 0) node.fail("config.num_heads", "expected a positive integer, found 0");
  if (p.key_dim == 0) node.fail("config.key_dim", "expected a positive integer, found 0");
  const std::size_t n = node.input_count();
  const std::size_t extra = p.use_mask ? 1 : 0;
  if (n != 2 + extra && n != 3 + extra)
    node.fail("inputs", p.use_mask
                            ? "expected 3 or 4 inputs ([query, value, mask] or [query, value, key, "
                              "mask]; config.use_mask is true), found " + std::to_string(n)
                            : "expected 2 or 3 inputs ([query, value] or [query, value, key]; "
                              "a mask input needs config.use_mask), found " + std::to_string(n));
  const bool has_key = n - extra == 3;
  const char* roles[] = {"query", "value", "key"};
  const char* dims[] = {"[T_q, D_q]", "[T_v, D_v]", "[T_v, D_k]"};
  for (std::size_t i = 0; i < n - extra; ++i)
    if (node.input(i).size() != 2)
      node.fail("inputs[" + std::to_string(i) + "]",
                std::string("expected ") + roles[i] + " of rank 2 " + dims[i] + ", found shape " +
                    to_string(node.input(i)));
  const std::size_t t_q = node.input(0)[0], d_q = node.input(0)[1];
  const std::size_t t_v = node.input(1)[0], d_v = node.input(1)[1];
  const std::size_t d_k = has_key ? node.input(2)[1] : d_v;
  if (has_key && node.input(2)[0] != t_v)
    node.fail("inputs[2]", "expected key with as many positions as value (" +
                               std::to_string(t_v) + "), found shape " + to_string(node.input(2)));
  if (p.use_mask) {
    const Shape expected{t_q, t_v};
    if (node.input(n - 1) != expected)
      node.fail("inputs[" + std::to_string(n - 1) + "]",
                "expected mask of shape [T_q, T_v] = " + to_string(expected) + ", found shape " +
                    to_string(node.input(n - 1)));
  }
  if (p.causal && t_q != t_v)
    node.fail("config.causal",
              "causal attention needs as many query as key/value positions, found T_q = " +
                  std::to_string(t_q) + " and T_v = " + std::to_string(t_v));

  const std::size_t h = p.num_heads, k = p.key_dim, vd = p.value_depth();
  node.allow_weights({"query_kernel", "key_kernel", "value_kernel", "output_kernel",
                      "query_bias", "key_bias", "value_bias", "output_bias"});
  node.weight("query_kernel", {d_q, h, k}, true, "query features x heads x key_dim");
  node.weight("key_kernel", {d_k, h, k}, true, "key features x heads x key_dim");
  node.weight("value_kernel", {d_v, h, vd}, true, "value features x heads x value_dim");
  const Shape wo = detail::attention_weight_shape(node, "output_kernel");
  const std::string wo_pattern =
      "[" + std::to_string(h) + ", " + std::to_string(vd) + ", D_out]";
  if (wo.empty())
    node.fail("weights.output_kernel", "missing weight, expected shape " + wo_pattern +
                                           " (heads x value_dim x output features)");
  if (wo.size() != 3 || wo[0] != h || wo[1] != vd || wo[2] == 0)
    node.fail("weights.output_kernel.shape", "expected " + wo_pattern +
                                                 " (heads x value_dim x output features), found " +
                                                 to_string(wo));
  const std::size_t d_out = wo[2];
  if (p.use_bias) {
    node.weight("query_bias", {h, k}, true, "heads x key_dim");
    node.weight("key_bias", {h, k}, true, "heads x key_dim");
    node.weight("value_bias", {h, vd}, true, "heads x value_dim");
    node.weight("output_bias", {d_out}, true, "output features");
  } else {
    for (const char* b : {"query_bias", "key_bias", "value_bias", "output_bias"}) {
      if (!detail::attention_weight_shape(node, b).empty())
        node.fail(std::string("weights.") + b, "unexpected bias: config.use_bias is false");
    }
  }
  return {t_q, d_out};
}

inline double layer_flops(const AttentionParams& p, const std::vector<Shape>& in,
                          const Shape& out) {
  const AttentionDims d = attention_dims(p, in, out);
  auto f = [](std::size_t x) { return static_cast<double>(x); };
  const double hk = f(d.heads * d.key_dim), hv = f(d.heads * d.value_dim);
  const double bias = p.use_bias ? 1.0 : 0.0;
  const double projections = f(d.t_q) * (2.0 * f(d.d_q) + bias) * hk +
                             f(d.t_v) * (2.0 * f(d.d_k) + bias) * hk +
                             f(d.t_v) * (2.0 * f(d.d_v) + bias) * hv;
  const double pairs = f(d.heads) * f(d.t_q) * f(d.t_v);
  const double scores = pairs * 2.0 * f(d.key_dim);
  const double softmax = pairs * 5.0;  // max, subtract, exp, sum, scale
  const double context = pairs * 2.0 * f(d.value_dim);
  const double output = f(d.t_q) * (2.0 * hv + bias) * f(d.d_out);
  return projections + scores + softmax + context + output;
}

}  // namespace trignet
