#pragma once
// CUDA runtime helpers: errors as exceptions, device detection that never
// crashes on a machine without a GPU or with a too-old driver.
// Host API only (cuda_runtime_api.h): usable from .cpp files compiled by the
// C++ compiler as well as from nvcc translation units.

#include <cuda_runtime_api.h>

#include <string>

#include "trignet/error.hpp"

namespace trignet::cuda {

/// A CUDA runtime or cuBLAS call failed (no device, out of memory, launch failure...).
class CudaError : public Error {
 public:
  using Error::Error;
};

namespace detail {

inline void check_cuda(cudaError_t status, const char* what, const char* file, int line) {
  if (status != cudaSuccess)
    throw CudaError(std::string("trignet: CUDA error in ") + what + " (" + file + ":" +
                    std::to_string(line) + "): " + cudaGetErrorName(status) + ": " +
                    cudaGetErrorString(status));
}

}  // namespace detail

#define TRIGNET_CUDA_CHECK(expr) ::trignet::cuda::detail::check_cuda((expr), #expr, __FILE__, __LINE__)

/// Number of usable CUDA devices; 0 when there is none or the driver is
/// missing or too old (the reason is in `reason`). Never throws.
inline int device_count(std::string* reason = nullptr) {
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) {
    if (reason) *reason = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
    (void)cudaGetLastError();  // clear the sticky-free error state
    return 0;
  }
  if (n == 0 && reason) *reason = "no CUDA device found";
  return n;
}

/// "NVIDIA H200, compute capability 9.0, 132 SMs" for the current device.
inline std::string device_description() {
  int dev = 0;
  TRIGNET_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p{};
  TRIGNET_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  return std::string(p.name) + ", compute capability " + std::to_string(p.major) + "." +
         std::to_string(p.minor) + ", " + std::to_string(p.multiProcessorCount) + " SMs, " +
         std::to_string(p.totalGlobalMem >> 20) + " MiB";
}

/// Device memory owned by one object (moved, never copied).
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) { resize(count); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), count_(o.count_) {
    o.ptr_ = nullptr;
    o.count_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = o.ptr_;
      count_ = o.count_;
      o.ptr_ = nullptr;
      o.count_ = 0;
    }
    return *this;
  }
  ~DeviceBuffer() { reset(); }

  /// Discards the contents; allocates only when growing.
  void resize(std::size_t count) {
    if (count <= count_) return;
    reset();
    void* p = nullptr;
    TRIGNET_CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
    ptr_ = static_cast<T*>(p);
    count_ = count;
  }
  void reset() noexcept {
    if (ptr_) (void)cudaFree(ptr_);
    ptr_ = nullptr;
    count_ = 0;
  }
  T* data() const { return ptr_; }
  std::size_t size() const { return count_; }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

/// Copies host data to a new device buffer (synchronous).
template <typename T>
DeviceBuffer<T> upload(const T* data, std::size_t count) {
  DeviceBuffer<T> b(count == 0 ? 1 : count);
  if (count) TRIGNET_CUDA_CHECK(cudaMemcpy(b.data(), data, count * sizeof(T), cudaMemcpyHostToDevice));
  return b;
}

}  // namespace trignet::cuda
