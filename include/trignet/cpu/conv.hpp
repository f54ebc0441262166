#pragma once
// CPU kernels of the convolutions (docs/format.md, "Convolution, pooling and
// resampling layers").
//
// Conv1D/2D: im2col into the session workspace + Eigen GEMM, with two
// copy-free special cases: 1x1 convolutions (the input already is the column
// matrix) and unpadded, undilated, channels_last 1D convolutions (each
// patch of k*C values is contiguous in the input, so the column matrix is the
// input seen with a column stride of stride*C). The kernel is kept in the
// file's [*k, C/groups, F] order, which is the column-major F x (k*C/groups)
// matrix of the GEMM. GEMMs are blocked as in DenseLayer so Eigen packs into
// stack buffers: run() does not allocate.
// DepthwiseConv: direct loops (channels innermost). SeparableConv: depthwise
// into the workspace, then a pointwise GEMM. ConvTranspose: GEMM of the kernel
// with the input columns, then col2im (scatter-add) into the output.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <vector>

#include <Eigen/Core>

#include "trignet/cpu/activation.hpp"
#include "trignet/cpu/blocked_product.hpp"
#include "trignet/cpu/layer.hpp"
#include "trignet/layers/conv.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::cpu {

namespace conv_detail {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Writes the bias (or zeros) into every output position of `batch` samples.
template <typename T>
void fill_bias(T* y, std::size_t batch, std::size_t positions, const std::vector<T>& bias,
               DataFormat format) {
  const std::size_t F = bias.size();
  if (format == DataFormat::channels_last) {
    for (std::size_t j = 0; j < batch * positions; ++j) std::copy(bias.begin(), bias.end(), y + j * F);
  } else {
    for (std::size_t b = 0; b < batch; ++b)
      for (std::size_t f = 0; f < F; ++f)
        std::fill(y + (b * F + f) * positions, y + (b * F + f + 1) * positions, bias[f]);
  }
}

template <typename T>
std::vector<T> weight_values(const WeightMap& weights, const char* name) {
  const WeightTensor& w = weights.at(name);
  return std::vector<T>(w.values.begin(), w.values.end());
}

template <typename T>
std::vector<T> bias_values(const WeightMap& weights, bool use_bias, std::size_t n) {
  if (!use_bias) return std::vector<T>(n, T(0));
  return weight_values<T>(weights, "bias");
}

/// Kernel stored row-major as [rows, cols] in the file, as an Eigen column-major
/// cols x rows matrix (no reordering: the same memory order).
template <typename T>
Matrix<T> file_matrix_transposed(const WeightTensor& w, std::size_t cols) {
  const std::size_t rows = w.values.size() / cols;
  Matrix<T> m(static_cast<Eigen::Index>(cols), static_cast<Eigen::Index>(rows));
  for (std::size_t i = 0; i < w.values.size(); ++i) m.data()[i] = static_cast<T>(w.values[i]);
  return m;
}

/// Depthwise convolution of one sample into `acc`-style channels_last output
/// rows: y[p, c*M + m] (+)= sum_k x[pos(p, k), c] * kernel[k, c, m]. `y` rows
/// are `C*M` apart and hold the initial value (bias or zero) on entry. For a
/// channels_first destination the caller passes scratch rows and scatters.
template <typename T>
void depthwise_position(const SpatialGeometry& g, const SpatialStrides& in_st, const T* xs,
                        const T* kernel, std::size_t M, std::size_t oh, std::size_t ow, T* acc) {
  const std::size_t C = g.in_channels;
  const long long H = static_cast<long long>(g.in[0]), W = static_cast<long long>(g.in[1]);
  for (std::size_t ki = 0; ki < g.kernel[0]; ++ki) {
    const long long ih = static_cast<long long>(oh * g.stride[0] + ki * g.dilation[0]) -
                         static_cast<long long>(g.before[0]);
    if (ih < 0 || ih >= H) continue;
    for (std::size_t kj = 0; kj < g.kernel[1]; ++kj) {
      const long long iw = static_cast<long long>(ow * g.stride[1] + kj * g.dilation[1]) -
                           static_cast<long long>(g.before[1]);
      if (iw < 0 || iw >= W) continue;
      const T* src = xs + static_cast<std::size_t>(ih) * in_st.h + static_cast<std::size_t>(iw) * in_st.w;
      const T* w = kernel + (ki * g.kernel[1] + kj) * C * M;
      if (M == 1 && in_st.c == 1) {
        for (std::size_t c = 0; c < C; ++c) acc[c] += src[c] * w[c];
      } else {
        for (std::size_t c = 0; c < C; ++c) {
          const T v = src[c * in_st.c];
          for (std::size_t m = 0; m < M; ++m) acc[c * M + m] += v * w[c * M + m];
        }
      }
    }
  }
}

inline SpatialGeometry geometry_of(const ConvParams& p, const NodeSpec& node,
                                   const std::vector<Shape>& in_shapes) {
  // Validated already; re-resolving gives the geometry (throws only on a bug).
  NodeCheck check("", 0, node.name, p.type_name(), in_shapes, node.weights);
  return conv_geometry(p, check);
}

}  // namespace conv_detail

/// Conv1D, Conv2D (any groups).
template <typename T>
class ConvLayer final : public Layer<T> {
 public:
  using Matrix = conv_detail::Matrix<T>;
  using StridedMap = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;

  ConvLayer(const ConvParams& p, const NodeSpec& node, const std::vector<Shape>& in_shapes,
            const Shape& out_shape)
      : g_(conv_detail::geometry_of(p, node, in_shapes)),
        groups_(p.groups),
        activation_(p.activation, out_shape) {
    cg_ = g_.in_channels / groups_;
    fg_ = g_.out_channels / groups_;
    depth_ = g_.kernel[0] * g_.kernel[1] * cg_;
    kernel_ = conv_detail::file_matrix_transposed<T>(node.weights.at("kernel"), g_.out_channels);
    bias_ = conv_detail::bias_values<T>(node.weights, p.use_bias, g_.out_channels);
    in_st_ = spatial_strides(g_.format, g_.in[0], g_.in[1], g_.in_channels);
    contiguous_rows_ = g_.format == DataFormat::channels_last && groups_ == 1 && g_.dilation[1] == 1;
    const bool unpadded = g_.before[0] + g_.before[1] + g_.after[0] + g_.after[1] == 0;
    if (g_.kernel[0] == 1 && g_.kernel[1] == 1 && g_.stride[0] == 1 && g_.stride[1] == 1 &&
        unpadded && groups_ == 1)
      mode_ = Mode::pointwise;
    else if (g_.format == DataFormat::channels_last && g_.in[0] == 1 && groups_ == 1 &&
             g_.dilation[1] == 1 && unpadded)
      mode_ = Mode::strided;
    else
      mode_ = Mode::im2col;
  }

  std::size_t workspace_size(std::size_t batch) const override {
    if (mode_ != Mode::im2col) return 0;
    const std::size_t columns = g_.format == DataFormat::channels_last
                                    ? batch * g_.out_positions()
                                    : g_.out_positions();
    return depth_ * std::min(columns, chunk_columns);
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T* workspace) const override {
    using Eigen::Index;
    const T* x = inputs[0];
    const std::size_t P = g_.out_positions();
    const std::size_t F = g_.out_channels;
    const std::size_t in_size = g_.in_positions() * g_.in_channels;
    conv_detail::fill_bias(output, batch, P, bias_, g_.format);
    const bool last = g_.format == DataFormat::channels_last;
    if (mode_ == Mode::pointwise) {
      const Index C = static_cast<Index>(g_.in_channels);
      if (last) {
        Eigen::Map<const Matrix> X(x, C, static_cast<Index>(batch * P));
        blocked_product_add(Eigen::Map<Matrix>(output, static_cast<Index>(F), X.cols()),
                                     kernel_, X);
      } else {
        for (std::size_t b = 0; b < batch; ++b) {
          Eigen::Map<const Matrix> Xs(x + b * in_size, static_cast<Index>(P), C);
          blocked_product_add(
              Eigen::Map<Matrix>(output + b * F * P, static_cast<Index>(P), static_cast<Index>(F)),
              Xs, kernel_.transpose());
        }
      }
    } else if (mode_ == Mode::strided) {
      for (std::size_t b = 0; b < batch; ++b) {
        StridedMap cols(x + b * in_size, static_cast<Index>(depth_), static_cast<Index>(P),
                        Eigen::OuterStride<>(static_cast<Index>(g_.stride[1] * g_.in_channels)));
        blocked_product_add(
            Eigen::Map<Matrix>(output + b * F * P, static_cast<Index>(F), static_cast<Index>(P)),
            kernel_, cols);
      }
    } else if (last) {
      Eigen::Map<Matrix> Y(output, static_cast<Index>(F), static_cast<Index>(batch * P));
      for (std::size_t j0 = 0; j0 < batch * P; j0 += chunk_columns) {
        const std::size_t n = std::min(chunk_columns, batch * P - j0);
        for (std::size_t g = 0; g < groups_; ++g) {
          for (std::size_t j = 0; j < n; ++j) {
            const std::size_t col = j0 + j;
            im2col(x + (col / P) * in_size, g, col % P, workspace + j * depth_);
          }
          Eigen::Map<const Matrix> cols(workspace, static_cast<Index>(depth_), static_cast<Index>(n));
          blocked_product_add(
              Y.block(static_cast<Index>(g * fg_), static_cast<Index>(j0), static_cast<Index>(fg_),
                      static_cast<Index>(n)),
              kernel_.block(static_cast<Index>(g * fg_), 0, static_cast<Index>(fg_),
                            static_cast<Index>(depth_)),
              cols);
        }
      }
    } else {
      for (std::size_t b = 0; b < batch; ++b) {
        Eigen::Map<Matrix> Ys(output + b * F * P, static_cast<Index>(P), static_cast<Index>(F));
        for (std::size_t p0 = 0; p0 < P; p0 += chunk_columns) {
          const std::size_t n = std::min(chunk_columns, P - p0);
          for (std::size_t g = 0; g < groups_; ++g) {
            for (std::size_t j = 0; j < n; ++j) im2col(x + b * in_size, g, p0 + j, workspace + j * depth_);
            Eigen::Map<const Matrix> cols(workspace, static_cast<Index>(depth_), static_cast<Index>(n));
            blocked_product_add(
                Ys.block(static_cast<Index>(p0), static_cast<Index>(g * fg_), static_cast<Index>(n),
                         static_cast<Index>(fg_)),
                cols.transpose(),
                kernel_
                    .block(static_cast<Index>(g * fg_), 0, static_cast<Index>(fg_),
                           static_cast<Index>(depth_))
                    .transpose());
          }
        }
      }
    }
    activation_(output, batch);
  }

 private:
  enum class Mode { pointwise, strided, im2col };
  static constexpr std::size_t chunk_columns = 256;

  /// The patch of group g at output position p as one column: (ki, kj, c), c fastest.
  void im2col(const T* xs, std::size_t g, std::size_t p, T* col) const {
    const std::size_t oh = p / g_.out[1], ow = p % g_.out[1];
    const long long H = static_cast<long long>(g_.in[0]), W = static_cast<long long>(g_.in[1]);
    const T* base = xs + g * cg_ * in_st_.c;
    for (std::size_t ki = 0; ki < g_.kernel[0]; ++ki) {
      const long long ih = static_cast<long long>(oh * g_.stride[0] + ki * g_.dilation[0]) -
                           static_cast<long long>(g_.before[0]);
      if (ih < 0 || ih >= H) {
        std::fill(col, col + g_.kernel[1] * cg_, T(0));
        col += g_.kernel[1] * cg_;
        continue;
      }
      const long long iw0 = static_cast<long long>(ow * g_.stride[1]) - static_cast<long long>(g_.before[1]);
      if (contiguous_rows_ && iw0 >= 0 && iw0 + static_cast<long long>(g_.kernel[1]) <= W) {
        // channels_last, one group, no dilation: the kw*C values of this row are contiguous.
        const T* src = xs + static_cast<std::size_t>(ih) * in_st_.h + static_cast<std::size_t>(iw0) * in_st_.w;
        const std::size_t n = g_.kernel[1] * cg_;
        for (std::size_t i = 0; i < n; ++i) col[i] = src[i];
        col += n;
        continue;
      }
      for (std::size_t kj = 0; kj < g_.kernel[1]; ++kj, col += cg_) {
        const long long iw = static_cast<long long>(ow * g_.stride[1] + kj * g_.dilation[1]) -
                             static_cast<long long>(g_.before[1]);
        if (iw < 0 || iw >= W) {
          std::fill(col, col + cg_, T(0));
          continue;
        }
        const T* src = base + static_cast<std::size_t>(ih) * in_st_.h +
                       static_cast<std::size_t>(iw) * in_st_.w;
        for (std::size_t c = 0; c < cg_; ++c) col[c] = src[c * in_st_.c];
      }
    }
  }

  SpatialGeometry g_;
  std::size_t groups_;
  std::size_t cg_ = 0, fg_ = 0, depth_ = 0;
  SpatialStrides in_st_{};
  Mode mode_ = Mode::im2col;
  bool contiguous_rows_ = false;
  Matrix kernel_;  // F x (kh*kw*C/groups), column-major
  std::vector<T> bias_;
  ActivationKernel<T> activation_;
};

/// DepthwiseConv1D/2D, and (with a pointwise GEMM after it) SeparableConv1D/2D.
template <typename T>
class DepthwiseConvLayer final : public Layer<T> {
 public:
  using Matrix = conv_detail::Matrix<T>;

  DepthwiseConvLayer(const ConvParams& p, const NodeSpec& node, const std::vector<Shape>& in_shapes,
                     const Shape& out_shape)
      : g_(conv_detail::geometry_of(p, node, in_shapes)),
        M_(p.depth_multiplier),
        separable_(p.kind == ConvKind::separable),
        activation_(p.activation, out_shape) {
    in_st_ = spatial_strides(g_.format, g_.in[0], g_.in[1], g_.in_channels);
    CM_ = g_.in_channels * M_;
    if (separable_) {
      depthwise_ = conv_detail::weight_values<T>(node.weights, "depthwise_kernel");
      pointwise_ =
          conv_detail::file_matrix_transposed<T>(node.weights.at("pointwise_kernel"), p.filters);
      bias_ = conv_detail::bias_values<T>(node.weights, p.use_bias, p.filters);
    } else {
      depthwise_ = conv_detail::weight_values<T>(node.weights, "kernel");
      bias_ = conv_detail::bias_values<T>(node.weights, p.use_bias, CM_);
    }
  }

  std::size_t workspace_size(std::size_t batch) const override {
    // Separable: the whole depthwise result (channels_last); depthwise with
    // channels_first output: one position's channels before the scatter.
    return separable_ ? batch * g_.out_positions() * CM_ : CM_;
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T* workspace) const override {
    using Eigen::Index;
    const T* x = inputs[0];
    const std::size_t P = g_.out_positions();
    const std::size_t in_size = g_.in_positions() * g_.in_channels;
    const bool last = g_.format == DataFormat::channels_last;
    if (!separable_) {
      for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t p = 0; p < P; ++p) {
          T* acc = last ? output + (b * P + p) * CM_ : workspace;
          std::copy(bias_.begin(), bias_.end(), acc);
          conv_detail::depthwise_position(g_, in_st_, x + b * in_size, depthwise_.data(), M_,
                                          p / g_.out[1], p % g_.out[1], acc);
          if (!last)
            for (std::size_t f = 0; f < CM_; ++f) output[(b * CM_ + f) * P + p] = acc[f];
        }
      activation_(output, batch);
      return;
    }
    T* z = workspace;  // [batch * P, C*M], channels_last
    std::fill(z, z + batch * P * CM_, T(0));
    for (std::size_t b = 0; b < batch; ++b)
      for (std::size_t p = 0; p < P; ++p)
        conv_detail::depthwise_position(g_, in_st_, x + b * in_size, depthwise_.data(), M_,
                                        p / g_.out[1], p % g_.out[1], z + (b * P + p) * CM_);
    const std::size_t F = bias_.size();
    conv_detail::fill_bias(output, batch, P, bias_, g_.format);
    if (last) {
      Eigen::Map<const Matrix> Z(z, static_cast<Index>(CM_), static_cast<Index>(batch * P));
      blocked_product_add(Eigen::Map<Matrix>(output, static_cast<Index>(F), Z.cols()),
                                   pointwise_, Z);
    } else {
      for (std::size_t b = 0; b < batch; ++b) {
        Eigen::Map<const Matrix> Zs(z + b * P * CM_, static_cast<Index>(CM_), static_cast<Index>(P));
        blocked_product_add(
            Eigen::Map<Matrix>(output + b * F * P, static_cast<Index>(P), static_cast<Index>(F)),
            Zs.transpose(), pointwise_.transpose());
      }
    }
    activation_(output, batch);
  }

 private:
  SpatialGeometry g_;
  std::size_t M_;
  bool separable_;
  std::size_t CM_ = 0;
  SpatialStrides in_st_{};
  std::vector<T> depthwise_;  // [kh, kw, C, M] as in the file
  Matrix pointwise_;          // F x C*M, column-major (separable)
  std::vector<T> bias_;
  ActivationKernel<T> activation_;
};

/// Conv1DTranspose, Conv2DTranspose: Z = W^T-columns x input columns (GEMM),
/// then every input position scatter-adds its k*F block into the output.
template <typename T>
class ConvTransposeLayer final : public Layer<T> {
 public:
  using Matrix = conv_detail::Matrix<T>;

  ConvTransposeLayer(const ConvParams& p, const NodeSpec& node, const std::vector<Shape>& in_shapes,
                     const Shape& out_shape)
      : g_(conv_detail::geometry_of(p, node, in_shapes)), activation_(p.activation, out_shape) {
    depth_ = g_.kernel[0] * g_.kernel[1] * g_.out_channels;
    // File [kh, kw, F, C] row-major = (kh*kw*F) x C row-major; stored column-major.
    const WeightTensor& k = node.weights.at("kernel");
    const std::size_t C = g_.in_channels;
    kernel_.resize(static_cast<Eigen::Index>(depth_), static_cast<Eigen::Index>(C));
    for (std::size_t r = 0; r < depth_; ++r)
      for (std::size_t c = 0; c < C; ++c)
        kernel_(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) =
            static_cast<T>(k.values[r * C + c]);
    bias_ = conv_detail::bias_values<T>(node.weights, p.use_bias, g_.out_channels);
    out_st_ = spatial_strides(g_.format, g_.out[0], g_.out[1], g_.out_channels);
  }

  std::size_t workspace_size(std::size_t batch) const override {
    const std::size_t columns = g_.format == DataFormat::channels_last
                                    ? batch * g_.in_positions()
                                    : g_.in_positions();
    return depth_ * std::min(columns, chunk_columns);
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T* workspace) const override {
    using Eigen::Index;
    const T* x = inputs[0];
    const std::size_t Pin = g_.in_positions();
    const std::size_t C = g_.in_channels;
    const std::size_t out_size = g_.out_positions() * g_.out_channels;
    conv_detail::fill_bias(output, batch, g_.out_positions(), bias_, g_.format);
    if (g_.format == DataFormat::channels_last) {
      Eigen::Map<const Matrix> X(x, static_cast<Index>(C), static_cast<Index>(batch * Pin));
      for (std::size_t j0 = 0; j0 < batch * Pin; j0 += chunk_columns) {
        const std::size_t n = std::min(chunk_columns, batch * Pin - j0);
        Eigen::Map<Matrix> Z(workspace, static_cast<Index>(depth_), static_cast<Index>(n));
        Z.setZero();
        blocked_product_add(Z, kernel_, X.middleCols(static_cast<Index>(j0), static_cast<Index>(n)));
        for (std::size_t j = 0; j < n; ++j) {
          const std::size_t col = j0 + j;
          scatter(workspace + j * depth_, col % Pin, output + (col / Pin) * out_size);
        }
      }
    } else {
      for (std::size_t b = 0; b < batch; ++b) {
        Eigen::Map<const Matrix> Xs(x + b * Pin * C, static_cast<Index>(Pin), static_cast<Index>(C));
        for (std::size_t p0 = 0; p0 < Pin; p0 += chunk_columns) {
          const std::size_t n = std::min(chunk_columns, Pin - p0);
          Eigen::Map<Matrix> Z(workspace, static_cast<Index>(depth_), static_cast<Index>(n));
          Z.setZero();
          blocked_product_add(
              Z, kernel_, Xs.middleRows(static_cast<Index>(p0), static_cast<Index>(n)).transpose());
          for (std::size_t j = 0; j < n; ++j)
            scatter(workspace + j * depth_, p0 + j, output + b * out_size);
        }
      }
    }
    activation_(output, batch);
  }

 private:
  static constexpr std::size_t chunk_columns = 256;

  /// Input position p contributes z[(ki, kj, f)] to output position
  /// (ih*s + ki*d - before, iw*s + kj*d - before).
  void scatter(const T* z, std::size_t p, T* ys) const {
    const std::size_t ih = p / g_.in[1], iw = p % g_.in[1];
    const std::size_t F = g_.out_channels;
    const long long OH = static_cast<long long>(g_.out[0]), OW = static_cast<long long>(g_.out[1]);
    for (std::size_t ki = 0; ki < g_.kernel[0]; ++ki) {
      const long long oh = static_cast<long long>(ih * g_.stride[0] + ki * g_.dilation[0]) -
                           static_cast<long long>(g_.before[0]);
      if (oh < 0 || oh >= OH) continue;
      for (std::size_t kj = 0; kj < g_.kernel[1]; ++kj) {
        const long long ow = static_cast<long long>(iw * g_.stride[1] + kj * g_.dilation[1]) -
                             static_cast<long long>(g_.before[1]);
        if (ow < 0 || ow >= OW) continue;
        T* dst = ys + static_cast<std::size_t>(oh) * out_st_.h + static_cast<std::size_t>(ow) * out_st_.w;
        const T* src = z + (ki * g_.kernel[1] + kj) * F;
        if (out_st_.c == 1)
          for (std::size_t f = 0; f < F; ++f) dst[f] += src[f];
        else
          for (std::size_t f = 0; f < F; ++f) dst[f * out_st_.c] += src[f];
      }
    }
  }

  SpatialGeometry g_;
  std::size_t depth_ = 0;
  SpatialStrides out_st_{};
  Matrix kernel_;  // (kh*kw*F) x C, column-major
  std::vector<T> bias_;
  ActivationKernel<T> activation_;
};

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const ConvParams& p, const NodeSpec& node,
                                         const std::vector<Shape>& in_shapes, const Shape& out_shape) {
  switch (p.kind) {
    case ConvKind::conv:
      return std::make_unique<ConvLayer<T>>(p, node, in_shapes, out_shape);
    case ConvKind::depthwise:
    case ConvKind::separable:
      return std::make_unique<DepthwiseConvLayer<T>>(p, node, in_shapes, out_shape);
    case ConvKind::transpose:
      return std::make_unique<ConvTransposeLayer<T>>(p, node, in_shapes, out_shape);
  }
  throw UnsupportedError("trignet: " + p.type_name() + " has no CPU kernel");
}

}  // namespace trignet::cpu
