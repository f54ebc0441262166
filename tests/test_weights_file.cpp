// The binary weight file (docs/format.md, "Binary weight file"): a model whose
// weights live in a .bin file must load to exactly the same model as its
// all-JSON form, and every way the pair of files can disagree is a precise
// FormatError. The split is done here with nlohmann::json and the SHA-256 of
// detail/sha256.hpp, independently of the Python converter's writer.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catch.hpp"
#include "test_support.hpp"
#include "trignet/trignet.hpp"

namespace {

using nlohmann::json;
using trignet::FormatError;
using trignet_test::contains;
using trignet_test::error_message;

namespace fs = std::filesystem;

/// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("trignet_weights_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string sha256_hex(const std::string& bytes) {
  trignet::detail::Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.finish_hex();
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Moves every weight's "data" into little-endian float32 bytes; returns them.
std::string split(json& model, const std::string& bin_name) {
  std::string bytes;
  std::size_t offset = 0;
  for (auto& node : model["nodes"]) {
    if (!node.contains("weights")) continue;
    for (auto& [name, w] : node["weights"].items()) {
      (void)name;
      for (const auto& v : w["data"]) {
        const float f = v.get<float>();
        std::uint32_t bits;
        std::memcpy(&bits, &f, 4);
        for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<char>((bits >> (8 * b)) & 0xff));
      }
      const std::size_t n = w["data"].size();
      w.erase("data");
      w["offset"] = offset;
      offset += n;
    }
  }
  model["weights_file"] = {{"path", bin_name}, {"sha256", sha256_hex(bytes)}, {"bytes", bytes.size()}};
  return bytes;
}

struct SplitModel {
  TempDir dir;
  json model;
  std::string bytes;
  fs::path json_path;

  explicit SplitModel(const std::string& source_model) {
    model = json::parse(trignet_test::read_text(trignet_test::source_path(source_model)));
    bytes = split(model, "weights.bin");
    json_path = dir.path / "model.json";
    save();
  }
  void save() const {
    write_file(json_path, model.dump());
    write_file(dir.path / "weights.bin", bytes);
  }
  std::string load_error() const {
    return error_message<FormatError>([&] { trignet::load_model<float>(json_path.string()); });
  }
};

}  // namespace

TEST_CASE("weights file: loads to the same model as the all-JSON file", "[weights_file]") {
  for (const char* name : {"models/jet_tagger.json", "models/gru_track_model.json", "models/cicada_cnn.json"}) {
    INFO(name);
    const auto reference = trignet::load_model<float>(trignet_test::source_path(name));
    SplitModel split(name);
    const auto packed = trignet::load_model<float>(split.json_path.string());  // test vectors re-run
    CHECK(packed->content_hash() == reference->content_hash());
    REQUIRE(packed->spec().nodes.size() == reference->spec().nodes.size());
    for (std::size_t i = 0; i < packed->spec().nodes.size(); ++i)
      for (const auto& [wname, w] : reference->spec().nodes[i].weights) {
        const auto& got = packed->spec().nodes[i].weights.at(wname);
        CHECK(got.shape == w.shape);
        REQUIRE(got.values.size() == w.values.size());
        CHECK(std::memcmp(got.values.data(), w.values.data(), w.values.size() * sizeof(float)) == 0);
      }
  }
}

TEST_CASE("weights file: load_model_from_string needs the directory", "[weights_file]") {
  SplitModel split("models/jet_tagger.json");
  const std::string text = split.model.dump();
  const std::string message = error_message<FormatError>([&] { trignet::load_model_from_string<float>(text); });
  CHECK(contains(message, "weights_file: a model with a binary weight file must be loaded from its file"));
  CHECK(contains(message, "LoadOptions::weights_directory"));
  trignet::LoadOptions options;
  options.weights_directory = split.dir.path.string();
  CHECK(trignet::load_model_from_string<float>(text, options)->spec().nodes.size() == 4);
}

TEST_CASE("weights file: every disagreement between the two files is a FormatError", "[weights_file]") {
  SplitModel split("models/jet_tagger.json");
  const std::string source = split.json_path.string();

  SECTION("a changed byte fails the SHA-256 check") {
    split.bytes[17] = static_cast<char>(split.bytes[17] ^ 1);
    split.save();
    const std::string m = split.load_error();
    CHECK(contains(m, "trignet: " + source + ": weights_file.sha256: weight file "));
    CHECK(contains(m, "not the file this model was written with"));
  }
  SECTION("a truncated file") {
    split.bytes.resize(split.bytes.size() - 4);
    split.save();
    CHECK(contains(split.load_error(), "weights_file.path: weight file " +
                                           (split.dir.path / "weights.bin").string() + " has " +
                                           std::to_string(split.bytes.size()) + " bytes, the model declares " +
                                           std::to_string(split.bytes.size() + 4)));
  }
  SECTION("a missing file") {
    split.save();
    fs::remove(split.dir.path / "weights.bin");
    CHECK(contains(split.load_error(), "weights_file.path: cannot read weight file"));
  }
  SECTION("paths that leave the model's directory") {
    for (const char* p : {"/etc/passwd", "../weights.bin", "sub/../../weights.bin", ""}) {
      INFO(p);
      split.model["weights_file"]["path"] = p;
      split.save();
      const std::string m = split.load_error();
      CHECK(contains(m, "weights_file.path: "));
      CHECK((contains(m, "relative to the model file's directory") || contains(m, "must not leave")));
    }
  }
  SECTION("sha256 and bytes are checked for form") {
    split.model["weights_file"]["sha256"] = "ABC";
    split.save();
    CHECK(contains(split.load_error(), "weights_file.sha256: expected 64 lower-case hexadecimal digits"));
    split.model["weights_file"]["sha256"] = sha256_hex(split.bytes);
    split.model["weights_file"]["bytes"] = 6;
    split.save();
    CHECK(contains(split.load_error(), "weights_file.bytes: expected a non-negative multiple of 4"));
  }
  SECTION("a declared size beyond the weight limit is rejected before reading") {
    split.model["weights_file"]["bytes"] = 4ull << 40;
    split.save();
    CHECK(contains(split.load_error(), "(ResourceLimits::max_weight_elements)"));
  }
  SECTION("an offset beyond the file") {
    split.model["nodes"][3]["weights"]["bias"]["offset"] = split.bytes.size() / 4 - 2;
    split.save();
    CHECK(contains(split.load_error(), "nodes[3].weights.bias.offset: elements ["));
    CHECK(contains(split.load_error(), "lie beyond the weight file's " + std::to_string(split.bytes.size() / 4)));
  }
  SECTION("a negative offset") {
    split.model["nodes"][0]["weights"]["kernel"]["offset"] = -1;
    split.save();
    CHECK(contains(split.load_error(), "nodes[0].weights.kernel.offset: expected a non-negative element offset"));
  }
  SECTION("data and offset together") {
    split.model["nodes"][0]["weights"]["bias"]["data"] = json::array();
    split.save();
    CHECK(contains(split.load_error(), "nodes[0].weights.bias: a weight has either \"data\" or \"offset\", not both"));
  }
  SECTION("an offset without a weights_file") {
    split.model.erase("weights_file");
    split.save();
    CHECK(contains(split.load_error(), "nodes[0].weights.bias.offset: \"offset\" refers to a binary weight file"));
  }
  SECTION("unknown keys in weights_file") {
    split.model["weights_file"]["compression"] = "zstd";
    split.save();
    CHECK(contains(split.load_error(), "weights_file"));
    CHECK(contains(split.load_error(), "compression"));
  }
  SECTION("NaN and infinity in the file are rejected like in JSON") {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      std::uint32_t bits;
      std::memcpy(&bits, &bad, 4);
      for (int b = 0; b < 4; ++b) split.bytes[8 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
      split.model["weights_file"]["sha256"] = sha256_hex(split.bytes);
      split.save();
      const std::string m = split.load_error();
      CHECK(contains(m, "nodes[0].weights.bias.offset: element 2 (file element 2) is "));
      CHECK(contains(m, std::isnan(bad) ? "NaN" : "infinite"));
    }
  }
}
