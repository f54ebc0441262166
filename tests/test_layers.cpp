// Layers against independent references: the numpy fixtures in tests/data/layers
// (tests/reference/make_fixtures.py) and closed-form values computed here.

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

using trignet_test::fixture_files;

namespace {

/// Largest |computed - expected| / (abs + rel |expected|) over all test vectors;
/// abs/rel of 0 mean "each test vector's own tolerance".
template <typename T>
double worst_ratio(const std::shared_ptr<const trignet::Model<T>>& ptr, double abs = 0,
                   double rel = 0) {
  trignet::Session<T> session(ptr);
  double worst = 0;
  for (const trignet::TestVector& tv : ptr->spec().test_vectors) {
    std::vector<std::vector<T>> in(tv.inputs.size());
    std::vector<trignet::Span<const T>> views;
    for (std::size_t i = 0; i < in.size(); ++i) {
      in[i].assign(tv.inputs[i].begin(), tv.inputs[i].end());
      views.emplace_back(in[i]);
    }
    session.run({views.data(), views.size()}, tv.batch);
    const double a = abs > 0 ? abs : tv.abs_tolerance, r = rel > 0 ? rel : tv.rel_tolerance;
    for (std::size_t o = 0; o < tv.outputs.size(); ++o) {
      const auto y = session.output(o);
      REQUIRE(y.size() == tv.outputs[o].size());
      for (std::size_t i = 0; i < y.size(); ++i) {
        const double e = tv.outputs[o][i];
        worst = std::max(worst, std::fabs(double(y[i]) - e) / (a + r * std::fabs(e)));
      }
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("every layer fixture reproduces the numpy reference in float", "[layers][fixtures]") {
  const auto files = fixture_files();
  REQUIRE(files.size() >= 50);
  for (const std::string& file : files) {
    DYNAMIC_SECTION(file) {
      auto model = trignet::load_model<float>(file, {false});
      REQUIRE(model->spec().test_vectors.size() >= 2);
      const auto report = trignet::verify_test_vectors(model);
      INFO(trignet::describe_failures(model->spec(), report));
      CHECK(report.passed());
      // Float32 agreement measured, not assumed: well inside the file's tolerance.
      CHECK(worst_ratio(model) < 0.5);
    }
  }
}

TEST_CASE("every layer fixture reproduces the numpy reference in double to 1e-12",
          "[layers][fixtures]") {
  for (const std::string& file : fixture_files()) {
    DYNAMIC_SECTION(file) {
      auto model = trignet::load_model<double>(file, {false});
      CHECK(worst_ratio(model, 1e-13, 1e-12) <= 1.0);
    }
  }
}

namespace {

template <typename T>
std::vector<T> activate(const trignet::Activation& a, const std::vector<T>& x) {
  std::vector<T> y = x;
  trignet::cpu::ActivationKernel<T> kernel(a, trignet::Shape{x.size()});
  kernel(y.data(), 1);
  return y;
}

trignet::Activation act(trignet::ActivationKind kind) {
  trignet::Activation a;
  a.kind = kind;
  return a;
}

}  // namespace

TEST_CASE("softmax is exact for every width 1..65, including non-multiples of the SIMD width",
          "[layers][activation]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-20.f, 20.f);
  for (std::size_t n = 1; n <= 65; ++n) {
    std::vector<float> x(n);
    for (float& v : x) v = dist(rng);
    const auto y = activate(act(trignet::ActivationKind::softmax), x);
    double max = -1e300, sum = 0;
    for (float v : x) max = std::max(max, double(v));
    for (float v : x) sum += std::exp(double(v) - max);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double expected = std::exp(double(x[i]) - max) / sum;
      REQUIRE(y[i] == Approx(expected).epsilon(1e-5).margin(1e-7));
      total += y[i];
    }
    REQUIRE(total == Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("softmax does not overflow and handles infinities and NaN", "[layers][activation]") {
  const float inf = std::numeric_limits<float>::infinity();
  auto y = activate(act(trignet::ActivationKind::softmax), std::vector<float>{1000.f, 1000.f, -1000.f});
  CHECK(y[0] == Approx(0.5f));
  CHECK(y[1] == Approx(0.5f));
  CHECK(y[2] == 0.0f);
  y = activate(act(trignet::ActivationKind::softmax), std::vector<float>{inf, 0.f, inf});
  CHECK(y[0] == 0.5f);
  CHECK(y[1] == 0.0f);
  y = activate(act(trignet::ActivationKind::softmax), std::vector<float>{1.f, std::nanf(""), 2.f});
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[2]));
}

TEST_CASE("element-wise activations saturate correctly at extreme inputs", "[layers][activation]") {
  using K = trignet::ActivationKind;
  const std::vector<double> x{-1e4, -100, -30, -1, 0, 1, 30, 100, 1e4};
  for (auto kind : {K::sigmoid, K::tanh, K::softplus, K::silu, K::softsign, K::elu, K::selu, K::gelu}) {
    DYNAMIC_SECTION(trignet::activation_name(kind)) {
      trignet::Activation a = act(kind);
      a.alpha = 1.0;
      const auto yd = activate(a, x);
      std::vector<float> xf(x.begin(), x.end());
      const auto yf = activate(a, xf);
      for (std::size_t i = 0; i < x.size(); ++i) {
        INFO("x = " << x[i]);
        REQUIRE(std::isfinite(yd[i]));
        REQUIRE(std::isfinite(yf[i]));
        CHECK(yf[i] == Approx(yd[i]).epsilon(1e-5).margin(1e-30));
      }
    }
  }
  // Closed forms at the extremes.
  CHECK(activate(act(K::sigmoid), std::vector<double>{-1e4})[0] == 0.0);
  CHECK(activate(act(K::sigmoid), std::vector<double>{1e4})[0] == 1.0);
  CHECK(activate(act(K::softplus), std::vector<double>{1e4})[0] == 1e4);
  CHECK(activate(act(K::softplus), std::vector<double>{-100})[0] == Approx(std::exp(-100.0)));
  CHECK(activate(act(K::tanh), std::vector<float>{-50.f})[0] == -1.0f);
}

TEST_CASE("NaN propagates through every element-wise activation", "[layers][activation]") {
  using K = trignet::ActivationKind;
  for (auto kind : {K::linear, K::relu, K::relu6, K::leaky_relu, K::elu, K::selu, K::gelu,
                    K::sigmoid, K::hard_sigmoid, K::tanh, K::softplus, K::softsign, K::silu,
                    K::exponential}) {
    DYNAMIC_SECTION(trignet::activation_name(kind)) {
      trignet::Activation a = act(kind);
      a.alpha = 0.1;
      a.slope = 0.2;
      a.offset = 0.5;
      const auto y = activate(a, std::vector<float>{std::nanf(""), 1.f});
      CHECK(std::isnan(y[0]));
      CHECK(std::isfinite(y[1]));
    }
  }
}

TEST_CASE("Dense batch GEMM tiling matches a naive double reference for awkward sizes",
          "[layers][dense]") {
  // 70 inputs -> 130 units, batch 150: crosses the 64-row and 64-column tiles.
  const std::size_t in = 70, units = 130, batch = 150;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  trignet::ModelSpec spec;
  spec.name = "dense_tiling";
  spec.inputs.push_back({"x", {in}, {}, {}});
  spec.outputs.push_back({"y", "d", std::nullopt, {}});
  trignet::NodeSpec node;
  node.name = "d";
  node.inputs = {"x"};
  node.params = trignet::DenseParams{units, {}, true};
  trignet::WeightTensor kernel{{in, units}, std::vector<float>(in * units)};
  trignet::WeightTensor bias{{units}, std::vector<float>(units)};
  for (float& v : kernel.values) v = dist(rng);
  for (float& v : bias.values) v = dist(rng);
  node.weights = {{"kernel", kernel}, {"bias", bias}};
  spec.nodes.push_back(node);
  auto model = trignet::compile_model<float>(spec);
  trignet::Session<float> session(model);
  std::vector<float> x(batch * in);
  for (float& v : x) v = dist(rng);
  const auto y = session.run(x);
  REQUIRE(y.size() == batch * units);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t j = 0; j < units; ++j) {
      double ref = bias.values[j];
      for (std::size_t i = 0; i < in; ++i) ref += double(x[b * in + i]) * kernel.values[i * units + j];
      REQUIRE(y[b * units + j] == Approx(ref).margin(1e-4));
    }
}
