#pragma once
// Number formatting shared by error messages and JSON writers.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace trignet::detail {

/// Text that reads back as the same value at the given precision (9 significant
/// digits for float32, 17 for float64); NaN and infinities as "nan", "inf", "-inf".
inline std::string number_text(double v, int digits = 9) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0 && std::signbit(v)) return "-0.0";  // "-0" would read back as an integer +0
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

/// Shortest text that reads back as the same float32 ("-1e-08", not
/// "-9.99999994e-09"), for messages that quote a value from a file.
inline std::string float_text(float v) {
  if (!std::isfinite(v) || v == 0) return number_text(v);
  for (int digits = 1; digits < 9; ++digits) {
    const std::string s = number_text(v, digits);
    if (std::strtof(s.c_str(), nullptr) == v) return s;
  }
  return number_text(v, 9);
}

}  // namespace trignet::detail
