#include "cpu_reference.hpp"

#include "trignet/trignet.hpp"

namespace trignet_test {

std::vector<std::vector<float>> cpu_reference(const std::string& path,
                                              const std::vector<std::vector<float>>& inputs,
                                              std::size_t batch) {
  auto model = trignet::load_model<float>(path, {false});
  trignet::Session<float> session(model, batch);
  std::vector<trignet::Span<const float>> spans;
  for (const auto& v : inputs) spans.emplace_back(v.data(), v.size());
  session.run(trignet::Span<const trignet::Span<const float>>(spans.data(), spans.size()), batch);
  std::vector<std::vector<float>> out;
  for (std::size_t o = 0; o < model->outputs().size(); ++o) {
    const trignet::Span<const float> y = session.output(o);
    out.emplace_back(y.begin(), y.end());
  }
  return out;
}

}  // namespace trignet_test
