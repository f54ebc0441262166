// Backends whose networks are C++ types fixed at compile time (the hand-written
// Eigen baselines, trignet's compile-time networks): each network type is
// registered under the names of the models it implements, and prepare() picks
// the one registered for the model's name. The type's loader then checks that
// the file is exactly that network (a file that differs is reported, not run).
//
// A network type `Net` needs:
//   Net::input_size, Net::output_size           (per sample, one input, one output)
//   void run(const float* in, float* out)          one sample
//   void run_batch(const float* in, float* out, std::size_t batch)
// and is created by a factory `std::unique_ptr<Net>(const ModelInfo&)`.

#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "backend.hpp"

namespace trignet_bench {

/// Runs a compiled network on the prepared inputs: batch 1 through run(),
/// larger batches through run_batch().
template <class Net>
class NetworkRunner : public Runner {
 public:
  NetworkRunner(std::unique_ptr<Net> net, const ModelInfo& info)
      : net_(std::move(net)), info_(info), out_(info.max_batch * static_cast<std::size_t>(Net::output_size)) {}
  void run(std::size_t batch) override {
    last_batch_ = batch;
    const float* in = info_.inputs[0].data();
    if (batch == 1)
      net_->run(in, out_.data());
    else
      net_->run_batch(in, out_.data(), batch);
  }
  std::vector<float> output(std::size_t) override {
    return std::vector<float>(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(last_batch_ * Net::output_size));
  }

 private:
  std::unique_ptr<Net> net_;
  const ModelInfo& info_;
  std::vector<float> out_;
  std::size_t last_batch_ = 0;
};

class NetworkRegistryBackend : public Backend {
 public:
  using Factory = std::function<std::unique_ptr<Runner>(const ModelInfo&)>;

  NetworkRegistryBackend(std::string name, bool trignet) : name_(std::move(name)), trignet_(trignet) {}
  std::string name() const override { return name_; }
  bool is_reference() const override { return trignet_; }

  /// Registers `Net` for each model name; `make` builds it from the model file.
  template <class Net>
  void add(const std::vector<std::string>& models, std::string type,
           std::function<std::unique_ptr<Net>(const ModelInfo&)> make) {
    for (const auto& m : models) {
      types_[m] = type;
      factories_[m] = [make, m](const ModelInfo& info) -> std::unique_ptr<Runner> {
        if (info.input_sizes != std::vector<std::size_t>{static_cast<std::size_t>(Net::input_size)} ||
            info.output_sizes != std::vector<std::size_t>{static_cast<std::size_t>(Net::output_size)})
          throw std::runtime_error("the network registered for " + m + " has other input/output sizes");
        return std::make_unique<NetworkRunner<Net>>(make(info), info);
      };
    }
  }

  std::unique_ptr<Runner> prepare(const ModelInfo& info, std::string& why) override {
    const auto it = factories_.find(info.name);
    if (it == factories_.end()) {
      why.clear();  // not one of ours: covers() says which are
      return nullptr;
    }
    try {
      return it->second(info);
    } catch (const std::exception& e) {
      why = e.what();
      return nullptr;
    }
  }

  /// "model (type), ...": what is compiled in.
  std::string covers() const override {
    std::string s;
    for (const auto& [model, type] : types_) s += (s.empty() ? "" : ", ") + model + " (" + type + ")";
    return s.empty() ? "no model" : s;
  }
  const std::map<std::string, std::string>& types() const { return types_; }

 private:
  std::string name_;
  bool trignet_;
  std::map<std::string, Factory> factories_;
  std::map<std::string, std::string> types_;
};

/// The hand-written fixed-size Eigen baselines (eigen_baselines.cpp).
std::unique_ptr<Backend> make_eigen_fixed_backend();
/// trignet's compile-time networks (static_backends.cpp).
std::unique_ptr<Backend> make_static_backend();
/// The instruction set of trignet's SIMD kernels in this build (as the
/// library reports it), or "" without compile-time networks.
std::string static_kernel_isa();

}  // namespace trignet_bench
