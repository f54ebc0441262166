// Format-level pieces: SHA-256, the content hash, float32 round-trip of
// weights, and batch-first nested arrays.

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

using trignet_test::read_text;
using trignet_test::source_path;

namespace {
std::string sha256(const std::string& s) {
  trignet::detail::Sha256 h;
  h.update(s);
  return h.finish_hex();
}
}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-4 test vectors", "[format][hash]") {
  CHECK(sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in uneven pieces to exercise block boundaries.
  trignet::detail::Sha256 h;
  const std::string chunk(997, 'a');
  std::size_t left = 1000000;
  while (left) {
    const std::size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  CHECK(h.finish_hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55, 56 and 64 bytes: the padding edge cases.
  CHECK(sha256(std::string(55, 'x')).size() == 64);
  CHECK(sha256(std::string(56, 'a')) ==
        "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(sha256(std::string(64, 'a')) ==
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("the content hash covers computation, not spelling or metadata", "[format][hash]") {
  const std::string text = read_text(source_path("models/jet_tagger.json"));
  const nlohmann::json doc = nlohmann::json::parse(text);
  const std::string base = trignet::content_hash(trignet::parse_model_spec(text));
  REQUIRE(base.size() == 64);

  auto hash_of = [](const nlohmann::json& j) {
    return trignet::content_hash(trignet::parse_model_spec(j.dump()));
  };
  // Re-serialised (different whitespace and number spelling): same hash.
  CHECK(hash_of(doc) == base);
  nlohmann::json changed = doc;
  changed["metadata"]["note"] = "retrained? no, just a note";
  changed["name"] = "renamed";
  changed.erase("test_vectors");
  changed["outputs"][0].erase("labels");
  CHECK(hash_of(changed) == base);

  // One weight changed by one float32 ulp: different hash.
  changed = doc;
  float w = changed["nodes"][0]["weights"]["kernel"]["data"][5].get<float>();
  w = std::nextafter(w, 10.f);
  changed["nodes"][0]["weights"]["kernel"]["data"][5] = w;
  CHECK(hash_of(changed) != base);
  // A configuration change: different hash.
  changed = doc;
  changed["nodes"][0]["config"]["activation"] = "tanh";
  CHECK(hash_of(changed) != base);
  // Preprocessing added: different hash.
  changed = doc;
  changed["inputs"][0]["preprocessing"] = {{"scale", std::vector<float>(16, 2.f)}};
  CHECK(hash_of(changed) != base);
}

TEST_CASE("the content hash covers fixed-point precision", "[format][hash]") {
  const nlohmann::json doc =
      nlohmann::json::parse(read_text(source_path("tests/data/fixed_engine/mlp_softmax.json")));
  auto hash_of = [](const nlohmann::json& j) {
    return trignet::content_hash(trignet::parse_model_spec(j.dump()));
  };
  const std::string base = hash_of(doc);
  // Without any precision it is a float model: the hash of the same graph and weights.
  nlohmann::json plain = doc;
  plain.erase("fixed_point");
  for (auto& node : plain["nodes"]) node.erase("precision");
  CHECK(hash_of(plain) != base);
  // Any precision change changes the hash.
  bool changed_one = false;
  for (std::size_t i = 0; i < doc["nodes"].size() && !changed_one; ++i) {
    if (!doc["nodes"][i].contains("precision") || !doc["nodes"][i]["precision"].contains("result")) continue;
    nlohmann::json changed = doc;
    changed["nodes"][i]["precision"]["result"] = "ap_fixed<30,12,AP_RND,AP_SAT>";
    CHECK(hash_of(changed) != base);
    changed_one = true;
  }
  CHECK(changed_one);
}

TEST_CASE("float32 weights written with 9 significant digits round-trip exactly", "[format]") {
  std::mt19937 rng(42);
  std::vector<float> values;
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0xffffffffu);
  for (int i = 0; i < 20000; ++i) values.push_back(uniform(rng));
  while (values.size() < 40000) {  // arbitrary finite bit patterns, denormals included
    const std::uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof f);
    if (std::isfinite(f)) values.push_back(f);
  }
  values.push_back(std::numeric_limits<float>::max());
  values.push_back(std::numeric_limits<float>::denorm_min());
  values.push_back(-0.0f);

  std::string data;
  for (float v : values)
    data += (data.empty() ? "" : ",") + trignet::format::number_text(double(v), 9);
  const std::string text = R"({"format":"trignet","format_version":1,"name":"rt",
    "inputs":[{"name":"x","shape":[1]}],"outputs":[{"name":"y","node":"d"}],
    "nodes":[{"name":"d","type":"Dense","inputs":["x"],"config":{"units":)" +
                           std::to_string(values.size()) + R"(,"use_bias":false},
      "weights":{"kernel":{"shape":[1,)" + std::to_string(values.size()) +
                           R"(],"data":[)" + data + "]}}}]}";
  const trignet::ModelSpec spec = trignet::parse_model_spec(text);
  const auto& loaded = spec.nodes[0].weights.at("kernel").values;
  REQUIRE(loaded.size() == values.size());
  std::size_t different = 0;
  for (std::size_t i = 0; i < values.size(); ++i)
    different += std::memcmp(&loaded[i], &values[i], sizeof(float)) != 0;
  CHECK(different == 0);
}

TEST_CASE("batch-first nested arrays read and write back", "[format]") {
  const std::string source = "test";
  const nlohmann::json j = nlohmann::json::parse("[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12.5]]]");
  trignet::format::JsonReader reader(j, "x", source);
  std::vector<double> flat;
  REQUIRE(trignet::format::read_batch(reader, {2, 3}, flat) == 2);
  REQUIRE(flat.size() == 12);
  CHECK(flat[11] == 12.5);
  const std::string text = trignet::format::write_batch(flat.data(), 2, {2, 3}, 9);
  CHECK(nlohmann::json::parse(text) == j);
  // Shape errors name the element.
  try {
    trignet::format::read_batch(reader, {2, 4}, flat);
    FAIL("expected a FormatError");
  } catch (const trignet::FormatError& e) {
    CHECK(std::string(e.what()).find("x[0][0]: expected an array of 4") != std::string::npos);
  }
  CHECK(trignet::format::number_text(std::nan(""), 9) == "null");
}
