#pragma once
// SimpleRNN, GRU, LSTM and Reverse on the CPU.
//
// A recurrent layer works on blocks of up to 64 samples. For a block it first
// computes the input projections x_t W + b of all its time steps with one
// matrix product (the block's [T, F] inputs are contiguous: one F x (n*T)
// column-major matrix), then walks the time steps: per step one product of
// the recurrent kernel with the block's states (a GEMV for one sample, a GEMM
// for several), then the gates element-wise with the vectorised activations
// of cpu/activation.hpp. All state lives in the caller's workspace: the layer
// itself is immutable and shared by threads.
//
// Kernels are kept in the file's row-major [rows, width] order, which is the
// column-major (width x rows) matrix of the transposed product, so a state
// column h maps to gates = U^T h without any copy or transpose at load.
//
// Memory: the projections of a block take at most max(2^17 elements, 64
// columns) of workspace; longer sequences are projected in chunks of time
// steps, so the workspace does not grow with T.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <Eigen/Core>

#include "trignet/cpu/activation.hpp"
#include "trignet/cpu/layer.hpp"
#include "trignet/layers/recurrent.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::cpu {

namespace rnn_detail {

template <typename T>
using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <typename T>
using MatrixMap = Eigen::Map<ColMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const ColMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

/// y(rows) = A x (accumulate: y += A x) for one block of NP packets of rows:
/// A column-major with leading dimension lda, x of length k. Two sets of
/// accumulators (even and odd columns) keep 2*NP independent FMA chains in
/// flight.
template <typename T, int NP>
inline void gemv_rows(const T* a, Eigen::Index lda, const T* x, T* y, Eigen::Index k,
                      bool accumulate) {
  namespace ei = Eigen::internal;
  using P = typename ei::packet_traits<T>::type;
  constexpr Eigen::Index S = ei::packet_traits<T>::size;
  P even[NP], odd[NP];
  for (int p = 0; p < NP; ++p) {
    even[p] = accumulate ? ei::ploadu<P>(y + p * S) : ei::pset1<P>(T(0));
    odd[p] = ei::pset1<P>(T(0));
  }
  Eigen::Index j = 0;
  for (; j + 2 <= k; j += 2) {
    const T* c0 = a + j * lda;
    const T* c1 = c0 + lda;
    const P x0 = ei::pset1<P>(x[j]);
    const P x1 = ei::pset1<P>(x[j + 1]);
    for (int p = 0; p < NP; ++p) {
      even[p] = ei::pmadd(ei::ploadu<P>(c0 + p * S), x0, even[p]);
      odd[p] = ei::pmadd(ei::ploadu<P>(c1 + p * S), x1, odd[p]);
    }
  }
  if (j < k) {
    const T* c0 = a + j * lda;
    const P x0 = ei::pset1<P>(x[j]);
    for (int p = 0; p < NP; ++p) even[p] = ei::pmadd(ei::ploadu<P>(c0 + p * S), x0, even[p]);
  }
  for (int p = 0; p < NP; ++p) ei::pstoreu(y + p * S, ei::padd(even[p], odd[p]));
}

/// y = A x (accumulate: y += A x), A m x k column-major (leading dimension
/// lda). Allocation-free, and without the per-call overhead of Eigen's GEMV
/// and GEMM, which dominates at the sizes of a recurrent step.
template <typename T>
void gemv(const T* a, Eigen::Index lda, const T* x, T* y, Eigen::Index m, Eigen::Index k,
          bool accumulate) {
  constexpr Eigen::Index S = Eigen::internal::packet_traits<T>::size;
  Eigen::Index i = 0;
  for (; i + 4 * S <= m; i += 4 * S) gemv_rows<T, 4>(a + i, lda, x, y + i, k, accumulate);
  if (i + 2 * S <= m) {
    gemv_rows<T, 2>(a + i, lda, x, y + i, k, accumulate);
    i += 2 * S;
  }
  if (i + S <= m) {
    gemv_rows<T, 1>(a + i, lda, x, y + i, k, accumulate);
    i += S;
  }
  for (; i < m; ++i) {  // the last rows, fewer than one packet
    T sum0 = accumulate ? y[i] : T(0), sum1 = 0;
    Eigen::Index j = 0;
    for (; j + 2 <= k; j += 2) {
      sum0 += a[j * lda + i] * x[j];
      sum1 += a[(j + 1) * lda + i] * x[j + 1];
    }
    if (j < k) sum0 += a[j * lda + i] * x[j];
    y[i] = sum0 + sum1;
  }
}

/// C = A * B (accumulate: C += A * B) for column-major operands given by
/// pointer and leading dimension: A m x k, B k x n, C m x n.
///
/// Few columns with a small A (a recurrent step of a few samples, the input
/// projections of one short sequence) go column by column through gemv().
/// Otherwise Eigen's GEMM runs on blocks whose packed operands (rows x depth
/// and depth x columns) hold at most 64 KiB each, so that its packing buffers
/// stay on the stack (EIGEN_STACK_ALLOCATION_LIMIT is 128 KiB): no heap
/// allocation in run(), as in cpu/dense.hpp.
template <typename T>
void gemm(const T* a, Eigen::Index lda, const T* b, Eigen::Index ldb, T* c, Eigen::Index ldc,
          Eigen::Index m, Eigen::Index n, Eigen::Index k, bool accumulate) {
  if (n == 1 || (n < 64 && m * k * static_cast<Eigen::Index>(sizeof(T)) <= 32768)) {
    for (Eigen::Index j = 0; j < n; ++j) gemv(a, lda, b + j * ldb, c + j * ldc, m, k, accumulate);
    return;
  }
  ConstMatrixMap<T> A(a, m, k, Eigen::OuterStride<>(lda));
  ConstMatrixMap<T> B(b, k, n, Eigen::OuterStride<>(ldb));
  MatrixMap<T> C(c, m, n, Eigen::OuterStride<>(ldc));
  if (!accumulate) C.setZero();
  constexpr Eigen::Index budget = 65536 / static_cast<Eigen::Index>(sizeof(T));  // elements
  const Eigen::Index depth_block = std::min<Eigen::Index>(k, 256);
  const Eigen::Index row_block = std::min<Eigen::Index>(m, std::max<Eigen::Index>(16, budget / depth_block));
  const Eigen::Index column_block = std::min<Eigen::Index>(n, std::max<Eigen::Index>(16, budget / depth_block));
  for (Eigen::Index j = 0; j < n; j += column_block) {
    const Eigen::Index nn = std::min(column_block, n - j);
    for (Eigen::Index i = 0; i < m; i += row_block) {
      const Eigen::Index mm = std::min(row_block, m - i);
      for (Eigen::Index d = 0; d < k; d += depth_block) {
        const Eigen::Index kk = std::min(depth_block, k - d);
        C.block(i, j, mm, nn).noalias() += A.block(i, d, mm, kk) * B.block(d, j, kk, nn);
      }
    }
  }
}

}  // namespace rnn_detail

/// Node types "SimpleRNN", "GRU" (both reset conventions) and "LSTM".
template <typename T>
class RecurrentLayer final : public Layer<T> {
 public:
  using Index = Eigen::Index;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  RecurrentLayer(const RecurrentParams& p, const WeightMap& weights, const Shape& input_shape)
      : kind_(p.kind),
        steps_(input_shape[0]),
        features_(input_shape[1]),
        units_(p.units),
        width_(p.gates() * p.units),
        return_sequences_(p.return_sequences),
        go_backwards_(p.go_backwards),
        reset_after_(p.kind == RecurrentKind::gru && p.reset_after),
        activation_(p.activation),
        recurrent_activation_(p.recurrent_activation) {
    const Index width = static_cast<Index>(width_);
    const Index units = static_cast<Index>(units_);
    kernel_t_.resize(width, static_cast<Index>(features_));
    copy_weights(weights.at("kernel"), kernel_t_.data());
    recurrent_t_.resize(width, units);
    copy_weights(weights.at("recurrent_kernel"), recurrent_t_.data());
    input_bias_ = Vector::Zero(width);
    recurrent_bias_ = Vector::Zero(units);
    if (p.use_bias) {
      const std::vector<float>& b = weights.at("bias").values;
      for (std::size_t j = 0; j < width_; ++j) input_bias_(static_cast<Index>(j)) = static_cast<T>(b[j]);
      if (reset_after_) {
        // Row 1 is the recurrent bias: for z and r it simply adds to the
        // input bias; for the candidate it stays inside r * (h U_h + b_hh).
        for (std::size_t j = 0; j < 2 * units_; ++j)
          input_bias_(static_cast<Index>(j)) += static_cast<T>(b[width_ + j]);
        for (std::size_t j = 0; j < units_; ++j)
          recurrent_bias_(static_cast<Index>(j)) = static_cast<T>(b[width_ + 2 * units_ + j]);
      }
    }
    max_projection_columns_ = std::max<std::size_t>(projection_budget / width_, max_block);
  }

  std::size_t workspace_size(std::size_t batch) const override {
    const std::size_t block = std::min(batch, max_block);
    const std::size_t columns = std::min(block * steps_, max_projection_columns_);
    return align_elements + padded(columns * width_) + padded(block * width_) +
           padded(block * units_) + padded(block * extra_state());
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T* workspace) const override {
    const std::size_t block = std::min(batch, max_block);
    const std::size_t columns = std::min(block * steps_, max_projection_columns_);
    // Every buffer starts on a 64-byte boundary, so that the gate vectors of a
    // sample (when units is a multiple of the packet size) are whole aligned
    // packets for the vectorised activations: no scalar head or tail.
    const std::size_t misalignment = reinterpret_cast<std::uintptr_t>(workspace) % 64;
    Buffers buf;
    buf.projections = workspace + (misalignment ? (64 - misalignment) / sizeof(T) : 0);
    buf.gates = buf.projections + padded(columns * width_);
    buf.state = buf.gates + padded(block * width_);
    buf.extra = buf.state + padded(block * units_);
    const std::size_t out_per_sample = return_sequences_ ? steps_ * units_ : units_;
    for (std::size_t b0 = 0; b0 < batch; b0 += max_block) {
      const std::size_t n = std::min(max_block, batch - b0);
      run_block(inputs[0] + b0 * steps_ * features_, output + b0 * out_per_sample, n, buf);
    }
  }

 private:
  static constexpr std::size_t max_block = 64;                      // samples per block
  static constexpr std::size_t projection_budget = std::size_t(1) << 17;  // elements
  static constexpr std::size_t align_elements = 64 / sizeof(T);

  static std::size_t padded(std::size_t n) {
    return (n + align_elements - 1) / align_elements * align_elements;
  }

  struct Buffers {
    T* projections;  // width x (samples * chunk steps): x_t W + b
    T* gates;        // width x samples: recurrent products, then gate values
    T* state;        // units x samples: h
    T* extra;        // units x samples: LSTM cell state c, or GRU (reset_after false) r * h
  };

  std::size_t extra_state() const {
    return kind_ == RecurrentKind::lstm || (kind_ == RecurrentKind::gru && !reset_after_) ? units_
                                                                                            : 0;
  }

  /// A [rows, width] row-major weight is the column-major (width x rows) matrix.
  static void copy_weights(const WeightTensor& w, T* out) {
    for (std::size_t i = 0; i < w.values.size(); ++i) out[i] = static_cast<T>(w.values[i]);
  }

  /// Input projections of `count` samples for input times [t0, t0 + chunk):
  /// column s * chunk + (t - t0) holds x_{s,t} W + b.
  void project(const T* x, std::size_t count, std::size_t t0, std::size_t chunk, T* p) const {
    const Index width = static_cast<Index>(width_);
    const Index features = static_cast<Index>(features_);
    const Index columns = static_cast<Index>(count * chunk);
    rnn_detail::MatrixMap<T> P(p, width, columns, Eigen::OuterStride<>(width));
    P.colwise() = input_bias_;
    if (chunk == steps_) {  // the block's inputs are one contiguous F x (count*T) matrix
      rnn_detail::gemm(kernel_t_.data(), width, x, features, p, width, width, columns, features,
                       true);
      return;
    }
    for (std::size_t s = 0; s < count; ++s)
      rnn_detail::gemm(kernel_t_.data(), width, x + (s * steps_ + t0) * features_, features,
                       p + s * chunk * width_, width, width, static_cast<Index>(chunk), features,
                       true);
  }

  void run_block(const T* x, T* out, std::size_t count, const Buffers& buf) const {
    std::fill(buf.state, buf.state + count * units_, T(0));
    if (kind_ == RecurrentKind::lstm) std::fill(buf.extra, buf.extra + count * units_, T(0));
    const std::size_t chunk =
        std::min(steps_, std::max<std::size_t>(1, max_projection_columns_ / count));
    for (std::size_t s0 = 0; s0 < steps_; s0 += chunk) {
      const std::size_t n = std::min(chunk, steps_ - s0);
      const std::size_t t0 = go_backwards_ ? steps_ - s0 - n : s0;  // input times [t0, t0+n)
      project(x, count, t0, n, buf.projections);
      for (std::size_t s = s0; s < s0 + n; ++s) {
        const std::size_t t = go_backwards_ ? steps_ - 1 - s : s;
        step(buf, count, n, t - t0);
        if (return_sequences_)
          for (std::size_t k = 0; k < count; ++k)
            std::copy(buf.state + k * units_, buf.state + (k + 1) * units_,
                      out + (k * steps_ + s) * units_);
      }
    }
    if (!return_sequences_) std::copy(buf.state, buf.state + count * units_, out);
  }

  /// One time step for `count` samples; the projections of this step are
  /// column `s * chunk + column` of buf.projections for sample s.
  void step(const Buffers& buf, std::size_t count, std::size_t chunk, std::size_t column) const {
    const Index width = static_cast<Index>(width_);
    const Index units = static_cast<Index>(units_);
    const Index n = static_cast<Index>(count);
    const std::size_t u = units_;
    auto projection = [&](std::size_t s) {
      return buf.projections + (s * chunk + column) * width_;
    };
    using rnn_detail::ArrayMap;
    using rnn_detail::ConstArrayMap;
    switch (kind_) {
      case RecurrentKind::simple_rnn: {
        rnn_detail::gemm(recurrent_t_.data(), width, buf.state, units, buf.gates, width, width, n,
                         units, false);
        for (std::size_t s = 0; s < count; ++s)
          ArrayMap<T>(buf.gates + s * u, units) += ConstArrayMap<T>(projection(s), units);
        activate_inplace(activation_, buf.gates, count * u);
        std::copy(buf.gates, buf.gates + count * u, buf.state);
        return;
      }
      case RecurrentKind::lstm: {
        rnn_detail::gemm(recurrent_t_.data(), width, buf.state, units, buf.gates, width, width, n,
                         units, false);
        for (std::size_t s = 0; s < count; ++s) {
          T* g = buf.gates + s * width_;
          ArrayMap<T>(g, width) += ConstArrayMap<T>(projection(s), width);
          activate_inplace(recurrent_activation_, g, 2 * u);  // i, f
          activate_inplace(activation_, g + 2 * u, u);        // candidate
          activate_inplace(recurrent_activation_, g + 3 * u, u);  // o
          ArrayMap<T> c(buf.extra + s * u, units);
          c = ConstArrayMap<T>(g + u, units) * c +
              ConstArrayMap<T>(g, units) * ConstArrayMap<T>(g + 2 * u, units);
          ArrayMap<T> tanh_c(g + 2 * u, units);  // the candidate is used up
          tanh_c = c;
          activate_inplace(activation_, g + 2 * u, u);
          ArrayMap<T>(buf.state + s * u, units) = ConstArrayMap<T>(g + 3 * u, units) * tanh_c;
        }
        return;
      }
      case RecurrentKind::gru:
        break;
    }
    if (reset_after_) {
      rnn_detail::gemm(recurrent_t_.data(), width, buf.state, units, buf.gates, width, width, n,
                       units, false);
      ConstArrayMap<T> b_hh(recurrent_bias_.data(), units);
      for (std::size_t s = 0; s < count; ++s) {
        T* g = buf.gates + s * width_;
        const T* p = projection(s);
        ArrayMap<T>(g, 2 * units) += ConstArrayMap<T>(p, 2 * units);
        activate_inplace(recurrent_activation_, g, 2 * u);  // z, r
        ArrayMap<T> c(g + 2 * u, units);
        c = ConstArrayMap<T>(p + 2 * u, units) + ConstArrayMap<T>(g + u, units) * (c + b_hh);
        activate_inplace(activation_, g + 2 * u, u);
        ArrayMap<T> h(buf.state + s * u, units);
        h = c + ConstArrayMap<T>(g, units) * (h - c);  // z h + (1 - z) c
      }
      return;
    }
    // reset_after false: the reset gate scales the state before its product.
    rnn_detail::gemm(recurrent_t_.data(), width, buf.state, units, buf.gates, width, 2 * units, n,
                     units, false);
    for (std::size_t s = 0; s < count; ++s) {
      T* g = buf.gates + s * width_;
      ArrayMap<T>(g, 2 * units) += ConstArrayMap<T>(projection(s), 2 * units);
      activate_inplace(recurrent_activation_, g, 2 * u);  // z, r
      ArrayMap<T>(buf.extra + s * u, units) =
          ConstArrayMap<T>(g + u, units) * ConstArrayMap<T>(buf.state + s * u, units);
    }
    rnn_detail::gemm(recurrent_t_.data() + 2 * u, width, buf.extra, units, buf.gates + 2 * u,
                     width, units, n, units, false);
    for (std::size_t s = 0; s < count; ++s) {
      T* g = buf.gates + s * width_;
      ArrayMap<T> c(g + 2 * u, units);
      c += ConstArrayMap<T>(projection(s) + 2 * u, units);
      activate_inplace(activation_, g + 2 * u, u);
      ArrayMap<T> h(buf.state + s * u, units);
      h = c + ConstArrayMap<T>(g, units) * (h - c);
    }
  }

  RecurrentKind kind_;
  std::size_t steps_, features_, units_, width_;
  bool return_sequences_, go_backwards_, reset_after_;
  ElementwiseActivation<T> activation_, recurrent_activation_;
  rnn_detail::ColMatrix<T> kernel_t_;     // width x F
  rnn_detail::ColMatrix<T> recurrent_t_;  // width x units
  Vector input_bias_;                     // width: input bias (+ recurrent bias of z, r)
  Vector recurrent_bias_;                 // units: GRU reset_after: b_hh of the candidate
  std::size_t max_projection_columns_ = 0;
};

/// Node type "Reverse": reverses one axis of each sample.
template <typename T>
class ReverseLayer final : public Layer<T> {
 public:
  ReverseLayer(const ReverseParams& p, const Shape& shape) {
    std::size_t axis = 0;
    normalize_axis(p.axis, shape.size(), axis);  // validated by check_layer
    for (std::size_t d = 0; d < axis; ++d) outer_ *= shape[d];
    length_ = shape[axis];
    for (std::size_t d = axis + 1; d < shape.size(); ++d) inner_ *= shape[d];
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const T* in = inputs[0];
    const std::size_t blocks = batch * outer_;
    for (std::size_t o = 0; o < blocks; ++o) {
      const T* src = in + o * length_ * inner_;
      T* dst = output + o * length_ * inner_;
      for (std::size_t i = 0; i < length_; ++i)
        std::copy(src + (length_ - 1 - i) * inner_, src + (length_ - i) * inner_, dst + i * inner_);
    }
  }

 private:
  std::size_t outer_ = 1, length_ = 1, inner_ = 1;
};

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const RecurrentParams& p, const NodeSpec& node,
                                         const std::vector<Shape>& in_shapes, const Shape&) {
  return std::make_unique<RecurrentLayer<T>>(p, node.weights, in_shapes[0]);
}

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const ReverseParams& p, const NodeSpec&,
                                         const std::vector<Shape>& in_shapes, const Shape&) {
  return std::make_unique<ReverseLayer<T>>(p, in_shapes[0]);
}

}  // namespace trignet::cpu
