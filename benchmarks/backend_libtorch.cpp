// libtorch backend of trignet-bench: runs the TorchScript export of a model
// (benchmarks/export_reference.py, same weights as the trignet file) on one
// thread, under InferenceMode. Built only with -DTRIGNET_BENCH_LIBTORCH=ON.

#include "backend.hpp"

#include <filesystem>

#include <ATen/Parallel.h>
#include <torch/script.h>

namespace trignet_bench {
namespace {

class TorchRunner : public Runner {
 public:
  TorchRunner(torch::jit::script::Module module, const ModelInfo& model)
      : module_(std::move(module)), model_(model) {
    for (std::size_t i = 0; i < model.inputs.size(); ++i) {
      std::vector<int64_t> shape{static_cast<int64_t>(model.max_batch)};
      for (std::size_t d : model.input_shapes[i]) shape.push_back(static_cast<int64_t>(d));
      // A view of the runner's prepared inputs: no copy per call.
      full_.push_back(torch::from_blob(const_cast<float*>(model.inputs[i].data()), shape, torch::kFloat32));
    }
  }

  void run(std::size_t batch) override {
    c10::InferenceMode guard;
    if (batch != args_batch_) {  // slicing allocates a tensor header: do it once per batch size
      args_.clear();
      for (auto& t : full_) args_.emplace_back(t.narrow(0, 0, static_cast<int64_t>(batch)));
      args_batch_ = batch;
    }
    last_ = module_.forward(args_);
  }

  std::vector<float> output(std::size_t i) override {
    torch::Tensor t;
    if (last_.isTuple()) t = last_.toTuple()->elements().at(i).toTensor();
    else if (last_.isList()) t = last_.toList().get(i).toTensor();
    else t = last_.toTensor();
    t = t.contiguous().to(torch::kFloat32);
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }

 private:
  torch::jit::script::Module module_;
  const ModelInfo& model_;
  std::vector<torch::Tensor> full_;
  std::vector<torch::jit::IValue> args_;
  std::size_t args_batch_ = 0;
  torch::jit::IValue last_;
};

class TorchBackend : public Backend {
 public:
  explicit TorchBackend(std::string dir) : dir_(std::move(dir)) {
    at::set_num_threads(1);
    at::set_num_interop_threads(1);
  }
  std::string name() const override { return "libtorch"; }
  std::string unavailable() const override {
    if (dir_.empty() || !std::filesystem::is_directory(dir_))
      return "no reference directory (--reference-dir; made by benchmarks/export_reference.py)";
    return {};
  }
  std::unique_ptr<Runner> prepare(const ModelInfo& model, std::string& why) override {
    const std::string file = dir_ + "/" + model.name + ".pt";
    if (!std::filesystem::exists(file)) {
      why = "no TorchScript export (" + file + "); see export_reference.py's log";
      return nullptr;
    }
    try {
      auto m = torch::jit::load(file);
      m.eval();
      return std::make_unique<TorchRunner>(std::move(m), model);
    } catch (const std::exception& e) {
      why = std::string("torch::jit::load failed: ") + e.what();
      return nullptr;
    }
  }

 private:
  std::string dir_;
};

}  // namespace

std::unique_ptr<Backend> make_libtorch_backend(const std::string& reference_dir) {
  return std::make_unique<TorchBackend>(reference_dir);
}

}  // namespace trignet_bench
