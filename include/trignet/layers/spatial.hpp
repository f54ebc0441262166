#pragma once
// Shared vocabulary of the spatial layers (convolution, pooling, resampling):
// data format, padding, output lengths, and the resolved per-axis geometry
// every backend computes from. Plain C++ (no Eigen): CUDA code includes it.
//
// Internally every spatial tensor is seen as [H, W, C] (channels_last) or
// [C, H, W] (channels_first); a 1D tensor is the 2D case with H = 1, so the
// kernels are written once.

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "trignet/layers/node_check.hpp"
#include "trignet/shape.hpp"

namespace trignet {

enum class DataFormat { channels_last, channels_first };

inline const char* data_format_name(DataFormat f) {
  return f == DataFormat::channels_first ? "channels_first" : "channels_last";
}

/// "valid", "same", or explicit [before, after] pairs (one per spatial axis).
struct Padding {
  enum class Mode { valid, same, explicit_pairs };
  Mode mode = Mode::valid;
  std::vector<std::array<std::size_t, 2>> pairs;  // Mode::explicit_pairs only
};

/// Largest kernel/stride/dilation/size/padding entry the format accepts (keeps
/// every length computation far from size_t overflow).
inline constexpr std::size_t max_spatial_value = std::size_t(1) << 31;

/// Effective kernel extent with dilation: d*(k-1) + 1.
inline std::size_t effective_kernel(std::size_t k, std::size_t d) { return d * (k - 1) + 1; }

/// [before, after] of "same" padding for a forward window: output ceil(n/s),
/// total max((ceil(n/s)-1)*s + e - n, 0), floor(total/2) before.
inline std::array<std::size_t, 2> same_padding(std::size_t n, std::size_t e, std::size_t s) {
  const std::size_t out = (n + s - 1) / s;
  const std::size_t need = (out - 1) * s + e;
  const std::size_t total = need > n ? need - n : 0;
  return {total / 2, total - total / 2};
}

/// [before, after] of "same" padding for a transposed convolution: total
/// max(e - s, 0), floor(total/2) before.
inline std::array<std::size_t, 2> same_padding_transpose(std::size_t e, std::size_t s) {
  const std::size_t total = e > s ? e - s : 0;
  return {total / 2, total - total / 2};
}

/// Geometry of one spatial layer, resolved against its input shape, with the
/// 1D case mapped to H = 1 (index 0 = H, 1 = W).
struct SpatialGeometry {
  DataFormat format = DataFormat::channels_last;
  std::size_t rank = 1;  // spatial axes: 1 or 2
  std::array<std::size_t, 2> in{1, 1};
  std::array<std::size_t, 2> out{1, 1};
  std::array<std::size_t, 2> kernel{1, 1};
  std::array<std::size_t, 2> stride{1, 1};
  std::array<std::size_t, 2> dilation{1, 1};
  std::array<std::size_t, 2> before{0, 0};
  std::array<std::size_t, 2> after{0, 0};
  std::size_t in_channels = 0;
  std::size_t out_channels = 0;

  std::size_t in_positions() const { return in[0] * in[1]; }
  std::size_t out_positions() const { return out[0] * out[1]; }
  /// Index 0/1 of the internal arrays that spatial axis `axis` (0-based, in
  /// file order) maps to.
  std::size_t slot(std::size_t axis) const { return rank == 1 ? 1 : axis; }
};

/// Element strides of one sample in [H, W, C] terms.
struct SpatialStrides {
  std::size_t h, w, c;
};

inline SpatialStrides spatial_strides(DataFormat f, std::size_t H, std::size_t W, std::size_t C) {
  if (f == DataFormat::channels_first) return {W, 1, H * W};
  return {W * C, C, 1};
}

/// Splits a per-sample shape into spatial lengths and channels.
inline void split_spatial(const Shape& shape, DataFormat f, std::size_t rank,
                          std::array<std::size_t, 2>& lengths, std::size_t& channels) {
  lengths = {1, 1};
  const std::size_t first_spatial = f == DataFormat::channels_first ? 1 : 0;
  channels = f == DataFormat::channels_first ? shape[0] : shape[rank];
  for (std::size_t a = 0; a < rank; ++a) lengths[rank == 1 ? 1 : a] = shape[first_spatial + a];
}

/// Per-sample shape from spatial lengths (internal H/W slots) and channels.
inline Shape join_spatial(const std::array<std::size_t, 2>& lengths, std::size_t channels,
                          DataFormat f, std::size_t rank) {
  Shape s;
  if (f == DataFormat::channels_first) s.push_back(channels);
  for (std::size_t a = 0; a < rank; ++a) s.push_back(lengths[rank == 1 ? 1 : a]);
  if (f == DataFormat::channels_last) s.push_back(channels);
  return s;
}

/// "[length, channels]" and friends, for rank messages.
inline std::string spatial_layout_text(DataFormat f, std::size_t rank) {
  if (f == DataFormat::channels_first) return rank == 1 ? "[channels, length]" : "[channels, height, width]";
  return rank == 1 ? "[length, channels]" : "[height, width, channels]";
}

// ---------------------------------------------------------------------------
// Validation helpers shared by the spatial layers (messages name the field).

/// One entry per spatial axis: `values` (or `fill` repeated when absent).
inline std::array<std::size_t, 2> spatial_values(const NodeCheck& node, const std::string& field,
                                                 const std::vector<std::size_t>* values,
                                                 std::size_t rank, std::size_t fill,
                                                 const std::string& type, bool allow_zero = false) {
  std::array<std::size_t, 2> out{fill, fill};
  if (!values) return out;
  if (values->size() != rank)
    node.fail(field, "expected " + std::to_string(rank) + (rank == 1 ? " entry" : " entries") +
                         " (one per spatial axis) for " + type + ", found " +
                         std::to_string(values->size()));
  for (std::size_t a = 0; a < rank; ++a) {
    const std::size_t v = (*values)[a];
    if (v == 0 && !allow_zero)
      node.fail(field + "[" + std::to_string(a) + "]", "expected a positive integer, found 0");
    if (v > max_spatial_value)
      node.fail(field + "[" + std::to_string(a) + "]",
                "expected at most " + std::to_string(max_spatial_value) + ", found " +
                    std::to_string(v));
    out[rank == 1 ? 1 : a] = v;
  }
  return out;
}

/// Checks the input rank of a spatial layer and splits its shape.
inline void spatial_input(const NodeCheck& node, std::size_t rank, DataFormat f,
                          const std::string& type, std::array<std::size_t, 2>& lengths,
                          std::size_t& channels) {
  node.expect_inputs(1);
  const Shape& in = node.input(0);
  if (in.size() != rank + 1)
    node.fail("inputs", "expected an input of per-sample rank " + std::to_string(rank + 1) + " " +
                            spatial_layout_text(f, rank) + " for " + type + " (" +
                            data_format_name(f) + "), found shape " + to_string(in));
  split_spatial(in, f, rank, lengths, channels);
}

/// Explicit [before, after] pairs: one per spatial axis, each at most max_spatial_value.
inline void spatial_pairs(const NodeCheck& node, const std::string& field,
                          const std::vector<std::array<std::size_t, 2>>& pairs, std::size_t rank,
                          const std::string& type, std::array<std::size_t, 2>& before,
                          std::array<std::size_t, 2>& after) {
  if (pairs.size() != rank)
    node.fail(field, "expected " + std::to_string(rank) + " [before, after] pair" +
                         (rank == 1 ? "" : "s") + " (one per spatial axis) for " + type +
                         ", found " + std::to_string(pairs.size()));
  for (std::size_t a = 0; a < rank; ++a)
    for (std::size_t k = 0; k < 2; ++k) {
      if (pairs[a][k] > max_spatial_value)
        node.fail(field + "[" + std::to_string(a) + "][" + std::to_string(k) + "]",
                  "expected at most " + std::to_string(max_spatial_value) + ", found " +
                      std::to_string(pairs[a][k]));
      (k == 0 ? before : after)[rank == 1 ? 1 : a] = pairs[a][k];
    }
}

/// Forward-window geometry (convolution, depthwise, pooling): padding and
/// output lengths, with the kernel checked against the padded input.
/// `kernel_field` is "config.kernel_size" or "config.pool_size".
inline void resolve_windows(const NodeCheck& node, SpatialGeometry& g, const Padding& padding,
                            const std::string& kernel_field, const std::string& type) {
  if (padding.mode == Padding::Mode::explicit_pairs)
    spatial_pairs(node, "config.padding", padding.pairs, g.rank, type, g.before, g.after);
  for (std::size_t a = 0; a < g.rank; ++a) {
    const std::size_t s = g.slot(a);
    const std::size_t e = effective_kernel(g.kernel[s], g.dilation[s]);
    if (padding.mode == Padding::Mode::same) {
      const auto p = same_padding(g.in[s], e, g.stride[s]);
      g.before[s] = p[0];
      g.after[s] = p[1];
    } else if (padding.mode == Padding::Mode::valid) {
      g.before[s] = g.after[s] = 0;
    }
    const std::size_t padded = g.in[s] + g.before[s] + g.after[s];
    if (padded < e) {
      std::string what = "kernel " + std::to_string(g.kernel[s]);
      if (g.dilation[s] != 1)
        what += " with dilation " + std::to_string(g.dilation[s]) + " (extent " +
                std::to_string(e) + ")";
      node.fail(kernel_field,
                what + " is larger than the padded input on spatial axis " + std::to_string(a) +
                    ": length " + std::to_string(g.in[s]) + " + padding " +
                    std::to_string(g.before[s]) + " + " + std::to_string(g.after[s]) + " = " +
                    std::to_string(padded) + " (no output position)");
    }
    g.out[s] = (padded - e) / g.stride[s] + 1;
  }
}

}  // namespace trignet
