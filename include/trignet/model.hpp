#pragma once
// Model<T>: a validated ModelSpec compiled for the CPU in scalar type T.
// Immutable after construction, so one instance is shared by all threads;
// each thread evaluates it through its own Session (session.hpp).

#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "trignet/cpu/make_layer.hpp"
#include "trignet/cpu/reproducible.hpp"
#include "trignet/error.hpp"
#include "trignet/format/model_hash.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"

namespace trignet {

template <typename T>
class Session;

/// A named model input or output as the caller sees it.
struct TensorInfo {
  std::string name;
  Shape shape;       // per sample
  std::size_t size;  // elements per sample
};

/// How a spec is compiled (load_model passes LoadOptions::reproducible).
struct CompileOptions {
  /// Reproducible mode (cpu/reproducible.hpp, docs/user-guide.md): a sample's
  /// outputs are bit-identical whatever the batch size, its position in the
  /// batch and the SIMD level compiled for; slower, and refuses layers it has
  /// no such kernel for (UnsupportedError naming the node).
  bool reproducible = false;
};

template <typename T>
class Model {
 public:
  using scalar_type = T;

  explicit Model(ModelSpec spec, CompileOptions options = CompileOptions())
      : spec_(std::move(spec)), graph_(analyse(spec_)), options_(options) {
    hash_ = trignet::content_hash(spec_);
    compile();
  }

  const ModelSpec& spec() const { return spec_; }
  const GraphInfo& graph() const { return graph_; }
  const std::string& name() const { return spec_.name; }
  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  /// SHA-256 over graph and weights (docs/format.md, "Content hash").
  const std::string& content_hash() const { return hash_; }
  /// True if compiled in reproducible mode (CompileOptions::reproducible).
  bool reproducible() const { return options_.reproducible; }
  std::size_t parameter_count() const { return graph_.parameter_count; }
  double flops_per_sample() const { return graph_.flops_per_sample; }

  /// Index of a named input, for binding names once outside the hot path.
  std::size_t input_index(const std::string& name) const { return find(inputs_, name, "input"); }
  std::size_t output_index(const std::string& name) const { return find(outputs_, name, "output"); }

 private:
  friend class Session<T>;

  // A tensor during evaluation: model inputs are values 0..n_inputs-1, the
  // result of step k is value n_inputs + k.
  struct Value {
    std::size_t per_sample = 0;
    long slot = -1;                 // session buffer, or -1: the caller's input memory
    std::size_t caller_input = 0;   // which input, when slot == -1
  };
  struct Step {
    std::unique_ptr<cpu::Layer<T>> layer;
    std::vector<std::size_t> args;  // value ids
    std::size_t node = 0;           // index into spec().nodes
    bool alias = false;
  };
  struct InputPreprocessing {
    bool active = false;
    std::size_t features = 0;
    std::vector<T> offset, scale, nan_replacement;
  };

  static std::size_t find(const std::vector<TensorInfo>& list, const std::string& name,
                          const char* what) {
    for (std::size_t i = 0; i < list.size(); ++i)
      if (list[i].name == name) return i;
    std::string known;
    for (const TensorInfo& t : list) known += (known.empty() ? "'" : ", '") + t.name + "'";
    throw RunError("trignet: model has no " + std::string(what) + " named '" + name +
                   "' (it has " + known + ")");
  }

  void compile() {
    const std::size_t n_inputs = spec_.inputs.size();
    for (const InputSpec& in : spec_.inputs) {
      inputs_.push_back({in.name, in.shape, element_count(in.shape)});
      InputPreprocessing p;
      const Preprocessing& pre = in.preprocessing;
      p.active = !pre.empty();
      p.features = in.shape.back();
      p.offset.assign(p.features, T(0));
      p.scale.assign(p.features, T(1));
      for (std::size_t f = 0; f < pre.offset.size(); ++f) p.offset[f] = static_cast<T>(pre.offset[f]);
      for (std::size_t f = 0; f < pre.scale.size(); ++f) p.scale[f] = static_cast<T>(pre.scale[f]);
      p.nan_replacement.assign(pre.nan_replacement.begin(), pre.nan_replacement.end());
      preprocessing_.push_back(std::move(p));
    }
    for (std::size_t o = 0; o < spec_.outputs.size(); ++o) {
      const Shape& s = graph_.node_shapes[graph_.output_nodes[o]];
      outputs_.push_back({spec_.outputs[o].name, s, element_count(s)});
    }

    std::vector<long> value_of_node(spec_.nodes.size(), -1);
    values_.resize(n_inputs + graph_.order.size());
    for (std::size_t i = 0; i < n_inputs; ++i) {
      values_[i].per_sample = inputs_[i].size;
      values_[i].caller_input = i;
    }
    for (std::size_t k = 0; k < graph_.order.size(); ++k) {
      const std::size_t node = graph_.order[k];
      Step step;
      step.node = node;
      std::vector<Shape> in_shapes;
      for (const ValueRef& ref : graph_.node_inputs[node]) {
        step.args.push_back(ref.is_model_input ? ref.index
                                               : static_cast<std::size_t>(value_of_node[ref.index]));
        in_shapes.push_back(ref.is_model_input ? spec_.inputs[ref.index].shape
                                               : graph_.node_shapes[ref.index]);
      }
      if (options_.reproducible)
        step.layer = cpu::reproducible::make_layer<T>(spec_.nodes[node], in_shapes, graph_.node_shapes[node]);
      if (!step.layer)
        step.layer = cpu::make_layer<T>(spec_.nodes[node], in_shapes, graph_.node_shapes[node]);
      step.alias = step.layer->is_alias();
      value_of_node[node] = static_cast<long>(n_inputs + k);
      values_[n_inputs + k].per_sample = element_count(graph_.node_shapes[node]);
      steps_.push_back(std::move(step));
    }
    for (std::size_t node : graph_.output_nodes)
      output_values_.push_back(static_cast<std::size_t>(value_of_node[node]));
    plan_buffers();
  }

  // Assigns session buffers ("slots") to values so that a buffer is reused once
  // every reader of its value has run. Aliases share their input's storage.
  void plan_buffers() {
    const std::size_t n_inputs = spec_.inputs.size();
    const std::size_t n_values = values_.size();
    std::vector<std::size_t> root(n_values);
    for (std::size_t v = 0; v < n_values; ++v) root[v] = v;
    for (std::size_t k = 0; k < steps_.size(); ++k)
      if (steps_[k].alias) root[n_inputs + k] = root[steps_[k].args[0]];

    constexpr std::size_t forever = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> last_use(n_values, 0);
    for (std::size_t k = 0; k < steps_.size(); ++k)
      for (std::size_t a : steps_[k].args) last_use[root[a]] = std::max(last_use[root[a]], k);
    for (std::size_t v : output_values_) last_use[root[v]] = forever;

    std::vector<bool> slot_free;
    auto take_slot = [&](std::size_t per_sample) {
      long chosen = -1;
      for (std::size_t s = 0; s < slot_free.size(); ++s)
        if (slot_free[s] && (chosen < 0 || slot_sizes_[s] > slot_sizes_[static_cast<std::size_t>(chosen)]))
          chosen = static_cast<long>(s);
      if (chosen < 0) {
        slot_free.push_back(false);
        slot_sizes_.push_back(0);
        chosen = static_cast<long>(slot_sizes_.size() - 1);
      }
      slot_free[static_cast<std::size_t>(chosen)] = false;
      slot_sizes_[static_cast<std::size_t>(chosen)] =
          std::max(slot_sizes_[static_cast<std::size_t>(chosen)], per_sample);
      return chosen;
    };
    // Storage roots by the step after which they are dead (linear, not
    // quadratic, in the number of nodes).
    std::vector<std::vector<std::size_t>> dies_after(steps_.size());
    for (std::size_t v = 0; v < n_values; ++v)
      if (root[v] == v && last_use[v] != forever && !steps_.empty())
        dies_after[std::min(last_use[v], steps_.size() - 1)].push_back(v);
    auto release_after = [&](std::size_t k) {
      for (std::size_t v : dies_after[k])
        if (values_[v].slot >= 0) slot_free[static_cast<std::size_t>(values_[v].slot)] = true;
    };

    for (std::size_t i = 0; i < n_inputs; ++i)
      if (preprocessing_[i].active) values_[i].slot = take_slot(values_[i].per_sample);
    for (std::size_t k = 0; k < steps_.size(); ++k) {
      const std::size_t v = n_inputs + k;
      if (steps_[k].alias) {
        values_[v].slot = values_[root[v]].slot;
        values_[v].caller_input = values_[root[v]].caller_input;
      } else {
        values_[v].slot = take_slot(values_[v].per_sample);
      }
      release_after(k);
    }
  }

  ModelSpec spec_;
  GraphInfo graph_;
  CompileOptions options_;
  std::string hash_;
  std::vector<TensorInfo> inputs_, outputs_;
  std::vector<InputPreprocessing> preprocessing_;
  std::vector<Value> values_;
  std::vector<Step> steps_;
  std::vector<std::size_t> output_values_;
  std::vector<std::size_t> slot_sizes_;  // elements per sample of each session buffer
};

}  // namespace trignet
