#pragma once
// Recurrent layers (SimpleRNN, GRU, LSTM) and Reverse: parameters, validation
// and FLOPs (docs/format.md, "Recurrent layers"). Plain data only: no Eigen,
// so every backend can include it.

#include <cstddef>
#include <string>
#include <vector>

#include "trignet/layers/activation.hpp"
#include "trignet/layers/node_check.hpp"

namespace trignet {

enum class RecurrentKind { simple_rnn, gru, lstm };

inline const char* recurrent_type_name(RecurrentKind kind) {
  switch (kind) {
    case RecurrentKind::simple_rnn: return "SimpleRNN";
    case RecurrentKind::gru: return "GRU";
    case RecurrentKind::lstm: return "LSTM";
  }
  return "?";
}

/// Node types "SimpleRNN", "GRU" and "LSTM". Input [T, F], initial state zero.
/// Weights: kernel [F, gates*units], recurrent_kernel [units, gates*units],
/// bias [gates*units] (GRU with reset_after: [2, 3*units], input and
/// recurrent bias). Gate order: GRU z, r, h; LSTM i, f, c, o.
struct RecurrentParams {
  RecurrentKind kind = RecurrentKind::simple_rnn;
  std::size_t units = 0;
  Activation activation{ActivationKind::tanh};
  Activation recurrent_activation{ActivationKind::sigmoid};  // GRU, LSTM
  bool use_bias = true;
  bool return_sequences = false;
  bool go_backwards = false;
  bool reset_after = true;  // GRU only

  std::string type_name() const { return recurrent_type_name(kind); }
  /// Blocks of `units` columns in the kernels: 1, 3 (GRU) or 4 (LSTM).
  std::size_t gates() const {
    return kind == RecurrentKind::simple_rnn ? 1 : kind == RecurrentKind::gru ? 3 : 4;
  }
};

/// Shape of the bias these parameters expect: [g*units], or [2, 3*units] for
/// a GRU with reset_after.
inline Shape recurrent_bias_shape(const RecurrentParams& p) {
  const std::size_t width = p.gates() * p.units;
  if (p.kind == RecurrentKind::gru && p.reset_after) return {2, width};
  return {width};
}

inline Shape check_layer(const RecurrentParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  const Shape& in = node.input(0);
  if (in.size() != 2)
    node.fail("inputs", "expected input 0 of rank 2 [timesteps, features], found shape " +
                            to_string(in));
  if (p.units == 0) node.fail("config.units", "expected a positive integer, found 0");
  if (!p.activation.elementwise())
    node.fail("config.activation",
              "softmax is not element-wise; a recurrent layer needs an element-wise activation");
  if (p.kind != RecurrentKind::simple_rnn && !p.recurrent_activation.elementwise())
    node.fail("config.recurrent_activation",
              "softmax is not element-wise; a recurrent layer needs an element-wise activation");
  node.allow_weights({"kernel", "recurrent_kernel", "bias"});
  const std::size_t width = p.gates() * p.units;
  const std::size_t features = in[1];
  const std::string gates =
      p.kind == RecurrentKind::simple_rnn ? "units"
      : p.kind == RecurrentKind::gru      ? "3*units, gates z, r, h"
                                          : "4*units, gates i, f, c, o";
  node.weight("kernel", {features, width}, true, "input features x " + gates);
  node.weight("recurrent_kernel", {p.units, width}, true, "units x " + gates);
  const Shape bias = recurrent_bias_shape(p);
  std::string bias_meaning = gates;
  if (p.kind == RecurrentKind::gru)
    bias_meaning = p.reset_after ? "input and recurrent bias x 3*units: reset_after is true"
                                 : "3*units: reset_after is false";
  if (p.use_bias) {
    node.weight("bias", bias, true, bias_meaning);
  } else if (node.weight("bias", bias, false, bias_meaning)) {
    node.fail("weights.bias", "unexpected bias: config.use_bias is false");
  }
  if (p.return_sequences) return {in[0], p.units};
  return {p.units};
}

inline double layer_flops(const RecurrentParams& p, const std::vector<Shape>& in, const Shape&) {
  const double steps = static_cast<double>(in[0][0]);
  const double f = static_cast<double>(in[0][1]);
  const double u = static_cast<double>(p.units);
  const double width = static_cast<double>(p.gates()) * u;
  const double act = activation_flops_per_element(p.activation.kind);
  const double rec = activation_flops_per_element(p.recurrent_activation.kind);
  // Matrix products (input and recurrent), then bias and the sum of both products.
  double per_step = 2.0 * f * width + 2.0 * u * width + width;
  if (p.use_bias) per_step += width * (p.kind == RecurrentKind::gru && p.reset_after ? 2.0 : 1.0);
  switch (p.kind) {
    case RecurrentKind::simple_rnn:
      per_step += act * u;
      break;
    case RecurrentKind::gru:  // two gates, candidate (reset product), h' = z h + (1-z) c
      per_step += 2.0 * rec * u + act * u + 2.0 * u + 4.0 * u;
      break;
    case RecurrentKind::lstm:  // three gates, two activations, c' = f c + i g, h' = o act(c')
      per_step += 3.0 * rec * u + 2.0 * act * u + 3.0 * u + u;
      break;
  }
  return steps * per_step;
}

/// Node type "Reverse": reverses the order of the elements along one axis.
struct ReverseParams {
  static constexpr const char* type_name = "Reverse";
  long long axis = 0;
};

inline Shape check_layer(const ReverseParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  node.allow_weights({});
  node.axis("config.axis", p.axis, node.input(0).size());
  return node.input(0);
}

inline double layer_flops(const ReverseParams&, const std::vector<Shape>&, const Shape&) {
  return 0;
}

}  // namespace trignet
