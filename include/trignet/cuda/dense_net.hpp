#pragma once
// Device-callable networks: a Dense chain whose layer sizes are template
// parameters, evaluated for one sample by one thread, inside the caller's own
// kernel, with activations in registers:
//
//   using Mva = trignet::cuda::DenseNet<4, 20, 20, 1>;
//   __global__ void select(Mva::View net, const float* x, float* score, int n) {
//     int i = blockIdx.x * blockDim.x + threadIdx.x;
//     if (i < n) Mva::forward(net, x + 4 * i, score + i);
//   }
//
// The weights come from the same JSON model file (parameters_from), checked
// against the type: the first difference is named in the error. forward() is
// __host__ __device__, so the CPU tests run exactly the code the GPU runs.
// This header needs no CUDA header; dense_net_device.hpp uploads the weights.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "trignet/config.hpp"
#include "trignet/cuda/ops.hpp"
#include "trignet/error.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::cuda {

template <typename Net>
struct DenseNetParameters;

namespace detail {

#if defined(__CUDACC__)
#define TRIGNET_CUDA_NOINLINE __noinline__
#else
#define TRIGNET_CUDA_NOINLINE
#endif

/// apply_activation out of line: the rarer kinds cost a call, not code per element.
TRIGNET_HOST_DEVICE TRIGNET_CUDA_NOINLINE inline float activation_call(
    const ElementwiseActivation<float>& a, float x) {
  return apply_activation(a, x);
}

/// apply_activation for code unrolled over many elements: the common kinds
/// inline (the same function with a constant kind, so the same semantics),
/// the others through one out-of-line call. Keeps unrolled layers small and
/// quick to compile.
TRIGNET_HOST_DEVICE TRIGNET_CUDA_INLINE float activation_unrolled(
    const ElementwiseActivation<float>& a, float x) {
  ElementwiseActivation<float> k;
  switch (a.kind) {
    case ActivationKind::linear:
      return x;
    case ActivationKind::relu:
      k.kind = ActivationKind::relu;
      return apply_activation(k, x);
    case ActivationKind::sigmoid:
      k.kind = ActivationKind::sigmoid;
      return apply_activation(k, x);
    case ActivationKind::tanh:
      k.kind = ActivationKind::tanh;
      return apply_activation(k, x);
    default:
      return activation_call(a, x);
  }
}

}  // namespace detail

template <std::size_t... N>
class DenseNet {
  static_assert(sizeof...(N) >= 2, "DenseNet<In, ..., Out> needs at least an input and an output size");

 public:
  static constexpr std::size_t layer_count = sizeof...(N) - 1;
  static constexpr std::size_t sizes[sizeof...(N)] = {N...};
  static constexpr std::size_t input_size = sizes[0];
  static constexpr std::size_t output_size = sizes[layer_count];

  /// Parameter layout, one flat float array: preprocessing offset[In],
  /// scale[In], NaN replacement[In], then per layer kernel[in x out]
  /// (row-major [in, out], as in the file) and bias[out].
  static constexpr std::size_t kernel_offset(std::size_t layer) {
    std::size_t off = 3 * sizes[0];
    for (std::size_t l = 0; l < layer; ++l) off += sizes[l] * sizes[l + 1] + sizes[l + 1];
    return off;
  }
  static constexpr std::size_t parameter_count = kernel_offset(layer_count);
  /// kernel_offset(L) as a constant (device code reads the value, never calls the function).
  template <std::size_t L>
  static constexpr std::size_t kernel_offset_v = kernel_offset(L);

  /// What a kernel needs: a pointer to the parameters (device memory for GPU
  /// use, host memory for host use) and the per-layer activations. Small and
  /// trivially copyable: pass it by value as a kernel argument.
  struct View {
    const float* params = nullptr;
    ElementwiseActivation<float> activation[layer_count];
    bool softmax_last = false;    // softmax over the outputs after the last activation
    bool nan_replacement = false;  // replace NaN inputs by params[2*In + f]
  };

  /// The parameters for this type read from a validated model (see
  /// dense_net_parameters below); throws UnsupportedError naming the first difference.
  static DenseNetParameters<DenseNet> parameters(const ModelSpec& spec);

  /// "trignet::cuda::DenseNet<4, 20, 20, 1>"
  static std::string type_name() {
    std::string s = "trignet::cuda::DenseNet<";
    for (std::size_t i = 0; i < sizeof...(N); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
    return s + ">";
  }

  /// One sample: x[input_size] -> y[output_size]. Fully unrolled; the
  /// activations stay in registers.
  TRIGNET_HOST_DEVICE static TRIGNET_CUDA_INLINE void forward(const View& v, const float* x,
                                                              float* y) {
    float h[input_size];
    const float* pre = v.params;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (std::size_t f = 0; f < input_size; ++f) {
      float xf = x[f];
      if (v.nan_replacement && detail::is_nan(xf)) xf = pre[2 * input_size + f];
      h[f] = (xf - pre[f]) * pre[input_size + f];
    }
    layer<0>(v, h, y);
  }

 private:
  template <std::size_t L>
  TRIGNET_HOST_DEVICE static TRIGNET_CUDA_INLINE void layer(const View& v, const float* x, float* y) {
    constexpr std::size_t In = sizes[L];
    constexpr std::size_t Out = sizes[L + 1];
    const float* w = v.params + kernel_offset_v<L>;
    const float* b = w + In * Out;
    float h[Out];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (std::size_t j = 0; j < Out; ++j) h[j] = b[j];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (std::size_t k = 0; k < In; ++k) {
      const float xk = x[k];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
      for (std::size_t j = 0; j < Out; ++j) h[j] += xk * w[k * Out + j];
    }
    const ElementwiseActivation<float> act = v.activation[L];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (std::size_t j = 0; j < Out; ++j) h[j] = detail::activation_unrolled(act, h[j]);
    if constexpr (L + 1 < layer_count) {
      layer<L + 1>(v, h, y);
    } else {
      if (v.softmax_last) softmax_row(h, h, static_cast<int>(Out), 1);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
      for (std::size_t j = 0; j < Out; ++j) y[j] = h[j];
    }
  }
};

/// Host-side parameters of a DenseNet read from a model: the flat array to
/// upload and the view's activations. view(ptr) binds them to a copy of
/// `values` at ptr (device memory, or values.data() for host use).
template <typename Net>
struct DenseNetParameters {
  std::vector<float> values;
  typename Net::View prototype;

  typename Net::View view(const float* params) const {
    typename Net::View v = prototype;
    v.params = params;
    return v;
  }
};

namespace detail {

[[noreturn]] inline void dense_net_mismatch(const ModelSpec& spec, const std::string& type,
                                            const std::string& what) {
  throw UnsupportedError("trignet: " + (spec.source.empty() ? "" : spec.source + ": ") +
                         "model '" + spec.name + "' does not match " + type + ": " + what);
}

}  // namespace detail

/// Reads a DenseNet's parameters from a validated spec. The model must be one
/// input of shape [In] and one output, through a chain of Dense layers (rank-1),
/// each optionally followed by an Activation (after a linear Dense; softmax
/// only at the end), a BatchNormalization (after a linear Dense; folded into
/// it), Dropout or Flatten. Throws UnsupportedError naming the first difference.
template <std::size_t... N>
DenseNetParameters<DenseNet<N...>> dense_net_parameters(const ModelSpec& spec) {
  using Net = DenseNet<N...>;
  const std::string type = Net::type_name();
  auto fail = [&](const std::string& what) { detail::dense_net_mismatch(spec, type, what); };
  const GraphInfo g = analyse(spec);
  if (spec.inputs.size() != 1)
    fail("it has " + std::to_string(spec.inputs.size()) + " inputs, the type expects 1");
  if (spec.outputs.size() != 1)
    fail("it has " + std::to_string(spec.outputs.size()) + " outputs, the type expects 1");
  const InputSpec& in = spec.inputs[0];
  if (in.shape != Shape{Net::input_size})
    fail("input '" + in.name + "' has shape " + to_string(in.shape) + ", the type expects [" +
         std::to_string(Net::input_size) + "]");

  DenseNetParameters<Net> out;
  out.values.assign(Net::parameter_count, 0.0f);
  const std::size_t n0 = Net::input_size;
  for (std::size_t f = 0; f < n0; ++f) {
    const Preprocessing& pre = in.preprocessing;
    out.values[f] = pre.offset.empty() ? 0.0f : pre.offset[f];
    out.values[n0 + f] = pre.scale.empty() ? 1.0f : pre.scale[f];
    out.values[2 * n0 + f] = pre.nan_replacement.empty() ? 0.0f : pre.nan_replacement[f];
  }
  out.prototype.nan_replacement = !in.preprocessing.nan_replacement.empty();

  std::size_t dense = 0;          // Dense layers seen
  bool may_modify = false;        // the last Dense is linear: an Activation/BatchNorm may follow
  bool softmax_done = false;
  ValueRef previous{true, 0};
  for (std::size_t node : g.order) {
    const NodeSpec& ns = spec.nodes[node];
    const std::string where = "nodes[" + std::to_string(node) + "] ('" + ns.name + "', " +
                              layer_type_name(ns.params) + ")";
    if (g.node_inputs[node].size() != 1 || !(g.node_inputs[node][0] == previous))
      fail(where + " is not part of a single chain of layers");
    previous = ValueRef{false, node};
    if (softmax_done) fail(where + " follows the softmax, which must come last");
    if (auto* d = std::get_if<DenseParams>(&ns.params)) {
      if (dense == Net::layer_count)
        fail(where + " is Dense layer " + std::to_string(dense + 1) + ", the type has " +
             std::to_string(Net::layer_count));
      const std::size_t fan_in = Net::sizes[dense], units = Net::sizes[dense + 1];
      if (g.node_shapes[node].size() != 1)
        fail(where + " has output shape " + to_string(g.node_shapes[node]) + ", expected rank 1");
      const WeightTensor& k = ns.weights.at("kernel");
      if (k.shape[0] != fan_in)
        fail(where + " has " + std::to_string(k.shape[0]) + " inputs, the type expects " +
             std::to_string(fan_in) + " (layer " + std::to_string(dense + 1) + ")");
      if (d->units != units)
        fail(where + " has " + std::to_string(d->units) + " units, the type expects " +
             std::to_string(units) + " (layer " + std::to_string(dense + 1) + ")");
      float* w = out.values.data() + Net::kernel_offset(dense);
      std::copy(k.values.begin(), k.values.end(), w);
      if (d->use_bias) {
        const WeightTensor& b = ns.weights.at("bias");
        std::copy(b.values.begin(), b.values.end(), w + fan_in * units);
      }
      if (d->activation.kind == ActivationKind::softmax) {
        out.prototype.softmax_last = true;
        softmax_done = true;
      } else {
        out.prototype.activation[dense] = ElementwiseActivation<float>(d->activation);
      }
      may_modify = d->activation.kind == ActivationKind::linear;
      ++dense;
    } else if (auto* a = std::get_if<ActivationParams>(&ns.params)) {
      if (!may_modify)
        fail(where + " must directly follow a Dense layer with linear activation");
      if (a->activation.kind == ActivationKind::softmax) {
        out.prototype.softmax_last = true;
        softmax_done = true;
      } else {
        out.prototype.activation[dense - 1] = ElementwiseActivation<float>(a->activation);
      }
      may_modify = false;
    } else if (auto* bn = std::get_if<BatchNormParams>(&ns.params)) {
      if (!may_modify)
        fail(where + " must directly follow a Dense layer with linear activation (it is folded into it)");
      const std::size_t fan_in = Net::sizes[dense - 1], units = Net::sizes[dense];
      float* w = out.values.data() + Net::kernel_offset(dense - 1);
      float* b = w + fan_in * units;
      auto get = [&](const char* name, double fallback, std::size_t c) {
        auto it = ns.weights.find(name);
        return it == ns.weights.end() ? fallback : static_cast<double>(it->second.values[c]);
      };
      for (std::size_t j = 0; j < units; ++j) {
        const double s = get("gamma", 1.0, j) / std::sqrt(get("moving_variance", 1.0, j) + bn->epsilon);
        const double t = get("beta", 0.0, j) - get("moving_mean", 0.0, j) * s;
        for (std::size_t k = 0; k < fan_in; ++k)
          w[k * units + j] = static_cast<float>(static_cast<double>(w[k * units + j]) * s);
        b[j] = static_cast<float>(static_cast<double>(b[j]) * s + t);
      }
    } else if (std::holds_alternative<DropoutParams>(ns.params) ||
               std::holds_alternative<FlattenParams>(ns.params)) {
      if (g.node_shapes[node].size() != 1) fail(where + " must act on a rank-1 tensor");
    } else {
      fail(where + " is not a layer DenseNet supports (Dense, Activation, BatchNormalization, "
                   "Dropout, Flatten)");
    }
  }
  if (dense != Net::layer_count)
    fail("it has " + std::to_string(dense) + " Dense layers, the type expects " +
         std::to_string(Net::layer_count));
  return out;
}

template <std::size_t... N>
DenseNetParameters<DenseNet<N...>> DenseNet<N...>::parameters(const ModelSpec& spec) {
  return dense_net_parameters<N...>(spec);
}

}  // namespace trignet::cuda
