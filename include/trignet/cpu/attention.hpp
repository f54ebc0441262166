#pragma once
// MultiHeadAttention on the CPU (docs/format.md, "Attention").
//
// Layout: a row-major [T, D] sample is the column-major D x T matrix X, so
// every projection is one product W X over all positions of the whole batch,
// with the [D, H, k] kernel read as the column-major (H*k) x D matrix W (all
// heads at once). Per sample and head the scores are kept transposed,
// S^T = K_h Q_h^T (T_v x T_q, column-major), so that each query's softmax runs
// over contiguous memory; the context C_h^T = V_h^T S^T goes straight into its
// rows of the (H*value_dim) x (batch*T_q) context matrix, and the output
// projection is again one product over the batch.
//
// Products are cut into blocks (as in cpu/dense.hpp) so that Eigen's GEMM
// packing buffers stay on the stack: run() never allocates. All scratch
// (projections, scores, context) lives in the Session's workspace.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include <Eigen/Core>

#include "trignet/cpu/blocked_product.hpp"
#include "trignet/cpu/layer.hpp"
#include "trignet/layers/attention.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/weights.hpp"

namespace trignet::cpu {

template <typename T>
class MultiHeadAttentionLayer final : public Layer<T> {
 public:
  using Index = Eigen::Index;
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using Strided = Eigen::Map<Matrix, 0, Eigen::OuterStride<>>;
  using ConstStrided = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;

  MultiHeadAttentionLayer(const AttentionParams& p, const WeightMap& weights,
                          const std::vector<Shape>& in_shapes, const Shape& out_shape)
      : d_(attention_dims(p, in_shapes, out_shape)), use_mask_(p.use_mask), causal_(p.causal) {
    hk_ = d_.heads * d_.key_dim;
    chunk_ = std::max<std::size_t>(1, 128 / std::max(d_.t_q, d_.t_v));
    hv_ = d_.heads * d_.value_dim;
    // Keras scales the projected query by 1/sqrt(key_dim); folding the scale
    // into the query kernel and bias saves a pass over Q.
    const double scale = 1.0 / std::sqrt(static_cast<double>(d_.key_dim));
    wq_ = kernel(weights.at("query_kernel"), hk_, d_.d_q, scale);
    wk_ = kernel(weights.at("key_kernel"), hk_, d_.d_k, 1.0);
    wv_ = kernel(weights.at("value_kernel"), hv_, d_.d_v, 1.0);
    wo_ = kernel(weights.at("output_kernel"), d_.d_out, hv_, 1.0);
    bq_ = bias(weights, p.use_bias, "query_bias", hk_, scale);
    bk_ = bias(weights, p.use_bias, "key_bias", hk_, 1.0);
    bv_ = bias(weights, p.use_bias, "value_bias", hv_, 1.0);
    bo_ = bias(weights, p.use_bias, "output_bias", d_.d_out, 1.0);
    // Key = value: both projections in one product over the value input.
    // Query = value as well (same buffer, same shape): all three in one.
    if (!d_.has_key) {
      wkv_ = stack({&wk_, &wv_});
      bkv_ = stack_bias({&bk_, &bv_});
      self_ = in_shapes[0] == in_shapes[1];
      if (self_) {
        wqkv_ = stack({&wq_, &wk_, &wv_});
        bqkv_ = stack_bias({&bq_, &bk_, &bv_});
      }
    }
  }

  std::size_t workspace_size(std::size_t batch) const override {
    const std::size_t n = std::min(batch, chunk_);
    return n * (hk_ * d_.t_q + (hk_ + hv_) * d_.t_v + hv_ * d_.t_q) + d_.t_q * d_.t_v;
  }

  void forward(const T* const* inputs, T* output, std::size_t batch,
               T* workspace) const override {
    // A few samples at a time (about 128 positions): the projections are still
    // wide products, and Q, K, V and the context stay in cache for the
    // attention that reads them back.
    const T* query = inputs[0];
    const T* value = inputs[1];
    const T* key = d_.has_key ? inputs[2] : nullptr;
    const T* mask = use_mask_ ? inputs[d_.has_key ? 3 : 2] : nullptr;
    for (std::size_t b = 0; b < batch; b += chunk_) {
      const std::size_t n = std::min(chunk_, batch - b);
      forward_chunk(query + b * d_.t_q * d_.d_q, value + b * d_.t_v * d_.d_v,
                    key ? key + b * d_.t_v * d_.d_k : nullptr,
                    mask ? mask + b * d_.t_q * d_.t_v : nullptr, output + b * d_.t_q * d_.d_out,
                    n, workspace);
    }
  }

 private:
  void forward_chunk(const T* query, const T* value, const T* key, const T* mask, T* output,
                     std::size_t batch, T* workspace) const {
    const Index tq = static_cast<Index>(d_.t_q), tv = static_cast<Index>(d_.t_v);
    const Index nq = static_cast<Index>(batch) * tq, nv = static_cast<Index>(batch) * tv;
    const Index hk = static_cast<Index>(hk_), hv = static_cast<Index>(hv_);
    const Index kd = static_cast<Index>(d_.key_dim), vd = static_cast<Index>(d_.value_dim);
    // Projections: Q^T (hk x nq), K^T (hk x nv), V^T (hv x nv), each column one position.
    T* q_ptr;
    T* k_ptr;
    T* v_ptr;
    Index q_ld, k_ld, v_ld;
    // Workspace: projections (hk x nq, then hk x nv and hv x nv, or the three
    // interleaved as one (2 hk + hv) x n matrix), context (hv x nq), scores (tv x tq).
    T* context = workspace + batch * (hk_ * d_.t_q + (hk_ + hv_) * d_.t_v);
    T* scores = context + hv * nq;
    if (self_ && query == value) {
      const Index ld = 2 * hk + hv;
      project(wqkv_, bqkv_, query, static_cast<Index>(d_.d_q), nq, workspace, ld);
      q_ptr = workspace, k_ptr = workspace + hk, v_ptr = workspace + 2 * hk;
      q_ld = k_ld = v_ld = ld;
    } else {
      q_ptr = workspace, q_ld = hk;
      project(wq_, bq_, query, static_cast<Index>(d_.d_q), nq, q_ptr, q_ld);
      T* rest = workspace + hk * nq;
      if (!d_.has_key) {
        const Index ld = hk + hv;
        project(wkv_, bkv_, value, static_cast<Index>(d_.d_v), nv, rest, ld);
        k_ptr = rest, v_ptr = rest + hk;
        k_ld = v_ld = ld;
      } else {
        k_ptr = rest, k_ld = hk;
        v_ptr = rest + hk * nv, v_ld = hv;
        project(wk_, bk_, key, static_cast<Index>(d_.d_k), nv, k_ptr, k_ld);
        project(wv_, bv_, value, static_cast<Index>(d_.d_v), nv, v_ptr, v_ld);
      }
    }

    Eigen::Map<Matrix> st(scores, tv, tq);  // S^T: column i = scores of query i
    for (std::size_t b = 0; b < batch; ++b) {
      const Index bq = static_cast<Index>(b) * tq, bv = static_cast<Index>(b) * tv;
      const T* m = mask ? mask + b * d_.t_q * d_.t_v : nullptr;
      for (Index h = 0; h < static_cast<Index>(d_.heads); ++h) {
        ConstStrided qh(q_ptr + bq * q_ld + h * kd, kd, tq, Eigen::OuterStride<>(q_ld));
        ConstStrided kh(k_ptr + bv * k_ld + h * kd, kd, tv, Eigen::OuterStride<>(k_ld));
        ConstStrided vh(v_ptr + bv * v_ld + h * vd, vd, tv, Eigen::OuterStride<>(v_ld));
        st.setZero();
        blocked_product_add(st, kh.transpose(), qh);
        for (Index i = 0; i < tq; ++i) softmax_row(scores + i * tv, m ? m + i * tv : nullptr, i);
        Strided ch(context + bq * hv + h * vd, vd, tq, Eigen::OuterStride<>(hv));
        ch.setZero();
        blocked_product_add(ch, vh, st);
      }
    }

    Eigen::Map<Matrix> y(output, static_cast<Index>(d_.d_out), nq);
    y.colwise() = bo_;
    blocked_product_add(y, wo_, Eigen::Map<const Matrix>(context, hv, nq));
  }

  /// Softmax of query i's scores s[0, T_v) in place over the keys it may
  /// attend; masked keys get exactly 0, and a query whose keys are all masked
  /// gets all zeros (Keras >= 3.10). Masked entries are set to 0 directly rather
  /// than to exp(-1e9 - max), which Eigen's clamped exp would make a denormal
  /// (slow in the following product).
  void softmax_row(T* s, const T* mask_row, Index i) const {
    const Index tv = static_cast<Index>(d_.t_v);
    const Index reach = causal_ ? std::min(i + 1, tv) : tv;  // keys j < reach may be attended
    Eigen::Map<Array> all(s, tv);
    Eigen::Map<Array> a(s, reach);
    T max;
    if (mask_row) {
      max = -std::numeric_limits<T>::infinity();
      bool any = false;
      for (Index j = 0; j < reach; ++j)
        if (mask_row[j] != T(0)) {
          any = true;
          max = std::max(max, s[j]);
        }
      if (!any) {
        all.setZero();
        return;
      }
    } else {
      max = a.maxCoeff();
    }
    a = (a - max).exp();
    if (mask_row)
      for (Index j = 0; j < reach; ++j)
        if (mask_row[j] == T(0)) s[j] = T(0);
    if (reach < tv) all.tail(tv - reach).setZero();
    a *= T(1) / a.sum();
  }

  /// A row-major [in, rest...] kernel as the column-major (rest) x in matrix, times scale.
  static Matrix kernel(const WeightTensor& w, std::size_t rows, std::size_t cols, double scale) {
    Matrix m(static_cast<Index>(rows), static_cast<Index>(cols));
    for (std::size_t c = 0; c < cols; ++c)
      for (std::size_t r = 0; r < rows; ++r)
        m(static_cast<Index>(r), static_cast<Index>(c)) =
            static_cast<T>(static_cast<double>(w.values[c * rows + r]) * scale);
    return m;
  }

  static Vector bias(const WeightMap& weights, bool use_bias, const char* name, std::size_t n,
                     double scale) {
    Vector v = Vector::Zero(static_cast<Index>(n));
    if (use_bias) {
      const WeightTensor& b = weights.at(name);
      for (std::size_t i = 0; i < n; ++i)
        v(static_cast<Index>(i)) = static_cast<T>(static_cast<double>(b.values[i]) * scale);
    }
    return v;
  }

  static Matrix stack(std::initializer_list<const Matrix*> parts) {
    Index rows = 0;
    for (const Matrix* p : parts) rows += p->rows();
    Matrix m(rows, (*parts.begin())->cols());
    Index r = 0;
    for (const Matrix* p : parts) {
      m.middleRows(r, p->rows()) = *p;
      r += p->rows();
    }
    return m;
  }

  static Vector stack_bias(std::initializer_list<const Vector*> parts) {
    Index rows = 0;
    for (const Vector* p : parts) rows += p->size();
    Vector v(rows);
    Index r = 0;
    for (const Vector* p : parts) {
      v.segment(r, p->size()) = *p;
      r += p->size();
    }
    return v;
  }

  /// dst (ld x n, first w.rows() rows written) = w x + bias, x the d x n input.
  static void project(const Matrix& w, const Vector& b, const T* x, Index d, Index n, T* dst,
                      Index ld) {
    Strided out(dst, w.rows(), n, Eigen::OuterStride<>(ld));
    out.colwise() = b;
    blocked_product_add(out, w, Eigen::Map<const Matrix>(x, d, n));
  }

  AttentionDims d_;
  std::size_t chunk_ = 1;  // samples per pass of forward_chunk
  bool use_mask_;
  bool causal_;
  bool self_ = false;
  std::size_t hk_ = 0, hv_ = 0;
  Matrix wq_, wk_, wv_, wo_, wkv_, wqkv_;
  Vector bq_, bk_, bv_, bo_, bkv_, bqkv_;
};

template <typename T>
std::unique_ptr<Layer<T>> make_cpu_layer(const AttentionParams& p, const NodeSpec& node,
                                         const std::vector<Shape>& in_shapes,
                                         const Shape& out_shape) {
  return std::make_unique<MultiHeadAttentionLayer<T>>(p, node.weights, in_shapes, out_shape);
}

}  // namespace trignet::cpu
