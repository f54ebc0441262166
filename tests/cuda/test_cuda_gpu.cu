// GPU tests of the CUDA backend (nvcc). Without a usable device the program
// prints why and exits with 77, which ctest reports as skipped.
//
// Every model in models/ and every layer fixture the backend supports is run
// on the GPU in each execution mode (automatic, fused, layered), at several
// batch sizes, through the synchronous wrapper, the asynchronous device API,
// a captured CUDA graph and a chunked layered session, and compared with the
// CPU engine. The device-callable DenseNet runs inside a user kernel.
//
//   trignet-cuda-gpu-tests [--quick] [--filter SUBSTRING]
// --quick: batches 1, 7 and 300 only (for runs under compute-sanitizer);
// --filter: only the model files whose path contains SUBSTRING.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cpu_reference.hpp"
#include "trignet/cuda/cuda.hpp"

using trignet_test::make_inputs;

namespace {

int failures = 0;
int checks = 0;
bool quick = false;
std::string filter;

#define EXPECT(cond, ...)                                     \
  do {                                                        \
    ++checks;                                                 \
    if (!(cond)) {                                            \
      ++failures;                                             \
      std::printf("FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::printf(__VA_ARGS__);                               \
      std::printf("\n");                                      \
    }                                                         \
  } while (0)

/// Largest violation of |got - want| <= 3e-5 + 3e-4 |want| (NaN must match NaN), in units of the bound.
double worst(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return 1e30;
  double w = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]) || std::isnan(got[i])) {
      if (!(std::isnan(want[i]) && std::isnan(got[i]))) return 1e30;
      continue;
    }
    const double bound = 3e-5 + 3e-4 * std::fabs(want[i]);
    w = std::max(w, std::fabs(double(got[i]) - want[i]) / bound);
  }
  return w;
}

/// A file of the source tree; $TRIGNET_SOURCE_DIR overrides the build's path
/// (a program built on one machine and run from a checkout on another).
std::string source(const std::string& rel) {
  const char* env = std::getenv("TRIGNET_SOURCE_DIR");
  return std::string(env && *env ? env : TRIGNET_SOURCE_DIR) + "/" + rel;
}

std::vector<std::string> model_files() {
  std::vector<std::string> files;
  for (const char* dir : {"models", "tests/data/layers"})
    for (const auto& e : std::filesystem::directory_iterator(source(dir)))
      if (e.path().extension() == ".json" && e.path().string().find(filter) != std::string::npos)
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

void test_model(const std::string& path) {
  const trignet::ModelSpec spec = trignet::load_model_spec(path);
  try {
    trignet::cuda::build_plan(spec);
  } catch (const trignet::UnsupportedError& e) {
    std::printf("  %-40s not supported by the CUDA backend: %s\n", spec.name.c_str(), e.what());
    return;
  }
  using trignet::cuda::ExecutionMode;
  for (ExecutionMode mode : {ExecutionMode::automatic, ExecutionMode::fused, ExecutionMode::layered}) {
    trignet::cuda::CompileOptions options;
    options.mode = mode;
    std::shared_ptr<const trignet::cuda::Model<float>> model;
    try {
      model = trignet::cuda::compile(spec, options);  // re-runs the embedded test vectors on the GPU
    } catch (const trignet::UnsupportedError& e) {
      std::printf("  %-40s %-9s refused: %s\n", spec.name.c_str(), trignet::cuda::mode_name(mode), e.what());
      continue;
    } catch (const trignet::Error& e) {
      EXPECT(false, "%s (%s): %s", spec.name.c_str(), trignet::cuda::mode_name(mode), e.what());
      continue;
    }
    double max_err = 0;
    std::vector<std::size_t> batches{1, 7, 300, 5000};
    if (quick) batches.pop_back();
    for (std::size_t batch : batches) {
      std::vector<std::vector<float>> in;
      for (std::size_t i = 0; i < model->inputs().size(); ++i)
        in.push_back(make_inputs(batch * model->inputs()[i].size, static_cast<std::uint32_t>(batch + i)));
      if (in[0].size() > 3) in[0][2] = NAN;
      const auto want = trignet_test::cpu_reference(path, in, batch);

      // Synchronous wrapper.
      trignet::cuda::Session<float> session(model, nullptr, 256);  // layered: chunks of 256
      std::vector<std::vector<float>> out;
      std::vector<trignet::Span<const float>> in_spans;
      std::vector<trignet::Span<float>> out_spans;
      for (auto& v : in) in_spans.emplace_back(v.data(), v.size());
      for (std::size_t o = 0; o < model->outputs().size(); ++o) out.emplace_back(batch * model->outputs()[o].size, -1.0f);
      for (auto& v : out) out_spans.emplace_back(v.data(), v.size());
      session.run_host(trignet::Span<const trignet::Span<const float>>(in_spans.data(), in_spans.size()),
                       trignet::Span<const trignet::Span<float>>(out_spans.data(), out_spans.size()), batch);
      for (std::size_t o = 0; o < out.size(); ++o) {
        const double w = worst(out[o], want[o]);
        max_err = std::max(max_err, w);
        EXPECT(w <= 1.0, "%s %s batch %zu output %zu: error %.3g x tolerance", spec.name.c_str(),
               model->describe().c_str(), batch, o, w);
      }

      // Asynchronous device API, then the same call as a CUDA graph.
      std::vector<trignet::cuda::DeviceBuffer<float>> d_in, d_out;
      std::vector<const float*> pin;
      std::vector<float*> pout;
      for (auto& v : in) {
        d_in.push_back(trignet::cuda::upload(v.data(), v.size()));
        pin.push_back(d_in.back().data());
      }
      for (auto& v : out) {
        d_out.emplace_back(v.size());
        pout.push_back(d_out.back().data());
      }
      for (int graph = 0; graph < 2; ++graph) {
        for (auto& b : d_out) TRIGNET_CUDA_CHECK(cudaMemsetAsync(b.data(), 0xff, b.size() * 4, session.stream()));
        if (graph) {
          session.capture(pin.data(), pout.data(), batch);
          session.launch_captured();
          session.launch_captured();
        } else {
          session.run(pin.data(), pout.data(), batch);
        }
        session.synchronize();
        for (std::size_t o = 0; o < out.size(); ++o) {
          std::vector<float> got(out[o].size());
          TRIGNET_CUDA_CHECK(cudaMemcpy(got.data(), d_out[o].data(), got.size() * 4, cudaMemcpyDeviceToHost));
          const double w = worst(got, want[o]);
          EXPECT(w <= 1.0, "%s %s batch %zu output %zu (%s): error %.3g x tolerance", spec.name.c_str(),
                 trignet::cuda::mode_name(model->mode()), batch, o, graph ? "graph" : "async", w);
        }
      }
    }
    std::printf("  %-40s %-9s -> %-7s ok (worst error %.2f of tolerance)\n", spec.name.c_str(),
                trignet::cuda::mode_name(mode), trignet::cuda::mode_name(model->mode()), max_err);
  }
}

using JetNet = trignet::cuda::DenseNet<16, 64, 32, 32, 5>;
using PreNet = trignet::cuda::DenseNet<4, 2>;

/// What a user's selection kernel looks like: one sample per thread.
template <typename Net>
__global__ void user_kernel(typename Net::View net, const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) Net::forward(net, x + Net::input_size * i, y + Net::output_size * i);
}

template <typename Net>
void test_dense_net(const std::string& rel) {
  const std::string path = source(rel);
  trignet::cuda::DeviceDenseNet<Net> net(trignet::load_model_spec(path));
  const int n = 10000;
  std::vector<float> x = make_inputs(std::size_t(n) * Net::input_size, 5);
  x[1] = NAN;
  const auto want = trignet_test::cpu_reference(path, {x}, n);
  trignet::cuda::DeviceBuffer<float> dx = trignet::cuda::upload(x.data(), x.size());
  trignet::cuda::DeviceBuffer<float> dy(std::size_t(n) * Net::output_size);
  user_kernel<Net><<<(n + 127) / 128, 128>>>(net.view(), dx.data(), dy.data(), n);
  TRIGNET_CUDA_CHECK(cudaGetLastError());
  std::vector<float> y(std::size_t(n) * Net::output_size);
  TRIGNET_CUDA_CHECK(cudaMemcpy(y.data(), dy.data(), y.size() * 4, cudaMemcpyDeviceToHost));
  const double w = worst(y, want[0]);
  EXPECT(w <= 1.0, "%s in a user kernel: error %.3g x tolerance", Net::type_name().c_str(), w);
  std::printf("  %-40s DenseNet in a user kernel: ok (worst error %.2f of tolerance)\n",
              Net::type_name().c_str(), w);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--filter" && i + 1 < argc) {
      filter = argv[++i];
    } else {
      std::printf("usage: %s [--quick] [--filter SUBSTRING]\n", argv[0]);
      return 2;
    }
  }
  std::string reason;
  if (trignet::cuda::device_count(&reason) == 0) {
    std::printf("SKIPPED: no usable CUDA device (%s); GPU tests not run\n", reason.c_str());
    return 77;
  }
  try {
    std::printf("device: %s\n", trignet::cuda::device_description().c_str());
    for (const std::string& f : model_files()) test_model(f);
    if (filter.empty() || std::string("models/jet_tagger.json").find(filter) != std::string::npos)
      test_dense_net<JetNet>("models/jet_tagger.json");
    if (filter.empty() || std::string("tests/data/layers/preprocessing_offset_scale.json").find(filter) != std::string::npos)
      test_dense_net<PreNet>("tests/data/layers/preprocessing_offset_scale.json");

    // Errors: a type that does not match the file.
    std::string m;
    try {
      trignet::cuda::DeviceDenseNet<trignet::cuda::DenseNet<16, 64, 5>> bad(
          trignet::load_model_spec(source("models/jet_tagger.json")));
    } catch (const trignet::UnsupportedError& e) {
      m = e.what();
    }
    EXPECT(m.find("has 32 units, the type expects 5") != std::string::npos, "message: %s", m.c_str());
  } catch (const std::exception& e) {
    std::printf("FAILED: exception: %s\n", e.what());
    return 1;
  }
  std::printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
