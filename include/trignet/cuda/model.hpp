#pragma once
// The batched CUDA backend: trignet::cuda::Model<float> (a ModelSpec compiled
// for the GPU: weights uploaded once, immutable, shared by every stream) and
// trignet::cuda::Session<float> (one stream's workspace: run() is
// asynchronous on the stream, with the caller's device buffers, and allocates
// nothing after set-up; run_host() is the synchronous convenience wrapper;
// capture()/launch_captured() replay one fixed batch as a CUDA graph).
//
// Two executors, chosen per model when it is compiled:
//  - fused: one kernel for the whole network. Each block copies the ops and
//    (when they fit) the weights into shared memory once, then loops over
//    tiles of samples; activations live in a shared-memory arena per sample,
//    never in global memory between layers.
//  - layered: one launch per op over a global-memory arena; Dense is a cuBLAS
//    SGEMM followed by a fused bias + activation epilogue kernel.
// Both call the same __host__ __device__ eval_item (ops.hpp) as the host tests.
//
// This header holds kernels: include it from a .cu file compiled by nvcc.
// It does not include Eigen; load the ModelSpec with trignet/format/load_spec.hpp
// (nlohmann only, compiles under nvcc) or in any .cpp file and pass it here.

#if !defined(__CUDACC__)
#error "trignet/cuda/model.hpp contains CUDA kernels: include it from a .cu file compiled by nvcc"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "trignet/cuda/ops.hpp"
#include "trignet/cuda/plan.hpp"
#include "trignet/cuda/runtime.hpp"
#include "trignet/error.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/span.hpp"

namespace trignet::cuda {

struct CompileOptions {
  ExecutionMode mode = ExecutionMode::automatic;
  /// Shared memory per block the fused kernel may use (capped by the device).
  std::size_t shared_memory_budget = 100 * 1024;
  int threads_per_block = 256;
  /// Largest number of samples a fused block holds at once (rounded down to a
  /// power of two; smaller when shared memory is short, and per call when the
  /// batch is too small to give every SM a block). 128 measured best for the
  /// jet tagger on an H200 (docs/gpu-results.md).
  int max_tile = 128;
  /// Automatic mode, models too large to hold their weights in shared memory
  /// (run layered): run small batches (up to 1e8 FLOP per call) through the
  /// fused kernel with weights in global memory, one launch instead of one
  /// per op. Outputs then depend on the batch size in the last bits (another
  /// summation order than cuBLAS).
  bool small_batch_fused = true;
  /// Re-run the file's embedded test vectors on the GPU at compile time and
  /// throw VerificationError if they do not reproduce.
  bool verify_test_vectors = true;
};

namespace detail {

inline void check_cublas(cublasStatus_t status, const char* what, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string("trignet: cuBLAS error in ") + what + " (" + file + ":" +
                    std::to_string(line) + "): " + cublasGetStatusString(status));
}

}  // namespace detail

#define TRIGNET_CUBLAS_CHECK(expr) \
  ::trignet::cuda::detail::check_cublas((expr), #expr, __FILE__, __LINE__)

namespace kernels {

/// The caller's buffers: model input/output i, `size` floats per sample.
struct Io {
  const float* in[max_io];
  float* out[max_io];
  int in_size[max_io];
  int out_size[max_io];
};

__device__ __forceinline__ void resolve(const Op& op, float* arena_s, const Io& io,
                                        long long sample, const float** in, float** out) {
  for (int k = 0; k < op.n_in; ++k) {
    const int r = op.in[k];
    in[k] = r >= 0 ? arena_s + r : io.in[-1 - r] + sample * io.in_size[-1 - r];
  }
  *out = op.out >= 0 ? arena_s + op.out : io.out[-1 - op.out] + sample * io.out_size[-1 - op.out];
}

/// Work items of fused_dense() for ns samples.
__device__ __forceinline__ int dense_block_count(const Op& op, int ns) {
  const int pairs = ns * (op.items / op.units);
  return (pairs + dense_block_rows - 1) / dense_block_rows * ((op.units + dense_block_units - 1) / dense_block_units);
}

/// Dense over the tile's ns samples: groups of dense_block_rows (sample, row)
/// pairs x unit lanes, consecutive threads on consecutive units of one group
/// (coalesced weight loads, broadcast input loads).
__device__ __forceinline__ void fused_dense(const Op& op, const float* P, float* s_arena, int arena,
                                            const Io& io, long long s0, int ns) {
  const int rows = op.items / op.units;
  const int n_in = op.in_features, units = op.units;
  const int lanes = (units + dense_block_units - 1) / dense_block_units;
  const int pairs = ns * rows;
  const int groups = (pairs + dense_block_rows - 1) / dense_block_rows;
  for (int idx = threadIdx.x; idx < groups * lanes; idx += blockDim.x) {
    const int g = idx / lanes;
    const int u0 = idx - g * lanes;
    const int first = g * dense_block_rows;
    const int n = min(dense_block_rows, pairs - first);
    const float* x[dense_block_rows];
    float* y[dense_block_rows];
    for (int r = 0; r < dense_block_rows; ++r) {
      if (r >= n) break;
      const int s = (first + r) / rows;
      const int row = first + r - s * rows;
      const float* in[max_op_inputs];
      float* out;
      resolve(op, s_arena + s * arena, io, s0 + s, in, &out);
      x[r] = in[0] + row * n_in;
      y[r] = out + row * units;
    }
    dense_block(op, P, x, y, n, u0, lanes);
  }
}

/// The whole network in one kernel. Shared memory: ops, [weights], tile arena.
/// ops_words and param_floats are multiples of 4 (plan.hpp), so the copies
/// move 16 bytes per load, four loads in flight per thread.
template <bool SharedWeights>
__global__ void fused(const Op* __restrict__ ops, int n_ops, int ops_words,
                      const float* __restrict__ params, int param_floats,
                      const int* __restrict__ indices, int arena, int tile, Io io,
                      long long batch) {
  extern __shared__ float4 smem4[];
  float* smem = reinterpret_cast<float*>(smem4);
  {
    const float4* src = reinterpret_cast<const float4*>(ops);
    for (int i = threadIdx.x; i < ops_words / 4; i += blockDim.x) smem4[i] = src[i];
  }
  const Op* s_ops = reinterpret_cast<const Op*>(smem);
  const float* P = params;
  float* s_arena = smem + ops_words;
  if (SharedWeights) {
    float4* dst = smem4 + ops_words / 4;
    const float4* src = reinterpret_cast<const float4*>(params);
    const int n4 = param_floats / 4, step = blockDim.x;
    int i = threadIdx.x;
    for (; i + 3 * step < n4; i += 4 * step) {
      const float4 a = __ldg(src + i), b = __ldg(src + i + step), c = __ldg(src + i + 2 * step),
                   d = __ldg(src + i + 3 * step);
      dst[i] = a;
      dst[i + step] = b;
      dst[i + 2 * step] = c;
      dst[i + 3 * step] = d;
    }
    for (; i < n4; i += step) dst[i] = __ldg(src + i);
    P = smem + ops_words;
    s_arena = smem + ops_words + param_floats;
  }
  __syncthreads();
  const long long n_tiles = (batch + tile - 1) / tile;
  for (long long t = blockIdx.x; t < n_tiles; t += gridDim.x) {
    const long long s0 = t * tile;
    const int ns = static_cast<int>(min(static_cast<long long>(tile), batch - s0));
    for (int k = 0; k < n_ops; ++k) {
      const Op& op = s_ops[k];
      // Blocks when they keep every thread busy; otherwise (small tiles, e.g.
      // batch 1) one output per thread gives more parallelism. Both give the
      // same bits (dense_block sums as eval_item does).
      if (op.kind == OpKind::dense && dense_block_count(op, ns) >= static_cast<int>(blockDim.x)) {
        fused_dense(op, P, s_arena, arena, io, s0, ns);
      } else {
        const int total = ns * op.items;
        for (int idx = threadIdx.x; idx < total; idx += blockDim.x) {
          const int s = idx / op.items;
          const int item = idx - s * op.items;
          const float* in[max_op_inputs];
          float* out;
          resolve(op, s_arena + s * arena, io, s0 + s, in, &out);
          eval_item(op, P, indices, in, out, item);
        }
      }
      __syncthreads();
    }
  }
}

/// One op over `ns` samples (global sample s0 + s) of a global-memory arena.
__global__ void layered_op(Op op, const float* __restrict__ params,
                           const int* __restrict__ indices, float* arena_base, int arena, Io io,
                           long long s0, long long ns) {
  const long long total = ns * op.items;
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long s = idx / op.items;
    const int item = static_cast<int>(idx - s * op.items);
    const float* in[max_op_inputs];
    float* out;
    resolve(op, arena_base + s * arena, io, s0 + s, in, &out);
    eval_item(op, params, indices, in, out, item);
  }
}

}  // namespace kernels

template <typename T = float>
class Session;

template <typename T = float>
class Model {
  static_assert(std::is_same<T, float>::value,
                "trignet::cuda::Model runs in float only (double and fixed point run on the CPU)");

 public:
  using scalar_type = T;

  /// Validates and compiles `spec` for the current CUDA device and uploads the
  /// weights. Throws FormatError (bad spec), UnsupportedError (a node the CUDA
  /// backend cannot run, named), CudaError (no device, out of memory),
  /// VerificationError (embedded test vectors do not reproduce on the GPU).
  explicit Model(const ModelSpec& spec, const CompileOptions& options = {})
      : plan_(build_plan(spec)), options_(options) {
    source_ = spec.source;
    TRIGNET_CUDA_CHECK(cudaGetDevice(&device_));
    cudaDeviceProp prop{};
    TRIGNET_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    sm_count_ = prop.multiProcessorCount;
    const std::size_t optin = prop.sharedMemPerBlockOptin;
    const std::size_t budget = std::min(options.shared_memory_budget, optin);
    if (options.threads_per_block < 32 || options.threads_per_block > 1024 ||
        options.threads_per_block % 32 != 0)
      throw RunError("trignet: CompileOptions::threads_per_block must be a multiple of 32 in [32, 1024]");

    mode_ = options.mode;
    if (mode_ != ExecutionMode::layered) {
      fused_ = choose_fused(plan_, budget, mode_ == ExecutionMode::automatic, options.max_tile);
      if (fused_.possible) {
        mode_ = ExecutionMode::fused;
      } else if (mode_ == ExecutionMode::fused) {
        throw UnsupportedError("trignet: " + source_ + ": model '" + plan_.name +
                               "' cannot run fused: a tile of its activations (" +
                               std::to_string(plan_.arena) + " floats per sample) does not fit in " +
                               std::to_string(budget) + " bytes of shared memory; use layered mode");
      } else {
        mode_ = ExecutionMode::layered;
        // Small batches still take one launch: measured on an H200, the fused
        // kernel reading weights from global memory beats the per-op launches
        // of the layered path up to ~1e8 FLOP per call for networks up to
        // ~0.3 MFLOP per sample (docs/gpu-results.md); wider networks (a
        // single block per tile is then too slow) stay layered at any batch.
        if (options.small_batch_fused && plan_.flops_per_sample <= small_batch_max_flops_per_sample) {
          const FusedConfig small = choose_fused(plan_, budget, false, options.max_tile);
          if (small.possible) {
            fused_ = small;
            small_batch_limit_ = std::max<long long>(
                1, static_cast<long long>(small_batch_call_flops / std::max(1.0, plan_.flops_per_sample)));
          }
        }
      }
    }
    {
      // One spare op: the fused kernel copies whole float4s (ops_shared_floats
      // rounds up by at most 12 bytes, less than one Op).
      std::vector<Op> ops = plan_.ops;
      ops.emplace_back();
      ops_ = upload(ops.data(), ops.size());
    }
    params_ = upload(plan_.params.data(), plan_.params.size());
    indices_ = upload(plan_.indices.data(), plan_.indices.size());
    if (mode_ == ExecutionMode::fused || small_batch_limit_ > 0) {
      const void* kernel = fused_.weights_in_shared
                               ? reinterpret_cast<const void*>(&kernels::fused<true>)
                               : reinterpret_cast<const void*>(&kernels::fused<false>);
      TRIGNET_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                              static_cast<int>(fused_.shared_bytes)));
      int per_sm = 0;
      TRIGNET_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
          &per_sm, kernel, options.threads_per_block, fused_.shared_bytes));
      if (per_sm < 1)
        throw UnsupportedError("trignet: " + source_ + ": the fused kernel cannot be resident with " +
                               std::to_string(fused_.shared_bytes) + " bytes of shared memory");
      max_grid_ = per_sm * sm_count_;
    }
    if (options.verify_test_vectors) verify(spec);
  }

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const Plan& plan() const { return plan_; }
  const std::string& name() const { return plan_.name; }
  const std::vector<PlanTensor>& inputs() const { return plan_.inputs; }
  const std::vector<PlanTensor>& outputs() const { return plan_.outputs; }
  double flops_per_sample() const { return plan_.flops_per_sample; }
  /// fused or layered (never automatic).
  ExecutionMode mode() const { return mode_; }
  const FusedConfig& fused_config() const { return fused_; }
  /// Layered models: batches up to this size run through the fused kernel
  /// instead (0: never; CompileOptions::small_batch_fused).
  long long small_batch_limit() const { return small_batch_limit_; }
  /// The device the weights live on (the current device at construction).
  int device() const { return device_; }
  const CompileOptions& options() const { return options_; }

  /// One line for logs: "jet_tagger: fused, up to 128 samples per tile, weights in shared memory, ...".
  std::string describe() const {
    std::string s = plan_.name + ": " + mode_name(mode_);
    if (mode_ == ExecutionMode::fused)
      s += ", up to " + std::to_string(fused_.tile) + " samples per tile, weights in " +
           (fused_.weights_in_shared ? "shared memory" : "global memory (read-only cache)") +
           ", " + std::to_string(fused_.shared_bytes) + " bytes of shared memory per block";
    else
      s += ", cuBLAS SGEMM + bias/activation epilogue, " + std::to_string(plan_.arena) +
           " floats of workspace per sample" +
           (small_batch_limit_ > 0 ? "; batches up to " + std::to_string(small_batch_limit_) +
                                         " fused (up to " + std::to_string(fused_.tile) +
                                         " samples per tile, weights in global memory)"
                                   : std::string());
    return s;
  }

 private:
  friend class Session<T>;

  void verify(const ModelSpec& spec);

  Plan plan_;
  CompileOptions options_;
  std::string source_;
  ExecutionMode mode_ = ExecutionMode::automatic;
  static constexpr double small_batch_max_flops_per_sample = 4e5;
  static constexpr double small_batch_call_flops = 1e8;

  FusedConfig fused_;
  long long small_batch_limit_ = 0;
  int device_ = 0;
  int sm_count_ = 1;
  int max_grid_ = 1;
  DeviceBuffer<Op> ops_;
  DeviceBuffer<float> params_;
  DeviceBuffer<int> indices_;
};

/// Compiles a spec for the GPU; the result is shared by every Session.
template <typename T = float>
std::shared_ptr<const Model<T>> compile(const ModelSpec& spec, const CompileOptions& options = {}) {
  return std::make_shared<const Model<T>>(spec, options);
}

/// One stream's workspace for a shared Model. Not thread-safe itself: one
/// Session per stream (per thread). After construction (and the first
/// run_host of a given batch size), run() and launch_captured() allocate nothing.
template <typename T>
class Session {
 public:
  /// `stream`: the caller's stream (the session never synchronises it in run());
  /// nullptr makes the session create and own a non-blocking stream.
  /// `max_batch`: samples per layered pass (its workspace); larger batches run
  /// in chunks. Fused models need no workspace.
  explicit Session(std::shared_ptr<const Model<T>> model, cudaStream_t stream = nullptr,
                   std::size_t max_batch = 65536)
      : model_(std::move(model)), stream_(stream) {
    if (!model_) throw RunError("trignet: cuda::Session needs a model, got a null pointer");
    if (max_batch == 0) throw RunError("trignet: cuda::Session max_batch must be at least 1");
    int dev = 0;
    TRIGNET_CUDA_CHECK(cudaGetDevice(&dev));
    if (dev != model_->device_)
      throw RunError("trignet: cuda::Session on device " + std::to_string(dev) +
                     " for a model compiled on device " + std::to_string(model_->device_));
    if (!stream_) {
      TRIGNET_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
      own_stream_ = true;
    }
    if (model_->mode_ == ExecutionMode::layered) {
      capacity_ = max_batch;
      workspace_.resize(capacity_ * static_cast<std::size_t>(model_->plan_.arena));
      TRIGNET_CUBLAS_CHECK(cublasCreate(&cublas_));
      TRIGNET_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
      // A fixed cuBLAS workspace: no allocation inside run() or a graph capture.
      cublas_workspace_.resize(cublas_workspace_bytes);
      TRIGNET_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.data(), cublas_workspace_bytes));
      TRIGNET_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));  // FP32, no TF32
    }
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ~Session() {
    release_graph();
    if (cublas_) (void)cublasDestroy(cublas_);
    if (own_stream_) (void)cudaStreamDestroy(stream_);
  }

  const Model<T>& model() const { return *model_; }
  cudaStream_t stream() const { return stream_; }

  /// Asynchronous: enqueues `batch` samples on the stream. d_inputs[i] and
  /// d_outputs[o] are device pointers, batch x size floats, one per model
  /// input/output. Returns before the GPU is done; synchronise the stream (or
  /// record an event) before reading the outputs.
  void run(const T* const* d_inputs, T* const* d_outputs, std::size_t batch) {
    if (batch == 0) throw RunError("trignet: batch size must be at least 1");
    if (!d_inputs || !d_outputs) throw RunError("trignet: cuda::Session::run: null pointer array");
    const Plan& plan = model_->plan_;
    kernels::Io io{};
    for (std::size_t i = 0; i < plan.inputs.size(); ++i) {
      if (!d_inputs[i]) throw RunError("trignet: input '" + plan.inputs[i].name + "': null device pointer");
      io.in[i] = d_inputs[i];
      io.in_size[i] = static_cast<int>(plan.inputs[i].size);
    }
    for (std::size_t o = 0; o < plan.outputs.size(); ++o) {
      if (!d_outputs[o]) throw RunError("trignet: output '" + plan.outputs[o].name + "': null device pointer");
      io.out[o] = d_outputs[o];
      io.out_size[o] = static_cast<int>(plan.outputs[o].size);
    }
    if (model_->mode_ == ExecutionMode::fused || static_cast<long long>(batch) <= model_->small_batch_limit_)
      run_fused(io, static_cast<long long>(batch));
    else
      for (std::size_t s0 = 0; s0 < batch; s0 += capacity_)
        run_layered(io, static_cast<long long>(s0), static_cast<long long>(std::min(capacity_, batch - s0)));
  }

  /// Single-input, single-output models.
  void run(const T* d_input, T* d_output, std::size_t batch) {
    check_single();
    run(&d_input, &d_output, batch);
  }

  /// Synchronous convenience: host buffers in and out (batch x size floats
  /// each), copies through device buffers the session keeps (they grow on the
  /// first call of a larger batch), waits for the result.
  void run_host(Span<const Span<const T>> inputs, Span<const Span<T>> outputs, std::size_t batch) {
    const Plan& plan = model_->plan_;
    if (inputs.size() != plan.inputs.size() || outputs.size() != plan.outputs.size())
      throw RunError("trignet: model '" + plan.name + "' has " + std::to_string(plan.inputs.size()) +
                     " inputs and " + std::to_string(plan.outputs.size()) + " outputs, found " +
                     std::to_string(inputs.size()) + " and " + std::to_string(outputs.size()) + " buffers");
    if (batch == 0) throw RunError("trignet: batch size must be at least 1");
    host_in_.resize(plan.inputs.size());
    host_out_.resize(plan.outputs.size());
    in_ptrs_.resize(plan.inputs.size());
    out_ptrs_.resize(plan.outputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const std::size_t n = batch * plan.inputs[i].size;
      if (inputs[i].size() != n)
        throw RunError("trignet: input '" + plan.inputs[i].name + "': expected " + std::to_string(n) +
                       " values (batch " + std::to_string(batch) + " x shape " +
                       to_string(plan.inputs[i].shape) + "), found " + std::to_string(inputs[i].size()));
      host_in_[i].resize(n);
      TRIGNET_CUDA_CHECK(cudaMemcpyAsync(host_in_[i].data(), inputs[i].data(), n * sizeof(T),
                                         cudaMemcpyHostToDevice, stream_));
      in_ptrs_[i] = host_in_[i].data();
    }
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      const std::size_t n = batch * plan.outputs[o].size;
      if (outputs[o].size() != n)
        throw RunError("trignet: output '" + plan.outputs[o].name + "': expected a buffer of " +
                       std::to_string(n) + " values (batch " + std::to_string(batch) + " x shape " +
                       to_string(plan.outputs[o].shape) + "), found " + std::to_string(outputs[o].size()));
      host_out_[o].resize(n);
      out_ptrs_[o] = host_out_[o].data();
    }
    run(in_ptrs_.data(), out_ptrs_.data(), batch);
    for (std::size_t o = 0; o < outputs.size(); ++o)
      TRIGNET_CUDA_CHECK(cudaMemcpyAsync(outputs[o].data(), host_out_[o].data(),
                                         outputs[o].size() * sizeof(T), cudaMemcpyDeviceToHost, stream_));
    synchronize();
  }

  /// Single-input, single-output models: returns the outputs (allocates the result).
  std::vector<T> run_host(const std::vector<T>& input) {
    check_single();
    const std::size_t size = model_->plan_.inputs[0].size;
    if (input.empty() || input.size() % size != 0)
      throw RunError("trignet: input '" + model_->plan_.inputs[0].name + "': expected a multiple of " +
                     std::to_string(size) + " values, found " + std::to_string(input.size()));
    const std::size_t batch = input.size() / size;
    std::vector<T> out(batch * model_->plan_.outputs[0].size);
    const Span<const T> in_span(input.data(), input.size());
    const Span<T> out_span(out.data(), out.size());
    run_host(Span<const Span<const T>>(&in_span, 1), Span<const Span<T>>(&out_span, 1), batch);
    return out;
  }

  /// Records run(d_inputs, d_outputs, batch) as a CUDA graph (same pointers,
  /// same batch at every replay). The session's stream must be capturable
  /// (not the legacy default stream).
  void capture(const T* const* d_inputs, T* const* d_outputs, std::size_t batch) {
    release_graph();
    TRIGNET_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
      run(d_inputs, d_outputs, batch);
    } catch (...) {
      cudaGraph_t g = nullptr;
      (void)cudaStreamEndCapture(stream_, &g);
      if (g) (void)cudaGraphDestroy(g);
      throw;
    }
    TRIGNET_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph_));
    TRIGNET_CUDA_CHECK(cudaGraphInstantiate(&graph_exec_, graph_, 0));
  }
  void capture(const T* d_input, T* d_output, std::size_t batch) {
    check_single();
    capture(&d_input, &d_output, batch);
  }

  /// Replays the captured graph on the stream (asynchronous, one launch).
  void launch_captured() {
    if (!graph_exec_) throw RunError("trignet: cuda::Session::launch_captured: nothing captured");
    TRIGNET_CUDA_CHECK(cudaGraphLaunch(graph_exec_, stream_));
  }
  bool has_captured() const { return graph_exec_ != nullptr; }

  void synchronize() { TRIGNET_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  static constexpr std::size_t cublas_workspace_bytes = 32u << 20;

  void check_single() const {
    if (model_->plan_.inputs.size() != 1 || model_->plan_.outputs.size() != 1)
      throw RunError("trignet: model '" + model_->plan_.name + "' has " +
                     std::to_string(model_->plan_.inputs.size()) + " inputs and " +
                     std::to_string(model_->plan_.outputs.size()) +
                     " outputs; call run with one pointer per input and output");
  }

  void run_fused(const kernels::Io& io, long long batch) {
    const Model<T>& m = *model_;
    const FusedConfig& c = m.fused_;
    // Smaller tiles than the configured one (shared memory is sized for it)
    // while the batch would not give every SM a block: medium batches spread
    // over the GPU instead of queueing on a few SMs.
    long long tile = c.tile;
    while (tile > 1 && (batch + tile - 1) / tile < m.sm_count_) tile /= 2;
    const long long tiles = (batch + tile - 1) / tile;
    const int grid = static_cast<int>(std::min<long long>(tiles, m.max_grid_));
    const int ops_words = static_cast<int>(c.ops_floats);
    if (c.weights_in_shared)
      kernels::fused<true><<<grid, m.options_.threads_per_block, c.shared_bytes, stream_>>>(
          m.ops_.data(), static_cast<int>(m.plan_.ops.size()), ops_words, m.params_.data(),
          static_cast<int>(c.param_floats), m.indices_.data(), m.plan_.arena, static_cast<int>(tile), io, batch);
    else
      kernels::fused<false><<<grid, m.options_.threads_per_block, c.shared_bytes, stream_>>>(
          m.ops_.data(), static_cast<int>(m.plan_.ops.size()), ops_words, m.params_.data(), 0,
          m.indices_.data(), m.plan_.arena, static_cast<int>(tile), io, batch);
    TRIGNET_CUDA_CHECK(cudaGetLastError());
  }

  void launch_op(const Op& op, const kernels::Io& io, long long s0, long long ns) {
    const Model<T>& m = *model_;
    const long long total = ns * op.items;
    const int threads = 256;
    const long long blocks = std::min<long long>((total + threads - 1) / threads,
                                                 static_cast<long long>(m.sm_count_) * 32);
    kernels::layered_op<<<static_cast<int>(std::max<long long>(blocks, 1)), threads, 0, stream_>>>(
        op, m.params_.data(), m.indices_.data(), workspace_.data(), m.plan_.arena, io, s0, ns);
    TRIGNET_CUDA_CHECK(cudaGetLastError());
  }

  void run_layered(const kernels::Io& io, long long s0, long long ns) {
    const Model<T>& m = *model_;
    const int A = m.plan_.arena;
    const float one = 1.0f, zero = 0.0f;
    for (const Op& op : m.plan_.ops) {
      if (op.kind != OpKind::dense) {
        launch_op(op, io, s0, ns);
        continue;
      }
      const float* W = m.params_.data() + op.p0;
      const float* x = workspace_.data() + op.in[0];
      float* y = workspace_.data() + op.out;
      const int rows = op.items / op.units;
      // Column-major view: Y (units x n) = W (units x in, the file's [in, units]
      // row-major kernel) * X (in x n), samples strided by the arena.
      if (rows == 1)
        TRIGNET_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, op.units, static_cast<int>(ns),
                                         op.in_features, &one, W, op.units, x, A, &zero, y, A));
      else
        TRIGNET_CUBLAS_CHECK(cublasSgemmStridedBatched(
            cublas_, CUBLAS_OP_N, CUBLAS_OP_N, op.units, rows, op.in_features, &one, W, op.units, 0,
            x, op.in_features, A, &zero, y, op.units, A, static_cast<int>(ns)));
      Op epilogue = op;
      epilogue.kind = OpKind::bias_act;
      epilogue.n_in = 0;
      launch_op(epilogue, io, s0, ns);
    }
  }

  void release_graph() {
    if (graph_exec_) (void)cudaGraphExecDestroy(graph_exec_);
    if (graph_) (void)cudaGraphDestroy(graph_);
    graph_exec_ = nullptr;
    graph_ = nullptr;
  }

  std::shared_ptr<const Model<T>> model_;
  cudaStream_t stream_ = nullptr;
  bool own_stream_ = false;
  std::size_t capacity_ = 0;
  DeviceBuffer<float> workspace_;
  DeviceBuffer<char> cublas_workspace_;
  cublasHandle_t cublas_ = nullptr;
  std::vector<DeviceBuffer<T>> host_in_, host_out_;  // device staging for run_host
  std::vector<const T*> in_ptrs_;
  std::vector<T*> out_ptrs_;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t graph_exec_ = nullptr;
};

template <typename T>
void Model<T>::verify(const ModelSpec& spec) {
  if (spec.test_vectors.empty()) return;
  std::shared_ptr<const Model<T>> self(this, [](const Model<T>*) {});  // non-owning
  Session<T> session(self);
  std::string failures;
  for (std::size_t t = 0; t < spec.test_vectors.size(); ++t) {
    const TestVector& tv = spec.test_vectors[t];
    std::vector<std::vector<T>> in(tv.inputs.size()), out(plan_.outputs.size());
    std::vector<Span<const T>> in_spans;
    std::vector<Span<T>> out_spans;
    for (std::size_t i = 0; i < tv.inputs.size(); ++i) {
      in[i].assign(tv.inputs[i].begin(), tv.inputs[i].end());
      in_spans.emplace_back(in[i].data(), in[i].size());
    }
    for (std::size_t o = 0; o < out.size(); ++o) {
      out[o].resize(tv.batch * plan_.outputs[o].size);
      out_spans.emplace_back(out[o].data(), out[o].size());
    }
    session.run_host(Span<const Span<const T>>(in_spans.data(), in_spans.size()),
                     Span<const Span<T>>(out_spans.data(), out_spans.size()), tv.batch);
    for (std::size_t o = 0; o < out.size() && o < tv.outputs.size(); ++o)
      for (std::size_t e = 0; e < out[o].size(); ++e) {
        const double want = tv.outputs[o][e], got = out[o][e];
        const bool ok = std::isnan(want) ? std::isnan(got)
                                         : std::fabs(got - want) <= tv.abs_tolerance + tv.rel_tolerance * std::fabs(want);
        if (!ok && failures.size() < 2000)
          failures += "  test_vectors[" + std::to_string(t) + "] output '" + plan_.outputs[o].name +
                      "' element " + std::to_string(e) + ": expected " + std::to_string(want) +
                      ", got " + std::to_string(got) + "\n";
      }
  }
  if (!failures.empty())
    throw VerificationError("trignet: " + source_ + ": embedded test vectors do not reproduce on the GPU (" +
                            mode_name(mode_) + " mode):\n" + failures);
}

}  // namespace trignet::cuda
