// trignet-latency-probe: latencies of the dependency chains a batch-1 dense
// network cannot overlap (docs/benchmarks.md, "Why some targets are out of
// reach"). Each figure is the best of 7 runs of a chain of dependent
// operations, in ns per link; with the core clock printed by trignet-bench
// they are cycles:
//   fma        one 512-bit (else 256-bit) FMA whose input is the previous result
//   reduce     horizontal sum of a vector, broadcast back (the end of a dot product
//              or of softmax's max and sum)
//   forward    store a vector, load one lane, broadcast it, add (a layer's output
//              becoming the next layer's broadcast input)
// Built with trignet-bench's flags (target trignet_latency_probe, not built by
// default: `cmake --build BUILD --target trignet_latency_probe`).

#include <algorithm>
#include <chrono>
#include <cstdio>

#if defined(__x86_64__) && (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__)))
#include <immintrin.h>

using Clock = std::chrono::steady_clock;

#if defined(__AVX512F__)
using V = __m512;
static V set1(float v) { return _mm512_set1_ps(v); }
static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static V add(V a, V b) { return _mm512_add_ps(a, b); }
static float reduce(V a) { return _mm512_reduce_add_ps(a); }
static void store(float* p, V a) { _mm512_store_ps(p, a); }
static float lane0(V a) { return _mm512_cvtss_f32(a); }
static const char* width = "512-bit";
#else
using V = __m256;
static V set1(float v) { return _mm256_set1_ps(v); }
static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static V add(V a, V b) { return _mm256_add_ps(a, b); }
static float reduce(V a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
static void store(float* p, V a) { _mm256_store_ps(p, a); }
static float lane0(V a) { return _mm256_cvtss_f32(a); }
static const char* width = "256-bit";
#endif

template <typename F>
double best_ns(long links, F chain) {
  double best = 1e30;
  for (int rep = 0; rep < 7; ++rep) {
    const auto t0 = Clock::now();
    chain(links);
    best = std::min(best, std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(links));
  }
  return best;
}

int main() {
  volatile float sink = 0;
  const double f = best_ns(2000000, [&](long n) {
    V a = set1(1.0f);
    const V m = set1(0.9999999f), c = set1(1e-7f);
    for (long i = 0; i < n; ++i) a = fma(a, m, c);
    sink = sink + lane0(a);
  });
  const double r = best_ns(200000, [&](long n) {
    V v = set1(1e-3f);
    for (long i = 0; i < n; ++i) v = set1(reduce(v) * 1e-3f);
    sink = sink + lane0(v);
  });
  const double w = best_ns(200000, [&](long n) {
    alignas(64) float buf[16];
    V v = set1(1.0f);
    const V c = set1(1e-7f);
    for (long i = 0; i < n; ++i) {
      store(buf, v);
      v = add(set1(buf[3]), c);
    }
    sink = sink + lane0(v);
  });
  std::printf("%s vectors, ns per dependent link (best of 7): fma %.3f  reduce %.3f  forward %.3f\n", width, f, r, w);
  return 0;
}
#else
int main() {
  std::printf("trignet-latency-probe: needs x86-64 with AVX2 + FMA or AVX-512 (TRIGNET_BENCH_ARCH)\n");
  return 0;
}
#endif
