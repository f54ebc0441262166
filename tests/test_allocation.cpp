// After the first call at a given batch size, Session::run must not touch the
// heap. Every allocation path is counted here: operator new and the C
// allocator that Eigen uses. This program replaces them, so it lives alone.

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

namespace {
std::atomic<long> allocations{0};
std::atomic<bool> counting{false};
void note() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

// glibc's real allocator entry points.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t s) {
  note();
  return __libc_calloc(n, s);
}
void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  note();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, std::size_t a, std::size_t n) {
  note();
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}

void* operator new(std::size_t n) {
  note();
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  note();
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }

namespace {

/// Allocations made by `f`, which runs with counting switched on.
template <typename F>
long count_allocations(F&& f) {
  allocations = 0;
  counting = true;
  f();
  counting = false;
  return allocations.load();
}

template <typename T>
void check_no_allocation(const std::shared_ptr<const trignet::Model<T>>& model, std::size_t batch) {
  const std::size_t half = batch > 1 ? batch / 2 : 1;
  std::vector<std::vector<T>> inputs;
  std::vector<trignet::Span<const T>> views, half_views;
  for (std::size_t i = 0; i < model->inputs().size(); ++i) {
    // Integer inputs carry indices (Embedding): 0 is valid for any table.
    const bool integer = model->spec().inputs[i].dtype == trignet::InputType::int32;
    inputs.emplace_back(batch * model->inputs()[i].size, integer ? T(0) : T(0.25));
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    views.emplace_back(inputs[i]);
    half_views.emplace_back(inputs[i].data(), half * model->inputs()[i].size);
  }
  const trignet::Span<const trignet::Span<const T>> args(views.data(), views.size());
  const trignet::Span<const trignet::Span<const T>> half_args(half_views.data(), half_views.size());
  trignet::Session<T> session(model);
  session.run(args, batch);  // first call may allocate (buffers sized here)
  const long n = count_allocations([&] {
    for (int i = 0; i < 20; ++i) session.run(args, batch);
    session.run(half_args, half);  // smaller batches reuse the buffers
  });
  CHECK(n == 0);
}

}  // namespace

TEST_CASE("the counter sees operator new and malloc", "[allocation]") {
  CHECK(count_allocations([] { delete new int(3); }) == 1);
  CHECK(count_allocations([] { std::free(std::malloc(10)); }) == 1);
  CHECK(count_allocations([] { std::vector<float> v(100); }) == 1);
}

TEST_CASE("run allocates nothing after the first call, float and double, batch 1 and larger",
          "[allocation]") {
  auto files = trignet_test::fixture_files();
  files.push_back(trignet_test::source_path("models/jet_tagger.json"));
  for (const std::string& file : files) {
    DYNAMIC_SECTION(file) {
      for (std::size_t batch : {1u, 7u, 300u}) {
        check_no_allocation(trignet::load_model<float>(file), batch);
        check_no_allocation(trignet::load_model<double>(file), batch);
      }
    }
  }
}

TEST_CASE("large dense layers (Eigen GEMM path) allocate nothing in run", "[allocation]") {
  // 256 -> 1024 -> 256: packing buffers must stay on the stack at every batch size.
  trignet::ModelSpec spec;
  spec.name = "wide";
  spec.inputs.push_back({"x", {256}, {}, {}});
  spec.outputs.push_back({"y", "d2", std::nullopt, {}});
  auto dense = [](const char* name, const char* input, std::size_t in, std::size_t units) {
    trignet::NodeSpec node;
    node.name = name;
    node.inputs = {input};
    node.params = trignet::DenseParams{units, {}, true};
    node.weights["kernel"] = {{in, units}, std::vector<float>(in * units, 0.01f)};
    node.weights["bias"] = {{units}, std::vector<float>(units, 0.1f)};
    return node;
  };
  spec.nodes.push_back(dense("d1", "x", 256, 1024));
  spec.nodes.push_back(dense("d2", "d1", 1024, 256));
  auto model = trignet::compile_model<float>(spec);
  for (std::size_t batch : {1u, 64u, 1000u}) check_no_allocation(model, batch);
  check_no_allocation(trignet::compile_model<double>(spec), 500);
}
