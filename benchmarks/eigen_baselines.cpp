// Backend "eigen-fixed": the hand-written fixed-size Eigen baselines of the
// reference networks (eigen_baselines.hpp), registered by model name.
//
// Raised knowingly, before anything includes Eigen: the wide MLP's fixed-size
// 256 x 256 weight matrices (256 KiB) exceed Eigen's default 128 KiB
// EIGEN_STACK_ALLOCATION_LIMIT (a static assertion on fixed-size types). The
// networks themselves live on the heap; the limit also lets Eigen's GEMM keep
// its packing buffers on the stack up to 1 MiB instead of calling malloc.
#define EIGEN_STACK_ALLOCATION_LIMIT 1048576

#include "eigen_baselines.hpp"

#include <memory>

#include "network_registry.hpp"

namespace trignet_bench {

namespace {

template <class Net>
std::unique_ptr<Net> load_baseline(const ModelInfo& info) {
  auto net = std::make_unique<Net>();
  net->load(trignet::load_model_spec(info.path));
  net->reserve(info.max_batch);
  return net;
}

}  // namespace

std::unique_ptr<Backend> make_eigen_fixed_backend() {
  using namespace eigen_fixed;
  auto b = std::make_unique<NetworkRegistryBackend>("eigen-fixed", false);
  using JetTagger = Mlp4<16, 64, 32, 32, 5>;
  using WideMlp = Mlp4<64, 256, 256, 256, 10>;
  using GruTrack = GruDense<20, 6, 32, 5>;
  b->add<JetTagger>({"hls4ml_jet_tagger", "hls4ml_jet_tagger_keras"}, "Mlp4<16,64,32,32,5>", load_baseline<JetTagger>);
  b->add<WideMlp>({"mlp_64_256x3_10"}, "Mlp4<64,256,256,256,10>", load_baseline<WideMlp>);
  b->add<GruTrack>({"gru_track_model"}, "GruDense<20,6,32,5>", load_baseline<GruTrack>);
  return b;
}

}  // namespace trignet_bench
