// Hand-written fixed-size Eigen implementations of the reference networks of
// issue 6: the in-run baseline of trignet-bench (backend "eigen-fixed"), so
// that every trignet result for these networks is also a ratio to what a
// competent user gets from Eigen alone, measured in the same run.
//
// Written as such a user would write them, with no tricks beyond what Eigen
// gives: weights in fixed-size `Eigen::Matrix<float, Out, In>` (column-major,
// Eigen's default), `W * x + b` per layer, ReLU as `cwiseMax(0)`, softmax
// with Eigen's vectorised `exp`, the GRU gates with Eigen's `logistic()` and
// `tanh()`. One sample: fixed-size vectors throughout. A batch: fixed-row,
// dynamic-column matrices (Eigen's GEMM), buffers allocated once.
//
// Weights come from the same JSON through trignet's loader (ModelSpec), and
// loading checks that the file is exactly the network the type stands for.
//
// The MLP's 256 x 256 matrices are larger than Eigen's default
// EIGEN_STACK_ALLOCATION_LIMIT (128 KiB, a static assertion on fixed-size
// types), so a translation unit that includes this header must raise it
// before including Eigen (eigen_baselines.cpp does: 1 MiB); the networks are
// heap-allocated once, never on the stack.

#pragma once

#if !defined(EIGEN_STACK_ALLOCATION_LIMIT) || EIGEN_STACK_ALLOCATION_LIMIT < 262144
#error "eigen_baselines.hpp: define EIGEN_STACK_ALLOCATION_LIMIT >= 262144 before including Eigen (see the header comment)"
#endif

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <Eigen/Core>
#include <trignet/format/load_spec.hpp>

namespace trignet_bench::eigen_fixed {

// ------------------------------------------------------------------ loading

[[noreturn]] inline void mismatch(const trignet::ModelSpec& spec, const std::string& what) {
  throw std::runtime_error("eigen-fixed: " + spec.name + " (" + spec.source + ") is not the baseline's network: " +
                           what);
}

/// The spec must be one input of `input_shape` without preprocessing, a chain
/// of `nodes` nodes (each reading the previous one only), and one output, on
/// the last node.
inline void expect_chain(const trignet::ModelSpec& spec, const trignet::Shape& input_shape, std::size_t nodes) {
  if (spec.inputs.size() != 1 || spec.outputs.size() != 1) mismatch(spec, "expected one input and one output");
  if (spec.inputs[0].shape != input_shape)
    mismatch(spec, "input shape " + trignet::to_string(spec.inputs[0].shape) + ", expected " +
                       trignet::to_string(input_shape));
  if (!spec.inputs[0].preprocessing.empty()) mismatch(spec, "the input has preprocessing (not in the baseline)");
  if (spec.nodes.size() != nodes)
    mismatch(spec, std::to_string(spec.nodes.size()) + " nodes, expected " + std::to_string(nodes));
  for (std::size_t i = 0; i < nodes; ++i) {
    const std::string& prev = i == 0 ? spec.inputs[0].name : spec.nodes[i - 1].name;
    if (spec.nodes[i].inputs != std::vector<std::string>{prev})
      mismatch(spec, "node " + spec.nodes[i].name + " does not read " + prev + " only");
  }
  if (spec.outputs[0].node != spec.nodes.back().name) mismatch(spec, "the output is not the last node");
}

/// Dense node `i`: In -> Out with the given activation. Copies the kernel
/// ([in, units] row-major in the file) into W (Out x In) and the bias into b.
template <int In, int Out>
void load_dense(const trignet::ModelSpec& spec, std::size_t i, trignet::ActivationKind act,
                Eigen::Matrix<float, Out, In>& W, Eigen::Matrix<float, Out, 1>& b) {
  const trignet::NodeSpec& n = spec.nodes[i];
  const auto* p = std::get_if<trignet::DenseParams>(&n.params);
  if (!p) mismatch(spec, "node " + n.name + " is " + trignet::layer_type_name(n.params) + ", expected Dense");
  if (p->units != static_cast<std::size_t>(Out) || n.weights.at("kernel").shape != trignet::Shape{In, Out})
    mismatch(spec, "node " + n.name + " is not Dense " + std::to_string(In) + " -> " + std::to_string(Out));
  if (p->activation.kind != act)
    mismatch(spec, std::string("node ") + n.name + " has activation " + trignet::activation_name(p->activation.kind) +
                       ", expected " + trignet::activation_name(act));
  W = Eigen::Map<const Eigen::Matrix<float, In, Out, Eigen::RowMajor>>(n.weights.at("kernel").values.data())
          .transpose();
  if (p->use_bias)
    b = Eigen::Map<const Eigen::Matrix<float, Out, 1>>(n.weights.at("bias").values.data());
  else
    b.setZero();
}

// ------------------------------------------------------------------ MLP

/// N0 -> N1 -> N2 -> N3 (ReLU) -> N4 (softmax): the jet tagger
/// (16-64-32-32-5) and the wide MLP (64-256-256-256-10).
template <int N0, int N1, int N2, int N3, int N4>
struct Mlp4 {
  static constexpr int input_size = N0, output_size = N4;

  Eigen::Matrix<float, N1, N0> W1;
  Eigen::Matrix<float, N2, N1> W2;
  Eigen::Matrix<float, N3, N2> W3;
  Eigen::Matrix<float, N4, N3> W4;
  Eigen::Matrix<float, N1, 1> b1;
  Eigen::Matrix<float, N2, 1> b2;
  Eigen::Matrix<float, N3, 1> b3;
  Eigen::Matrix<float, N4, 1> b4;
  // Batch buffers (columns = samples), sized once by reserve().
  Eigen::Matrix<float, N1, Eigen::Dynamic> H1;
  Eigen::Matrix<float, N2, Eigen::Dynamic> H2;
  Eigen::Matrix<float, N3, Eigen::Dynamic> H3;

  void load(const trignet::ModelSpec& spec) {
    using trignet::ActivationKind;
    expect_chain(spec, {N0}, 4);
    load_dense<N0, N1>(spec, 0, ActivationKind::relu, W1, b1);
    load_dense<N1, N2>(spec, 1, ActivationKind::relu, W2, b2);
    load_dense<N2, N3>(spec, 2, ActivationKind::relu, W3, b3);
    load_dense<N3, N4>(spec, 3, ActivationKind::softmax, W4, b4);
  }

  void reserve(std::size_t batch) {
    H1.resize(N1, static_cast<Eigen::Index>(batch));
    H2.resize(N2, static_cast<Eigen::Index>(batch));
    H3.resize(N3, static_cast<Eigen::Index>(batch));
  }

  /// One sample: fixed-size matrix-vector products.
  void run(const float* in, float* out) const {
    const Eigen::Map<const Eigen::Matrix<float, N0, 1>> x(in);
    const Eigen::Matrix<float, N1, 1> h1 = (W1 * x + b1).cwiseMax(0.f);
    const Eigen::Matrix<float, N2, 1> h2 = (W2 * h1 + b2).cwiseMax(0.f);
    const Eigen::Matrix<float, N3, 1> h3 = (W3 * h2 + b3).cwiseMax(0.f);
    Eigen::Matrix<float, N4, 1> z = W4 * h3 + b4;
    z = (z.array() - z.maxCoeff()).exp();
    Eigen::Map<Eigen::Matrix<float, N4, 1>> y(out);
    y = z / z.sum();
  }

  /// `batch` samples (batch-major in and out; at most the reserved batch):
  /// one GEMM per layer.
  void run_batch(const float* in, float* out, std::size_t batch) {
    const Eigen::Index n = static_cast<Eigen::Index>(batch);
    const Eigen::Map<const Eigen::Matrix<float, N0, Eigen::Dynamic>> X(in, N0, n);
    Eigen::Map<Eigen::Matrix<float, N4, Eigen::Dynamic>> Y(out, N4, n);
    auto h1 = H1.leftCols(n);
    auto h2 = H2.leftCols(n);
    auto h3 = H3.leftCols(n);
    h1.noalias() = W1 * X;
    h1 = (h1.colwise() + b1).cwiseMax(0.f);
    h2.noalias() = W2 * h1;
    h2 = (h2.colwise() + b2).cwiseMax(0.f);
    h3.noalias() = W3 * h2;
    h3 = (h3.colwise() + b3).cwiseMax(0.f);
    Y.noalias() = W4 * h3;
    Y.colwise() += b4;
    for (Eigen::Index j = 0; j < n; ++j) {
      auto z = Y.col(j);
      z = (z.array() - z.maxCoeff()).exp();
      z /= z.sum();
    }
  }
};

// ------------------------------------------------------------------ GRU

/// GRU(Units) over Steps x Features (Keras: tanh, sigmoid gates, reset_after,
/// last state) -> Dense Out softmax: the GRU track model (20x6, 32, 5).
template <int Steps, int Features, int Units, int Out>
struct GruDense {
  static constexpr int input_size = Steps * Features, output_size = Out;
  static constexpr int G = 3 * Units;  // gates z, r, h

  Eigen::Matrix<float, G, Features> Wx;  // input kernel, transposed
  Eigen::Matrix<float, G, Units> Wh;     // recurrent kernel, transposed
  Eigen::Matrix<float, G, 1> bx, bh;     // input and recurrent bias
  Eigen::Matrix<float, Out, Units> Wd;
  Eigen::Matrix<float, Out, 1> bd;

  void load(const trignet::ModelSpec& spec) {
    using trignet::ActivationKind;
    expect_chain(spec, {Steps, Features}, 2);
    const trignet::NodeSpec& n = spec.nodes[0];
    const auto* p = std::get_if<trignet::RecurrentParams>(&n.params);
    if (!p || p->kind != trignet::RecurrentKind::gru) mismatch(spec, "node " + n.name + " is not a GRU");
    if (p->units != static_cast<std::size_t>(Units) || !p->reset_after || p->return_sequences || p->go_backwards ||
        !p->use_bias || p->activation.kind != ActivationKind::tanh ||
        p->recurrent_activation.kind != ActivationKind::sigmoid)
      mismatch(spec, "node " + n.name + " is not GRU(" + std::to_string(Units) +
                         ", tanh, sigmoid, reset_after, bias, last state, forwards)");
    Wx = Eigen::Map<const Eigen::Matrix<float, Features, G, Eigen::RowMajor>>(n.weights.at("kernel").values.data())
             .transpose();
    Wh = Eigen::Map<const Eigen::Matrix<float, Units, G, Eigen::RowMajor>>(
             n.weights.at("recurrent_kernel").values.data())
             .transpose();
    const std::vector<float>& b = n.weights.at("bias").values;  // [2, G]: input bias, recurrent bias
    bx = Eigen::Map<const Eigen::Matrix<float, G, 1>>(b.data());
    bh = Eigen::Map<const Eigen::Matrix<float, G, 1>>(b.data() + G);
    load_dense<Units, Out>(spec, 1, ActivationKind::softmax, Wd, bd);
  }

  void reserve(std::size_t) {}

  /// One sample: the input projections of all steps in one product, then the
  /// recurrence with fixed-size vectors.
  void run(const float* in, float* out) const {
    const Eigen::Map<const Eigen::Matrix<float, Features, Steps>> X(in);  // column t = step t
    Eigen::Matrix<float, G, Steps> gx = Wx * X;
    gx.colwise() += bx;
    Eigen::Matrix<float, Units, 1> h = Eigen::Matrix<float, Units, 1>::Zero();
    for (int t = 0; t < Steps; ++t) {
      const Eigen::Matrix<float, G, 1> gh = Wh * h + bh;
      const Eigen::Array<float, Units, 1> z =
          (gx.col(t).template head<Units>() + gh.template head<Units>()).array().logistic();
      const Eigen::Array<float, Units, 1> r =
          (gx.col(t).template segment<Units>(Units) + gh.template segment<Units>(Units)).array().logistic();
      const Eigen::Array<float, Units, 1> c =
          (gx.col(t).template tail<Units>().array() + r * gh.template tail<Units>().array()).tanh();
      h = (z * h.array() + (1.f - z) * c).matrix();
    }
    Eigen::Matrix<float, Out, 1> y = Wd * h + bd;
    y = (y.array() - y.maxCoeff()).exp();
    Eigen::Map<Eigen::Matrix<float, Out, 1>> result(out);
    result = y / y.sum();
  }

  /// A batch: one sample after the other (the recurrence is sequential).
  void run_batch(const float* in, float* out, std::size_t batch) const {
    for (std::size_t i = 0; i < batch; ++i) run(in + i * input_size, out + i * output_size);
  }
};

}  // namespace trignet_bench::eigen_fixed
