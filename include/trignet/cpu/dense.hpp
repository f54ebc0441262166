#pragma once
// Dense on the last axis. The kernel is kept in the file's [in, units]
// row-major order, which is the column-major (units x in) matrix A of
// y = A x + b: one sample is a GEMV, a batch is one GEMM over all rows.

#include <algorithm>
#include <cstddef>

#include <Eigen/Core>

#include "trignet/cpu/activation.hpp"
#include "trignet/cpu/layer.hpp"
#include "trignet/layers/dense.hpp"
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

  void forward(const T* const* inputs, T* output, std::size_t batch) const override {
    const Eigen::Index rows = static_cast<Eigen::Index>(batch * rows_per_sample_);
    const Eigen::Index in = static_cast<Eigen::Index>(in_);
    const Eigen::Index units = static_cast<Eigen::Index>(units_);
    Eigen::Map<const Matrix> x(inputs[0], in, rows);
    Eigen::Map<Matrix> y(output, units, rows);
    // Bias first, then accumulate: "y = A x + b" in one expression would
    // evaluate the product into a heap temporary.
    y.colwise() = bias_;
    if (rows == 1) {
      y.col(0).noalias() += kernel_ * x.col(0);
    } else {
      // Blocks of at most 64 units x 64 rows x 64 KiB of kernel keep Eigen's
      // GEMM packing buffers on the stack (no heap allocation in run; about
      // 128 KiB of stack at most) and the working set in cache.
      const Eigen::Index depth_block = static_cast<Eigen::Index>(65536 / (row_block * sizeof(T)));
      for (Eigen::Index c = 0; c < rows; c += column_block) {
        const Eigen::Index n = std::min(column_block, rows - c);
        for (Eigen::Index r = 0; r < units; r += row_block) {
          const Eigen::Index m = std::min(row_block, units - r);
          for (Eigen::Index k = 0; k < in; k += depth_block) {
            const Eigen::Index d = std::min(depth_block, in - k);
            y.block(r, c, m, n).noalias() +=
                kernel_.block(r, k, m, d) * x.block(k, c, d, n);
          }
        }
      }
    }
    activation_(output, batch);
  }

 private:
  static constexpr Eigen::Index column_block = 64;
  static constexpr Eigen::Index row_block = 64;

  std::size_t in_;
  std::size_t units_;
  std::size_t rows_per_sample_;
  Matrix kernel_;
  Vector bias_;
  ActivationKernel<T> activation_;
};

}  // namespace trignet::cpu
