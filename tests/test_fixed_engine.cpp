// The fixed-point engine (include/trignet/fixed_engine/): every layer against
// the exact-rational reference fixtures (tests/reference/fixed_engine_reference.py,
// tests/data/fixed_engine/), the run-time cast against the compile-time
// trignet::fixed type, type spellings, loader errors with JSON paths,
// unsupported nodes, input conversion and allocation-free runs.

#include <trignet/fixed_engine/fixed_model.hpp>
#include <trignet/load.hpp>
#include <trignet/session.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catch.hpp"
#include "test_support.hpp"

using trignet::FixedType;
using trignet::Overflow;
using trignet::Quantization;
using trignet_test::contains;
using trignet_test::error_message;

// ---- allocation counting (only while `counting` is set) --------------------------
namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// Not under AddressSanitizer, which owns operator new and reports a replaced
// one as an alloc-dealloc mismatch (the sanitizer build skips the count).
#if defined(__SANITIZE_ADDRESS__)
#define TRIGNET_COUNT_ALLOCATIONS 0
#else
#define TRIGNET_COUNT_ALLOCATIONS 1
#endif
#if TRIGNET_COUNT_ALLOCATIONS
// glibc's own entry points: GCC's -Wmismatched-new-delete would flag free()
// on memory from operator new.
extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
}
void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
#endif

namespace {

FixedType type_of(const std::string& text) {
  std::string error;
  auto t = trignet::parse_fixed_type(text, error);
  REQUIRE(t);
  return *t;
}

std::vector<std::string> fixture_models() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(trignet_test::source_path("tests/data/fixed_engine"))) {
    const std::string p = e.path().string();
    if (p.size() > 5 && p.compare(p.size() - 5, 5, ".json") == 0 && !contains(p, ".expected."))
      files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  return files;
}

void flatten(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array())
    for (const auto& e : j) flatten(e, out);
  else
    out.push_back(j.get<double>());
}

// A one-node model with the given input type, node JSON and output node.
std::string one_node(const std::string& in_type, const std::string& shape, const std::string& node,
                     const std::string& extra_fixed = "") {
  return R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"x","shape":)" + shape +
         R"(}],"outputs":[{"name":"y","node":"n"}],"fixed_point":{"inputs":{"x":{"type":")" + in_type + "\"" +
         extra_fixed + R"(}}},"nodes":[)" + node + "]}";
}

const char* dense_node =
    R"({"name":"n","type":"Dense","inputs":["x"],"config":{"units":2},)"
    R"("weights":{"kernel":{"shape":[2,2],"data":[0.5,-0.25,0.75,1]},"bias":{"shape":[2],"data":[0.125,0]}},)"
    R"("precision":{"weight":"ap_fixed<8,2>","bias":"ap_fixed<8,2>","accum":"ap_fixed<16,6>","result":"ap_fixed<12,5>"}})";

}  // namespace

TEST_CASE("fixed engine matches the exact-rational reference on every fixture", "[fixed_engine]") {
  const auto files = fixture_models();
  REQUIRE(files.size() >= 6);
  std::size_t compared = 0;
  for (const std::string& path : files) {
    INFO(path);
    auto model = trignet::load_fixed_model(path);
    trignet::FixedSession session(model);
    const std::string exp_path = path.substr(0, path.size() - 5) + ".expected.json";
    const nlohmann::json expected = nlohmann::json::parse(trignet_test::read_text(exp_path));
    const std::size_t n_in = model->inputs().size();
    const std::size_t batch = expected["inputs"][model->inputs()[0].name].size();
    REQUIRE(batch > 2);
    for (std::size_t o = 0; o < model->outputs().size(); ++o)
      CHECK(trignet::to_string(model->output_type(o)) ==
            trignet::to_string(type_of(expected["types"][model->outputs()[o].name].get<std::string>())));
    for (std::size_t s = 0; s < batch; ++s) {
      std::vector<std::vector<float>> in(n_in);
      std::vector<trignet::Span<const float>> spans;
      for (std::size_t i = 0; i < n_in; ++i) {
        std::vector<double> v;
        flatten(expected["inputs"][model->inputs()[i].name][s], v);
        for (double d : v) in[i].push_back(static_cast<float>(d));
        spans.emplace_back(in[i].data(), in[i].size());
      }
      session.run(trignet::Span<const trignet::Span<const float>>(spans.data(), spans.size()));
      for (std::size_t o = 0; o < model->outputs().size(); ++o) {
        const auto& ref = expected["raw"][model->outputs()[o].name][s];
        const auto raw = session.raw_output(o);
        const auto values = session.output(o);
        REQUIRE(raw.size() == ref.size());
        for (std::size_t k = 0; k < raw.size(); ++k) {
          INFO("output " << model->outputs()[o].name << " sample " << s << " element " << k);
          REQUIRE(raw[k] == ref[k].get<std::int64_t>());
          CHECK(values[k] == std::ldexp(static_cast<double>(raw[k]), -model->output_type(o).fractional()));
          ++compared;
        }
      }
    }
  }
  CHECK(compared > 2000);
}

namespace {

// Every Q and O of fixed<W, I, *, *, S> against the run-time cast, from every
// raw value of a 12-bit source type and from a grid of doubles.
template <int W, int I, bool S, Quantization Q, Overflow O>
void compare_cast_one(long& checked) {
  using Target = trignet::fixed<W, I, Q, O, S>;
  const FixedType t{W, I, S, Q, O};
  using Src = trignet::fixed<12, 5, Quantization::TRN, Overflow::WRAP, true>;
  for (int r = -2048; r < 2048; ++r) {
    const Src src = Src::from_raw(r);
    const Target expected(src);
    REQUIRE(trignet::fixed_rt::cast(r, Src::fractional_bits, t) == static_cast<std::int64_t>(expected.raw()));
    ++checked;
  }
  std::mt19937_64 rng(W * 1000 + I * 10 + S);
  for (int k = 0; k < 300; ++k) {
    std::uint64_t bits = rng();
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    if (k < 100) d = std::ldexp(static_cast<double>(static_cast<std::int64_t>(rng() % 4001) - 2000), -(W - I) - 2);
    if (k == 100) d = std::numeric_limits<double>::infinity();
    if (k == 101) d = -std::numeric_limits<double>::infinity();
    if (k == 102) d = std::numeric_limits<double>::quiet_NaN();
    const Target expected(d);
    REQUIRE(trignet::fixed_rt::from_double(d, t) == static_cast<std::int64_t>(expected.raw()));
    const float f = static_cast<float>(k < 100 ? d : 0.0);
    REQUIRE(trignet::fixed_rt::from_float(f, t) == static_cast<std::int64_t>(Target(f).raw()));
    ++checked;
  }
  // to_double of every raw value of the target.
  for (std::int64_t r = t.min_raw(); r <= t.max_raw(); ++r)
    REQUIRE(trignet::fixed_rt::to_double(r, t) == Target::from_raw(static_cast<typename Target::raw_type>(r)).to_double());
}

template <int W, int I, bool S, Quantization Q>
void compare_cast_o(long& checked) {
  compare_cast_one<W, I, S, Q, Overflow::WRAP>(checked);
  compare_cast_one<W, I, S, Q, Overflow::SAT>(checked);
  compare_cast_one<W, I, S, Q, Overflow::SAT_ZERO>(checked);
  compare_cast_one<W, I, S, Q, Overflow::SAT_SYM>(checked);
}

template <int W, int I, bool S>
void compare_cast(long& checked) {
  compare_cast_o<W, I, S, Quantization::TRN>(checked);
  compare_cast_o<W, I, S, Quantization::TRN_ZERO>(checked);
  compare_cast_o<W, I, S, Quantization::RND>(checked);
  compare_cast_o<W, I, S, Quantization::RND_ZERO>(checked);
  compare_cast_o<W, I, S, Quantization::RND_MIN_INF>(checked);
  compare_cast_o<W, I, S, Quantization::RND_INF>(checked);
  compare_cast_o<W, I, S, Quantization::RND_CONV>(checked);
}

}  // namespace

TEST_CASE("the run-time cast equals trignet::fixed for small widths, every Q and O", "[fixed_engine]") {
  long checked = 0;
  compare_cast<1, 1, true>(checked);
  compare_cast<1, 0, false>(checked);
  compare_cast<2, -2, true>(checked);
  compare_cast<3, 1, true>(checked);
  compare_cast<4, 7, false>(checked);
  compare_cast<5, 2, false>(checked);
  compare_cast<6, 9, true>(checked);
  compare_cast<8, 3, true>(checked);
  compare_cast<8, 0, false>(checked);
  CHECK(checked == 9L * 28 * (4096 + 300));
}

TEST_CASE("the run-time cast handles 64-bit types and wide sources", "[fixed_engine]") {
  const FixedType t64{64, 32, true, Quantization::RND_CONV, Overflow::SAT};
  using F64 = trignet::fixed<64, 32, Quantization::RND_CONV, Overflow::SAT>;
  const FixedType u63{63, 10, false, Quantization::RND, Overflow::WRAP};
  using U63 = trignet::ufixed<63, 10, Quantization::RND, Overflow::WRAP>;
  std::mt19937_64 rng(99);
  for (int k = 0; k < 20000; ++k) {
    const std::int64_t a = static_cast<std::int64_t>(rng()), b = static_cast<std::int64_t>(rng());
    // A 128-bit product with 60 fractional bits, cast down.
    const trignet::fixed<64, 4> fa = trignet::fixed<64, 4>::from_raw(a);
    const trignet::fixed<64, 40> fb = trignet::fixed<64, 40>::from_raw(b);
    const auto p = fa * fb;  // fixed<128, 44>
    REQUIRE(trignet::fixed_rt::cast(static_cast<trignet::fixed_rt::int128>(a) * b, 60 + 24, t64) ==
            F64(p).raw());
    REQUIRE(trignet::fixed_rt::cast(static_cast<trignet::fixed_rt::int128>(a) * b, 60 + 24, u63) ==
            static_cast<std::int64_t>(U63(p).raw()));
  }
}

TEST_CASE("fixed-point type spellings", "[fixed_engine]") {
  CHECK(trignet::to_string(type_of("ap_fixed<16,6>")) == "ap_fixed<16,6>");
  CHECK(trignet::to_string(type_of(" ap_ufixed < 8 , 0 , AP_RND , AP_SAT > ")) == "ap_ufixed<8,0,AP_RND,AP_SAT>");
  CHECK(trignet::to_string(type_of("fixed<16,6,RND_CONV,SAT,0>")) == "ap_fixed<16,6,AP_RND_CONV,AP_SAT>");
  CHECK(trignet::to_string(type_of("ap_fixed<10,-3,AP_TRN_ZERO>")) == "ap_fixed<10,-3,AP_TRN_ZERO>");
  CHECK(type_of("ap_int<8>") == (FixedType{8, 8, true, Quantization::TRN, Overflow::WRAP}));
  CHECK(type_of("ap_uint<1>") == (FixedType{1, 1, false, Quantization::TRN, Overflow::WRAP}));
  CHECK(type_of("ap_fixed<64,64>").max_raw() == std::numeric_limits<std::int64_t>::max());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"ap_fixed<16>", "expected ap_fixed<W,I>"},
      {"ap_fixed<0,0>", "width 0 out of range"},
      {"ap_fixed<65,6>", "width 65 out of range (1 to 64)"},
      {"ap_ufixed<64,6>", "1 to 63 for unsigned"},
      {"ap_fixed<16,65>", "integer bits 65 out of range"},
      {"ap_fixed<16,6,AP_ROUND>", "unknown quantisation mode \"AP_ROUND\""},
      {"ap_fixed<16,6,AP_RND,AP_WRAP_SM>", "AP_WRAP_SM is not supported"},
      {"ap_fixed<16,6,AP_RND,AP_SAT,2>", "saturation bits \"2\" are not supported"},
      {"float", "expected a type such as"},
      {"ap_float<16,6>", "unknown type name \"ap_float\""},
      {"ap_int<8,2>", "expected ap_int<W>"},
      {"ap_fixed<1.5,1>", "expected ap_fixed<W,I>"}};
  for (const auto& [text, message] : bad) {
    INFO(text);
    std::string error;
    CHECK_FALSE(trignet::parse_fixed_type(text, error));
    CHECK(contains(error, message));
  }
}

TEST_CASE("precision in a model file is validated at load, with JSON paths", "[fixed_engine]") {
  auto fail = [](const std::string& text) {
    return error_message<trignet::FormatError>([&] { trignet::parse_model_spec(text, "m.json"); });
  };
  const std::string good = one_node("ap_fixed<10,4>", "[2]", dense_node);
  CHECK_NOTHROW(trignet::parse_model_spec(good, "m.json"));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  CHECK(contains(fail(with("\"accum\":\"ap_fixed<16,6>\"", "\"acum\":\"ap_fixed<16,6>\"")),
                 "m.json: nodes[0].precision.acum: unknown key for the precision of a Dense node"));
  CHECK(contains(fail(with("\"accum\":\"ap_fixed<16,6>\",", "")),
                 "nodes[0].precision: missing required key \"accum\""));
  CHECK_NOTHROW(trignet::parse_model_spec(with("\"result\":\"ap_fixed<12,5>\"", "\"result\":\"ap_fixed<12,5,RND>\""), "m.json"));
  CHECK(contains(fail(with("\"result\":\"ap_fixed<12,5>\"", "\"result\":\"ap_fixed<12,5,AP_RNDX>\"")),
                 "nodes[0].precision.result: invalid fixed-point type \"ap_fixed<12,5,AP_RNDX>\": unknown quantisation mode"));
  CHECK(contains(fail(with("\"result\":\"ap_fixed<12,5>\"", "\"result\":12")),
                 "nodes[0].precision.result: expected a string, found the number 12"));
  CHECK(contains(fail(with("\"result\":\"ap_fixed<12,5>\"",
                           "\"result\":\"ap_fixed<12,5>\",\"activation\":{\"result\":\"ap_fixed<8,3>\"}")),
                 "nodes[0].precision.activation: the node's activation is linear"));
  CHECK(contains(fail(with("\"config\":{\"units\":2}", "\"config\":{\"units\":2,\"activation\":\"relu\"}")),
                 "nodes[0].precision: missing required key \"activation\" (the precision of the fused relu activation)"));
  CHECK(contains(fail(with("\"result\":\"ap_fixed<12,5>\"", "\"result\":\"ap_fixed<12,5>\",\"raw\":{\"kernel\":[1,2,3]}")),
                 "nodes[0].precision.raw.kernel: expected 4 raw integers, found 3"));
  CHECK(contains(fail(with("\"result\":\"ap_fixed<12,5>\"", "\"result\":\"ap_fixed<12,5>\",\"raw\":{\"kernel\":[1,2,3,128]}")),
                 "nodes[0].precision.raw.kernel[3]: raw value 128 outside ap_fixed<8,2> (-128 to 127)"));
  CHECK(contains(fail(with("\"result\":\"ap_fixed<12,5>\"", "\"result\":\"ap_fixed<12,5>\",\"raw\":{\"gamma\":[1]}")),
                 "nodes[0].precision.raw.gamma: no raw values for \"gamma\" in this node (allowed: kernel, bias)"));
  CHECK(contains(fail(with("\"type\":\"ap_fixed<10,4>\"", "\"type\":\"ap_fixed<10,4>\",\"shift\":65")),
                 "fixed_point.inputs.x.shift: expected a shift from -64 to 64, found 65"));
  CHECK(contains(fail(with("\"type\":\"ap_fixed<10,4>\"", "\"type\":\"ap_fixed<10,4>\",\"scale\":2")),
                 "fixed_point.inputs.x.scale: unknown key"));
  CHECK(contains(fail(with("\"inputs\":{\"x\":", "\"inputs\":{\"z\":")), "fixed_point.inputs.z: not a model input name"));
  CHECK(contains(fail(with("\"fixed_point\":{\"inputs\"", "\"fixed_point\":{\"input\"")),
                 "fixed_point.input: unknown key"));
  // Activation nodes: keys by kind; table sizes are powers of two.
  const std::string act = one_node("ap_fixed<10,4>", "[3]",
      R"({"name":"n","type":"Activation","inputs":["x"],"config":{"activation":"sigmoid"},"precision":{"result":"ap_fixed<8,1>","table_size":1000}})");
  CHECK(contains(fail(act), "nodes[0].precision.table_size: expected a power of two from 2 to 1048576, found 1000"));
  const std::string relu = one_node("ap_fixed<10,4>", "[3]",
      R"({"name":"n","type":"Activation","inputs":["x"],"config":{"activation":"relu"},"precision":{"result":"ap_fixed<8,1>","table":"ap_fixed<8,1>"}})");
  CHECK(contains(fail(relu), "nodes[0].precision.table: unknown key for the precision of a relu activation (allowed here: result)"));
  const std::string leaky = one_node("ap_fixed<10,4>", "[3]",
      R"({"name":"n","type":"Activation","inputs":["x"],"config":{"activation":{"name":"leaky_relu","alpha":0.1}},"precision":{"result":"ap_fixed<8,1>"}})");
  CHECK(contains(fail(leaky), "nodes[0].precision: missing required key \"param\""));
  const std::string smx = one_node("ap_fixed<10,4>", "[3]",
      R"({"name":"n","type":"Activation","inputs":["x"],"config":{"activation":"softmax"},"precision":{"result":"ap_fixed<8,1>","implementation":"fast"}})");
  CHECK(contains(fail(smx), "nodes[0].precision.implementation: unknown softmax implementation \"fast\""));
}

TEST_CASE("the float engine ignores the precision of a file", "[fixed_engine]") {
  for (const std::string& path : fixture_models()) {
    INFO(path);
    auto model = trignet::load_model<float>(path);
    trignet::Session<float> session(model);
    std::vector<std::vector<float>> in;
    std::vector<trignet::Span<const float>> spans;
    for (const auto& t : model->inputs()) in.emplace_back(t.size, 0.25f);
    for (const auto& v : in) spans.emplace_back(v.data(), v.size());
    std::vector<std::vector<float>> out;
    std::vector<trignet::Span<float>> outs;
    for (const auto& t : model->outputs()) out.emplace_back(t.size, 0.0f);
    for (auto& v : out) outs.emplace_back(v.data(), v.size());
    CHECK_NOTHROW(session.run(trignet::Span<const trignet::Span<const float>>(spans.data(), spans.size()),
                              trignet::Span<const trignet::Span<float>>(outs.data(), outs.size())));
  }
}

TEST_CASE("what the fixed engine cannot run is refused naming the node", "[fixed_engine]") {
  auto unsupported = [](const std::string& text) {
    return error_message<trignet::UnsupportedError>([&] { trignet::load_fixed_model_from_string(text, "m.json"); });
  };
  std::string no_prec = one_node("ap_fixed<10,4>", "[2]",
      R"({"name":"n","type":"Dense","inputs":["x"],"config":{"units":1},"weights":{"kernel":{"shape":[2,1],"data":[1,2]},"bias":{"shape":[1],"data":[0]}}})");
  CHECK(contains(unsupported(no_prec), "m.json: node 'n' (Dense): no \"precision\" object: the node cannot run in fixed point"));
  std::string elu = one_node("ap_fixed<10,4>", "[2]",
      R"({"name":"n","type":"Activation","inputs":["x"],"config":{"activation":{"name":"elu","alpha":1.0}},"precision":{"result":"ap_fixed<8,2>"}})");
  CHECK(contains(unsupported(elu), "node 'n' (Activation): activation 'elu' is not supported in fixed point"));
  std::string ln = one_node("ap_fixed<10,4>", "[2]",
      R"({"name":"n","type":"LayerNormalization","inputs":["x"],"config":{"epsilon":0.001},"precision":{"result":"ap_fixed<8,2>"}})");
  CHECK(contains(unsupported(ln), "node 'n' (LayerNormalization): this layer is not supported in fixed point"));
  std::string no_block = one_node("ap_fixed<10,4>", "[2]", dense_node);
  no_block.replace(no_block.find("\"fixed_point\""), std::string(R"("fixed_point":{"inputs":{"x":{"type":"ap_fixed<10,4>"}}},)").size(), "");
  CHECK(contains(unsupported(no_block), "m.json: the model has no \"fixed_point\" block"));
  // Types whose exact sum would need more than 128 bits.
  std::string wide = R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"a","shape":[2]},{"name":"b","shape":[2]}],)"
      R"("outputs":[{"name":"y","node":"n"}],"fixed_point":{"inputs":{"a":{"type":"ap_fixed<8,-50>"},"b":{"type":"ap_fixed<8,40>"}}},)"
      R"("nodes":[{"name":"n","type":"Add","inputs":["a","b"],"precision":{"result":"ap_fixed<8,4>"}}]})";
  CHECK(contains(unsupported(wide), "node 'n' (Add): combining of ap_fixed<8,-50> and ap_fixed<8,40>"));
  std::string three = R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"a","shape":[2]}],)"
      R"("outputs":[{"name":"y","node":"n"}],"fixed_point":{"inputs":{"a":{"type":"ap_fixed<8,4>"}}},)"
      R"("nodes":[{"name":"n","type":"Add","inputs":["a","a","a"],"precision":{"result":"ap_fixed<8,4>"}}]})";
  CHECK(contains(unsupported(three), "node 'n' (Add): merges of 3 inputs are not supported"));
  std::string pre = one_node("ap_fixed<10,4>", "[2]", dense_node);
  pre.replace(pre.find("\"shape\":[2]}"), 12, R"("shape":[2],"preprocessing":{"offset":[1,2]}})");
  CHECK(contains(unsupported(pre), "input 'x' has float preprocessing"));
}

TEST_CASE("inputs are quantised as hls4ml's predict does, with offset and shift", "[fixed_engine]") {
  const std::string text = one_node("ap_fixed<8,3,AP_RND,AP_SAT>", "[2]",
      R"({"name":"n","type":"Activation","inputs":["x"],"config":{"activation":"linear"},"precision":{"result":"ap_fixed<16,8>"}})");
  auto model = trignet::load_fixed_model_from_string(text);
  trignet::FixedSession s(model);
  CHECK(model->input_type(0) == type_of("ap_fixed<8,3,AP_RND,AP_SAT>"));
  // Saturation at both ends, rounding to nearest (ties up) at 2^-5.
  auto y = s.run(std::vector<float>{1e6f, -1e6f});
  CHECK(y[0] == 4.0 - 1.0 / 32);
  CHECK(y[1] == -4.0);
  y = s.run(std::vector<float>{1.0f / 64, -1.0f / 64});
  CHECK(y[0] == 1.0 / 32);  // tie rounds up
  CHECK(y[1] == 0.0);
  // float and double inputs: 0.1f and 0.1 differ below the type's LSB only.
  y = s.run(std::vector<double>{0.1, 3.9999});
  CHECK(y[0] == 3.0 / 32);
  CHECK(y[1] == 4.0 - 1.0 / 32);
  CHECK(s.raw_output(0)[1] == 127 * 8);  // result has 3 more fractional bits
  // Raw inputs keep their low W bits.
  const std::int64_t raw[2] = {-3, 256 + 5};
  const trignet::Span<const std::int64_t> rs[1] = {trignet::Span<const std::int64_t>(raw, 2)};
  s.run_raw(trignet::Span<const trignet::Span<const std::int64_t>>(rs, 1));
  CHECK(s.raw_output(0)[0] == -3 * 8);
  CHECK(s.raw_output(0)[1] == 5 * 8);
  // Offset and shift: (x - 1.5) * 2^2.
  const std::string shifted = one_node("ap_fixed<8,3,AP_RND,AP_SAT>", "[2]",
      R"({"name":"n","type":"Activation","inputs":["x"],"config":{"activation":"linear"},"precision":{"result":"ap_fixed<16,8>"}})",
      R"(,"offset":1.5,"shift":2)");
  trignet::FixedSession s2(trignet::load_fixed_model_from_string(shifted));
  y = s2.run(std::vector<float>{1.75f, 0.0f});
  CHECK(y[0] == 1.0);
  CHECK(y[1] == -4.0);
  // Wrong sizes are run errors.
  CHECK(contains(error_message<trignet::RunError>([&] { s.run(std::vector<float>{1.0f}); }),
                 "input 'x' expects 2 values, 1 given"));
  CHECK(contains(error_message<trignet::RunError>([&] { model->input_index("q"); }), "no model input named 'q'"));
}

TEST_CASE("a dense layer saturates its accumulator step by step", "[fixed_engine]") {
  // Accumulator ap_fixed<6,3,AP_TRN,AP_SAT> (range [-4, 3.875]): 3 + 3 saturates to
  // 3.875, then - 3 gives 0.875; an exact sum would give 3.
  const std::string text = one_node("ap_fixed<8,4>", "[3]",
      R"({"name":"n","type":"Dense","inputs":["x"],"config":{"units":1,"use_bias":false},)"
      R"("weights":{"kernel":{"shape":[3,1],"data":[1,1,-1]}},)"
      R"("precision":{"weight":"ap_fixed<4,2>","accum":"ap_fixed<6,3,AP_TRN,AP_SAT>","result":"ap_fixed<8,4>"}})");
  trignet::FixedSession s(trignet::load_fixed_model_from_string(text));
  CHECK(s.run(std::vector<float>{3, 3, 3})[0] == 0.875);
  // With a wrapping accumulator the order does not matter: 3 + 3 wraps to -2, -2 - 3 wraps to 3.
  std::string wrap = text;
  wrap.replace(wrap.find("AP_TRN,AP_SAT"), 13, "AP_TRN,AP_WRAP");
  trignet::FixedSession w(trignet::load_fixed_model_from_string(wrap));
  CHECK(w.run(std::vector<float>{3, 3, 3})[0] == 3.0);
}

TEST_CASE("a fixed-point session does not allocate after construction", "[fixed_engine]") {
  if (!TRIGNET_COUNT_ALLOCATIONS) {
    WARN("AddressSanitizer build: allocation counting skipped (the normal build checks it)");
    return;
  }
  for (const std::string& path : fixture_models()) {
    INFO(path);
    auto model = trignet::load_fixed_model(path);
    trignet::FixedSession session(model);
    std::vector<std::vector<float>> in;
    std::vector<trignet::Span<const float>> spans;
    for (const auto& t : model->inputs()) in.emplace_back(t.size, 1.5f);
    for (const auto& v : in) spans.emplace_back(v.data(), v.size());
    const trignet::Span<const trignet::Span<const float>> inputs(spans.data(), spans.size());
    allocations = 0;
    counting = true;
    session.run(inputs);
    session.run(inputs);
    counting = false;
    CHECK(allocations.load() == 0);
  }
}
