// Recurrent layers (SimpleRNN, GRU in both reset conventions, LSTM), Reverse
// and Embedding against independent references written here in plain double
// loops straight from the equations of docs/format.md ("Recurrent layers",
// "Embedding and integer inputs"); plus their validation errors.
//
// Every model is built as JSON text and loaded through the public API, so the
// parser, validation, compilation and Session are all exercised.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>
#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using Vec = std::vector<double>;

constexpr const char* source = "model.json";

// ---------------------------------------------------------------------------
// Random weights and inputs: float32 values (what a file holds), kept as double.

struct Rng {
  std::mt19937 engine;
  explicit Rng(unsigned seed) : engine(seed) {}
  Vec uniform(std::size_t n, double lo, double hi) {
    std::uniform_real_distribution<double> d(lo, hi);
    Vec v(n);
    for (double& x : v) x = static_cast<double>(static_cast<float>(d(engine)));
    return v;
  }
};

json weight(const std::vector<std::size_t>& shape, const Vec& data) {
  return json{{"shape", shape}, {"data", data}};
}

// ---------------------------------------------------------------------------
// Independent reference: activations and the recurrences, plain double loops.

struct RefAct {
  std::string name = "linear";
  double slope = 0, offset = 0;  // hard_sigmoid
  json to_json() const {
    if (name == "hard_sigmoid") return json{{"name", name}, {"slope", slope}, {"offset", offset}};
    return name;
  }
  double operator()(double x) const {
    if (name == "tanh") return std::tanh(x);
    if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
    if (name == "relu") return x > 0 ? x : 0.0;
    if (name == "linear") return x;
    if (name == "softsign") return x / (1.0 + std::fabs(x));
    if (name == "hard_sigmoid") return std::min(1.0, std::max(0.0, slope * x + offset));
    if (name == "elu") return x > 0 ? x : std::exp(x) - 1.0;
    FAIL("reference has no activation " << name);
    return 0;
  }
};

RefAct act(const std::string& name) { return RefAct{name, 0, 0}; }
RefAct hard_sigmoid(double slope, double offset) { return RefAct{"hard_sigmoid", slope, offset}; }

/// One recurrent layer: its configuration, weights (row-major as in the file).
struct Rnn {
  std::string type = "GRU";  // SimpleRNN, GRU, LSTM
  std::size_t features = 0, units = 0;
  RefAct activation = act("tanh");
  RefAct recurrent_activation = act("sigmoid");
  bool use_bias = true, return_sequences = false, go_backwards = false, reset_after = true;
  Vec kernel, recurrent_kernel, bias;

  std::size_t gates() const { return type == "SimpleRNN" ? 1 : type == "GRU" ? 3 : 4; }

  Rnn(std::string type_, std::size_t f, std::size_t u, Rng& rng, double scale = 0.6)
      : type(std::move(type_)), features(f), units(u) {
    const std::size_t w = gates() * u;
    kernel = rng.uniform(f * w, -scale, scale);
    recurrent_kernel = rng.uniform(u * w, -scale, scale);
    bias = rng.uniform(2 * w, -0.5, 0.5);  // GRU reset_after uses both rows
  }

  std::vector<std::size_t> bias_shape() const {
    const std::size_t w = gates() * units;
    if (type == "GRU" && reset_after) return {2, w};
    return {w};
  }

  json node(const std::string& name, const std::string& input) const {
    json config{{"units", units},
                {"activation", activation.to_json()},
                {"use_bias", use_bias},
                {"return_sequences", return_sequences},
                {"go_backwards", go_backwards}};
    if (type != "SimpleRNN") config["recurrent_activation"] = recurrent_activation.to_json();
    if (type == "GRU") config["reset_after"] = reset_after;
    const std::size_t w = gates() * units;
    json weights{{"kernel", weight({features, w}, kernel)},
                 {"recurrent_kernel", weight({units, w}, recurrent_kernel)}};
    if (use_bias) {
      const auto shape = bias_shape();
      const std::size_t n = shape.size() == 2 ? 2 * w : w;
      weights["bias"] = weight(shape, Vec(bias.begin(), bias.begin() + static_cast<long>(n)));
    }
    return json{{"name", name}, {"type", type}, {"inputs", {input}}, {"config", config},
                {"weights", weights}};
  }

  std::vector<std::size_t> output_shape(std::size_t steps) const {
    if (return_sequences) return {steps, units};
    return {units};
  }

  // sum_f x[f] * K[f, col] for a [rows, width] row-major K
  double dot(const Vec& k, const double* x, std::size_t rows, std::size_t col) const {
    const std::size_t w = gates() * units;
    double s = 0;
    for (std::size_t i = 0; i < rows; ++i) s += x[i] * k[i * w + col];
    return s;
  }

  /// The docs/format.md equations for one sample x [T, F]; returns [units] or
  /// [T, units] (go_backwards: in processing order).
  Vec run(const Vec& x, std::size_t steps) const {
    const std::size_t u = units, w = gates() * units;
    auto b = [&](std::size_t j) { return use_bias ? bias[j] : 0.0; };            // [w] / row 0
    auto b_rec = [&](std::size_t j) { return use_bias ? bias[w + j] : 0.0; };    // row 1
    Vec h(u, 0.0), c(u, 0.0), out;
    for (std::size_t s = 0; s < steps; ++s) {
      const std::size_t t = go_backwards ? steps - 1 - s : s;
      const double* xt = x.data() + t * features;
      Vec next(u);
      if (type == "SimpleRNN") {
        for (std::size_t j = 0; j < u; ++j)
          next[j] = activation(dot(kernel, xt, features, j) +
                               dot(recurrent_kernel, h.data(), u, j) + b(j));
      } else if (type == "GRU") {  // gates z, r, h
        Vec z(u), r(u), rh(u);
        for (std::size_t j = 0; j < u; ++j) {
          const double bz = reset_after ? b(j) + b_rec(j) : b(j);
          const double br = reset_after ? b(u + j) + b_rec(u + j) : b(u + j);
          z[j] = recurrent_activation(dot(kernel, xt, features, j) +
                                      dot(recurrent_kernel, h.data(), u, j) + bz);
          r[j] = recurrent_activation(dot(kernel, xt, features, u + j) +
                                      dot(recurrent_kernel, h.data(), u, u + j) + br);
          rh[j] = r[j] * h[j];
        }
        for (std::size_t j = 0; j < u; ++j) {
          const double xh = dot(kernel, xt, features, 2 * u + j);
          double candidate;
          if (reset_after)  // act(x W_h + b_xh + r * (h U_h + b_hh))
            candidate = activation(xh + b(2 * u + j) +
                                   r[j] * (dot(recurrent_kernel, h.data(), u, 2 * u + j) +
                                           b_rec(2 * u + j)));
          else  // act(x W_h + (r * h) U_h + b_h)
            candidate = activation(xh + dot(recurrent_kernel, rh.data(), u, 2 * u + j) + b(2 * u + j));
          next[j] = z[j] * h[j] + (1 - z[j]) * candidate;
        }
      } else {  // LSTM, gates i, f, c, o
        Vec cn(u);
        for (std::size_t j = 0; j < u; ++j) {
          auto pre = [&](std::size_t gate) {
            const std::size_t col = gate * u + j;
            return dot(kernel, xt, features, col) + dot(recurrent_kernel, h.data(), u, col) + b(col);
          };
          const double i = recurrent_activation(pre(0)), f = recurrent_activation(pre(1));
          const double g = activation(pre(2)), o = recurrent_activation(pre(3));
          cn[j] = f * c[j] + i * g;
          next[j] = o * activation(cn[j]);
        }
        c = cn;
      }
      h = next;
      if (return_sequences) out.insert(out.end(), h.begin(), h.end());
    }
    return return_sequences ? out : h;
  }
};

/// Dense for the reference: y = x K + b on the last axis, then activation.
struct RefDense {
  std::size_t in = 0, units = 0;
  Vec kernel, bias;
  std::string activation = "linear";
  RefDense(std::size_t i, std::size_t u, Rng& rng) : in(i), units(u) {
    kernel = rng.uniform(i * u, -0.5, 0.5);
    bias = rng.uniform(u, -0.2, 0.2);
  }
  json node(const std::string& name, const std::string& input) const {
    return json{{"name", name},
                {"type", "Dense"},
                {"inputs", {input}},
                {"config", {{"units", units}, {"activation", activation}}},
                {"weights", {{"kernel", weight({in, units}, kernel)}, {"bias", weight({units}, bias)}}}};
  }
  Vec run(const Vec& x) const {
    Vec y;
    for (std::size_t r = 0; r < x.size() / in; ++r) {
      Vec row(units);
      for (std::size_t j = 0; j < units; ++j) {
        double s = bias[j];
        for (std::size_t i = 0; i < in; ++i) s += x[r * in + i] * kernel[i * units + j];
        row[j] = s;
      }
      if (activation == "softmax") {
        double m = -1e300, sum = 0;
        for (double v : row) m = std::max(m, v);
        for (double& v : row) sum += (v = std::exp(v - m));
        for (double& v : row) v /= sum;
      }
      y.insert(y.end(), row.begin(), row.end());
    }
    return y;
  }
};

/// Reverses axis `axis` of a per-sample tensor of `shape`.
Vec reverse(const Vec& x, const std::vector<std::size_t>& shape, std::size_t axis) {
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  const std::size_t n = shape[axis];
  Vec y(x.size());
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < inner; ++k)
        y[(o * n + i) * inner + k] = x[(o * n + (n - 1 - i)) * inner + k];
  return y;
}

// ---------------------------------------------------------------------------
// Models and running them

json input_json(const std::string& name, const std::vector<std::size_t>& shape,
                const std::string& dtype = "float32") {
  return json{{"name", name}, {"shape", shape}, {"dtype", dtype}};
}

json model_json(const json& inputs, const json& nodes, const std::string& out) {
  return json{{"format", "trignet"},
              {"format_version", 1},
              {"name", "recurrent_test"},
              {"inputs", inputs},
              {"outputs", json::array({json{{"name", "y"}, {"node", out}}})},
              {"nodes", nodes}};
}

template <typename T>
std::shared_ptr<const trignet::Model<T>> load(const json& model) {
  return trignet::load_model_from_string<T>(model.dump(), {}, source);
}

/// Runs a single-input model on `batch` samples (batch-major) and returns output 0.
template <typename T>
Vec run_model(const json& model, const Vec& x, std::size_t batch) {
  auto m = load<T>(model);
  trignet::Session<T> session(m);
  std::vector<T> in(x.begin(), x.end());
  const trignet::Span<const T> views[1] = {trignet::Span<const T>(in.data(), in.size())};
  session.run(trignet::Span<const trignet::Span<const T>>(views, 1), batch);
  // A second call must give the same result (state is reset, not carried over).
  const auto first = session.output(0);
  Vec y(first.begin(), first.end());
  session.run(trignet::Span<const trignet::Span<const T>>(views, 1), batch);
  const auto second = session.output(0);
  for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(double(second[i]) == y[i]);
  return y;
}

/// Float: tolerance for float32 arithmetic and vectorised tanh/sigmoid over a
/// few dozen steps. Double: tight.
template <typename T>
void check_close(const Vec& got, const Vec& expected) {
  const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
  REQUIRE(got.size() == expected.size());
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(got[i] - expected[i]) / (1.0 + std::fabs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  INFO("scalar " << (std::is_same_v<T, float> ? "float" : "double") << ", worst at " << at
                 << ": got " << got[at] << ", expected " << expected[at]);
  CHECK(worst <= tol);
}

/// A single recurrent layer over [steps, features], `batch` random samples,
/// checked in float and double against Rnn::run.
void check_single(const Rnn& rnn, std::size_t steps, std::size_t batch, unsigned seed = 11) {
  Rng rng(seed);
  const Vec x = rng.uniform(batch * steps * rnn.features, -1, 1);
  Vec expected;
  for (std::size_t b = 0; b < batch; ++b) {
    const Vec xb(x.begin() + static_cast<long>(b * steps * rnn.features),
                 x.begin() + static_cast<long>((b + 1) * steps * rnn.features));
    const Vec yb = rnn.run(xb, steps);
    expected.insert(expected.end(), yb.begin(), yb.end());
  }
  const json model = model_json(json::array({input_json("x", {steps, rnn.features})}),
                                json::array({rnn.node("rnn", "x")}), "rnn");
  {
    auto m = load<float>(model);
    REQUIRE(m->outputs()[0].shape == rnn.output_shape(steps));
  }
  check_close<float>(run_model<float>(model, x, batch), expected);
  check_close<double>(run_model<double>(model, x, batch), expected);
}

std::string variant_name(const Rnn& r) {
  return r.type + (r.type == "GRU" ? (r.reset_after ? " reset_after" : " reset_before") : "") +
         (r.return_sequences ? " sequences" : " last") + (r.go_backwards ? " backwards" : "") +
         (r.use_bias ? "" : " no-bias") + " " + r.activation.name + "/" +
         r.recurrent_activation.name;
}

// ---------------------------------------------------------------------------
// Error checks (as tests/test_loader_errors.cpp)

template <typename E>
std::string thrown_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    INFO("caught " << typeid(e).name() << ": " << e.what());
    REQUIRE(typeid(e) == typeid(E));
    return e.what();
  }
  FAIL("nothing was thrown");
  return "";
}

void check_contains(const std::string& message, std::initializer_list<std::string> parts) {
  for (const std::string& part : parts) {
    INFO("message:  " << message << "\nmust contain: " << part);
    CHECK(message.find(part) != std::string::npos);
  }
}

/// The model must fail to load with a FormatError at `path` naming every part;
/// parse_model_spec (validation only) must give the same message.
void expect_format_error(const json& model, const std::string& path,
                         std::initializer_list<std::string> parts) {
  const std::string text = model.dump();
  const std::string message = thrown_message<trignet::FormatError>(
      [&] { trignet::load_model_from_string<float>(text, {}, source); });
  check_contains(message, {std::string("trignet: ") + source + ": " + path + ": "});
  check_contains(message, parts);
  const std::string spec_message =
      thrown_message<trignet::FormatError>([&] { trignet::parse_model_spec(text, source); });
  CHECK(spec_message == message);
}

}  // namespace

// ===========================================================================
// SimpleRNN, GRU, LSTM: every option against the reference

TEST_CASE("recurrent: every layer, return_sequences and go_backwards, float and double",
          "[recurrent]") {
  Rng rng(1);
  for (const char* type : {"SimpleRNN", "GRU", "LSTM"}) {
    for (bool reset_after : {true, false}) {
      if (std::string(type) != "GRU" && !reset_after) continue;
      for (bool sequences : {false, true})
        for (bool backwards : {false, true}) {
          Rnn r(type, 5, 7, rng);  // 7 units: not a multiple of any SIMD width
          r.reset_after = reset_after;
          r.return_sequences = sequences;
          r.go_backwards = backwards;
          DYNAMIC_SECTION(variant_name(r)) { check_single(r, 6, 3); }
        }
    }
  }
}

TEST_CASE("recurrent: other activations, hard_sigmoid parameters, use_bias false",
          "[recurrent]") {
  Rng rng(2);
  struct Variant {
    const char* type;
    bool reset_after;
    RefAct activation, recurrent_activation;
    bool use_bias;
  };
  const std::vector<Variant> variants = {
      {"SimpleRNN", true, act("relu"), act("sigmoid"), true},
      {"SimpleRNN", true, act("linear"), act("sigmoid"), false},
      {"GRU", true, act("softsign"), hard_sigmoid(0.2, 0.5), true},
      {"GRU", false, act("tanh"), hard_sigmoid(1.0 / 6.0, 0.5), false},
      {"GRU", true, act("tanh"), act("sigmoid"), false},
      {"LSTM", true, act("relu"), hard_sigmoid(0.2, 0.5), true},
      {"LSTM", true, act("elu"), act("sigmoid"), false},
  };
  for (const Variant& v : variants) {
    Rnn r(v.type, 4, 9, rng, 0.4);
    r.reset_after = v.reset_after;
    r.activation = v.activation;
    r.recurrent_activation = v.recurrent_activation;
    r.use_bias = v.use_bias;
    for (bool sequences : {false, true}) {
      r.return_sequences = sequences;
      r.go_backwards = sequences;
      DYNAMIC_SECTION(variant_name(r)) { check_single(r, 8, 2); }
    }
  }
}

TEST_CASE("recurrent: one time step, one feature, one unit", "[recurrent]") {
  Rng rng(3);
  for (const char* type : {"SimpleRNN", "GRU", "LSTM"}) {
    Rnn r(type, 1, 1, rng);
    r.return_sequences = true;
    DYNAMIC_SECTION(type) {
      check_single(r, 1, 1);
      r.go_backwards = true;
      check_single(r, 3, 2);
    }
  }
}

TEST_CASE("recurrent: batches larger than one block of 64 samples", "[recurrent]") {
  Rng rng(4);
  Rnn gru("GRU", 3, 12, rng);
  gru.return_sequences = true;
  gru.go_backwards = true;
  check_single(gru, 5, 130);
  Rnn lstm("LSTM", 3, 5, rng);
  check_single(lstm, 4, 65);
}

TEST_CASE("recurrent: long sequences are projected in chunks of time steps", "[recurrent]") {
  // LSTM(128): 512 gate rows; a block's projections hold 2^17 elements = 256
  // columns, so 300 steps of 3 samples run in chunks of 85 steps.
  Rng rng(5);
  Rnn lstm("LSTM", 2, 128, rng, 0.1);
  for (bool backwards : {false, true}) {
    lstm.go_backwards = backwards;
    lstm.return_sequences = true;
    DYNAMIC_SECTION((backwards ? "backwards" : "forwards")) { check_single(lstm, 300, 3); }
  }
  lstm.return_sequences = false;
  lstm.go_backwards = true;
  check_single(lstm, 300, 1);
}

TEST_CASE("recurrent: stacked layers (sequences feeding another RNN) and a Dense head",
          "[recurrent]") {
  Rng rng(6);
  const std::size_t steps = 7, batch = 4;
  Rnn first("GRU", 3, 6, rng);
  first.return_sequences = true;
  Rnn second("LSTM", 6, 5, rng);
  second.return_sequences = true;
  second.go_backwards = true;
  Rnn third("SimpleRNN", 5, 4, rng);
  RefDense head(4, 3, rng);
  head.activation = "softmax";
  const json model =
      model_json(json::array({input_json("x", {steps, 3})}),
                 json::array({first.node("gru", "x"), second.node("lstm", "gru"),
                              third.node("rnn", "lstm"), head.node("dense", "rnn")}),
                 "dense");
  const Vec x = rng.uniform(batch * steps * 3, -1, 1);
  Vec expected;
  for (std::size_t b = 0; b < batch; ++b) {
    const Vec xb(x.begin() + static_cast<long>(b * steps * 3),
                 x.begin() + static_cast<long>((b + 1) * steps * 3));
    const Vec y = head.run(third.run(second.run(first.run(xb, steps), steps), steps));
    expected.insert(expected.end(), y.begin(), y.end());
  }
  check_close<float>(run_model<float>(model, x, batch), expected);
  check_close<double>(run_model<double>(model, x, batch), expected);
}

TEST_CASE("recurrent: Bidirectional by composition (go_backwards + Reverse + merge)",
          "[recurrent]") {
  // The reference computes the backward direction the way Keras' Bidirectional
  // defines it: the same layer run forwards over the time-reversed sequence,
  // its outputs re-aligned with the input time steps.
  Rng rng(7);
  const std::size_t steps = 6, features = 4, batch = 3;
  const Vec x = rng.uniform(batch * steps * features, -1, 1);
  for (const char* type : {"GRU", "LSTM", "SimpleRNN"}) {
    DYNAMIC_SECTION(type << " sequences, Concatenate") {
      Rnn fwd(type, features, 5, rng), bwd(type, features, 5, rng);
      fwd.return_sequences = bwd.return_sequences = true;
      bwd.go_backwards = true;
      const json model = model_json(
          json::array({input_json("x", {steps, features})}),
          json::array({fwd.node("forward", "x"), bwd.node("backward", "x"),
                       json{{"name", "backward_aligned"}, {"type", "Reverse"},
                            {"inputs", {"backward"}}, {"config", {{"axis", 0}}}},
                       json{{"name", "bidirectional"}, {"type", "Concatenate"},
                            {"inputs", {"forward", "backward_aligned"}},
                            {"config", {{"axis", -1}}}}}),
          "bidirectional");
      Rnn bwd_plain = bwd;  // the backward weights, run forwards on reversed input
      bwd_plain.go_backwards = false;
      Vec expected;
      for (std::size_t b = 0; b < batch; ++b) {
        const Vec xb(x.begin() + static_cast<long>(b * steps * features),
                     x.begin() + static_cast<long>((b + 1) * steps * features));
        const Vec f = fwd.run(xb, steps);
        const Vec r = bwd_plain.run(reverse(xb, {steps, features}, 0), steps);
        for (std::size_t t = 0; t < steps; ++t) {
          for (std::size_t j = 0; j < 5; ++j) expected.push_back(f[t * 5 + j]);
          for (std::size_t j = 0; j < 5; ++j) expected.push_back(r[(steps - 1 - t) * 5 + j]);
        }
      }
      check_close<float>(run_model<float>(model, x, batch), expected);
      check_close<double>(run_model<double>(model, x, batch), expected);
    }
    DYNAMIC_SECTION(type << " last states, Add and Average") {
      Rnn fwd(type, features, 6, rng), bwd(type, features, 6, rng);
      bwd.go_backwards = true;
      for (const char* merge : {"Add", "Average"}) {
        const json model = model_json(
            json::array({input_json("x", {steps, features})}),
            json::array({fwd.node("forward", "x"), bwd.node("backward", "x"),
                         json{{"name", "merged"}, {"type", merge},
                              {"inputs", {"forward", "backward"}}}}),
            "merged");
        Rnn bwd_plain = bwd;
        bwd_plain.go_backwards = false;
        Vec expected;
        for (std::size_t b = 0; b < batch; ++b) {
          const Vec xb(x.begin() + static_cast<long>(b * steps * features),
                       x.begin() + static_cast<long>((b + 1) * steps * features));
          const Vec f = fwd.run(xb, steps);
          const Vec r = bwd_plain.run(reverse(xb, {steps, features}, 0), steps);
          for (std::size_t j = 0; j < 6; ++j)
            expected.push_back(std::string(merge) == "Add" ? f[j] + r[j] : 0.5 * (f[j] + r[j]));
        }
        check_close<float>(run_model<float>(model, x, batch), expected);
        check_close<double>(run_model<double>(model, x, batch), expected);
      }
    }
  }
}

TEST_CASE("recurrent: the benchmark model GRU(32) over 20x6 -> Dense 5 softmax",
          "[recurrent]") {
  Rng rng(8);
  Rnn gru("GRU", 6, 32, rng, 0.3);
  RefDense head(32, 5, rng);
  head.activation = "softmax";
  const json model = model_json(json::array({input_json("x", {20, 6})}),
                                 json::array({gru.node("gru", "x"), head.node("dense", "gru")}),
                                 "dense");
  for (std::size_t batch : {std::size_t(1), std::size_t(100)}) {
    const Vec x = rng.uniform(batch * 120, -2, 2);
    Vec expected;
    for (std::size_t b = 0; b < batch; ++b) {
      const Vec y = head.run(gru.run(
          Vec(x.begin() + static_cast<long>(b * 120), x.begin() + static_cast<long>((b + 1) * 120)),
          20));
      expected.insert(expected.end(), y.begin(), y.end());
    }
    check_close<float>(run_model<float>(model, x, batch), expected);
    check_close<double>(run_model<double>(model, x, batch), expected);
  }
}

TEST_CASE("recurrent: FLOPs and parameters are reported", "[recurrent]") {
  Rng rng(9);
  Rnn gru("GRU", 6, 32, rng);
  const json model = model_json(json::array({input_json("x", {20, 6})}),
                                json::array({gru.node("gru", "x")}), "gru");
  auto m = load<float>(model);
  CHECK(m->parameter_count() == 6 * 96 + 32 * 96 + 2 * 96);
  // At least the two matrix products of every step.
  CHECK(m->flops_per_sample() >= 20.0 * 2 * (6 + 32) * 96);
  CHECK(m->flops_per_sample() < 20.0 * 2 * (6 + 32) * 96 * 1.5);
}

// ===========================================================================
// Reverse

TEST_CASE("reverse: every axis of a rank-3 tensor, negative axes, float and double",
          "[recurrent][reverse]") {
  Rng rng(10);
  const std::vector<std::size_t> shape{3, 4, 5};
  const std::size_t batch = 2, n = 60;
  const Vec x = rng.uniform(batch * n, -1, 1);
  for (long long axis : {0LL, 1LL, 2LL, -1LL, -3LL}) {
    DYNAMIC_SECTION("axis " << axis) {
      const std::size_t a = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
      const json model = model_json(
          json::array({input_json("x", shape)}),
          json::array({json{{"name", "rev"}, {"type", "Reverse"}, {"inputs", {"x"}},
                            {"config", {{"axis", axis}}}}}),
          "rev");
      Vec expected;
      for (std::size_t b = 0; b < batch; ++b) {
        const Vec y = reverse(Vec(x.begin() + static_cast<long>(b * n),
                                  x.begin() + static_cast<long>((b + 1) * n)),
                              shape, a);
        expected.insert(expected.end(), y.begin(), y.end());
      }
      // Pure data movement: exact in both types.
      const Vec yf = run_model<float>(model, x, batch);
      const Vec yd = run_model<double>(model, x, batch);
      CHECK(yf == expected);
      CHECK(yd == expected);
    }
  }
  // Default axis 0 on a rank-1 tensor.
  const json model = model_json(
      json::array({input_json("x", {4})}),
      json::array({json{{"name", "rev"}, {"type", "Reverse"}, {"inputs", {"x"}}}}), "rev");
  CHECK(run_model<float>(model, {1, 2, 3, 4, 5, 6, 7, 8}, 2) == Vec{4, 3, 2, 1, 8, 7, 6, 5});
}

// ===========================================================================
// Embedding and integer inputs

namespace {

json embedding_node(const std::string& input, std::size_t input_dim, std::size_t output_dim,
                    const Vec& table) {
  return json{{"name", "emb"},
              {"type", "Embedding"},
              {"inputs", {input}},
              {"config", {{"input_dim", input_dim}, {"output_dim", output_dim}}},
              {"weights", {{"embeddings", weight({input_dim, output_dim}, table)}}}};
}

}  // namespace

TEST_CASE("embedding: indices select rows, any input shape, float and double",
          "[recurrent][embedding]") {
  Rng rng(12);
  const Vec table = rng.uniform(10 * 3, -1, 1);
  const json model = model_json(json::array({input_json("ids", {2, 3}, "int32")}),
                                json::array({embedding_node("ids", 10, 3, table)}), "emb");
  {
    auto m = load<float>(model);
    CHECK(m->outputs()[0].shape == trignet::Shape{2, 3, 3});
    CHECK(m->spec().inputs[0].dtype == trignet::InputType::int32);
  }
  const Vec ids{0, 9, 3, 3, 1, 0, /* sample 1 */ 5, 6, 7, 8, 2, 4};
  Vec expected;
  for (double id : ids)
    for (std::size_t j = 0; j < 3; ++j) expected.push_back(table[static_cast<std::size_t>(id) * 3 + j]);
  CHECK(run_model<float>(model, ids, 2) == expected);
  CHECK(run_model<double>(model, ids, 2) == expected);
}

TEST_CASE("embedding: feeding a GRU and a Dense head (token model)", "[recurrent][embedding]") {
  Rng rng(13);
  const std::size_t steps = 8, vocab = 20, dim = 4, batch = 3;
  const Vec table = rng.uniform(vocab * dim, -1, 1);
  Rnn gru("GRU", dim, 6, rng);
  gru.reset_after = false;
  RefDense head(6, 2, rng);
  const json model = model_json(
      json::array({input_json("tokens", {steps}, "int32")}),
      json::array({embedding_node("tokens", vocab, dim, table), gru.node("gru", "emb"),
                   head.node("dense", "gru")}),
      "dense");
  Vec ids;
  std::mt19937 engine(3);
  for (std::size_t i = 0; i < batch * steps; ++i) ids.push_back(double(engine() % vocab));
  Vec expected;
  for (std::size_t b = 0; b < batch; ++b) {
    Vec embedded;
    for (std::size_t t = 0; t < steps; ++t)
      for (std::size_t j = 0; j < dim; ++j)
        embedded.push_back(table[static_cast<std::size_t>(ids[b * steps + t]) * dim + j]);
    const Vec y = head.run(gru.run(embedded, steps));
    expected.insert(expected.end(), y.begin(), y.end());
  }
  check_close<float>(run_model<float>(model, ids, batch), expected);
  check_close<double>(run_model<double>(model, ids, batch), expected);
}

namespace {

template <typename T>
std::string embedding_run_error(const Vec& ids, std::size_t batch) {
  Rng rng(14);
  const json model = model_json(json::array({input_json("ids", {2, 3}, "int32")}),
                                json::array({embedding_node("ids", 10, 2, rng.uniform(20, -1, 1))}),
                                "emb");
  auto m = load<T>(model);
  trignet::Session<T> session(m);
  std::vector<T> in(ids.begin(), ids.end());
  const std::string message = thrown_message<trignet::RunError>([&] { session.run(in); });
  // The session stays usable after the error.
  std::vector<T> good(6 * batch, T(1));
  CHECK(session.run(good).size() == 2 * 6 * batch);
  return message;
}

}  // namespace

TEST_CASE("embedding: an index that is not an integer in range is a RunError naming node, "
          "sample, position and value",
          "[recurrent][embedding]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    Vec ids;
    std::size_t batch;
    std::string where, value;
  };
  const std::vector<Case> cases = {
      {{0, 1, 2, 3, 2.5, 5}, 1, "sample 0, position [1, 1]", "index 2.5 is"},
      {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, -1}, 2, "sample 1, position [1, 2]", "index -1 is"},
      {{10, 1, 2, 3, 4, 5}, 1, "sample 0, position [0, 0]", "index 10 is"},
      {{0, 1, 2, 3, 4, 5, 6, nan, 8, 9, 1, 1}, 2, "sample 1, position [0, 1]", "index NaN is"},
      {{0, inf, 2, 3, 4, 5}, 1, "sample 0, position [0, 1]", "index inf is"},
      {{0, 1, 1e30, 3, 4, 5}, 1, "sample 0, position [0, 2]", "index 1.00000002e+30 is"},
      {{0, 1, 2, 3, 4, -0.5}, 1, "sample 0, position [1, 2]", "index -0.5 is"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.where << " " << c.value) {
      const std::string prefix = "trignet: node 'emb' (Embedding): " + c.where + ": ";
      const std::string f = embedding_run_error<float>(c.ids, c.batch);
      check_contains(f, {prefix, c.value, "not an integer in [0, 10)"});
      const std::string d = embedding_run_error<double>(c.ids, c.batch);
      check_contains(d, {prefix, "not an integer in [0, 10)"});
    }
  }
  // -0.0 is the integer 0.
  const std::string none = trignet_test::error_message<trignet::RunError>([] {
    Rng rng(1);
    const json model = model_json(json::array({input_json("ids", {1}, "int32")}),
                                  json::array({embedding_node("ids", 2, 1, Vec{0.5, 1.5})}), "emb");
    trignet::Session<float> session(load<float>(model));
    const std::vector<float> in{-0.0f};
    CHECK(session.run(in)[0] == 0.5f);
  });
  CHECK(none.empty());
}

// ===========================================================================
// Validation errors

namespace {

/// x [6, 5] -> one recurrent node with valid weights (units 7), as JSON to break.
json rnn_model(const std::string& type, const std::vector<std::size_t>& input_shape = {6, 5},
               bool reset_after = true) {
  Rng rng(20);
  Rnn r(type, 5, 7, rng);
  r.reset_after = reset_after;
  json node = r.node("rnn", "x");
  if (type == "SimpleRNN") node["config"].erase("recurrent_activation");
  return model_json(json::array({input_json("x", input_shape)}), json::array({node}), "rnn");
}

}  // namespace

TEST_CASE("recurrent validation: the base models load", "[recurrent][errors]") {
  for (const char* type : {"SimpleRNN", "GRU", "LSTM"}) CHECK_NOTHROW(load<float>(rnn_model(type)));
  CHECK_NOTHROW(load<float>(rnn_model("GRU", {6, 5}, false)));
}

TEST_CASE("recurrent validation: input rank must be 2 [timesteps, features]",
          "[recurrent][errors]") {
  json m = rnn_model("GRU");
  m["inputs"][0]["shape"] = {30};
  expect_format_error(m, "nodes[0].inputs",
                      {"expected input 0 of rank 2 [timesteps, features], found shape [30]",
                       "(node 'rnn', GRU)"});
  m["inputs"][0]["shape"] = {6, 5, 1};
  expect_format_error(m, "nodes[0].inputs",
                      {"expected input 0 of rank 2 [timesteps, features], found shape [6, 5, 1]"});
  json two = rnn_model("LSTM");
  two["inputs"].push_back(input_json("x2", {6, 5}));
  two["nodes"][0]["inputs"] = {"x", "x2"};
  expect_format_error(two, "nodes[0].inputs", {"expected 1 input, found 2", "(node 'rnn', LSTM)"});
}

TEST_CASE("recurrent validation: weight shapes name the gates and the GRU bias convention",
          "[recurrent][errors]") {
  json m = rnn_model("GRU");
  m["nodes"][0]["weights"]["kernel"] = weight({5, 7}, Vec(35, 0.1));
  expect_format_error(m, "nodes[0].weights.kernel.shape",
                      {"expected [5, 21] (input features x 3*units, gates z, r, h), found [5, 7]"});

  m = rnn_model("LSTM");
  m["nodes"][0]["weights"]["recurrent_kernel"] = weight({7, 21}, Vec(147, 0.1));
  expect_format_error(m, "nodes[0].weights.recurrent_kernel.shape",
                      {"expected [7, 28] (units x 4*units, gates i, f, c, o), found [7, 21]"});

  m = rnn_model("SimpleRNN");
  m["nodes"][0]["weights"].erase("recurrent_kernel");
  expect_format_error(m, "nodes[0].weights.recurrent_kernel",
                      {"missing weight, expected shape [7, 7] (units x units)"});

  // reset_after true needs [2, 3u]; the Keras reset_after=False bias is rejected.
  m = rnn_model("GRU");
  m["nodes"][0]["weights"]["bias"] = weight({21}, Vec(21, 0.1));
  expect_format_error(m, "nodes[0].weights.bias.shape",
                      {"expected [2, 21] (input and recurrent bias x 3*units: reset_after is "
                       "true), found [21]"});
  m = rnn_model("GRU", {6, 5}, false);
  m["nodes"][0]["weights"]["bias"] = weight({2, 21}, Vec(42, 0.1));
  expect_format_error(m, "nodes[0].weights.bias.shape",
                      {"expected [21] (3*units: reset_after is false), found [2, 21]"});

  m = rnn_model("LSTM");
  m["nodes"][0]["weights"]["bias"] = weight({7}, Vec(7, 0.1));
  expect_format_error(m, "nodes[0].weights.bias.shape",
                      {"expected [28] (4*units, gates i, f, c, o), found [7]"});

  m = rnn_model("LSTM");
  m["nodes"][0]["weights"].erase("bias");
  expect_format_error(m, "nodes[0].weights.bias", {"missing weight, expected shape [28]"});

  m = rnn_model("GRU");
  m["nodes"][0]["config"]["use_bias"] = false;
  expect_format_error(m, "nodes[0].weights.bias",
                      {"unexpected bias: config.use_bias is false", "(node 'rnn', GRU)"});

  m = rnn_model("GRU");
  m["nodes"][0]["weights"]["recurrent_bias"] = weight({21}, Vec(21, 0.1));
  expect_format_error(m, "nodes[0].weights.recurrent_bias",
                      {"unexpected weight (this layer takes: kernel, recurrent_kernel, bias)"});
}

TEST_CASE("recurrent validation: configuration keys and values", "[recurrent][errors]") {
  json m = rnn_model("LSTM");
  m["nodes"][0]["config"]["reset_after"] = true;
  expect_format_error(m, "nodes[0].config.reset_after", {"unknown key (allowed here: "});

  m = rnn_model("SimpleRNN");
  m["nodes"][0]["config"]["recurrent_activation"] = "sigmoid";
  expect_format_error(m, "nodes[0].config.recurrent_activation", {"unknown key"});

  m = rnn_model("GRU");
  m["nodes"][0]["config"]["return_state"] = true;
  expect_format_error(m, "nodes[0].config.return_state", {"unknown key"});

  m = rnn_model("GRU");
  m["nodes"][0]["config"].erase("units");
  expect_format_error(m, "nodes[0].config", {"missing required key \"units\""});

  m = rnn_model("GRU");
  m["nodes"][0]["config"]["units"] = 0;
  expect_format_error(m, "nodes[0].config.units", {"expected a positive integer, found 0"});

  m = rnn_model("GRU");
  m["nodes"][0]["config"]["go_backwards"] = 1;
  expect_format_error(m, "nodes[0].config.go_backwards", {"expected true or false, found the number 1"});

  m = rnn_model("LSTM");
  m["nodes"][0]["config"]["activation"] = "softmax";
  expect_format_error(m, "nodes[0].config.activation",
                      {"softmax is not element-wise; a recurrent layer needs an element-wise "
                       "activation",
                       "(node 'rnn', LSTM)"});
  m = rnn_model("GRU");
  m["nodes"][0]["config"]["recurrent_activation"] = "softmax";
  expect_format_error(m, "nodes[0].config.recurrent_activation", {"softmax is not element-wise"});

  m = rnn_model("GRU");
  m["nodes"][0]["config"]["recurrent_activation"] = "hard_sigmoid";
  expect_format_error(m, "nodes[0].config.recurrent_activation",
                      {"hard_sigmoid needs \"slope\" and \"offset\""});

  m = rnn_model("GRU");
  m["nodes"][0]["config"]["activation"] = "tanhh";
  expect_format_error(m, "nodes[0].config.activation", {"unknown activation \"tanhh\""});
}

TEST_CASE("reverse validation", "[recurrent][reverse][errors]") {
  auto model = [](const json& config, const json& weights = nullptr) {
    json n{{"name", "rev"}, {"type", "Reverse"}, {"inputs", {"x"}}, {"config", config}};
    if (!weights.is_null()) n["weights"] = weights;
    return model_json(json::array({input_json("x", {6, 5})}), json::array({n}), "rev");
  };
  expect_format_error(model({{"axis", 2}}), "nodes[0].config.axis",
                      {"axis 2 is out of range for per-sample rank 2 (valid: -2 .. 1)",
                       "(node 'rev', Reverse)"});
  expect_format_error(model({{"axis", -3}}), "nodes[0].config.axis", {"axis -3 is out of range"});
  expect_format_error(model({{"axis", 0.5}}), "nodes[0].config.axis",
                      {"expected an integer, found the number 0.5"});
  expect_format_error(model({{"axes", 0}}), "nodes[0].config.axes",
                      {"unknown key (allowed here: axis)"});
  expect_format_error(model(json::object(), {{"kernel", weight({1}, {1.0})}}),
                      "nodes[0].weights.kernel", {"unexpected weight (this layer takes: none)"});
}

TEST_CASE("embedding validation", "[recurrent][embedding][errors]") {
  auto model = [](const json& config, const json& weights) {
    json n{{"name", "emb"}, {"type", "Embedding"}, {"inputs", {"ids"}}, {"config", config},
           {"weights", weights}};
    return model_json(json::array({input_json("ids", {4}, "int32")}), json::array({n}), "emb");
  };
  const json table = weight({10, 3}, Vec(30, 0.1));
  CHECK_NOTHROW(load<float>(model({{"input_dim", 10}, {"output_dim", 3}}, {{"embeddings", table}})));
  expect_format_error(model({{"input_dim", 12}, {"output_dim", 3}}, {{"embeddings", table}}),
                      "nodes[0].weights.embeddings.shape",
                      {"expected [12, 3] (config.input_dim x config.output_dim), found [10, 3]",
                       "(node 'emb', Embedding)"});
  expect_format_error(model({{"input_dim", 10}, {"output_dim", 4}}, {{"embeddings", table}}),
                      "nodes[0].weights.embeddings.shape", {"expected [10, 4]", "found [10, 3]"});
  expect_format_error(model({{"output_dim", 3}}, {{"embeddings", table}}), "nodes[0].config",
                      {"missing required key \"input_dim\""});
  expect_format_error(model({{"input_dim", 10}, {"output_dim", 0}}, {{"embeddings", table}}),
                      "nodes[0].config.output_dim", {"expected a positive integer, found 0"});
  expect_format_error(model({{"input_dim", 10}, {"output_dim", 3}, {"mask_zero", true}},
                            {{"embeddings", table}}),
                      "nodes[0].config.mask_zero",
                      {"unknown key (allowed here: input_dim, output_dim)"});
  expect_format_error(model({{"input_dim", 10}, {"output_dim", 3}}, json::object()),
                      "nodes[0].weights.embeddings",
                      {"missing weight, expected shape [10, 3] (config.input_dim x "
                       "config.output_dim)"});
  expect_format_error(model({{"input_dim", 10}, {"output_dim", 3}},
                            {{"embeddings", table}, {"bias", weight({3}, Vec(3, 0.0))}}),
                      "nodes[0].weights.bias", {"unexpected weight (this layer takes: embeddings)"});
  // An int32 input cannot have preprocessing.
  json pre = model({{"input_dim", 10}, {"output_dim", 3}}, {{"embeddings", table}});
  pre["inputs"][0]["preprocessing"] = {{"offset", {0, 0, 0, 0}}};
  expect_format_error(pre, "inputs[0].preprocessing", {"an int32 input cannot have preprocessing"});
}
