#pragma once
// Activations of the fixed-point engine: hls4ml's nnet_activation.h
// (io_parallel) reproduced on run-time types: lookup tables built with the
// same float expressions, indexed the same way (docs/format.md, "Activation
// precision").

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/fixed_engine/fixed_type.hpp"
#include "trignet/fixed_engine/precision.hpp"
#include "trignet/layers/activation.hpp"

namespace trignet::fixed_rt {

/// ceil(log2(n)) for n >= 1 (hls4ml's ceillog2).
inline int ceil_log2(std::size_t n) {
  int b = 0;
  while ((std::size_t(1) << b) < n) ++b;
  return b;
}

/// int(x * numerator / denominator) as ap_fixed computes it in hls4ml's table
/// index code: the exact product, divided by an int (quotient truncated towards
/// zero at x's LSB), then converted to int (truncated towards zero, low 32 bits).
inline std::int32_t table_round(std::int64_t raw, int frac, long long numerator, long long denominator) {
  const int128 p = static_cast<int128>(raw) * numerator;
  const int128 q = p / denominator;  // C++ division truncates towards zero
  int128 i = 0;
  if (frac > 0) {
    if (frac >= 127) {
      i = 0;
    } else {
      const int128 m = static_cast<int128>(1) << frac;
      i = q / m;  // towards zero
    }
  } else if (-frac < 127) {
    i = static_cast<int128>(static_cast<detail::fixed_uint128>(q) << (-frac));
  }
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<detail::fixed_uint128>(i)));
}

/// hls4ml: index = data_round + offset (int arithmetic), clamped to [0, n-1].
inline std::size_t table_clamp(std::int32_t data_round, std::uint32_t offset, std::size_t n) {
  const std::int32_t index =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(data_round) + offset);
  if (index < 0) return 0;
  if (static_cast<std::size_t>(index) > n - 1) return n - 1;
  return static_cast<std::size_t>(index);
}

/// The value of type t whose top n bits are i and other bits zero, as float
/// (hls4ml's softmax_real_val_from_idx).
inline float value_from_index(std::size_t i, int n, const FixedType& t) {
  const std::int64_t raw = static_cast<std::int64_t>(detail::fixed_wrap<int128>(
      static_cast<int128>(static_cast<detail::fixed_uint128>(i) << (t.width - n)), t.width, t.is_signed));
  return to_float(raw, t);
}

/// The top n bits of x's W-bit pattern as an unsigned index (softmax_idx_from_real_val).
inline std::size_t index_from_value(std::int64_t raw, int n, const FixedType& t) {
  const std::uint64_t bits = static_cast<std::uint64_t>(raw) &
                             (t.width == 64 ? ~0ull : ((1ull << t.width) - 1));
  return static_cast<std::size_t>((bits >> (t.width - n)) & ((1ull << n) - 1));
}

// The float functions of nnet_activation.h, evaluated as hls4ml evaluates them.
inline float sigmoid_float(float x) { return static_cast<float>(1.0 / (1 + std::exp(-x))); }
inline float softplus_float(float x) { return static_cast<float>(std::log(std::exp(x) + 1.)); }
inline float softsign_float(float x) { return static_cast<float>(x / (std::abs(x) + 1.)); }
inline float tanh_float(float x) { return std::tanh(x); }

/// An element-wise table activation: sigmoid, tanh, softplus, softsign.
struct TableActivation {
  std::vector<std::int64_t> table;  // raw values of table_t
  FixedType table_type;
  int range = 8;  // the table covers [-range, range)

  void build(ActivationKind kind, std::size_t n, const FixedType& type) {
    table_type = type;
    range = kind == ActivationKind::tanh ? 4 : 8;
    table.resize(n);
    for (std::size_t ii = 0; ii < n; ++ii) {
      // hls4ml: float in_val = 2 * R * (ii - float(N) / 2.0) / float(N);
      const float in_val = static_cast<float>(2 * static_cast<double>(range) *
                                              (static_cast<double>(ii) - static_cast<double>(static_cast<float>(n)) / 2.0) /
                                              static_cast<double>(static_cast<float>(n)));
      float v = 0;
      switch (kind) {
        case ActivationKind::sigmoid: v = sigmoid_float(in_val); break;
        case ActivationKind::tanh: v = tanh_float(in_val); break;
        case ActivationKind::softplus: v = softplus_float(in_val); break;
        case ActivationKind::softsign: v = softsign_float(in_val); break;
        default: break;
      }
      table[ii] = from_float(v, type);
    }
  }

  std::int64_t lookup(std::int64_t raw, int frac) const {
    const std::size_t n = table.size();
    const std::int32_t data_round = table_round(raw, frac, static_cast<long long>(n), 2LL * range);
    const std::uint32_t offset = static_cast<std::uint32_t>(range * n / (2 * range));
    return table[table_clamp(data_round, offset, n)];
  }
};

/// hls4ml's softmax (latency, stable, legacy, argmax) on one slice.
struct SoftmaxTables {
  SoftmaxImplementation impl = SoftmaxImplementation::stable;
  FixedType input, result, exp_table_type, inv_table_type, accum, inv_input, norm_input, table_type;
  std::vector<std::int64_t> exp_table, inv_table;
  int exp_bits = 0, inv_bits = 0;

  void build() {
    const std::size_t ne = exp_table.size(), ni = inv_table.size();
    if (impl == SoftmaxImplementation::latency || impl == SoftmaxImplementation::stable) {
      exp_bits = ceil_log2(ne);
      inv_bits = ceil_log2(ni);
      const FixedType& index_type = impl == SoftmaxImplementation::stable ? norm_input : input;
      for (std::size_t i = 0; i < ne; ++i) {
        float x = value_from_index(i, exp_bits, index_type) * exp_scale;
        if (impl == SoftmaxImplementation::stable) x = -x;
        exp_table[i] = from_float(std::exp(x), exp_table_type);
      }
      for (std::size_t i = 0; i < ni; ++i) {
        const float x = value_from_index(i, inv_bits, inv_input);
        inv_table[i] = from_float(1 / x, inv_table_type);
      }
    } else if (impl == SoftmaxImplementation::legacy) {
      for (std::size_t ii = 0; ii < ne; ++ii) {
        const float in_val = static_cast<float>(2 * 8.0 * (static_cast<double>(ii) - static_cast<double>(static_cast<float>(ne)) / 2.0) /
                                                static_cast<double>(static_cast<float>(ne)));
        exp_table[ii] = from_float(std::exp(in_val), table_type);
      }
      for (std::size_t ii = 0; ii < ni; ++ii) {
        const float in_val = static_cast<float>(64.0 * static_cast<double>(ii) / static_cast<double>(static_cast<float>(ni)));
        inv_table[ii] = in_val > 0.0 ? from_double(1.0 / in_val, table_type) : 0;
      }
    }
  }
  float exp_scale = 1.0f;

  /// Balanced tree sum of v[0..n) in `accum` (hls4ml's reduce with Op_add).
  std::int64_t tree_sum(const std::int64_t* v, std::size_t n) const {
    if (n == 1) return v[0];
    if (n == 2) return add(v[0], v[1]);
    std::size_t left = 1;
    while (left * 2 <= n - 1) left *= 2;  // pow2(floorlog2(n - 1))
    return add(tree_sum(v, left), tree_sum(v + left, n - left));
  }
  std::int64_t add(std::int64_t a, std::int64_t b) const {
    return cast(static_cast<int128>(a) + b, accum.fractional(), accum);
  }

  /// x: n raw values of `input`; y: n raw values of `result`; e: scratch of n.
  void run(const std::int64_t* x, std::int64_t* y, std::size_t n, std::int64_t* e,
           std::int64_t* d) const {
    const int fx = input.fractional();
    switch (impl) {
      case SoftmaxImplementation::argmax: {
        std::size_t best = 0;
        for (std::size_t i = 1; i < n; ++i)
          if (x[i] > x[best]) best = i;
        const std::int64_t one = cast(1, 0, result);
        for (std::size_t i = 0; i < n; ++i) y[i] = i == best ? one : 0;
        return;
      }
      case SoftmaxImplementation::legacy: {
        const std::size_t ne = exp_table.size(), ni = inv_table.size();
        const std::int64_t one = cast(1, 0, table_type);
        const int ft = table_type.fractional();
        for (std::size_t i = 0; i < n; ++i) {
          std::int64_t acc = 0;
          for (std::size_t j = 0; j < n; ++j) {
            std::int64_t term = one;
            if (i != j) {
              const std::int32_t r = table_round(x[j] - x[i], fx, static_cast<long long>(ne), 16);
              term = exp_table[table_clamp(r, static_cast<std::uint32_t>(8 * ne / 16), ne)];
            }
            acc = cast(static_cast<int128>(acc) + term, ft, table_type);
          }
          const std::int32_t r = table_round(acc, ft, static_cast<long long>(ni), 64);
          std::int64_t idx = r < 0 ? 0 : r;
          if (idx > static_cast<std::int64_t>(ni) - 1) idx = static_cast<std::int64_t>(ni) - 1;
          y[i] = cast(inv_table[static_cast<std::size_t>(idx)], ft, result);
        }
        return;
      }
      case SoftmaxImplementation::latency:
      case SoftmaxImplementation::stable: {
        const int fa = accum.fractional();
        const int fe = exp_table_type.fractional();
        if (impl == SoftmaxImplementation::latency) {
          for (std::size_t i = 0; i < n; ++i)
            e[i] = cast(exp_table[index_from_value(x[i], exp_bits, input)], fe, accum);
        } else {
          std::int64_t m = x[0];
          for (std::size_t i = 1; i < n; ++i) m = m >= x[i] ? m : x[i];
          for (std::size_t i = 0; i < n; ++i) {
            d[i] = cast(static_cast<int128>(m) - x[i], fx, norm_input);
            e[i] = cast(exp_table[index_from_value(d[i], exp_bits, norm_input)], fe, accum);
          }
        }
        const std::int64_t sum = cast(tree_sum(e, n), fa, inv_input);
        const std::int64_t inv = inv_table[index_from_value(sum, inv_bits, inv_input)];
        const int fi = inv_table_type.fractional();
        for (std::size_t i = 0; i < n; ++i)
          y[i] = cast(static_cast<int128>(e[i]) * inv, fa + fi, result);
        return;
      }
    }
  }
};

}  // namespace trignet::fixed_rt
