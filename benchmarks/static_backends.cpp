// Backend "cpu-static": trignet's compile-time networks (issue 6), one type per
// reference network, registered by the names of the models it implements.
// Each is loaded from the model file by the type's own loader, which checks
// that the file is exactly this network (a mismatch is reported by the runner
// as "not measured", with the loader's message).
//
// Kept in a translation unit of its own: these instantiations are the
// expensive part of the build, and bench.cpp need not see them.

#include "network_registry.hpp"

#if __has_include(<trignet/static_model.hpp>)
#include <trignet/static_model.hpp>
#define TRIGNET_BENCH_HAVE_STATIC 1
#endif

namespace trignet_bench {

#if defined(TRIGNET_BENCH_HAVE_STATIC)

namespace {

namespace tn = trignet;

using JetTagger = tn::static_model<float, tn::dense<16, 64, tn::act::relu>, tn::dense<64, 32, tn::act::relu>,
                                   tn::dense<32, 32, tn::act::relu>, tn::dense<32, 5, tn::act::softmax>>;
using WideMlp = tn::static_model<float, tn::dense<64, 256, tn::act::relu>, tn::dense<256, 256, tn::act::relu>,
                                 tn::dense<256, 256, tn::act::relu>, tn::dense<256, 10, tn::act::softmax>>;
#if defined(TRIGNET_BENCH_STATIC_GRU)
using GruTrack = tn::static_model<float, tn::gru<20, 6, 32>, tn::dense<32, 5, tn::act::softmax>>;
#endif

template <class Net>
std::unique_ptr<Net> load_static(const ModelInfo& info) {
  return std::make_unique<Net>(Net::load(info.path));
}

}  // namespace

std::unique_ptr<Backend> make_static_backend() {
  auto b = std::make_unique<NetworkRegistryBackend>("cpu-static", true);
  b->add<JetTagger>({"hls4ml_jet_tagger", "hls4ml_jet_tagger_keras"}, "16-64-32-32-5", load_static<JetTagger>);
  b->add<WideMlp>({"mlp_64_256x3_10"}, "64-256-256-256-10", load_static<WideMlp>);
#if defined(TRIGNET_BENCH_STATIC_GRU)
  b->add<GruTrack>({"gru_track_model"}, "GRU(32) 20x6 -> 5", load_static<GruTrack>);
#endif
  return b;
}

std::string static_kernel_isa() { return JetTagger::isa(); }

#else

std::string static_kernel_isa() { return {}; }

std::unique_ptr<Backend> make_static_backend() {
  return std::make_unique<MissingBackend>("cpu-static",
                                          "compile-time networks are not built yet (no trignet/static_model.hpp)");
}

#endif

}  // namespace trignet_bench
