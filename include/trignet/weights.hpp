#pragma once
// Weight tensors as they come from the model file: float32 values in
// row-major order of their shape.

#include <map>
#include <string>
#include <vector>

#include "trignet/shape.hpp"

namespace trignet {

struct WeightTensor {
  Shape shape;
  std::vector<float> values;  // row-major, element_count(shape) entries
};

using WeightMap = std::map<std::string, WeightTensor>;

}  // namespace trignet
