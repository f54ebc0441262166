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
// Bias and activation are applied to the accumulators before the store.

#include <algorithm>
#include <cstddef>

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

template <ActivationKind K>
inline void finish(vf acc, const float* bias, float* y, std::size_t valid, const ActParams& p) {
  const vf r = apply<K>(acc + load(bias), p);
  if (valid >= width)
    store(y, r);
  else
    store_partial(y, r, valid);
}

/// One row, the C panels of the group at column col0, input features split
/// over S accumulator sets.
template <ActivationKind K, int C, int S>
inline void gemv_block(const DenseView& d, const float* x, float* y, std::size_t y_cols,
                       std::size_t col0, const ActParams& p) {
  vf acc[S][C];
#pragma GCC unroll 16
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[s][c] = zero();
  const std::size_t up = static_cast<std::size_t>(C) * width;  // the group's row length
  const float* w = d.w + col0 * d.in;
  std::size_t i = 0;
  for (; i + S <= d.in; i += S) {
#pragma GCC unroll 16
    for (int s = 0; s < S; ++s) {
      const vf xb = set1(x[i + s]);
      const float* row = w + (i + s) * up;
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) acc[s][c] = fmadd(xb, load(row + c * width), acc[s][c]);
    }
  }
  for (; i < d.in; ++i) {
    const vf xb = set1(x[i]);
    const float* row = w + i * up;
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[0][c] = fmadd(xb, load(row + c * width), acc[0][c]);
  }
#pragma GCC unroll 16
  for (int c = 0; c < C; ++c) {
#pragma GCC unroll 16
    for (int step = 1; step < S; step *= 2)  // pairwise: short dependency chain
#pragma GCC unroll 16
      for (int s = 0; s + step < S; s += 2 * step) acc[s][c] = acc[s][c] + acc[s + step][c];
    const std::size_t col = col0 + static_cast<std::size_t>(c) * width;
    finish<K>(acc[0][c], d.b + col, y + col, y_cols - col, p);
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
      finish<K>(acc[r][c], d.b + col, y + static_cast<std::size_t>(r) * y_stride + col, y_cols - col, p);
    }
}

template <ActivationKind K, int NR>
inline void gemm_panels(const DenseView& d, const float* x, std::size_t x_stride, float* y,
                        std::size_t y_stride, std::size_t y_cols, std::size_t rows,
                        std::size_t col0, const ActParams& p) {
  constexpr std::size_t m = static_cast<std::size_t>(mr<NR>);
  std::size_t r = 0;
  for (; r + m <= rows; r += m)
    gemm_block<K, mr<NR>, NR>(d, x + r * x_stride, x_stride, y + r * y_stride, y_stride, y_cols, col0, p);
  for (; r < rows; ++r)
    gemm_block<K, 1, NR>(d, x + r * x_stride, x_stride, y + r * y_stride, y_stride, y_cols, col0, p);
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
      case 1: gemv_block<K, 1, 8>(d, x, y, y_cols, c * width, p); break;
      case 2: gemv_block<K, 2, 4>(d, x, y, y_cols, c * width, p); break;
#if TRIGNET_SIMD_LEVEL == 3 || TRIGNET_SIMD_LEVEL == 0
      case 3: gemv_block<K, 3, 3>(d, x, y, y_cols, c * width, p); break;
      case 4: gemv_block<K, 4, 2>(d, x, y, y_cols, c * width, p); break;
#endif
      default: break;
    }
  }
  if constexpr (K == ActivationKind::softmax) softmax_row(y, d.units);
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
  if constexpr (K == ActivationKind::softmax)
    for (std::size_t r = 0; r < rows; ++r) softmax_row(y + r * y_stride, d.units);
}

}  // inline namespace TRIGNET_SIMD_NS
}  // namespace trignet::simd
