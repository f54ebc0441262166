#pragma once
// Session<T>: one thread's workspace for evaluating a shared Model<T>. It owns
// every buffer; after the first call at a given batch size, run() allocates
// nothing and takes no lock.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
#include <xmmintrin.h>
#define TRIGNET_HAVE_MXCSR 1
#else
#define TRIGNET_HAVE_MXCSR 0
#endif

#include "trignet/error.hpp"
#include "trignet/model.hpp"
#include "trignet/span.hpp"

namespace trignet {

/// What run() checks in the caller's input values (docs/user-guide.md, "NaN and infinities").
enum class InputCheck {
  /// Nothing: NaN and infinities propagate through the network (the default).
  none,
  /// Throw a RunError naming the input, sample and feature of the first NaN
  /// or infinity (a NaN in a feature with a nan_replacement is accepted).
  reject_non_finite,
};

namespace detail {

/// Sets the SSE flush-to-zero and denormals-are-zero bits for its lifetime
/// (x86 only; elsewhere it does nothing) and restores the caller's mode.
class FlushDenormalsGuard {
 public:
  explicit FlushDenormalsGuard(bool enable) {
#if TRIGNET_HAVE_MXCSR
    if (enable) {
      saved_ = _mm_getcsr();
      _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
      active_ = true;
    }
#else
    (void)enable;
#endif
  }
  ~FlushDenormalsGuard() {
#if TRIGNET_HAVE_MXCSR
    if (active_) _mm_setcsr(saved_);
#endif
  }
  FlushDenormalsGuard(const FlushDenormalsGuard&) = delete;
  FlushDenormalsGuard& operator=(const FlushDenormalsGuard&) = delete;

 private:
  unsigned int saved_ = 0;
  bool active_ = false;
};

}  // namespace detail

template <typename T>
class Session {
 public:
  /// `max_batch` sizes the buffers up front; a larger batch later grows them once.
  explicit Session(std::shared_ptr<const Model<T>> model, std::size_t max_batch = 1)
      : model_(std::move(model)) {
    if (!model_) throw RunError("trignet: Session needs a model, got a null pointer");
    value_ptr_.resize(model_->values_.size());
    std::size_t max_args = 1;
    for (const auto& step : model_->steps_) max_args = std::max(max_args, step.args.size());
    args_.resize(max_args);
    for (const auto& value : model_->values_) largest_ = std::max(largest_, value.per_sample);
    reserve(max_batch);
  }

  /// Input validation on every run (default InputCheck::none: NaN propagates).
  void set_input_check(InputCheck check) { input_check_ = check; }
  InputCheck input_check() const { return input_check_; }

  /// Flush denormal numbers to zero during run() (x86 SSE FTZ and DAZ bits,
  /// set on entry and restored on exit; a no-op on other architectures).
  /// Avoids the slow microcode path some CPUs take for denormal operands;
  /// results differ only for values below the smallest normal number.
  void set_flush_denormals(bool on) { flush_denormals_ = on; }
  bool flush_denormals() const { return flush_denormals_; }

  const Model<T>& model() const { return *model_; }
  const std::shared_ptr<const Model<T>>& model_ptr() const { return model_; }

  /// Largest batch the buffers hold now.
  std::size_t capacity() const { return capacity_; }

  /// Makes room for batches of up to `max_batch` samples (allocates).
  void reserve(std::size_t max_batch) {
    if (max_batch <= capacity_) return;
    if (max_batch > std::numeric_limits<std::size_t>::max() / largest_)
      throw RunError("trignet: batch size " + std::to_string(max_batch) + " is too large");
    slots_.resize(model_->slot_sizes_.size());
    for (std::size_t s = 0; s < slots_.size(); ++s) slots_[s].assign(model_->slot_sizes_[s] * max_batch, T(0));
    std::size_t scratch = 0;  // one workspace serves every layer in turn
    for (const auto& step : model_->steps_)
      scratch = std::max(scratch, step.layer->workspace_size(max_batch));
    workspace_.assign(scratch, T(0));
    capacity_ = max_batch;
  }

  /// Single-input model: evaluates `input.size() / input size` samples and
  /// returns the first output (all outputs: output(i)). The view stays valid
  /// until the next call.
  Span<const T> run(Span<const T> input) {
    if (model_->inputs_.size() != 1)
      throw RunError("trignet: model '" + model_->name() + "' has " +
                     std::to_string(model_->inputs_.size()) +
                     " inputs; call run(inputs, batch) with one span per input");
    const std::size_t size = model_->inputs_[0].size;
    if (input.size() == 0 || input.size() % size != 0)
      throw RunError("trignet: input '" + model_->inputs_[0].name + "': expected a multiple of " +
                     std::to_string(size) + " values (shape " + to_string(model_->inputs_[0].shape) +
                     " per sample), found " + std::to_string(input.size()));
    const Span<const T> one[1] = {input};
    run(Span<const Span<const T>>(one, 1), input.size() / size);
    return output(0);
  }

  /// Evaluates `batch` samples; inputs[i] holds batch x input i's size values
  /// (batch-major). Results: output(i).
  void run(Span<const Span<const T>> inputs, std::size_t batch = 1) {
    execute(inputs, batch, [](std::size_t, Span<const T>) {});
  }

  /// As above, and copies output i into outputs[i] (batch x output i's size values).
  void run(Span<const Span<const T>> inputs, Span<const Span<T>> outputs, std::size_t batch = 1) {
    if (outputs.size() != model_->outputs_.size())
      throw RunError("trignet: model '" + model_->name() + "' has " +
                     std::to_string(model_->outputs_.size()) + " outputs, found " +
                     std::to_string(outputs.size()) + " output buffers");
    for (std::size_t o = 0; o < outputs.size(); ++o)
      if (outputs[o].size() != batch * model_->outputs_[o].size)
        throw RunError("trignet: output '" + model_->outputs_[o].name + "': expected a buffer of " +
                       std::to_string(batch * model_->outputs_[o].size) + " values (batch " +
                       std::to_string(batch) + " x shape " + to_string(model_->outputs_[o].shape) +
                       "), found " + std::to_string(outputs[o].size()));
    run(inputs, batch);
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      const Span<const T> y = output(o);
      std::copy(y.begin(), y.end(), outputs[o].begin());
    }
  }

  /// Evaluates like run() and calls `trace(node_index, values)` after every
  /// node, with the node's batch x size results (see model().spec().nodes).
  /// For debugging: compare intermediate tensors with the training framework.
  template <typename Callback>
  void run_traced(Span<const Span<const T>> inputs, std::size_t batch, Callback&& trace) {
    execute(inputs, batch, trace);
  }

  /// Output i of the last call: batch x size values, valid until the next call.
  Span<const T> output(std::size_t i) const {
    if (i >= model_->output_values_.size())
      throw RunError("trignet: output index " + std::to_string(i) + " out of range (model has " +
                     std::to_string(model_->output_values_.size()) + " outputs)");
    const std::size_t v = model_->output_values_[i];
    return Span<const T>(value_ptr_[v], batch_ * model_->values_[v].per_sample);
  }

  /// Batch size of the last call.
  std::size_t batch() const { return batch_; }

 private:
  template <typename Callback>
  void execute(Span<const Span<const T>> inputs, std::size_t batch, Callback&& trace) {
    const Model<T>& m = *model_;
    if (inputs.size() != m.inputs_.size())
      throw RunError("trignet: model '" + m.name() + "' has " + std::to_string(m.inputs_.size()) +
                     " inputs, found " + std::to_string(inputs.size()) + " input buffers");
    if (batch == 0) throw RunError("trignet: batch size must be at least 1");
    if (batch > std::numeric_limits<std::size_t>::max() / largest_)
      throw RunError("trignet: batch size " + std::to_string(batch) + " is too large");
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].size() != batch * m.inputs_[i].size)
        throw RunError("trignet: input '" + m.inputs_[i].name + "': expected " +
                       std::to_string(batch * m.inputs_[i].size) + " values (batch " +
                       std::to_string(batch) + " x shape " + to_string(m.inputs_[i].shape) +
                       "), found " + std::to_string(inputs[i].size()));
    if (input_check_ == InputCheck::reject_non_finite)
      for (std::size_t i = 0; i < inputs.size(); ++i) check_finite(i, inputs[i]);
    reserve(batch);
    batch_ = batch;
    const detail::FlushDenormalsGuard denormals(flush_denormals_);

    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& pre = m.preprocessing_[i];
      if (!pre.active) {
        value_ptr_[i] = inputs[i].data();
        continue;
      }
      T* x = slots_[static_cast<std::size_t>(m.values_[i].slot)].data();
      preprocess(pre, inputs[i].data(), x, inputs[i].size());
      value_ptr_[i] = x;
    }
    const std::size_t n_inputs = m.inputs_.size();
    for (std::size_t k = 0; k < m.steps_.size(); ++k) {
      const auto& step = m.steps_[k];
      const std::size_t v = n_inputs + k;
      if (step.alias) {
        value_ptr_[v] = value_ptr_[step.args[0]];
      } else {
        for (std::size_t a = 0; a < step.args.size(); ++a) args_[a] = value_ptr_[step.args[a]];
        T* out = slots_[static_cast<std::size_t>(m.values_[v].slot)].data();
        step.layer->forward(args_.data(), out, batch, workspace_.data());
        value_ptr_[v] = out;
      }
      trace(step.node, Span<const T>(value_ptr_[v], batch * m.values_[v].per_sample));
    }
  }

  void check_finite(std::size_t input, Span<const T> x) const {
    const Model<T>& m = *model_;
    const auto& pre = m.preprocessing_[input];
    const std::size_t size = m.inputs_[input].size;
    const std::size_t features = m.inputs_[input].shape.back();
    for (std::size_t k = 0; k < x.size(); ++k) {
      if (std::isfinite(x[k])) continue;
      const std::size_t f = k % features;
      if (std::isnan(x[k]) && !pre.nan_replacement.empty()) continue;
      const std::size_t within = k % size;
      const auto& variables = m.spec().inputs[input].variables;
      throw RunError("trignet: input '" + m.inputs_[input].name + "': sample " +
                     std::to_string(k / size) + ", feature " + std::to_string(within) +
                     (variables.empty() ? std::string() : " ('" + variables[f] + "')") + " is " +
                     (std::isnan(x[k]) ? "NaN" : x[k] > 0 ? "+inf" : "-inf") +
                     " (the session rejects non-finite inputs: InputCheck::reject_non_finite)");
    }
  }

  static void preprocess(const typename Model<T>::InputPreprocessing& pre, const T* in, T* out,
                         std::size_t n) {
    const std::size_t f_count = pre.features;
    const bool replace = !pre.nan_replacement.empty();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t f = i % f_count;
      T x = in[i];
      if (replace && std::isnan(x)) x = pre.nan_replacement[f];
      out[i] = (x - pre.offset[f]) * pre.scale[f];
    }
  }

  std::shared_ptr<const Model<T>> model_;
  std::vector<std::vector<T>> slots_;
  std::vector<T> workspace_;
  std::vector<const T*> value_ptr_;
  std::vector<const T*> args_;
  std::size_t capacity_ = 0;
  std::size_t batch_ = 0;
  std::size_t largest_ = 1;  // largest per-sample value: bounds batch against overflow
  InputCheck input_check_ = InputCheck::none;
  bool flush_denormals_ = false;
};

}  // namespace trignet
