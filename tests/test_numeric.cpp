// Numeric edge cases: NaN, +/-inf, denormals and huge values through every
// activation and layer; the NaN policy (propagate), the optional input check,
// and the flush-to-zero option.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

using trignet_test::contains;
using trignet_test::error_message;

namespace {

template <typename T>
struct Special {
  static constexpr T inf = std::numeric_limits<T>::infinity();
  static T nan() { return std::numeric_limits<T>::quiet_NaN(); }
  static constexpr T denorm = std::numeric_limits<T>::denorm_min();
  static constexpr T big = std::numeric_limits<T>::max();
};

std::string activation_json(const std::string& act) {
  return R"({"format": "trignet", "format_version": 1, "name": "act",
    "inputs": [{"name": "x", "shape": [8]}], "outputs": [{"name": "y", "node": "a"}],
    "nodes": [{"name": "a", "type": "Activation", "inputs": ["x"], "config": {"activation": )" +
         act + "}}]}";
}

template <typename T>
std::vector<T> run_activation(const std::string& act, const std::vector<T>& x) {
  auto model = trignet::load_model_from_string<T>(activation_json(act));
  trignet::Session<T> session(model);
  const auto y = session.run(x);
  return std::vector<T>(y.begin(), y.end());
}

// x: NaN, +inf, -inf, +max, -max, +denorm, -denorm, 0
template <typename T>
std::vector<T> specials() {
  using S = Special<T>;
  return {S::nan(), S::inf, -S::inf, S::big, -S::big, S::denorm, -S::denorm, T(0)};
}

struct Expect {
  const char* activation;
  double pos_inf, neg_inf, pos_big, neg_big;  // expected values (NaN: "any NaN")
};

}  // namespace

TEMPLATE_TEST_CASE("numeric: every activation at NaN, +/-inf, huge and denormal inputs",
                   "[numeric][activation]", float, double) {
  using T = TestType;
  const double inf = std::numeric_limits<double>::infinity();
  const double selu_neg = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717;
  const Expect cases[] = {
      {"\"linear\"", inf, -inf, 1, -1},  // big: sign only checked below
      {"\"relu\"", inf, 0, 1, 0},
      {"\"relu6\"", 6, 0, 6, 0},
      {"{\"name\": \"leaky_relu\", \"alpha\": 0.1}", inf, -inf, 1, -1},
      {"\"elu\"", inf, -1, 1, -1},
      {"\"selu\"", inf, selu_neg, 1, selu_neg},
      {"\"gelu\"", inf, 0, 1, 0},
      {"{\"name\": \"gelu\", \"approximate\": true}", inf, 0, 1, 0},
      {"\"sigmoid\"", 1, 0, 1, 0},
      {"{\"name\": \"hard_sigmoid\", \"slope\": 0.2, \"offset\": 0.5}", 1, 0, 1, 0},
      {"\"tanh\"", 1, -1, 1, -1},
      {"\"softplus\"", inf, 0, 1, 0},
      {"\"softsign\"", 1, -1, 1, -1},
      {"\"silu\"", inf, 0, 1, 0},
      {"\"exponential\"", inf, 0, inf, 0},
  };
  for (const Expect& e : cases) {
    INFO("activation " << e.activation);
    const std::vector<T> y = run_activation<T>(e.activation, specials<T>());
    CHECK(std::isnan(y[0]));  // NaN propagates
    CHECK(static_cast<double>(y[1]) == e.pos_inf);
    CHECK(static_cast<double>(y[2]) == Approx(e.neg_inf).margin(1e-6));
    // Huge finite inputs: no NaN, the saturated value (or the input's own sign
    // and magnitude for the unbounded ones).
    CHECK_FALSE(std::isnan(y[3]));
    CHECK_FALSE(std::isnan(y[4]));
    if (e.pos_big == 1 && e.pos_inf == inf)
      CHECK(y[3] >= T(1));
    else
      CHECK(static_cast<double>(y[3]) == e.pos_big);
    if (e.neg_big == -1 && e.neg_inf == -inf)
      CHECK(y[4] <= T(-1));
    else
      CHECK(static_cast<double>(y[4]) == Approx(e.neg_big).margin(1e-6));
    // Denormals and zero: finite, and no denormal comes out of exp or sigmoid.
    for (int i = 5; i < 8; ++i) CHECK(std::isfinite(y[i]));
  }
}

TEMPLATE_TEST_CASE("numeric: exp and sigmoid never return denormals", "[numeric][activation]",
                   float, double) {
  using T = TestType;
  std::vector<T> x = {T(-80), T(-90), T(-100), T(-700), T(-720), T(-1e30), -Special<T>::inf, T(-5)};
  for (const char* act : {"\"exponential\"", "\"sigmoid\""}) {
    const std::vector<T> y = run_activation<T>(act, x);
    for (T v : y) CHECK((v == T(0) || std::fpclassify(v) == FP_NORMAL));
  }
}

TEST_CASE("numeric: softmax with huge, infinite and NaN entries", "[numeric][softmax]") {
  using S = Special<float>;
  const std::string softmax = "\"softmax\"";
  auto y = run_activation<float>(softmax, {S::big, S::big, -S::big, 0, 1e30f, -1e30f, 3e38f, -S::inf});
  float sum = 0;
  for (float v : y) {
    CHECK(std::isfinite(v));
    sum += v;
  }
  CHECK(sum == Approx(1.0f));
  CHECK(y[0] == Approx(0.5f));
  // +inf entries share the mass; a NaN poisons the axis (the frameworks agree).
  y = run_activation<float>(softmax, {S::inf, S::inf, 0, 0, 0, 0, 0, S::big});
  CHECK(y[0] == 0.5f);
  CHECK(y[7] == 0.0f);
  y = run_activation<float>(softmax, {S::nan(), 0, 0, 0, 0, 0, 0, 0});
  for (float v : y) CHECK(std::isnan(v));
  // All -inf: no finite maximum, NaN (as TensorFlow and PyTorch return).
  y = run_activation<float>(softmax, std::vector<float>(8, -S::inf));
  for (float v : y) CHECK(std::isnan(v));
}

TEST_CASE("numeric: layers propagate NaN and survive huge values", "[numeric][layers]") {
  using S = Special<float>;
  const std::string text = R"({"format": "trignet", "format_version": 1, "name": "layers",
    "inputs": [{"name": "x", "shape": [4]}],
    "outputs": [{"name": "ln", "node": "ln"}, {"name": "bn", "node": "bn"}, {"name": "d", "node": "d"},
                {"name": "mx", "node": "mx"}, {"name": "mn", "node": "mn"}],
    "nodes": [
      {"name": "ln", "type": "LayerNormalization", "inputs": ["x"], "config": {"epsilon": 0.001}},
      {"name": "bn", "type": "BatchNormalization", "inputs": ["x"], "config": {"epsilon": 0.001},
       "weights": {"moving_mean": {"shape": [4], "data": [0, 0, 0, 0]},
                   "moving_variance": {"shape": [4], "data": [1, 1, 1, 1]}}},
      {"name": "d", "type": "Dense", "inputs": ["x"], "config": {"units": 2},
       "weights": {"kernel": {"shape": [4, 2], "data": [1, 0, 0, 1, 1, 0, 0, 1]},
                   "bias": {"shape": [2], "data": [0, 0]}}},
      {"name": "zero", "type": "Multiply", "inputs": ["x", "x"]},
      {"name": "mx", "type": "Maximum", "inputs": ["x", "zero"]},
      {"name": "mn", "type": "Minimum", "inputs": ["zero", "x"]}]})";
  auto model = trignet::load_model_from_string<float>(text);
  trignet::Session<float> session(model);

  SECTION("huge finite values: LayerNormalization stays finite and correct") {
    const std::vector<float> x = {3e38f, -3e38f, 3e38f, -3e38f};
    session.run(x);
    const auto ln = session.output(0);
    for (std::size_t i = 0; i < 4; ++i) CHECK(ln[i] == Approx(i % 2 ? -1.0f : 1.0f));
    const std::vector<float> same = {1e38f, 1e38f, 1e38f, 1e38f};  // the sum overflows
    session.run(same);
    for (float v : session.output(0)) CHECK(v == 0.0f);
  }
  SECTION("NaN propagates through every layer") {
    const std::vector<float> x = {S::nan(), 1, 2, 3};
    session.run(x);
    for (std::size_t o = 0; o < 5; ++o) CHECK(std::isnan(session.output(o)[0]));
  }
  SECTION("infinity: LayerNormalization gives NaN, the others carry it") {
    const std::vector<float> x = {S::inf, 1, 2, 3};
    session.run(x);
    CHECK(std::isnan(session.output(0)[0]));
    CHECK(session.output(1)[0] == S::inf);
    CHECK(session.output(2)[0] == S::inf);
  }
}

TEST_CASE("numeric: InputCheck::reject_non_finite names input, sample and feature",
          "[numeric][input-check]") {
  const std::string text = R"({"format": "trignet", "format_version": 1, "name": "checked",
    "inputs": [{"name": "jets", "shape": [3], "variables": ["pt", "eta", "phi"],
                "preprocessing": {"nan_replacement": [0, 0, 0]}},
               {"name": "raw", "shape": [2]}],
    "outputs": [{"name": "y", "node": "cat"}],
    "nodes": [{"name": "cat", "type": "Concatenate", "inputs": ["jets", "raw"]}]})";
  auto model = trignet::load_model_from_string<float>(text);
  trignet::Session<float> session(model);
  using S = Special<float>;
  std::vector<float> jets = {1, 2, 3, S::nan(), 5, 6}, raw = {1, 2, 3, 4};
  const trignet::Span<const float> views[] = {jets, raw};
  const trignet::Span<const trignet::Span<const float>> inputs(views, 2);

  CHECK(session.input_check() == trignet::InputCheck::none);
  CHECK_NOTHROW(session.run(inputs, 2));
  session.set_input_check(trignet::InputCheck::reject_non_finite);
  CHECK_NOTHROW(session.run(inputs, 2));  // a NaN with a nan_replacement is fine
  CHECK(session.output(0)[5] == 0.0f);

  jets[4] = -S::inf;
  std::string message = error_message<trignet::RunError>([&] { session.run(inputs, 2); });
  CHECK(contains(message, "input 'jets': sample 1, feature 1 ('eta') is -inf"));
  CHECK(contains(message, "InputCheck::reject_non_finite"));
  jets[4] = 5;
  raw[3] = S::nan();
  message = error_message<trignet::RunError>([&] { session.run(inputs, 2); });
  CHECK(contains(message, "input 'raw': sample 1, feature 1 is NaN"));
  session.set_input_check(trignet::InputCheck::none);
  CHECK_NOTHROW(session.run(inputs, 2));
  CHECK(std::isnan(session.output(0)[9]));
}

TEST_CASE("numeric: flush-to-zero option", "[numeric][denormal]") {
  auto model = trignet::load_model_from_string<float>(activation_json("\"linear\""));
  trignet::Session<float> session(model);
  const float d = Special<float>::denorm;
  const std::vector<float> x = {d, -d, 1, 0, 0, 0, 0, 0};
  CHECK(session.run(x)[0] == d);  // default: denormals kept
#if defined(__SSE__) || defined(_M_X64)
  const unsigned before = _mm_getcsr();
  // Through an operation (Dense), DAZ treats the denormal input as zero.
  const std::string dense = R"({"format": "trignet", "format_version": 1, "name": "d",
    "inputs": [{"name": "x", "shape": [1]}], "outputs": [{"name": "y", "node": "d"}],
    "nodes": [{"name": "d", "type": "Dense", "inputs": ["x"], "config": {"units": 1},
               "weights": {"kernel": {"shape": [1, 1], "data": [2]}, "bias": {"shape": [1], "data": [0]}}}]})";
  trignet::Session<float> s2(trignet::load_model_from_string<float>(dense));
  const std::vector<float> one = {d};
  CHECK(s2.run(one)[0] == 2 * d);
  s2.set_flush_denormals(true);
  CHECK(s2.flush_denormals());
  CHECK(s2.run(one)[0] == 0.0f);
  CHECK(_mm_getcsr() == before);  // the caller's mode is restored
#endif
}
