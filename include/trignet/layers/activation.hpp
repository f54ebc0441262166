#pragma once
// Activation functions: their parameters (plain data) and the scalar maths,
// written once as host/device functions so every backend and the tests share them.

#include <cmath>
#include <string>

#include "trignet/config.hpp"

namespace trignet {

enum class ActivationKind {
  linear,
  relu,
  relu6,
  leaky_relu,
  elu,
  selu,
  gelu,
  sigmoid,
  hard_sigmoid,
  tanh,
  softmax,
  softplus,
  softsign,
  silu,
  exponential,
};

/// An activation and its parameters. Only the fields of `kind` are meaningful.
struct Activation {
  ActivationKind kind = ActivationKind::linear;
  double alpha = 0.0;         // leaky_relu, elu
  double slope = 0.0;         // hard_sigmoid
  double offset = 0.0;        // hard_sigmoid
  bool approximate = false;   // gelu: tanh approximation
  long long axis = -1;        // softmax

  /// True for every kind but softmax, which couples the elements of an axis.
  bool elementwise() const { return kind != ActivationKind::softmax; }
};

inline const char* activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::linear: return "linear";
    case ActivationKind::relu: return "relu";
    case ActivationKind::relu6: return "relu6";
    case ActivationKind::leaky_relu: return "leaky_relu";
    case ActivationKind::elu: return "elu";
    case ActivationKind::selu: return "selu";
    case ActivationKind::gelu: return "gelu";
    case ActivationKind::sigmoid: return "sigmoid";
    case ActivationKind::hard_sigmoid: return "hard_sigmoid";
    case ActivationKind::tanh: return "tanh";
    case ActivationKind::softmax: return "softmax";
    case ActivationKind::softplus: return "softplus";
    case ActivationKind::softsign: return "softsign";
    case ActivationKind::silu: return "silu";
    case ActivationKind::exponential: return "exponential";
  }
  return "?";
}

inline constexpr double selu_alpha = 1.6732632423543772848170429916717;
inline constexpr double selu_scale = 1.0507009873554804934193349852946;

/// Parameters of an element-wise activation converted once to the scalar type,
/// so the per-element code does no double arithmetic.
template <typename T>
struct ElementwiseActivation {
  ActivationKind kind = ActivationKind::linear;
  T alpha{};
  T slope{};
  T offset{};
  bool approximate = false;

  ElementwiseActivation() = default;
  explicit ElementwiseActivation(const Activation& a)
      : kind(a.kind),
        alpha(static_cast<T>(a.alpha)),
        slope(static_cast<T>(a.slope)),
        offset(static_cast<T>(a.offset)),
        approximate(a.approximate) {}
};

/// Numerically safe logistic function: never evaluates exp of a large positive number.
template <typename T>
TRIGNET_HOST_DEVICE inline T sigmoid(T x) {
  using std::exp;
  if (x >= T(0)) return T(1) / (T(1) + exp(-x));
  const T e = exp(x);
  return e / (T(1) + e);
}

/// log(1 + exp(x)) without overflow for large x or loss of precision for very negative x.
template <typename T>
TRIGNET_HOST_DEVICE inline T softplus(T x) {
  using std::exp;
  using std::log1p;
  return x > T(0) ? x + log1p(exp(-x)) : log1p(exp(x));
}

/// One element through an element-wise activation (softmax is handled by the
/// caller). At +/-inf, where a formula would compute inf * 0 or inf / inf, the
/// mathematical limit is returned: softsign(+/-inf) = +/-1, gelu(-inf) = silu(-inf) = 0.
template <typename T>
TRIGNET_HOST_DEVICE inline T apply_activation(const ElementwiseActivation<T>& a, T x) {
  using std::erf;
  using std::exp;
  using std::expm1;
  using std::fabs;
  using std::isinf;
  using std::sqrt;
  using std::tanh;
  if (isinf(x)) {
    if (a.kind == ActivationKind::softsign) return x > T(0) ? T(1) : T(-1);
    if ((a.kind == ActivationKind::gelu || a.kind == ActivationKind::silu) && x < T(0)) return T(0);
  }
  switch (a.kind) {
    case ActivationKind::linear:
    case ActivationKind::softmax:
      return x;
    case ActivationKind::relu:
      return x > T(0) ? x : (x == x ? T(0) : x);  // keeps NaN
    case ActivationKind::relu6:
      return x > T(6) ? T(6) : (x > T(0) ? x : (x == x ? T(0) : x));
    case ActivationKind::leaky_relu:
      return x >= T(0) ? x : a.alpha * x;
    case ActivationKind::elu:
      return x > T(0) ? x : a.alpha * expm1(x);
    case ActivationKind::selu:
      return T(selu_scale) * (x > T(0) ? x : T(selu_alpha) * expm1(x));
    case ActivationKind::gelu:
      if (a.approximate) {
        const T c = T(0.7978845608028654);  // sqrt(2/pi)
        return T(0.5) * x * (T(1) + tanh(c * (x + T(0.044715) * x * x * x)));
      }
      return T(0.5) * x * (T(1) + erf(x * T(0.7071067811865476)));
    case ActivationKind::sigmoid:
      return sigmoid(x);
    case ActivationKind::hard_sigmoid: {
      const T y = a.slope * x + a.offset;
      return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
    }
    case ActivationKind::tanh:
      return tanh(x);
    case ActivationKind::softplus:
      return softplus(x);
    case ActivationKind::softsign:
      return x / (T(1) + fabs(x));
    case ActivationKind::silu:
      return x * sigmoid(x);
    case ActivationKind::exponential:
      return exp(x);
  }
  return x;
}

/// FLOPs counted per element for `trignet info` (a rough, documented convention:
/// one per arithmetic operation, transcendental functions count as one).
inline double activation_flops_per_element(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::linear: return 0;
    case ActivationKind::relu:
    case ActivationKind::relu6:
    case ActivationKind::leaky_relu: return 1;
    case ActivationKind::exponential: return 1;
    case ActivationKind::hard_sigmoid: return 3;
    case ActivationKind::softsign: return 3;
    case ActivationKind::softmax: return 4;
    default: return 4;
  }
}

}  // namespace trignet

#include "trignet/layers/node_check.hpp"

namespace trignet {

/// Node type "Activation": one activation applied to one tensor.
struct ActivationParams {
  static constexpr const char* type_name = "Activation";
  Activation activation;
};

inline Shape check_layer(const ActivationParams& p, const NodeCheck& node) {
  node.expect_inputs(1);
  node.allow_weights({});
  if (p.activation.kind == ActivationKind::softmax)
    node.axis("config.activation.axis", p.activation.axis, node.input(0).size());
  return node.input(0);
}

inline double layer_flops(const ActivationParams& p, const std::vector<Shape>&, const Shape& out) {
  return activation_flops_per_element(p.activation.kind) * static_cast<double>(element_count(out));
}

}  // namespace trignet
