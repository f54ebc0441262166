// libFuzzer target: the input parsing of `trignet run`. The first byte picks
// one of a few small models (input names and shapes); the rest is the inputs
// file's JSON text, parsed strictly and read with format::read_named_batches,
// then run through the model (NaN allowed, with and without the input check).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <trignet/trignet.hpp>

namespace {

const char* const model_texts[] = {
    // one input [4]
    R"({"format": "trignet", "format_version": 1, "name": "one",
        "inputs": [{"name": "x", "shape": [4], "variables": ["a", "b", "c", "d"]}],
        "outputs": [{"name": "y", "node": "d"}],
        "nodes": [{"name": "d", "type": "Dense", "inputs": ["x"],
                   "config": {"units": 2, "activation": "softmax"},
                   "weights": {"kernel": {"shape": [4, 2], "data": [1, -1, 0.5, 2, -0.25, 0, 1, 1]},
                               "bias": {"shape": [2], "data": [0.1, -0.1]}}}]})",
    // two inputs [2, 3] and [3], preprocessing with NaN replacement
    R"({"format": "trignet", "format_version": 1, "name": "two",
        "inputs": [{"name": "a", "shape": [2, 3]},
                   {"name": "b", "shape": [3], "preprocessing": {"nan_replacement": [0, 0, 0],
                    "offset": [1, 2, 3], "scale": [0.5, 0.5, 0.5]}}],
        "outputs": [{"name": "y", "node": "cat"}],
        "nodes": [{"name": "f", "type": "Flatten", "inputs": ["a"]},
                  {"name": "cat", "type": "Concatenate", "inputs": ["f", "b"]}]})",
    // one input [2, 2, 2] through Permute and LayerNormalization
    R"({"format": "trignet", "format_version": 1, "name": "cube",
        "inputs": [{"name": "cube", "shape": [2, 2, 2]}],
        "outputs": [{"name": "y", "node": "ln"}],
        "nodes": [{"name": "p", "type": "Permute", "inputs": ["cube"], "config": {"dims": [2, 0, 1]}},
                  {"name": "ln", "type": "LayerNormalization", "inputs": ["p"],
                   "config": {"axis": -1, "epsilon": 0.001}}]})",
    // one large input [1000]: many samples of it must not be reserved up front
    R"({"format": "trignet", "format_version": 1, "name": "wide",
        "inputs": [{"name": "w", "shape": [1000]}],
        "outputs": [{"name": "y", "node": "s"}],
        "nodes": [{"name": "s", "type": "Activation", "inputs": ["w"],
                   "config": {"activation": "sigmoid"}}]})",
};
constexpr std::size_t model_count = sizeof(model_texts) / sizeof(model_texts[0]);

const std::shared_ptr<const trignet::Model<float>>& model(std::size_t i) {
  static const std::vector<std::shared_ptr<const trignet::Model<float>>> models = [] {
    std::vector<std::shared_ptr<const trignet::Model<float>>> m;
    for (const char* text : model_texts) m.push_back(trignet::load_model_from_string<float>(text));
    return m;
  }();
  return models[i];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& m = model(data[0] % model_count);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> names;
  std::vector<trignet::Shape> shapes;
  for (const auto& in : m->inputs()) {
    names.push_back(in.name);
    shapes.push_back(in.shape);
  }
  trignet::format::NamedBatches samples;
  const std::string source = "<fuzz inputs>";  // JsonReader keeps a pointer to it
  try {
    const nlohmann::json doc = trignet::format::parse_json_text(text, source);
    const trignet::format::JsonReader root(doc, "", source);
    samples = trignet::format::read_named_batches(root, names, shapes);
  } catch (const trignet::FormatError&) {
    return 0;
  }
  if (samples.batch == 0 || samples.values.size() != names.size()) std::abort();
  std::vector<std::vector<float>> buffers;
  std::vector<trignet::Span<const float>> views;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (samples.values[i].size() != samples.batch * m->inputs()[i].size) std::abort();
    buffers.emplace_back(samples.values[i].begin(), samples.values[i].end());
  }
  for (const auto& b : buffers) views.emplace_back(b);
  const trignet::Span<const trignet::Span<const float>> inputs(views.data(), views.size());
  trignet::Session<float> session(m);
  session.run(inputs, samples.batch);
  session.set_input_check(trignet::InputCheck::reject_non_finite);
  try {
    session.run(inputs, samples.batch);
  } catch (const trignet::RunError&) {
  }
  return 0;
}
