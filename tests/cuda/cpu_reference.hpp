#pragma once
// The CPU engine as a reference for the GPU tests and benchmarks. Implemented
// in cpu_reference.cpp (C++ compiler, Eigen): CUDA translation units never
// include Eigen.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trignet_test {

/// Deterministic inputs in [-2, 2] for the GPU and host tests alike (a simple
/// LCG: no <random> differences between standard libraries).
inline std::vector<float> make_inputs(std::size_t n, std::uint32_t seed) {
  std::vector<float> v(n);
  std::uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>((s >> 8) & 0xffff) / 65535.0f * 4.0f - 2.0f;
  }
  return v;
}

/// Evaluates the model file `path` on the CPU in float. inputs[i]: batch x
/// size of model input i. Returns one batch-major vector per model output.
std::vector<std::vector<float>> cpu_reference(const std::string& path,
                                              const std::vector<std::vector<float>>& inputs,
                                              std::size_t batch);

}  // namespace trignet_test
