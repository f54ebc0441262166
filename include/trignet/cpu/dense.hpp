#pragma once
// Dense on the last axis. float runs the packed SIMD kernels of
// simd/dense.hpp (weights padded to the vector width at load; bias, relu and
// softmax fused (the same bits as the separate pass); other activations
// follow in one vectorised pass). double keeps the
// Eigen path: the kernel in the file's [in, units] row-major order is the
// column-major (units x in) matrix A of y = A x + b, one sample is a GEMV, a
// batch is one GEMM over all rows.

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include <Eigen/Core>

#include "trignet/cpu/activation.hpp"
#include "trignet/cpu/blocked_product.hpp"
#include "trignet/cpu/layer.hpp"
#include "trignet/layers/dense.hpp"
#include "trignet/simd/aligned.hpp"
#include "trignet/simd/dense.hpp"
#include "trignet/weights.hpp"

namespace trignet::cpu {

template <typename T>
class DenseLayer final : public Layer<T> {
 public:
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  DenseLayer(const DenseParams& p, const WeightMap& weights, const Shape& input_shape,
             const Shape& output_shape)
      : in_(input_shape.back()),
        units_(p.units),
        rows_per_sample_(element_count(input_shape) / input_shape.back()),
        activation_(p.activation, output_shape) {
    const WeightTensor& k = weights.at("kernel");
    if constexpr (std::is_same_v<T, float>) {
      packed_ = simd::AlignedFloats(simd::packed_dense_size(in_, units_));
      const WeightTensor* b = p.use_bias ? &weights.at("bias") : nullptr;
      view_ = simd::pack_dense(k.values.data(), b ? b->values.data() : nullptr, in_, units_, packed_.data());
      relu_ = p.activation.kind == ActivationKind::relu;
      std::size_t axis = 0;
      softmax_ = p.activation.kind == ActivationKind::softmax &&
                 normalize_axis(p.activation.axis, output_shape.size(), axis) && axis + 1 == output_shape.size();
    } else {
      init_eigen(p, weights, k);
    }
  }

  void forward(const T* const* inputs, T* output, std::size_t batch, T*) const override {
    if constexpr (std::is_same_v<T, float>) {
      const std::size_t rows = batch * rows_per_sample_;
      const simd::ActParams none;
      if (relu_) {
        simd::dense_rows<ActivationKind::relu>(view_, inputs[0], in_, output, units_, units_, rows, none);
      } else if (softmax_) {  // over the last axis, the units of each row
        simd::dense_rows<ActivationKind::softmax>(view_, inputs[0], in_, output, units_, units_, rows, none);
      } else {
        simd::dense_rows<ActivationKind::linear>(view_, inputs[0], in_, output, units_, units_, rows, none);
        activation_(output, batch);
      }
    } else {
      forward_eigen(inputs, output, batch);
    }
  }

 private:
  void init_eigen(const DenseParams& p, const WeightMap& weights, const WeightTensor& k) {
    kernel_.resize(static_cast<Eigen::Index>(units_), static_cast<Eigen::Index>(in_));
    for (std::size_t i = 0; i < in_; ++i)
      for (std::size_t j = 0; j < units_; ++j)
        kernel_(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i)) =
            static_cast<T>(k.values[i * units_ + j]);
    bias_ = Vector::Zero(static_cast<Eigen::Index>(units_));
    if (p.use_bias) {
      const WeightTensor& b = weights.at("bias");
      for (std::size_t j = 0; j < units_; ++j) bias_(static_cast<Eigen::Index>(j)) = static_cast<T>(b.values[j]);
    }
  }

  void forward_eigen(const T* const* inputs, T* output, std::size_t batch) const {
    const Eigen::Index rows = static_cast<Eigen::Index>(batch * rows_per_sample_);
    const Eigen::Index in = static_cast<Eigen::Index>(in_);
    const Eigen::Index units = static_cast<Eigen::Index>(units_);
    Eigen::Map<const Matrix> x(inputs[0], in, rows);
    Eigen::Map<Matrix> y(output, units, rows);
    // Bias first, then accumulate: "y = A x + b" in one expression would
    // evaluate the product into a heap temporary.
    y.colwise() = bias_;
    blocked_product_add(y, kernel_, x);
    activation_(output, batch);
  }

  std::size_t in_;
  std::size_t units_;
  std::size_t rows_per_sample_;
  Matrix kernel_;  // double
  Vector bias_;
  simd::AlignedFloats packed_;  // float
  simd::DenseView view_;
  bool relu_ = false;
  bool softmax_ = false;  // over the last axis: fused into the kernel
  ActivationKernel<T> activation_;
};

}  // namespace trignet::cpu
