// libFuzzer target: model JSON text -> parse_model_spec -> compile_model<float>
// (embedded test vectors re-run) -> Session runs with finite inputs.
// Any exception other than trignet::Error, any sanitizer report, leak or hang
// is a finding. Replayed without libFuzzer by replay_main.cpp (ctest).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <trignet/trignet.hpp>

namespace {

// Small enough that no valid input can take long or exhaust the fuzzer's
// memory; large enough for every seed model.
trignet::LoadOptions fuzz_options() {
  trignet::LoadOptions o;
  o.limits.max_file_bytes = 1 << 20;
  o.limits.max_nodes = 256;
  o.limits.max_weight_elements = 1 << 20;
  o.limits.max_tensor_elements = 1 << 16;
  o.limits.max_activation_elements = 1 << 18;
  return o;
}

void run_finite(const std::shared_ptr<const trignet::Model<float>>& model, std::size_t batch,
                std::uint32_t seed) {
  std::vector<std::vector<float>> buffers;
  std::vector<trignet::Span<const float>> views;
  for (const auto& in : model->inputs()) {
    buffers.emplace_back(batch * in.size);
    for (float& x : buffers.back()) {
      seed = seed * 1664525u + 1013904223u;
      x = static_cast<float>(static_cast<std::int32_t>(seed >> 8) % 4001 - 2000) / 500.0f;
    }
  }
  for (const auto& b : buffers) views.emplace_back(b);
  trignet::Session<float> session(model);
  session.run(trignet::Span<const trignet::Span<const float>>(views.data(), views.size()), batch);
  for (std::size_t o = 0; o < model->outputs().size(); ++o)
    if (session.output(o).size() != batch * model->outputs()[o].size) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const trignet::LoadOptions options = fuzz_options();
  try {
    auto model = trignet::load_model_from_string<float>(text, options, "<fuzz>");
    run_finite(model, 1, static_cast<std::uint32_t>(size));
    run_finite(model, 3, static_cast<std::uint32_t>(size) + 7u);
  } catch (const trignet::Error&) {
    // Rejected with a message: the expected outcome for malformed input.
  }
  return 0;
}
