// Host tests of the CUDA backend's per-sample math, compiled with the C++
// compiler (no CUDA needed): the Plan that the GPU executors upload, run by
// the host reference executor with the same __host__ __device__ eval_item the
// kernels call, and the device-callable DenseNet's forward(), all compared
// with the CPU engine.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpu_reference.hpp"
#include "catch.hpp"
#include "test_support.hpp"
#include "trignet/cuda/dense_net.hpp"
#include "trignet/cuda/plan.hpp"
#include "trignet/trignet.hpp"

using trignet_test::contains;
using trignet_test::error_message;
using trignet_test::source_path;
using trignet_test::make_inputs;

namespace {

bool close(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= 1e-5f + 1e-4f * std::fabs(b);
}

/// Runs the CPU engine and the plan's reference executor (both modes) on the
/// same batch and checks every output element.
void compare_with_cpu(const trignet::ModelSpec& spec, std::size_t batch) {
  trignet::cuda::Plan plan;
  try {
    plan = trignet::cuda::build_plan(spec);
  } catch (const trignet::UnsupportedError& e) {
    // Layers without CUDA kernels (convolution, recurrent, attention, ...) are
    // refused at compile time with the node named: never run elsewhere silently.
    INFO(e.what());
    CHECK(contains(e.what(), "not supported by the CUDA backend"));
    CHECK(contains(e.what(), "nodes["));
    return;
  }
  auto cpu = trignet::compile_model<float>(spec, {false});
  REQUIRE(plan.inputs.size() == cpu->inputs().size());
  REQUIRE(plan.outputs.size() == cpu->outputs().size());

  std::vector<std::vector<float>> inputs;
  std::vector<trignet::Span<const float>> in_spans;
  std::vector<const float*> in_ptrs;
  for (std::size_t i = 0; i < plan.inputs.size(); ++i) {
    REQUIRE(plan.inputs[i].size == cpu->inputs()[i].size);
    inputs.push_back(make_inputs(batch * plan.inputs[i].size, static_cast<std::uint32_t>(i + 1)));
  }
  if (!inputs.empty() && inputs[0].size() > 3) inputs[0][2] = NAN;  // exercises nan_replacement
  for (auto& v : inputs) {
    in_spans.emplace_back(v.data(), v.size());
    in_ptrs.push_back(v.data());
  }
  trignet::Session<float> session(cpu, batch);
  session.run(trignet::Span<const trignet::Span<const float>>(in_spans.data(), in_spans.size()),
              batch);

  using trignet::cuda::ReferenceOrder;
  std::vector<std::vector<float>> per_item;
  for (ReferenceOrder order : {ReferenceOrder::per_item, ReferenceOrder::fused, ReferenceOrder::layered}) {
    const char* order_name = order == ReferenceOrder::fused      ? "fused"
                             : order == ReferenceOrder::per_item ? "per item"
                                                                 : "layered";
    std::vector<std::vector<float>> outputs;
    std::vector<float*> out_ptrs;
    for (const auto& o : plan.outputs) outputs.emplace_back(batch * o.size, -999.0f);
    for (auto& v : outputs) out_ptrs.push_back(v.data());
    trignet::cuda::run_plan_reference(plan, in_ptrs.data(), out_ptrs.data(), batch, order);
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      const trignet::Span<const float> expected = session.output(o);
      REQUIRE(expected.size() == outputs[o].size());
      for (std::size_t e = 0; e < expected.size(); ++e) {
        INFO(spec.name << " " << order_name << " output " << o << " element " << e);
        CHECK(close(outputs[o][e], expected[e]));
      }
    }
    if (order == ReferenceOrder::per_item) {
      per_item = outputs;
    } else if (order == ReferenceOrder::fused) {
      // The fused kernel's blocked Dense sums in eval_item's order: bit for bit equal.
      for (std::size_t o = 0; o < outputs.size(); ++o) {
        INFO(spec.name << " output " << o);
        CHECK(std::memcmp(outputs[o].data(), per_item[o].data(), outputs[o].size() * sizeof(float)) == 0);
      }
    }
  }
}

nlohmann::json dense_node(const std::string& name, const std::string& input, std::size_t in,
                          std::size_t units, const nlohmann::json& activation,
                          std::uint32_t seed) {
  const std::vector<float> k = make_inputs(in * units, seed);
  const std::vector<float> b = make_inputs(units, seed + 100);
  std::vector<float> ks, bs;
  for (float x : k) ks.push_back(x * 0.4f);
  for (float x : b) bs.push_back(x * 0.05f);
  return {{"name", name},
          {"type", "Dense"},
          {"inputs", {input}},
          {"config", {{"units", units}, {"activation", activation}}},
          {"weights",
           {{"kernel", {{"shape", {in, units}}, {"data", ks}}},
            {"bias", {{"shape", {units}}, {"data", bs}}}}}};
}

/// A 4-20-20-1 MVA of the kind trigger selections run: preprocessing with NaN
/// replacement, a BatchNormalization after a linear Dense, a separate
/// Activation node, Dropout, sigmoid output.
trignet::ModelSpec mva_spec() {
  nlohmann::json j = {{"format", "trignet"}, {"format_version", 1}, {"name", "mva_4_20_20_1"}};
  j["inputs"] = {{{"name", "x"},
                  {"shape", {4}},
                  {"preprocessing",
                   {{"offset", {0.5, -0.25, 1.0, 0.0}},
                    {"scale", {2.0, 0.5, 1.5, 1.0}},
                    {"nan_replacement", {0.0, 1.0, -1.0, 0.25}}}}}};
  j["outputs"] = {{{"name", "score"}, {"node", "out"}}};
  nlohmann::json bn = {{"name", "bn"},
                       {"type", "BatchNormalization"},
                       {"inputs", {"d1"}},
                       {"config", {{"axis", -1}, {"epsilon", 0.001}}}};
  std::vector<float> mean = make_inputs(20, 7), var = make_inputs(20, 8), gamma = make_inputs(20, 9);
  for (auto& v : var) v = std::fabs(v) + 0.1f;
  bn["weights"] = {{"moving_mean", {{"shape", {20}}, {"data", mean}}},
                   {"moving_variance", {{"shape", {20}}, {"data", var}}},
                   {"gamma", {{"shape", {20}}, {"data", gamma}}}};
  j["nodes"] = {dense_node("d1", "x", 4, 20, "linear", 1),
                bn,
                {{"name", "a1"}, {"type", "Activation"}, {"inputs", {"bn"}}, {"config", {{"activation", "tanh"}}}},
                {{"name", "drop"}, {"type", "Dropout"}, {"inputs", {"a1"}}, {"config", {{"rate", 0.2}}}},
                dense_node("d2", "drop", 20, 20, {{"name", "leaky_relu"}, {"alpha", 0.1}}, 2),
                dense_node("out", "d2", 20, 1, "sigmoid", 3)};
  return trignet::parse_model_spec(j.dump(), "mva_4_20_20_1.json");
}

template <typename Net>
void compare_dense_net(const trignet::ModelSpec& spec, std::size_t batch) {
  auto cpu = trignet::compile_model<float>(spec, {false});
  const auto params = Net::parameters(spec);
  const typename Net::View view = params.view(params.values.data());
  std::vector<float> x = make_inputs(batch * Net::input_size, 42);
  x[1] = NAN;
  trignet::Session<float> session(cpu, batch);
  const trignet::Span<const float> expected = session.run(trignet::Span<const float>(x.data(), x.size()));
  for (std::size_t s = 0; s < batch; ++s) {
    float y[Net::output_size];
    Net::forward(view, x.data() + s * Net::input_size, y);
    for (std::size_t j = 0; j < Net::output_size; ++j) {
      INFO(spec.name << " sample " << s << " output " << j);
      CHECK(close(y[j], expected[s * Net::output_size + j]));
    }
  }
}

}  // namespace

TEST_CASE("cuda plan: jet tagger matches the CPU engine (fused and layered order)") {
  compare_with_cpu(trignet::load_model_spec(source_path("models/jet_tagger.json")), 9);
}

TEST_CASE("cuda plan: every layer fixture matches the CPU engine") {
  for (const std::string& file : trignet_test::fixture_files()) {
    INFO(file);
    compare_with_cpu(trignet::load_model_spec(file), 5);
  }
}

TEST_CASE("cuda plan: every model in models/ compiles for the GPU or is refused by name") {
  std::size_t compiled = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("models")))
    if (entry.path().extension() == ".json") {
      INFO(entry.path().string());
      const trignet::ModelSpec spec = trignet::load_model_spec(entry.path().string());
      try {
        const trignet::cuda::Plan plan = trignet::cuda::build_plan(spec);
        CHECK(plan.arena % 2 == 1);
        CHECK(!plan.ops.empty());
        ++compiled;
      } catch (const trignet::UnsupportedError& e) {
        // Convolution, pooling, recurrent and attention layers have no CUDA
        // kernels yet: the refusal names the node, never a silent fallback.
        const std::string what = e.what();
        CHECK(what.find("not supported by the CUDA backend") != std::string::npos);
        CHECK(what.find("nodes[") != std::string::npos);
      }
    }
  CHECK(compiled >= 6);  // the dense zoo models and the jet tagger
}

TEST_CASE("cuda plan: the arena reuses regions of dead values") {
  const trignet::cuda::Plan plan =
      trignet::cuda::build_plan(trignet::load_model_spec(source_path("models/jet_tagger.json")));
  // 16 -> 64 -> 32 -> 32 -> 5 (+5 before softmax): without reuse 154 floats.
  CHECK(plan.arena < 154);
  // load, 4 dense, softmax, store
  REQUIRE(plan.ops.size() == 7);
  CHECK(plan.ops[4].kind == trignet::cuda::OpKind::dense);
  CHECK(plan.ops[5].kind == trignet::cuda::OpKind::softmax);
  CHECK(plan.ops[6].kind == trignet::cuda::OpKind::store);
  for (const auto& op : plan.ops)
    if (op.kind == trignet::cuda::OpKind::dense) {
      // An op's output never overlaps its input (items run in parallel).
      const int in_end = op.in[0] + op.items / op.units * op.in_features;
      CHECK((op.out >= in_end || op.out + op.items <= op.in[0]));
    }
}

TEST_CASE("cuda plan: fused configuration from the shared-memory budget") {
  const trignet::cuda::Plan plan =
      trignet::cuda::build_plan(trignet::load_model_spec(source_path("models/jet_tagger.json")));
  const auto big = trignet::cuda::choose_fused(plan, 100 * 1024, true);
  CHECK(big.possible);
  CHECK(big.weights_in_shared);
  CHECK(big.tile == 128);
  CHECK(big.shared_bytes <= 100 * 1024);
  // 4389 weights need ~17.6 kB: a 16 kB budget cannot hold them.
  CHECK_FALSE(trignet::cuda::choose_fused(plan, 16 * 1024, true).possible);
  const auto forced = trignet::cuda::choose_fused(plan, 16 * 1024, false);
  CHECK(forced.possible);
  CHECK_FALSE(forced.weights_in_shared);
  CHECK_FALSE(trignet::cuda::choose_fused(plan, 256, false).possible);
  // Larger tiles on request: the largest power of two <= max_tile that fits.
  const std::size_t per_sample = static_cast<std::size_t>(plan.arena) * sizeof(float);
  const std::size_t fixed = (big.ops_floats + big.param_floats) * sizeof(float);
  const auto wide = trignet::cuda::choose_fused(plan, fixed + 256 * per_sample, true, 1000);
  CHECK(wide.tile == 256);
  CHECK(wide.shared_bytes == fixed + 256 * per_sample);
  CHECK(trignet::cuda::choose_fused(plan, fixed + 256 * per_sample - 1, true, 1000).tile == 128);
  CHECK(trignet::cuda::choose_fused(plan, 100 * 1024, true, 100).tile == 64);
  CHECK(trignet::cuda::choose_fused(plan, 100 * 1024, true, 20).tile == 16);
  CHECK_THROWS_WITH(trignet::cuda::choose_fused(plan, 100 * 1024, true, 0),
                    Catch::Contains("max_tile must be in [1, 1024], got 0"));
}

TEST_CASE("cuda plan: merges of more than 8 inputs are refused, naming the node") {
  nlohmann::json j = {{"format", "trignet"}, {"format_version", 1}, {"name", "wide_add"}};
  nlohmann::json inputs = nlohmann::json::array(), names = nlohmann::json::array();
  for (int i = 0; i < 9; ++i) {
    inputs.push_back({{"name", "x" + std::to_string(i)}, {"shape", {2}}});
    names.push_back("x" + std::to_string(i));
  }
  j["inputs"] = inputs;
  j["outputs"] = {{{"name", "y"}, {"node", "sum"}}};
  j["nodes"] = {{{"name", "sum"}, {"type", "Add"}, {"inputs", names}}};
  const trignet::ModelSpec spec = trignet::parse_model_spec(j.dump(), "wide_add.json");
  const std::string message = error_message<trignet::UnsupportedError>([&] {
    trignet::cuda::build_plan(spec);
  });
  INFO(message);
  CHECK(contains(message, "wide_add.json: nodes[0] ('sum', Add): not supported by the CUDA backend"));
  CHECK(contains(message, "9 inputs (at most 8)"));
}

TEST_CASE("cuda DenseNet: the jet tagger as DenseNet<16, 64, 32, 32, 5> matches the CPU engine") {
  compare_dense_net<trignet::cuda::DenseNet<16, 64, 32, 32, 5>>(
      trignet::load_model_spec(source_path("models/jet_tagger.json")), 6);
}

TEST_CASE("cuda DenseNet: a 4-20-20-1 MVA with BatchNorm, Activation, Dropout, preprocessing") {
  compare_dense_net<trignet::cuda::DenseNet<4, 20, 20, 1>>(mva_spec(), 16);
}

TEST_CASE("cuda DenseNet: a type that differs from the file names the first difference") {
  const trignet::ModelSpec jet = trignet::load_model_spec(source_path("models/jet_tagger.json"));
  using trignet::UnsupportedError;
  std::string m = error_message<UnsupportedError>(
      [&] { trignet::cuda::dense_net_parameters<16, 64, 20, 32, 5>(jet); });
  INFO(m);
  CHECK(contains(m, "does not match trignet::cuda::DenseNet<16, 64, 20, 32, 5>"));
  CHECK(contains(m, "nodes[1] ('dense_2', Dense) has 32 units, the type expects 20 (layer 2)"));

  m = error_message<UnsupportedError>([&] { trignet::cuda::dense_net_parameters<8, 64, 32, 32, 5>(jet); });
  CHECK(contains(m, "input 'features' has shape [16], the type expects [8]"));

  m = error_message<UnsupportedError>([&] { trignet::cuda::dense_net_parameters<16, 64, 32, 5>(jet); });
  CHECK(contains(m, "has 32 units, the type expects 5 (layer 3)"));

  m = error_message<UnsupportedError>(
      [&] { trignet::cuda::dense_net_parameters<16, 64, 32, 32, 5, 2>(jet); });
  CHECK(contains(m, "it has 4 Dense layers, the type expects 5"));

  const trignet::ModelSpec add = trignet::load_model_spec(source_path("tests/data/layers/add_three.json"));
  m = error_message<UnsupportedError>([&] { trignet::cuda::dense_net_parameters<6, 6>(add); });
  CHECK(contains(m, "it has 3 inputs, the type expects 1"));
}
