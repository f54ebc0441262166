#pragma once
// Compares a compile-time network with the run-time engine (float and double)
// and with the framework outputs embedded in its model file.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <trignet/load.hpp>
#include <trignet/session.hpp>

#include "catch.hpp"

namespace trignet_test {

struct Agreement {
  double vs_float = 0;      // max |static - run-time float| / (1 + |run-time|)
  double vs_double = 0;     // same against the run-time engine in double
  double vs_framework = 0;  // max error / (abs + rel |expected|) over the test vectors (<= 1 passes)
};

/// Deterministic inputs in [-3, 3); every 13th feature NaN when `with_nan`.
inline std::vector<float> fast_path_inputs(std::size_t n, bool with_nan) {
  std::vector<float> x(n);
  std::uint32_t s = 2024;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    x[i] = static_cast<float>(s >> 8) / 8388608.0f * 3.0f - 3.0f;
    if (with_nan && i % 13 == 5) x[i] = std::nanf("");
  }
  return x;
}

template <typename Net>
Agreement check_against_runtime(const Net& net, const std::string& path) {
  trignet::LoadOptions no_verify;
  no_verify.verify_test_vectors = false;
  const trignet::ModelSpec spec = trignet::load_model_spec(path);
  const auto model_f = trignet::compile_model<float>(spec, no_verify);
  const auto model_d = trignet::compile_model<double>(spec, no_verify);
  Agreement a;
  const std::size_t n_in = Net::input_size, n_out = Net::output_size;
  REQUIRE(model_f->inputs()[0].size == n_in);
  REQUIRE(model_f->outputs()[0].size == n_out);

  // The framework's own outputs, with the file's tolerances.
  for (const trignet::TestVector& tv : spec.test_vectors) {
    std::vector<float> in(tv.inputs[0].begin(), tv.inputs[0].end()), out(tv.batch * n_out);
    net.run_batch(in.data(), out.data(), tv.batch);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const double want = tv.outputs[0][i];
      const double err = std::fabs(out[i] - want) / (tv.abs_tolerance + tv.rel_tolerance * std::fabs(want));
      a.vs_framework = std::max(a.vs_framework, std::isnan(want) ? (std::isnan(out[i]) ? 0.0 : 1e9) : static_cast<double>(err));
    }
  }

  const bool with_nan = !spec.inputs[0].preprocessing.nan_replacement.empty();
  for (std::size_t batch : {1, 2, 3, 17, 1000}) {
    const std::vector<float> x = fast_path_inputs(batch * n_in, with_nan);
    std::vector<float> y(batch * n_out), y1(n_out);
    net.run_batch(x.data(), y.data(), batch);
    trignet::Session<float> sf(model_f, batch);
    const auto rf = sf.run(trignet::Span<const float>(x.data(), x.size()));
    trignet::Session<double> sd(model_d, batch);
    const std::vector<double> xd(x.begin(), x.end());
    const auto rd = sd.run(trignet::Span<const double>(xd.data(), xd.size()));
    for (std::size_t b = 0; b < batch; ++b) {
      net.run(x.data() + b * n_in, y1.data());
      for (std::size_t j = 0; j < n_out; ++j) {
        const std::size_t k = b * n_out + j;
        // run() and run_batch() use different kernels (GEMV vs tiles): same sums, another order.
        CHECK(std::fabs(y1[j] - y[k]) <= 1e-5 * (1 + std::fabs(y[k])));
        CHECK(std::isnan(y[k]) == std::isnan(rf[k]));
        a.vs_float = std::max(a.vs_float, static_cast<double>(std::fabs(y[k] - rf[k]) / (1 + std::fabs(rf[k]))));
        a.vs_double = std::max(a.vs_double, std::fabs(static_cast<double>(y[k]) - rd[k]) / (1 + std::fabs(rd[k])));
      }
    }
  }
  if (std::getenv("TRIGNET_PRINT_AGREEMENT"))
    std::printf("%-60s vs float %.3g  vs double %.3g  vs framework %.3g (<= 1 passes)\n", path.c_str(),
                a.vs_float, a.vs_double, a.vs_framework);
  // Measured on the models in models/ and tests/data (docs/fast-path.md):
  // at most ~5e-7 against float and ~1e-6 against double.
  CHECK(a.vs_float <= 5e-6);
  CHECK(a.vs_double <= 1e-5);
  CHECK(a.vs_framework <= 1.0);
  return a;
}

}  // namespace trignet_test
