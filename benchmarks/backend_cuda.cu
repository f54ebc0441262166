// The CUDA backend in trignet-bench (nvcc translation unit; no Eigen here).
//
// Three ways a trigger framework calls trignet::cuda, each timed on the host
// clock from the call until the result is usable (the runner's clock around
// Runner::run), so GPU rows read like the CPU rows next to them:
//   cuda        inputs and outputs already on the device: Session::run, then
//               cudaStreamSynchronize (launch + kernels + synchronisation)
//   cuda-graph  the same call captured once per batch size as a CUDA graph:
//               cudaGraphLaunch + synchronise (one launch, whatever the model)
//   cuda-h2d    inputs copied from pinned host memory, run, outputs copied
//               back, synchronise: what a CPU-resident caller pays
// A model the CUDA backend refuses (a layer it does not run) is listed as not
// measured with the backend's own message. Without a usable device the
// backends say why once and measure nothing.

#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "trignet/cuda/cuda.hpp"

namespace trignet_bench {
namespace {

enum class CudaCall { device_resident, graph, with_transfers };

class PinnedBuffer {
 public:
  explicit PinnedBuffer(std::size_t count) {
    TRIGNET_CUDA_CHECK(cudaMallocHost(&ptr_, (count == 0 ? 1 : count) * sizeof(float)));
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { (void)cudaFreeHost(ptr_); }
  float* data() const { return static_cast<float*>(ptr_); }

 private:
  void* ptr_ = nullptr;
};

class CudaRunner : public Runner {
 public:
  CudaRunner(std::shared_ptr<const trignet::cuda::Model<float>> model, const ModelInfo& info, CudaCall call)
      : session_(std::move(model), nullptr, std::min<std::size_t>(info.max_batch, 65536)), info_(info), call_(call) {
    for (std::size_t i = 0; i < info.input_sizes.size(); ++i) {
      const std::size_t n = info.max_batch * info.input_sizes[i];
      d_in_.push_back(trignet::cuda::upload(info.inputs[i].data(), n));
      in_ptrs_.push_back(d_in_.back().data());
      if (call_ == CudaCall::with_transfers) {
        h_in_.push_back(std::make_unique<PinnedBuffer>(n));
        std::copy(info.inputs[i].begin(), info.inputs[i].begin() + static_cast<std::ptrdiff_t>(n), h_in_.back()->data());
      }
    }
    for (std::size_t o = 0; o < info.output_sizes.size(); ++o) {
      const std::size_t n = info.max_batch * info.output_sizes[o];
      d_out_.emplace_back(n);
      out_ptrs_.push_back(d_out_.back().data());
      if (call_ == CudaCall::with_transfers) h_out_.push_back(std::make_unique<PinnedBuffer>(n));
    }
  }

  void run(std::size_t batch) override {
    const cudaStream_t st = session_.stream();
    switch (call_) {
      case CudaCall::device_resident:
        session_.run(in_ptrs_.data(), out_ptrs_.data(), batch);
        break;
      case CudaCall::graph:
        if (captured_batch_ != batch) {  // captured during the runner's warm-up
          session_.capture(in_ptrs_.data(), out_ptrs_.data(), batch);
          captured_batch_ = batch;
        }
        session_.launch_captured();
        break;
      case CudaCall::with_transfers:
        for (std::size_t i = 0; i < d_in_.size(); ++i)
          TRIGNET_CUDA_CHECK(cudaMemcpyAsync(d_in_[i].data(), h_in_[i]->data(),
                                             batch * info_.input_sizes[i] * sizeof(float),
                                             cudaMemcpyHostToDevice, st));
        session_.run(in_ptrs_.data(), out_ptrs_.data(), batch);
        for (std::size_t o = 0; o < d_out_.size(); ++o)
          TRIGNET_CUDA_CHECK(cudaMemcpyAsync(h_out_[o]->data(), d_out_[o].data(),
                                             batch * info_.output_sizes[o] * sizeof(float),
                                             cudaMemcpyDeviceToHost, st));
        break;
    }
    session_.synchronize();
    last_batch_ = batch;
  }

  std::vector<float> output(std::size_t i) override {
    std::vector<float> y(last_batch_ * info_.output_sizes.at(i));
    TRIGNET_CUDA_CHECK(cudaMemcpy(y.data(), d_out_[i].data(), y.size() * sizeof(float), cudaMemcpyDeviceToHost));
    return y;
  }

 private:
  trignet::cuda::Session<float> session_;
  const ModelInfo& info_;
  CudaCall call_;
  std::vector<trignet::cuda::DeviceBuffer<float>> d_in_, d_out_;
  std::vector<const float*> in_ptrs_;
  std::vector<float*> out_ptrs_;
  std::vector<std::unique_ptr<PinnedBuffer>> h_in_, h_out_;
  std::size_t captured_batch_ = 0, last_batch_ = 0;
};

class CudaBackend : public Backend {
 public:
  using Compiled = std::map<std::string, std::shared_ptr<const trignet::cuda::Model<float>>>;
  CudaBackend(CudaCall call, std::shared_ptr<Compiled> compiled) : call_(call), compiled_(std::move(compiled)) {
    if (trignet::cuda::device_count(&unavailable_) > 0) unavailable_.clear();
    else unavailable_ = "no usable CUDA device (" + unavailable_ + ")";
  }
  std::string name() const override {
    switch (call_) {
      case CudaCall::device_resident: return "cuda";
      case CudaCall::graph: return "cuda-graph";
      case CudaCall::with_transfers: return "cuda-h2d";
    }
    return "cuda";
  }
  bool is_reference() const override { return true; }
  // The GPU sums in another order and uses the device's exp/tanh: the
  // accuracy the GPU tests hold it to (3e-5 + 3e-4 |y|) is compared here too.
  double output_tolerance(double reference_magnitude) const override {
    return 3e-5 + 3e-4 * reference_magnitude;
  }
  std::string unavailable() const override { return unavailable_; }
  std::unique_ptr<Runner> prepare(const ModelInfo& info, std::string& why) override {
    try {
      // One compiled model per file, shared by the three call styles (as a
      // framework shares one Model between streams).
      auto& model = (*compiled_)[info.path];
      if (!model) {
        trignet::cuda::CompileOptions options;
        options.verify_test_vectors = false;  // the runner compares outputs with cpu-graph itself
        model = trignet::cuda::compile(trignet::load_model_spec(info.path), options);
      }
      return std::make_unique<CudaRunner>(model, info, call_);
    } catch (const std::exception& e) {
      why = e.what();
      return nullptr;
    }
  }

 private:
  CudaCall call_;
  std::string unavailable_;
  std::shared_ptr<Compiled> compiled_;
};

}  // namespace

std::vector<std::unique_ptr<Backend>> make_cuda_backends() {
  auto compiled = std::make_shared<CudaBackend::Compiled>();
  std::vector<std::unique_ptr<Backend>> b;
  for (CudaCall call : {CudaCall::device_resident, CudaCall::graph, CudaCall::with_transfers})
    b.push_back(std::make_unique<CudaBackend>(call, compiled));
  return b;
}

}  // namespace trignet_bench
