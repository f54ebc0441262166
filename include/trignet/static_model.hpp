#pragma once
// static_model: a network whose layer sizes and activations are template
// arguments (docs/fast-path.md). Weights come from the same JSON as the
// run-time engine, checked against the type; run() is one inlined chain of
// packed SIMD kernels with stack buffers: no allocation, no virtual calls,
// no mutable state (one object may be shared by threads).
//
//   using JetTagger = trignet::static_model<float,
//       trignet::dense<16, 64, trignet::act::relu>, ...,
//       trignet::dense<32, 5, trignet::act::softmax>>;
//   const JetTagger net = JetTagger::load("models/jet_tagger.json");
//   net.run(features, scores);

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/format/load_spec.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/simd/aligned.hpp"
#include "trignet/static/chain.hpp"
#include "trignet/static/layers.hpp"

namespace trignet {
// Tagged with the instruction set like the kernels, so that translation units
// built with different flags never share one (mismatched) instantiation.
inline namespace TRIGNET_SIMD_NS {

template <typename T, typename... Layers>
class static_model {
  static_assert(std::is_same_v<T, float>, "trignet::static_model: only float is supported");
  static_assert(sizeof...(Layers) > 0, "trignet::static_model: needs at least one layer");

  using impl_tuple = std::tuple<detail::static_layer<Layers>...>;
  static constexpr std::size_t n_layers = sizeof...(Layers);
  template <std::size_t I>
  using layer_t = std::tuple_element_t<I, impl_tuple>;

  static constexpr std::array<std::size_t, n_layers> ins = {Layers::input_size...};
  static constexpr std::array<std::size_t, n_layers> outs = {Layers::output_size...};
  static constexpr bool sizes_chain() {
    for (std::size_t i = 1; i < n_layers; ++i)
      if (ins[i] != outs[i - 1]) return false;
    return true;
  }
  static_assert(sizes_chain(), "trignet::static_model: each layer's input size must be the previous output size");

 public:
  using scalar_type = T;
  static constexpr std::size_t layer_count = n_layers;
  static constexpr std::size_t input_size = ins[0];
  static constexpr std::size_t output_size = outs[n_layers - 1];

 private:
  // Widest row any buffer holds (padded to the vector width).
  static constexpr std::size_t widest() {
    std::size_t w = simd::round_up(input_size);
    for (std::size_t o : outs) w = std::max(w, simd::round_up(o));
    return w;
  }
  static constexpr std::size_t row_width = widest();
  // Preprocessing arrays have one entry per feature of the input's last axis.
  static constexpr std::size_t features = layer_t<0>::features;
  // run_batch works through the batch in chunks small enough for two stack
  // buffers of at most 32 KiB each, in multiples of 24 rows: every register
  // tile height of the kernels (6, 8 or 12 rows; simd/dense.hpp) divides it,
  // so only the last chunk of a batch has left-over rows.
  static constexpr std::size_t chunk = std::max<std::size_t>(24, std::min<std::size_t>(64, 8192 / row_width) / 24 * 24);

 public:
  /// Loads a model file with the strict loader and checks it against the type.
  static static_model load(const std::string& path, const ResourceLimits& limits = ResourceLimits()) {
    return from_spec(load_model_spec(path, limits));
  }

  /// Same, from JSON text (`source` names it in messages).
  static static_model from_json_text(const std::string& json, const std::string& source = "<string>") {
    return from_spec(parse_model_spec(json, source));
  }

  /// Checks a validated spec against the type; throws UnsupportedError naming
  /// the first difference (nothing is loaded partially).
  static static_model from_spec(const ModelSpec& spec) {
    const GraphInfo graph = analyse(spec);
    const std::vector<std::size_t> chain = detail::static_chain(spec, graph, "static_model");
    const std::string prefix = detail::static_prefix(spec, "static_model");
    const Shape& in_shape = spec.inputs[0].shape;
    if (in_shape != layer_t<0>::input_shape())
      throw UnsupportedError(prefix + " input \"" + spec.inputs[0].name + "\" has shape " + to_string(in_shape) +
                             ", the type expects " + to_string(layer_t<0>::input_shape()));
    std::array<static_layer_data, n_layers> data{};
    std::vector<std::vector<float>> keep;
    check_layers(spec, graph, chain, prefix, data, keep, std::make_index_sequence<n_layers>());
    if (chain.size() > n_layers)
      throw UnsupportedError(prefix + " " + detail::node_label(spec, chain[n_layers]) + " (" +
                             layer_type_name(spec.nodes[chain[n_layers]].params) +
                             ") is not in the type, which has " + std::to_string(n_layers) + " layers");
    const Preprocessing& pre = spec.inputs[0].preprocessing;
    static_input_data input;
    input.offset = pre.offset.empty() ? nullptr : pre.offset.data();
    input.scale = pre.scale.empty() ? nullptr : pre.scale.data();
    input.nan_replacement = pre.nan_replacement.empty() ? nullptr : pre.nan_replacement.data();
    return from_data(input, data);
  }

  /// Builds the model from plain arrays (generated headers with embedded
  /// weights use this): layer i's arrays as documented in static_layer_data.
  /// The activation kinds must match the type.
  static static_model from_data(const static_input_data& input,
                                const std::array<static_layer_data, n_layers>& layers) {
    check_kinds(layers, std::make_index_sequence<n_layers>());
    static_model m;
    std::size_t total = 3 * simd::round_up(input_size);
    total += (layer_t_storage<Layers>() + ... + 0);
    auto storage = std::make_shared<simd::AlignedFloats>(total);
    float* at = storage->data();
    if (input.offset || input.scale || input.nan_replacement) {
      m.preprocess_ = true;
      m.has_nan_replacement_ = input.nan_replacement != nullptr;
      m.offset_ = at;
      m.scale_ = at + simd::round_up(input_size);
      m.nan_ = at + 2 * simd::round_up(input_size);
      for (std::size_t f = 0; f < features; ++f) {
        at[f] = input.offset ? input.offset[f] : 0.0f;
        m.scale_[f] = input.scale ? input.scale[f] : 1.0f;
        m.nan_[f] = input.nan_replacement ? input.nan_replacement[f] : 0.0f;
      }
    }
    at += 3 * simd::round_up(input_size);
    m.init_layers(layers, at, std::make_index_sequence<n_layers>());
    m.storage_ = std::move(storage);
    return m;
  }

  /// One sample: input_size floats in, output_size floats out.
  void run(const float* in, float* out) const {
    alignas(simd::alignment) float buf[2][row_width];
    const float* x = in;
    if (preprocess_) {
      preprocess(in, buf[1], 1);
      x = buf[1];
    }
    step<0>(x, input_size, buf, out, output_size, 1);
  }

  /// `batch` samples, batch-major (sample b at in + b * input_size).
  void run_batch(const float* in, float* out, std::size_t batch) const {
    alignas(simd::alignment) float buf[2][chunk * row_width];
    for (std::size_t b = 0; b < batch; b += chunk) {
      const std::size_t rows = std::min(chunk, batch - b);
      const float* x = in + b * input_size;
      std::size_t x_stride = input_size;
      if (preprocess_) {
        preprocess(x, buf[1], rows);
        x = buf[1];
        x_stride = row_width;
      }
      step<0>(x, x_stride, buf, out + b * output_size, output_size, rows);
    }
  }

  /// The instruction set the kernels were compiled for ("avx512", "avx2+fma", "sse2", "scalar").
  static const char* isa() { return simd::isa_name(); }

 private:
  static_model() = default;

  template <typename L>
  static constexpr std::size_t layer_t_storage() {
    return detail::static_layer<L>::storage;
  }

  template <std::size_t... I>
  static void check_layers(const ModelSpec& spec, const GraphInfo& graph, const std::vector<std::size_t>& chain,
                           const std::string& prefix, std::array<static_layer_data, n_layers>& data,
                           std::vector<std::vector<float>>& keep, std::index_sequence<I...>) {
    (check_layer<I>(spec, graph, chain, prefix, data, keep), ...);
  }

  template <std::size_t I>
  static void check_layer(const ModelSpec& spec, const GraphInfo& graph, const std::vector<std::size_t>& chain,
                          const std::string& prefix, std::array<static_layer_data, n_layers>& data,
                          std::vector<std::vector<float>>& keep) {
    if (I >= chain.size()) {
      if (I == chain.size())  // report once, at the first missing layer
        throw UnsupportedError(prefix + " the model ends after " + detail::node_label(spec, chain.back()) +
                               " (" + std::to_string(chain.size()) + " layers), the type has " +
                               std::to_string(n_layers) + " layers (next: " + layer_t<I>::describe() + ")");
      return;
    }
    const std::size_t node = chain[I];
    const auto& ref = graph.node_inputs[node][0];
    const Shape& in_shape = ref.is_model_input ? spec.inputs[ref.index].shape : graph.node_shapes[ref.index];
    layer_t<I>::check(spec.nodes[node], in_shape, prefix + " " + detail::node_label(spec, node));
    data[I] = layer_t<I>::extract(spec.nodes[node], keep);
  }

  template <std::size_t... I>
  static void check_kinds(const std::array<static_layer_data, n_layers>& layers, std::index_sequence<I...>) {
    (check_kind<I>(layers[I]), ...);
  }

  template <std::size_t I>
  static void check_kind(const static_layer_data& d) {
    layer_t<I>::check_data(d, "trignet: static_model: layer " + std::to_string(I));
  }

  template <std::size_t... I>
  void init_layers(const std::array<static_layer_data, n_layers>& layers, float* at, std::index_sequence<I...>) {
    ((std::get<I>(layers_).init(layers[I], at), at += layer_t<I>::storage), ...);
  }

  void preprocess(const float* in, float* out, std::size_t rows) const {
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t f = 0; f < input_size; ++f) {
        float v = in[r * input_size + f];
        const std::size_t k = f % features;  // per feature of the last axis
        if (has_nan_replacement_ && std::isnan(v)) v = nan_[k];
        out[r * row_width + f] = (v - offset_[k]) * scale_[k];
      }
  }

  /// Layer I from x into the next buffer (or the caller's output for the last layer).
  template <std::size_t I, std::size_t Rows>
  void step(const float* x, std::size_t x_stride, float (&buf)[2][Rows], float* out,
            std::size_t out_stride, std::size_t rows) const {
    const auto& layer = std::get<I>(layers_);
    if constexpr (I + 1 == n_layers) {
      layer.forward(x, x_stride, out, out_stride, output_size, rows);
    } else {
      float* y = buf[I % 2];
      constexpr std::size_t cols = simd::round_up(layer_t<I>::out);
      layer.forward(x, x_stride, y, row_width, cols, rows);
      step<I + 1>(y, row_width, buf, out, out_stride, rows);
    }
  }

  impl_tuple layers_;
  std::shared_ptr<const simd::AlignedFloats> storage_;  // packed weights, shared by copies
  const float* offset_ = nullptr;
  float* scale_ = nullptr;
  float* nan_ = nullptr;
  bool preprocess_ = false;
  bool has_nan_replacement_ = false;
};

}  // inline namespace TRIGNET_SIMD_NS
}  // namespace trignet
