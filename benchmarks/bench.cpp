// trignet-bench: latency and throughput of every model and backend, against
// the budgets in benchmarks/budgets.json. See docs/benchmarks.md.
//
//   trignet-bench [--check] [--json FILE] [--filter REGEX] [--quick|--full]
//                 [--batch 1,64,1000] [--rounds N] [--cpu N] [--budgets FILE]
//                 [--reference-dir DIR] [--reference-json FILE] [MODEL.json|DIR ...]
//
// Per (model, backend, batch), on one thread pinned to one core, after warm-up:
//   median   per-call time from blocks of consecutive calls (clock cost amortised)
//   p50..max single calls, each timed on its own (clock cost included)
//   samples/s = batch / median; GFLOP/s = FLOPs per sample * samples/s.
//   x eigen  median / the median of the hand-written fixed-size Eigen baseline
//            (backend eigen-fixed) for the same model and batch, same run.
// For one model and batch size the backends are measured one after the other
// (with --rounds N: N times in turn, A B C A B C ...), so that ratios compare
// measurements taken close together in time.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define TRIGNET_BENCH_CALLGRIND 1
#endif

#include <nlohmann/json.hpp>
#include <trignet/simd/vec.hpp>
#include <trignet/trignet.hpp>

#include "backend.hpp"
#include "network_registry.hpp"

#ifndef TRIGNET_SOURCE_DIR
#define TRIGNET_SOURCE_DIR "."
#endif
#ifndef TRIGNET_BENCH_FLAGS
#define TRIGNET_BENCH_FLAGS "unknown"
#endif

namespace trignet_bench {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

// ---------------------------------------------------------------- backends

/// trignet's run-time graph engine in float: the product being measured.
class GraphRunner : public Runner {
 public:
  GraphRunner(std::shared_ptr<const trignet::Model<float>> model, const ModelInfo& info)
      : session_(model, info.max_batch), info_(info) {
    spans_.resize(info.inputs.size());
  }
  void run(std::size_t batch) override {
    for (std::size_t i = 0; i < spans_.size(); ++i)
      spans_[i] = trignet::Span<const float>(info_.inputs[i].data(), batch * info_.input_sizes[i]);
    session_.run(trignet::Span<const trignet::Span<const float>>(spans_.data(), spans_.size()), batch);
  }
  std::vector<float> output(std::size_t i) override {
    const auto y = session_.output(i);
    return std::vector<float>(y.begin(), y.end());
  }

 private:
  trignet::Session<float> session_;
  const ModelInfo& info_;
  std::vector<trignet::Span<const float>> spans_;
};

class GraphBackend : public Backend {
 public:
  std::string name() const override { return "cpu-graph"; }
  bool is_reference() const override { return true; }
  std::unique_ptr<Runner> prepare(const ModelInfo& info, std::string& why) override {
    try {
      return std::make_unique<GraphRunner>(trignet::load_model<float>(info.path), info);
    } catch (const std::exception& e) {
      why = e.what();
      return nullptr;
    }
  }
};

/// The run-time engine in reproducible mode (docs/user-guide.md): what
/// batch- and SIMD-independent results cost, next to cpu-graph in one run.
class ReproducibleBackend : public Backend {
 public:
  std::string name() const override { return "cpu-repro"; }
  bool is_reference() const override { return true; }
  std::string covers() const override {
    return "models whose layers all have reproducible kernels (no convolution, recurrent, "
           "LayerNormalization or attention)";
  }
  std::unique_ptr<Runner> prepare(const ModelInfo& info, std::string& why) override {
    trignet::LoadOptions options;
    options.reproducible = true;
    try {
      return std::make_unique<GraphRunner>(trignet::load_model<float>(info.path, options), info);
    } catch (const trignet::UnsupportedError&) {
      return nullptr;  // outside covers(): not listed
    } catch (const std::exception& e) {
      why = e.what();
      return nullptr;
    }
  }
};

/// The in-run baseline: every trignet result is also a ratio to it.
const char* const baseline_backend = "eigen-fixed";

std::vector<std::unique_ptr<Backend>> make_backends(const std::string& reference_dir) {
  std::vector<std::unique_ptr<Backend>> b;
  // The baseline first: for each model and batch it is measured just before
  // the trignet backends it is compared with.
  b.push_back(make_eigen_fixed_backend());
  b.push_back(std::make_unique<GraphBackend>());
  b.push_back(std::make_unique<ReproducibleBackend>());
  // The compile-time networks of the reference models (static_backends.cpp).
  b.push_back(make_static_backend());
  // The GPU (backend_cuda.cu): device-resident, CUDA graph, host copies included.
#if defined(TRIGNET_BENCH_CUDA)
  for (auto& cuda : make_cuda_backends()) b.push_back(std::move(cuda));
#else
  b.push_back(std::make_unique<MissingBackend>(
      "cuda", "built without CUDA (configure with -DTRIGNET_ENABLE_CUDA=ON, or run benchmarks/gpu-check.sh)"));
#endif
  b.push_back(make_libtorch_backend(reference_dir));
  return b;
}

// ---------------------------------------------------------------- measuring

struct Settings {
  bool full = false;
  int cpu = -2;  // -2: default choice, -1: no pinning
  int rounds = 1;  // measurements of each (model, backend, batch), taken in turn
  long instruction_calls = 0;  // --instructions N: callgrind counting mode, no timing
};

struct Result {
  std::string model, backend;
  std::size_t batch = 0;
  double median_ns = 0;  // per call, from blocks
  std::size_t block_calls = 0, blocks = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;  // single calls, clock included
  std::size_t singles = 0;
  std::vector<double> quantiles;  // single calls at 0, 0.5, ..., 100 %
  double samples_per_s = 0, flops_per_sample = 0, gflops = 0;
  std::size_t weight_bytes = 0;  // float32 parameters of the model
  double max_abs_diff = -1;  // against cpu-graph on the same inputs (-1: not compared)
  bool outputs_ok = true;    // max_abs_diff within the backend's tolerance
  double x_eigen = 0;        // median / eigen-fixed median, same model and batch (0: none)
  std::vector<double> round_medians;  // median of each round (--rounds)
  std::string note;
  // Raw measurements of all rounds (not written out): per-call block times, single calls.
  std::vector<double> block_times, single_times;
};

double quantile_sorted(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return quantile_sorted(v, 50);
}

double timer_cost_ns() {
  std::vector<double> t;
  for (int i = 0; i < 20000; ++i) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    t.push_back(ns_between(a, b));
  }
  return median(t);
}

// ---------------------------------------------------------------- machine

/// L1 data cache per core in bytes (sysfs; 32 KiB if unknown).
std::size_t l1d_bytes() {
  for (int i = 0; i < 8; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream type(dir + "type"), level(dir + "level"), size(dir + "size");
    std::string t, l, z;
    if (!(type >> t) || !(level >> l) || !(size >> z)) continue;
    if (t == "Data" && l == "1") {
      const std::size_t k = std::strtoul(z.c_str(), nullptr, 10);
      return z.back() == 'M' ? k << 20 : z.back() == 'K' ? k << 10 : k;
    }
  }
  return 32 << 10;
}

/// Core clock in GHz, from chains of dependent integer additions (one cycle
/// each on x86 cores): what the arithmetic bounds below are converted with.
/// Best of 5 runs of ~1.5 ms; 0 where not measurable.
double core_ghz() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::uint64_t x = 0;
    const std::uint64_t one = 1;
    constexpr long iters = 200000;
    const auto a = Clock::now();
    for (long i = 0; i < iters; ++i)
      asm volatile(
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
          : "+r"(x)
          : "r"(one));
    best = std::max(best, 20.0 * static_cast<double>(iters) / ns_between(a, Clock::now()));
  }
  return best;
#else
  return 0;
#endif
}

/// Peak single-precision throughput of fused multiply-adds on the widest
/// vectors this build uses (16 independent accumulators with AVX-512, 12 with
/// AVX2's 16 registers: more than latency x FMA ports on current x86 cores),
/// in GFLOP/s (one FMA = 2 FLOP). Best of 5 runs of ~1 ms; 0 without FMA
/// (SSE2 builds).
double fma_peak_gflops() {
#if TRIGNET_SIMD_LEVEL >= 2  // AVX2+FMA or AVX-512: the library's own vector type
  namespace simd = trignet::simd;
  using V = simd::vf;
  constexpr int width = static_cast<int>(simd::width);
  constexpr int chains = width == 16 ? 16 : 12;
  constexpr long iters = 50000;
  double best = 0;
  float sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    V acc[chains];
    for (int k = 0; k < chains; ++k) acc[k] = simd::set1(0.001f * static_cast<float>(k));
    const V m = simd::set1(0.9999999f), c = simd::set1(1e-7f);
    const auto a = Clock::now();
    for (long i = 0; i < iters; ++i)
      for (int k = 0; k < chains; ++k) acc[k] = simd::fmadd(acc[k], m, c);
    const double ns = ns_between(a, Clock::now());
    for (int k = 0; k < chains; ++k) sink += simd::reduce_add(acc[k]);
    best = std::max(best, 2.0 * width * chains * static_cast<double>(iters) / ns);
  }
  volatile float keep = sink;
  (void)keep;
  return best;
#else
  return 0;
#endif
}

/// Read bandwidth from L2, in GB/s: a 512 KiB buffer (larger than any L1d,
/// smaller than the L2 of current server cores) summed with the widest
/// vectors of this build, 8 independent accumulators; best of 20 passes after
/// a warm-up. At batch 1 a network whose weights do not fit in L1 cannot run
/// faster than its weight bytes / this bandwidth.
double l2_read_gbps() {
#if TRIGNET_SIMD_LEVEL >= 1  // SSE2 and up: the library's own vector type
  namespace simd = trignet::simd;
  using V = simd::vf;
  constexpr std::size_t width = simd::width;
  constexpr std::size_t n = 512 * 1024 / sizeof(float);
  constexpr std::size_t step = 8 * width;
  std::vector<float> storage(n + 64, 1.0f);
  float* data = storage.data();
  while (reinterpret_cast<std::uintptr_t>(data) % 64) ++data;
  double best = 0;
  float sink = 0;
  for (int pass = 0; pass < 22; ++pass) {
    V acc[8];
    for (auto& a : acc) a = simd::set1(0.0f);
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; i += step)
      for (std::size_t k = 0; k < 8; ++k) acc[k] = acc[k] + simd::load(data + i + k * width);
    const double ns = ns_between(t0, Clock::now());
    for (auto& a : acc) sink += simd::reduce_add(a);
    if (pass >= 2) best = std::max(best, static_cast<double>(n * sizeof(float)) / ns);
  }
  volatile float keep = sink;
  (void)keep;
  return best;
#else
  return 0;
#endif
}

/// One round of measurements of `r` at `batch`, appended to `res` (finish()
/// turns the rounds into statistics).
void measure_round(Runner& r, std::size_t batch, const Settings& s, Result& res) {
  res.batch = batch;
  // Warm-up: at least 20 calls and ~30 ms (100 ms in full mode).
  const double warm_ns = s.full ? 1e8 : 3e7;
  auto t0 = Clock::now();
  int n = 0;
  while (n < 20 || ns_between(t0, Clock::now()) < warm_ns) {
    r.run(batch);
    ++n;
  }
  const double estimate = ns_between(t0, Clock::now()) / n;
  // Blocks: enough calls per block that the clock read (~35 ns) is < 0.5 %.
  const std::size_t per_block = static_cast<std::size_t>(std::clamp(std::ceil(10000.0 / estimate), 1.0, 100.0));
  const double block_budget = s.full ? 2e9 : 2.5e8;
  const std::size_t max_blocks = s.full ? 2000 : 300;
  std::size_t blocks = std::clamp<std::size_t>(static_cast<std::size_t>(block_budget / (estimate * static_cast<double>(per_block))), 10, max_blocks);
  std::vector<double> per_call;
  per_call.reserve(blocks);
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto a = Clock::now();
    for (std::size_t i = 0; i < per_block; ++i) r.run(batch);
    const auto e = Clock::now();
    per_call.push_back(ns_between(a, e) / static_cast<double>(per_block));
  }
  res.round_medians.push_back(median(per_call));
  res.block_times.insert(res.block_times.end(), per_call.begin(), per_call.end());
  res.block_calls = per_block;
  res.blocks += blocks;
  // Single calls for the tails.
  const double single_budget = s.full ? 4e9 : 4e8;
  const std::size_t max_single = s.full ? 200000 : 20000;
  const std::size_t singles = std::clamp<std::size_t>(static_cast<std::size_t>(single_budget / estimate), 50, max_single);
  std::vector<double>& t = res.single_times;
  t.reserve(t.size() + singles);
  for (std::size_t i = 0; i < singles; ++i) {
    const auto a = Clock::now();
    r.run(batch);
    const auto e = Clock::now();
    t.push_back(ns_between(a, e));
  }
}

/// Statistics of all rounds: the median over every block of every round,
/// percentiles over every single call.
void finish(Result& res) {
  res.median_ns = median(res.block_times);
  std::vector<double>& t = res.single_times;
  std::sort(t.begin(), t.end());
  res.singles = t.size();
  res.p50 = quantile_sorted(t, 50);
  res.p90 = quantile_sorted(t, 90);
  res.p99 = quantile_sorted(t, 99);
  res.p999 = quantile_sorted(t, 99.9);
  res.max = t.back();
  for (int q = 0; q <= 200; ++q) res.quantiles.push_back(quantile_sorted(t, q * 0.5));
  res.samples_per_s = static_cast<double>(res.batch) / (res.median_ns * 1e-9);
  res.block_times.clear();
  res.block_times.shrink_to_fit();
  res.single_times.clear();
  res.single_times.shrink_to_fit();
}

// ---------------------------------------------------------------- budgets

/// One limit of benchmarks/budgets.json: "budgets" fail --check, "targets"
/// (the goals of an issue) are reported as met or not and never fail.
/// Exactly one kind of limit per entry:
///   limit_ns           the percentile (ns per call) is at most this
///   max_ratio          the percentile is at most this times `baseline`'s
///                      `baseline_percentile` (default: the same percentile), same
///                      model and batch, same run; baseline may be the backend itself
///                      ("p99.9 <= 2x median")
///   min_samples_per_s  samples per second (from the median) at least this
struct Budget {
  std::string model, backend, percentile = "median", reason;
  std::size_t batch = 1;
  double limit_ns = 0, max_ratio = 0, min_samples_per_s = 0;
  std::string baseline, baseline_percentile;
  bool target = false;
};

const char* const percentiles[] = {"median", "p50", "p90", "p99", "p99.9", "max"};

bool is_percentile(const std::string& p) {
  return std::find_if(std::begin(percentiles), std::end(percentiles), [&](const char* x) { return p == x; }) !=
         std::end(percentiles);
}

std::vector<Budget> read_budgets(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open budget file " + path);
  json j;
  try {
    j = json::parse(f);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
  std::vector<Budget> out;
  for (const char* key : {"budgets", "targets"}) {
    if (!j.contains(key)) {
      if (std::string(key) == "budgets") throw std::runtime_error(path + ": no \"budgets\" list");
      continue;
    }
    const json& list = j.at(key);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const json& b = list[i];
      try {
        Budget x;
        x.target = std::string(key) == "targets";
        x.model = b.at("model").get<std::string>();
        x.backend = b.at("backend").get<std::string>();
        x.batch = b.at("batch").get<std::size_t>();
        x.percentile = b.value("percentile", std::string("median"));
        x.reason = b.at("reason").get<std::string>();
        const int kinds = b.contains("limit_ns") + b.contains("max_ratio") + b.contains("min_samples_per_s");
        if (kinds != 1) throw std::runtime_error("expected exactly one of limit_ns, max_ratio, min_samples_per_s");
        x.limit_ns = b.value("limit_ns", 0.0);
        x.max_ratio = b.value("max_ratio", 0.0);
        x.min_samples_per_s = b.value("min_samples_per_s", 0.0);
        if (b.contains("max_ratio")) {
          x.baseline = b.at("baseline").get<std::string>();
          x.baseline_percentile = b.value("baseline_percentile", x.percentile);
          if (!is_percentile(x.baseline_percentile))
            throw std::runtime_error("baseline_percentile must be one of median, p50, p90, p99, p99.9, max");
        } else if (b.contains("baseline") || b.contains("baseline_percentile")) {
          throw std::runtime_error("baseline and baseline_percentile go with max_ratio only");
        }
        if (!is_percentile(x.percentile))
          throw std::runtime_error("percentile must be one of median, p50, p90, p99, p99.9, max");
        if (!(x.limit_ns > 0 || x.max_ratio > 0 || x.min_samples_per_s > 0) || x.limit_ns < 0 || x.max_ratio < 0 ||
            x.min_samples_per_s < 0)
          throw std::runtime_error("the limit must be a positive number");
        out.push_back(x);
      } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + key + "[" + std::to_string(i) + "]: " + e.what());
      }
    }
  }
  return out;
}

double stat(const Result& r, const std::string& p) {
  if (p == "median") return r.median_ns;
  if (p == "p50") return r.p50;
  if (p == "p90") return r.p90;
  if (p == "p99") return r.p99;
  if (p == "p99.9") return r.p999;
  return r.max;
}

// ---------------------------------------------------------------- output

std::string fmt_ns(double ns) {
  char b[32];
  if (ns <= 0) return "-";
  if (ns < 1e4) std::snprintf(b, sizeof b, "%.0f ns", ns);
  else if (ns < 1e6) std::snprintf(b, sizeof b, "%.1f us", ns / 1e3);
  else std::snprintf(b, sizeof b, "%.2f ms", ns / 1e6);
  return b;
}

std::string fmt_g(double v, const char* unit) {
  char b[32];
  if (v >= 1e6) std::snprintf(b, sizeof b, "%.2f M%s", v / 1e6, unit);
  else if (v >= 1e3) std::snprintf(b, sizeof b, "%.1f k%s", v / 1e3, unit);
  else std::snprintf(b, sizeof b, "%.3g %s", v, unit);
  return b;
}

/// A budget or target checked against the results of this run.
struct Evaluation {
  bool measured = false, ok = false;
  double value = 0;
  std::string limit_text, value_text, why;
  const Result* r = nullptr;
};

std::string fmt_ratio(double x) {
  char b[32];
  std::snprintf(b, sizeof b, x < 10 ? "%.2fx" : "%.1fx", x);
  return b;
}

const Result* find_result(const std::vector<Result>& results, const std::string& model, const std::string& backend,
                          std::size_t batch) {
  for (const auto& x : results)
    if (x.model == model && x.backend == backend && x.batch == batch) return &x;
  return nullptr;
}

Evaluation evaluate(const Budget& b, const std::vector<Result>& results) {
  Evaluation ev;
  if (b.limit_ns > 0) {
    ev.limit_text = b.percentile + " <= " + fmt_ns(b.limit_ns);
  } else if (b.max_ratio > 0) {
    const std::string base = b.baseline == b.backend ? b.baseline_percentile
                             : b.baseline_percentile == b.percentile ? b.baseline
                                                                     : b.baseline + " " + b.baseline_percentile;
    ev.limit_text = b.percentile + " <= " + fmt_ratio(b.max_ratio) + " " + base;
  } else {
    ev.limit_text = ">= " + fmt_g(b.min_samples_per_s, "samples/s");
  }
  ev.r = find_result(results, b.model, b.backend, b.batch);
  if (!ev.r) {
    ev.why = "not measured here";
    return ev;
  }
  const Result& r = *ev.r;
  if (!r.outputs_ok) {  // a backend that computes something else fails whatever its speed
    ev.measured = true;
    ev.value_text = "outputs differ from cpu-graph";
    return ev;
  }
  char text[96];
  if (b.limit_ns > 0) {
    ev.value = stat(r, b.percentile);
    ev.ok = ev.value <= b.limit_ns;
    std::snprintf(text, sizeof text, "%s = %s, %.0f%% of limit", b.percentile.c_str(), fmt_ns(ev.value).c_str(),
                  100.0 * ev.value / b.limit_ns);
  } else if (b.max_ratio > 0) {
    const Result* base = find_result(results, b.model, b.baseline, b.batch);
    if (!base || !base->outputs_ok) {
      ev.r = nullptr;
      ev.why = b.baseline + (base ? " computes other outputs" : " not measured here");
      return ev;
    }
    const double bv = stat(*base, b.baseline_percentile);
    if (bv <= 0 || stat(r, b.percentile) <= 0) {
      ev.why = b.percentile + " or " + b.baseline_percentile + " not available (too few single calls?)";
      ev.r = nullptr;
      return ev;
    }
    if ((b.percentile == "p99.9" && r.singles < 1000) || (b.baseline_percentile == "p99.9" && base->singles < 1000)) {
      ev.why = "p99.9 needs at least 1000 single calls";
      ev.r = nullptr;
      return ev;
    }
    ev.value = stat(r, b.percentile) / bv;
    ev.ok = ev.value <= b.max_ratio;
    std::snprintf(text, sizeof text, "%s = %s / %s", fmt_ratio(ev.value).c_str(), fmt_ns(stat(r, b.percentile)).c_str(),
                  fmt_ns(bv).c_str());
  } else {
    ev.value = r.samples_per_s;
    ev.ok = ev.value >= b.min_samples_per_s;
    std::snprintf(text, sizeof text, "%s/s, median %s", fmt_g(ev.value, "samples").c_str(), fmt_ns(r.median_ns).c_str());
  }
  ev.measured = true;
  ev.value_text = text;
  return ev;
}

std::string read_first_line_with(const char* file, const char* key) {
  std::ifstream f(file);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) {
      auto p = line.find(':');
      std::string v = p == std::string::npos ? line : line.substr(p + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "unknown";
}

/// The instruction set this runner (and so every backend in it) is compiled
/// for, from the compiler's predefined macros.
std::string isa_compiled() {
  std::string s;
#if defined(__AVX512F__)
  s = "AVX-512 (F";
#if defined(__AVX512BW__)
  s += ", BW";
#endif
#if defined(__AVX512VL__)
  s += ", VL";
#endif
#if defined(__AVX512DQ__)
  s += ", DQ";
#endif
  s += ")";
#elif defined(__AVX2__)
  s = "AVX2";
#elif defined(__AVX__)
  s = "AVX";
#elif defined(__SSE4_2__)
  s = "SSE4.2";
#elif defined(__SSE2__) || defined(__x86_64__)
  s = "SSE2";
#elif defined(__ARM_NEON)
  s = "NEON";
#else
  s = "scalar";
#endif
#if defined(__FMA__)
  s += " + FMA";
#endif
  return s;
}

json result_json(const Result& r) {
  json j = {{"model", r.model}, {"backend", r.backend}, {"batch", r.batch},
            {"median_ns", r.median_ns}, {"block_calls", r.block_calls}, {"blocks", r.blocks},
            {"p50_ns", r.p50}, {"p90_ns", r.p90}, {"p99_ns", r.p99}, {"p999_ns", r.p999}, {"max_ns", r.max},
            {"single_calls", r.singles}, {"quantiles_ns", r.quantiles},
            {"samples_per_s", r.samples_per_s}, {"flops_per_sample", r.flops_per_sample},
            {"gflops", r.gflops}};
  if (r.weight_bytes) j["weight_bytes"] = r.weight_bytes;
  if (r.max_abs_diff >= 0) {
    j["max_abs_diff_vs_cpu_graph"] = r.max_abs_diff;
    j["outputs_match_cpu_graph"] = r.outputs_ok;
  }
  if (r.x_eigen > 0) j["x_eigen"] = r.x_eigen;
  if (r.round_medians.size() > 1) j["round_medians_ns"] = r.round_medians;
  if (!r.note.empty()) j["note"] = r.note;
  return j;
}

Result result_from_json(const json& j) {
  Result r;
  r.model = j.at("model").get<std::string>();
  r.backend = j.at("backend").get<std::string>();
  r.batch = j.at("batch").get<std::size_t>();
  r.median_ns = j.at("median_ns").get<double>();
  r.p50 = j.value("p50_ns", 0.0);
  r.p90 = j.value("p90_ns", 0.0);
  r.p99 = j.value("p99_ns", 0.0);
  r.p999 = j.value("p999_ns", 0.0);
  r.max = j.value("max_ns", 0.0);
  r.singles = j.value("single_calls", std::size_t(0));
  r.block_calls = j.value("block_calls", std::size_t(0));
  r.blocks = j.value("blocks", std::size_t(0));
  if (j.contains("quantiles_ns")) r.quantiles = j["quantiles_ns"].get<std::vector<double>>();
  r.samples_per_s = j.value("samples_per_s", 0.0);
  r.flops_per_sample = j.value("flops_per_sample", 0.0);
  r.gflops = j.value("gflops", 0.0);
  r.max_abs_diff = j.value("max_abs_diff_vs_cpu_graph", -1.0);
  r.x_eigen = j.value("x_eigen", 0.0);
  r.note = j.value("note", std::string());
  return r;
}

int usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: trignet-bench [options] [MODEL.json|DIR ...]   (default: %s/models)\n"
               "  --check               compare with the budgets; exit 1 if any fails\n"
               "  --budgets FILE        budget file (default %s/benchmarks/budgets.json)\n"
               "  --json FILE           write every result (and machine details) as JSON\n"
               "  --filter REGEX        only models whose name matches (std::regex, search)\n"
               "  --quick | --full      quick (default, ~1 s per model/backend/batch) or ~10x more calls\n"
               "  --batch LIST          batch sizes (default 1,64,1000)\n"
               "  --rounds N            measure each model/backend/batch N times, in turn with the other\n"
               "                        backends (statistics over all rounds; default 1)\n"
               "  --instructions N      no timing: run N calls of each model/backend/batch between callgrind\n"
               "                        client requests (zero, dump); run under valgrind --tool=callgrind\n"
               "                        (benchmarks/count-instructions.sh reads the dumps)\n"
               "  --backend REGEX       only backends whose name matches (default: all)\n"
               "  --cpu N               pin to core N (default: the last core; -1: no pinning)\n"
               "  --reference-dir DIR   TorchScript exports for the libtorch backend (export_reference.py)\n"
               "  --reference-json FILE results measured elsewhere (ort_bench.py) to show side by side\n",
               TRIGNET_SOURCE_DIR, TRIGNET_SOURCE_DIR);
  return code;
}

std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const long x = std::atol(item.c_str());
    if (x <= 0) throw std::runtime_error("--batch: '" + item + "' is not a positive integer");
    v.push_back(static_cast<std::size_t>(x));
  }
  return v;
}

}  // namespace
}  // namespace trignet_bench

int main(int argc, char** argv) {
  using namespace trignet_bench;
  Settings settings;
  bool check = false;
  std::string json_path, filter, backend_filter, reference_dir, reference_json;
  std::string budget_path = std::string(TRIGNET_SOURCE_DIR) + "/benchmarks/budgets.json";
  std::vector<std::size_t> batches = {1, 64, 1000};
  bool batches_given = false;
  std::vector<std::string> paths;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--check") check = true;
      else if (a == "--json") json_path = value();
      else if (a == "--filter") filter = value();
      else if (a == "--backend") backend_filter = value();
      else if (a == "--budgets") budget_path = value();
      else if (a == "--quick") settings.full = false;
      else if (a == "--full") settings.full = true;
      else if (a == "--batch") {
        batches = parse_list(value());
        batches_given = true;
      }
      else if (a == "--cpu") settings.cpu = std::atoi(value().c_str());
      else if (a == "--instructions") {
        settings.instruction_calls = std::atol(value().c_str());
        if (settings.instruction_calls < 1) throw std::runtime_error("--instructions: expected a positive count");
#if !defined(TRIGNET_BENCH_CALLGRIND)
        throw std::runtime_error("--instructions: built without <valgrind/callgrind.h> (install valgrind)");
#endif
      }
      else if (a == "--rounds") {
        settings.rounds = std::atoi(value().c_str());
        if (settings.rounds < 1 || settings.rounds > 100) throw std::runtime_error("--rounds: expected 1..100");
      }
      else if (a == "--reference-dir") reference_dir = value();
      else if (a == "--reference-json") reference_json = value();
      else if (a == "--help" || a == "-h") return usage(0);
      else if (!a.empty() && a[0] == '-') {
        std::fprintf(stderr, "trignet-bench: unknown option %s\n", a.c_str());
        return usage(2);
      } else paths.push_back(a);
    }
    if (batches.empty()) throw std::runtime_error("--batch: empty list");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trignet-bench: %s\n", e.what());
    return 2;
  }
  if (paths.empty()) paths.push_back(std::string(TRIGNET_SOURCE_DIR) + "/models");

  // Model files: arguments, directories expanded to their *.json (sorted).
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      std::vector<std::string> in;
      for (const auto& e : std::filesystem::directory_iterator(p))
        if (e.path().extension() == ".json") in.push_back(e.path().string());
      std::sort(in.begin(), in.end());
      files.insert(files.end(), in.begin(), in.end());
    } else {
      files.push_back(p);
    }
  }

  std::regex model_re, backend_re;
  try {
    model_re = std::regex(filter.empty() ? ".*" : filter);
    backend_re = std::regex(backend_filter.empty() ? ".*" : backend_filter);
  } catch (const std::regex_error& e) {
    std::fprintf(stderr, "trignet-bench: bad regular expression: %s\n", e.what());
    return 2;
  }

  std::vector<Budget> budgets;
  try {
    budgets = read_budgets(budget_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trignet-bench: %s\n", e.what());
    if (check) return 2;
  }

  // Pinning: one core, the last one by default (core 0 takes most interrupts).
  int cpu = settings.cpu;
#if defined(__linux__)
  if (cpu == -2) {
    cpu_set_t set;
    CPU_ZERO(&set);
    cpu = sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 1 ? -3 : -1;
    if (cpu == -3)
      for (int c = CPU_SETSIZE - 1; c >= 0; --c)
        if (CPU_ISSET(c, &set)) {
          cpu = c;
          break;
        }
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      std::fprintf(stderr, "trignet-bench: cannot pin to core %d (%s); running unpinned\n", cpu, std::strerror(errno));
      cpu = -1;
    }
  }
#else
  cpu = -1;
#endif

  auto backends = make_backends(reference_dir);
  const double timer = timer_cost_ns();
  // The model name, with family and model numbers (VMs often show only a vendor's brand).
  std::string cpu_model = read_first_line_with("/proc/cpuinfo", "model name");
  {
    const std::string family = read_first_line_with("/proc/cpuinfo", "cpu family");
    const std::string number = read_first_line_with("/proc/cpuinfo", "model\t");
    if (family != "unknown" && number != "unknown") cpu_model += " (family " + family + ", model " + number + ")";
  }
  const std::string isa = isa_compiled();
  const double ghz = settings.instruction_calls ? 0 : core_ghz();
  const double peak_gflops = settings.instruction_calls ? 0 : fma_peak_gflops();
  const double l2_gbps = settings.instruction_calls ? 0 : l2_read_gbps();
  const std::size_t l1d = l1d_bytes();
  double load1 = -1;
  {
    std::ifstream la("/proc/loadavg");
    la >> load1;
  }
  char date[32];
  {
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  }
  std::printf("trignet-bench: %s mode, float, one thread, %s; %s; clock read pair %.0f ns; load average %.2f\n",
              settings.full ? "full" : "quick", cpu >= 0 ? ("pinned to core " + std::to_string(cpu)).c_str() : "not pinned",
              cpu_model.c_str(), timer, load1);
  const std::string kernel_isa = static_kernel_isa();
  std::printf("compiled for %s (flags: %s)%s%s\n", isa.c_str(), TRIGNET_BENCH_FLAGS,
              kernel_isa.empty() ? "" : ("; trignet SIMD kernels: " + kernel_isa).c_str(),
              settings.rounds > 1 ? (", " + std::to_string(settings.rounds) + " rounds per measurement").c_str() : "");
  if (ghz > 0 || peak_gflops > 0)
    std::printf("core clock ~%.2f GHz (dependent integer adds); FMA peak %.1f GFLOP/s with these flags, one core "
                "(%.1f FLOP/cycle); L2 read %.0f GB/s (%.1f B/cycle)\n",
                ghz, peak_gflops, ghz > 0 ? peak_gflops / ghz : 0.0, l2_gbps, ghz > 0 ? l2_gbps / ghz : 0.0);
  std::printf("median: per call, from blocks of calls (clock amortised); p50..max: single calls (clock included);\n"
              "x eigen: median / median of the fixed-size Eigen baseline (%s), same model and batch, same run\n",
              baseline_backend);
  for (const auto& b : backends) {
    if (!std::regex_search(b->name(), backend_re)) continue;
    if (!b->unavailable().empty())
      std::printf("backend %-11s not measured: %s\n", b->name().c_str(), b->unavailable().c_str());
    else if (!b->covers().empty())
      std::printf("backend %-11s runs only: %s\n", b->name().c_str(), b->covers().c_str());
  }
  const char* row_format = "%-24.24s %-11s %6zu %10s %7s %10s %10s %10s %10s %10s %13s %9.0f %9.2f%s\n";
  std::printf("\n%-24s %-11s %6s %10s %7s %10s %10s %10s %10s %10s %13s %9s %9s\n", "model", "backend", "batch",
              "median", "x eigen", "p50", "p90", "p99", "p99.9", "max", "samples/s", "FLOP/smp", "GFLOP/s");
  std::fflush(stdout);

  const std::size_t max_batch = *std::max_element(batches.begin(), batches.end());
  std::vector<Result> results;
  std::vector<std::string> skipped;  // "model backend: why"
  std::vector<std::string> verification;  // one line per (model, backend) compared with cpu-graph
  int status = 0;
  const auto started = Clock::now();
  for (const std::string& file : files) {
    std::shared_ptr<const trignet::Model<float>> model;
    try {
      model = trignet::load_model<float>(file);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "trignet-bench: %s\n", e.what());
      status = 1;
      continue;
    }
    if (!std::regex_search(model->name(), model_re)) continue;
    ModelInfo info;
    info.path = file;
    info.name = model->name();
    info.flops_per_sample = model->flops_per_sample();
    info.parameters = model->parameter_count();
    // Room for the output check's 256 samples too (below), whatever --batch says.
    const std::size_t check_batch = 256;
    info.max_batch = std::max(max_batch, check_batch);
    std::mt19937 rng(12345);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    for (const auto& in : model->inputs()) {
      info.input_sizes.push_back(in.size);
      info.input_shapes.emplace_back(in.shape.begin(), in.shape.end());
      info.inputs.emplace_back(info.max_batch * in.size);
      for (float& x : info.inputs.back()) x = dist(rng);
    }
    for (const auto& out : model->outputs()) info.output_sizes.push_back(out.size);

    // Reference outputs: cpu-graph, the run-time engine, on the first
    // check_batch samples (whatever --backend selects). Every other backend is
    // compared with them, through its batch path and its one-sample path.
    std::vector<std::vector<float>> expected;
    {
      GraphRunner reference(model, info);
      reference.run(check_batch);
      for (std::size_t o = 0; o < info.output_sizes.size(); ++o) expected.push_back(reference.output(o));
    }
    // Largest |difference| from cpu-graph, and whether every output is within
    // `tolerance(|reference|)`.
    struct Diff {
      double max = 0;
      bool ok = true;
    };
    auto compare = [&](Runner& runner, std::size_t batch, const std::function<double(double)>& tolerance) {
      runner.run(batch);
      Diff diff;
      for (std::size_t o = 0; o < info.output_sizes.size(); ++o) {
        const std::vector<float> got = runner.output(o);
        if (got.size() != batch * info.output_sizes[o]) return Diff{INFINITY, false};
        for (std::size_t k = 0; k < got.size(); ++k) {
          const double want = static_cast<double>(expected[o][k]);
          const double d = std::fabs(static_cast<double>(got[k]) - want);
          if (std::isnan(d)) return Diff{INFINITY, false};
          diff.max = std::max(diff.max, d);
          if (d > tolerance(std::fabs(want))) diff.ok = false;
        }
      }
      return diff;
    };

    struct Prepared {
      Backend* backend;
      std::unique_ptr<Runner> runner;
      double diff = -1;
      bool ok = true;
    };
    std::vector<Prepared> prepared;
    for (const auto& backend : backends) {
      if (!std::regex_search(backend->name(), backend_re) || !backend->unavailable().empty()) continue;
      std::string why;
      std::unique_ptr<Runner> runner;
      try {
        runner = backend->prepare(info, why);
      } catch (const std::exception& e) {
        why = e.what();
      }
      if (!runner) {
        if (!why.empty() || backend->covers().empty()) skipped.push_back(info.name + " " + backend->name() + ": " + why);
        continue;
      }
      Prepared p{backend.get(), std::move(runner)};
      if (backend->name() != "cpu-graph") {
        // trignet's own CPU backends and the Eigen baseline compute the same
        // float network as cpu-graph: only rounding and the activations'
        // documented approximation errors may differ (probabilities here).
        // Other runtimes get the looser bound of the side-by-side table; a
        // backend may set its own (the GPU's, relative to the output).
        const bool ours = backend->is_reference() || backend->name() == baseline_backend;
        const double fixed_tolerance = ours ? 1e-5 : 1e-4;
        const Backend& b = *backend;
        const auto tolerance = [&](double magnitude) {
          const double t = b.output_tolerance(magnitude);
          return t >= 0 ? t : fixed_tolerance;
        };
        std::string tolerance_text;
        {
          char t[64];
          if (backend->output_tolerance(0) >= 0)
            std::snprintf(t, sizeof t, "%.0e + %.0e |y|", backend->output_tolerance(0),
                          backend->output_tolerance(1) - backend->output_tolerance(0));
          else
            std::snprintf(t, sizeof t, "%.0e", fixed_tolerance);
          tolerance_text = t;
        }
        try {
          const Diff many = compare(*p.runner, check_batch, tolerance), one = compare(*p.runner, 1, tolerance);
          p.diff = std::max(many.max, one.max);
          p.ok = many.ok && one.ok;
        } catch (const std::exception& e) {
          skipped.push_back(info.name + " " + backend->name() + ": " + e.what());
          continue;
        }
        char line[320];
        std::snprintf(line, sizeof line, "%-24.24s %-11s max |diff| %.1e (a batch of %zu, and 1 sample alone), tolerance %s: %s",
                      info.name.c_str(), backend->name().c_str(), p.diff, check_batch, tolerance_text.c_str(),
                      p.ok ? "same outputs" : "DIFFERENT OUTPUTS");
        verification.push_back(line);
        if (!p.ok && ours) status = 1;
      }
      prepared.push_back(std::move(p));
    }

    if (settings.instruction_calls > 0) {
#if defined(TRIGNET_BENCH_CALLGRIND)
      // Instruction counts (callgrind): repeatable whatever the machine's load.
      for (std::size_t batch : batches)
        for (auto& p : prepared) {
          for (int w = 0; w < 3; ++w) p.runner->run(batch);
          const std::string label = info.name + " " + p.backend->name() + " " + std::to_string(batch) + " " +
                                    std::to_string(settings.instruction_calls);
          CALLGRIND_ZERO_STATS;
          for (long i = 0; i < settings.instruction_calls; ++i) p.runner->run(batch);
          CALLGRIND_DUMP_STATS_AT(label.c_str());
          std::printf("counted: %s (model backend batch calls)\n", label.c_str());
        }
#endif
      continue;
    }

    for (std::size_t batch : batches) {
      // Quick mode keeps the default suite to minutes: a default batch whose
      // one call is above 2 GFLOP (about 0.1 s here) is left to --full.
      if (!settings.full && !batches_given && static_cast<double>(batch) * info.flops_per_sample > 2e9) {
        for (const auto& p : prepared)
          skipped.push_back(info.name + " " + p.backend->name() + " batch " + std::to_string(batch) +
                            ": over 2 GFLOP per call in quick mode (use --full or --batch)");
        continue;
      }
      std::vector<Result> here(prepared.size());
      std::vector<bool> failed(prepared.size(), false);
      for (int round = 0; round < settings.rounds; ++round)
        for (std::size_t k = 0; k < prepared.size(); ++k) {
          if (failed[k]) continue;
          try {
            measure_round(*prepared[k].runner, batch, settings, here[k]);
          } catch (const std::exception& e) {
            skipped.push_back(info.name + " " + prepared[k].backend->name() + " batch " + std::to_string(batch) +
                              ": " + e.what());
            failed[k] = true;
          }
        }
      const Result* baseline = nullptr;
      for (std::size_t k = 0; k < prepared.size(); ++k) {
        if (failed[k]) continue;
        Result& r = here[k];
        finish(r);
        r.model = info.name;
        r.backend = prepared[k].backend->name();
        r.flops_per_sample = info.flops_per_sample;
        r.weight_bytes = info.parameters * sizeof(float);
        r.gflops = r.flops_per_sample * r.samples_per_s * 1e-9;
        r.max_abs_diff = prepared[k].diff;
        r.outputs_ok = prepared[k].ok;
        if (!r.outputs_ok) r.note = "outputs differ from cpu-graph by " + std::to_string(r.max_abs_diff);
        if (r.backend == baseline_backend && r.outputs_ok) baseline = &r;
        if (baseline && r.outputs_ok && (prepared[k].backend->is_reference() || r.backend == baseline_backend))
          r.x_eigen = r.median_ns / baseline->median_ns;
        char ratio[16] = "-";
        if (r.x_eigen > 0) std::snprintf(ratio, sizeof ratio, "%.2f", r.x_eigen);
        std::printf(row_format, r.model.c_str(), r.backend.c_str(), r.batch, fmt_ns(r.median_ns).c_str(), ratio,
                    fmt_ns(r.p50).c_str(), fmt_ns(r.p90).c_str(), fmt_ns(r.p99).c_str(),
                    r.singles >= 1000 ? fmt_ns(r.p999).c_str() : "-", fmt_ns(r.max).c_str(),
                    fmt_g(r.samples_per_s, "").c_str(), r.flops_per_sample, r.gflops,
                    r.note.empty() ? "" : ("  ! " + r.note).c_str());
        std::fflush(stdout);
      }
      for (std::size_t k = 0; k < prepared.size(); ++k)
        if (!failed[k]) results.push_back(std::move(here[k]));
    }
  }
  const double elapsed_s = ns_between(started, Clock::now()) * 1e-9;
  for (const auto& s : skipped) std::printf("  not measured: %s\n", s.c_str());
  std::printf("(p99.9 shown as - with fewer than 1000 single calls; measured in %.0f s)\n", elapsed_s);
  if (!verification.empty()) {
    std::printf("\n== Outputs against cpu-graph (same inputs; a backend with different outputs gets no ratio) ==\n");
    for (const auto& v : verification) std::printf("%s\n", v.c_str());
  }

  // The reference networks against the fixed-size Eigen baseline.
  {
    bool header = false;
    for (const auto& e : results) {
      if (e.backend != baseline_backend) continue;
      const Result* graph = nullptr;
      const Result* stat_r = nullptr;
      for (const auto& r : results)
        if (r.model == e.model && r.batch == e.batch) {
          if (r.backend == "cpu-graph") graph = &r;
          if (r.backend == "cpu-static") stat_r = &r;
        }
      if (!header) {
        std::printf("\n== Reference networks: trignet against the fixed-size Eigen baseline (median per call; x eigen) ==\n");
        std::printf("%-24s %6s %11s %11s %7s %11s %7s %12s %16s %10s %10s\n", "model", "batch", "eigen-fixed",
                    "cpu-graph", "x eigen", "cpu-static", "x eigen", "graph/static", "p99.9/p50", "FMA floor",
                    "L2 floor");
        header = true;
      }
      auto med = [](const Result* r) { return r ? fmt_ns(r->median_ns) : std::string("-"); };
      auto ratio = [](const Result* r) {
        char b[16] = "-";
        if (r && r->x_eigen > 0) std::snprintf(b, sizeof b, "%.2f", r->x_eigen);
        return std::string(b);
      };
      char gs[16] = "-", tail[48] = "-";
      if (graph && stat_r) std::snprintf(gs, sizeof gs, "%.2f", graph->median_ns / stat_r->median_ns);
      const Result* t = stat_r ? stat_r : graph;
      if (t && e.batch == 1 && t->singles >= 1000 && t->p50 > 0)
        std::snprintf(tail, sizeof tail, "%.2f (%s)", t->p999 / t->p50, t->backend.c_str());
      const double floor_ns =
          peak_gflops > 0 ? e.flops_per_sample * static_cast<double>(e.batch) / peak_gflops : 0.0;
      // Weights read once per call (from L2 when they do not fit in L1).
      const double stream_ns =
          l2_gbps > 0 && e.batch == 1 && e.weight_bytes > l1d ? static_cast<double>(e.weight_bytes) / l2_gbps : 0.0;
      std::printf("%-24.24s %6zu %11s %11s %7s %11s %7s %12s %16s %10s %10s\n", e.model.c_str(), e.batch,
                  med(&e).c_str(), med(graph).c_str(), ratio(graph).c_str(), med(stat_r).c_str(),
                  ratio(stat_r).c_str(), gs, tail, fmt_ns(floor_ns).c_str(), fmt_ns(stream_ns).c_str());
    }
    if (header)
      std::printf("graph/static: cpu-graph / cpu-static; p99.9/p50: batch 1, single calls of cpu-static (else\n"
                  "cpu-graph); FMA floor: FLOPs per call / FMA peak; L2 floor: batch 1, weight bytes / L2 read\n"
                  "bandwidth, where the weights do not fit in L1d (%zu KiB): lower bounds no implementation beats\n",
                  l1d >> 10);
  }

  // Results measured by other programs (ONNX Runtime through Python).
  std::vector<Result> external;
  json external_info;
  if (!reference_json.empty()) {
    std::ifstream f(reference_json);
    if (!f) {
      std::printf("\nno external reference results (%s not found)\n", reference_json.c_str());
    } else {
      try {
        json j = json::parse(f);
        external_info = j.value("info", json::object());
        for (const auto& r : j.at("results")) {
          Result x = result_from_json(r);
          if (!std::regex_search(x.model, model_re)) continue;
          for (const auto& ours_r : results)  // FLOPs per sample come from the trignet file
            if (ours_r.model == x.model && x.flops_per_sample == 0) x.flops_per_sample = ours_r.flops_per_sample;
          x.gflops = x.flops_per_sample * x.samples_per_s * 1e-9;
          external.push_back(x);
        }
        for (const auto& s : j.value("unavailable", std::vector<std::string>()))
          std::printf("  not measured: %s\n", s.c_str());
      } catch (const std::exception& e) {
        std::printf("\nexternal reference results %s unreadable: %s\n", reference_json.c_str(), e.what());
      }
    }
  }

  // Side by side: trignet cpu-graph against the other runtimes (libtorch, ONNX
  // Runtime), same model and batch. trignet's other backends and the Eigen
  // baseline are in the table above.
  std::vector<Result> all = results;
  all.insert(all.end(), external.begin(), external.end());
  std::map<std::pair<std::string, std::size_t>, const Result*> ours;
  for (const auto& r : results)
    if (r.backend == "cpu-graph") ours[{r.model, r.batch}] = &r;
  bool header = false;
  for (const auto& r : all) {
    if (r.backend == "cpu-graph" || r.backend == "cpu-static" || r.backend == baseline_backend) continue;
    auto it = ours.find({r.model, r.batch});
    if (it == ours.end()) continue;
    if (!header) {
      std::printf("\n== Side by side (one thread each; ratio = other median / trignet median: > 1 means trignet is faster) ==\n");
      std::printf("%-24s %-16s %6s %12s %12s %8s %13s %13s %11s\n", "model", "other", "batch", "trignet",
                  "other", "ratio", "trignet smp/s", "other smp/s", "max |diff|");
      header = true;
    }
    const Result& o = *it->second;
    char diff[32];
    if (r.max_abs_diff >= 0) std::snprintf(diff, sizeof diff, "%.1e", r.max_abs_diff);
    else std::snprintf(diff, sizeof diff, "-");
    std::printf("%-24.24s %-16s %6zu %12s %12s %8.2f %13s %13s %11s\n", r.model.c_str(), r.backend.c_str(), r.batch,
                fmt_ns(o.median_ns).c_str(), fmt_ns(r.median_ns).c_str(), r.median_ns / o.median_ns,
                fmt_g(o.samples_per_s, "").c_str(), fmt_g(r.samples_per_s, "").c_str(), diff);
  }
  if (header)
    std::printf("max |diff|: largest difference from cpu-graph's outputs on the same inputs (libtorch); every\n"
                "export was also checked against the model's embedded test vectors (export_reference.py)\n");
  if (header && !external.empty() && external_info.contains("note"))
    std::printf("note: %s\n", external_info["note"].get<std::string>().c_str());

  // Budgets (fail --check) and targets (reported only).
  json budget_json = json::array(), target_json = json::array();
  if (check) {
    for (const bool targets : {false, true}) {
      bool any = false;
      for (const auto& b : budgets) any = any || b.target == targets;
      if (targets && !any) continue;
      if (!targets)
        std::printf("\n== Budgets (%s) ==\n", budget_path.c_str());
      else
        std::printf("\n== Targets (%s, \"targets\": goals, reported and never failing) ==\n", budget_path.c_str());
      std::printf("%-24s %-11s %6s %10s %10s %-28s %s\n", "model", "backend", "batch", "p50", "p99",
                  targets ? "target" : "budget", "result");
      int failed = 0, passed = 0, missing = 0;
      for (const auto& b : budgets) {
        if (b.target != targets) continue;
        if (!std::regex_search(b.model, model_re) || !std::regex_search(b.backend, backend_re)) continue;
        const Evaluation ev = evaluate(b, results);
        json bj = {{"model", b.model}, {"backend", b.backend}, {"batch", b.batch}, {"percentile", b.percentile},
                   {"reason", b.reason}, {"limit", ev.limit_text}};
        if (b.limit_ns > 0) bj["limit_ns"] = b.limit_ns;
        if (b.max_ratio > 0) {
          bj["max_ratio"] = b.max_ratio;
          bj["baseline"] = b.baseline;
          bj["baseline_percentile"] = b.baseline_percentile;
        }
        if (b.min_samples_per_s > 0) bj["min_samples_per_s"] = b.min_samples_per_s;
        std::string res;
        if (!ev.measured) {
          ++missing;
          res = (targets ? "NOT MEASURED (" : "SKIP (") + ev.why + ")";
          bj["result"] = targets ? "not measured" : "skip";
        } else {
          (ev.ok ? passed : failed)++;
          res = (targets ? (ev.ok ? "MET" : "NOT MET") : (ev.ok ? "PASS" : "FAIL")) + std::string(" (") +
                ev.value_text + ")";
          bj["result"] = targets ? (ev.ok ? "met" : "not met") : (ev.ok ? "pass" : "fail");
          bj["measured"] = ev.value;
        }
        std::printf("%-24.24s %-11s %6zu %10s %10s %-28s %s\n", b.model.c_str(), b.backend.c_str(), b.batch,
                    ev.r ? fmt_ns(ev.r->p50).c_str() : "-", ev.r ? fmt_ns(ev.r->p99).c_str() : "-",
                    ev.limit_text.c_str(), res.c_str());
        (targets ? target_json : budget_json).push_back(bj);
      }
      if (!targets) {
        // Every trignet result needs a budget (the comparison backends do not).
        std::map<std::pair<std::string, std::string>, bool> has_budget;
        for (const auto& b : budgets)
          if (!b.target) has_budget[{b.model, b.backend}] = true;
        std::map<std::pair<std::string, std::string>, bool> listed;
        for (const auto& r : results)
          if ((r.backend == "cpu-graph" || r.backend == "cpu-static") && !has_budget.count({r.model, r.backend}) &&
              !listed[{r.model, r.backend}]) {
            listed[{r.model, r.backend}] = true;
            std::printf("%-24.24s %-11s %6s %10s %10s %-28s %s\n", r.model.c_str(), r.backend.c_str(), "-", "-",
                        "-", "none", "NO BUDGET (add one to budgets.json)");
          }
        std::printf("%d passed, %d failed, %d skipped\n", passed, failed, missing);
        if (failed) status = 1;
      } else {
        std::printf("%d met, %d not met, %d not measured\n", passed, failed, missing);
      }
    }
  }

  if (!json_path.empty()) {
    json out;
    out["tool"] = "trignet-bench";
    out["date"] = date;
    out["mode"] = settings.full ? "full" : "quick";
    out["rounds"] = settings.rounds;
    out["machine"] = {{"cpu_model", cpu_model}, {"pinned_core", cpu}, {"load_average_1min", load1},
                      {"clock_read_pair_ns", timer}, {"core_ghz", ghz}, {"fma_peak_gflops", peak_gflops},
                      {"l2_read_gbps", l2_gbps}, {"l1d_bytes", l1d}};
#if defined(__VERSION__)
    out["compiler"] = __VERSION__;
#endif
    out["isa"] = isa;
    if (!kernel_isa.empty()) out["trignet_kernel_isa"] = kernel_isa;
    out["compile_flags"] = TRIGNET_BENCH_FLAGS;
    out["simd"] = isa;  // older name of "isa"
    out["baseline"] = baseline_backend;
    out["elapsed_s"] = elapsed_s;
    out["results"] = json::array();
    for (const auto& r : results) out["results"].push_back(result_json(r));
    for (const auto& r : external) out["results"].push_back(result_json(r));
    if (!external_info.empty()) out["external_info"] = external_info;
    out["not_measured"] = skipped;
    out["output_checks"] = verification;
    if (check) {
      out["budgets"] = budget_json;
      out["targets"] = target_json;
    }
    std::ofstream f(json_path);
    if (!f) {
      std::fprintf(stderr, "trignet-bench: cannot write %s\n", json_path.c_str());
      return 2;
    }
    f << out.dump(1) << "\n";
  }
  return status;
}

#ifndef TRIGNET_BENCH_LIBTORCH
std::unique_ptr<trignet_bench::Backend> trignet_bench::make_libtorch_backend(const std::string&) {
  return std::make_unique<MissingBackend>(
      "libtorch", "not built in (configure with -DTRIGNET_BENCH_LIBTORCH=ON; tools/run-benchmarks.sh does when .venv has torch)");
}
#endif
