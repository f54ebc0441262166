// trignet-latency: per-call latency and batch throughput of the run-time
// engine on the given model files, one thread, optionally pinned to a core.
//
// Medians come from timing blocks of calls (the ~35 ns clock read is
// amortised); tail percentiles come from timing single calls (clock cost
// included, stated in the output). See docs/benchmarks.md.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

#include <trignet/trignet.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

struct Result {
  double block_median_ns = 0;  // per call, from blocks of calls
  double p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;  // single calls, timer included
  double timer_ns = 0;
  double batch_us = 0;  // median time of one batch call
  std::size_t batch = 0;
};

double timer_cost_ns() {
  std::vector<double> t;
  for (int i = 0; i < 20000; ++i) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    t.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  return percentile(t, 50);
}

Result measure(const std::shared_ptr<const trignet::Model<float>>& model, std::size_t batch,
               bool quick) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<std::vector<float>> inputs;
  for (const auto& in : model->inputs()) {
    inputs.emplace_back(batch * in.size);
    for (float& x : inputs.back()) x = dist(rng);
  }
  std::vector<trignet::Span<const float>> one, all;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    one.emplace_back(inputs[i].data(), model->inputs()[i].size);
    all.emplace_back(inputs[i]);
  }
  const trignet::Span<const trignet::Span<const float>> one_args(one.data(), one.size());
  const trignet::Span<const trignet::Span<const float>> all_args(all.data(), all.size());
  trignet::Session<float> session(model, batch);
  volatile float sink = 0;

  Result r;
  const int warmup = quick ? 2000 : 20000, blocks = quick ? 200 : 1000, per_block = 100;
  const int singles = quick ? 20000 : 200000;
  for (int i = 0; i < warmup; ++i) session.run(one_args, 1);
  std::vector<double> per_call;
  for (int b = 0; b < blocks; ++b) {
    const auto t0 = Clock::now();
    for (int i = 0; i < per_block; ++i) session.run(one_args, 1);
    const auto t1 = Clock::now();
    per_call.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / per_block);
  }
  sink = sink + session.output(0)[0];
  r.block_median_ns = percentile(per_call, 50);
  std::vector<double> single;
  single.reserve(static_cast<std::size_t>(singles));
  for (int i = 0; i < singles; ++i) {
    const auto t0 = Clock::now();
    session.run(one_args, 1);
    const auto t1 = Clock::now();
    single.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  r.p50_ns = percentile(single, 50);
  r.p99_ns = percentile(single, 99);
  r.p999_ns = percentile(single, 99.9);
  r.max_ns = *std::max_element(single.begin(), single.end());
  r.batch = batch;
  std::vector<double> batch_times;
  session.run(all_args, batch);
  for (int i = 0; i < (quick ? 30 : 200); ++i) {
    const auto t0 = Clock::now();
    session.run(all_args, batch);
    const auto t1 = Clock::now();
    batch_times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  sink = sink + session.output(0)[0];
  r.batch_us = percentile(batch_times, 50);
  return r;
}

int usage() {
  std::fprintf(stderr,
               "usage: trignet-latency [--cpu N] [--batch N] [--full] MODEL.json...\n"
               "  --cpu N    pin to core N (default 1 if the machine has 2+ cores, -1: no pinning)\n"
               "  --batch N  batch size for the throughput column (default 1000)\n"
               "  --full     10x more calls (slower, steadier tails)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int cpu = 1;
  std::size_t batch = 1000;
  bool quick = true;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cpu" && i + 1 < argc) cpu = std::atoi(argv[++i]);
    else if (a == "--batch" && i + 1 < argc) batch = static_cast<std::size_t>(std::atol(argv[++i]));
    else if (a == "--full") quick = false;
    else if (a == "--help" || a == "-h") return usage();
    else if (!a.empty() && a[0] == '-') return usage();
    else files.push_back(a);
  }
  if (files.empty() || batch == 0) return usage();
#if defined(__linux__)
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) cpu = -1;
  }
#else
  cpu = -1;
#endif
  const double timer = timer_cost_ns();
  std::printf("trignet-latency: one thread, %s, float, %s mode; clock read pair %.0f ns\n",
              cpu >= 0 ? ("pinned to core " + std::to_string(cpu)).c_str() : "not pinned",
              quick ? "quick" : "full", timer);
  std::printf("median = per call from blocks of 100 calls; p50/p99/p99.9/max = single calls incl. clock\n\n");
  std::printf("%-28s %10s %9s %9s %9s %9s %10s %14s\n", "model", "median ns", "p50 ns", "p99 ns",
              "p99.9 ns", "max ns", "FLOP/smp", "batch samples/s");
  try {
    for (const std::string& file : files) {
      auto model = trignet::load_model<float>(file);
      const Result r = measure(model, batch, quick);
      std::printf("%-28s %10.0f %9.0f %9.0f %9.0f %9.0f %10.0f %10.3g (%zu)\n", model->name().c_str(),
                  r.block_median_ns, r.p50_ns, r.p99_ns, r.p999_ns, r.max_ns, model->flops_per_sample(),
                  static_cast<double>(r.batch) / (r.batch_us * 1e-6), r.batch);
    }
  } catch (const trignet::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
