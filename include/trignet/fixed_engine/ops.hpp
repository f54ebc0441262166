#pragma once
// The layers of the fixed-point engine, on raw integers of run-time types.
// Each follows hls4ml's io_parallel C++ (nnet_utils) step by step: where it
// casts, trignet casts (docs/format.md, "Fixed-point precision").

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trignet/fixed_engine/activations.hpp"
#include "trignet/fixed_engine/fixed_type.hpp"
#include "trignet/layers/spatial.hpp"

namespace trignet::fixed_rt {

/// One step of a fixed-point evaluation: reads raw inputs, writes raw outputs.
class FixedOp {
 public:
  virtual ~FixedOp() = default;
  /// in: one pointer per argument; out: the result; scratch: scratch_size() values.
  virtual void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t* scratch) const = 0;
  virtual std::size_t scratch_size() const { return 0; }
};

/// Every element cast to `to` (or copied when to == from).
class CastOp : public FixedOp {
 public:
  CastOp(std::size_t n, FixedType from, FixedType to) : n_(n), from_(from), to_(to) {}
  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t*) const override {
    const std::int64_t* x = in[0];
    if (from_ == to_) {
      for (std::size_t i = 0; i < n_; ++i) out[i] = x[i];
      return;
    }
    const int f = from_.fractional();
    for (std::size_t i = 0; i < n_; ++i) out[i] = cast(x[i], f, to_);
  }

 private:
  std::size_t n_;
  FixedType from_, to_;
};

/// out[k] = in[index[k]] (Permute, padding, cropping, up-sampling), then
/// cast; an index of gather_zero stands for a padded zero.
inline constexpr std::size_t gather_zero = static_cast<std::size_t>(-1);

class GatherOp : public FixedOp {
 public:
  GatherOp(std::vector<std::size_t> index, FixedType from, FixedType to)
      : index_(std::move(index)), from_(from), to_(to) {}
  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t*) const override {
    const int f = from_.fractional();
    for (std::size_t k = 0; k < index_.size(); ++k) {
      const std::int64_t v = index_[k] == gather_zero ? 0 : in[0][index_[k]];
      out[k] = from_ == to_ ? v : cast(v, f, to_);
    }
  }

 private:
  std::vector<std::size_t> index_;
  FixedType from_, to_;
};

/// The multiply-accumulate of Dense and Conv: acc = accum(bias); for each
/// input, acc = accum(acc + accum(x * w)); y = result(acc).
class Accumulator {
 public:
  Accumulator() = default;
  Accumulator(FixedType input, FixedType weight, FixedType accum, FixedType result)
      : accum_(accum), result_(result) {
    fp_ = input.fractional() + weight.fractional();
    fa_ = accum.fractional();
    d_ = fp_ - fa_;
    // With a wrapping accumulator and products that need no rounding (or are
    // floored, AP_TRN), every cast is modular or a shift: sum exactly, wrap once.
    fast_ = accum.overflow == Overflow::WRAP && (d_ <= 0 || accum.quantization == Quantization::TRN);
    // Products and partial sums that fit 64-bit integers take the 64-bit paths.
    narrow_ = input.width + weight.width <= 62 && accum.width <= 62;
  }
  enum class Path { fast64, fast128, exact64, exact128 };
  Path path() const {
    if (fast_) return narrow_ ? Path::fast64 : Path::fast128;
    return narrow_ ? Path::exact64 : Path::exact128;
  }

  // Step-by-step casts (any accumulator).
  std::int64_t product(std::int64_t x, std::int64_t w) const {
    return cast(static_cast<int128>(x) * w, fp_, accum_);
  }
  std::int64_t add(std::int64_t acc, std::int64_t m) const {
    return cast(static_cast<int128>(acc) + m, fa_, accum_);
  }
  std::int64_t product64(std::int64_t x, std::int64_t w) const {
    return detail::fixed_cast<std::int64_t>(x * w, d_, accum_.width, accum_.is_signed,
                                            accum_.quantization, accum_.overflow);
  }
  std::int64_t add64(std::int64_t acc, std::int64_t m) const {
    return detail::fixed_cast<std::int64_t>(acc + m, 0, accum_.width, accum_.is_signed,
                                            accum_.quantization, accum_.overflow);
  }
  // Wrapping accumulators: the product as accumulator LSBs, modulo 2^64 or 2^128.
  std::uint64_t product_fast64(std::int64_t x, std::int64_t w) const {
    const std::int64_t p = x * w;
    if (d_ >= 0) return static_cast<std::uint64_t>(d_ >= 63 ? (p < 0 ? -1 : 0) : p >> d_);  // floor
    return -d_ >= 64 ? 0 : static_cast<std::uint64_t>(p) << (-d_);
  }
  detail::fixed_uint128 product_fast(std::int64_t x, std::int64_t w) const {
    const int128 p = static_cast<int128>(x) * w;
    if (d_ >= 0) {
      if (d_ >= 127) return static_cast<detail::fixed_uint128>(p < 0 ? -1 : 0);
      return static_cast<detail::fixed_uint128>(p >> d_);
    }
    if (-d_ >= 128) return 0;
    return static_cast<detail::fixed_uint128>(p) << (-d_);
  }
  std::int64_t finish_fast64(std::uint64_t sum) const {
    return detail::fixed_wrap(static_cast<std::int64_t>(sum), accum_.width, accum_.is_signed);
  }
  std::int64_t finish_fast(detail::fixed_uint128 sum) const {
    return static_cast<std::int64_t>(detail::fixed_wrap(static_cast<int128>(sum), accum_.width, accum_.is_signed));
  }
  std::int64_t result(std::int64_t acc) const { return cast(acc, fa_, result_); }

  /// One output: bias (already in the accumulator), then n products x[i * xs] * w[i * ws].
  std::int64_t dot(std::int64_t bias, const std::int64_t* x, std::size_t xs, const std::int64_t* w,
                   std::size_t ws, std::size_t n, Path path) const {
    switch (path) {
      case Path::fast64: {
        std::uint64_t s = static_cast<std::uint64_t>(bias);
        for (std::size_t i = 0; i < n; ++i) s += product_fast64(x[i * xs], w[i * ws]);
        return finish_fast64(s);
      }
      case Path::fast128: {
        detail::fixed_uint128 s = static_cast<detail::fixed_uint128>(static_cast<int128>(bias));
        for (std::size_t i = 0; i < n; ++i) s += product_fast(x[i * xs], w[i * ws]);
        return finish_fast(s);
      }
      case Path::exact64: {
        std::int64_t a = bias;
        for (std::size_t i = 0; i < n; ++i) a = add64(a, product64(x[i * xs], w[i * ws]));
        return a;
      }
      case Path::exact128: {
        std::int64_t a = bias;
        for (std::size_t i = 0; i < n; ++i) a = add(a, product(x[i * xs], w[i * ws]));
        return a;
      }
    }
    return 0;
  }

 private:
  FixedType accum_, result_;
  int fp_ = 0, fa_ = 0, d_ = 0;
  bool fast_ = false, narrow_ = false;
};

/// Dense on the last axis: rows x in_features -> rows x units. The kernel is
/// kept transposed ([units][in]) so each output reads it contiguously.
class DenseOp : public FixedOp {
 public:
  DenseOp(std::size_t rows, std::size_t in, std::size_t units, const std::vector<std::int64_t>& kernel,
          std::vector<std::int64_t> bias_acc, Accumulator acc)
      : rows_(rows), in_(in), units_(units), kernel_t_(kernel.size()), bias_(std::move(bias_acc)), acc_(acc) {
    for (std::size_t i = 0; i < in; ++i)
      for (std::size_t j = 0; j < units; ++j) kernel_t_[j * in + i] = kernel[i * units + j];
  }
  void run(const std::int64_t* const* input, std::int64_t* out, std::int64_t*) const override {
    const Accumulator::Path path = acc_.path();
    for (std::size_t r = 0; r < rows_; ++r) {
      const std::int64_t* x = input[0] + r * in_;
      std::int64_t* y = out + r * units_;
      for (std::size_t j = 0; j < units_; ++j)
        y[j] = acc_.result(acc_.dot(bias_.empty() ? 0 : bias_[j], x, 1, kernel_t_.data() + j * in_, 1, in_, path));
    }
  }

 private:
  std::size_t rows_, in_, units_;
  std::vector<std::int64_t> kernel_t_;
  std::vector<std::int64_t> bias_;  // already cast to the accumulator
  Accumulator acc_;
};

/// Conv1D/Conv2D (groups 1): hls4ml's im2col order, taps row-major, channels inside.
class ConvOp : public FixedOp {
 public:
  ConvOp(SpatialGeometry g, std::vector<std::int64_t> kernel, std::vector<std::int64_t> bias_acc,
         Accumulator acc)
      : g_(g), kernel_(std::move(kernel)), bias_(std::move(bias_acc)), acc_(acc) {}
  void run(const std::int64_t* const* input, std::int64_t* out, std::int64_t*) const override {
    const std::int64_t* x = input[0];
    const std::size_t C = g_.in_channels, F = g_.out_channels;
    const SpatialStrides si = spatial_strides(g_.format, g_.in[0], g_.in[1], C);
    const SpatialStrides so = spatial_strides(g_.format, g_.out[0], g_.out[1], F);
    const Accumulator::Path path = acc_.path();
    for (std::size_t oh = 0; oh < g_.out[0]; ++oh)
      for (std::size_t ow = 0; ow < g_.out[1]; ++ow)
        for (std::size_t f = 0; f < F; ++f) {
          // Padded taps add x * w = 0, which changes no accumulator: skipped.
          std::int64_t a = bias_.empty() ? 0 : bias_[f];
          for (std::size_t kh = 0; kh < g_.kernel[0]; ++kh) {
            const long long ih = static_cast<long long>(oh * g_.stride[0] + kh * g_.dilation[0]) -
                                 static_cast<long long>(g_.before[0]);
            if (ih < 0 || ih >= static_cast<long long>(g_.in[0])) continue;
            for (std::size_t kw = 0; kw < g_.kernel[1]; ++kw) {
              const long long iw = static_cast<long long>(ow * g_.stride[1] + kw * g_.dilation[1]) -
                                   static_cast<long long>(g_.before[1]);
              if (iw < 0 || iw >= static_cast<long long>(g_.in[1])) continue;
              const std::int64_t* px = x + static_cast<std::size_t>(ih) * si.h + static_cast<std::size_t>(iw) * si.w;
              const std::int64_t* pw = kernel_.data() + ((kh * g_.kernel[1] + kw) * C) * F + f;
              // Wrapping paths: the running value is the exact (modular) sum, wrapped once per tap.
              a = acc_.dot(a, px, si.c, pw, F, C, path);
            }
          }
          out[oh * so.h + ow * so.w + f * so.c] = acc_.result(a);
        }
  }

 private:
  SpatialGeometry g_;
  std::vector<std::int64_t> kernel_;  // [kh, kw, C, F]
  std::vector<std::int64_t> bias_;
  Accumulator acc_;
};

/// Element-wise activations without tables, and the table ones.
class ElementwiseOp : public FixedOp {
 public:
  ElementwiseOp(std::size_t n, ActivationKind kind, FixedType input, FixedType result)
      : n_(n), kind_(kind), input_(input), result_(result) {}
  // leaky_relu: alpha as raw `param`; hard_sigmoid: slope and shift raw values.
  void set_param(std::int64_t raw, FixedType type) { p1_ = raw; t1_ = type; }
  void set_shift(std::int64_t raw, FixedType type) { p2_ = raw; t2_ = type; }
  TableActivation& table() { return table_; }

  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t*) const override {
    const std::int64_t* x = in[0];
    const int fx = input_.fractional();
    for (std::size_t i = 0; i < n_; ++i) {
      const std::int64_t v = x[i];
      switch (kind_) {
        case ActivationKind::linear: out[i] = cast(v, fx, result_); break;
        case ActivationKind::relu: out[i] = v > 0 ? cast(v, fx, result_) : 0; break;
        case ActivationKind::relu6:
          if (v < 0)
            out[i] = 0;
          else if (compare(v, fx, 6, 0) > 0)
            out[i] = cast(6, 0, result_);
          else
            out[i] = cast(v, fx, result_);
          break;
        case ActivationKind::leaky_relu:
          out[i] = v > 0 ? cast(v, fx, result_)
                         : cast(static_cast<int128>(p1_) * v, t1_.fractional() + fx, result_);
          break;
        case ActivationKind::hard_sigmoid: {
          // slope * x + shift, exact (fractional bits: max of the two terms).
          const int fp = t1_.fractional() + fx, fs = t2_.fractional();
          const int f = fp > fs ? fp : fs;
          const int128 s = static_cast<int128>(p1_) * v * (static_cast<int128>(1) << (f - fp)) +
                           static_cast<int128>(p2_) * (static_cast<int128>(1) << (f - fs));
          const int128 one = static_cast<int128>(1) << f;
          out[i] = s > one ? cast(1, 0, result_) : (s < 0 ? 0 : cast(s, f, result_));
          break;
        }
        default: out[i] = cast(table_.lookup(v, fx), table_.table_type.fractional(), result_); break;
      }
    }
  }

 private:
  std::size_t n_;
  ActivationKind kind_;
  FixedType input_, result_;
  std::int64_t p1_ = 0, p2_ = 0;
  FixedType t1_, t2_;
  TableActivation table_;
};

/// Softmax along one axis: outer x slice x inner.
class SoftmaxOp : public FixedOp {
 public:
  SoftmaxOp(std::size_t outer, std::size_t slice, std::size_t inner, SoftmaxTables tables)
      : outer_(outer), slice_(slice), inner_(inner), t_(std::move(tables)) {}
  std::size_t scratch_size() const override { return 4 * slice_; }
  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t* scratch) const override {
    std::int64_t* xs = scratch;
    std::int64_t* ys = scratch + slice_;
    std::int64_t* e = scratch + 2 * slice_;
    std::int64_t* d = scratch + 3 * slice_;
    for (std::size_t o = 0; o < outer_; ++o)
      for (std::size_t k = 0; k < inner_; ++k) {
        const std::size_t base = o * slice_ * inner_ + k;
        for (std::size_t j = 0; j < slice_; ++j) xs[j] = in[0][base + j * inner_];
        t_.run(xs, ys, slice_, e, d);
        for (std::size_t j = 0; j < slice_; ++j) out[base + j * inner_] = ys[j];
      }
  }

 private:
  std::size_t outer_, slice_, inner_;
  SoftmaxTables t_;
};

/// BatchNormalization: y = result(x * scale[c] + bias[c]), channel c of axis.
class BatchNormOp : public FixedOp {
 public:
  BatchNormOp(std::size_t n, std::size_t channels, std::size_t inner, std::vector<std::int64_t> scale,
              std::vector<std::int64_t> bias, FixedType input, FixedType scale_t, FixedType bias_t,
              FixedType result)
      : n_(n), channels_(channels), inner_(inner), scale_(std::move(scale)), bias_(std::move(bias)),
        result_(result) {
    fp_ = input.fractional() + scale_t.fractional();
    fb_ = bias_t.fractional();
  }
  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t*) const override {
    const int f = fp_ > fb_ ? fp_ : fb_;
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t c = (i / inner_) % channels_;
      const int128 s = static_cast<int128>(in[0][i]) * scale_[c] * (static_cast<int128>(1) << (f - fp_)) +
                       static_cast<int128>(bias_[c]) * (static_cast<int128>(1) << (f - fb_));
      out[i] = cast(s, f, result_);
    }
  }

 private:
  std::size_t n_, channels_, inner_;
  std::vector<std::int64_t> scale_, bias_;
  FixedType result_;
  int fp_ = 0, fb_ = 0;
};

/// Max and average pooling (windows or global), hls4ml's pool_op.
class PoolOp : public FixedOp {
 public:
  PoolOp(SpatialGeometry g, bool is_max, bool count_pad, FixedType input, FixedType accum,
         FixedType result)
      : g_(g), max_(is_max), count_pad_(count_pad), input_(input), accum_(accum), result_(result) {
    // hls4ml's pad_val for max pooling: the pattern 100...0 of the input type.
    pad_ = input.is_signed ? input.min_raw() : static_cast<std::int64_t>(1ull << (input.width - 1));
  }
  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t*) const override {
    const std::int64_t* x = in[0];
    const std::size_t C = g_.in_channels;
    const SpatialStrides si = spatial_strides(g_.format, g_.in[0], g_.in[1], C);
    const SpatialStrides so = spatial_strides(g_.format, g_.out[0], g_.out[1], C);
    const int fx = input_.fractional(), fa = accum_.fractional();
    for (std::size_t oh = 0; oh < g_.out[0]; ++oh)
      for (std::size_t ow = 0; ow < g_.out[1]; ++ow)
        for (std::size_t c = 0; c < C; ++c) {
          std::int64_t best = 0;
          bool first = true;
          std::int64_t acc = 0;
          unsigned overlap = 0;
          for (std::size_t kh = 0; kh < g_.kernel[0]; ++kh)
            for (std::size_t kw = 0; kw < g_.kernel[1]; ++kw) {
              const long long ih = static_cast<long long>(oh * g_.stride[0] + kh) - static_cast<long long>(g_.before[0]);
              const long long iw = static_cast<long long>(ow * g_.stride[1] + kw) - static_cast<long long>(g_.before[1]);
              const bool inside = ih >= 0 && ih < static_cast<long long>(g_.in[0]) && iw >= 0 &&
                                  iw < static_cast<long long>(g_.in[1]);
              std::int64_t v = 0;
              if (inside) {
                v = x[static_cast<std::size_t>(ih) * si.h + static_cast<std::size_t>(iw) * si.w + c * si.c];
                ++overlap;
              } else {
                v = max_ ? pad_ : 0;
              }
              if (max_) {
                if (first || v > best) best = v;
                first = false;
              } else {
                int f = 0;
                const int128 sum = exact_sum(acc, fa, v, fx, f);
                acc = cast(sum, f, accum_);
              }
            }
          std::int64_t r = 0;
          if (max_) {
            r = cast(best, fx, accum_);
          } else {
            const unsigned n = count_pad_ ? static_cast<unsigned>(g_.kernel[0] * g_.kernel[1]) : overlap;
            r = cast(static_cast<int128>(acc) / n, fa, accum_);  // ap_fixed / unsigned: towards zero
          }
          out[oh * so.h + ow * so.w + c * so.c] = cast(r, fa, result_);
        }
  }

 private:
  SpatialGeometry g_;
  bool max_, count_pad_;
  FixedType input_, accum_, result_;
  std::int64_t pad_ = 0;
};

/// Binary element-wise merges (hls4ml's nnet_merge.h).
class MergeOp2 : public FixedOp {
 public:
  enum class Kind { add, subtract, multiply, average, maximum, minimum };
  MergeOp2(std::size_t n, Kind kind, FixedType a, FixedType b, FixedType result)
      : n_(n), kind_(kind), a_(a), b_(b), result_(result) {}
  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t*) const override {
    const int fa = a_.fractional(), fb = b_.fractional();
    for (std::size_t i = 0; i < n_; ++i) {
      const std::int64_t a = in[0][i], b = in[1][i];
      int f = 0;
      switch (kind_) {
        case Kind::add: {
          const int128 sum = exact_sum(a, fa, b, fb, f);  // sets f: a separate statement
          out[i] = cast(sum, f, result_);
          break;
        }
        case Kind::subtract: {
          const int128 diff = exact_sum(a, fa, -static_cast<int128>(b), fb, f);
          out[i] = cast(diff, f, result_);
          break;
        }
        case Kind::multiply: out[i] = cast(static_cast<int128>(a) * b, fa + fb, result_); break;
        case Kind::average: {
          const int128 s = exact_sum(a, fa, b, fb, f);
          out[i] = cast(s, f + 1, result_);  // (a + b) * ap_ufixed<1,0>(0.5)
          break;
        }
        case Kind::maximum:
          out[i] = compare(a, fa, b, fb) > 0 ? cast(a, fa, result_) : cast(b, fb, result_);
          break;
        case Kind::minimum:
          out[i] = compare(a, fa, b, fb) < 0 ? cast(a, fa, result_) : cast(b, fb, result_);
          break;
      }
    }
  }

 private:
  std::size_t n_;
  Kind kind_;
  FixedType a_, b_, result_;
};

/// Concatenate along an axis: outer x (sum of the inputs' axis x inner).
class ConcatOp : public FixedOp {
 public:
  ConcatOp(std::size_t outer, std::vector<std::size_t> blocks, std::vector<FixedType> types, FixedType result)
      : outer_(outer), blocks_(std::move(blocks)), types_(std::move(types)), result_(result) {}
  void run(const std::int64_t* const* in, std::int64_t* out, std::int64_t*) const override {
    std::size_t k = 0;
    for (std::size_t o = 0; o < outer_; ++o)
      for (std::size_t a = 0; a < blocks_.size(); ++a) {
        const std::int64_t* x = in[a] + o * blocks_[a];
        const int f = types_[a].fractional();
        for (std::size_t j = 0; j < blocks_[a]; ++j) out[k++] = cast(x[j], f, result_);
      }
  }

 private:
  std::size_t outer_;
  std::vector<std::size_t> blocks_;  // elements of each input per outer index
  std::vector<FixedType> types_;
  FixedType result_;
};

}  // namespace trignet::fixed_rt
