// trignet::fixed against the exact-rational reference (tests/reference/
// fixed_reference.py): the same enumerated suite is run here and digested
// group by group; tests/data/fixed/reference_digests.txt holds the reference
// digests. Plus hand-written checks of result types, constexpr use, integers,
// wide types and the ap_fixed reading of NaN and infinities. The comparison
// with the real ap_fixed headers is tools/check-fixed-vs-ap.sh.

#include <trignet/fixed.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace {

using trignet::fixed;
using trignet::ufixed;
using Q = trignet::Quantization;
using O = trignet::Overflow;

constexpr Q kQ[] = {Q::TRN, Q::TRN_ZERO, Q::RND, Q::RND_ZERO, Q::RND_MIN_INF, Q::RND_INF, Q::RND_CONV};
constexpr O kO[] = {O::WRAP, O::SAT, O::SAT_ZERO, O::SAT_SYM};
const char* const kQName[] = {"TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV"};
const char* const kOName[] = {"WRAP", "SAT", "SAT_ZERO", "SAT_SYM"};

/// FNV-1a 64 over values as 8 little-endian bytes, as fixed_reference.py.
struct Digest {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void feed(std::int64_t v) {
    const auto u = static_cast<std::uint64_t>(v);
    for (int k = 0; k < 8; ++k) {
      h ^= (u >> (8 * k)) & 0xffu;
      h *= 0x100000001b3ull;
    }
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

struct Suite {
  std::map<std::string, std::string> expected;  // group -> digest
  std::vector<std::string> failures;
  long groups = 0;
  long cases = 0;
  long mismatches = 0;  // element-wise consistency checks

  Suite() {
    std::istringstream in(
        trignet_test::read_text(trignet_test::source_path("tests/data/fixed/reference_digests.txt")));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto cut = line.rfind(' ');
      expected[line.substr(0, cut)] = line.substr(cut + 1);
    }
  }
  void compare(const std::string& group, const std::string& what, const std::string& digest) {
    ++groups;
    const auto it = expected.find(group);
    if (it == expected.end())
      failures.push_back(group + " (" + what + "): no reference digest");
    else if (it->second != digest)
      failures.push_back(group + " (" + what + "): digest " + digest + ", reference " + it->second);
  }
  std::string report() const {
    std::string s = std::to_string(failures.size()) + " failing groups of " + std::to_string(groups);
    for (std::size_t k = 0; k < failures.size() && k < 20; ++k) s += "\n  " + failures[k];
    return s;
  }
};

// ---- casts: every W <= 8, several I, signed and unsigned, every Q and O ----

template <int W, int I, bool S, int QI, int OI>
void run_cast(Suite& suite) {
  using T = fixed<W, I, kQ[QI], kO[OI], S>;
  using Src = fixed<W + 4, I + 2, Q::TRN, O::WRAP, true>;   // F + 2 fractional bits, holds every j
  using USrc = ufixed<W + 3, I + 1, Q::TRN, O::WRAP>;     // the same grid, j >= 0
  constexpr int F = W - I;
  Digest d;
  for (int j = -(1 << (W + 3)); j < (1 << (W + 3)); ++j) {
    const double x = std::ldexp(static_cast<double>(j), -(F + 2));  // j/4 LSB, exact
    const T t(x);
    d.feed(static_cast<std::int64_t>(t.raw()));
    ++suite.cases;
    if (T(static_cast<float>(x)).raw() != t.raw()) ++suite.mismatches;
    if (T(Src::from_raw(j)).raw() != t.raw()) ++suite.mismatches;
    if (j >= 0 && T(USrc::from_raw(j)).raw() != t.raw()) ++suite.mismatches;
  }
  // Every raw value: to_double and to_float exact, raw/bits/from_raw round trip.
  for (auto r = T::lowest().raw(); r <= T::max().raw(); ++r) {
    const T t = T::from_raw(r);
    const double v = std::ldexp(static_cast<double>(r), -F);
    const bool symmetric_min = kO[OI] == O::SAT_SYM && S && W > 1 && r == T::lowest().raw();  // stored as -max
    if (t.raw() != r || t.to_double() != v || t.to_float() != static_cast<float>(v) ||
        T(v).raw() != (symmetric_min ? -T::max().raw() : r))
      ++suite.mismatches;
    if (static_cast<std::int64_t>(t.bits()) != (S && r < 0 ? r + (std::int64_t{1} << W) : r)) ++suite.mismatches;
  }
  suite.compare("cast " + std::to_string(W) + (S ? " s " : " u ") + kQName[QI] + " " + kOName[OI],
                "I=" + std::to_string(I), d.hex());
}

template <int W, int I, bool S, std::size_t... QO>
void run_cast_modes(Suite& suite, std::index_sequence<QO...>) {
  (run_cast<W, I, S, static_cast<int>(QO / 4), static_cast<int>(QO % 4)>(suite), ...);
}

template <int W>
void run_cast_width(Suite& suite) {
  // I negative, inside (0, W) and above W: the three alignments of the grid.
  using Modes = std::make_index_sequence<28>;
  run_cast_modes<W, -2, true>(suite, Modes{});
  run_cast_modes<W, (W + 1) / 2, true>(suite, Modes{});
  run_cast_modes<W, W + 3, true>(suite, Modes{});
  run_cast_modes<W, -2, false>(suite, Modes{});
  run_cast_modes<W, (W + 1) / 2, false>(suite, Modes{});
  run_cast_modes<W, W + 3, false>(suite, Modes{});
}

// ---- operators: every pair of raw values, W1, W2 <= 6 -----------------------

template <class T>
void feed_type(Digest& d) {
  d.feed(T::width);
  d.feed(T::integer_bits);
  d.feed(T::is_signed ? 1 : 0);
}

template <int W1, int I1, bool S1, int W2, int I2, bool S2>
void run_ops(Suite& suite) {
  using A = fixed<W1, I1, Q::TRN, O::WRAP, S1>;
  using B = fixed<W2, I2, Q::TRN, O::WRAP, S2>;
  Digest d;
  feed_type<decltype(A() + B())>(d);
  feed_type<decltype(A() - B())>(d);
  feed_type<decltype(A() * B())>(d);
  feed_type<decltype(A() / B())>(d);
  feed_type<decltype(-A())>(d);
  for (auto a = A::lowest().raw(); a <= A::max().raw(); ++a) {
    const A x = A::from_raw(a);
    for (auto b = B::lowest().raw(); b <= B::max().raw(); ++b) {
      const B y = B::from_raw(b);
      ++suite.cases;
      d.feed(static_cast<std::int64_t>((x + y).raw()));
      d.feed(static_cast<std::int64_t>((x - y).raw()));
      d.feed(static_cast<std::int64_t>((x * y).raw()));
      if (b != 0) d.feed(static_cast<std::int64_t>((x / y).raw()));
      d.feed(static_cast<std::int64_t>((-x).raw()));
      d.feed((x == y) | (x != y) << 1 | (x < y) << 2 | (x <= y) << 3 | (x > y) << 4 | (x >= y) << 5);
    }
  }
  auto name = [](int w, int i, bool s) {
    return std::to_string(w) + " " + std::to_string(i) + (s ? " s" : " u");
  };
  suite.compare("ops " + name(W1, I1, S1) + " " + name(W2, I2, S2), "", d.hex());
}

template <int W1, int W2, bool S1, bool S2>
void run_ops_signs(Suite& suite) {
  run_ops<W1, W1, S1, W2, W2, S2>(suite);
  run_ops<W1, 1, S1, W2, -1, S2>(suite);
  run_ops<W1, W1 + 2, S1, W2, W2 - 3, S2>(suite);
}

template <int W1, int W2>
void run_ops_widths(Suite& suite) {
  run_ops_signs<W1, W2, true, true>(suite);
  run_ops_signs<W1, W2, true, false>(suite);
  run_ops_signs<W1, W2, false, true>(suite);
  run_ops_signs<W1, W2, false, false>(suite);
}

template <int W1, std::size_t... K>
void run_ops_row(Suite& suite, std::index_sequence<K...>) {
  (run_ops_widths<W1, static_cast<int>(K) + 1>(suite), ...);
}

template <std::size_t... K>
void run_ops_all(Suite& suite, std::index_sequence<K...>) {
  (run_ops_row<static_cast<int>(K) + 1>(suite, std::make_index_sequence<6>{}), ...);
}

template <class T>
double dbl(const T& x) {
  return x.to_double();
}

}  // namespace

TEST_CASE("fixed casts match the exact-rational reference for every W <= 8, Q and O", "[fixed]") {
  Suite suite;
  REQUIRE(suite.expected.size() == 448 + 432);
  run_cast_width<1>(suite);
  run_cast_width<2>(suite);
  run_cast_width<3>(suite);
  run_cast_width<4>(suite);
  run_cast_width<5>(suite);
  run_cast_width<6>(suite);
  run_cast_width<7>(suite);
  run_cast_width<8>(suite);
  INFO(suite.report());
  CHECK(suite.groups == 448 * 3);
  CHECK(suite.failures.empty());
  CHECK(suite.mismatches == 0);
  CHECK(suite.cases == 1370880);
}

TEST_CASE("fixed + - * / negation and comparisons match the reference for all pairs, W <= 6", "[fixed]") {
  Suite suite;
  run_ops_all(suite, std::make_index_sequence<6>{});
  INFO(suite.report());
  CHECK(suite.groups == 432);
  CHECK(suite.failures.empty());
  CHECK(suite.cases == 190512);
}

TEST_CASE("fixed result types follow ap_fixed", "[fixed]") {
  using A = fixed<16, 6>;
  using B = ufixed<8, 3>;
  using P = decltype(A() * B());
  STATIC_REQUIRE(P::width == 24);
  STATIC_REQUIRE(P::integer_bits == 9);
  STATIC_REQUIRE(P::is_signed);
  using S = decltype(A() + B());  // unsigned operand needs one more integer bit
  STATIC_REQUIRE(S::integer_bits == 7);
  STATIC_REQUIRE(S::width == 17);
  using D = decltype(B() - B());  // differences are signed
  STATIC_REQUIRE(D::is_signed);
  STATIC_REQUIRE(D::width == 9);
  using N = decltype(-B());
  STATIC_REQUIRE(N::width == 9);
  STATIC_REQUIRE(N::integer_bits == 4);
  STATIC_REQUIRE(N::is_signed);
  using R = decltype(A() / B());
  STATIC_REQUIRE(R::width == 21);
  STATIC_REQUIRE(R::integer_bits == 11);
  // Result types are TRN/WRAP whatever the operands' modes, as in ap_fixed.
  using M = decltype(fixed<8, 3, Q::RND, O::SAT>() * fixed<8, 3, Q::RND, O::SAT>());
  STATIC_REQUIRE(M::quantization == Q::TRN);
  STATIC_REQUIRE(M::overflow == O::WRAP);
  // Storage: the common small widths stay in 32 or 64 bits.
  STATIC_REQUIRE(std::is_same<fixed<16, 6>::raw_type, std::int32_t>::value);
  STATIC_REQUIRE(std::is_same<P::raw_type, std::int32_t>::value);
  STATIC_REQUIRE(std::is_same<ufixed<32, 8>::raw_type, std::int64_t>::value);
  STATIC_REQUIRE(std::is_same<fixed<64, 8>::raw_type, std::int64_t>::value);
  STATIC_REQUIRE(sizeof(decltype(fixed<64, 8>() * fixed<64, 8>())::raw_type) == 16);
}

TEST_CASE("fixed is usable in constant expressions", "[fixed]") {
  constexpr fixed<8, 4> a(3);
  constexpr auto b = fixed<8, 4>::from_raw(-37);  // -2.3125
  constexpr auto p = a * b;                       // -6.9375, exact
  STATIC_REQUIRE(p.raw() == 3 * 16 * -37);
  constexpr fixed<6, 3, Q::RND, O::SAT> c = p;  // saturates at -4
  STATIC_REQUIRE(c.raw() == -32);
  constexpr fixed<6, 4, Q::RND_CONV, O::WRAP> e = p;  // -6.9375 -> -7.0 (nearest)
  STATIC_REQUIRE(e.raw() == -28);
  constexpr fixed<8, 4> f = a + b + 1;  // integers join as fixed<32, 32>
  STATIC_REQUIRE(f.raw() == 27);
  STATIC_REQUIRE(b < a);
  STATIC_REQUIRE(a == 3);
  STATIC_REQUIRE(fixed<4, 2>::max().raw() == 7);
  STATIC_REQUIRE(fixed<4, 2>::lowest().raw() == -8);
  STATIC_REQUIRE(ufixed<4, 2>::max().raw() == 15);
  STATIC_REQUIRE(fixed<4, 2>::lsb().to_double() == 0.25);
  STATIC_REQUIRE(fixed<8, 4>::from_raw(300).raw() == 44);  // from_raw wraps like .V = 300
  STATIC_REQUIRE(fixed<8, 4>::from_raw(-37).bits() == 219u);
}

TEST_CASE("fixed compound assignment and integer operands", "[fixed]") {
  fixed<10, 4, Q::RND, O::SAT> acc(0);
  const fixed<8, 2> w(0.703125);  // raw 45
  const fixed<8, 3> x(-1.25);
  for (int k = 0; k < 3; ++k) acc += w * x;  // each product exact, then rounded into acc
  CHECK(acc.raw() == 3 * -56);               // -0.87890625 rounds (RND) to -0.875 each time
  acc *= 100;                                // saturates
  CHECK(acc.raw() == fixed<10, 4>::lowest().raw());
  acc = 0;
  acc -= 3;
  CHECK(acc.to_double() == -3.0);
  CHECK(fixed<8, 3>(-2.75).to_int64() == -2);  // truncation towards zero
  CHECK(fixed<8, 3>(2.75).to_int64() == 2);
  CHECK(fixed<4, 8>(-48).to_int64() == -48);
  CHECK((2 * w).to_double() == 1.40625);
  CHECK((w - 1).to_double() == -0.296875);
  CHECK(w > 0);
  CHECK(0 < w);
  CHECK((w / 2).to_double() == 0.34375);  // quotient truncated to w's 6 fractional bits
  CHECK((w / fixed<4, 1>(0)).raw() == 0);  // division by zero gives 0 (ap_fixed: undefined)
}

TEST_CASE("fixed wide types: 64-bit operands, 128-bit products", "[fixed]") {
  using A = fixed<64, 20>;
  const A a = A::from_raw(std::numeric_limits<std::int64_t>::min());
  const A b = A::from_raw(std::numeric_limits<std::int64_t>::max());
  const auto p = a * b;
  STATIC_REQUIRE(decltype(p)::width == 128);
  const trignet::detail::fixed_int128 expect =
      static_cast<trignet::detail::fixed_int128>(std::numeric_limits<std::int64_t>::min()) *
      std::numeric_limits<std::int64_t>::max();
  CHECK(p.raw() == expect);
  const auto s = a + b;  // -2^-44
  CHECK(s.to_double() == -std::ldexp(1.0, -44));
  // Back into 64 bits with rounding and saturation.
  const fixed<64, 40, Q::RND, O::SAT> back = p;
  CHECK(back.raw() == -(std::int64_t{1} << 62) + 1);  // -(2^62 - 1/2): the tie rounds up
  const fixed<64, 60, Q::RND_CONV, O::SAT> fits = p;
  CHECK(fits.raw() == -(std::int64_t{1} << 42));  // -2^38 + 2^-25 rounds to -2^38
  const fixed<32, 20, Q::TRN, O::SAT> sat = p;
  CHECK(sat.raw() == std::numeric_limits<std::int32_t>::min());
  const ufixed<64, 64> u = ufixed<64, 64>::from_raw(-1);  // 2^64 - 1, stored in 128 bits
  CHECK(u.to_double() == 18446744073709551616.0);
  CHECK(u.bits() == ~std::uint64_t{0});
  const ufixed<63, 63> u63 = ufixed<63, 63>::max();  // ufixed<64> * ufixed<64> would need 129 bits
  using U128 = trignet::detail::fixed_uint128;
  CHECK((u63 * u63).raw() == static_cast<trignet::detail::fixed_int128>(
                                 static_cast<U128>(u63.raw()) * static_cast<U128>(u63.raw())));
  const fixed<64, 2> third(1.0 / 3.0);  // every bit of the double survives
  CHECK(third.to_double() == 1.0 / 3.0);
  CHECK(fixed<100, 50, Q::RND>(1e14 + 0.5).to_double() == 1e14 + 0.5);
}

TEST_CASE("fixed reads doubles as ap_fixed does: NaN, infinities, extremes", "[fixed]") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // ap_fixed reads the exponent field literally: +-inf is +-2^1024.
  CHECK(fixed<8, 4, Q::TRN, O::SAT>(inf).raw() == 127);
  CHECK(fixed<8, 4, Q::TRN, O::SAT>(-inf).raw() == -128);
  CHECK(fixed<8, 4, Q::TRN, O::SAT_SYM>(-inf).raw() == -127);
  CHECK(fixed<8, 4>(inf).raw() == 0);  // WRAP: the low bits of 2^1024 are zero
  CHECK(fixed<8, 4, Q::TRN, O::SAT>(nan).raw() == 127);
  CHECK(fixed<8, 4, Q::TRN, O::SAT>(-0.0).raw() == 0);
  CHECK(fixed<8, 4, Q::TRN, O::SAT>(1e300).raw() == 127);
  CHECK(fixed<8, 4, Q::TRN>(-1e-300).raw() == -1);  // floor of a tiny negative value
  CHECK(fixed<8, 4, Q::RND>(-1e-300).raw() == 0);
  CHECK(fixed<8, 4, Q::TRN_ZERO>(-1e-300).raw() == 0);
  CHECK(ufixed<8, 4, Q::TRN, O::SAT>(-0.5).raw() == 0);
  CHECK(ufixed<8, 4, Q::TRN, O::WRAP>(-0.5).raw() == 248);
  CHECK(fixed<8, 4, Q::RND_CONV>(0.03125f).raw() == 0);  // tie to even
  CHECK(fixed<8, 4, Q::RND_CONV>(0.09375f).raw() == 2);
  CHECK(dbl(fixed<16, 6, Q::RND, O::SAT>(3.14159)) == 3.1416015625);
}
