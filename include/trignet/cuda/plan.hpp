#pragma once
// ModelSpec + GraphInfo -> Plan: the CUDA backend's compiled form of a model,
// pure host C++ (no CUDA header, no Eigen): a list of Ops over a per-sample
// arena of floats, one float parameter table and one int index table. The
// GPU executors (model.hpp) upload it as is; run_plan_reference() below runs
// it on the host with the same per-item functions, for the tests.

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "trignet/cuda/ops.hpp"
#include "trignet/error.hpp"
#include "trignet/graph.hpp"
#include "trignet/model_spec.hpp"

namespace trignet::cuda {

/// Most model inputs and outputs a GPU model may have (kernel argument arrays).
inline constexpr std::size_t max_io = 16;

/// How the batched backend evaluates a model.
enum class ExecutionMode {
  automatic,  // fused if weights and a tile of activations fit in shared memory, else layered
  fused,      // one kernel for the whole network (weights in shared memory when they fit)
  layered,    // one launch per op: cuBLAS SGEMM for Dense + fused bias/activation epilogue
};

inline const char* mode_name(ExecutionMode m) {
  switch (m) {
    case ExecutionMode::automatic: return "automatic";
    case ExecutionMode::fused: return "fused";
    case ExecutionMode::layered: return "layered";
  }
  return "?";
}

struct PlanTensor {
  std::string name;
  Shape shape;       // per sample
  std::size_t size;  // elements per sample
};

struct Plan {
  std::string name;
  std::string source;
  std::vector<Op> ops;        // in evaluation order: loads, nodes, stores
  std::vector<float> params;  // every constant the ops read
  std::vector<int> indices;   // gather tables
  int arena = 0;              // floats per sample (odd: no shared-memory bank conflicts)
  std::vector<PlanTensor> inputs, outputs;
  double flops_per_sample = 0;
  int max_items = 0;  // largest items count of an op
};

namespace detail {

[[noreturn]] inline void unsupported(const ModelSpec& spec, std::size_t node,
                                     const std::string& why) {
  const NodeSpec& n = spec.nodes[node];
  throw UnsupportedError("trignet: " + (spec.source.empty() ? "" : spec.source + ": ") + "nodes[" +
                         std::to_string(node) + "] ('" + n.name + "', " +
                         layer_type_name(n.params) + "): not supported by the CUDA backend: " +
                         why);
}

inline int to_int(const ModelSpec& spec, std::size_t node, std::size_t v) {
  if (v > static_cast<std::size_t>(INT_MAX / 2))
    unsupported(spec, node, "tensor too large (" + std::to_string(v) + " elements per sample)");
  return static_cast<int>(v);
}

/// Per-sample arena allocation: best-fit reuse of released regions.
class ArenaAllocator {
 public:
  int take(int size) {
    int best = -1;
    for (std::size_t r = 0; r < regions_.size(); ++r)
      if (regions_[r].free && regions_[r].size >= size &&
          (best < 0 || regions_[r].size < regions_[static_cast<std::size_t>(best)].size))
        best = static_cast<int>(r);
    if (best >= 0) {
      regions_[static_cast<std::size_t>(best)].free = false;
      return regions_[static_cast<std::size_t>(best)].offset;
    }
    regions_.push_back({end_, size, false});
    end_ += size;
    return regions_.back().offset;
  }
  void release(int offset) {
    for (auto& r : regions_)
      if (r.offset == offset) r.free = true;
  }
  int size() const { return end_; }

 private:
  struct Region {
    int offset, size;
    bool free;
  };
  std::vector<Region> regions_;
  int end_ = 0;
};

}  // namespace detail

/// Compiles a validated spec (with its GraphInfo from analyse()). Throws
/// UnsupportedError naming the first node the CUDA backend cannot run.
inline Plan build_plan(const ModelSpec& spec, const GraphInfo& g) {
  using detail::to_int;
  Plan plan;
  plan.name = spec.name;
  plan.source = spec.source;
  plan.flops_per_sample = g.flops_per_sample;
  if (spec.inputs.size() > max_io || spec.outputs.size() > max_io)
    throw UnsupportedError("trignet: " + spec.source + ": the CUDA backend supports at most " +
                           std::to_string(max_io) + " model inputs and outputs");

  auto add_params = [&](const std::vector<float>& v) {
    const int at = static_cast<int>(plan.params.size());
    plan.params.insert(plan.params.end(), v.begin(), v.end());
    return at;
  };

  const std::size_t n_inputs = spec.inputs.size();
  const std::size_t n_steps = g.order.size();
  // Values: model inputs 0..n_inputs-1, then one per step. Aliases share their root.
  std::vector<std::size_t> root(n_inputs + n_steps);
  std::vector<int> offset(n_inputs + n_steps, -1);
  std::vector<std::size_t> last_use(n_inputs + n_steps, 0);
  std::vector<long> value_of_node(spec.nodes.size(), -1);
  std::vector<bool> is_alias(n_steps, false);
  std::vector<std::vector<std::size_t>> args(n_steps);
  for (std::size_t v = 0; v < root.size(); ++v) root[v] = v;
  for (std::size_t k = 0; k < n_steps; ++k) {
    const std::size_t node = g.order[k];
    for (const ValueRef& ref : g.node_inputs[node])
      args[k].push_back(ref.is_model_input ? ref.index
                                           : static_cast<std::size_t>(value_of_node[ref.index]));
    const LayerParams& p = spec.nodes[node].params;
    is_alias[k] = std::holds_alternative<FlattenParams>(p) ||
                  std::holds_alternative<ReshapeParams>(p) ||
                  std::holds_alternative<DropoutParams>(p);
    if (is_alias[k]) root[n_inputs + k] = root[args[k][0]];
    value_of_node[node] = static_cast<long>(n_inputs + k);
  }
  constexpr std::size_t forever = static_cast<std::size_t>(-1);
  for (std::size_t k = 0; k < n_steps; ++k)
    for (std::size_t a : args[k]) last_use[root[a]] = std::max(last_use[root[a]], k);
  for (std::size_t node : g.output_nodes)
    last_use[root[static_cast<std::size_t>(value_of_node[node])]] = forever;

  detail::ArenaAllocator arena;
  auto shape_of = [&](std::size_t v) -> const Shape& {
    return v < n_inputs ? spec.inputs[v].shape : g.node_shapes[g.order[v - n_inputs]];
  };

  // Loads: every input enters the arena (preprocessing applied there).
  for (std::size_t i = 0; i < n_inputs; ++i) {
    const InputSpec& in = spec.inputs[i];
    const std::size_t size = element_count(in.shape);
    plan.inputs.push_back({in.name, in.shape, size});
    Op op;
    op.kind = OpKind::load;
    op.items = to_int(spec, 0, size);
    op.features = static_cast<int>(in.shape.back());
    op.n_in = 1;
    op.in[0] = -1 - static_cast<int>(i);
    if (!in.preprocessing.offset.empty()) op.p0 = add_params(in.preprocessing.offset);
    if (!in.preprocessing.scale.empty()) op.p1 = add_params(in.preprocessing.scale);
    if (!in.preprocessing.nan_replacement.empty())
      op.p2 = add_params(in.preprocessing.nan_replacement);
    op.out = offset[i] = arena.take(op.items);
    plan.ops.push_back(op);
  }

  for (std::size_t k = 0; k < n_steps; ++k) {
    const std::size_t node = g.order[k];
    const std::size_t v = n_inputs + k;
    const NodeSpec& ns = spec.nodes[node];
    const Shape& out_shape = g.node_shapes[node];
    const int out_size = to_int(spec, node, element_count(out_shape));
    if (is_alias[k]) {
      offset[v] = offset[root[v]];
    } else {
      std::vector<int> in_ref;
      std::vector<Shape> in_shapes;
      for (std::size_t a : args[k]) {
        in_ref.push_back(offset[root[a]]);
        in_shapes.push_back(shape_of(a));
      }
      if (in_ref.size() > static_cast<std::size_t>(max_op_inputs))
        detail::unsupported(spec, node,
                            std::to_string(in_ref.size()) + " inputs (at most " +
                                std::to_string(max_op_inputs) + ")");
      Op op;
      op.node = static_cast<int>(node);
      op.n_in = static_cast<int>(in_ref.size());
      for (std::size_t a = 0; a < in_ref.size(); ++a) op.in[a] = in_ref[a];
      op.items = out_size;
      int temp = -1;  // arena region released after this step
      std::visit(
          [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            auto softmax_geometry = [&](Op& s, long long axis_value) {
              std::size_t axis = 0;
              normalize_axis(axis_value, out_shape.size(), axis);
              std::size_t inner = 1;
              for (std::size_t d = axis + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
              s.kind = OpKind::softmax;
              s.axis_size = to_int(spec, node, out_shape[axis]);
              s.inner = to_int(spec, node, inner);
              s.items = out_size / s.axis_size;
            };
            if constexpr (std::is_same_v<P, DenseParams>) {
              op.kind = OpKind::dense;
              op.in_features = to_int(spec, node, in_shapes[0].back());
              op.units = to_int(spec, node, p.units);
              op.p0 = add_params(ns.weights.at("kernel").values);
              if (p.use_bias) op.p1 = add_params(ns.weights.at("bias").values);
              if (p.activation.kind == ActivationKind::softmax) {
                // Dense (linear) into a temporary, then softmax into the value.
                temp = op.out = arena.take(out_size);
                plan.ops.push_back(op);
                Op s;
                s.node = op.node;
                s.n_in = 1;
                s.in[0] = temp;
                softmax_geometry(s, p.activation.axis);
                op = s;
              } else {
                op.act = ElementwiseActivation<float>(p.activation);
              }
            } else if constexpr (std::is_same_v<P, ActivationParams>) {
              if (p.activation.kind == ActivationKind::softmax) {
                softmax_geometry(op, p.activation.axis);
              } else {
                op.kind = OpKind::activation;
                op.act = ElementwiseActivation<float>(p.activation);
              }
            } else if constexpr (std::is_same_v<P, BatchNormParams>) {
              std::size_t axis = 0;
              normalize_axis(p.axis, out_shape.size(), axis);
              std::size_t inner = 1;
              for (std::size_t d = axis + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
              const std::size_t channels = out_shape[axis];
              auto get = [&](const char* name, double fallback, std::size_t c) {
                auto it = ns.weights.find(name);
                return it == ns.weights.end() ? fallback
                                              : static_cast<double>(it->second.values[c]);
              };
              std::vector<float> scale, shift;
              for (std::size_t c = 0; c < channels; ++c) {  // folded in double, as on the CPU
                const double s =
                    get("gamma", 1.0, c) / std::sqrt(get("moving_variance", 1.0, c) + p.epsilon);
                scale.push_back(static_cast<float>(s));
                shift.push_back(static_cast<float>(get("beta", 0.0, c) - get("moving_mean", 0.0, c) * s));
              }
              op.kind = OpKind::scale_shift;
              op.channels = to_int(spec, node, channels);
              op.inner = to_int(spec, node, inner);
              op.p0 = add_params(scale);
              op.p1 = add_params(shift);
            } else if constexpr (std::is_same_v<P, LayerNormParams>) {
              std::size_t group = 1;
              for (std::size_t d = out_shape.size() - p.axes.size(); d < out_shape.size(); ++d)
                group *= out_shape[d];
              op.kind = OpKind::layer_norm;
              op.group = to_int(spec, node, group);
              op.items = out_size / op.group;
              op.epsilon = static_cast<float>(p.epsilon);
              if (auto it = ns.weights.find("gamma"); it != ns.weights.end())
                op.p0 = add_params(it->second.values);
              if (auto it = ns.weights.find("beta"); it != ns.weights.end())
                op.p1 = add_params(it->second.values);
            } else if constexpr (std::is_same_v<P, PermuteParams>) {
              const Shape& in = in_shapes[0];
              const std::size_t rank = in.size();
              std::vector<std::size_t> in_strides(rank, 1);
              for (std::size_t a = rank - 1; a-- > 0;) in_strides[a] = in_strides[a + 1] * in[a + 1];
              std::vector<std::size_t> index(rank, 0);
              op.kind = OpKind::gather;
              op.p0 = static_cast<int>(plan.indices.size());
              for (int o = 0; o < out_size; ++o) {
                std::size_t off = 0;
                for (std::size_t d = 0; d < rank; ++d) off += index[d] * in_strides[p.dims[d]];
                plan.indices.push_back(static_cast<int>(off));
                for (std::size_t d = rank; d-- > 0;) {
                  if (++index[d] < out_shape[d]) break;
                  index[d] = 0;
                }
              }
            } else if constexpr (std::is_same_v<P, ConcatenateParams>) {
              std::size_t axis = 0;
              normalize_axis(p.axis, out_shape.size(), axis);
              std::size_t outer = 1;
              for (std::size_t d = 0; d < axis; ++d) outer *= out_shape[d];
              op.kind = OpKind::concat;
              op.total_chunk = to_int(spec, node, element_count(out_shape) / outer);
              for (std::size_t a = 0; a < in_shapes.size(); ++a)
                op.chunk[a] = to_int(spec, node, element_count(in_shapes[a]) / outer);
            } else if constexpr (std::is_same_v<P, MergeParams>) {
              op.kind = OpKind::merge;
              op.merge = p.op;
            } else if constexpr (std::is_same_v<P, FlattenParams> ||
                                 std::is_same_v<P, ReshapeParams> ||
                                 std::is_same_v<P, DropoutParams>) {
              // aliases: handled above
            } else {
              // A layer type added to LayerParams without a CUDA kernel: refused, never a
              // silent CPU fallback.
              detail::unsupported(spec, node, "no CUDA kernel for this layer type");
            }
          },
          ns.params);
      op.out = offset[v] = arena.take(out_size);
      plan.ops.push_back(op);
      if (temp >= 0) arena.release(temp);
    }
    // Release every value whose last reader was this step.
    for (std::size_t u = 0; u <= v; ++u)
      if (root[u] == u && offset[u] >= 0 && last_use[u] == k) arena.release(offset[u]);
  }

  for (std::size_t o = 0; o < spec.outputs.size(); ++o) {
    const std::size_t node = g.output_nodes[o];
    const Shape& s = g.node_shapes[node];
    plan.outputs.push_back({spec.outputs[o].name, s, element_count(s)});
    Op op;
    op.kind = OpKind::store;
    op.items = static_cast<int>(element_count(s));
    op.n_in = 1;
    op.in[0] = offset[root[static_cast<std::size_t>(value_of_node[node])]];
    op.out = -1 - static_cast<int>(o);
    plan.ops.push_back(op);
  }
  // A whole number of float4s: the fused kernel copies the table to shared
  // memory 16 bytes at a time, and must not read past the device buffer.
  plan.params.resize((plan.params.size() + 3) / 4 * 4, 0.0f);
  plan.arena = arena.size() | 1;
  for (const Op& op : plan.ops) plan.max_items = std::max(plan.max_items, op.items);
  return plan;
}

/// Validates the spec (analyse) and compiles it.
inline Plan build_plan(const ModelSpec& spec) { return build_plan(spec, analyse(spec)); }

/// Launch geometry of the fused kernel, decided on the host from the plan and
/// the device's shared-memory budget (pure arithmetic, tested on the CPU).
struct FusedConfig {
  bool possible = false;         // false: run layered
  bool weights_in_shared = false;
  int tile = 0;                  // samples per block iteration
  std::size_t shared_bytes = 0;  // dynamic shared memory per block
  std::size_t ops_floats = 0;    // ops copied to shared memory (in floats)
  std::size_t param_floats = 0;  // parameters in shared memory (0 if read from global)
};

/// Floats of shared memory the ops take, rounded to a whole number of float4s
/// so that the parameters after them are 16-byte aligned.
inline std::size_t ops_shared_floats(const Plan& plan) {
  return (plan.ops.size() * sizeof(Op) + 4 * sizeof(float) - 1) / (4 * sizeof(float)) * 4;
}

/// Chooses the fused configuration for a shared-memory budget in bytes.
/// `require_shared_weights`: automatic mode fuses only when the weights fit too.
/// The largest tile (samples per block iteration, a power of two up to
/// `max_tile`) whose activations fit in `budget_bytes` of shared memory, with
/// the weights there too when they fit beside a tile of at least 16.
inline FusedConfig choose_fused(const Plan& plan, std::size_t budget_bytes,
                                bool require_shared_weights, int max_tile = 128) {
  FusedConfig c;
  c.ops_floats = ops_shared_floats(plan);
  const std::size_t params = (plan.params.size() + 3) / 4 * 4;
  if (max_tile < 1 || max_tile > 1024)
    throw RunError("trignet: cuda CompileOptions::max_tile must be in [1, 1024], got " + std::to_string(max_tile));
  for (int tile = 1024; tile >= 1; tile /= 2) {
    if (tile > max_tile) continue;
    const std::size_t tile_floats = static_cast<std::size_t>(tile) * static_cast<std::size_t>(plan.arena);
    const std::size_t with_weights = (c.ops_floats + params + tile_floats) * sizeof(float);
    const std::size_t without = (c.ops_floats + tile_floats) * sizeof(float);
    if (with_weights <= budget_bytes && (tile >= 16 || !require_shared_weights)) {
      c.possible = true;
      c.weights_in_shared = true;
      c.param_floats = params;
      c.tile = tile;
      c.shared_bytes = with_weights;
      return c;
    }
    if (!require_shared_weights && without <= budget_bytes && tile >= 8) {
      c.possible = true;
      c.weights_in_shared = false;
      c.tile = tile;
      c.shared_bytes = without;
      return c;
    }
  }
  return c;
}

/// How run_plan_reference orders the work: as the fused kernel does (Dense in
/// dense_block()s), one eval_item per (sample, item) (what dense_block must
/// equal bit for bit), or as the layered executor does (Dense as a separate
/// GEMM, here a plain loop, then the bias_act epilogue op).
enum class ReferenceOrder { fused, per_item, layered };

/// Host reference executor: evaluates the plan with the same functions the
/// kernels run. inputs[i]: batch x size; outputs[o]: batch x size.
inline void run_plan_reference(const Plan& plan, const float* const* inputs, float* const* outputs,
                               std::size_t batch, ReferenceOrder order) {
  const std::size_t A = static_cast<std::size_t>(plan.arena);
  std::vector<float> arena(batch * A, 0.0f);
  const float* P = plan.params.data();
  const int* I = plan.indices.data();
  auto operands = [&](const Op& op, std::size_t s, const float** in, float** out) {
    float* a = arena.data() + s * A;
    for (int k = 0; k < op.n_in; ++k)
      in[k] = op.in[k] >= 0 ? a + op.in[k]
                            : inputs[-1 - op.in[k]] + s * plan.inputs[static_cast<std::size_t>(-1 - op.in[k])].size;
    *out = op.out >= 0 ? a + op.out
                       : outputs[-1 - op.out] + s * plan.outputs[static_cast<std::size_t>(-1 - op.out)].size;
  };
  for (const Op& op : plan.ops) {
    if (order == ReferenceOrder::fused && op.kind == OpKind::dense) {
      // The kernel's decomposition: groups of 4 (sample, row) pairs x unit lanes.
      const std::size_t rows = static_cast<std::size_t>(op.items / op.units);
      const std::size_t pairs = batch * rows;
      const int stride = (op.units + dense_block_units - 1) / dense_block_units;
      for (std::size_t g = 0; g < pairs; g += dense_block_rows) {
        const int n = static_cast<int>(std::min<std::size_t>(dense_block_rows, pairs - g));
        const float* x[dense_block_rows];
        float* y[dense_block_rows];
        for (int r = 0; r < n; ++r) {
          const std::size_t s = (g + static_cast<std::size_t>(r)) / rows;
          const std::size_t row = (g + static_cast<std::size_t>(r)) - s * rows;
          const float* in[max_op_inputs];
          float* out;
          operands(op, s, in, &out);
          x[r] = in[0] + row * static_cast<std::size_t>(op.in_features);
          y[r] = out + row * static_cast<std::size_t>(op.units);
        }
        for (int u0 = 0; u0 < stride; ++u0) dense_block(op, P, x, y, n, u0, stride);
      }
      continue;
    }
    if (order == ReferenceOrder::layered && op.kind == OpKind::dense) {
      for (std::size_t s = 0; s < batch; ++s) {
        const float* x = arena.data() + s * A + op.in[0];
        float* y = arena.data() + s * A + op.out;
        const int rows = op.items / op.units;
        for (int r = 0; r < rows; ++r)
          for (int j = 0; j < op.units; ++j) {
            float acc = 0.0f;
            for (int k = 0; k < op.in_features; ++k)
              acc += x[r * op.in_features + k] * P[op.p0 + k * op.units + j];
            y[r * op.units + j] = acc;
          }
      }
      Op epilogue = op;
      epilogue.kind = OpKind::bias_act;
      for (std::size_t s = 0; s < batch; ++s)
        for (int item = 0; item < op.items; ++item)
          eval_item(epilogue, P, I, nullptr, arena.data() + s * A + op.out, item);
      continue;
    }
    for (std::size_t s = 0; s < batch; ++s) {
      const float* in[max_op_inputs];
      float* out;
      operands(op, s, in, &out);
      for (int item = 0; item < op.items; ++item) eval_item(op, P, I, in, out, item);
    }
  }
}

}  // namespace trignet::cuda
