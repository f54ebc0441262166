#pragma once
// The per-sample math of the CUDA backend, as plain data (Op) and
// __host__ __device__ functions (eval_item). The GPU kernels are thin loops
// around eval_item; the host reference executor (plan.hpp) runs the very same
// functions, so the CPU tests exercise this code on every CI run.
//
// No CUDA header is needed: under g++ TRIGNET_HOST_DEVICE is empty.

#include <cmath>

#include "trignet/config.hpp"
#include "trignet/layers/activation.hpp"
#include "trignet/layers/merge.hpp"

#if defined(__CUDACC__)
#define TRIGNET_CUDA_INLINE __forceinline__
#else
#define TRIGNET_CUDA_INLINE inline
#endif

namespace trignet::cuda {

/// Most inputs one op reads (merges, Concatenate); more is refused at compile time.
inline constexpr int max_op_inputs = 8;

enum class OpKind : int {
  load,         // model input -> arena, with preprocessing (NaN replacement, offset, scale)
  store,        // arena -> model output
  dense,        // y = act(x W + b), one output element per item
  bias_act,     // in place y = act(y + b): the epilogue after a cuBLAS GEMM (layered mode)
  activation,   // element-wise activation
  softmax,      // one item per softmax row (axis_size elements with stride inner)
  layer_norm,   // one item per normalised group
  scale_shift,  // BatchNormalization folded to y = x * scale[c] + shift[c]
  gather,       // Permute: y[e] = x[index[e]]
  concat,       // Concatenate
  merge,        // Add, Subtract, Multiply, Average, Maximum, Minimum
};

inline const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::load: return "load";
    case OpKind::store: return "store";
    case OpKind::dense: return "dense";
    case OpKind::bias_act: return "bias_act";
    case OpKind::activation: return "activation";
    case OpKind::softmax: return "softmax";
    case OpKind::layer_norm: return "layer_norm";
    case OpKind::scale_shift: return "scale_shift";
    case OpKind::gather: return "gather";
    case OpKind::concat: return "concat";
    case OpKind::merge: return "merge";
  }
  return "?";
}

/// One step of a compiled network, for one sample. Plain data: it is copied
/// to the device as is. Operands are references: >= 0 is an offset into the
/// per-sample arena; < 0 is a model input (in) or output (out), -1 - index.
struct Op {
  OpKind kind = OpKind::load;
  int node = -1;   // index into ModelSpec::nodes (-1: load/store)
  int items = 0;   // work items per sample (independent, any order)
  int out = 0;
  int n_in = 0;
  int in[max_op_inputs] = {};
  int chunk[max_op_inputs] = {};  // concat: elements each input gives per outer index
  // Sizes (meaning per kind).
  int in_features = 0;  // dense
  int units = 0;        // dense, bias_act
  int axis_size = 0;    // softmax
  int inner = 1;        // softmax, scale_shift
  int channels = 0;     // scale_shift
  int group = 0;        // layer_norm
  int features = 0;     // load (last-axis length)
  int total_chunk = 0;  // concat
  // Parameter offsets into the plan's float table (-1: absent).
  int p0 = -1, p1 = -1, p2 = -1;
  float epsilon = 0.0f;  // layer_norm
  ElementwiseActivation<float> act;
  MergeOp merge = MergeOp::add;
};

static_assert(sizeof(Op) % sizeof(float) == 0 && sizeof(Op) >= 16,
              "the fused kernel copies ops as float4s with one spare Op of padding");

namespace detail {

// Parameters may live in shared memory (fused kernel) or global memory, so
// loads are plain: no __ldg, which is defined for global memory only.
template <typename V>
TRIGNET_HOST_DEVICE TRIGNET_CUDA_INLINE V ld(const V* p) {
  return *p;
}

TRIGNET_HOST_DEVICE TRIGNET_CUDA_INLINE bool is_nan(float x) { return x != x; }

}  // namespace detail

/// Softmax over n elements with stride `stride`, from x into y (may alias):
/// the CPU engine's semantics (a NaN poisons the row, +inf entries share the mass).
TRIGNET_HOST_DEVICE TRIGNET_CUDA_INLINE void softmax_row(const float* x, float* y, int n,
                                                         int stride) {
  using std::exp;
  float max = -HUGE_VALF;
  bool nan = false;
  for (int k = 0; k < n; ++k) {
    const float v = x[k * stride];
    nan = nan || detail::is_nan(v);
    max = v > max ? v : max;
  }
  if (nan) {
    for (int k = 0; k < n; ++k) y[k * stride] = NAN;
    return;
  }
  if (max == HUGE_VALF) {
    int count = 0;
    for (int k = 0; k < n; ++k) count += x[k * stride] == max;
    for (int k = 0; k < n; ++k) y[k * stride] = x[k * stride] == max ? 1.0f / float(count) : 0.0f;
    return;
  }
  float sum = 0.0f;
  for (int k = 0; k < n; ++k) {
    const float e = exp(x[k * stride] - max);
    y[k * stride] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (int k = 0; k < n; ++k) y[k * stride] *= inv;
}

/// One work item of `op` for one sample. `P`: the float parameter table;
/// `I`: the int index table; `in[k]`, `out`: the sample's operand bases.
/// Writes only elements of `out` that belong to `item` (items are independent).
TRIGNET_HOST_DEVICE TRIGNET_CUDA_INLINE void eval_item(const Op& op, const float* P, const int* I,
                                                       const float* const* in, float* out,
                                                       int item) {
  using detail::ld;
  switch (op.kind) {
    case OpKind::load: {
      const int f = item % op.features;
      float x = in[0][item];
      if (op.p2 >= 0 && detail::is_nan(x)) x = ld(P + op.p2 + f);
      const float offset = op.p0 >= 0 ? ld(P + op.p0 + f) : 0.0f;
      const float scale = op.p1 >= 0 ? ld(P + op.p1 + f) : 1.0f;
      out[item] = (x - offset) * scale;
      return;
    }
    case OpKind::store:
      out[item] = in[0][item];
      return;
    case OpKind::dense: {
      const int row = item / op.units;
      const int j = item - row * op.units;
      const float* x = in[0] + row * op.in_features;
      const float* w = P + op.p0 + j;
      float acc = op.p1 >= 0 ? ld(P + op.p1 + j) : 0.0f;
      for (int k = 0; k < op.in_features; ++k) acc += x[k] * ld(w + k * op.units);
      out[item] = apply_activation(op.act, acc);
      return;
    }
    case OpKind::bias_act: {
      float y = out[item];
      if (op.p1 >= 0) y += ld(P + op.p1 + item % op.units);
      out[item] = apply_activation(op.act, y);
      return;
    }
    case OpKind::activation:
      out[item] = apply_activation(op.act, in[0][item]);
      return;
    case OpKind::softmax: {
      const int o = item / op.inner;
      const int i = item - o * op.inner;
      const int base = o * op.axis_size * op.inner + i;
      softmax_row(in[0] + base, out + base, op.axis_size, op.inner);
      return;
    }
    case OpKind::layer_norm: {
      using std::sqrt;
      const float* x = in[0] + item * op.group;
      float* y = out + item * op.group;
      const float n = float(op.group);
      float mean = 0.0f;
      for (int i = 0; i < op.group; ++i) mean += x[i];
      mean /= n;
      float var = 0.0f;  // two passes, as the CPU engine
      for (int i = 0; i < op.group; ++i) var += (x[i] - mean) * (x[i] - mean);
      var /= n;
      const float inv = 1.0f / sqrt(var + op.epsilon);
      for (int i = 0; i < op.group; ++i) {
        float v = (x[i] - mean) * inv;
        if (op.p0 >= 0) v *= ld(P + op.p0 + i);
        if (op.p1 >= 0) v += ld(P + op.p1 + i);
        y[i] = v;
      }
      return;
    }
    case OpKind::scale_shift: {
      const int c = (item / op.inner) % op.channels;
      out[item] = in[0][item] * ld(P + op.p0 + c) + ld(P + op.p1 + c);
      return;
    }
    case OpKind::gather:
      out[item] = in[0][ld(I + op.p0 + item)];
      return;
    case OpKind::concat: {
      const int o = item / op.total_chunk;
      int r = item - o * op.total_chunk;
      for (int k = 0; k < op.n_in; ++k) {
        if (r < op.chunk[k]) {
          out[item] = in[k][o * op.chunk[k] + r];
          return;
        }
        r -= op.chunk[k];
      }
      return;
    }
    case OpKind::merge: {
      float y = in[0][item];
      for (int k = 1; k < op.n_in; ++k) {
        const float x = in[k][item];
        switch (op.merge) {
          case MergeOp::add:
          case MergeOp::average: y += x; break;
          case MergeOp::subtract: y -= x; break;
          case MergeOp::multiply: y *= x; break;
          case MergeOp::maximum: y = (x > y || detail::is_nan(x)) ? x : y; break;
          case MergeOp::minimum: y = (x < y || detail::is_nan(x)) ? x : y; break;
        }
      }
      if (op.merge == MergeOp::average) y /= float(op.n_in);
      out[item] = y;
      return;
    }
  }
}

/// Dense over a block of up to dense_block_rows rows (a row: one sample's
/// input vector, or one row of a sample's tensor when Dense acts on its last
/// axis) and up to dense_block_units units u0, u0 + stride, u0 + 2 stride, ...
/// The fused kernel's Dense: each weight it loads serves 4 rows and each input
/// 4 units, so shared-memory traffic per multiply-add drops from two loads to
/// half a load. Every output is summed in the same order and with the same
/// expression as eval_item's dense item, so results are bit-identical to it.
/// x[r], y[r]: row r's input and output bases, r < nrows (1..4); units beyond
/// op.units are skipped. Reads the op's fields once (in the kernel the op lives
/// in shared memory, which the stores to y could alias).
inline constexpr int dense_block_rows = 4;
inline constexpr int dense_block_units = 4;

TRIGNET_HOST_DEVICE TRIGNET_CUDA_INLINE void dense_block(const Op& op, const float* P,
                                                         const float* const* x, float* const* y,
                                                         int nrows, int u0, int stride) {
  using detail::ld;
  constexpr int R = dense_block_rows, U = dense_block_units;
  const int n_in = op.in_features, units = op.units, p0 = op.p0, p1 = op.p1;
  // Out-of-range rows and units read row 0 / the last unit (valid memory,
  // no branch in the loop) and are not stored.
  int j[U];
  for (int u = 0; u < U; ++u) j[u] = u0 + u * stride < units ? u0 + u * stride : units - 1;
  const float* xr[R];
  for (int r = 0; r < R; ++r) xr[r] = x[r < nrows ? r : 0];
  float acc[R][U];
  for (int u = 0; u < U; ++u) {
    const float b = p1 >= 0 ? ld(P + p1 + j[u]) : 0.0f;
    for (int r = 0; r < R; ++r) acc[r][u] = b;
  }
  const float* w = P + p0;
  for (int k = 0; k < n_in; ++k) {
    float wk[U], xk[R];
    for (int u = 0; u < U; ++u) wk[u] = ld(w + k * units + j[u]);
    for (int r = 0; r < R; ++r) xk[r] = xr[r][k];
    for (int r = 0; r < R; ++r)
      for (int u = 0; u < U; ++u) acc[r][u] += xk[r] * wk[u];
  }
  const ElementwiseActivation<float> act = op.act;
  for (int r = 0; r < R; ++r) {
    if (r >= nrows) break;
    for (int u = 0; u < U; ++u)
      if (u0 + u * stride < units) y[r][j[u]] = apply_activation(act, acc[r][u]);
  }
}

}  // namespace trignet::cuda
