// Fixed-point inference time per sample: trignet's fixed-point engine against
// hls4ml's C++ emulation library of the same model, in one process.
//
//   fixed_vs_hls4ml MODEL.json HLS4ML_LIB.so TOP INPUTS.f32 N_SAMPLES [ROUNDS]
//
// MODEL.json is the trignet file (with precision); HLS4ML_LIB.so the shared
// library hls4ml's compile() built for the same model; TOP its project name
// (the C entry point is TOP_float(float* in..., float* out...), which converts
// the float inputs to input_t, runs the network and converts the outputs back,
// what hls4ml's predict calls). INPUTS.f32 holds, for each model input in
// order, N_SAMPLES samples of it as raw float32 (input after input). Both implementations run the same
// samples, alternating in ROUNDS rounds (default 15); each round times one
// pass over all samples per implementation. Prints one JSON object: the median
// and minimum nanoseconds per sample of each, and the number of samples whose
// outputs differ (must be 0: the benchmark checks it compares like with like).
//
// Built by benchmarks/fixed_point/fixed_vs_hls4ml.py with the flags hls4ml's
// build_lib.sh uses for its library (-O3, no -march).

#include <trignet/fixed_engine/fixed_model.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Fn2 = void (*)(float*, float*);
using Fn3 = void (*)(float*, float*, float*);
using Fn4 = void (*)(float*, float*, float*, float*);
using Fn5 = void (*)(float*, float*, float*, float*, float*);
using Fn6 = void (*)(float*, float*, float*, float*, float*, float*);

// hls4ml's bridge function takes one float pointer per input, then one per output.
void call(void* fn, float* const* a, std::size_t n) {
  switch (n) {
    case 2: reinterpret_cast<Fn2>(fn)(a[0], a[1]); break;
    case 3: reinterpret_cast<Fn3>(fn)(a[0], a[1], a[2]); break;
    case 4: reinterpret_cast<Fn4>(fn)(a[0], a[1], a[2], a[3]); break;
    case 5: reinterpret_cast<Fn5>(fn)(a[0], a[1], a[2], a[3], a[4]); break;
    case 6: reinterpret_cast<Fn6>(fn)(a[0], a[1], a[2], a[3], a[4], a[5]); break;
    default: throw std::runtime_error("the benchmark handles 2 to 6 inputs and outputs in all");
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s MODEL.json HLS4ML_LIB.so TOP INPUTS.f32 N_SAMPLES [ROUNDS]\n", argv[0]);
    return 2;
  }
  try {
    const std::string model_path = argv[1], lib_path = argv[2], top = argv[3], in_path = argv[4];
    const std::size_t n = std::stoul(argv[5]);
    const int rounds = argc > 6 ? std::stoi(argv[6]) : 15;

    auto model = trignet::load_fixed_model(model_path);
    trignet::FixedSession session(model);
    const std::size_t n_in = model->inputs().size();
    std::vector<std::size_t> in_sizes, in_offsets;
    std::size_t in_total = 0;
    for (const auto& t : model->inputs()) {
      in_offsets.push_back(in_total * n);
      in_sizes.push_back(t.size);
      in_total += t.size;
    }
    const std::size_t n_out = model->outputs().size();
    std::vector<std::size_t> out_sizes;
    std::size_t out_total = 0;
    for (const auto& o : model->outputs()) {
      out_sizes.push_back(o.size);
      out_total += o.size;
    }

    std::vector<float> x(n * in_total);
    std::ifstream f(in_path, std::ios::binary);
    f.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float)));
    if (!f) throw std::runtime_error("cannot read " + std::to_string(x.size()) + " floats from " + in_path);

    void* lib = dlopen(lib_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    void* sym = dlsym(lib, (top + "_float").c_str());
    if (!sym) throw std::runtime_error("no symbol " + top + "_float in " + lib_path);
    if (n_in + n_out > 6) throw std::runtime_error("the benchmark handles 2 to 6 inputs and outputs in all");

    std::vector<float> hls_out(n * out_total);
    std::vector<double> tn_out(n * out_total);
    std::vector<std::vector<double>> obuf(n_out);
    for (std::size_t o = 0; o < n_out; ++o) obuf[o].resize(out_sizes[o]);
    std::vector<trignet::Span<double>> ospans;
    for (auto& b : obuf) ospans.emplace_back(b.data(), b.size());

    std::vector<float*> args(n_in + n_out);
    auto run_hls = [&]() {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < n_in; ++k) args[k] = x.data() + in_offsets[k] + i * in_sizes[k];
        float* out = hls_out.data() + i * out_total;
        for (std::size_t o = 0; o < n_out; ++o) {
          args[n_in + o] = out;
          out += out_sizes[o];
        }
        call(sym, args.data(), args.size());
      }
    };
    std::vector<trignet::Span<const float>> ins(n_in);
    auto run_tn = [&]() {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < n_in; ++k)
          ins[k] = trignet::Span<const float>(x.data() + in_offsets[k] + i * in_sizes[k], in_sizes[k]);
        session.run(trignet::Span<const trignet::Span<const float>>(ins.data(), ins.size()),
                    trignet::Span<const trignet::Span<double>>(ospans.data(), ospans.size()));
        double* dst = tn_out.data() + i * out_total;
        for (std::size_t o = 0; o < n_out; ++o) {
          std::memcpy(dst, obuf[o].data(), obuf[o].size() * sizeof(double));
          dst += obuf[o].size();
        }
      }
    };

    run_hls();  // warm-up: hls4ml loads its weights from text files and builds its tables on the first call
    run_tn();
    std::size_t differ = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < out_total; ++k)
        if (static_cast<double>(static_cast<float>(tn_out[i * out_total + k])) !=
            static_cast<double>(hls_out[i * out_total + k])) {
          ++differ;
          break;
        }

    using clock = std::chrono::steady_clock;
    std::vector<double> t_hls, t_tn;
    for (int r = 0; r < rounds; ++r) {
      auto t0 = clock::now();
      run_hls();
      auto t1 = clock::now();
      run_tn();
      auto t2 = clock::now();
      t_hls.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n));
      t_tn.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / static_cast<double>(n));
    }
    std::printf("{\"model\": \"%s\", \"samples\": %zu, \"rounds\": %d, \"hls4ml_ns_median\": %.1f, "
                "\"hls4ml_ns_min\": %.1f, \"trignet_ns_median\": %.1f, \"trignet_ns_min\": %.1f, "
                "\"samples_differing\": %zu}\n",
                model->name().c_str(), n, rounds, median(t_hls), *std::min_element(t_hls.begin(), t_hls.end()),
                median(t_tn), *std::min_element(t_tn.begin(), t_tn.end()), differ);
    return differ ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fixed_vs_hls4ml: %s\n", e.what());
    return 1;
  }
}
