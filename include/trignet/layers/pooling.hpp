#pragma once
// Pooling and resampling: MaxPooling/AveragePooling 1D/2D, GlobalMax/
// GlobalAverage pooling 1D/2D, UpSampling1D/2D (nearest), ZeroPadding1D/2D,
// Cropping1D/2D. Parameters, validation and FLOPs (docs/format.md,
// "Convolution, pooling and resampling layers").

#include <optional>
#include <string>
#include <vector>

#include "trignet/layers/node_check.hpp"
#include "trignet/layers/spatial.hpp"

namespace trignet {

enum class PoolOp { max, average };

/// Node types "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D".
struct PoolParams {
  PoolOp op = PoolOp::max;
  std::size_t rank = 1;
  std::vector<std::size_t> pool_size;
  std::optional<std::vector<std::size_t>> strides;  // default pool_size
  Padding padding;
  bool count_include_pad = false;  // average only
  DataFormat data_format = DataFormat::channels_last;

  std::string type_name() const {
    return std::string(op == PoolOp::max ? "MaxPooling" : "AveragePooling") +
           std::to_string(rank) + "D";
  }
};

inline SpatialGeometry pool_geometry(const PoolParams& p, const NodeCheck& node) {
  const std::string type = p.type_name();
  SpatialGeometry g;
  g.format = p.data_format;
  g.rank = p.rank;
  spatial_input(node, p.rank, p.data_format, type, g.in, g.in_channels);
  g.out_channels = g.in_channels;
  g.kernel = spatial_values(node, "config.pool_size", &p.pool_size, p.rank, 1, type);
  g.stride = p.strides ? spatial_values(node, "config.strides", &*p.strides, p.rank, 1, type)
                       : g.kernel;
  if (p.op == PoolOp::max && p.count_include_pad)
    node.fail("config.count_include_pad", "only average pooling takes count_include_pad");
  resolve_windows(node, g, p.padding, "config.pool_size", type);
  // Explicit padding may not create a window made of padding alone (it would
  // have no maximum and, without count_include_pad, no mean). "same" never does.
  for (std::size_t a = 0; a < p.rank; ++a) {
    const std::size_t s = g.slot(a);
    const std::size_t last_start = (g.out[s] - 1) * g.stride[s];  // in padded coordinates
    if (g.before[s] >= g.kernel[s] || last_start >= g.before[s] + g.in[s])
      node.fail("config.padding",
                "padding " + std::to_string(g.before[s]) + " + " + std::to_string(g.after[s]) +
                    " on spatial axis " + std::to_string(a) +
                    " leaves a pooling window entirely in the padding (pool size " +
                    std::to_string(g.kernel[s]) + ", stride " + std::to_string(g.stride[s]) +
                    ", input length " + std::to_string(g.in[s]) + ")");
  }
  return g;
}

inline Shape check_layer(const PoolParams& p, const NodeCheck& node) {
  if (p.rank != 1 && p.rank != 2) node.fail("type", "spatial rank must be 1 or 2");
  node.allow_weights({});
  const SpatialGeometry g = pool_geometry(p, node);
  return join_spatial(g.out, g.out_channels, p.data_format, p.rank);
}

inline double layer_flops(const PoolParams& p, const std::vector<Shape>&, const Shape& out) {
  double k = 1;
  for (std::size_t v : p.pool_size) k *= static_cast<double>(v);
  return static_cast<double>(element_count(out)) * (k + (p.op == PoolOp::average ? 1.0 : 0.0));
}

/// Node types "GlobalMaxPooling1D/2D", "GlobalAveragePooling1D/2D".
struct GlobalPoolParams {
  PoolOp op = PoolOp::max;
  std::size_t rank = 1;
  bool keepdims = false;
  DataFormat data_format = DataFormat::channels_last;

  std::string type_name() const {
    return std::string(op == PoolOp::max ? "GlobalMaxPooling" : "GlobalAveragePooling") +
           std::to_string(rank) + "D";
  }
};

inline Shape check_layer(const GlobalPoolParams& p, const NodeCheck& node) {
  if (p.rank != 1 && p.rank != 2) node.fail("type", "spatial rank must be 1 or 2");
  node.allow_weights({});
  std::array<std::size_t, 2> len;
  std::size_t channels = 0;
  spatial_input(node, p.rank, p.data_format, p.type_name(), len, channels);
  if (!p.keepdims) return {channels};
  return join_spatial({1, 1}, channels, p.data_format, p.rank);
}

inline double layer_flops(const GlobalPoolParams& p, const std::vector<Shape>& in, const Shape&) {
  return static_cast<double>(element_count(in[0])) + (p.op == PoolOp::average ? 1.0 : 0.0);
}

/// Node types "UpSampling1D", "UpSampling2D" (nearest neighbour).
struct UpSamplingParams {
  std::size_t rank = 1;
  std::vector<std::size_t> size;
  DataFormat data_format = DataFormat::channels_last;

  std::string type_name() const { return "UpSampling" + std::to_string(rank) + "D"; }
};

inline Shape check_layer(const UpSamplingParams& p, const NodeCheck& node) {
  if (p.rank != 1 && p.rank != 2) node.fail("type", "spatial rank must be 1 or 2");
  node.allow_weights({});
  std::array<std::size_t, 2> len;
  std::size_t channels = 0;
  spatial_input(node, p.rank, p.data_format, p.type_name(), len, channels);
  const auto size = spatial_values(node, "config.size", &p.size, p.rank, 1, p.type_name());
  return join_spatial({len[0] * size[0], len[1] * size[1]}, channels, p.data_format, p.rank);
}

inline double layer_flops(const UpSamplingParams&, const std::vector<Shape>&, const Shape&) {
  return 0;
}

enum class SpatialPadKind { zero_padding, cropping };

/// Node types "ZeroPadding1D/2D" (config `padding`), "Cropping1D/2D" (config `cropping`).
struct SpatialPadParams {
  SpatialPadKind kind = SpatialPadKind::zero_padding;
  std::size_t rank = 1;
  std::vector<std::array<std::size_t, 2>> pairs;  // one [before, after] per spatial axis
  DataFormat data_format = DataFormat::channels_last;

  std::string type_name() const {
    return std::string(kind == SpatialPadKind::zero_padding ? "ZeroPadding" : "Cropping") +
           std::to_string(rank) + "D";
  }
  const char* field() const {
    return kind == SpatialPadKind::zero_padding ? "config.padding" : "config.cropping";
  }
};

inline Shape check_layer(const SpatialPadParams& p, const NodeCheck& node) {
  if (p.rank != 1 && p.rank != 2) node.fail("type", "spatial rank must be 1 or 2");
  node.allow_weights({});
  std::array<std::size_t, 2> len, before{0, 0}, after{0, 0};
  std::size_t channels = 0;
  spatial_input(node, p.rank, p.data_format, p.type_name(), len, channels);
  spatial_pairs(node, p.field(), p.pairs, p.rank, p.type_name(), before, after);
  std::array<std::size_t, 2> out = len;
  for (std::size_t a = 0; a < p.rank; ++a) {
    const std::size_t s = p.rank == 1 ? 1 : a;
    if (p.kind == SpatialPadKind::zero_padding) {
      out[s] = len[s] + before[s] + after[s];
    } else {
      if (before[s] + after[s] >= len[s])
        node.fail(p.field(), "cropping " + std::to_string(before[s]) + " + " +
                                 std::to_string(after[s]) + " on spatial axis " +
                                 std::to_string(a) + " leaves no cell of length " +
                                 std::to_string(len[s]));
      out[s] = len[s] - before[s] - after[s];
    }
  }
  return join_spatial(out, channels, p.data_format, p.rank);
}

inline double layer_flops(const SpatialPadParams&, const std::vector<Shape>&, const Shape&) {
  return 0;
}

}  // namespace trignet
