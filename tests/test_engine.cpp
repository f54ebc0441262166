// The run-time engine: Session API, batches, multiple inputs and outputs,
// preprocessing, tracing, call errors, and sharing one model between threads.

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

using trignet_test::contains;
using trignet_test::error_message;
using trignet_test::source_path;

namespace {

std::vector<float> random_inputs(std::size_t n, unsigned seed, float lo = -2.f, float hi = 2.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// x[4] -> (Dense 3 relu "a", Dense 3 tanh "b") -> Add "sum" -> Dense 2 softmax "head";
// outputs: head, a, and a Flatten of the (preprocessed) input.
const char* diamond_model = R"({
  "format": "trignet", "format_version": 1, "name": "diamond",
  "inputs": [{"name": "x", "shape": [4],
              "preprocessing": {"offset": [1, 0, 0, -1], "scale": [2, 1, 0.5, 1],
                                "nan_replacement": [0, 1, 2, 3]}}],
  "outputs": [{"name": "head", "node": "head"}, {"name": "a", "node": "a"},
              {"name": "raw", "node": "flat"}],
  "nodes": [
    {"name": "a", "type": "Dense", "inputs": ["x"], "config": {"units": 3, "activation": "relu"},
     "weights": {"kernel": {"shape": [4, 3], "data": [1,0,0, 0,1,0, 0,0,1, 1,1,1]},
                 "bias": {"shape": [3], "data": [0.1, 0.2, 0.3]}}},
    {"name": "b", "type": "Dense", "inputs": ["x"], "config": {"units": 3, "activation": "tanh"},
     "weights": {"kernel": {"shape": [4, 3], "data": [0.5,0,0, 0,0.5,0, 0,0,0.5, 0,0,0]},
                 "bias": {"shape": [3], "data": [0, 0, 0]}}},
    {"name": "sum", "type": "Add", "inputs": ["a", "b"]},
    {"name": "head", "type": "Dense", "inputs": ["sum"], "config": {"units": 2, "activation": "softmax"},
     "weights": {"kernel": {"shape": [3, 2], "data": [1,-1, 2,0, 0,1]},
                 "bias": {"shape": [2], "data": [0, 0]}}},
    {"name": "flat", "type": "Flatten", "inputs": ["x"]}
  ]})";

/// Independent evaluation of diamond_model for one raw sample.
void diamond_reference(const double raw[4], double head[2], double a[3]) {
  const double offset[4] = {1, 0, 0, -1}, scale[4] = {2, 1, 0.5, 1}, repl[4] = {0, 1, 2, 3};
  double x[4];
  for (int f = 0; f < 4; ++f) x[f] = ((std::isnan(raw[f]) ? repl[f] : raw[f]) - offset[f]) * scale[f];
  double s[3];
  for (int j = 0; j < 3; ++j) {
    a[j] = std::max(0.0, x[j] + x[3] + 0.1 * (j + 1));
    s[j] = a[j] + std::tanh(0.5 * x[j]);
  }
  const double z0 = s[0] + 2 * s[1], z1 = -s[0] + s[2];
  const double m = std::max(z0, z1);
  head[0] = std::exp(z0 - m) / (std::exp(z0 - m) + std::exp(z1 - m));
  head[1] = 1 - head[0];
}

}  // namespace

TEST_CASE("multi-output graph with preprocessing matches an independent reference", "[engine]") {
  auto model = trignet::load_model_from_string<float>(diamond_model);
  REQUIRE(model->inputs().size() == 1);
  REQUIRE(model->outputs().size() == 3);
  CHECK(model->output_index("a") == 1);
  trignet::Session<float> session(model);
  const double nan = std::nan("");
  const std::vector<std::vector<double>> samples = {
      {0.5, -1.0, 2.0, 0.25}, {nan, 0.3, nan, -0.7}, {3.0, 2.0, -4.0, nan}};
  for (const auto& raw : samples) {
    std::vector<float> x(raw.begin(), raw.end());
    const auto head = session.run(x);
    double ref_head[2], ref_a[3];
    diamond_reference(raw.data(), ref_head, ref_a);
    CHECK(head[0] == Approx(ref_head[0]).epsilon(1e-6).margin(1e-7));
    CHECK(head[1] == Approx(ref_head[1]).epsilon(1e-6).margin(1e-7));
    const auto a = session.output(1);
    for (int j = 0; j < 3; ++j) CHECK(a[j] == Approx(ref_a[j]).epsilon(1e-6).margin(1e-7));
    // The Flatten output is the model input after preprocessing (NaN replaced).
    const double offset[4] = {1, 0, 0, -1}, scale[4] = {2, 1, 0.5, 1}, repl[4] = {0, 1, 2, 3};
    const auto flat = session.output(2);
    for (int f = 0; f < 4; ++f)
      CHECK(flat[f] == Approx(((std::isnan(raw[f]) ? repl[f] : raw[f]) - offset[f]) * scale[f]));
  }
}

TEST_CASE("a batch gives the same results as one sample at a time", "[engine][batch]") {
  auto model = trignet::load_model<float>(source_path("models/jet_tagger.json"));
  const std::size_t batch = 257;
  const auto x = random_inputs(batch * 16, 3);
  trignet::Session<float> single(model), batched(model, batch);
  const auto all = batched.run(x);
  REQUIRE(all.size() == batch * 5);
  REQUIRE(batched.batch() == batch);
  for (std::size_t b = 0; b < batch; ++b) {
    const auto one = single.run(trignet::Span<const float>(x.data() + b * 16, 16));
    for (std::size_t j = 0; j < 5; ++j)
      REQUIRE(one[j] == Approx(all[b * 5 + j]).epsilon(1e-5).margin(1e-7));
  }
}

TEST_CASE("sessions grow for larger batches and keep working for smaller ones", "[engine][batch]") {
  auto model = trignet::load_model<float>(source_path("models/jet_tagger.json"));
  trignet::Session<float> session(model);
  CHECK(session.capacity() == 1);
  const auto x = random_inputs(40 * 16, 5);
  const auto first = session.run(x);
  const std::vector<float> big(first.begin(), first.end());
  CHECK(session.capacity() == 40);
  const auto small = session.run(trignet::Span<const float>(x.data(), 16 * 3));
  REQUIRE(small.size() == 15);
  for (std::size_t i = 0; i < 15; ++i) CHECK(small[i] == Approx(big[i]).epsilon(1e-5));
}

TEST_CASE("run with explicit input and output buffers, and double precision", "[engine]") {
  auto model = trignet::load_model<double>(source_path("tests/data/layers/graph_two_inputs_two_outputs.json"));
  REQUIRE(model->inputs().size() == 2);
  REQUIRE(model->outputs().size() == 2);
  const trignet::TestVector& tv = model->spec().test_vectors.at(1);
  std::vector<std::vector<double>> out(2);
  for (std::size_t o = 0; o < 2; ++o) out[o].resize(tv.batch * model->outputs()[o].size);
  trignet::Session<double> session(model);
  session.run({trignet::Span<const double>(tv.inputs[0]), trignet::Span<const double>(tv.inputs[1])},
              {trignet::Span<double>(out[0]), trignet::Span<double>(out[1])}, tv.batch);
  for (std::size_t o = 0; o < 2; ++o)
    for (std::size_t i = 0; i < out[o].size(); ++i)
      CHECK(out[o][i] == Approx(tv.outputs[o][i]).epsilon(1e-12).margin(1e-13));
}

TEST_CASE("wrong calls give precise RunErrors", "[engine][errors]") {
  auto model = trignet::load_model<float>(source_path("models/jet_tagger.json"));
  trignet::Session<float> session(model);
  std::vector<float> x(15);
  std::string msg = error_message<trignet::RunError>([&] { session.run(x); });
  CHECK(contains(msg, "input 'features'"));
  CHECK(contains(msg, "multiple of 16"));
  CHECK(contains(msg, "found 15"));

  std::vector<float> x16(16), x32(32), y(5);
  msg = error_message<trignet::RunError>([&] { session.run({trignet::Span<const float>(x32)}, 1); });
  CHECK(contains(msg, "expected 16 values (batch 1 x shape [16]), found 32"));
  msg = error_message<trignet::RunError>([&] { session.run({trignet::Span<const float>(x16)}, 0); });
  CHECK(contains(msg, "batch size must be at least 1"));
  msg = error_message<trignet::RunError>(
      [&] { session.run({trignet::Span<const float>(x16), trignet::Span<const float>(x16)}, 1); });
  CHECK(contains(msg, "has 1 inputs, found 2"));
  msg = error_message<trignet::RunError>(
      [&] { session.run({trignet::Span<const float>(x16)}, {trignet::Span<float>(x16)}, 1); });
  CHECK(contains(msg, "output 'probabilities': expected a buffer of 5 values"));
  msg = error_message<trignet::RunError>([&] { (void)model->input_index("pt"); });
  CHECK(contains(msg, "no input named 'pt'"));
  CHECK(contains(msg, "'features'"));
  msg = error_message<trignet::RunError>([&] { (void)session.output(3); });
  CHECK(contains(msg, "out of range"));
  auto two_inputs = trignet::load_model<float>(
      source_path("tests/data/layers/graph_two_inputs_two_outputs.json"));
  trignet::Session<float> s2(two_inputs);
  msg = error_message<trignet::RunError>([&] { s2.run(x16); });
  CHECK(contains(msg, "has 2 inputs"));
  // The session stays usable after an error.
  REQUIRE(session.run(x16).size() == 5);
  CHECK(!error_message<trignet::RunError>([] { trignet::Session<float> s(nullptr); }).empty());
}

TEST_CASE("tracing reports every evaluated node in order with its values", "[engine][trace]") {
  auto model = trignet::load_model<float>(source_path("models/jet_tagger.json"));
  trignet::Session<float> session(model);
  const auto x = random_inputs(2 * 16, 9);
  std::vector<std::size_t> nodes;
  std::vector<float> last;
  session.run_traced({trignet::Span<const float>(x)}, 2,
                     [&](std::size_t node, trignet::Span<const float> values) {
                       nodes.push_back(node);
                       CHECK(values.size() ==
                             2 * trignet::element_count(model->graph().node_shapes[node]));
                       last.assign(values.begin(), values.end());
                     });
  CHECK(nodes == model->graph().order);
  CHECK(nodes.size() == 4);
  const auto out = session.output(0);
  CHECK(std::equal(last.begin(), last.end(), out.begin()));
}

TEST_CASE("one model shared by 8 threads gives bit-identical results", "[engine][threads]") {
  auto model = trignet::load_model<float>(source_path("models/jet_tagger.json"));
  const std::size_t samples = 2000;
  const auto x = random_inputs(samples * 16, 21, -5.f, 5.f);
  std::vector<float> reference(samples * 5);
  {
    trignet::Session<float> session(model);
    for (std::size_t s = 0; s < samples; ++s) {
      const auto y = session.run(trignet::Span<const float>(x.data() + s * 16, 16));
      std::copy(y.begin(), y.end(), reference.begin() + static_cast<long>(s * 5));
    }
  }
  std::atomic<std::size_t> mismatches{0}, runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      trignet::Session<float> session(model);
      for (std::size_t k = 0; k < samples; ++k) {
        const std::size_t s = (k * 7 + static_cast<std::size_t>(t) * 131) % samples;
        const auto y = session.run(trignet::Span<const float>(x.data() + s * 16, 16));
        if (std::memcmp(y.data(), reference.data() + s * 5, 5 * sizeof(float)) != 0) ++mismatches;
        ++runs;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(runs == 8 * samples);
  CHECK(mismatches == 0);
}

TEST_CASE("a session keeps its model alive after every other owner is gone", "[engine]") {
  trignet::Session<float> session(trignet::load_model<float>(source_path("models/jet_tagger.json")));
  std::vector<float> x(16, 0.5f);
  CHECK(session.run(x).size() == 5);
  CHECK(session.model().name() == "hls4ml_jet_tagger");
}

TEST_CASE("model facts: parameters, FLOPs, content hash", "[engine]") {
  auto model = trignet::load_model<float>(source_path("models/jet_tagger.json"));
  CHECK(model->parameter_count() == 16 * 64 + 64 + 64 * 32 + 32 + 32 * 32 + 32 + 32 * 5 + 5);
  CHECK(model->flops_per_sample() > 2.0 * (16 * 64 + 64 * 32 + 32 * 32 + 32 * 5));
  CHECK(model->content_hash().size() == 64);
  auto as_double = trignet::load_model<double>(source_path("models/jet_tagger.json"));
  CHECK(as_double->content_hash() == model->content_hash());
}
