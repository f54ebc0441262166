#include <trignet/trignet.hpp>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  // Load once: validated, embedded test vectors re-run; share it between threads.
  auto model = trignet::load_model<float>(argc > 1 ? argv[1] : "models/jet_tagger.json");
  // One session per thread: owns every buffer, no allocation after the first call.
  trignet::Session<float> session(model);
  std::vector<float> features(model->inputs()[0].size, 0.5f);
  trignet::Span<const float> scores = session.run(features);
  const auto& labels = model->spec().outputs[0].labels;
  for (std::size_t i = 0; i < scores.size(); ++i)
    std::printf("%s %.6f\n", labels.empty() ? "?" : labels[i].c_str(), scores[i]);
}
