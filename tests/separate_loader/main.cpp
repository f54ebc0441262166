// Built with -DTRIGNET_SEPARATE_LOADER: this TU sees only the declarations of
// load_model_spec, parse_model_spec and analyse (defined in loader.cpp). It
// loads the jet tagger from JSON as a compile-time network and with the
// run-time engine, and checks that both agree and that errors still carry
// their messages across the TU boundary. Exit status 0 on success.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <trignet/static_model.hpp>
#include <trignet/trignet.hpp>

using JetTagger = trignet::static_model<float,
    trignet::dense<16, 64, trignet::act::relu>, trignet::dense<64, 32, trignet::act::relu>,
    trignet::dense<32, 32, trignet::act::relu>, trignet::dense<32, 5, trignet::act::softmax>>;

int main() {
  const std::string path = std::string(TRIGNET_SOURCE_DIR) + "/models/jet_tagger.json";
  int failures = 0;
  const JetTagger net = JetTagger::load(path);
  auto model = trignet::load_model<float>(path);  // re-runs the embedded test vectors
  trignet::Session<float> session(model, 64);
  std::vector<float> x(16 * 64), y(5 * 64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
  net.run_batch(x.data(), y.data(), 64);
  trignet::Span<const float> in(x.data(), x.size());
  session.run(trignet::Span<const trignet::Span<const float>>(&in, 1), 64);
  const trignet::Span<const float> want = session.output(0);
  double worst = 0;
  for (std::size_t i = 0; i < y.size(); ++i) worst = std::fmax(worst, std::fabs(double(y[i]) - want[i]));
  if (!(worst <= 1e-6)) {
    std::printf("FAILED: static and run-time outputs differ by %g\n", worst);
    ++failures;
  }
  try {
    (void)trignet::parse_model_spec("{\"format\": \"trignet\"", "<truncated>");
    std::printf("FAILED: truncated JSON was accepted\n");
    ++failures;
  } catch (const trignet::FormatError& e) {
    if (std::string(e.what()).find("<truncated>") == std::string::npos) {
      std::printf("FAILED: message does not name the source: %s\n", e.what());
      ++failures;
    }
  }
  std::printf("separate loader: max |static - run-time| = %g, %d failures\n", worst, failures);
  return failures ? 1 : 0;
}
