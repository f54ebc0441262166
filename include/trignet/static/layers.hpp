#pragma once
// Layers of a compile-time network (static_model.hpp): the descriptors users
// write (trignet::dense<16, 64, trignet::act::relu>, ...) and, per descriptor,
// the implementation that checks a model node against it, holds the packed
// weights and runs the SIMD kernels.

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/simd/activation.hpp"
#include "trignet/simd/dense.hpp"

namespace trignet {

/// Activations as types. Parameters (leaky_relu's alpha, elu's alpha,
/// hard_sigmoid's slope and offset, gelu's approximate flag) are read from
/// the model file, not fixed by the type.
namespace act {
template <ActivationKind K>
struct tag {
  static constexpr ActivationKind kind = K;
};
using linear = tag<ActivationKind::linear>;
using relu = tag<ActivationKind::relu>;
using relu6 = tag<ActivationKind::relu6>;
using leaky_relu = tag<ActivationKind::leaky_relu>;
using elu = tag<ActivationKind::elu>;
using selu = tag<ActivationKind::selu>;
using gelu = tag<ActivationKind::gelu>;
using sigmoid = tag<ActivationKind::sigmoid>;
using hard_sigmoid = tag<ActivationKind::hard_sigmoid>;
using tanh = tag<ActivationKind::tanh>;
using softmax = tag<ActivationKind::softmax>;
using softplus = tag<ActivationKind::softplus>;
using softsign = tag<ActivationKind::softsign>;
using silu = tag<ActivationKind::silu>;
using swish = silu;
using exponential = tag<ActivationKind::exponential>;
}  // namespace act

/// Dense(Units) on In features; activation fused; UseBias as config.use_bias.
template <std::size_t In, std::size_t Units, typename Act = act::linear, bool UseBias = true>
struct dense {
  static_assert(In > 0 && Units > 0, "trignet::dense: sizes must be positive");
  static constexpr std::size_t input_size = In, output_size = Units;
};

/// BatchNormalization over N features (inference: one scale and shift per feature).
template <std::size_t N>
struct batch_norm {
  static_assert(N > 0, "trignet::batch_norm: size must be positive");
  static constexpr std::size_t input_size = N, output_size = N;
};

/// A standalone Activation node on N features.
template <std::size_t N, typename Act>
struct activation {
  static_assert(N > 0, "trignet::activation: size must be positive");
  static constexpr std::size_t input_size = N, output_size = N;
};

/// GRU(Units) over Steps x In inputs, returning the last state (Keras
/// return_sequences=false), gates z, r, h as the run-time engine.
template <std::size_t Steps, std::size_t In, std::size_t Units, typename Act = act::tanh,
          typename RecurrentAct = act::sigmoid, bool ResetAfter = true, bool UseBias = true,
          bool GoBackwards = false>
struct gru {
  static_assert(Steps > 0 && In > 0 && Units > 0, "trignet::gru: sizes must be positive");
  static constexpr std::size_t input_size = Steps * In, output_size = Units;
};

/// One layer's weights as plain arrays: what from_spec extracts from a model
/// file and what a generated header's make() passes from its embedded arrays.
struct static_layer_data {
  const float* a = nullptr;  // dense, gru: kernel [in][units] row-major; batch_norm: scale [N]
  const float* b = nullptr;  // dense, gru: bias (nullptr without bias); batch_norm: shift [N]
  Activation activation;     // dense, activation, gru: kind (must match the type) and parameters
  const float* c = nullptr;  // gru: recurrent_kernel [units][3 units]
  Activation recurrent_activation;  // gru
};

/// Per-feature input preprocessing as plain arrays (nullptr: not given).
struct static_input_data {
  const float* offset = nullptr;
  const float* scale = nullptr;
  const float* nan_replacement = nullptr;
};

namespace detail {

/// Why a node does not match the type: thrown by the checks, prefixed with the
/// file and node by static_model.
[[noreturn]] inline void static_mismatch(const std::string& where, const std::string& what) {
  throw UnsupportedError(where + " " + what);
}

inline std::string shape_text(const Shape& s) { return to_string(s); }

inline void check_kind(const std::string& where, const char* what, ActivationKind found, ActivationKind want) {
  if (found != want)
    static_mismatch(where, std::string("data has ") + what + " " + activation_name(found) + ", the type expects " +
                               activation_name(want));
}

/// BatchNormalization folded to one scale and shift per feature, in double
/// exactly as the run-time engine does (cpu/normalization.hpp).
inline void fold_batch_norm(const NodeSpec& node, std::size_t n, std::vector<float>& scale,
                            std::vector<float>& shift) {
  const auto& p = std::get<BatchNormParams>(node.params);
  auto get = [&](const char* name, double fallback, std::size_t c) {
    auto it = node.weights.find(name);
    return it == node.weights.end() ? fallback : static_cast<double>(it->second.values[c]);
  };
  scale.resize(n);
  shift.resize(n);
  for (std::size_t c = 0; c < n; ++c) {
    const double s = get("gamma", 1.0, c) / std::sqrt(get("moving_variance", 1.0, c) + p.epsilon);
    scale[c] = static_cast<float>(s);
    shift[c] = static_cast<float>(get("beta", 0.0, c) - get("moving_mean", 0.0, c) * s);
  }
}

template <typename Layer>
struct static_layer;

template <std::size_t In, std::size_t Units, typename Act, bool UseBias>
struct static_layer<dense<In, Units, Act, UseBias>> {
  static constexpr std::size_t in = In, out = Units, features = In;
  static constexpr ActivationKind kind = Act::kind;
  static constexpr std::size_t storage = simd::packed_dense_size(In, Units);
  static Shape input_shape() { return {In}; }

  static std::string describe() {
    return "dense<" + std::to_string(In) + ", " + std::to_string(Units) + ", " +
           activation_name(kind) + (UseBias ? "" : ", no bias") + ">";
  }

  static void check(const NodeSpec& node, const Shape& in_shape, const std::string& where) {
    const auto* p = std::get_if<DenseParams>(&node.params);
    if (!p) static_mismatch(where, "is " + layer_type_name(node.params) + ", the type expects " + describe());
    if (in_shape.size() != 1)
      static_mismatch(where, "has input shape " + shape_text(in_shape) + ", the type expects [" +
                                 std::to_string(In) + "] (Dense on the last axis of a rank-1 input)");
    if (in_shape[0] != In)
      static_mismatch(where, "has " + std::to_string(in_shape[0]) + " input features, the type expects " +
                                 std::to_string(In));
    if (p->units != Units)
      static_mismatch(where, "has " + std::to_string(p->units) + " units, the type expects " + std::to_string(Units));
    if (p->activation.kind != kind)
      static_mismatch(where, std::string("has activation ") + activation_name(p->activation.kind) +
                                 ", the type expects " + activation_name(kind));
    if (p->use_bias != UseBias)
      static_mismatch(where, std::string("has use_bias ") + (p->use_bias ? "true" : "false") +
                                 ", the type expects " + (UseBias ? "true" : "false"));
  }

  static static_layer_data extract(const NodeSpec& node, std::vector<std::vector<float>>&) {
    const auto& p = std::get<DenseParams>(node.params);
    static_layer_data d;
    d.a = node.weights.at("kernel").values.data();
    d.b = UseBias ? node.weights.at("bias").values.data() : nullptr;
    d.activation = p.activation;
    return d;
  }

  static void check_data(const static_layer_data& d, const std::string& where) {
    check_kind(where, "activation", d.activation.kind, kind);
    if (!d.a || (UseBias && !d.b)) static_mismatch(where, "data lacks the kernel or the bias");
  }

  void init(const static_layer_data& d, float* storage_at) {
    view = simd::pack_dense(d.a, UseBias ? d.b : nullptr, In, Units, storage_at);
    params = simd::ActParams(d.activation);
  }

  void forward(const float* x, std::size_t x_stride, float* y, std::size_t y_stride,
               std::size_t y_cols, std::size_t rows) const {
    if (rows == 1)
      simd::dense_row_fixed<kind, In, Units>(view, x, y, y_cols, params);
    else
      simd::dense_rows<kind>(view, x, x_stride, y, y_stride, y_cols, rows, params);
  }

  simd::DenseView view;
  simd::ActParams params;
};

template <std::size_t N>
struct static_layer<batch_norm<N>> {
  static constexpr std::size_t in = N, out = N, features = N;
  static constexpr std::size_t storage = 2 * simd::round_up(N);
  static Shape input_shape() { return {N}; }

  static std::string describe() { return "batch_norm<" + std::to_string(N) + ">"; }

  static void check(const NodeSpec& node, const Shape& in_shape, const std::string& where) {
    if (!std::holds_alternative<BatchNormParams>(node.params))
      static_mismatch(where, "is " + layer_type_name(node.params) + ", the type expects " + describe());
    if (in_shape.size() != 1 || in_shape[0] != N)
      static_mismatch(where, "has input shape " + shape_text(in_shape) + ", the type expects [" +
                                 std::to_string(N) + "]");
  }

  static static_layer_data extract(const NodeSpec& node, std::vector<std::vector<float>>& keep) {
    keep.emplace_back();
    keep.emplace_back();
    fold_batch_norm(node, N, keep[keep.size() - 2], keep.back());
    static_layer_data d;
    d.a = keep[keep.size() - 2].data();
    d.b = keep.back().data();
    return d;
  }

  static void check_data(const static_layer_data& d, const std::string& where) {
    if (!d.a || !d.b) static_mismatch(where, "data lacks the scale or the shift");
  }

  void init(const static_layer_data& d, float* storage_at) {
    constexpr std::size_t np = simd::round_up(N);
    for (std::size_t c = 0; c < np; ++c) {
      storage_at[c] = c < N ? d.a[c] : 0.0f;
      storage_at[np + c] = c < N ? d.b[c] : 0.0f;
    }
    scale = storage_at;
    shift = storage_at + np;
  }

  void forward(const float* x, std::size_t x_stride, float* y, std::size_t y_stride,
               std::size_t y_cols, std::size_t rows) const {
    using namespace simd;
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * x_stride;
      float* yr = y + r * y_stride;
      std::size_t c = 0;
      for (; c + width <= N; c += width) store(yr + c, fmadd(load(xr + c), load(scale + c), load(shift + c)));
      if (c < N) {  // reads only the N inputs; writes the padded lanes when y has them
        const vf v = fmadd(load_partial(xr + c, N - c, 0.0f), load(scale + c), load(shift + c));
        if (y_cols > N)
          store(yr + c, v);
        else
          store_partial(yr + c, v, N - c);
      }
    }
  }

  const float* scale = nullptr;
  const float* shift = nullptr;
};

template <std::size_t N, typename Act>
struct static_layer<activation<N, Act>> {
  static constexpr std::size_t in = N, out = N, features = N;
  static constexpr ActivationKind kind = Act::kind;
  static constexpr std::size_t storage = 0;
  static Shape input_shape() { return {N}; }

  static std::string describe() {
    return "activation<" + std::to_string(N) + ", " + activation_name(kind) + ">";
  }

  static void check(const NodeSpec& node, const Shape& in_shape, const std::string& where) {
    const auto* p = std::get_if<ActivationParams>(&node.params);
    if (!p) static_mismatch(where, "is " + layer_type_name(node.params) + ", the type expects " + describe());
    if (in_shape.size() != 1 || in_shape[0] != N)
      static_mismatch(where, "has input shape " + shape_text(in_shape) + ", the type expects [" +
                                 std::to_string(N) + "]");
    if (p->activation.kind != kind)
      static_mismatch(where, std::string("has activation ") + activation_name(p->activation.kind) +
                                 ", the type expects " + activation_name(kind));
  }

  static static_layer_data extract(const NodeSpec& node, std::vector<std::vector<float>>&) {
    static_layer_data d;
    d.activation = std::get<ActivationParams>(node.params).activation;
    return d;
  }

  static void check_data(const static_layer_data& d, const std::string& where) {
    check_kind(where, "activation", d.activation.kind, kind);
  }

  void init(const static_layer_data& d, float*) { params = simd::ActParams(d.activation); }

  void forward(const float* x, std::size_t x_stride, float* y, std::size_t y_stride,
               std::size_t y_cols, std::size_t rows) const {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * x_stride;
      float* yr = y + r * y_stride;
      for (std::size_t c = 0; c < N; ++c) yr[c] = xr[c];
      for (std::size_t c = N; c < y_cols; ++c) yr[c] = 0.0f;  // padded lanes: defined values
      if constexpr (kind == ActivationKind::softmax)
        simd::softmax_row(yr, N);
      else
        simd::activate<kind>(yr, y_cols, params);
    }
  }

  simd::ActParams params;
};


template <std::size_t Steps, std::size_t In, std::size_t Units, typename Act, typename RecurrentAct,
          bool ResetAfter, bool UseBias, bool GoBackwards>
struct static_layer<gru<Steps, In, Units, Act, RecurrentAct, ResetAfter, UseBias, GoBackwards>> {
  static constexpr std::size_t in = Steps * In, out = Units, features = In;
  static constexpr ActivationKind kind = Act::kind;
  static constexpr ActivationKind recurrent_kind = RecurrentAct::kind;
  // Each gate's columns start on a vector boundary: [z | r | h], Up columns each.
  static constexpr std::size_t up = simd::round_up(Units);
  static constexpr std::size_t storage =
      simd::packed_dense_size(In, 3 * up) +
      (ResetAfter ? simd::packed_dense_size(Units, 3 * up)
                  : simd::packed_dense_size(Units, 2 * up) + simd::packed_dense_size(Units, up));
  static Shape input_shape() { return {Steps, In}; }

  static std::string describe() {
    return "gru<" + std::to_string(Steps) + ", " + std::to_string(In) + ", " + std::to_string(Units) + ", " +
           activation_name(kind) + ", " + activation_name(recurrent_kind) + ">";
  }

  static void check(const NodeSpec& node, const Shape& in_shape, const std::string& where) {
    const auto* p = std::get_if<RecurrentParams>(&node.params);
    if (!p || p->kind != RecurrentKind::gru)
      static_mismatch(where, "is " + layer_type_name(node.params) + ", the type expects " + describe());
    if (in_shape != input_shape())
      static_mismatch(where, "has input shape " + shape_text(in_shape) + ", the type expects " +
                                 shape_text(input_shape()));
    if (p->units != Units)
      static_mismatch(where, "has " + std::to_string(p->units) + " units, the type expects " + std::to_string(Units));
    if (p->activation.kind != kind)
      static_mismatch(where, std::string("has activation ") + activation_name(p->activation.kind) +
                                 ", the type expects " + activation_name(kind));
    if (p->recurrent_activation.kind != recurrent_kind)
      static_mismatch(where, std::string("has recurrent_activation ") + activation_name(p->recurrent_activation.kind) +
                                 ", the type expects " + activation_name(recurrent_kind));
    auto flag = [&](const char* name, bool found, bool want) {
      if (found != want)
        static_mismatch(where, std::string("has ") + name + (found ? " true" : " false") + ", the type expects " +
                                   (want ? "true" : "false"));
    };
    flag("reset_after", p->reset_after, ResetAfter);
    flag("use_bias", p->use_bias, UseBias);
    flag("go_backwards", p->go_backwards, GoBackwards);
    flag("return_sequences", p->return_sequences, false);
  }

  static static_layer_data extract(const NodeSpec& node, std::vector<std::vector<float>>&) {
    const auto& p = std::get<RecurrentParams>(node.params);
    static_layer_data d;
    d.a = node.weights.at("kernel").values.data();
    d.b = UseBias ? node.weights.at("bias").values.data() : nullptr;
    d.c = node.weights.at("recurrent_kernel").values.data();
    d.activation = p.activation;
    d.recurrent_activation = p.recurrent_activation;
    return d;
  }

  /// [rows][3 Units] gate-major columns -> [rows][cols] with gate g from column g * up.
  static std::vector<float> spread(const float* w, std::size_t rows, std::size_t gates, std::size_t first_gate) {
    std::vector<float> out(rows * gates * up, 0.0f);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t g = 0; g < gates; ++g)
        for (std::size_t j = 0; j < Units; ++j)
          out[i * gates * up + g * up + j] = w[i * 3 * Units + (first_gate + g) * Units + j];
    return out;
  }

  static void check_data(const static_layer_data& d, const std::string& where) {
    check_kind(where, "activation", d.activation.kind, kind);
    check_kind(where, "recurrent_activation", d.recurrent_activation.kind, recurrent_kind);
    if (!d.a || !d.c || (UseBias && !d.b)) static_mismatch(where, "data lacks a kernel or the bias");
  }

  void init(const static_layer_data& d, float* at) {
    // Bias: row 0 is the input bias; with reset_after, row 1 the recurrent
    // bias, which adds to z and r and stays inside r * (h U_h + b_hh).
    std::vector<float> bx(3 * up, 0.0f), bh(3 * up, 0.0f);
    if (UseBias && d.b)
      for (std::size_t g = 0; g < 3; ++g)
        for (std::size_t j = 0; j < Units; ++j) {
          bx[g * up + j] = d.b[g * Units + j];
          if (ResetAfter) {
            const float rec = d.b[3 * Units + g * Units + j];
            if (g < 2) bx[g * up + j] += rec; else bh[g * up + j] = rec;
          }
        }
    const std::vector<float> wx = spread(d.a, In, 3, 0);
    input = simd::pack_dense(wx.data(), bx.data(), In, 3 * up, at);
    at += simd::packed_dense_size(In, 3 * up);
    if (ResetAfter) {
      const std::vector<float> wh = spread(d.c, Units, 3, 0);
      recurrent = simd::pack_dense(wh.data(), bh.data(), Units, 3 * up, at);
    } else {
      const std::vector<float> wzr = spread(d.c, Units, 2, 0), wc = spread(d.c, Units, 1, 2);
      recurrent = simd::pack_dense(wzr.data(), static_cast<const float*>(nullptr), Units, 2 * up, at);
      at += simd::packed_dense_size(Units, 2 * up);
      candidate = simd::pack_dense(wc.data(), static_cast<const float*>(nullptr), Units, up, at);
    }
    params = simd::ActParams(d.activation);
    recurrent_params = simd::ActParams(d.recurrent_activation);
  }

  void forward(const float* x, std::size_t x_stride, float* y, std::size_t y_stride,
               std::size_t y_cols, std::size_t rows) const {
    for (std::size_t r = 0; r < rows; ++r) run_one(x + r * x_stride, y + r * y_stride, y_cols);
  }

  void run_one(const float* x, float* y, std::size_t y_cols) const {
    using namespace simd;
    alignas(alignment) float proj[Steps * 3 * up];
    // At least 8 floats: GCC's -Warray-bounds cannot see that the GEMV's
    // 8-way unrolled loop never runs for fewer than 8 inputs.
    constexpr std::size_t state_size = up < 8 ? 8 : up;
    alignas(alignment) float h[state_size] = {};
    alignas(alignment) float rec[3 * up];
    alignas(alignment) float rh[state_size] = {};
    // All input projections x_t W + b at once: one Steps x In x 3 up product.
    dense_rows<ActivationKind::linear>(input, x, In, proj, 3 * up, 3 * up, Steps, ActParams());
    for (std::size_t s = 0; s < Steps; ++s) {
      const float* p = proj + (GoBackwards ? Steps - 1 - s : s) * 3 * up;
      if constexpr (ResetAfter) {
        dense_row_one_pass<ActivationKind::linear, Units, 3 * up>(recurrent, h, rec, 3 * up, ActParams());
        for (std::size_t v = 0; v < up; v += width) {
          const vf z = apply<recurrent_kind>(load(p + v) + load(rec + v), recurrent_params);
          const vf rg = apply<recurrent_kind>(load(p + up + v) + load(rec + up + v), recurrent_params);
          const vf c = apply<kind>(fmadd(rg, load(rec + 2 * up + v), load(p + 2 * up + v)), params);
          store(h + v, fmadd(z, load(h + v) - c, c));  // z h + (1 - z) c
        }
      } else {
        dense_row_one_pass<ActivationKind::linear, Units, 2 * up>(recurrent, h, rec, 2 * up, ActParams());
        for (std::size_t v = 0; v < up; v += width) {
          const vf z = apply<recurrent_kind>(load(p + v) + load(rec + v), recurrent_params);
          const vf rg = apply<recurrent_kind>(load(p + up + v) + load(rec + up + v), recurrent_params);
          store(rec + v, z);
          store(rh + v, rg * load(h + v));
        }
        dense_row_fixed<ActivationKind::linear, Units, up>(candidate, rh, rec + 2 * up, up, ActParams());
        for (std::size_t v = 0; v < up; v += width) {
          const vf c = apply<kind>(load(p + 2 * up + v) + load(rec + 2 * up + v), params);
          store(h + v, fmadd(load(rec + v), load(h + v) - c, c));
        }
      }
    }
    for (std::size_t j = 0; j < y_cols && j < up; ++j) y[j] = h[j];
  }

  simd::DenseView input, recurrent, candidate;
  simd::ActParams params, recurrent_params;
};

}  // namespace detail
}  // namespace trignet
