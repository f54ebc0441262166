#pragma once
// FixedType: a fixed-point type known at run time (width, integer bits,
// signedness, quantisation, overflow), its ap_fixed spelling, and the exact
// run-time arithmetic of the fixed-point engine on raw integers. The cast is
// trignet::detail::fixed_cast, the same code as the compile-time
// trignet::fixed<W, I, Q, O> type (tests/test_fixed_engine.cpp compares them).

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "trignet/fixed.hpp"

namespace trignet {

/// Limits of a run-time fixed type (docs/format.md, "Fixed-point precision").
inline constexpr int fixed_type_max_width = 64;
inline constexpr int fixed_type_max_integer = 64;

struct FixedType {
  int width = 16;
  int integer = 6;  // integer bits, sign included; may be negative or above width
  bool is_signed = true;
  Quantization quantization = Quantization::TRN;
  Overflow overflow = Overflow::WRAP;

  int fractional() const { return width - integer; }
  std::int64_t max_raw() const {
    return static_cast<std::int64_t>((std::uint64_t(1) << (width - (is_signed ? 1 : 0))) - 1);
  }
  std::int64_t min_raw() const { return is_signed ? -max_raw() - 1 : 0; }

  bool operator==(const FixedType& o) const {
    return width == o.width && integer == o.integer && is_signed == o.is_signed &&
           quantization == o.quantization && overflow == o.overflow;
  }
  bool operator!=(const FixedType& o) const { return !(*this == o); }
};

inline const char* quantization_name(Quantization q) {
  switch (q) {
    case Quantization::TRN: return "AP_TRN";
    case Quantization::TRN_ZERO: return "AP_TRN_ZERO";
    case Quantization::RND: return "AP_RND";
    case Quantization::RND_ZERO: return "AP_RND_ZERO";
    case Quantization::RND_MIN_INF: return "AP_RND_MIN_INF";
    case Quantization::RND_INF: return "AP_RND_INF";
    case Quantization::RND_CONV: return "AP_RND_CONV";
  }
  return "?";
}

inline const char* overflow_name(Overflow o) {
  switch (o) {
    case Overflow::WRAP: return "AP_WRAP";
    case Overflow::SAT: return "AP_SAT";
    case Overflow::SAT_ZERO: return "AP_SAT_ZERO";
    case Overflow::SAT_SYM: return "AP_SAT_SYM";
  }
  return "?";
}

/// Canonical spelling: "ap_fixed<16,6>", "ap_ufixed<8,0,AP_RND,AP_SAT>"
/// (modes written only when not both default).
inline std::string to_string(const FixedType& t) {
  std::string s = t.is_signed ? "ap_fixed<" : "ap_ufixed<";
  s += std::to_string(t.width) + "," + std::to_string(t.integer);
  if (t.quantization != Quantization::TRN || t.overflow != Overflow::WRAP) {
    s += std::string(",") + quantization_name(t.quantization);
    if (t.overflow != Overflow::WRAP) s += std::string(",") + overflow_name(t.overflow);
  }
  return s + ">";
}

namespace detail {

inline std::string fixed_trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

inline bool fixed_parse_int(const std::string& text, long long& out) {
  const std::string s = fixed_trim(text);
  if (s.empty() || s.size() > 6) return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  long long v = 0;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = s[0] == '-' ? -v : v;
  return true;
}

}  // namespace detail

/// Parses "ap_fixed<W,I[,Q[,O[,0]]]>", "ap_ufixed<...>", "ap_int<W>", "ap_uint<W>"
/// (the "ap_" and "AP_" prefixes optional). Returns nullopt and sets `error`
/// (what is wrong, without the text itself) when the text is not a valid type.
inline std::optional<FixedType> parse_fixed_type(const std::string& text, std::string& error) {
  const std::string s = detail::fixed_trim(text);
  const std::size_t open = s.find('<');
  if (open == std::string::npos || s.back() != '>') {
    error = "expected a type such as \"ap_fixed<16,6>\", \"ap_ufixed<8,0,AP_RND,AP_SAT>\" or "
            "\"ap_int<8>\"";
    return std::nullopt;
  }
  std::string name = detail::fixed_trim(s.substr(0, open));
  if (name.rfind("ap_", 0) == 0) name = name.substr(3);
  const bool is_int = name == "int" || name == "uint";
  if (!is_int && name != "fixed" && name != "ufixed") {
    error = "unknown type name \"" + detail::fixed_trim(s.substr(0, open)) +
            "\" (expected ap_fixed, ap_ufixed, ap_int or ap_uint)";
    return std::nullopt;
  }
  std::vector<std::string> args;
  std::string inner = s.substr(open + 1, s.size() - open - 2);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= inner.size(); ++i)
    if (i == inner.size() || inner[i] == ',') {
      args.push_back(detail::fixed_trim(inner.substr(start, i - start)));
      start = i + 1;
    }
  FixedType t;
  t.is_signed = name == "fixed" || name == "int";
  long long w = 0, integer = 0;
  if (is_int) {
    if (args.size() != 1 || !detail::fixed_parse_int(args[0], w)) {
      error = "expected ap_" + name + "<W> with one integer argument";
      return std::nullopt;
    }
    integer = w;
  } else {
    if (args.size() < 2 || args.size() > 5 || !detail::fixed_parse_int(args[0], w) ||
        !detail::fixed_parse_int(args[1], integer)) {
      error = "expected ap_" + name + "<W,I>, <W,I,Q>, <W,I,Q,O> or <W,I,Q,O,0> with integer W and I";
      return std::nullopt;
    }
  }
  const int max_w = t.is_signed ? fixed_type_max_width : fixed_type_max_width - 1;
  if (w < 1 || w > max_w) {
    error = "width " + std::to_string(w) + " out of range (1 to " + std::to_string(max_w) +
            (t.is_signed ? "" : " for unsigned types") + ")";
    return std::nullopt;
  }
  if (integer < -fixed_type_max_integer || integer > fixed_type_max_integer) {
    error = "integer bits " + std::to_string(integer) + " out of range (-64 to 64)";
    return std::nullopt;
  }
  t.width = static_cast<int>(w);
  t.integer = static_cast<int>(integer);
  auto mode = [](std::string m) {
    if (m.rfind("AP_", 0) == 0) m = m.substr(3);
    return m;
  };
  if (args.size() >= 3) {
    static const char* qs[] = {"TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV"};
    const std::string q = mode(args[2]);
    bool found = false;
    for (int i = 0; i < 7; ++i)
      if (q == qs[i]) {
        t.quantization = static_cast<Quantization>(i);
        found = true;
      }
    if (!found) {
      error = "unknown quantisation mode \"" + args[2] +
              "\" (expected AP_TRN, AP_TRN_ZERO, AP_RND, AP_RND_ZERO, AP_RND_MIN_INF, AP_RND_INF "
              "or AP_RND_CONV)";
      return std::nullopt;
    }
  }
  if (args.size() >= 4) {
    static const char* os[] = {"WRAP", "SAT", "SAT_ZERO", "SAT_SYM"};
    const std::string o = mode(args[3]);
    bool found = false;
    for (int i = 0; i < 4; ++i)
      if (o == os[i]) {
        t.overflow = static_cast<Overflow>(i);
        found = true;
      }
    if (!found) {
      error = "unknown overflow mode \"" + args[3] +
              "\" (expected AP_WRAP, AP_SAT, AP_SAT_ZERO or AP_SAT_SYM; AP_WRAP_SM is not supported)";
      return std::nullopt;
    }
  }
  if (args.size() == 5) {
    long long n = 0;
    if (!detail::fixed_parse_int(args[4], n) || n != 0) {
      error = "saturation bits \"" + args[4] + "\" are not supported (only 0)";
      return std::nullopt;
    }
  }
  return t;
}

namespace fixed_rt {

using int128 = detail::fixed_int128;

/// The exact value v * 2^-f cast to t (t's Q, then t's O); returns t's raw value.
inline std::int64_t cast(int128 v, int f, const FixedType& t) {
  return static_cast<std::int64_t>(detail::fixed_cast<int128>(
      v, f - t.fractional(), t.width, t.is_signed, t.quantization, t.overflow));
}

/// A double read as ap_fixed reads it ((1.m) * 2^(e - 1023), hidden bit always
/// set; +-0 is 0), cast to t: ap_fixed's constructor from double.
inline std::int64_t from_double(double d, const FixedType& t) {
  std::uint64_t b = 0;
  std::memcpy(&b, &d, sizeof b);
  if ((b & 0x7fffffffffffffffull) == 0) return 0;
  const int e = static_cast<int>((b >> 52) & 0x7ff) - 1023;
  std::int64_t man = static_cast<std::int64_t>((b & 0xfffffffffffffull) | (1ull << 52));
  if ((b >> 63) != 0) man = -man;
  return cast(man, 52 - e, t);
}

/// From float: as from the equal double (ap_fixed's constructor from float).
inline std::int64_t from_float(float f, const FixedType& t) {
  return from_double(static_cast<double>(f), t);
}

/// The value raw * 2^-F, rounded to nearest double (ties to even) in one
/// rounding, as ap_fixed::to_double.
inline double to_double(std::int64_t raw, const FixedType& t) {
  return std::ldexp(static_cast<double>(raw), -t.fractional());
}

/// As ap_fixed::to_float: one rounding to float.
inline float to_float(std::int64_t raw, const FixedType& t) {
  return std::ldexp(static_cast<float>(raw), -t.fractional());
}

/// Largest shift needed to align two operands of a sum: two 64-bit values
/// aligned by up to 62 bits and added fit in 128 bits. Wider differences of
/// fractional bits are rejected when a model is built.
inline constexpr int max_align_shift = 62;

/// a * 2^-fa + b * 2^-fb, exactly, as v * 2^-f with f = max(fa, fb).
/// Requires |fa - fb| <= max_align_shift.
inline int128 exact_sum(int128 a, int fa, int128 b, int fb, int& f) {
  f = fa > fb ? fa : fb;
  const int128 av = static_cast<int128>(a) * (static_cast<int128>(1) << (f - fa));
  const int128 bv = static_cast<int128>(b) * (static_cast<int128>(1) << (f - fb));
  return av + bv;
}

/// Exact comparison of a * 2^-fa and b * 2^-fb: -1, 0, +1.
inline int compare(std::int64_t a, int fa, std::int64_t b, int fb) {
  const int fm = fa > fb ? fa : fb;
  const int128 av = static_cast<int128>(a) * (static_cast<int128>(1) << (fm - fa));
  const int128 bv = static_cast<int128>(b) * (static_cast<int128>(1) << (fm - fb));
  return av < bv ? -1 : (av > bv ? 1 : 0);
}

}  // namespace fixed_rt

}  // namespace trignet
