// Reproducible mode (cpu/reproducible.hpp): its own double-precision math
// against long double libm, its Dense against a naive long double reference,
// the layers it refuses, and that every fixture it accepts still reproduces
// the fixture's expected outputs. Bit-identity across batch sizes, positions
// and instruction sets is tested by tests/reproducible (three builds).

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"
#include "trignet/trignet.hpp"

namespace {

namespace rmath = trignet::cpu::reproducible::math;

/// Distance in units of the last place of double between a and the exact value e.
double ulps(double a, long double e) {
  if (std::isnan(a) && std::isnan(static_cast<double>(e))) return 0;
  const double ed = static_cast<double>(e);
  if (a == ed) return 0;
  const double ulp = std::nextafter(std::fabs(ed), std::numeric_limits<double>::infinity()) - std::fabs(ed);
  return static_cast<double>(std::fabs(static_cast<long double>(a) - e) / ulp);
}

template <typename F, typename R>
double worst_ulps(F f, R reference, double lo, double hi, int n) {
  double worst = 0;
  for (int i = 0; i <= n; ++i) {
    const double x = lo + (hi - lo) * i / n;
    worst = std::max(worst, ulps(f(x), reference(static_cast<long double>(x))));
  }
  return worst;
}

}  // namespace

TEST_CASE("reproducible: double math is within a few ulp of long double libm", "[reproducible]") {
  const int n = 200000;
  CHECK(worst_ulps(rmath::exp, [](long double x) { return std::exp(x); }, -700, 700, n) < 4);
  CHECK(worst_ulps(rmath::exp, [](long double x) { return std::exp(x); }, -1, 1, n) < 4);
  CHECK(worst_ulps(rmath::expm1, [](long double x) { return std::expm1(x); }, -2, 2, n) < 4);
  CHECK(worst_ulps(rmath::expm1, [](long double x) { return std::expm1(x); }, -1e-6, 1e-6, n) < 4);
  CHECK(worst_ulps(rmath::tanh, [](long double x) { return std::tanh(x); }, -25, 25, n) < 6);
  CHECK(worst_ulps(rmath::tanh, [](long double x) { return std::tanh(x); }, -1e-3, 1e-3, n) < 6);
  CHECK(worst_ulps(rmath::sigmoid, [](long double x) { return 1 / (1 + std::exp(-x)); }, -40, 40, n) < 6);
  CHECK(worst_ulps(rmath::erf, [](long double x) { return std::erf(x); }, -7, 7, n) < 64);  // ~150 series terms near |x| = 6
  CHECK(worst_ulps(rmath::erfc, [](long double x) { return std::erfc(x); }, 2, 26, n) < 32);
  // Below 2 erfc is 1 - erf: absolute error ~1e-15, relative up to ~3e-13 near 2 (float needs 6e-8).
  CHECK(worst_ulps(rmath::erfc, [](long double x) { return std::erfc(x); }, -3, 2, n) < 4096);
  CHECK(worst_ulps(rmath::erf, [](long double x) { return std::erf(x); }, -1e-3, 1e-3, n) < 32);
  CHECK(worst_ulps(rmath::softplus, [](long double x) { return std::log1p(std::exp(-std::fabs(x))) + std::fmax(x, 0.0L); },
                   -50, 50, n) < 8);
  CHECK(worst_ulps([](double y) { return rmath::log1p_nonnegative(y); }, [](long double y) { return std::log1p(y); },
                   0, 1e6, n) < 8);
}

TEST_CASE("reproducible: special values", "[reproducible]") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  CHECK(rmath::exp(inf) == inf);
  CHECK(rmath::exp(-inf) == 0);
  CHECK(rmath::exp(800) == inf);
  CHECK(rmath::exp(-800) == 0);
  CHECK(std::isnan(rmath::exp(nan)));
  CHECK(rmath::exp(-745.0) > 0);  // the smallest denormals are reached, not flushed
  CHECK(rmath::tanh(inf) == 1);
  CHECK(rmath::tanh(-inf) == -1);
  CHECK(rmath::sigmoid(inf) == 1);
  CHECK(rmath::sigmoid(-inf) == 0);
  CHECK(rmath::erf(-inf) == -1);
  CHECK(rmath::softplus(inf) == inf);
  CHECK(rmath::softplus(-inf) == 0);
  trignet::Activation softsign;
  softsign.kind = trignet::ActivationKind::softsign;
  CHECK(trignet::cpu::reproducible::activate(softsign, std::numeric_limits<float>::infinity()) == 1.0f);
  trignet::Activation gelu;
  gelu.kind = trignet::ActivationKind::gelu;
  CHECK(trignet::cpu::reproducible::activate(gelu, -std::numeric_limits<float>::infinity()) == 0.0f);
}

TEST_CASE("reproducible: float activations are correctly rounded almost everywhere", "[reproducible]") {
  // Every float result is the double result rounded once; compare with the
  // long double reference rounded once, over a dense sweep.
  using trignet::ActivationKind;
  struct Case {
    ActivationKind kind;
    long double (*reference)(long double);
  };
  const Case cases[] = {
      {ActivationKind::tanh, [](long double x) { return std::tanh(x); }},
      {ActivationKind::sigmoid, [](long double x) { return 1 / (1 + std::exp(-x)); }},
      {ActivationKind::exponential, [](long double x) { return std::exp(x); }},
      {ActivationKind::gelu, [](long double x) { return 0.5L * x * std::erfc(-x / std::sqrt(2.0L)); }},
      {ActivationKind::softplus, [](long double x) { return std::log1p(std::exp(-std::fabs(x))) + std::fmax(x, 0.0L); }},
  };
  for (const Case& c : cases) {
    trignet::Activation a;
    a.kind = c.kind;
    int off_by_one = 0, worse = 0;
    for (int i = -400000; i <= 400000; ++i) {
      const float x = static_cast<float>(i) * 5e-5f;
      const float got = trignet::cpu::reproducible::activate(a, x);
      const float want = static_cast<float>(c.reference(static_cast<long double>(x)));
      if (got == want) continue;
      const float next = std::nextafter(want, got);
      (next == got ? off_by_one : worse)++;
    }
    INFO(trignet::activation_name(c.kind) << ": " << off_by_one << " results 1 ulp off, " << worse << " worse");
    CHECK(worse == 0);
    CHECK(off_by_one < 50);  // double rounding ties only
  }
}

TEST_CASE("reproducible: Dense against a long double reference, odd sizes", "[reproducible]") {
  for (std::size_t in : {1u, 3u, 17u, 64u}) {
    for (std::size_t units : {1u, 5u, 33u}) {
      trignet::DenseParams p;
      p.units = units;
      p.use_bias = true;
      trignet::WeightMap w;
      w["kernel"].shape = {in, units};
      w["bias"].shape = {units};
      for (std::size_t k = 0; k < in * units; ++k) w["kernel"].values.push_back(std::sin(0.37f * static_cast<float>(k) + 0.1f));
      for (std::size_t j = 0; j < units; ++j) w["bias"].values.push_back(0.01f * static_cast<float>(j));
      trignet::cpu::reproducible::DenseLayer<float> layer(p, w, {in}, {units});
      std::vector<float> x(3 * in), y(3 * units);
      for (std::size_t k = 0; k < x.size(); ++k) x[k] = std::cos(0.91f * static_cast<float>(k));
      const float* inputs[] = {x.data()};
      layer.forward(inputs, y.data(), 3, nullptr);
      for (std::size_t b = 0; b < 3; ++b)
        for (std::size_t j = 0; j < units; ++j) {
          long double ref = w["bias"].values[j], mag = std::fabs(ref);
          for (std::size_t i = 0; i < in; ++i) {
            ref += static_cast<long double>(w["kernel"].values[i * units + j]) * x[b * in + i];
            mag += std::fabs(static_cast<long double>(w["kernel"].values[i * units + j]) * x[b * in + i]);
          }
          CHECK(std::fabs(y[b * units + j] - ref) <= 1e-6L * mag + 1e-30L);
        }
    }
  }
}

TEST_CASE("reproducible: layers without a reproducible kernel are refused by name", "[reproducible]") {
  trignet::LoadOptions options;
  options.reproducible = true;
  const std::string message = trignet_test::error_message<trignet::UnsupportedError>(
      [&] { trignet::load_model<float>(trignet_test::source_path("models/cicada_cnn.json"), options); });
  CHECK(trignet_test::contains(message, "(Conv2D): reproducible mode has no kernel for this layer yet"));
  CHECK(trignet_test::contains(message, "load without LoadOptions::reproducible"));
  const auto model = trignet::load_model<float>(trignet_test::source_path("models/jet_tagger.json"), options);
  CHECK(model->reproducible());
  CHECK_FALSE(trignet::load_model<float>(trignet_test::source_path("models/jet_tagger.json"))->reproducible());
}

TEST_CASE("reproducible: every fixture it accepts reproduces its expected outputs", "[reproducible]") {
  int accepted = 0, refused = 0;
  for (const std::string& file : trignet_test::fixture_files()) {
    INFO(file);
    trignet::LoadOptions options;
    options.reproducible = true;
    try {
      // load_model re-runs the fixture's test vectors (float tolerance) and
      // throws VerificationError on disagreement.
      for (int pass = 0; pass < 2; ++pass) {
        if (pass == 0)
          trignet::load_model<float>(file, options);
        else
          trignet::load_model<double>(file, options);
      }
      ++accepted;
    } catch (const trignet::UnsupportedError&) {
      ++refused;
    }
  }
  INFO(accepted << " fixtures accepted, " << refused << " refused");
  CHECK(accepted >= 60);
}
