#pragma once
// FixedModel / FixedSession: a model run in fixed point, bit for bit as
// hls4ml's firmware (io_parallel, latency strategy) computes it, from the
// precision description in the model file (docs/format.md, "Fixed-point
// precision"; docs/fixed-point.md, "Running a model in fixed point").

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/fixed_engine/ops.hpp"
#include "trignet/format/load_spec.hpp"
#include "trignet/graph.hpp"
#include "trignet/layers/conv.hpp"
#include "trignet/layers/pooling.hpp"
#include "trignet/model_spec.hpp"
#include "trignet/span.hpp"

namespace trignet {

/// A named model input or output of a fixed-point model, with its type.
struct FixedTensorInfo {
  std::string name;
  Shape shape;           // per sample
  std::size_t size = 0;  // elements per sample
  FixedType type;
};

class FixedSession;

/// A ModelSpec compiled for fixed point. Immutable; share it between threads.
class FixedModel {
 public:
  explicit FixedModel(ModelSpec spec) : spec_(std::move(spec)), graph_(analyse(spec_)) { build(); }

  const ModelSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  const std::vector<FixedTensorInfo>& inputs() const { return inputs_; }
  const std::vector<FixedTensorInfo>& outputs() const { return outputs_; }
  const FixedType& input_type(std::size_t i) const { return inputs_.at(i).type; }
  const FixedType& output_type(std::size_t i) const { return outputs_.at(i).type; }
  /// The type of a node's result (after its fused activation, if any).
  const FixedType& node_type(std::size_t node) const { return values_[node_value_.at(node)].type; }

  std::size_t input_index(const std::string& name) const { return find(inputs_, name, "input"); }
  std::size_t output_index(const std::string& name) const { return find(outputs_, name, "output"); }

 private:
  friend class FixedSession;

  struct Value {
    std::size_t size = 0;
    FixedType type;
  };
  struct Step {
    std::unique_ptr<fixed_rt::FixedOp> op;
    std::vector<std::size_t> args;  // value ids
    std::size_t out = 0;
  };

  static std::size_t find(const std::vector<FixedTensorInfo>& list, const std::string& name,
                          const char* what) {
    for (std::size_t i = 0; i < list.size(); ++i)
      if (list[i].name == name) return i;
    std::string names;
    for (const auto& t : list) names += (names.empty() ? "'" : ", '") + t.name + "'";
    throw RunError("trignet: no model " + std::string(what) + " named '" + name +
                   "' (the model's " + what + "s: " + names + ")");
  }

  std::string where() const { return "trignet: " + (spec_.source.empty() ? "" : spec_.source + ": "); }
  [[noreturn]] void unsupported(const NodeSpec& n, const std::string& message) const {
    throw UnsupportedError(where() + "node '" + n.name + "' (" + layer_type_name(n.params) +
                           "): " + message + " in fixed point");
  }
  [[noreturn]] void precision_fail(const PrecisionSpec& p, const std::string& key,
                                   const std::string& message) const {
    throw FormatError(where() + p.path + (key.empty() ? "" : "." + key) + ": " + message);
  }

  std::size_t add_value(std::size_t size, const FixedType& type) {
    values_.push_back(Value{size, type});
    return values_.size() - 1;
  }
  void add_step(fixed_rt::FixedOp* op, std::vector<std::size_t> args, std::size_t out) {
    Step s;
    s.op.reset(op);
    s.args = std::move(args);
    s.out = out;
    if (s.op->scratch_size() > scratch_) scratch_ = s.op->scratch_size();
    steps_.push_back(std::move(s));
  }

  /// Two fixed-point operands of one exact sum must fit 128 bits once aligned.
  void check_align(const NodeSpec& n, const FixedType& a, const FixedType& b, const char* what) const {
    const int d = std::abs(a.fractional() - b.fractional());
    if (d > fixed_rt::max_align_shift)
      unsupported(n, std::string(what) + " of " + to_string(a) + " and " + to_string(b) +
                         " (fractional bits " + std::to_string(a.fractional()) + " and " +
                         std::to_string(b.fractional()) +
                         ") needs more than 128 bits of exact arithmetic");
  }

  /// Raw values of a weight: the `raw` integers when given, else each float32 cast.
  std::vector<std::int64_t> weight_raw(const PrecisionSpec& p, const std::string& name,
                                       const std::vector<float>& values, const FixedType& type) const {
    auto it = p.raw.find(name);
    if (it != p.raw.end()) return it->second;
    std::vector<std::int64_t> out(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = fixed_rt::from_float(values[i], type);
    return out;
  }

  FixedType need(const PrecisionSpec& p, const std::optional<FixedType>& t, const char* key) const {
    if (!t) precision_fail(p, "", std::string("missing required key \"") + key + "\"");
    return *t;
  }

  const Shape& input_shape(std::size_t node, std::size_t k) const {
    const ValueRef& r = graph_.node_inputs[node][k];
    return r.is_model_input ? spec_.inputs[r.index].shape : graph_.node_shapes[r.index];
  }

  /// Source index of every output element of ZeroPadding, Cropping and
  /// UpSampling (gather_zero for a padded cell).
  std::vector<std::size_t> spatial_gather(const NodeSpec& n, const Shape& in_shape, const Shape& out_shape) const {
    DataFormat fmt = DataFormat::channels_last;
    std::size_t rank = 1;
    std::array<std::size_t, 2> before{0, 0}, up{1, 1};
    int sign = 1;  // +1 padding (source = out - before), -1 cropping (source = out + before)
    if (auto* sp = std::get_if<SpatialPadParams>(&n.params)) {
      fmt = sp->data_format;
      rank = sp->rank;
      sign = sp->kind == SpatialPadKind::zero_padding ? 1 : -1;
      for (std::size_t a = 0; a < rank; ++a) before[rank == 1 ? 1 : a] = sp->pairs[a][0];
    } else {
      const auto& u = std::get<UpSamplingParams>(n.params);
      fmt = u.data_format;
      rank = u.rank;
      for (std::size_t a = 0; a < rank; ++a) up[rank == 1 ? 1 : a] = u.size[a];
    }
    std::array<std::size_t, 2> in_len, out_len;
    std::size_t channels = 0, out_channels = 0;
    split_spatial(in_shape, fmt, rank, in_len, channels);
    split_spatial(out_shape, fmt, rank, out_len, out_channels);
    const SpatialStrides si = spatial_strides(fmt, in_len[0], in_len[1], channels);
    const SpatialStrides so = spatial_strides(fmt, out_len[0], out_len[1], channels);
    std::vector<std::size_t> index(element_count(out_shape), fixed_rt::gather_zero);
    for (std::size_t h = 0; h < out_len[0]; ++h)
      for (std::size_t w = 0; w < out_len[1]; ++w) {
        const long long ih = sign > 0 ? static_cast<long long>(h / up[0]) - static_cast<long long>(before[0])
                                      : static_cast<long long>(h + before[0]);
        const long long iw = sign > 0 ? static_cast<long long>(w / up[1]) - static_cast<long long>(before[1])
                                      : static_cast<long long>(w + before[1]);
        const bool inside = ih >= 0 && iw >= 0 && ih < static_cast<long long>(in_len[0]) &&
                            iw < static_cast<long long>(in_len[1]);
        for (std::size_t c = 0; c < channels; ++c)
          index[h * so.h + w * so.w + c * so.c] =
              inside ? static_cast<std::size_t>(ih) * si.h + static_cast<std::size_t>(iw) * si.w + c * si.c
                     : fixed_rt::gather_zero;
      }
    return index;
  }

  void build();
  std::size_t build_activation(const NodeSpec& n, const Activation& a, const PrecisionSpec& p,
                               std::size_t in, const Shape& shape);

  ModelSpec spec_;
  GraphInfo graph_;
  std::vector<FixedTensorInfo> inputs_, outputs_;
  std::vector<Value> values_;            // 0 .. inputs-1: the model inputs
  std::vector<std::size_t> node_value_;  // node index -> value id (npos when not evaluated)
  std::vector<Step> steps_;
  std::vector<std::size_t> output_values_;
  std::size_t scratch_ = 0;
};

inline std::size_t FixedModel::build_activation(const NodeSpec& n, const Activation& a,
                                                const PrecisionSpec& p, std::size_t in,
                                                const Shape& shape) {
  const FixedType input = values_[in].type;
  const FixedType result = need(p, p.result, "result");
  const std::size_t size = values_[in].size;
  const std::size_t out = add_value(size, result);
  switch (a.kind) {
    case ActivationKind::linear:
    case ActivationKind::relu:
    case ActivationKind::relu6:
      add_step(new fixed_rt::ElementwiseOp(size, a.kind, input, result), {in}, out);
      return out;
    case ActivationKind::leaky_relu: {
      auto* op = new fixed_rt::ElementwiseOp(size, a.kind, input, result);
      const FixedType param = need(p, p.param, "param");
      op->set_param(fixed_rt::from_double(a.alpha, param), param);
      add_step(op, {in}, out);
      return out;
    }
    case ActivationKind::hard_sigmoid: {
      auto* op = new fixed_rt::ElementwiseOp(size, a.kind, input, result);
      FixedType slope{16, 0, false, Quantization::TRN, Overflow::WRAP};
      FixedType shift{2, 0, false, Quantization::TRN, Overflow::WRAP};
      if (p.slope) slope = *p.slope;
      if (p.shift) shift = *p.shift;
      const int fp = slope.fractional() + input.fractional();
      const int grow = std::abs(fp - shift.fractional());
      if (slope.width + input.width + grow > 124)
        unsupported(n, "hard_sigmoid with these types needs more than 128 bits");
      op->set_param(fixed_rt::from_double(a.slope, slope), slope);
      op->set_shift(fixed_rt::from_double(a.offset, shift), shift);
      add_step(op, {in}, out);
      return out;
    }
    case ActivationKind::sigmoid:
    case ActivationKind::tanh:
    case ActivationKind::softplus:
    case ActivationKind::softsign: {
      auto* op = new fixed_rt::ElementwiseOp(size, a.kind, input, result);
      const std::size_t n_table = p.table_size.value_or(1024);
      const FixedType table = p.table.value_or(FixedType{18, 8, true, Quantization::TRN, Overflow::WRAP});
      op->table().build(a.kind, n_table, table);
      add_step(op, {in}, out);
      return out;
    }
    case ActivationKind::softmax: {
      fixed_rt::SoftmaxTables t;
      const FixedType def{18, 8, true, Quantization::RND, Overflow::SAT};
      t.impl = p.implementation.value_or(SoftmaxImplementation::stable);
      t.input = input;
      t.result = result;
      t.exp_table_type = p.exp_table.value_or(def);
      t.inv_table_type = p.inv_table.value_or(def);
      t.accum = p.accum.value_or(def);
      t.inv_input = p.inv_input.value_or(t.exp_table_type);
      if (p.norm_input) {
        t.norm_input = *p.norm_input;
      } else {
        const int s = input.is_signed ? 1 : 0;
        if (input.width - s < 1) unsupported(n, "softmax stable on a 1-bit signed input");
        t.norm_input = FixedType{input.width - s, input.integer - s, false, Quantization::TRN, Overflow::WRAP};
      }
      t.table_type = p.table.value_or(FixedType{18, 8, true, Quantization::TRN, Overflow::WRAP});
      t.exp_scale = static_cast<float>(p.exp_scale.value_or(1.0));
      const std::size_t ts = p.table_size.value_or(1024);
      t.exp_table.resize(p.exp_table_size.value_or(ts));
      t.inv_table.resize(p.inv_table_size.value_or(ts));
      if (t.impl == SoftmaxImplementation::latency || t.impl == SoftmaxImplementation::stable) {
        const FixedType& idx = t.impl == SoftmaxImplementation::stable ? t.norm_input : input;
        if (fixed_rt::ceil_log2(t.exp_table.size()) > idx.width)
          precision_fail(p, "exp_table_size",
                         "a table of " + std::to_string(t.exp_table.size()) + " entries needs " +
                             std::to_string(fixed_rt::ceil_log2(t.exp_table.size())) +
                             " index bits, more than the " + std::to_string(idx.width) + " bits of " +
                             to_string(idx));
        if (fixed_rt::ceil_log2(t.inv_table.size()) > t.inv_input.width)
          precision_fail(p, "inv_table_size",
                         "a table of " + std::to_string(t.inv_table.size()) + " entries needs more index bits than the " +
                             std::to_string(t.inv_input.width) + " bits of " + to_string(t.inv_input));
        if (t.impl == SoftmaxImplementation::stable) check_align(n, input, input, "max - x");
      }
      t.build();
      const std::size_t axis = static_cast<std::size_t>(a.axis < 0 ? static_cast<long long>(shape.size()) + a.axis : a.axis);
      std::size_t outer = 1, inner = 1;
      for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
      for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
      add_step(new fixed_rt::SoftmaxOp(outer, shape[axis], inner, std::move(t)), {in}, out);
      return out;
    }
    default:
      unsupported(n, std::string("activation '") + activation_name(a.kind) + "' is not supported");
  }
}

inline void FixedModel::build() {
  const std::size_t npos = static_cast<std::size_t>(-1);
  if (!spec_.fixed_point)
    throw UnsupportedError(where() + "the model has no \"fixed_point\" block (input types): it "
                           "cannot run in fixed point (docs/format.md, \"Fixed-point precision\")");
  for (std::size_t i = 0; i < spec_.inputs.size(); ++i) {
    const InputSpec& in = spec_.inputs[i];
    if (!in.preprocessing.empty())
      throw UnsupportedError(where() + "input '" + in.name +
                             "' has float preprocessing, which the fixed-point engine does not "
                             "apply (use fixed_point.inputs offset/shift instead)");
    if (in.dtype != InputType::float32)
      throw UnsupportedError(where() + "input '" + in.name + "' is int32: not supported in fixed point");
    const FixedType t = spec_.fixed_point->inputs[i].type;
    inputs_.push_back(FixedTensorInfo{in.name, in.shape, element_count(in.shape), t});
    add_value(element_count(in.shape), t);
  }
  node_value_.assign(spec_.nodes.size(), npos);
  auto value_of = [&](const ValueRef& r) { return r.is_model_input ? r.index : node_value_[r.index]; };

  for (std::size_t ni : graph_.order) {
    const NodeSpec& n = spec_.nodes[ni];
    const Shape& out_shape = graph_.node_shapes[ni];
    const std::size_t out_size = element_count(out_shape);
    std::vector<std::size_t> args;
    for (const ValueRef& r : graph_.node_inputs[ni]) args.push_back(value_of(r));
    const std::size_t in0 = args[0];
    const FixedType tin = values_[in0].type;
    const bool data_movement =
        std::holds_alternative<FlattenParams>(n.params) || std::holds_alternative<ReshapeParams>(n.params) ||
        std::holds_alternative<DropoutParams>(n.params) || std::holds_alternative<PermuteParams>(n.params) ||
        std::holds_alternative<SpatialPadParams>(n.params) || std::holds_alternative<UpSamplingParams>(n.params);
    if (!n.precision && !data_movement)
      unsupported(n, "no \"precision\" object: the node cannot run");
    static const PrecisionSpec none;
    const PrecisionSpec& p = n.precision ? *n.precision : none;
    std::size_t result_value = npos;

    if (data_movement) {
      const FixedType to = p.result.value_or(tin);
      const std::size_t out = add_value(out_size, to);
      if (auto* perm = std::get_if<PermuteParams>(&n.params)) {
        const Shape& s = graph_.node_shapes[ni];
        const Shape& is = input_shape(ni, 0);
        std::vector<std::size_t> in_strides(is.size(), 1);
        for (std::size_t d = is.size() - 1; d-- > 0;) in_strides[d] = in_strides[d + 1] * is[d + 1];
        std::vector<std::size_t> index(out_size);
        std::vector<std::size_t> pos(s.size(), 0);
        for (std::size_t k = 0; k < out_size; ++k) {
          std::size_t src = 0;
          for (std::size_t d = 0; d < s.size(); ++d) src += pos[d] * in_strides[perm->dims[d]];
          index[k] = src;
          for (std::size_t d = s.size(); d-- > 0;) {
            if (++pos[d] < s[d]) break;
            pos[d] = 0;
          }
        }
        add_step(new fixed_rt::GatherOp(std::move(index), tin, to), {in0}, out);
      } else if (std::holds_alternative<SpatialPadParams>(n.params) ||
                 std::holds_alternative<UpSamplingParams>(n.params)) {
        add_step(new fixed_rt::GatherOp(spatial_gather(n, input_shape(ni, 0), out_shape), tin, to), {in0}, out);
      } else {
        add_step(new fixed_rt::CastOp(out_size, tin, to), {in0}, out);
      }
      result_value = out;
    } else if (auto* d = std::get_if<DenseParams>(&n.params)) {
      const FixedType w = need(p, p.weight, "weight"), acc = need(p, p.accum, "accum"),
                      res = need(p, p.result, "result");
      const std::vector<float>& kv = n.weights.at("kernel").values;
      std::vector<std::int64_t> kernel = weight_raw(p, "kernel", kv, w);
      std::vector<std::int64_t> bias;
      if (d->use_bias) {
        const FixedType b = need(p, p.bias, "bias");
        for (std::int64_t v : weight_raw(p, "bias", n.weights.at("bias").values, b))
          bias.push_back(fixed_rt::cast(v, b.fractional(), acc));
      }
      const std::size_t in_features = kv.size() / d->units;
      const std::size_t pre = add_value(out_size, res);
      add_step(new fixed_rt::DenseOp(out_size / d->units, in_features, d->units, kernel,
                                     std::move(bias), fixed_rt::Accumulator(tin, w, acc, res)),
               {in0}, pre);
      result_value = pre;
      if (d->activation.kind != ActivationKind::linear) {
        if (p.activation.empty()) precision_fail(p, "", "missing required key \"activation\"");
        result_value = build_activation(n, d->activation, p.activation[0], pre, out_shape);
      }
    } else if (auto* c = std::get_if<ConvParams>(&n.params)) {
      if (c->kind != ConvKind::conv) unsupported(n, "this convolution is not supported");
      if (c->groups != 1) unsupported(n, "groups other than 1 are not supported");
      const Shape& in_shape = input_shape(ni, 0);
      const NodeCheck check(spec_.source, ni, n.name, layer_type_name(n.params), {in_shape}, n.weights);
      const SpatialGeometry g = conv_geometry(*c, check);
      const FixedType w = need(p, p.weight, "weight"), acc = need(p, p.accum, "accum"),
                      res = need(p, p.result, "result");
      std::vector<std::int64_t> kernel = weight_raw(p, "kernel", n.weights.at("kernel").values, w);
      std::vector<std::int64_t> bias;
      if (c->use_bias) {
        const FixedType b = need(p, p.bias, "bias");
        for (std::int64_t v : weight_raw(p, "bias", n.weights.at("bias").values, b))
          bias.push_back(fixed_rt::cast(v, b.fractional(), acc));
      }
      const std::size_t pre = add_value(out_size, res);
      add_step(new fixed_rt::ConvOp(g, std::move(kernel), std::move(bias), fixed_rt::Accumulator(tin, w, acc, res)),
               {in0}, pre);
      result_value = pre;
      if (c->activation.kind != ActivationKind::linear) {
        if (p.activation.empty()) precision_fail(p, "", "missing required key \"activation\"");
        result_value = build_activation(n, c->activation, p.activation[0], pre, out_shape);
      }
    } else if (auto* a = std::get_if<ActivationParams>(&n.params)) {
      result_value = build_activation(n, a->activation, p, in0, out_shape);
    } else if (auto* bn = std::get_if<BatchNormParams>(&n.params)) {
      const FixedType st = need(p, p.scale, "scale"), bt = need(p, p.bias, "bias"),
                      res = need(p, p.result, "result");
      const std::size_t rank = out_shape.size();
      const std::size_t axis = static_cast<std::size_t>(bn->axis < 0 ? static_cast<long long>(rank) + bn->axis : bn->axis);
      std::size_t inner = 1;
      for (std::size_t k = axis + 1; k < rank; ++k) inner *= out_shape[k];
      const std::size_t channels = out_shape[axis];
      // hls4ml folds in float32 numpy arithmetic: scale = gamma / sqrt(var + eps),
      // bias = beta - scale * mean.
      std::vector<float> scale(channels), shift(channels);
      const float eps = static_cast<float>(bn->epsilon);
      auto get = [&](const char* name, float dflt, std::size_t i) {
        auto it = n.weights.find(name);
        return it == n.weights.end() ? dflt : it->second.values[i];
      };
      for (std::size_t i = 0; i < channels; ++i) {
        const float var_eps = get("moving_variance", 1.0f, i) + eps;
        const float root = std::sqrt(var_eps);
        scale[i] = get("gamma", 1.0f, i) / root;
        volatile float product = scale[i] * get("moving_mean", 0.0f, i);  // no fused multiply-add
        shift[i] = get("beta", 0.0f, i) - product;
      }
      const int fp = tin.fractional() + st.fractional();
      const int grow = std::abs(fp - bt.fractional());
      if (tin.width + st.width + grow > 124 || bt.width + grow > 124)
        unsupported(n, "x * scale + bias with these types needs more than 128 bits");
      add_step(new fixed_rt::BatchNormOp(out_size, channels, inner, weight_raw(p, "scale", scale, st),
                                         weight_raw(p, "bias", shift, bt), tin, st, bt, res),
               {in0}, result_value = add_value(out_size, res));
    } else if (auto* pool = std::get_if<PoolParams>(&n.params)) {
      const Shape& in_shape = input_shape(ni, 0);
      const NodeCheck check(spec_.source, ni, n.name, layer_type_name(n.params), {in_shape}, n.weights);
      const SpatialGeometry g = pool_geometry(*pool, check);
      const FixedType acc = need(p, p.accum, "accum"), res = need(p, p.result, "result");
      if (pool->op == PoolOp::average) check_align(n, acc, tin, "the sum");
      add_step(new fixed_rt::PoolOp(g, pool->op == PoolOp::max, pool->count_include_pad, tin, acc, res),
               {in0}, result_value = add_value(out_size, res));
    } else if (auto* gp = std::get_if<GlobalPoolParams>(&n.params)) {
      const Shape& in_shape = input_shape(ni, 0);
      SpatialGeometry g;
      g.format = gp->data_format;
      g.rank = gp->rank;
      split_spatial(in_shape, gp->data_format, gp->rank, g.in, g.in_channels);
      g.out_channels = g.in_channels;
      g.kernel = g.in;
      g.stride = g.in;
      g.out = {1, 1};
      const FixedType acc = need(p, p.accum, "accum"), res = need(p, p.result, "result");
      if (gp->op == PoolOp::average) check_align(n, acc, tin, "the sum");
      add_step(new fixed_rt::PoolOp(g, gp->op == PoolOp::max, false, tin, acc, res), {in0},
               result_value = add_value(out_size, res));
    } else if (auto* m = std::get_if<MergeParams>(&n.params)) {
      if (args.size() != 2)
        unsupported(n, "merges of " + std::to_string(args.size()) + " inputs are not supported (two only, as hls4ml)");
      const FixedType res = need(p, p.result, "result");
      const FixedType ta = values_[args[0]].type, tb = values_[args[1]].type;
      using K = fixed_rt::MergeOp2::Kind;
      K kind = K::add;
      switch (m->op) {
        case MergeOp::add: kind = K::add; break;
        case MergeOp::subtract: kind = K::subtract; break;
        case MergeOp::multiply: kind = K::multiply; break;
        case MergeOp::average: kind = K::average; break;
        case MergeOp::maximum: kind = K::maximum; break;
        case MergeOp::minimum: kind = K::minimum; break;
      }
      if (kind != K::multiply) check_align(n, ta, tb, "combining");
      add_step(new fixed_rt::MergeOp2(out_size, kind, ta, tb, res), args, result_value = add_value(out_size, res));
    } else if (auto* cc = std::get_if<ConcatenateParams>(&n.params)) {
      const FixedType res = need(p, p.result, "result");
      const std::size_t rank = out_shape.size();
      const std::size_t axis = static_cast<std::size_t>(cc->axis < 0 ? static_cast<long long>(rank) + cc->axis : cc->axis);
      std::size_t outer = 1, inner = 1;
      for (std::size_t k = 0; k < axis; ++k) outer *= out_shape[k];
      for (std::size_t k = axis + 1; k < rank; ++k) inner *= out_shape[k];
      std::vector<std::size_t> blocks;
      std::vector<FixedType> types;
      for (std::size_t k = 0; k < args.size(); ++k) {
        blocks.push_back(values_[args[k]].size / outer);
        types.push_back(values_[args[k]].type);
      }
      (void)inner;
      add_step(new fixed_rt::ConcatOp(outer, std::move(blocks), std::move(types), res), args,
               result_value = add_value(out_size, res));
    } else {
      unsupported(n, "this layer is not supported");
    }
    node_value_[ni] = result_value;
  }
  for (std::size_t o = 0; o < spec_.outputs.size(); ++o) {
    const std::size_t v = node_value_[graph_.output_nodes[o]];
    output_values_.push_back(v);
    const Shape& s = graph_.node_shapes[graph_.output_nodes[o]];
    outputs_.push_back(FixedTensorInfo{spec_.outputs[o].name, s, element_count(s), values_[v].type});
  }
}

/// One thread's workspace for a FixedModel: every buffer allocated here; run()
/// allocates nothing.
class FixedSession {
 public:
  explicit FixedSession(std::shared_ptr<const FixedModel> model) : model_(std::move(model)) {
    if (!model_) throw RunError("trignet: FixedSession needs a model (null pointer given)");
    for (const auto& v : model_->values_) buffers_.emplace_back(v.size, 0);
    scratch_.assign(model_->scratch_ + 1, 0);
    for (const auto& s : model_->steps_) {
      std::vector<const std::int64_t*> ptrs;
      for (std::size_t a : s.args) ptrs.push_back(buffers_[a].data());
      arg_ptrs_.push_back(std::move(ptrs));
    }
    for (std::size_t o = 0; o < model_->outputs_.size(); ++o)
      values_.emplace_back(model_->outputs_[o].size, 0.0);
  }

  const FixedModel& model() const { return *model_; }

  /// Single-input models: the first output's exact values.
  Span<const double> run(Span<const float> input) {
    const Span<const float> one[1] = {input};
    run_impl(Span<const Span<const float>>(one, 1));
    return Span<const double>(values_[0].data(), values_[0].size());
  }
  Span<const double> run(Span<const double> input) {
    const Span<const double> one[1] = {input};
    run_impl(Span<const Span<const double>>(one, 1));
    return Span<const double>(values_[0].data(), values_[0].size());
  }
  Span<const double> run(const std::vector<float>& input) { return run(Span<const float>(input.data(), input.size())); }
  Span<const double> run(const std::vector<double>& input) { return run(Span<const double>(input.data(), input.size())); }

  /// One span per model input (model order); every output's values are
  /// written to `outputs` (one span per output, of its size) when given.
  template <typename T>
  void run(Span<const Span<const T>> inputs, Span<const Span<double>> outputs = {}) {
    run_impl(inputs);
    if (outputs.size() == 0) return;
    if (outputs.size() != values_.size())
      throw RunError("trignet: expected " + std::to_string(values_.size()) + " output buffers, found " +
                     std::to_string(outputs.size()));
    for (std::size_t o = 0; o < values_.size(); ++o) {
      if (outputs[o].size() != values_[o].size())
        throw RunError("trignet: output '" + model_->outputs_[o].name + "' has " +
                       std::to_string(values_[o].size()) + " elements, its buffer " +
                       std::to_string(outputs[o].size()));
      for (std::size_t i = 0; i < values_[o].size(); ++i) outputs[o][i] = values_[o][i];
    }
  }

  /// Inputs given as raw integers of the input types (kept to their low W bits).
  void run_raw(Span<const Span<const std::int64_t>> inputs) {
    check_inputs(inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const FixedType& t = model_->inputs_[i].type;
      for (std::size_t k = 0; k < inputs[i].size(); ++k)
        buffers_[i][k] = static_cast<std::int64_t>(detail::fixed_wrap<fixed_rt::int128>(inputs[i][k], t.width, t.is_signed));
    }
    evaluate();
  }

  /// Raw integers (value * 2^F) of output k after the last run.
  Span<const std::int64_t> raw_output(std::size_t k) const {
    const std::vector<std::int64_t>& b = buffers_[model_->output_values_.at(k)];
    return Span<const std::int64_t>(b.data(), b.size());
  }
  /// Exact values (as double) of output k after the last run.
  Span<const double> output(std::size_t k) const {
    return Span<const double>(values_.at(k).data(), values_.at(k).size());
  }

 private:
  template <typename S>
  void check_inputs(Span<const Span<const S>> inputs) const {
    if (inputs.size() != model_->inputs_.size())
      throw RunError("trignet: the model has " + std::to_string(model_->inputs_.size()) + " input" +
                     (model_->inputs_.size() == 1 ? "" : "s") + ", " + std::to_string(inputs.size()) + " given");
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].size() != model_->inputs_[i].size)
        throw RunError("trignet: input '" + model_->inputs_[i].name + "' expects " +
                       std::to_string(model_->inputs_[i].size) + " values, " +
                       std::to_string(inputs[i].size()) + " given");
  }

  template <typename T>
  void run_impl(Span<const Span<const T>> inputs) {
    check_inputs(inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const FixedType& t = model_->inputs_[i].type;
      const FixedInputSpec& f = model_->spec_.fixed_point->inputs[i];
      std::int64_t* dst = buffers_[i].data();
      const bool plain = f.offset == 0.0 && f.shift == 0;
      for (std::size_t k = 0; k < inputs[i].size(); ++k) {
        const T x = inputs[i][k];
        dst[k] = plain ? fixed_rt::from_double(static_cast<double>(x), t)
                       : fixed_rt::from_double(std::ldexp(static_cast<double>(x) - f.offset, f.shift), t);
      }
    }
    evaluate();
  }

  void evaluate() {
    const auto& steps = model_->steps_;
    for (std::size_t s = 0; s < steps.size(); ++s)
      steps[s].op->run(arg_ptrs_[s].data(), buffers_[steps[s].out].data(), scratch_.data());
    for (std::size_t o = 0; o < values_.size(); ++o) {
      const std::vector<std::int64_t>& b = buffers_[model_->output_values_[o]];
      const FixedType& t = model_->outputs_[o].type;
      for (std::size_t i = 0; i < b.size(); ++i) values_[o][i] = fixed_rt::to_double(b[i], t);
    }
  }

  std::shared_ptr<const FixedModel> model_;
  std::vector<std::vector<std::int64_t>> buffers_;
  std::vector<std::vector<const std::int64_t*>> arg_ptrs_;
  std::vector<std::int64_t> scratch_;
  std::vector<std::vector<double>> values_;
};

/// Loads a model file for fixed-point evaluation (FormatError for a bad file,
/// UnsupportedError naming the node for what the engine cannot run).
inline std::shared_ptr<const FixedModel> load_fixed_model(const std::string& path,
                                                          const ResourceLimits& limits = ResourceLimits()) {
  return std::make_shared<const FixedModel>(load_model_spec(path, limits));
}

inline std::shared_ptr<const FixedModel> load_fixed_model_from_string(const std::string& text,
                                                                      const std::string& source = "<string>") {
  return std::make_shared<const FixedModel>(parse_model_spec(text, source));
}

}  // namespace trignet
