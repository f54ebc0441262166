// The fast CPU path (docs/fast-path.md): SIMD activations and packed Dense
// kernels on every instruction set this machine runs, the compile-time
// network against the run-time engine, its type checks and the generator.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <trignet/static/codegen.hpp>
#include <trignet/static_model.hpp>
#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "fast_path_support.hpp"
#include "simd_checks.hpp"
#include "test_support.hpp"

#define SIMD_CHECKS_NS simd_checks_default
#include "simd_checks.inc"

using trignet_test::error_message;
using trignet_test::source_path;

namespace {

struct Checks {
  void (*accuracy)(SimdLog&, AccuracyRow*, std::size_t*);
  void (*sizes)(SimdLog&);
  void (*softmax)(SimdLog&);
  void (*dense)(SimdLog&);
  void (*exp_floor)(SimdLog&);
  void (*dense_softmax)(SimdLog&);
  void (*dense_fixed)(SimdLog&);
};
#define TRIGNET_CHECKS_OF(ns) \
  Checks {                                                                                                       \
    ns::check_activation_accuracy, ns::check_activation_sizes, ns::check_softmax, ns::check_dense, ns::check_exp_floor, \
        ns::check_dense_softmax, ns::check_dense_fixed                                                            \
  }

void run_simd_checks(const char* isa, Checks checks) {
  SimdLog log;
  AccuracyRow rows[32];
  std::size_t n_rows = 32;
  checks.accuracy(log, rows, &n_rows);
  checks.sizes(log);
  checks.softmax(log);
  checks.dense(log);
  checks.exp_floor(log);
  checks.dense_softmax(log);
  checks.dense_fixed(log);
  INFO(isa << ":\n" << log.text);
  CHECK(log.failures == 0);
  CHECK(n_rows == 14);
  if (std::getenv("TRIGNET_PRINT_ACCURACY")) {
    std::printf("activation accuracy (%s), float inputs swept against double:\n", isa);
    std::printf("| activation | max abs error (|y| <= 1) | max rel error (|y| >= 1e-35) | max ULP |\n|---|---|---|---|\n");
    for (std::size_t i = 0; i < n_rows; ++i)
      std::printf("| %s | %.3g | %.3g | %.2f |\n", rows[i].name, rows[i].max_abs, rows[i].max_rel, rows[i].max_ulp);
  }
}

using JetTagger = trignet::static_model<float,
    trignet::dense<16, 64, trignet::act::relu>,
    trignet::dense<64, 32, trignet::act::relu>,
    trignet::dense<32, 32, trignet::act::relu>,
    trignet::dense<32, 5, trignet::act::softmax>>;
static_assert(JetTagger::input_size == 16 && JetTagger::output_size == 5);
static_assert(JetTagger::layer_count == 4);

const std::string jet_path = source_path("models/jet_tagger.json");

template <typename Net>
std::string load_error(const std::string& relative) {
  const std::string path = source_path(relative);
  return error_message<trignet::UnsupportedError>([&] { (void)Net::load(path); });
}

}  // namespace

TEST_CASE("simd: activations, softmax and packed Dense with the default flags") {
  run_simd_checks(simd_checks_default::isa(), TRIGNET_CHECKS_OF(simd_checks_default));
}

TEST_CASE("simd: the portable scalar fallback (-DTRIGNET_SIMD_SCALAR)") {
  REQUIRE(std::string(simd_checks_scalar::isa()) == "scalar");
  run_simd_checks("scalar", TRIGNET_CHECKS_OF(simd_checks_scalar));
}

#if defined(TRIGNET_TEST_X86_ISAS)
TEST_CASE("simd: AVX2 + FMA (-mavx2 -mfma)") {
  REQUIRE(std::string(simd_checks_avx2::isa()) == "avx2+fma");
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    WARN("this CPU has no AVX2/FMA: not run");
    return;
  }
  run_simd_checks("avx2+fma", TRIGNET_CHECKS_OF(simd_checks_avx2));
}

TEST_CASE("simd: AVX-512 (-mavx512f)") {
  REQUIRE(std::string(simd_checks_avx512::isa()) == "avx512");
  if (!__builtin_cpu_supports("avx512f")) {
    WARN("this CPU has no AVX-512: not run");
    return;
  }
  run_simd_checks("avx512", TRIGNET_CHECKS_OF(simd_checks_avx512));
}
#endif

TEST_CASE("static_model: the jet tagger matches the run-time engine and the framework") {
  const JetTagger net = JetTagger::load(jet_path);
  trignet_test::check_against_runtime(net, jet_path);
  // The three ways in give the same network.
  const JetTagger from_text = JetTagger::from_json_text(trignet_test::read_text(jet_path));
  const JetTagger from_spec = JetTagger::from_spec(trignet::load_model_spec(jet_path));
  const std::vector<float> x = trignet_test::fast_path_inputs(16, false);
  float a[5], b[5], c[5];
  net.run(x.data(), a);
  from_text.run(x.data(), b);
  from_spec.run(x.data(), c);
  for (int j = 0; j < 5; ++j) {
    CHECK(a[j] == b[j]);
    CHECK(a[j] == c[j]);
  }
  // Copies share the packed weights and stay valid after the original is gone.
  const JetTagger copy = [&] { JetTagger tmp = JetTagger::load(jet_path); return tmp; }();
  copy.run(x.data(), b);
  for (int j = 0; j < 5; ++j) CHECK(a[j] == b[j]);
}

TEST_CASE("static_model: GRU(32) over 20 x 6 then Dense 5 softmax (the GRU track model)") {
  using GruTrack = trignet::static_model<float, trignet::gru<20, 6, 32>,
                                         trignet::dense<32, 5, trignet::act::softmax>>;
  static_assert(GruTrack::input_size == 120 && GruTrack::output_size == 5);
  const std::string path = source_path("models/gru_track_model.json");
  trignet_test::check_against_runtime(GruTrack::load(path), path);
  using NoResetAfter = trignet::static_model<float,
      trignet::gru<20, 6, 32, trignet::act::tanh, trignet::act::sigmoid, false>,
      trignet::dense<32, 5, trignet::act::softmax>>;
  CHECK(load_error<NoResetAfter>("models/gru_track_model.json") ==
        "trignet: " + path + ": static_model: node 0 \"gru\" has reset_after true, the type expects false");
}

TEST_CASE("static_model: run is const and safe to call from several threads") {
  const JetTagger net = JetTagger::load(jet_path);
  const std::vector<float> x = trignet_test::fast_path_inputs(16 * 64, false);
  std::vector<float> want(5 * 64);
  net.run_batch(x.data(), want.data(), 64);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      float y[5];
      for (int rep = 0; rep < 2000; ++rep) {
        const std::size_t s = static_cast<std::size_t>((rep * 7 + t) % 64);
        net.run(x.data() + 16 * s, y);
        for (std::size_t j = 0; j < 5; ++j) mismatches[static_cast<std::size_t>(t)] += std::fabs(y[j] - want[5 * s + j]) > 1e-6f;
      }
    });
  for (auto& th : threads) th.join();
  for (int m : mismatches) CHECK(m == 0);
}

TEST_CASE("static_model: a model that does not match the type names the first difference") {
  using WrongUnits = trignet::static_model<float, trignet::dense<16, 64, trignet::act::relu>,
                                           trignet::dense<64, 32, trignet::act::relu>,
                                           trignet::dense<32, 16, trignet::act::relu>,
                                           trignet::dense<16, 5, trignet::act::softmax>>;
  CHECK(load_error<WrongUnits>("models/jet_tagger.json") ==
        "trignet: " + jet_path + ": static_model: node 2 \"dense_3\" has 32 units, the type expects 16");

  using WrongActivation = trignet::static_model<float, trignet::dense<16, 64, trignet::act::relu>,
                                                trignet::dense<64, 32, trignet::act::relu>,
                                                trignet::dense<32, 32, trignet::act::relu>,
                                                trignet::dense<32, 5, trignet::act::sigmoid>>;
  CHECK(load_error<WrongActivation>("models/jet_tagger.json") ==
        "trignet: " + jet_path + ": static_model: node 3 \"dense_4\" has activation softmax, the type expects sigmoid");

  using WrongInput = trignet::static_model<float, trignet::dense<8, 64, trignet::act::relu>>;
  CHECK(load_error<WrongInput>("models/jet_tagger.json") ==
        "trignet: " + jet_path + ": static_model: input \"features\" has shape [16], the type expects [8]");

  using TooShort = trignet::static_model<float, trignet::dense<16, 64, trignet::act::relu>,
                                         trignet::dense<64, 32, trignet::act::relu>,
                                         trignet::dense<32, 32, trignet::act::relu>>;
  CHECK(load_error<TooShort>("models/jet_tagger.json") ==
        "trignet: " + jet_path + ": static_model: node 3 \"dense_4\" (Dense) is not in the type, which has 3 layers");

  using TooLong = trignet::static_model<float, trignet::dense<16, 64, trignet::act::relu>,
                                        trignet::dense<64, 32, trignet::act::relu>,
                                        trignet::dense<32, 32, trignet::act::relu>,
                                        trignet::dense<32, 5, trignet::act::softmax>, trignet::dense<5, 5>>;
  CHECK(load_error<TooLong>("models/jet_tagger.json") ==
        "trignet: " + jet_path +
            ": static_model: the model ends after node 3 \"dense_4\" (4 layers), the type has 5 layers (next: dense<5, 5, linear>)");

  using NoBatchNorm = trignet::static_model<float, trignet::dense<44, 256>, trignet::dense<256, 256>>;
  CHECK(load_error<NoBatchNorm>("models/dl1r_like.json") ==
        "trignet: " + source_path("models/dl1r_like.json") +
            ": static_model: node 1 \"bn1\" is BatchNormalization, the type expects dense<256, 256, linear>");

  using WithBias = trignet::static_model<float, trignet::dense<4, 3>>;
  CHECK(load_error<WithBias>("tests/data/layers/dense_no_bias.json") ==
        "trignet: " + source_path("tests/data/layers/dense_no_bias.json") +
            ": static_model: node 0 \"dense\" has use_bias false, the type expects true");

  using TwoHeads = trignet::static_model<float, trignet::dense<80, 25, trignet::act::relu>>;
  CHECK(load_error<TwoHeads>("models/cms_l1_tau_id.json") ==
        "trignet: " + source_path("models/cms_l1_tau_id.json") +
            ": static_model: the model has 2 outputs; a compile-time network has exactly one");

  using Rank2 = trignet::static_model<float, trignet::dense<4, 3>>;
  CHECK(load_error<Rank2>("tests/data/layers/dense_rank2.json") ==
        "trignet: " + source_path("tests/data/layers/dense_rank2.json") +
            ": static_model: input \"x\" has shape [5, 4], the type expects [4]");
  const std::string rank2 = source_path("tests/data/layers/dense_rank2.json");
  CHECK(error_message<trignet::UnsupportedError>([&] {
          (void)trignet::generate_static_header(trignet::load_model_spec(rank2), {"ns"});
        }) == "trignet: " + rank2 +
                  ": codegen: node 0 \"dense\" (Dense) has input shape [5, 4]; a compile-time network applies it "
                  "to rank-1 inputs only");

  // Embedded data with the wrong activation kind is refused as well.
  std::array<trignet::static_layer_data, 1> data{};
  const float w[4 * 3] = {}, bias[3] = {};
  data[0].a = w;
  data[0].b = bias;
  data[0].activation.kind = trignet::ActivationKind::relu;
  CHECK(error_message<trignet::UnsupportedError>([&] { (void)WithBias::from_data({}, data); }) ==
        "trignet: static_model: layer 0 data has activation relu, the type expects linear");
}

TEST_CASE("codegen: the generated type and its refusals") {
  trignet::CodegenOptions options;
  options.namespace_name = "my::tagger";
  options.type_name = "Tagger";
  const std::string h = trignet::generate_static_header(trignet::load_model_spec(jet_path), options);
  CHECK(trignet_test::contains(h, "namespace my::tagger {"));
  CHECK(trignet_test::contains(h, "using Tagger = trignet::static_model<float,\n"
                                  "    trignet::dense<16, 64, trignet::act::relu>,\n"
                                  "    trignet::dense<64, 32, trignet::act::relu>,\n"
                                  "    trignet::dense<32, 32, trignet::act::relu>,\n"
                                  "    trignet::dense<32, 5, trignet::act::softmax>>;"));
  CHECK(!trignet_test::contains(h, "make()"));
  options.embed_weights = true;
  const std::string embedded = trignet::generate_static_header(trignet::load_model_spec(jet_path), options);
  CHECK(trignet_test::contains(embedded, "inline constexpr float layer0_kernel[1024] = {"));
  CHECK(trignet_test::contains(embedded, "inline Tagger make() {"));

  const std::string dropout = source_path("tests/data/layers/preprocessing_scale_only.json");
  CHECK(error_message<trignet::UnsupportedError>([&] {
          (void)trignet::generate_static_header(trignet::load_model_spec(dropout), options);
        }) == "trignet: " + dropout +
                  ": codegen: node 0 \"dropout\" is Dropout, which a compile-time network cannot express "
                  "(supported: Dense, BatchNormalization, Activation, GRU)");
  const std::string conv = source_path("models/cicada_cnn.json");
  CHECK(trignet_test::contains(error_message<trignet::UnsupportedError>([&] {
                                 (void)trignet::generate_static_header(trignet::load_model_spec(conv), options);
                               }),
                               ": codegen: node 0 \"conv\" is Conv2D, which a compile-time network cannot express"));
  options.namespace_name = "9bad";
  CHECK(trignet_test::contains(error_message<trignet::Error>([&] {
                                 (void)trignet::generate_static_header(trignet::load_model_spec(jet_path), options);
                               }),
                               "--namespace '9bad' is not a C++ namespace name"));
}
