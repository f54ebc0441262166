#pragma once
// JSON -> parameters of the convolution, pooling and resampling layers
// (docs/format.md, "Convolution, pooling and resampling layers"). Strict:
// unknown keys are rejected; the per-axis counts are checked by check_layer,
// which knows the input.

#include <map>
#include <string>

#include "trignet/format/json_reader.hpp"
#include "trignet/format/parse_activation.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::format {


namespace conv_detail {

/// An array of integers, each in [min, max_spatial_value].
inline std::vector<std::size_t> spatial_array(const JsonReader& j, std::size_t min = 1) {
  j.expect_array();
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const long long v = j[i].integer();
    if (v < static_cast<long long>(min))
      j[i].fail(std::string(min == 0 ? "expected a non-negative integer" : "expected a positive integer") +
                ", found " + std::to_string(v));
    if (static_cast<unsigned long long>(v) > max_spatial_value)
      j[i].fail("expected at most " + std::to_string(max_spatial_value) + ", found " +
                std::to_string(v));
    out.push_back(static_cast<std::size_t>(v));
  }
  return out;
}

/// [[before, after], ...]: non-negative integer pairs.
inline std::vector<std::array<std::size_t, 2>> pair_array(const JsonReader& j) {
  if (!j.json().is_array())
    j.fail("expected an array of [before, after] pairs (one per spatial axis), found " +
           j.describe());
  std::vector<std::array<std::size_t, 2>> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const JsonReader pair = j[i];
    if (!pair.json().is_array() || pair.size() != 2)
      pair.fail("expected a [before, after] pair of non-negative integers, found " +
                pair.describe());
    const auto v = spatial_array(pair, 0);
    out.push_back({v[0], v[1]});
  }
  return out;
}

inline Padding parse_padding(const JsonReader& j) {
  Padding p;
  if (j.json().is_string()) {
    const std::string s = j.string();
    if (s == "valid") p.mode = Padding::Mode::valid;
    else if (s == "same") p.mode = Padding::Mode::same;
    else j.fail("expected \"valid\", \"same\" or [[before, after], ...], found " + j.describe());
    return p;
  }
  if (!j.json().is_array())
    j.fail("expected \"valid\", \"same\" or [[before, after], ...], found " + j.describe());
  p.mode = Padding::Mode::explicit_pairs;
  p.pairs = pair_array(j);
  return p;
}

inline DataFormat parse_data_format(const JsonReader& c) {
  auto f = c.find("data_format");
  if (!f) return DataFormat::channels_last;
  const std::string s = f->string();
  if (s == "channels_last") return DataFormat::channels_last;
  if (s == "channels_first") return DataFormat::channels_first;
  f->fail("expected \"channels_last\" or \"channels_first\", found " + f->describe());
}

inline std::optional<std::vector<std::size_t>> optional_array(const JsonReader& c, const char* key,
                                                              std::size_t min = 1) {
  if (auto v = c.find(key)) return spatial_array(*v, min);
  return std::nullopt;
}

inline std::size_t optional_positive(const JsonReader& c, const char* key, std::size_t fallback) {
  if (auto v = c.find(key)) return v->positive_integer();
  return fallback;
}

template <ConvKind kind, std::size_t rank>
LayerParams parse_conv(const JsonReader& c) {
  switch (kind) {
    case ConvKind::conv:
      c.only_keys({"filters", "kernel_size", "strides", "dilation_rate", "padding", "groups",
                   "use_bias", "activation", "data_format"});
      break;
    case ConvKind::depthwise:
      c.only_keys({"kernel_size", "strides", "dilation_rate", "padding", "depth_multiplier",
                   "use_bias", "activation", "data_format"});
      break;
    case ConvKind::separable:
      c.only_keys({"filters", "kernel_size", "strides", "dilation_rate", "padding",
                   "depth_multiplier", "use_bias", "activation", "data_format"});
      break;
    case ConvKind::transpose:
      c.only_keys({"filters", "kernel_size", "strides", "dilation_rate", "padding",
                   "output_padding", "use_bias", "activation", "data_format"});
      break;
  }
  ConvParams p;
  p.kind = kind;
  p.rank = rank;
  if (kind != ConvKind::depthwise) p.filters = c.at("filters").positive_integer();
  p.kernel_size = spatial_array(c.at("kernel_size"));
  p.strides = optional_array(c, "strides");
  p.dilation_rate = optional_array(c, "dilation_rate");
  if (kind == ConvKind::transpose) p.output_padding = optional_array(c, "output_padding", 0);
  if (auto v = c.find("padding")) p.padding = parse_padding(*v);
  if (kind == ConvKind::conv) p.groups = optional_positive(c, "groups", 1);
  if (kind == ConvKind::depthwise || kind == ConvKind::separable)
    p.depth_multiplier = optional_positive(c, "depth_multiplier", 1);
  if (auto v = c.find("use_bias")) p.use_bias = v->boolean();
  if (auto v = c.find("activation")) p.activation = parse_activation(*v);
  p.data_format = parse_data_format(c);
  return p;
}

template <PoolOp op, std::size_t rank>
LayerParams parse_pool(const JsonReader& c) {
  if (op == PoolOp::average)
    c.only_keys({"pool_size", "strides", "padding", "count_include_pad", "data_format"});
  else
    c.only_keys({"pool_size", "strides", "padding", "data_format"});
  PoolParams p;
  p.op = op;
  p.rank = rank;
  p.pool_size = spatial_array(c.at("pool_size"));
  p.strides = optional_array(c, "strides");
  if (auto v = c.find("padding")) p.padding = parse_padding(*v);
  if (auto v = c.find("count_include_pad")) p.count_include_pad = v->boolean();
  p.data_format = parse_data_format(c);
  return p;
}

template <PoolOp op, std::size_t rank>
LayerParams parse_global_pool(const JsonReader& c) {
  c.only_keys({"data_format", "keepdims"});
  GlobalPoolParams p;
  p.op = op;
  p.rank = rank;
  if (auto v = c.find("keepdims")) p.keepdims = v->boolean();
  p.data_format = parse_data_format(c);
  return p;
}

template <std::size_t rank>
LayerParams parse_upsampling(const JsonReader& c) {
  c.only_keys({"size", "data_format"});
  UpSamplingParams p;
  p.rank = rank;
  p.size = spatial_array(c.at("size"));
  p.data_format = parse_data_format(c);
  return p;
}

template <SpatialPadKind kind, std::size_t rank>
LayerParams parse_spatial_pad(const JsonReader& c) {
  const char* key = kind == SpatialPadKind::zero_padding ? "padding" : "cropping";
  c.only_keys({key, "data_format"});
  SpatialPadParams p;
  p.kind = kind;
  p.rank = rank;
  p.pairs = pair_array(c.at(key));
  p.data_format = parse_data_format(c);
  return p;
}

}  // namespace conv_detail

/// Adds this family's node types to the parser table.
inline void add_conv_parsers(std::map<std::string, LayerParser>& parsers) {
  using namespace conv_detail;
  parsers["Conv1D"] = parse_conv<ConvKind::conv, 1>;
  parsers["Conv2D"] = parse_conv<ConvKind::conv, 2>;
  parsers["DepthwiseConv1D"] = parse_conv<ConvKind::depthwise, 1>;
  parsers["DepthwiseConv2D"] = parse_conv<ConvKind::depthwise, 2>;
  parsers["SeparableConv1D"] = parse_conv<ConvKind::separable, 1>;
  parsers["SeparableConv2D"] = parse_conv<ConvKind::separable, 2>;
  parsers["Conv1DTranspose"] = parse_conv<ConvKind::transpose, 1>;
  parsers["Conv2DTranspose"] = parse_conv<ConvKind::transpose, 2>;
  parsers["MaxPooling1D"] = parse_pool<PoolOp::max, 1>;
  parsers["MaxPooling2D"] = parse_pool<PoolOp::max, 2>;
  parsers["AveragePooling1D"] = parse_pool<PoolOp::average, 1>;
  parsers["AveragePooling2D"] = parse_pool<PoolOp::average, 2>;
  parsers["GlobalMaxPooling1D"] = parse_global_pool<PoolOp::max, 1>;
  parsers["GlobalMaxPooling2D"] = parse_global_pool<PoolOp::max, 2>;
  parsers["GlobalAveragePooling1D"] = parse_global_pool<PoolOp::average, 1>;
  parsers["GlobalAveragePooling2D"] = parse_global_pool<PoolOp::average, 2>;
  parsers["UpSampling1D"] = parse_upsampling<1>;
  parsers["UpSampling2D"] = parse_upsampling<2>;
  parsers["ZeroPadding1D"] = parse_spatial_pad<SpatialPadKind::zero_padding, 1>;
  parsers["ZeroPadding2D"] = parse_spatial_pad<SpatialPadKind::zero_padding, 2>;
  parsers["Cropping1D"] = parse_spatial_pad<SpatialPadKind::cropping, 1>;
  parsers["Cropping2D"] = parse_spatial_pad<SpatialPadKind::cropping, 2>;
}

}  // namespace trignet::format
