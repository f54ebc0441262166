#pragma once
// A fixed-size float buffer on a cache-line boundary, allocated once (at load).

#include <cstddef>
#include <memory>
#include <new>

#include "trignet/simd/vec.hpp"

namespace trignet::simd {
inline namespace TRIGNET_SIMD_NS {

class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(std::size_t n) : data_(allocate(n)), size_(n) {
    for (std::size_t i = 0; i < n; ++i) data_.get()[i] = 0.0f;
  }
  AlignedFloats(const AlignedFloats& other) : AlignedFloats(other.size_) {
    for (std::size_t i = 0; i < size_; ++i) data_.get()[i] = other.data_.get()[i];
  }
  AlignedFloats& operator=(const AlignedFloats& other) {
    if (this != &other) *this = AlignedFloats(other);
    return *this;
  }
  AlignedFloats(AlignedFloats&&) noexcept = default;
  AlignedFloats& operator=(AlignedFloats&&) noexcept = default;

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(alignment)); }
  };
  static float* allocate(std::size_t n) {
    return n ? static_cast<float*>(::operator new[](n * sizeof(float), std::align_val_t(alignment)))
             : nullptr;
  }
  std::unique_ptr<float, Free> data_;
  std::size_t size_ = 0;
};

}  // inline namespace TRIGNET_SIMD_NS
}  // namespace trignet::simd
