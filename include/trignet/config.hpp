#pragma once
// Build-level switches shared by all headers.

#if defined(__CUDACC__)
#define TRIGNET_HOST_DEVICE __host__ __device__
#else
#define TRIGNET_HOST_DEVICE
#endif

namespace trignet {
/// Version of this library (not of the file format; see format/model_spec.hpp).
inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;
inline constexpr const char* version_string = "0.1.0";
}  // namespace trignet
