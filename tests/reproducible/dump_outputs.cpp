// Reproducible mode across instruction sets: this program is compiled three
// times (default x86-64 = SSE2, -march=x86-64-v3 = AVX2+FMA, -march=x86-64-v4
// = AVX-512) and run on every model it can load in reproducible mode.
// It checks in-process that every sample's outputs are bit-identical at batch
// sizes 1, 7 and 64 and at any position in the batch, and writes every output
// bit pattern to a file; compare_outputs.cmake then requires the three files
// to be byte-identical. Usage: dump_outputs OUT.txt MODEL_OR_DIR...

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <trignet/trignet.hpp>

namespace {

/// Deterministic inputs with no library randomness: a 64-bit mix of
/// (model input, sample, element) mapped to [-4, 4), with every 37th value
/// large (|x| ~ 50) to reach saturating regions of sigmoid, tanh and softmax.
float input_value(std::uint64_t input, std::uint64_t sample, std::uint64_t element) {
  std::uint64_t z = input * 0x9E3779B97F4A7C15ull ^ (sample + 1) * 0xBF58476D1CE4E5B9ull ^
                    (element + 7) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  z *= 0xD6E8FEB86659FD93ull;
  z ^= z >> 29;
  const float unit = static_cast<float>(z >> 40) / static_cast<float>(1ull << 24);  // [0, 1)
  // Explicit fma: written as a*b - c, the compiler would fuse it on FMA targets only.
  return (element % 37 == 5) ? std::fma(100.0f, unit, -50.0f) : std::fma(8.0f, unit, -4.0f);
}

std::string bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  char text[16];
  std::snprintf(text, sizeof text, "%08" PRIx32, b);
  return text;
}

struct Failure {};

/// Runs a batch of `batch` samples in which sample id ids[k] sits at
/// positions[k] (the other positions hold filler samples); returns the
/// concatenated outputs of each listed sample.
std::vector<std::vector<float>> run_at(const trignet::Model<float>& model, trignet::Session<float>& session,
                                       std::size_t batch, const std::vector<std::size_t>& ids,
                                       const std::vector<std::size_t>& positions) {
  std::vector<std::vector<float>> inputs(model.inputs().size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::size_t n = model.inputs()[i].size;
    inputs[i].resize(batch * n);
    for (std::size_t b = 0; b < batch; ++b)
      for (std::size_t e = 0; e < n; ++e) inputs[i][b * n + e] = input_value(i, 1000 + b, e);
    for (std::size_t k = 0; k < ids.size(); ++k)
      for (std::size_t e = 0; e < n; ++e) inputs[i][positions[k] * n + e] = input_value(i, ids[k], e);
  }
  std::vector<trignet::Span<const float>> spans;
  for (const auto& v : inputs) spans.emplace_back(v.data(), v.size());
  session.run(trignet::Span<const trignet::Span<const float>>(spans.data(), spans.size()), batch);
  std::vector<std::vector<float>> result(ids.size());
  for (std::size_t o = 0; o < model.outputs().size(); ++o) {
    const auto out = session.output(o);
    const std::size_t n = model.outputs()[o].size;
    for (std::size_t k = 0; k < ids.size(); ++k)
      result[k].insert(result[k].end(), out.data() + positions[k] * n, out.data() + (positions[k] + 1) * n);
  }
  return result;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT.txt MODEL_OR_DIR...\n", argv[0]);
    return 2;
  }
  // TRIGNET_REPRO_NORMAL=1 runs the same checks on the normal kernels, to
  // measure what reproducible mode changes (docs/user-guide.md); mismatches
  // are then reported, not failed.
  const char* normal_env = std::getenv("TRIGNET_REPRO_NORMAL");
  const bool normal_mode = normal_env && std::string(normal_env) == "1";
  std::vector<std::string> files;
  for (int a = 2; a < argc; ++a) {
    if (std::filesystem::is_directory(argv[a])) {
      for (const auto& e : std::filesystem::directory_iterator(argv[a]))
        if (e.path().extension() == ".json") files.push_back(e.path().string());
    } else {
      files.push_back(argv[a]);
    }
  }
  std::sort(files.begin(), files.end());
  std::FILE* out = std::fopen(argv[1], "w");
  if (!out) return 2;
  const std::vector<std::size_t> samples = {0, 1, 2, 3, 4, 5, 6};
  int checked = 0, refused = 0, failures = 0;
  for (const std::string& file : files) {
    const std::string name = std::filesystem::path(file).filename().string();
    trignet::LoadOptions options;
    options.reproducible = !normal_mode;
    std::shared_ptr<const trignet::Model<float>> model;
    try {
      model = trignet::load_model<float>(file, options);  // embedded test vectors re-run
    } catch (const trignet::UnsupportedError& e) {
      std::fprintf(out, "%s refused\n", name.c_str());
      ++refused;
      continue;
    }
    bool int_input = false;
    for (const auto& in : model->spec().inputs) int_input = int_input || in.dtype == trignet::InputType::int32;
    if (int_input) {  // random floats are not valid indices
      std::fprintf(out, "%s skipped (int32 input)\n", name.c_str());
      continue;
    }
    trignet::Session<float> session(model);
    // Each sample alone, in a batch of 1: the reference every other run must equal.
    std::vector<std::vector<float>> reference;
    for (std::size_t s : samples) reference.push_back(run_at(*model, session, 1, {s}, {0})[0]);
    auto check = [&](std::size_t batch, std::vector<std::size_t> positions) {
      const auto got = run_at(*model, session, batch, samples, positions);
      for (std::size_t s = 0; s < samples.size(); ++s)
        if (!same_bits(got[s], reference[s])) {
          std::fprintf(stderr, "%s: sample %zu differs at batch %zu position %zu from batch 1\n", name.c_str(), s,
                       batch, positions[s]);
          ++failures;
        }
    };
    check(7, {0, 1, 2, 3, 4, 5, 6});
    check(7, {6, 5, 4, 3, 2, 1, 0});
    check(64, {63, 0, 17, 31, 32, 5, 48});
    check(13, {12, 3, 7, 0, 11, 1, 9});
    for (std::size_t s = 0; s < samples.size(); ++s) {
      std::fprintf(out, "%s sample %zu:", name.c_str(), s);
      for (float v : reference[s]) std::fprintf(out, " %s", bits(v).c_str());
      std::fprintf(out, "\n");
    }
    ++checked;
  }
  std::fclose(out);
  std::printf("%s: %d models checked (batch 1, 7, 13, 64, any position), %d refused, %d "
              "mismatches\n", normal_mode ? "normal mode" : "reproducible mode", checked, refused, failures);
  if (normal_mode) return 0;
  return failures == 0 && checked > 0 ? 0 : 1;
}
