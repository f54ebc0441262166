// Thread stress: one shared model, many sessions, thousands of runs per thread
// with varying batch sizes, compared bit for bit with single-threaded results;
// and a model "reloaded" while other threads keep using the old shared_ptr.
// TRIGNET_STRESS_RUNS overrides the runs per thread (default 5000; the TSan
// build uses fewer).

#include <atomic>
#include <chrono>
#include <string>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

using trignet_test::source_path;

namespace {

using ModelPtr = std::shared_ptr<const trignet::Model<float>>;

int runs_per_thread() {
  const char* env = std::getenv("TRIGNET_STRESS_RUNS");
  return env ? std::max(1, std::atoi(env)) : 5000;
}

constexpr std::size_t batch_sizes[] = {1, 2, 3, 5, 8, 13, 16, 31, 64};
constexpr std::size_t n_batches = sizeof(batch_sizes) / sizeof(batch_sizes[0]);
constexpr unsigned n_threads = 8;

struct Case {
  std::size_t batch;
  std::vector<float> input;
  std::vector<float> expected;  // first output, single-threaded
};

std::vector<Case> make_cases(const ModelPtr& model) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-3.f, 3.f);
  std::vector<Case> cases;
  trignet::Session<float> session(model);
  for (std::size_t b : batch_sizes) {
    Case c;
    c.batch = b;
    c.input.resize(b * model->inputs()[0].size);
    for (float& x : c.input) x = dist(rng);
    const auto y = session.run(c.input);
    c.expected.assign(y.begin(), y.end());
    cases.push_back(std::move(c));
  }
  return cases;
}

bool same_bits(trignet::Span<const float> y, const std::vector<float>& e) {
  return y.size() == e.size() && std::memcmp(y.data(), e.data(), e.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("stress: 8 threads share one model, bit-identical to one thread", "[stress][threads]") {
  const ModelPtr model = trignet::load_model<float>(source_path("models/jet_tagger.json"));
  const std::vector<Case> cases = make_cases(model);
  const int runs = runs_per_thread();
  std::atomic<long> calls{0}, mismatches{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n_threads; ++t)
    threads.emplace_back([&, t] {
      trignet::Session<float> session(model);  // grows to the largest batch once
      for (int i = 0; i < runs; ++i) {
        const Case& c = cases[(static_cast<std::size_t>(i) * 7 + t) % n_batches];
        if (!same_bits(session.run(c.input), c.expected)) ++mismatches;
        ++calls;
      }
    });
  for (auto& th : threads) th.join();
  INFO(calls.load() << " calls from " << n_threads << " threads");
  CHECK(calls.load() == static_cast<long>(n_threads) * runs);
  CHECK(mismatches.load() == 0);
}

TEST_CASE("stress: a model reloaded while threads keep using the old one", "[stress][threads]") {
  const std::string path = source_path("models/jet_tagger.json");
  ModelPtr current = trignet::load_model<float>(path);
  const std::vector<Case> cases = make_cases(current);
  std::weak_ptr<const trignet::Model<float>> first = current;
  const int runs = runs_per_thread();
  std::atomic<long> calls{0}, mismatches{0}, switches{0};
  std::vector<std::weak_ptr<const trignet::Model<float>>> retired;

  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n_threads; ++t)
    threads.emplace_back([&, t] {
      auto session = std::make_unique<trignet::Session<float>>(std::atomic_load(&current));
      for (int i = 0; i < runs; ++i) {
        if (i % 97 == 0) {  // now and then pick up the newest model; the old one stays alive meanwhile
          ModelPtr latest = std::atomic_load(&current);
          if (latest.get() != &session->model()) {
            session = std::make_unique<trignet::Session<float>>(std::move(latest));
            ++switches;
          }
        }
        const Case& c = cases[(static_cast<std::size_t>(i) * 5 + t) % n_batches];
        if (!same_bits(session->run(c.input), c.expected)) ++mismatches;
        ++calls;
      }
    });
  std::thread reloader([&] {
    for (int r = 0; r < 8; ++r) {
      ModelPtr fresh = trignet::load_model<float>(path);
      retired.push_back(std::atomic_load(&current));
      std::atomic_store(&current, std::move(fresh));  // the old model dies with its last session
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& th : threads) th.join();
  reloader.join();
  INFO(calls.load() << " calls, " << switches.load() << " session switches to a reloaded model");
  CHECK(calls.load() == static_cast<long>(n_threads) * runs);
  CHECK(mismatches.load() == 0);
  // Every replaced model is freed once no session holds it (no leak, no early free).
  for (const auto& w : retired) CHECK(w.expired());
  CHECK(first.expired());
}
