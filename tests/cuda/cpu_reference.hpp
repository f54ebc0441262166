#pragma once
// The CPU engine as a reference for the GPU tests and benchmarks. Implemented
// in cpu_reference.cpp (C++ compiler, Eigen): CUDA translation units never
// include Eigen.

#include <cstddef>
#include <string>
#include <vector>

namespace trignet_test {

/// Evaluates the model file `path` on the CPU in float. inputs[i]: batch x
/// size of model input i. Returns one batch-major vector per model output.
std::vector<std::vector<float>> cpu_reference(const std::string& path,
                                              const std::vector<std::vector<float>>& inputs,
                                              std::size_t batch);

}  // namespace trignet_test
