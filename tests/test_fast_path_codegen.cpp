// Headers written by `trignet codegen` at build time (tests/CMakeLists.txt),
// compiled together in one program: models in different namespaces, some with
// the same type name, some with embedded weights (make(): no file is read),
// some loading their file (load(path)). Each must match the run-time engine.

#include <string>

#include "catch.hpp"
#include "fast_path_codegen_list.hpp"  // generated: includes every header, lists them
#include "fast_path_support.hpp"
#include "test_support.hpp"

using trignet_test::source_path;

#define TRIGNET_CODEGEN_EMBEDDED(ns, model)                                          \
  TEST_CASE("codegen: " #ns " (embedded weights) matches the run-time engine") {     \
    const auto net = ns::make();                                                     \
    trignet_test::check_against_runtime(net, source_path(model));                    \
  }
#define TRIGNET_CODEGEN_FILE(ns, model)                                              \
  TEST_CASE("codegen: " #ns " (loaded from its file) matches the run-time engine") { \
    const auto net = ns::load(source_path(model));                                   \
    trignet_test::check_against_runtime(net, source_path(model));                    \
  }
TRIGNET_CODEGEN_MODELS(TRIGNET_CODEGEN_EMBEDDED, TRIGNET_CODEGEN_FILE)

// Same type name, different namespaces: two distinct names for one type, and
// two make() functions that do not clash.
static_assert(std::is_same_v<gen::jet_embedded::Model, gen::jet_file::Model>);
TEST_CASE("codegen: two headers of one model in one program agree") {
  const auto a = gen::jet_embedded::make();
  const auto b = gen::jet_file::load(source_path("models/jet_tagger.json"));
  float x[16], ya[5], yb[5];
  for (int i = 0; i < 16; ++i) x[i] = 0.1f * static_cast<float>(i) - 0.7f;
  a.run(x, ya);
  b.run(x, yb);
  for (int j = 0; j < 5; ++j) CHECK(ya[j] == yb[j]);
  CHECK(std::string(gen::jet_embedded::Model_content_hash) == gen::jet_file::Model_content_hash);
}
