// trignet-bench: latency and throughput of every model and backend, against
// the budgets in benchmarks/budgets.json. See docs/benchmarks.md.
//
//   trignet-bench [--check] [--json FILE] [--filter REGEX] [--quick|--full]
//                 [--batch 1,64,1000] [--cpu N] [--budgets FILE]
//                 [--reference-dir DIR] [--reference-json FILE] [MODEL.json|DIR ...]
//
// Per (model, backend, batch), on one thread pinned to one core, after warm-up:
//   median   per-call time from blocks of consecutive calls (clock cost amortised)
//   p50..max single calls, each timed on its own (clock cost included)
//   samples/s = batch / median; GFLOP/s = FLOPs per sample * samples/s.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

#include <nlohmann/json.hpp>
#include <trignet/trignet.hpp>

#include "backend.hpp"

#ifndef TRIGNET_SOURCE_DIR
#define TRIGNET_SOURCE_DIR "."
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

std::vector<std::unique_ptr<Backend>> make_backends(const std::string& reference_dir) {
  std::vector<std::unique_ptr<Backend>> b;
  b.push_back(std::make_unique<GraphBackend>());
  // Slot for the compile-time network (issue 6): a Backend whose prepare()
  // picks the matching compiled network for the model, by name or hash.
  b.push_back(std::make_unique<MissingBackend>("cpu-static", "compile-time networks are not built yet (issue 6)"));
  // Slot for CUDA: a Backend around trignet::cuda::Session (device-resident
  // inputs, plus a variant with host<->device copies), built in a .cu file
  // when the CUDA target exists. The GPU benchmark today is trignet-cuda-bench.
  b.push_back(std::make_unique<MissingBackend>(
      "cuda", "not in this runner yet: GPU numbers come from trignet-cuda-bench (benchmarks/gpu-check.sh)"));
  b.push_back(make_libtorch_backend(reference_dir));
  return b;
}

// ---------------------------------------------------------------- measuring

struct Settings {
  bool full = false;
  int cpu = -2;  // -2: default choice, -1: no pinning
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
  double max_abs_diff = -1;  // against cpu-graph on the same inputs (-1: not compared)
  std::string note;
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

Result measure(Runner& r, std::size_t batch, const Settings& s) {
  Result res;
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
  res.median_ns = median(per_call);
  res.block_calls = per_block;
  res.blocks = blocks;
  // Single calls for the tails.
  const double single_budget = s.full ? 4e9 : 4e8;
  const std::size_t max_single = s.full ? 200000 : 20000;
  const std::size_t singles = std::clamp<std::size_t>(static_cast<std::size_t>(single_budget / estimate), 50, max_single);
  std::vector<double> t;
  t.reserve(singles);
  for (std::size_t i = 0; i < singles; ++i) {
    const auto a = Clock::now();
    r.run(batch);
    const auto e = Clock::now();
    t.push_back(ns_between(a, e));
  }
  std::sort(t.begin(), t.end());
  res.singles = t.size();
  res.p50 = quantile_sorted(t, 50);
  res.p90 = quantile_sorted(t, 90);
  res.p99 = quantile_sorted(t, 99);
  res.p999 = quantile_sorted(t, 99.9);
  res.max = t.back();
  for (int q = 0; q <= 200; ++q) res.quantiles.push_back(quantile_sorted(t, q * 0.5));
  res.samples_per_s = static_cast<double>(batch) / (res.median_ns * 1e-9);
  return res;
}

// ---------------------------------------------------------------- budgets

struct Budget {
  std::string model, backend, percentile, reason;
  std::size_t batch = 1;
  double limit_ns = 0;
};

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
  const json& list = j.at("budgets");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& b = list[i];
    try {
      Budget x;
      x.model = b.at("model").get<std::string>();
      x.backend = b.at("backend").get<std::string>();
      x.batch = b.at("batch").get<std::size_t>();
      x.percentile = b.at("percentile").get<std::string>();
      x.limit_ns = b.at("limit_ns").get<double>();
      x.reason = b.at("reason").get<std::string>();
      static const char* ok[] = {"median", "p50", "p90", "p99", "p99.9", "max"};
      if (std::find_if(std::begin(ok), std::end(ok), [&](const char* p) { return x.percentile == p; }) == std::end(ok))
        throw std::runtime_error("percentile must be one of median, p50, p90, p99, p99.9, max");
      out.push_back(x);
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": budgets[" + std::to_string(i) + "]: " + e.what());
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

json result_json(const Result& r) {
  json j = {{"model", r.model}, {"backend", r.backend}, {"batch", r.batch},
            {"median_ns", r.median_ns}, {"block_calls", r.block_calls}, {"blocks", r.blocks},
            {"p50_ns", r.p50}, {"p90_ns", r.p90}, {"p99_ns", r.p99}, {"p999_ns", r.p999}, {"max_ns", r.max},
            {"single_calls", r.singles}, {"quantiles_ns", r.quantiles},
            {"samples_per_s", r.samples_per_s}, {"flops_per_sample", r.flops_per_sample},
            {"gflops", r.gflops}};
  if (r.max_abs_diff >= 0) j["max_abs_diff_vs_cpu_graph"] = r.max_abs_diff;
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
  const std::string cpu_model = read_first_line_with("/proc/cpuinfo", "model name");
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
  std::printf("median: per call, from blocks of calls (clock amortised); p50..max: single calls (clock included)\n");
  for (const auto& b : backends)
    if (std::regex_search(b->name(), backend_re) && !b->unavailable().empty())
      std::printf("backend %-10s not measured: %s\n", b->name().c_str(), b->unavailable().c_str());
  std::printf("\n%-24s %-10s %6s %10s %10s %10s %10s %10s %10s %13s %9s %9s\n", "model", "backend", "batch",
              "median", "p50", "p90", "p99", "p99.9", "max", "samples/s", "FLOP/smp", "GFLOP/s");
  std::fflush(stdout);

  const std::size_t max_batch = *std::max_element(batches.begin(), batches.end());
  std::vector<Result> results;
  std::vector<std::string> skipped;  // "model backend: why"
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
    info.max_batch = max_batch;
    std::mt19937 rng(12345);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    for (const auto& in : model->inputs()) {
      info.input_sizes.push_back(in.size);
      info.input_shapes.emplace_back(in.shape.begin(), in.shape.end());
      info.inputs.emplace_back(max_batch * in.size);
      for (float& x : info.inputs.back()) x = dist(rng);
    }
    for (const auto& out : model->outputs()) info.output_sizes.push_back(out.size);

    // Reference outputs (cpu-graph) on the first samples, to check the others.
    const std::size_t check_batch = std::min<std::size_t>(8, max_batch);
    std::vector<std::vector<float>> expected;
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
        skipped.push_back(info.name + " " + backend->name() + ": " + why);
        continue;
      }
      double diff = -1;
      try {
        runner->run(check_batch);
        std::vector<std::vector<float>> got;
        for (std::size_t o = 0; o < info.output_sizes.size(); ++o) got.push_back(runner->output(o));
        if (backend->is_reference()) {
          expected = got;
        } else if (!expected.empty()) {
          diff = 0;
          for (std::size_t o = 0; o < got.size(); ++o) {
            if (got[o].size() != expected[o].size()) {
              diff = INFINITY;
              break;
            }
            for (std::size_t k = 0; k < got[o].size(); ++k)
              diff = std::max(diff, static_cast<double>(std::fabs(got[o][k] - expected[o][k])));
          }
        }
      } catch (const std::exception& e) {
        skipped.push_back(info.name + " " + backend->name() + ": " + e.what());
        continue;
      }
      for (std::size_t batch : batches) {
        // Quick mode keeps the default suite to minutes: a default batch whose
        // one call is above 2 GFLOP (about 0.1 s here) is left to --full.
        if (!settings.full && !batches_given &&
            static_cast<double>(batch) * info.flops_per_sample > 2e9) {
          skipped.push_back(info.name + " " + backend->name() + " batch " + std::to_string(batch) +
                            ": over 2 GFLOP per call in quick mode (use --full or --batch)");
          continue;
        }
        Result r;
        try {
          r = measure(*runner, batch, settings);
        } catch (const std::exception& e) {
          skipped.push_back(info.name + " " + backend->name() + " batch " + std::to_string(batch) + ": " + e.what());
          continue;
        }
        r.model = info.name;
        r.backend = backend->name();
        r.flops_per_sample = info.flops_per_sample;
        r.gflops = r.flops_per_sample * r.samples_per_s * 1e-9;
        r.max_abs_diff = diff;
        if (diff > 1e-4) r.note = "outputs differ from cpu-graph by " + std::to_string(diff);
        std::printf("%-24.24s %-10s %6zu %10s %10s %10s %10s %10s %10s %13s %9.0f %9.2f%s\n", r.model.c_str(),
                    r.backend.c_str(), r.batch, fmt_ns(r.median_ns).c_str(), fmt_ns(r.p50).c_str(),
                    fmt_ns(r.p90).c_str(), fmt_ns(r.p99).c_str(),
                    r.singles >= 1000 ? fmt_ns(r.p999).c_str() : "-", fmt_ns(r.max).c_str(),
                    fmt_g(r.samples_per_s, "").c_str(), r.flops_per_sample, r.gflops,
                    r.note.empty() ? "" : ("  ! " + r.note).c_str());
        std::fflush(stdout);
        results.push_back(r);
      }
    }
  }
  const double elapsed_s = ns_between(started, Clock::now()) * 1e-9;
  for (const auto& s : skipped) std::printf("  not measured: %s\n", s.c_str());
  std::printf("(p99.9 shown as - with fewer than 1000 single calls; measured in %.0f s)\n", elapsed_s);

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

  // Side by side: trignet cpu-graph against every other backend, same model and batch.
  std::vector<Result> all = results;
  all.insert(all.end(), external.begin(), external.end());
  std::map<std::pair<std::string, std::size_t>, const Result*> ours;
  for (const auto& r : results)
    if (r.backend == "cpu-graph") ours[{r.model, r.batch}] = &r;
  bool header = false;
  for (const auto& r : all) {
    if (r.backend == "cpu-graph") continue;
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

  // Budgets.
  json budget_json = json::array();
  if (check) {
    std::printf("\n== Budgets (%s) ==\n", budget_path.c_str());
    std::printf("%-24s %-10s %6s %10s %10s %-20s %s\n", "model", "backend", "batch", "p50", "p99", "budget", "result");
    int failed = 0, passed = 0, missing = 0;
    std::map<std::string, bool> has_budget;
    for (const auto& b : budgets) {
      if (!std::regex_search(b.model, model_re) || !std::regex_search(b.backend, backend_re)) continue;
      has_budget[b.model] = true;
      const Result* r = nullptr;
      for (const auto& x : results)
        if (x.model == b.model && x.backend == b.backend && x.batch == b.batch) r = &x;
      const std::string limit = b.percentile + " <= " + fmt_ns(b.limit_ns);
      json bj = {{"model", b.model}, {"backend", b.backend}, {"batch", b.batch}, {"percentile", b.percentile},
                 {"limit_ns", b.limit_ns}, {"reason", b.reason}};
      if (!r) {
        ++missing;
        std::printf("%-24.24s %-10s %6zu %10s %10s %-20s %s\n", b.model.c_str(), b.backend.c_str(), b.batch, "-", "-",
                    limit.c_str(), "SKIP (not measured here)");
        bj["result"] = "skip";
      } else {
        const double v = stat(*r, b.percentile);
        const bool ok = v <= b.limit_ns;
        (ok ? passed : failed)++;
        char res[64];
        std::snprintf(res, sizeof res, "%s (%s = %.0f%% of budget)", ok ? "PASS" : "FAIL", b.percentile.c_str(),
                      100.0 * v / b.limit_ns);
        std::printf("%-24.24s %-10s %6zu %10s %10s %-20s %s\n", b.model.c_str(), b.backend.c_str(), b.batch,
                    fmt_ns(r->p50).c_str(), fmt_ns(r->p99).c_str(), limit.c_str(), res);
        bj["result"] = ok ? "pass" : "fail";
        bj["measured_ns"] = v;
      }
      budget_json.push_back(bj);
    }
    for (const auto& r : results)
      if (r.backend == "cpu-graph" && !has_budget.count(r.model)) {
        std::printf("%-24.24s %-10s %6zu %10s %10s %-20s %s\n", r.model.c_str(), r.backend.c_str(), r.batch,
                    fmt_ns(r.p50).c_str(), fmt_ns(r.p99).c_str(), "none", "NO BUDGET (add one to budgets.json)");
      }
    std::printf("%d passed, %d failed, %d skipped\n", passed, failed, missing);
    if (failed) status = 1;
  }

  if (!json_path.empty()) {
    json out;
    out["tool"] = "trignet-bench";
    out["date"] = date;
    out["mode"] = settings.full ? "full" : "quick";
    out["machine"] = {{"cpu_model", cpu_model}, {"pinned_core", cpu}, {"load_average_1min", load1},
                      {"clock_read_pair_ns", timer}};
#if defined(__VERSION__)
    out["compiler"] = __VERSION__;
#endif
#if defined(__AVX512F__)
    out["simd"] = "AVX-512";
#elif defined(__AVX2__)
    out["simd"] = "AVX2";
#else
    out["simd"] = "SSE2 (no -march)";
#endif
    out["elapsed_s"] = elapsed_s;
    out["results"] = json::array();
    for (const auto& r : results) out["results"].push_back(result_json(r));
    for (const auto& r : external) out["results"].push_back(result_json(r));
    if (!external_info.empty()) out["external_info"] = external_info;
    out["not_measured"] = skipped;
    if (check) out["budgets"] = budget_json;
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
