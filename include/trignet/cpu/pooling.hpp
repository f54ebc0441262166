#pragma once
// CPU kernels of pooling and resampling (docs/format.md, "Convolution,
// pooling and resampling layers"): direct loops with the channel axis
// innermost (contiguous for channels_last). A 1D tensor is the 2D case with H = 1.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include "trignet/cpu/layer.hpp"
#include "trignet/layers/pooling.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::cpu {

/// Maximum that propagates NaN, as the frameworks' pooling does (std::max
/// would drop a NaN that arrives second).
template <typename T>
inline T max_nan(T acc, T x) {
  return (x > acc || x != x) ? x : acc;
}

/// MaxPooling1D/2D, AveragePooling1D/2D.
template <typename T>
class PoolLayer final : public Layer<T> {
 public:
  PoolLayer(const PoolParams& p, const NodeSpec& node, const std::vector<Shape>& in_shapes)
      : op_(p.op), count_include_pad_(p.count_include_pad) {
    NodeCheck check("", 0, node.name, p.type_name(), in_shapes, node.weights);
    g_ = pool_geometry(p, check);
    in_st_ = spatial_strides(g_.format, g_.in[0], g_.in[1], g_.in_channels);
    out_st_ = spatial_strides(g_.format, g_.out[0], g_.out[1], g_.out_channels);
  }

  std::size_t workspace_size(std::size_t) const override { return g_.in_channels; }

  void forward(const T* const* inputs, T* output, std::size_t batch, T* acc) const override {
    const std::size_t C = g_.in_channels;
    const std::size_t in_size = g_.in_positions() * C, out_size = g_.out_positions() * C;
    const long long H = static_cast<long long>(g_.in[0]), W = static_cast<long long>(g_.in[1]);
    const bool is_max = op_ == PoolOp::max;
    for (std::size_t b = 0; b < batch; ++b) {
      const T* xs = inputs[0] + b * in_size;
      T* ys = output + b * out_size;
      for (std::size_t oh = 0; oh < g_.out[0]; ++oh)
        for (std::size_t ow = 0; ow < g_.out[1]; ++ow) {
          std::fill(acc, acc + C, is_max ? -std::numeric_limits<T>::infinity() : T(0));
          std::size_t count = 0;
          for (std::size_t ki = 0; ki < g_.kernel[0]; ++ki) {
            const long long ih = static_cast<long long>(oh * g_.stride[0] + ki) -
                                 static_cast<long long>(g_.before[0]);
            if (ih < 0 || ih >= H) continue;
            for (std::size_t kj = 0; kj < g_.kernel[1]; ++kj) {
              const long long iw = static_cast<long long>(ow * g_.stride[1] + kj) -
                                   static_cast<long long>(g_.before[1]);
              if (iw < 0 || iw >= W) continue;
              ++count;
              const T* src = xs + static_cast<std::size_t>(ih) * in_st_.h +
                             static_cast<std::size_t>(iw) * in_st_.w;
              if (is_max)
                for (std::size_t c = 0; c < C; ++c) acc[c] = max_nan(acc[c], src[c * in_st_.c]);
              else
                for (std::size_t c = 0; c < C; ++c) acc[c] += src[c * in_st_.c];
            }
          }
          T* dst = ys + oh * out_st_.h + ow * out_st_.w;
          if (is_max) {
            for (std::size_t c = 0; c < C; ++c) dst[c * out_st_.c] = acc[c];
          } else {
            const T inv = T(1) / static_cast<T>(count_include_pad_ ? g_.kernel[0] * g_.kernel[1] : count);
            for (std::size_t c = 0; c < C; ++c) dst[c * out_st_.c] = acc[c] * inv;
          }
        }
    }
  }

 private:
  SpatialGeometry g_;
  PoolOp op_;
  bool count_include_pad_;
  SpatialStrides in_st_{}, out_st_{};
};

/// GlobalMaxPooling1D/2D, GlobalAveragePooling1D/2D.
template <typename T>
class GlobalPoolLayer final : public Layer<T> {
 public:
  GlobalPoolLayer(const GlobalPoolParams& p, const Shape& in_shape) : op_(p.op), format_(p.data_format) {
    std::array<std::size_t, 2> len;
    split_spatial(in_shape, p.data_format, p.rank, len, channels_);
    positions_ = len[0] * len[1];
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const std::size_t C = channels_, P = positions_;
    const bool is_max = op_ == PoolOp::max;
    const T scale = T(1) / static_cast<T>(P);
    for (std::size_t b = 0; b < batch; ++b) {
      const T* xs = inputs[0] + b * P * C;
      T* y = output + b * C;
      if (format_ == DataFormat::channels_last) {
        std::copy(xs, xs + C, y);
        for (std::size_t p = 1; p < P; ++p) {
          const T* row = xs + p * C;
          if (is_max)
            for (std::size_t c = 0; c < C; ++c) y[c] = max_nan(y[c], row[c]);
          else
            for (std::size_t c = 0; c < C; ++c) y[c] += row[c];
        }
      } else {
        for (std::size_t c = 0; c < C; ++c) {
          const T* v = xs + c * P;
          T r = v[0];
          if (is_max)
            for (std::size_t p = 1; p < P; ++p) r = max_nan(r, v[p]);
          else
            for (std::size_t p = 1; p < P; ++p) r += v[p];
          y[c] = r;
        }
      }
      if (!is_max)
        for (std::size_t c = 0; c < C; ++c) y[c] *= scale;
    }
  }

 private:
  PoolOp op_;
  DataFormat format_;
  std::size_t channels_ = 0, positions_ = 0;
};

/// UpSampling, ZeroPadding and Cropping: output (oh, ow) reads input
/// (oh / size - offset, ...) or is zero outside the input.
template <typename T>
class SpatialCopyLayer final : public Layer<T> {
 public:
  SpatialCopyLayer(DataFormat format, std::size_t rank, const Shape& in_shape, const Shape& out_shape,
                   std::array<std::size_t, 2> divide, std::array<long long, 2> shift)
      : divide_(divide), shift_(shift) {
    split_spatial(in_shape, format, rank, in_, channels_);
    split_spatial(out_shape, format, rank, out_, channels_);
    in_st_ = spatial_strides(format, in_[0], in_[1], channels_);
    out_st_ = spatial_strides(format, out_[0], out_[1], channels_);
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    const std::size_t C = channels_;
    const std::size_t in_size = in_[0] * in_[1] * C, out_size = out_[0] * out_[1] * C;
    for (std::size_t b = 0; b < batch; ++b) {
      const T* xs = inputs[0] + b * in_size;
      T* ys = output + b * out_size;
      for (std::size_t oh = 0; oh < out_[0]; ++oh) {
        const long long ih = static_cast<long long>(oh / divide_[0]) + shift_[0];
        for (std::size_t ow = 0; ow < out_[1]; ++ow) {
          const long long iw = static_cast<long long>(ow / divide_[1]) + shift_[1];
          T* dst = ys + oh * out_st_.h + ow * out_st_.w;
          if (ih < 0 || iw < 0 || ih >= static_cast<long long>(in_[0]) ||
              iw >= static_cast<long long>(in_[1])) {
            for (std::size_t c = 0; c < C; ++c) dst[c * out_st_.c] = T(0);
            continue;
          }
          const T* src = xs + static_cast<std::size_t>(ih) * in_st_.h + static_cast<std::size_t>(iw) * in_st_.w;
          if (in_st_.c == 1)
            std::copy(src, src + C, dst);
          else
            for (std::size_t c = 0; c < C; ++c) dst[c * out_st_.c] = src[c * in_st_.c];
        }
      }
    }
  }

 private:
  std::array<std::size_t, 2> divide_;
  std::array<long long, 2> shift_;
  std::array<std::size_t, 2> in_{}, out_{};
  std::size_t channels_ = 0;
  SpatialStrides in_st_{}, out_st_{};
};

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const PoolParams& p, const NodeSpec& node,
                                         const std::vector<Shape>& in_shapes, const Shape&) {
  return std::make_unique<PoolLayer<T>>(p, node, in_shapes);
}

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const GlobalPoolParams& p, const NodeSpec&,
                                         const std::vector<Shape>& in_shapes, const Shape&) {
  return std::make_unique<GlobalPoolLayer<T>>(p, in_shapes[0]);
}

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const UpSamplingParams& p, const NodeSpec&,
                                         const std::vector<Shape>& in_shapes, const Shape& out_shape) {
  std::array<std::size_t, 2> divide{1, 1};
  for (std::size_t a = 0; a < p.rank; ++a) divide[p.rank == 1 ? 1 : a] = p.size[a];
  return std::make_unique<SpatialCopyLayer<T>>(p.data_format, p.rank, in_shapes[0], out_shape,
                                               divide, std::array<long long, 2>{0, 0});
}

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const SpatialPadParams& p, const NodeSpec&,
                                         const std::vector<Shape>& in_shapes, const Shape& out_shape) {
  std::array<long long, 2> shift{0, 0};
  for (std::size_t a = 0; a < p.rank; ++a) {
    const long long before = static_cast<long long>(p.pairs[a][0]);
    shift[p.rank == 1 ? 1 : a] = p.kind == SpatialPadKind::zero_padding ? -before : before;
  }
  return std::make_unique<SpatialCopyLayer<T>>(p.data_format, p.rank, in_shapes[0], out_shape,
                                               std::array<std::size_t, 2>{1, 1}, shift);
}

}  // namespace trignet::cpu
