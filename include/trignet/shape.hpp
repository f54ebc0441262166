#pragma once
// Per-sample tensor shapes (the batch dimension is never part of a Shape).

#include <cstddef>
#include <string>
#include <vector>

namespace trignet {

using Shape = std::vector<std::size_t>;

/// Number of elements of a tensor of this shape.
inline std::size_t element_count(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

/// "[16, 64]": how shapes appear in error messages and in `trignet info`.
inline std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

/// Resolves a possibly negative axis against a rank; returns false if out of range.
inline bool normalize_axis(long long axis, std::size_t rank, std::size_t& out) {
  const long long r = static_cast<long long>(rank);
  if (axis < -r || axis >= r) return false;
  out = static_cast<std::size_t>(axis < 0 ? axis + r : axis);
  return true;
}

}  // namespace trignet
