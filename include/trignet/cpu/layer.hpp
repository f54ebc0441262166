#pragma once
// The CPU layer interface: a compiled, immutable layer that maps batch-major
// input buffers to a batch-major output buffer. Nothing else.

#include <cstddef>

namespace trignet::cpu {

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;

  /// inputs[i] holds `batch` samples of input i; `output` has room for `batch`
  /// samples; `workspace` has workspace_size(batch) scratch elements owned by
  /// the calling Session. Must not allocate, lock or modify the layer (it is
  /// shared by threads).
  virtual void forward(const T* const* inputs, T* output, std::size_t batch,
                       T* workspace) const = 0;

  /// Scratch elements forward() needs for `batch` samples (im2col columns,
  /// recurrent state, attention scores...). Must grow at most linearly with batch.
  virtual std::size_t workspace_size(std::size_t batch) const {
    (void)batch;
    return 0;
  }

  /// True if the output is the first input unchanged (Flatten, Reshape, Dropout):
  /// the engine then reuses the input buffer and never calls forward.
  virtual bool is_alias() const { return false; }
};

}  // namespace trignet::cpu
