#pragma once
// Packed Dense kernels in float: y = act(x W + b) for rows of x.
//
// Layout: the output units are cut into panels of `width` units (the last
// one zero-padded) and the panels into groups of up to `group` panels. Each
// group is stored as its own [in][group width] row-major block, so a kernel
// working on one group streams one contiguous block (no cache-set conflicts
// from long row strides, prefetcher-friendly). The bias is padded to
// `units_pad`. Padded lanes compute act(0); they are stored only where the
// caller's output rows are padded too (y_cols == units_pad).
//
// - One row (batch 1), per group: the input features are split over 2 to 8
//   accumulator sets so that 8 or more independent FMA chains are in flight.
// - Several rows, per group: GEMM-like register tiles of MR rows x NR panels;
//   each weight vector loaded feeds MR FMAs, each broadcast input feeds NR.
// Bias and activation are applied to the accumulators before the store; a
// softmax over at most one vector of units too (in registers, no round trip).

#include <algorithm>
#include <cstddef>
#include <limits>

#include "trignet/simd/activation.hpp"

namespace trignet::simd {
inline namespace TRIGNET_SIMD_NS {

namespace kernel {
#if TRIGNET_SIMD_LEVEL == 3
inline constexpr std::size_t group = 4;  // 32 registers: tiles up to 6 x 4 = 24 accumulators
template <int NR> inline constexpr int mr = NR == 4 ? 6 : NR == 3 ? 8 : 12;
#elif TRIGNET_SIMD_LEVEL == 0
inline constexpr std::size_t group = 4;
template <int NR> inline constexpr int mr = 4;
#else
inline constexpr std::size_t group = 2;  // 16 registers: 6 x 2 = 12 accumulators
template <int NR> inline constexpr int mr = NR == 2 ? 6 : 8;
#endif
}  // namespace kernel

/// Packed weights of one Dense layer (non-owning view).
struct DenseView {
  const float* w = nullptr;  // panel groups, each [in][panels in group * width]
  const float* b = nullptr;  // [units_pad]
  std::size_t in = 0, units = 0, units_pad = 0;
};

/// Floats of packed storage for a layer: weights, then bias.
constexpr std::size_t packed_dense_size(std::size_t in, std::size_t units) {
  return (in + 1) * round_up(units);
}

/// Packs a row-major [in][units] kernel and optional bias into `dst`
/// (packed_dense_size floats) and returns the view on it.
template <typename Src>
inline DenseView pack_dense(const Src* kernel, const Src* bias, std::size_t in, std::size_t units,
                            float* dst) {
  const std::size_t up = round_up(units);
  const std::size_t group_cols = kernel::group * width;
  for (std::size_t c0 = 0; c0 < up; c0 += group_cols) {
    const std::size_t cols = std::min(group_cols, up - c0);
    float* block = dst + c0 * in;
    for (std::size_t i = 0; i < in; ++i)
      for (std::size_t j = 0; j < cols; ++j)
        block[i * cols + j] = c0 + j < units ? static_cast<float>(kernel[i * units + c0 + j]) : 0.0f;
  }
  float* b = dst + in * up;
  for (std::size_t j = 0; j < up; ++j) b[j] = bias && j < units ? static_cast<float>(bias[j]) : 0.0f;
  return DenseView{dst, b, in, units, up};
}

namespace kernel {

/// Bias, activation and store of one accumulator vector (output columns
/// col..col+width of a row with `units` outputs).
template <ActivationKind K>
inline void finish(vf acc, const float* bias, float* y, std::size_t valid, std::size_t units,
                   const ActParams& p) {
  if constexpr (K == ActivationKind::softmax) {
    constexpr float inf = std::numeric_limits<float>::infinity();
    if (units <= width)
      return softmax_vector(select(first_lanes(units), acc + load(bias), set1(-inf)), y, units, valid);
  }
  store_lanes(y, apply<K>(acc + load(bias), p), valid);
}

/// Whether dense_row / dense_rows leave the softmax to softmax_row after the
/// stores (a row wider than one vector).
template <ActivationKind K>
constexpr bool softmax_after(std::size_t units) {
  return K == ActivationKind::softmax && units > width;
}

/// acc[0][c] = the sum of acc[0..S)[c], pairwise (a short dependency chain):
/// sets 1 into 0, 3 into 2, ..., then 2 into 0, ... Steps are template
/// arguments so that every loop unrolls and the accumulators stay in
/// registers (a run-time step sent them through the stack).
template <int S, int C, int Step = 1>
inline void sum_sets(vf (&acc)[S][C]) {
  if constexpr (Step < S) {
#pragma GCC unroll 16
    for (int s = 0; s + Step < S; s += 2 * Step)
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) acc[s][c] = acc[s][c] + acc[s + Step][c];
    sum_sets<S, C, 2 * Step>(acc);
  }
}

/// One row, the C panels of the group at column col0, input features split
/// over S accumulator sets. In: d.in when known at compile time (0: not).
template <ActivationKind K, int C, int S, std::size_t In = 0>
inline void gemv_block(const DenseView& d, const float* x, float* y, std::size_t y_cols,
                       std::size_t col0, const ActParams& p) {
  const std::size_t in = In ? In : d.in;
  vf acc[S][C];
#pragma GCC unroll 16
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[s][c] = zero();
  const std::size_t up = static_cast<std::size_t>(C) * width;  // the group's row length
  const float* w = d.w + col0 * in;
  const std::size_t full = in - in % S;  // (i < full, not i + S <= in: GCC then sees the tail's trip count)
  for (std::size_t i = 0; i < full; i += S) {
#pragma GCC unroll 16
    for (int s = 0; s < S; ++s) {
      const vf xb = set1(x[i + s]);
      const float* row = w + (i + s) * up;
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) acc[s][c] = fmadd(xb, load(row + c * width), acc[s][c]);
    }
  }
  for (std::size_t i = full; i < in; ++i) {
    const vf xb = set1(x[i]);
    const float* row = w + i * up;
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[0][c] = fmadd(xb, load(row + c * width), acc[0][c]);
  }
  sum_sets<S, C>(acc);
#pragma GCC unroll 16
  for (int c = 0; c < C; ++c) {
    const std::size_t col = col0 + static_cast<std::size_t>(c) * width;
    finish<K>(acc[0][c], d.b + col, y + col, y_cols - col, d.units, p);
  }
}

/// MR rows x the NR panels of the group at column col0.
template <ActivationKind K, int MR, int NR>
inline void gemm_block(const DenseView& d, const float* x, std::size_t x_stride, float* y,
                       std::size_t y_stride, std::size_t y_cols, std::size_t col0,
                       const ActParams& p) {
  vf acc[MR][NR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NR; ++c) acc[r][c] = zero();
  const std::size_t up = static_cast<std::size_t>(NR) * width;  // the group's row length
  const float* w = d.w + col0 * d.in;
  for (std::size_t i = 0; i < d.in; ++i) {
    const float* row = w + i * up;
    vf wv[NR];
#pragma GCC unroll 16
    for (int c = 0; c < NR; ++c) wv[c] = load(row + c * width);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const vf xb = set1(x[static_cast<std::size_t>(r) * x_stride + i]);
#pragma GCC unroll 16
      for (int c = 0; c < NR; ++c) acc[r][c] = fmadd(xb, wv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NR; ++c) {
      const std::size_t col = col0 + static_cast<std::size_t>(c) * width;
      finish<K>(acc[r][c], d.b + col, y + static_cast<std::size_t>(r) * y_stride + col, y_cols - col, d.units, p);
    }
}

/// Accumulator sets of the one-row kernel for C panels: 8 or more chains.
template <int C>
inline constexpr int row_sets = C == 1 ? 8 : C == 2 ? 4 : C == 3 ? 3 : 2;

template <ActivationKind K, int NR>
inline void gemm_panels(const DenseView& d, const float* x, std::size_t x_stride, float* y,
                        std::size_t y_stride, std::size_t y_cols, std::size_t rows,
                        std::size_t col0, const ActParams& p) {
  constexpr std::size_t m = static_cast<std::size_t>(mr<NR>);
  std::size_t r = 0;
  for (; r + m <= rows; r += m)
    gemm_block<K, mr<NR>, NR>(d, x + r * x_stride, x_stride, y + r * y_stride, y_stride, y_cols, col0, p);
  // Left-over rows, one at a time with the one-row kernel (a 1 x NR tile
  // would be NR chains only, as long as the input).
  for (; r < rows; ++r)
    gemv_block<K, NR, row_sets<NR>>(d, x + r * x_stride, y + r * y_stride, y_cols, col0, p);
}

}  // namespace kernel

/// One row: y[0..y_cols) = act(x W + b). y_cols is d.units, or d.units_pad
/// when y has room for the padded lanes (they are then written too).
template <ActivationKind K>
inline void dense_row(const DenseView& d, const float* x, float* y, std::size_t y_cols,
                      const ActParams& p) {
  using namespace kernel;
  const std::size_t panels = d.units_pad / width;
  for (std::size_t c = 0; c < panels; c += group) {
    switch (std::min(group, panels - c)) {
      case 1: gemv_block<K, 1, row_sets<1>>(d, x, y, y_cols, c * width, p); break;
      case 2: gemv_block<K, 2, row_sets<2>>(d, x, y, y_cols, c * width, p); break;
#if TRIGNET_SIMD_LEVEL == 3 || TRIGNET_SIMD_LEVEL == 0
      case 3: gemv_block<K, 3, row_sets<3>>(d, x, y, y_cols, c * width, p); break;
      case 4: gemv_block<K, 4, row_sets<4>>(d, x, y, y_cols, c * width, p); break;
#endif
      default: break;
    }
  }
  if (softmax_after<K>(d.units)) softmax_row(y, d.units);
}

namespace kernel {
/// One row over all Panels panels of a layer with In inputs in one pass
/// (sizes known at compile time, Panels <= 8): one broadcast per input feeds
/// every panel, whichever packed group it lies in. With more panels than a
/// group the sums differ from dense_row's in the last bits (one set count for
/// all panels).
template <ActivationKind K, std::size_t In, std::size_t Panels>
inline void gemv_pass(const DenseView& d, const float* x, float* y, std::size_t y_cols,
                      const ActParams& p) {
  static_assert(Panels <= 8, "gemv_pass: at most 8 panels (16 accumulators)");
  constexpr int C = static_cast<int>(Panels), S = row_sets<C>;
  // Panel c lies in group c / group, at column (c % group) * width of that
  // group's [In][group width] block.
  constexpr auto offset = [](int c) {
    const std::size_t g = static_cast<std::size_t>(c) / group;
    return g * group * width * In + (static_cast<std::size_t>(c) % group) * width;
  };
  constexpr auto stride = [](int c) {
    const std::size_t g0 = static_cast<std::size_t>(c) / group * group;
    return std::min(group, Panels - g0) * width;
  };
  vf acc[S][C];
#pragma GCC unroll 16
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[s][c] = zero();
  std::size_t i = 0;
  for (; i + S <= In; i += S) {
#pragma GCC unroll 16
    for (int s = 0; s < S; ++s) {
      const vf xb = set1(x[i + s]);
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) acc[s][c] = fmadd(xb, load(d.w + offset(c) + (i + s) * stride(c)), acc[s][c]);
    }
  }
  if constexpr (In % S != 0)
    for (; i < In; ++i) {
      const vf xb = set1(x[i]);
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) acc[0][c] = fmadd(xb, load(d.w + offset(c) + i * stride(c)), acc[0][c]);
    }
  sum_sets<S, C>(acc);
#pragma GCC unroll 16
  for (int c = 0; c < C; ++c) {
    const std::size_t col = static_cast<std::size_t>(c) * width;
    finish<K>(acc[0][c], d.b + col, y + col, y_cols - col, d.units, p);
  }
}

/// The groups of panels First.. of a one-row layer with In inputs and Panels
/// panels, all known at compile time: one specialised block per group.
template <ActivationKind K, std::size_t In, std::size_t Panels, std::size_t First = 0>
inline void gemv_groups(const DenseView& d, const float* x, float* y, std::size_t y_cols,
                        const ActParams& p) {
  constexpr int C = static_cast<int>(std::min(group, Panels - First));
  gemv_block<K, C, row_sets<C>, In>(d, x, y, y_cols, First * width, p);
  if constexpr (First + C < Panels) gemv_groups<K, In, Panels, First + C>(d, x, y, y_cols, p);
}
}  // namespace kernel

/// dense_row for a layer whose sizes are compile-time constants (d.in == In,
/// d.units == Units; the compile-time networks): no run-time dispatch over
/// groups, constant weight offsets; the same bits as dense_row.
template <ActivationKind K, std::size_t In, std::size_t Units>
inline void dense_row_fixed(const DenseView& d, const float* x, float* y, std::size_t y_cols,
                            const ActParams& p) {
  kernel::gemv_groups<K, In, round_up(Units) / width>(d, x, y, y_cols, p);
  if constexpr (kernel::softmax_after<K>(Units)) softmax_row(y, Units);
}

/// dense_row_fixed in one pass over all panels when there are at most 8
/// (kernel::gemv_pass; the GRU's three gates), else per group.
template <ActivationKind K, std::size_t In, std::size_t Units>
inline void dense_row_one_pass(const DenseView& d, const float* x, float* y, std::size_t y_cols,
                               const ActParams& p) {
  constexpr std::size_t panels = round_up(Units) / width;
  if constexpr (panels <= 8)
    kernel::gemv_pass<K, In, panels>(d, x, y, y_cols, p);
  else
    kernel::gemv_groups<K, In, panels>(d, x, y, y_cols, p);
  if constexpr (kernel::softmax_after<K>(Units)) softmax_row(y, Units);
}

/// `rows` rows: x rows are x_stride apart, y rows y_stride apart.
/// Softmax (K == softmax) is over each row's d.units values.
template <ActivationKind K>
inline void dense_rows(const DenseView& d, const float* x, std::size_t x_stride, float* y,
                       std::size_t y_stride, std::size_t y_cols, std::size_t rows,
                       const ActParams& p) {
  using namespace kernel;
  if (rows == 1) return dense_row<K>(d, x, y, y_cols, p);
  const std::size_t panels = d.units_pad / width;
  for (std::size_t c = 0; c < panels; c += group) {
    switch (std::min(group, panels - c)) {
      case 1: gemm_panels<K, 1>(d, x, x_stride, y, y_stride, y_cols, rows, c * width, p); break;
      case 2: gemm_panels<K, 2>(d, x, x_stride, y, y_stride, y_cols, rows, c * width, p); break;
#if TRIGNET_SIMD_LEVEL == 3 || TRIGNET_SIMD_LEVEL == 0
      case 3: gemm_panels<K, 3>(d, x, x_stride, y, y_stride, y_cols, rows, c * width, p); break;
      case 4: gemm_panels<K, 4>(d, x, x_stride, y, y_stride, y_cols, rows, c * width, p); break;
#endif
      default: break;
    }
  }
  if (softmax_after<K>(d.units))
    for (std::size_t r = 0; r < rows; ++r) softmax_row(y + r * y_stride, d.units);
}

}  // inline namespace TRIGNET_SIMD_NS
}  // namespace trignet::simd
