// GPU benchmark of the CUDA backend: per model, throughput versus batch size
// (device-resident buffers, and with host<->device transfers from pinned
// memory), latency at batch 1 with and without a CUDA graph, achieved
// GFLOP/s against the device's FP32 peak; plus the device-callable DenseNet
// in a user kernel. Writes a Markdown report (stdout and --out FILE).
//
//   trignet-cuda-bench [--models DIR] [--out FILE] [--max-batch N]
//
// Exit code 77 when there is no usable device.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trignet/cuda/cuda.hpp"

namespace {

using trignet::cuda::ExecutionMode;

std::ostringstream report;

void emit(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  report << line << "\n";
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

/// Seconds per call of `f` on `stream`, timed with events over enough calls for ~0.1 s.
double time_per_call(cudaStream_t stream, const std::function<void()>& f) {
  cudaEvent_t a, b;
  TRIGNET_CUDA_CHECK(cudaEventCreate(&a));
  TRIGNET_CUDA_CHECK(cudaEventCreate(&b));
  f();
  f();
  TRIGNET_CUDA_CHECK(cudaEventRecord(a, stream));
  f();
  TRIGNET_CUDA_CHECK(cudaEventRecord(b, stream));
  TRIGNET_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  TRIGNET_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  const int n = static_cast<int>(std::clamp(100.0 / std::max(ms, 1e-3f), 3.0, 1000.0));
  TRIGNET_CUDA_CHECK(cudaEventRecord(a, stream));
  for (int i = 0; i < n; ++i) f();
  TRIGNET_CUDA_CHECK(cudaEventRecord(b, stream));
  TRIGNET_CUDA_CHECK(cudaEventSynchronize(b));
  TRIGNET_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  TRIGNET_CUDA_CHECK(cudaEventDestroy(a));
  TRIGNET_CUDA_CHECK(cudaEventDestroy(b));
  return ms * 1e-3 / n;
}

/// Host-clock latency of f() + synchronise, in microseconds: median and p99.
std::pair<double, double> latency_us(cudaStream_t stream, const std::function<void()>& f, int n = 2000) {
  for (int i = 0; i < 50; ++i) f();
  TRIGNET_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> t(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    TRIGNET_CUDA_CHECK(cudaStreamSynchronize(stream));
    t[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(t.begin(), t.end());
  return {t[n / 2], t[std::min(n - 1, n * 99 / 100)]};
}

double fp32_peak_gflops() {
  int dev = 0, clock_khz = 0, major = 0, minor = 0, sms = 0;
  TRIGNET_CUDA_CHECK(cudaGetDevice(&dev));
  TRIGNET_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev));
  TRIGNET_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  TRIGNET_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  TRIGNET_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  const int lanes = (major == 8 && minor == 0) || major < 8 ? 64 : 128;  // FP32 lanes per SM
  return 2.0 * lanes * sms * clock_khz * 1e-6;
}

/// A wide MLP that the fused kernel cannot hold: exercises cuBLAS.
trignet::ModelSpec wide_mlp() {
  const std::vector<std::size_t> sizes{128, 1024, 1024, 1024, 16};
  nlohmann::json j = {{"format", "trignet"}, {"format_version", 1}, {"name", "synthetic_wide_mlp_128x1024x3x16"}};
  j["inputs"] = {{{"name", "x"}, {"shape", {sizes[0]}}}};
  j["outputs"] = {{{"name", "y"}, {"node", "d" + std::to_string(sizes.size() - 1)}}};
  j["nodes"] = nlohmann::json::array();
  std::uint32_t s = 1;
  auto rnd = [&](float scale) {
    s = s * 1664525u + 1013904223u;
    return (static_cast<float>((s >> 8) & 0xffff) / 65535.0f - 0.5f) * scale;
  };
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    std::vector<float> k(sizes[l] * sizes[l + 1]), b(sizes[l + 1]);
    for (auto& x : k) x = rnd(2.0f / std::sqrt(float(sizes[l])));
    for (auto& x : b) x = rnd(0.1f);
    j["nodes"].push_back({{"name", "d" + std::to_string(l + 1)},
                          {"type", "Dense"},
                          {"inputs", {l == 0 ? std::string("x") : "d" + std::to_string(l)}},
                          {"config", {{"units", sizes[l + 1]}, {"activation", l + 2 < sizes.size() ? "relu" : "linear"}}},
                          {"weights", {{"kernel", {{"shape", {sizes[l], sizes[l + 1]}}, {"data", k}}},
                                       {"bias", {{"shape", {sizes[l + 1]}}, {"data", b}}}}}});
  }
  return trignet::parse_model_spec(j.dump(), "<synthetic wide MLP>");
}

void bench_model(const trignet::ModelSpec& spec, std::size_t max_batch, double peak) {
  // The automatic choice, then the other executor on the same model: cuBLAS
  // for a fused model, the fused kernel (weights in global memory) for a
  // layered one where it can run.
  std::vector<ExecutionMode> modes{ExecutionMode::automatic};
  {
    trignet::cuda::CompileOptions probe;
    probe.verify_test_vectors = false;
    if (trignet::cuda::Model<float>(spec, probe).mode() == ExecutionMode::fused) {
      modes.push_back(ExecutionMode::layered);
    } else {
      probe.mode = ExecutionMode::fused;
      try {
        trignet::cuda::Model<float> fused(spec, probe);
        modes.push_back(ExecutionMode::fused);
      } catch (const trignet::UnsupportedError&) {
      }
    }
  }
  for (ExecutionMode mode : modes) {
    trignet::cuda::CompileOptions options;
    options.mode = mode;
    auto model = trignet::cuda::compile(spec, options);  // also re-runs embedded test vectors on the GPU
    const auto& plan = model->plan();
    if (plan.inputs.size() != 1 || plan.outputs.size() != 1) {
      emit("- " + spec.name + ": skipped (the benchmark drives single-input, single-output models)");
      return;
    }
    const std::size_t in_size = plan.inputs[0].size, out_size = plan.outputs[0].size;
    const double flops = model->flops_per_sample();
    emit("");
    emit("### " + model->describe());
    emit("");
    emit(fmt("%.0f", flops) + " FLOP per sample; FP32 peak " + fmt("%.0f", peak) + " GFLOP/s");
    emit("");
    emit("| batch | device-resident: samples/s | GFLOP/s | % of peak | us/call | with transfers: samples/s | us/call |");
    emit("|---:|---:|---:|---:|---:|---:|---:|");
    trignet::cuda::Session<float> session(model, nullptr, 65536);
    const cudaStream_t st = session.stream();
    for (std::size_t batch = 1; batch <= max_batch; batch *= 10) {
      trignet::cuda::DeviceBuffer<float> d_in(batch * in_size), d_out(batch * out_size);
      float *h_in = nullptr, *h_out = nullptr;
      TRIGNET_CUDA_CHECK(cudaMallocHost(&h_in, batch * in_size * 4));
      TRIGNET_CUDA_CHECK(cudaMallocHost(&h_out, batch * out_size * 4));
      for (std::size_t i = 0; i < batch * in_size; ++i) h_in[i] = float((i * 7919) % 1000) / 500.0f - 1.0f;
      TRIGNET_CUDA_CHECK(cudaMemcpy(d_in.data(), h_in, batch * in_size * 4, cudaMemcpyHostToDevice));
      const float* pin = d_in.data();
      float* pout = d_out.data();
      const double t = time_per_call(st, [&] { session.run(pin, pout, batch); });
      const double tt = time_per_call(st, [&] {
        TRIGNET_CUDA_CHECK(cudaMemcpyAsync(d_in.data(), h_in, batch * in_size * 4, cudaMemcpyHostToDevice, st));
        session.run(pin, pout, batch);
        TRIGNET_CUDA_CHECK(cudaMemcpyAsync(h_out, d_out.data(), batch * out_size * 4, cudaMemcpyDeviceToHost, st));
      });
      const double gflops = flops * double(batch) / t * 1e-9;
      emit("| " + std::to_string(batch) + " | " + fmt("%.3g", batch / t) + " | " + fmt("%.1f", gflops) + " | " +
           fmt("%.2f", 100.0 * gflops / peak) + " | " + fmt("%.1f", t * 1e6) + " | " + fmt("%.3g", batch / tt) +
           " | " + fmt("%.1f", tt * 1e6) + " |");
      TRIGNET_CUDA_CHECK(cudaFreeHost(h_in));
      TRIGNET_CUDA_CHECK(cudaFreeHost(h_out));
    }
    // Latency at batch 1 (host clock, call + stream synchronise).
    trignet::cuda::DeviceBuffer<float> d_in(in_size), d_out(out_size);
    float *h_in = nullptr, *h_out = nullptr;
    TRIGNET_CUDA_CHECK(cudaMallocHost(&h_in, in_size * 4));
    TRIGNET_CUDA_CHECK(cudaMallocHost(&h_out, out_size * 4));
    for (std::size_t i = 0; i < in_size; ++i) h_in[i] = 0.5f;
    const float* pin = d_in.data();
    float* pout = d_out.data();
    TRIGNET_CUDA_CHECK(cudaMemcpy(d_in.data(), h_in, in_size * 4, cudaMemcpyHostToDevice));
    const auto plain = latency_us(st, [&] { session.run(pin, pout, 1); });
    auto with_transfers = [&] {
      TRIGNET_CUDA_CHECK(cudaMemcpyAsync(d_in.data(), h_in, in_size * 4, cudaMemcpyHostToDevice, st));
      session.run(pin, pout, 1);
      TRIGNET_CUDA_CHECK(cudaMemcpyAsync(h_out, d_out.data(), out_size * 4, cudaMemcpyDeviceToHost, st));
    };
    const auto transfers = latency_us(st, with_transfers);
    session.capture(pin, pout, 1);
    const auto graph = latency_us(st, [&] { session.launch_captured(); });
    emit("");
    emit("Latency at batch 1 (host clock, call + cudaStreamSynchronize; median / p99 in us): "
         "launch " + fmt("%.1f", plain.first) + " / " + fmt("%.1f", plain.second) +
         "; CUDA graph " + fmt("%.1f", graph.first) + " / " + fmt("%.1f", graph.second) +
         "; with H2D+D2H copies " + fmt("%.1f", transfers.first) + " / " + fmt("%.1f", transfers.second));
    TRIGNET_CUDA_CHECK(cudaFreeHost(h_in));
    TRIGNET_CUDA_CHECK(cudaFreeHost(h_out));
  }
}

/// The fused kernel's launch shape, swept on one model at one large batch:
/// samples per tile x threads per block (the data behind the defaults).
/// The fused kernel's launch shape, swept on one model at one large batch:
/// samples per tile x threads per block (the data behind the defaults). Every
/// shape must give bit-identical outputs (each output is summed in one fixed
/// order whatever the shape); a difference fails the benchmark.
bool sweep_fused(const trignet::ModelSpec& spec, std::size_t batch, double peak) {
  emit("");
  emit("### Fused-kernel shape sweep: " + spec.name + ", batch " + std::to_string(batch) +
       " (device-resident)");
  emit("");
  emit("| max tile | threads/block | configuration | samples/s | GFLOP/s | % of peak | outputs vs default shape |");
  emit("|---:|---:|---|---:|---:|---:|---|");
  const trignet::cuda::Plan plan = trignet::cuda::build_plan(spec);
  const std::size_t in_size = plan.inputs[0].size, out_size = plan.outputs[0].size;
  std::vector<float> x(batch * in_size);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 1000) / 500.0f - 1.0f;
  trignet::cuda::DeviceBuffer<float> d_in = trignet::cuda::upload(x.data(), x.size()), d_out(batch * out_size);
  const float* pin = d_in.data();
  float* pout = d_out.data();
  auto outputs = [&] {
    std::vector<float> y(batch * out_size);
    TRIGNET_CUDA_CHECK(cudaMemcpy(y.data(), pout, y.size() * 4, cudaMemcpyDeviceToHost));
    return y;
  };
  std::vector<float> want;
  {
    trignet::cuda::CompileOptions options;
    options.verify_test_vectors = false;
    trignet::cuda::Session<float> session(trignet::cuda::compile(spec, options));
    session.run(pin, pout, batch);
    session.synchronize();
    want = outputs();
  }
  bool all_same = true;
  for (int tile : {16, 32, 64, 128, 256}) {
    for (int threads : {64, 128, 256, 512}) {
      trignet::cuda::CompileOptions options;
      options.mode = ExecutionMode::fused;
      options.verify_test_vectors = false;
      options.max_tile = tile;
      options.threads_per_block = threads;
      options.shared_memory_budget = 227 * 1024;
      std::shared_ptr<const trignet::cuda::Model<float>> model;
      try {
        model = trignet::cuda::compile(spec, options);
      } catch (const trignet::Error& e) {
        emit("| " + std::to_string(tile) + " | " + std::to_string(threads) + " | refused: " + e.what() + " | | | | |");
        continue;
      }
      trignet::cuda::Session<float> session(model);
      TRIGNET_CUDA_CHECK(cudaMemset(pout, 0xff, batch * out_size * 4));
      const double t = time_per_call(session.stream(), [&] { session.run(pin, pout, batch); });
      session.synchronize();
      const bool same = std::memcmp(outputs().data(), want.data(), want.size() * 4) == 0;
      all_same = all_same && same;
      const double gflops = model->flops_per_sample() * double(batch) / t * 1e-9;
      std::string config = model->describe();
      config = config.substr(config.find(':') + 2);
      emit("| " + std::to_string(tile) + " | " + std::to_string(threads) + " | " + config + " | " +
           fmt("%.3g", batch / t) + " | " + fmt("%.1f", gflops) + " | " + fmt("%.2f", 100.0 * gflops / peak) +
           " | " + (same ? "bit-identical" : "DIFFERENT") + " |");
    }
  }
  return all_same;
}

using JetNet = trignet::cuda::DenseNet<16, 64, 32, 32, 5>;

__global__ void jet_user_kernel(JetNet::View net, const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) JetNet::forward(net, x + JetNet::input_size * i, y + JetNet::output_size * i);
}

void bench_dense_net(const std::string& path, std::size_t max_batch, double peak) {
  trignet::cuda::DeviceDenseNet<JetNet> net(trignet::load_model_spec(path));
  const double flops = trignet::analyse(trignet::load_model_spec(path)).flops_per_sample;
  emit("");
  emit("### Device-callable " + JetNet::type_name() + " (jet tagger), one sample per thread in a user kernel");
  emit("");
  emit("| batch | samples/s | GFLOP/s | % of peak | us/launch |");
  emit("|---:|---:|---:|---:|---:|");
  cudaStream_t st;
  TRIGNET_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  for (std::size_t batch = 1; batch <= max_batch; batch *= 10) {
    trignet::cuda::DeviceBuffer<float> d_in(batch * 16), d_out(batch * 5);
    TRIGNET_CUDA_CHECK(cudaMemset(d_in.data(), 0, batch * 16 * 4));
    const int n = static_cast<int>(batch);
    const double t = time_per_call(st, [&] {
      jet_user_kernel<<<(n + 127) / 128, 128, 0, st>>>(net.view(), d_in.data(), d_out.data(), n);
    });
    const double gflops = flops * double(batch) / t * 1e-9;
    emit("| " + std::to_string(batch) + " | " + fmt("%.3g", batch / t) + " | " + fmt("%.1f", gflops) + " | " +
         fmt("%.2f", 100.0 * gflops / peak) + " | " + fmt("%.1f", t * 1e6) + " |");
  }
  TRIGNET_CUDA_CHECK(cudaStreamDestroy(st));
}

}  // namespace

int main(int argc, char** argv) {
  std::string models_dir = "models", out_path;
  std::size_t max_batch = 1000000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--models" && i + 1 < argc) models_dir = argv[++i];
    else if (a == "--out" && i + 1 < argc) out_path = argv[++i];
    else if (a == "--max-batch" && i + 1 < argc) max_batch = std::stoul(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--models DIR] [--out FILE] [--max-batch N]\n", argv[0]);
      return 2;
    }
  }
  std::string reason;
  if (trignet::cuda::device_count(&reason) == 0) {
    std::printf("SKIPPED: no usable CUDA device (%s)\n", reason.c_str());
    return 77;
  }
  int status = 0;
  try {
    const double peak = fp32_peak_gflops();
    emit("# trignet CUDA benchmark");
    emit("");
    emit("Device: " + trignet::cuda::device_description() + "; FP32 peak (lanes x SMs x 2 x clock) " +
         fmt("%.0f", peak) + " GFLOP/s.");
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(models_dir))
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      try {
        bench_model(trignet::load_model_spec(f), max_batch, peak);
      } catch (const trignet::UnsupportedError& e) {
        emit("- " + f + ": not supported by the CUDA backend: " + e.what());
      }
    }
    bench_model(wide_mlp(), std::min<std::size_t>(max_batch, 100000), peak);
    const std::string jet = models_dir + "/jet_tagger.json";
    if (std::filesystem::exists(jet)) {
      bench_dense_net(jet, max_batch, peak);
      if (!sweep_fused(trignet::load_model_spec(jet), max_batch, peak)) {
        emit("FAILED: launch shapes of the fused kernel gave different outputs");
        status = 1;
      }
    }
  } catch (const std::exception& e) {
    emit(std::string("FAILED: ") + e.what());
    status = 1;
  }
  if (!out_path.empty()) std::ofstream(out_path) << report.str();
  return status;
}
