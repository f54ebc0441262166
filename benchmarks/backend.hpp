// The benchmark runner's backend interface (trignet-bench, docs/benchmarks.md).
//
// A Backend turns a model file into a Runner that evaluates a batch of
// prepared inputs; the runner times Runner::run only. To add a backend (the
// compile-time network, CUDA, another runtime): implement both classes in a
// file of its own and add a line to make_backends() in bench.cpp (guarded by
// the macro its CMake target defines). A backend that cannot run a model
// returns no runner and says why; the runner prints that instead of failing.

#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace trignet_bench {

/// One model as the runner sees it: the file, its name and I/O sizes (per
/// sample, from the trignet file), and raw inputs for `max_batch` samples
/// (uniform in [-1, 1], the same for every backend).
struct ModelInfo {
  std::string path;
  std::string name;
  std::vector<std::size_t> input_sizes, output_sizes;
  std::size_t parameters = 0;  // weights and biases (float32 each)
  std::vector<std::vector<std::size_t>> input_shapes;  // per-sample shapes
  double flops_per_sample = 0;
  std::size_t max_batch = 1;
  std::vector<std::vector<float>> inputs;  // inputs[i]: max_batch * input_sizes[i] values
};

class Runner {
 public:
  virtual ~Runner() = default;
  /// Evaluates the first `batch` samples of the prepared inputs.
  virtual void run(std::size_t batch) = 0;
  /// Output `i` of the last run (batch * output_sizes[i] values), copied;
  /// used once per model to check that every backend computes the same thing.
  virtual std::vector<float> output(std::size_t i) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  /// Short name used in tables, budgets and JSON: "cpu-graph", "libtorch", "cuda", ...
  virtual std::string name() const = 0;
  /// Whether this backend is trignet itself (budgets apply) or a comparison.
  virtual bool is_reference() const { return false; }
  /// Largest |output - cpu-graph output| accepted for a reference output of
  /// magnitude `reference_magnitude`; negative: the runner's default (1e-5 for
  /// trignet's CPU backends and the Eigen baseline, 1e-4 for other runtimes).
  virtual double output_tolerance(double /*reference_magnitude*/) const { return -1; }
  /// Empty when usable; otherwise why not (printed once, never an error).
  virtual std::string unavailable() const { return {}; }
  /// The models this backend can run, for backends that only run some
  /// (printed once; prepare() on any other model returns null with `why`
  /// empty, which the runner does not list); empty: any model.
  virtual std::string covers() const { return {}; }
  /// A runner for `model` with buffers for model.max_batch samples, or null
  /// with `why` set (e.g. "no TorchScript export of this model"; empty: a
  /// model outside covers(), not reported).
  virtual std::unique_ptr<Runner> prepare(const ModelInfo& model, std::string& why) = 0;
};

/// A backend that is not built in this configuration: listed, with the reason.
class MissingBackend : public Backend {
 public:
  MissingBackend(std::string name, std::string why) : name_(std::move(name)), why_(std::move(why)) {}
  std::string name() const override { return name_; }
  std::string unavailable() const override { return why_; }
  std::unique_ptr<Runner> prepare(const ModelInfo&, std::string& why) override {
    why = why_;
    return nullptr;
  }

 private:
  std::string name_, why_;
};

/// libtorch (TorchScript files `<reference_dir>/<model name>.pt`, written by
/// benchmarks/export_reference.py); defined in backend_libtorch.cpp when the
/// build has TRIGNET_BENCH_LIBTORCH, otherwise a MissingBackend.
std::unique_ptr<Backend> make_libtorch_backend(const std::string& reference_dir);

/// trignet::cuda as "cuda" (device-resident buffers), "cuda-graph" (one CUDA
/// graph launch per call) and "cuda-h2d" (pinned host buffers, copies
/// included); defined in backend_cuda.cu when the build has TRIGNET_BENCH_CUDA.
std::vector<std::unique_ptr<Backend>> make_cuda_backends();

}  // namespace trignet_bench
