#pragma once
// Convolutions: Conv1D/2D (groups), DepthwiseConv1D/2D, SeparableConv1D/2D,
// Conv1DTranspose/Conv2DTranspose. Parameters, validation and FLOPs
// (docs/format.md, "Convolution, pooling and resampling layers").

#include <optional>
#include <string>
#include <vector>

#include "trignet/layers/activation.hpp"
#include "trignet/layers/node_check.hpp"
#include "trignet/layers/spatial.hpp"

namespace trignet {

enum class ConvKind { conv, depthwise, separable, transpose };

/// Node types "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D",
/// "SeparableConv1D", "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose".
struct ConvParams {
  ConvKind kind = ConvKind::conv;
  std::size_t rank = 1;     // spatial axes
  std::size_t filters = 0;  // conv, separable, transpose
  std::vector<std::size_t> kernel_size;
  std::optional<std::vector<std::size_t>> strides;         // default all 1
  std::optional<std::vector<std::size_t>> dilation_rate;   // default all 1
  std::optional<std::vector<std::size_t>> output_padding;  // transpose; default all 0
  Padding padding;
  std::size_t groups = 1;            // conv
  std::size_t depth_multiplier = 1;  // depthwise, separable
  bool use_bias = true;
  Activation activation;
  DataFormat data_format = DataFormat::channels_last;

  std::string type_name() const {
    const std::string r = std::to_string(rank) + "D";
    switch (kind) {
      case ConvKind::conv: return "Conv" + r;
      case ConvKind::depthwise: return "DepthwiseConv" + r;
      case ConvKind::separable: return "SeparableConv" + r;
      case ConvKind::transpose: return "Conv" + r + "Transpose";
    }
    return "Conv" + r;
  }
};

/// Validates everything but the weights and returns the resolved geometry.
inline SpatialGeometry conv_geometry(const ConvParams& p, const NodeCheck& node) {
  const std::string type = p.type_name();
  SpatialGeometry g;
  g.format = p.data_format;
  g.rank = p.rank;
  spatial_input(node, p.rank, p.data_format, type, g.in, g.in_channels);
  g.kernel = spatial_values(node, "config.kernel_size", &p.kernel_size, p.rank, 1, type);
  g.stride = spatial_values(node, "config.strides", p.strides ? &*p.strides : nullptr, p.rank, 1, type);
  g.dilation = spatial_values(node, "config.dilation_rate",
                              p.dilation_rate ? &*p.dilation_rate : nullptr, p.rank, 1, type);
  const bool needs_filters = p.kind != ConvKind::depthwise;
  if (needs_filters && p.filters == 0)
    node.fail("config.filters", "expected a positive integer, found 0");
  if (p.kind == ConvKind::depthwise || p.kind == ConvKind::separable) {
    if (p.depth_multiplier == 0)
      node.fail("config.depth_multiplier", "expected a positive integer, found 0");
  }
  switch (p.kind) {
    case ConvKind::conv:
      if (p.groups == 0) node.fail("config.groups", "expected a positive integer, found 0");
      if (g.in_channels % p.groups != 0)
        node.fail("config.groups", "groups " + std::to_string(p.groups) +
                                       " does not divide the " + std::to_string(g.in_channels) +
                                       " input channels");
      if (p.filters % p.groups != 0)
        node.fail("config.groups", "groups " + std::to_string(p.groups) +
                                       " does not divide filters " + std::to_string(p.filters));
      g.out_channels = p.filters;
      break;
    case ConvKind::depthwise:
      g.out_channels = g.in_channels * p.depth_multiplier;
      break;
    case ConvKind::separable:
    case ConvKind::transpose:
      g.out_channels = p.filters;
      break;
  }
  if (p.kind != ConvKind::transpose) {
    if (p.output_padding)
      node.fail("config.output_padding", "only transposed convolutions take output_padding");
    resolve_windows(node, g, p.padding, "config.kernel_size", type);
  } else {
    const auto op = spatial_values(node, "config.output_padding",
                                   p.output_padding ? &*p.output_padding : nullptr, p.rank, 0,
                                   type, true);
    if (p.padding.mode == Padding::Mode::explicit_pairs)
      spatial_pairs(node, "config.padding", p.padding.pairs, p.rank, type, g.before, g.after);
    for (std::size_t a = 0; a < p.rank; ++a) {
      const std::size_t s = g.slot(a);
      const std::size_t e = effective_kernel(g.kernel[s], g.dilation[s]);
      if (op[s] >= g.stride[s] && op[s] >= g.dilation[s])
        node.fail("config.output_padding[" + std::to_string(a) + "]",
                  "output_padding " + std::to_string(op[s]) +
                      " must be smaller than the stride (" + std::to_string(g.stride[s]) +
                      ") or the dilation (" + std::to_string(g.dilation[s]) + ")");
      const std::size_t full = (g.in[s] - 1) * g.stride[s] + e + op[s];
      if (p.padding.mode == Padding::Mode::same) {
        // Output length n*s (Keras, TensorFlow); with e < s the last s - e
        // positions are beyond every tap and hold the bias only.
        if (op[s])
          node.fail("config.output_padding[" + std::to_string(a) + "]",
                    "must be 0 with \"same\" padding (write explicit padding instead)");
        g.before[s] = same_padding_transpose(e, g.stride[s])[0];
        g.out[s] = g.in[s] * g.stride[s];
        g.after[s] = full > g.before[s] + g.out[s] ? full - g.before[s] - g.out[s] : 0;
        continue;
      }
      if (p.padding.mode == Padding::Mode::valid) g.before[s] = g.after[s] = 0;
      if (g.before[s] + g.after[s] >= full)
        node.fail("config.padding",
                  "padding " + std::to_string(g.before[s]) + " + " + std::to_string(g.after[s]) +
                      " on spatial axis " + std::to_string(a) +
                      " removes the whole output (full length " + std::to_string(full - op[s]) +
                      (op[s] ? " + output_padding " + std::to_string(op[s]) : std::string()) +
                      ")");
      g.out[s] = full - g.before[s] - g.after[s];
    }
  }
  return g;
}

inline Shape check_layer(const ConvParams& p, const NodeCheck& node) {
  if (p.rank != 1 && p.rank != 2) node.fail("type", "spatial rank must be 1 or 2");
  const SpatialGeometry g = conv_geometry(p, node);
  Shape kshape;
  for (std::size_t a = 0; a < p.rank; ++a) kshape.push_back(g.kernel[g.slot(a)]);
  auto with = [&](Shape s, std::size_t x, std::size_t y) {
    s.push_back(x);
    s.push_back(y);
    return s;
  };
  std::size_t bias_size = g.out_channels;
  switch (p.kind) {
    case ConvKind::conv:
      node.allow_weights({"kernel", "bias"});
      node.weight("kernel", with(kshape, g.in_channels / p.groups, p.filters), true,
                  "kernel_size..., input channels / groups, filters");
      break;
    case ConvKind::depthwise:
      node.allow_weights({"kernel", "bias"});
      node.weight("kernel", with(kshape, g.in_channels, p.depth_multiplier), true,
                  "kernel_size..., input channels, depth_multiplier");
      break;
    case ConvKind::separable: {
      node.allow_weights({"depthwise_kernel", "pointwise_kernel", "bias"});
      node.weight("depthwise_kernel", with(kshape, g.in_channels, p.depth_multiplier), true,
                  "kernel_size..., input channels, depth_multiplier");
      node.weight("pointwise_kernel",
                  with(Shape(p.rank, 1), g.in_channels * p.depth_multiplier, p.filters), true,
                  "1..., input channels * depth_multiplier, filters");
      break;
    }
    case ConvKind::transpose:
      node.allow_weights({"kernel", "bias"});
      node.weight("kernel", with(kshape, p.filters, g.in_channels), true,
                  "kernel_size..., filters, input channels");
      break;
  }
  const Shape bias_shape{bias_size};
  if (p.use_bias) {
    node.weight("bias", bias_shape, true, "output channels");
  } else if (node.weight("bias", bias_shape, false)) {
    node.fail("weights.bias", "unexpected bias: config.use_bias is false");
  }
  const Shape out = join_spatial(g.out, g.out_channels, p.data_format, p.rank);
  if (p.activation.kind == ActivationKind::softmax)
    node.axis("config.activation.axis", p.activation.axis, out.size());
  return out;
}

inline double layer_flops(const ConvParams& p, const std::vector<Shape>& in, const Shape& out) {
  std::array<std::size_t, 2> in_len, out_len;
  std::size_t cin = 0, cout = 0;
  split_spatial(in[0], p.data_format, p.rank, in_len, cin);
  split_spatial(out, p.data_format, p.rank, out_len, cout);
  double k = 1;
  for (std::size_t v : p.kernel_size) k *= static_cast<double>(v);
  const double out_pos = static_cast<double>(out_len[0] * out_len[1]);
  const double in_pos = static_cast<double>(in_len[0] * in_len[1]);
  const double ci = static_cast<double>(cin), co = static_cast<double>(cout);
  double macs = 0;
  switch (p.kind) {
    case ConvKind::conv: macs = out_pos * co * k * ci / static_cast<double>(p.groups); break;
    case ConvKind::depthwise: macs = out_pos * co * k; break;
    case ConvKind::separable:
      macs = out_pos * (ci * static_cast<double>(p.depth_multiplier) * k +
                        co * ci * static_cast<double>(p.depth_multiplier));
      break;
    case ConvKind::transpose: macs = in_pos * ci * k * co; break;
  }
  const double outputs = out_pos * co;
  return 2.0 * macs + (p.use_bias ? outputs : 0.0) +
         activation_flops_per_element(p.activation.kind) * outputs;
}

}  // namespace trignet
