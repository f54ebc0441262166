// MultiHeadAttention against an independent reference: plain loops in double
// written from the equations of docs/format.md ("Attention"), in float and
// double, for every option; a small transformer encoder block (MHA, residual
// Add, LayerNormalization, feed-forward Dense) against the same kind of
// reference; and the layer's validation errors with their exact messages.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

using nlohmann::json;
using trignet_test::contains;
using trignet_test::error_message;

namespace {

// ---------------------------------------------------------------------------
// Random data that float and double see identically (every value is a float32).

struct Rng {
  std::mt19937 gen;
  explicit Rng(unsigned seed) : gen(seed) {}
  std::vector<double> values(std::size_t n, double lo = -1.0, double hi = 1.0) {
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<double> v(n);
    for (double& x : v) x = static_cast<double>(static_cast<float>(d(gen)));
    return v;
  }
};

std::size_t product(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

json tensor(const std::vector<std::size_t>& shape, const std::vector<double>& data) {
  return json{{"shape", shape}, {"data", data}};
}

// ---------------------------------------------------------------------------
// One MultiHeadAttention configuration and its weights.

struct Mha {
  std::size_t t_q = 4, t_v = 4, d_q = 6, d_k = 6, d_v = 6;
  std::size_t heads = 2, key_dim = 3, value_dim = 3, d_out = 6;
  bool has_key = false;   // a separate key input
  bool self = false;      // one model input feeds query and value
  bool use_bias = true;
  bool use_mask = false;
  bool causal = false;
  bool write_value_dim = false;  // write config.value_dim even when equal to key_dim

  // Weights, row-major in the file's shapes.
  std::vector<double> wq, wk, wv, wo, bq, bk, bv, bo;

  void make_weights(Rng& rng) {
    // Scaled like a trained layer (variance ~ 1/fan_in) so that float32
    // rounding stays comparable across sizes.
    auto s = [](std::size_t fan_in) { return 1.5 / std::sqrt(static_cast<double>(fan_in)); };
    wq = rng.values(d_q * heads * key_dim, -s(d_q), s(d_q));
    wk = rng.values(d_k * heads * key_dim, -s(d_k), s(d_k));
    wv = rng.values(d_v * heads * value_dim, -s(d_v), s(d_v));
    wo = rng.values(heads * value_dim * d_out, -s(heads * value_dim), s(heads * value_dim));
    if (use_bias) {
      bq = rng.values(heads * key_dim, -0.3, 0.3);
      bk = rng.values(heads * key_dim, -0.3, 0.3);
      bv = rng.values(heads * value_dim, -0.3, 0.3);
      bo = rng.values(d_out, -0.3, 0.3);
    }
  }

  json config() const {
    json c{{"num_heads", heads}, {"key_dim", key_dim}};
    if (value_dim != key_dim || write_value_dim) c["value_dim"] = value_dim;
    if (!use_bias) c["use_bias"] = false;
    if (use_mask) c["use_mask"] = true;
    if (causal) c["causal"] = true;
    return c;
  }

  json weights() const {
    json w{{"query_kernel", tensor({d_q, heads, key_dim}, wq)},
           {"key_kernel", tensor({d_k, heads, key_dim}, wk)},
           {"value_kernel", tensor({d_v, heads, value_dim}, wv)},
           {"output_kernel", tensor({heads, value_dim, d_out}, wo)}};
    if (use_bias) {
      w["query_bias"] = tensor({heads, key_dim}, bq);
      w["key_bias"] = tensor({heads, key_dim}, bk);
      w["value_bias"] = tensor({heads, value_dim}, bv);
      w["output_bias"] = tensor({d_out}, bo);
    }
    return w;
  }

  /// Model inputs in call order: names and shapes.
  std::vector<std::pair<std::string, std::vector<std::size_t>>> model_inputs() const {
    std::vector<std::pair<std::string, std::vector<std::size_t>>> in;
    if (self) {
      in.push_back({"x", {t_q, d_q}});
    } else {
      in.push_back({"query", {t_q, d_q}});
      in.push_back({"value", {t_v, d_v}});
    }
    if (has_key) in.push_back({"key", {t_v, d_k}});
    if (use_mask) in.push_back({"mask", {t_q, t_v}});
    return in;
  }

  json node_inputs() const {
    json in = self ? json{"x", "x"} : json{"query", "value"};
    if (has_key) in.push_back("key");
    if (use_mask) in.push_back("mask");
    return in;
  }

  /// A one-node model: inputs -> MultiHeadAttention -> output "y".
  json model() const {
    json inputs = json::array();
    for (const auto& in : model_inputs()) inputs.push_back({{"name", in.first}, {"shape", in.second}});
    return json{{"format", "trignet"},
                {"format_version", 1},
                {"name", "mha"},
                {"inputs", inputs},
                {"outputs", json::array({{{"name", "y"}, {"node", "mha"}}})},
                {"nodes", json::array({{{"name", "mha"},
                                        {"type", "MultiHeadAttention"},
                                        {"inputs", node_inputs()},
                                        {"config", config()},
                                        {"weights", weights()}}})}};
  }

  /// Reference for one sample, straight from docs/format.md:
  ///   Q_h = query Wq_h + bq_h,  K_h = key Wk_h + bk_h,  V_h = value Wv_h + bv_h
  ///   S_h = Q_h K_h^T / sqrt(key_dim), masked scores excluded (a query whose
  ///   keys are all masked attends to nothing), causal: j <= i only
  ///   out = sum_h softmax(S_h) V_h Wo_h + bo
  std::vector<double> reference(const double* query, const double* value, const double* key,
                                const double* mask) const {
    if (!key) key = value;
    const std::size_t H = heads, kd = key_dim, vd = value_dim;
    std::vector<double> out(t_q * d_out, 0.0);
    for (std::size_t i = 0; i < t_q; ++i)
      for (std::size_t o = 0; o < d_out; ++o) out[i * d_out + o] = use_bias ? bo[o] : 0.0;
    for (std::size_t h = 0; h < H; ++h) {
      std::vector<double> Q(t_q * kd), K(t_v * kd), V(t_v * vd);
      for (std::size_t i = 0; i < t_q; ++i)
        for (std::size_t c = 0; c < kd; ++c) {
          double s = use_bias ? bq[h * kd + c] : 0.0;
          for (std::size_t d = 0; d < d_q; ++d) s += query[i * d_q + d] * wq[(d * H + h) * kd + c];
          Q[i * kd + c] = s;
        }
      for (std::size_t j = 0; j < t_v; ++j) {
        for (std::size_t c = 0; c < kd; ++c) {
          double s = use_bias ? bk[h * kd + c] : 0.0;
          for (std::size_t d = 0; d < d_k; ++d) s += key[j * d_k + d] * wk[(d * H + h) * kd + c];
          K[j * kd + c] = s;
        }
        for (std::size_t c = 0; c < vd; ++c) {
          double s = use_bias ? bv[h * vd + c] : 0.0;
          for (std::size_t d = 0; d < d_v; ++d) s += value[j * d_v + d] * wv[(d * H + h) * vd + c];
          V[j * vd + c] = s;
        }
      }
      for (std::size_t i = 0; i < t_q; ++i) {
        std::vector<double> score(t_v), p(t_v, 0.0);
        std::vector<bool> attend(t_v, true);
        bool any = false;
        double max = -std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < t_v; ++j) {
          double s = 0;
          for (std::size_t c = 0; c < kd; ++c) s += Q[i * kd + c] * K[j * kd + c];
          score[j] = s / std::sqrt(static_cast<double>(kd));
          if (mask && mask[i * t_v + j] == 0.0) attend[j] = false;
          if (causal && j > i) attend[j] = false;
          if (attend[j]) {
            any = true;
            max = std::max(max, score[j]);
          }
        }
        double sum = 0;
        for (std::size_t j = 0; j < t_v; ++j) {
          if (any && attend[j])
            p[j] = std::exp(score[j] - max);
          sum += p[j];
        }
        for (std::size_t o = 0; o < d_out; ++o) {
          double acc = 0;
          for (std::size_t c = 0; c < vd; ++c) {
            double ctx = 0;
            for (std::size_t j = 0; j < t_v; ++j) ctx += p[j] / sum * V[j * vd + c];
            acc += ctx * wo[(h * vd + c) * d_out + o];
          }
          out[i * d_out + o] += acc;
        }
      }
    }
    return out;
  }
};

/// Per-model-input batch data for `batch` samples, masks of 0/1 with some
/// entries masked; `full_row`: sample 0's query row 1 has every key masked.
std::vector<std::vector<double>> make_inputs(const Mha& m, std::size_t batch, Rng& rng,
                                             bool full_row = false) {
  std::vector<std::vector<double>> data;
  for (const auto& in : m.model_inputs()) {
    const std::size_t n = product(in.second) * batch;
    if (in.first == "mask") {
      std::vector<double> mask = rng.values(n, 0.0, 1.0);
      for (double& x : mask) x = x < 0.3 ? 0.0 : 1.0;
      if (full_row && m.t_q > 1)
        for (std::size_t j = 0; j < m.t_v; ++j) mask[1 * m.t_v + j] = 0.0;
      data.push_back(mask);
    } else {
      data.push_back(rng.values(n, -2.0, 2.0));
    }
  }
  return data;
}

/// The reference for a whole batch (sample-major, like the engine's buffers).
std::vector<double> reference_batch(const Mha& m, const std::vector<std::vector<double>>& data,
                                    std::size_t batch) {
  std::vector<double> out;
  for (std::size_t b = 0; b < batch; ++b) {
    std::size_t k = 0;
    const double* query = data[k].data() + b * m.t_q * m.d_q;
    const double* value = m.self ? query : data[++k].data() + b * m.t_v * m.d_v;
    const double* key = m.has_key ? data[++k].data() + b * m.t_v * m.d_k : nullptr;
    const double* mask = m.use_mask ? data[++k].data() + b * m.t_q * m.t_v : nullptr;
    const std::vector<double> y = m.reference(query, value, key, mask);
    out.insert(out.end(), y.begin(), y.end());
  }
  return out;
}

template <typename T>
std::vector<double> run_model(const std::shared_ptr<const trignet::Model<T>>& model,
                              const std::vector<std::vector<double>>& data, std::size_t batch) {
  trignet::Session<T> session(model);
  std::vector<std::vector<T>> in(data.size());
  std::vector<trignet::Span<const T>> views;
  for (std::size_t i = 0; i < data.size(); ++i) {
    in[i].assign(data[i].begin(), data[i].end());
    views.emplace_back(in[i]);
  }
  session.run({views.data(), views.size()}, batch);
  // A second call reuses every buffer and must give the same result.
  const auto first = session.output(0);
  std::vector<double> y(first.begin(), first.end());
  session.run({views.data(), views.size()}, batch);
  const auto second = session.output(0);
  for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(double(second[i]) == y[i]);
  return y;
}

template <typename T>
double tolerance_abs() {
  return std::is_same<T, float>::value ? 2e-5 : 1e-12;
}
template <typename T>
double tolerance_rel() {
  return std::is_same<T, float>::value ? 1e-4 : 1e-11;
}

/// Largest |got - want| / (abs + rel |want|); <= 1 passes.
template <typename T>
double worst(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double w = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    REQUIRE(std::isfinite(got[i]));
    w = std::max(w, std::fabs(got[i] - want[i]) /
                        (tolerance_abs<T>() + tolerance_rel<T>() * std::fabs(want[i])));
  }
  return w;
}

/// Loads the configuration, runs `batch` random samples, compares with the reference.
template <typename T>
void check_against_reference(Mha m, std::size_t batch, unsigned seed, bool full_row = false) {
  Rng rng(seed);
  m.make_weights(rng);
  const auto model = trignet::load_model_from_string<T>(m.model().dump());
  REQUIRE(model->spec().nodes.size() == 1);
  const auto data = make_inputs(m, batch, rng, full_row);
  const std::vector<double> want = reference_batch(m, data, batch);
  const std::vector<double> got = run_model(model, data, batch);
  CHECK(worst<T>(got, want) <= 1.0);
  // Batch 1 gives the same as the first sample of the batch.
  if (batch > 1) {
    std::vector<std::vector<double>> one;
    for (const auto& in : data) one.emplace_back(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(in.size() / batch));
    const std::vector<double> y1 = run_model(model, one, 1);
    for (std::size_t i = 0; i < y1.size(); ++i)
      CHECK(std::fabs(y1[i] - got[i]) <= tolerance_abs<T>() + tolerance_rel<T>() * std::fabs(got[i]));
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Layer options against the reference

TEMPLATE_TEST_CASE("MultiHeadAttention self-attention (one input as query and value)",
                   "[attention]", float, double) {
  Mha m;
  m.self = true;
  check_against_reference<TestType>(m, 3, 1);
  // The engine works through a batch some samples at a time (about 128
  // positions, here 32 samples): a batch of several such chunks, the last partial.
  check_against_reference<TestType>(m, 70, 23);
}

TEMPLATE_TEST_CASE("MultiHeadAttention with query and value from different inputs of equal shape",
                   "[attention]", float, double) {
  Mha m;
  check_against_reference<TestType>(m, 3, 2);
}

TEMPLATE_TEST_CASE("MultiHeadAttention cross-attention with a separate key input",
                   "[attention]", float, double) {
  Mha m;
  m.t_q = 3, m.t_v = 5, m.d_q = 4, m.d_v = 6, m.d_k = 2, m.d_out = 4;
  m.has_key = true;
  check_against_reference<TestType>(m, 4, 3);
}

TEMPLATE_TEST_CASE("MultiHeadAttention cross-attention with key = value", "[attention]", float,
                   double) {
  Mha m;
  m.t_q = 2, m.t_v = 7, m.d_q = 5, m.d_v = 3, m.d_k = 3, m.d_out = 5;
  m.heads = 3;
  check_against_reference<TestType>(m, 2, 4);
}

TEMPLATE_TEST_CASE("MultiHeadAttention with a mask, including a fully masked query row",
                   "[attention]", float, double) {
  Mha m;
  m.t_q = 4, m.t_v = 5, m.d_v = 3, m.d_k = 3;
  m.use_mask = true;
  SECTION("key = value") {
    check_against_reference<TestType>(m, 3, 5, true);
    check_against_reference<TestType>(m, 45, 24, true);  // two chunks of samples
  }
  SECTION("separate key") {
    m.has_key = true;
    m.d_k = 2;
    check_against_reference<TestType>(m, 3, 6, true);
  }
  SECTION("self-attention") {
    m.t_v = m.t_q, m.d_v = m.d_k = m.d_q;
    m.self = false;
    check_against_reference<TestType>(m, 2, 7, true);
  }
}

TEMPLATE_TEST_CASE("MultiHeadAttention: a fully masked query attends to nothing (Keras >= 3.10)",
                   "[attention]", float, double) {
  // Closed form, independent of the reference: with every key masked, query 0's
  // attention weights are all zero, so its output is the output bias.
  Mha m;
  m.t_q = 2, m.t_v = 3, m.d_q = 2, m.d_v = m.d_k = 2, m.heads = 1, m.key_dim = 2,
  m.value_dim = 2, m.d_out = 2;
  m.use_mask = true;
  m.wq = {1, 0, 0, 1}, m.wk = {3, 0, 0, 3}, m.wv = {1, 2, 3, 4}, m.wo = {1, 0, 0, 1};
  m.bq = {0, 0}, m.bk = {0, 0}, m.bv = {0.5, -0.5}, m.bo = {0.25, 0.75};
  const auto model = trignet::load_model_from_string<TestType>(m.model().dump());
  // Large, different scores: an additive -1e9 in double would not flatten them.
  const std::vector<std::vector<double>> data = {
      {10, -3, 0.5, 0.5},           // query [2, 2]
      {1, 0, 0, 1, 2, 2},            // value [3, 2]
      {0, 0, 0, /**/ 1, 0, 1}};     // mask: row 0 all masked, row 1 keys 0 and 2
  const std::vector<double> y = run_model(model, data, 1);
  CHECK(y[0] == 0.25);  // bo
  CHECK(y[1] == 0.75);
  // Query 1 ([0.5, 0.5]) sees keys 0 and 2 only (checked against the reference).
  const std::vector<double> want = m.reference(data[0].data(), data[1].data(), nullptr, data[2].data());
  CHECK(y[2] == Approx(want[2]).epsilon(1e-6));
  CHECK(y[3] == Approx(want[3]).epsilon(1e-6));
}

TEMPLATE_TEST_CASE("MultiHeadAttention causal", "[attention]", float, double) {
  Mha m;
  m.t_q = m.t_v = 5;
  m.causal = true;
  SECTION("self-attention") {
    m.self = true;
    check_against_reference<TestType>(m, 3, 8);
  }
  SECTION("with a mask as well (both apply)") {
    m.use_mask = true;
    m.d_v = m.d_k = 3;
    check_against_reference<TestType>(m, 3, 9, true);
  }
}

TEMPLATE_TEST_CASE("MultiHeadAttention without bias", "[attention]", float, double) {
  Mha m;
  m.use_bias = false;
  SECTION("self") {
    m.self = true;
    check_against_reference<TestType>(m, 2, 10);
  }
  SECTION("cross with key and mask") {
    m.has_key = true, m.use_mask = true, m.t_v = 3, m.d_k = 5;
    check_against_reference<TestType>(m, 2, 11, true);
  }
}

TEMPLATE_TEST_CASE("MultiHeadAttention value_dim != key_dim and D_out != D_q", "[attention]",
                   float, double) {
  Mha m;
  m.heads = 3, m.key_dim = 2, m.value_dim = 5, m.d_out = 7;
  SECTION("self") {
    m.self = true;
    check_against_reference<TestType>(m, 3, 12);
  }
  SECTION("cross") {
    m.t_v = 6, m.d_v = 4, m.d_k = 4;
    check_against_reference<TestType>(m, 3, 13);
  }
  SECTION("value_dim written equal to key_dim") {
    m.value_dim = m.key_dim;
    m.write_value_dim = true;
    check_against_reference<TestType>(m, 1, 14);
  }
}

TEMPLATE_TEST_CASE("MultiHeadAttention single positions (matrix-vector paths)", "[attention]",
                   float, double) {
  Mha m;
  SECTION("T_q = T_v = 1") {
    m.t_q = m.t_v = 1;
    m.self = true;
    check_against_reference<TestType>(m, 1, 15);
    check_against_reference<TestType>(m, 3, 16);
  }
  SECTION("T_q = 1, T_v = 6") {
    m.t_q = 1, m.t_v = 6;
    m.use_mask = true;
    check_against_reference<TestType>(m, 1, 17);
  }
  SECTION("one head, key_dim 1") {
    m.heads = 1, m.key_dim = 1, m.value_dim = 1, m.d_out = 1;
    check_against_reference<TestType>(m, 2, 18);
  }
}

TEMPLATE_TEST_CASE("MultiHeadAttention large enough to use blocked products", "[attention]",
                   float, double) {
  // heads*key_dim and positions beyond the 64 x 64 product blocks, and feature
  // depths beyond one depth block (256 float / 128 double).
  Mha m;
  m.t_q = 70, m.t_v = 90, m.d_q = 300, m.d_v = 20, m.d_k = 20;
  m.heads = 3, m.key_dim = 24, m.value_dim = 30, m.d_out = 66;
  m.use_mask = true;
  check_against_reference<TestType>(m, 2, 19, true);
  m.t_v = m.t_q, m.d_v = m.d_k = m.d_q, m.use_mask = false, m.self = true, m.causal = true;
  check_against_reference<TestType>(m, 2, 20);
}

TEMPLATE_TEST_CASE("MultiHeadAttention is shared by threads (const layer, per-session scratch)",
                   "[attention]", float, double) {
  Mha m;
  m.self = true, m.t_q = m.t_v = 9, m.use_bias = true;
  Rng rng(21);
  m.make_weights(rng);
  const auto model = trignet::load_model_from_string<TestType>(m.model().dump());
  const auto data = make_inputs(m, 5, rng);
  const std::vector<double> want = reference_batch(m, data, 5);
  std::vector<double> results[4];
  std::vector<std::thread> threads;
  for (auto& r : results)
    threads.emplace_back([&model, &data, &r] {
      for (int k = 0; k < 20; ++k) r = run_model(model, data, 5);
    });
  for (auto& t : threads) t.join();
  for (const auto& r : results) CHECK(worst<TestType>(r, want) <= 1.0);
}

TEST_CASE("MultiHeadAttention FLOPs are counted", "[attention]") {
  Mha m;
  m.self = true;
  Rng rng(22);
  m.make_weights(rng);
  const auto model = trignet::load_model_from_string<float>(m.model().dump());
  const trignet::GraphInfo info = trignet::analyse(model->spec());
  // 3 projections 4*(2*6+1)*6, scores 2*4*4*2*3, softmax 2*16*5, context 2*16*2*3, output 4*(2*6+1)*6
  const double expected = 3 * 4 * 13 * 6 + 2 * 16 * 2 * 3.0 + 2 * 16 * 5 + 2 * 16 * 2 * 3.0 + 4 * 13 * 6;
  CHECK(info.flops_per_sample == Approx(expected));
}

// ---------------------------------------------------------------------------
// A transformer encoder block:
//   x [T, D] -> MHA(x, x) -> Add(x, .) -> LayerNorm -> Dense(F, relu) -> Dense(D)
//            -> Add(ln1, .) -> LayerNorm -> y

namespace {

struct EncoderBlock {
  std::size_t t = 6, d = 8, f = 16;
  Mha mha;
  std::vector<double> g1, b1, g2, b2, w1, c1, w2, c2;
  double eps = 1e-3;

  explicit EncoderBlock(Rng& rng) {
    mha.t_q = mha.t_v = t;
    mha.d_q = mha.d_k = mha.d_v = mha.d_out = d;
    mha.heads = 2, mha.key_dim = 4, mha.value_dim = 4;
    mha.self = true;
    mha.make_weights(rng);
    g1 = rng.values(d, 0.5, 1.5), b1 = rng.values(d, -0.2, 0.2);
    g2 = rng.values(d, 0.5, 1.5), b2 = rng.values(d, -0.2, 0.2);
    w1 = rng.values(d * f, -0.5, 0.5), c1 = rng.values(f, -0.2, 0.2);
    w2 = rng.values(f * d, -0.5, 0.5), c2 = rng.values(d, -0.2, 0.2);
  }

  json model() const {
    auto node = [](const char* name, const char* type, json inputs, json config, json weights) {
      json n{{"name", name}, {"type", type}, {"inputs", inputs}};
      if (!config.is_null()) n["config"] = config;
      if (!weights.is_null()) n["weights"] = weights;
      return n;
    };
    json nodes = json::array();
    nodes.push_back(node("mha", "MultiHeadAttention", {"x", "x"}, mha.config(), mha.weights()));
    nodes.push_back(node("add1", "Add", {"x", "mha"}, nullptr, nullptr));
    nodes.push_back(node("ln1", "LayerNormalization", {"add1"}, {{"axis", -1}, {"epsilon", eps}},
                         {{"gamma", tensor({d}, g1)}, {"beta", tensor({d}, b1)}}));
    nodes.push_back(node("ff1", "Dense", {"ln1"}, {{"units", f}, {"activation", "relu"}},
                         {{"kernel", tensor({d, f}, w1)}, {"bias", tensor({f}, c1)}}));
    nodes.push_back(node("ff2", "Dense", {"ff1"}, {{"units", d}},
                         {{"kernel", tensor({f, d}, w2)}, {"bias", tensor({d}, c2)}}));
    nodes.push_back(node("add2", "Add", {"ln1", "ff2"}, nullptr, nullptr));
    nodes.push_back(node("ln2", "LayerNormalization", {"add2"}, {{"epsilon", eps}},
                         {{"gamma", tensor({d}, g2)}, {"beta", tensor({d}, b2)}}));
    return json{{"format", "trignet"},
                {"format_version", 1},
                {"name", "encoder_block"},
                {"inputs", json::array({{{"name", "x"}, {"shape", {t, d}}}})},
                {"outputs", json::array({{{"name", "y"}, {"node", "ln2"}, {"shape", {t, d}}}})},
                {"nodes", nodes}};
  }

  void layer_norm(std::vector<double>& x, const std::vector<double>& g,
                  const std::vector<double>& b) const {
    for (std::size_t i = 0; i < t; ++i) {
      double mean = 0, var = 0;
      for (std::size_t c = 0; c < d; ++c) mean += x[i * d + c];
      mean /= double(d);
      for (std::size_t c = 0; c < d; ++c) var += (x[i * d + c] - mean) * (x[i * d + c] - mean);
      var /= double(d);
      for (std::size_t c = 0; c < d; ++c)
        x[i * d + c] = (x[i * d + c] - mean) / std::sqrt(var + eps) * g[c] + b[c];
    }
  }

  std::vector<double> reference(const double* x) const {
    std::vector<double> a = mha.reference(x, x, nullptr, nullptr);
    for (std::size_t i = 0; i < t * d; ++i) a[i] += x[i];
    layer_norm(a, g1, b1);
    std::vector<double> h(t * f), y(t * d);
    for (std::size_t i = 0; i < t; ++i) {
      for (std::size_t j = 0; j < f; ++j) {
        double s = c1[j];
        for (std::size_t c = 0; c < d; ++c) s += a[i * d + c] * w1[c * f + j];
        h[i * f + j] = std::max(0.0, s);
      }
      for (std::size_t c = 0; c < d; ++c) {
        double s = c2[c];
        for (std::size_t j = 0; j < f; ++j) s += h[i * f + j] * w2[j * d + c];
        y[i * d + c] = a[i * d + c] + s;
      }
    }
    layer_norm(y, g2, b2);
    return y;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("a transformer encoder block matches an independent reference",
                   "[attention][encoder]", float, double) {
  Rng rng(30);
  EncoderBlock block(rng);
  const auto model = trignet::load_model_from_string<TestType>(block.model().dump());
  const std::size_t batch = 4;
  const std::vector<std::vector<double>> data = {rng.values(batch * block.t * block.d, -2, 2)};
  std::vector<double> want;
  for (std::size_t b = 0; b < batch; ++b) {
    const std::vector<double> y = block.reference(data[0].data() + b * block.t * block.d);
    want.insert(want.end(), y.begin(), y.end());
  }
  const std::vector<double> got = run_model(model, data, batch);
  CHECK(worst<TestType>(got, want) <= 1.0);
}

// ---------------------------------------------------------------------------
// Validation

namespace {

/// A valid cross-attention model with key and mask; `edit` breaks one thing.
template <typename F>
std::string load_error(F edit) {
  Mha m;
  m.t_q = 3, m.t_v = 4, m.d_q = 5, m.d_v = 6, m.d_k = 7, m.d_out = 2;
  m.heads = 2, m.key_dim = 3, m.value_dim = 4;
  m.has_key = true, m.use_mask = true;
  Rng rng(40);
  m.make_weights(rng);
  json model = m.model();
  edit(model);
  return error_message<trignet::FormatError>(
      [&] { trignet::load_model_from_string<float>(model.dump(), {}, "mha.json"); });
}

json& mha_node(json& model) { return model["nodes"][0]; }

}  // namespace

TEST_CASE("MultiHeadAttention validation: the unbroken model loads", "[attention][errors]") {
  CHECK(load_error([](json&) {}).empty());
}

TEST_CASE("MultiHeadAttention validation: configuration", "[attention][errors]") {
  const std::string tail = " (node 'mha', MultiHeadAttention)";
  CHECK(load_error([](json& m) { mha_node(m)["config"].erase("num_heads"); }) ==
        "trignet: mha.json: nodes[0].config: missing required key \"num_heads\"");
  CHECK(load_error([](json& m) { mha_node(m)["config"].erase("key_dim"); }) ==
        "trignet: mha.json: nodes[0].config: missing required key \"key_dim\"");
  CHECK(load_error([](json& m) { mha_node(m)["config"]["key_dim"] = 0; }) ==
        "trignet: mha.json: nodes[0].config.key_dim: expected a positive integer, found 0");
  CHECK(load_error([](json& m) { mha_node(m)["config"]["value_dim"] = -2; }) ==
        "trignet: mha.json: nodes[0].config.value_dim: expected a positive integer, found -2");
  CHECK(contains(load_error([](json& m) { mha_node(m)["config"]["use_causal_mask"] = true; }),
                 "nodes[0].config.use_causal_mask"));
  CHECK(contains(load_error([](json& m) { mha_node(m)["config"]["causal"] = 1; }),
                 "nodes[0].config.causal: expected"));
}

TEST_CASE("MultiHeadAttention validation: inputs", "[attention][errors]") {
  const std::string tail = " (node 'mha', MultiHeadAttention)";
  CHECK(load_error([](json& m) { mha_node(m)["inputs"] = {"query", "value"}; }) ==
        "trignet: mha.json: nodes[0].inputs: expected 3 or 4 inputs ([query, value, mask] or "
        "[query, value, key, mask]; config.use_mask is true), found 2" + tail);
  CHECK(load_error([](json& m) {
          mha_node(m)["config"]["use_mask"] = false;
          mha_node(m)["inputs"] = {"query", "value", "key", "mask", "mask"};
        }) == "trignet: mha.json: nodes[0].inputs: expected 2 or 3 inputs ([query, value] or "
              "[query, value, key]; a mask input needs config.use_mask), found 5" + tail);
  // Without use_mask the mask input is taken as a key: its shape is checked as one.
  CHECK(load_error([](json& m) {
          mha_node(m)["config"]["use_mask"] = false;
          mha_node(m)["inputs"] = {"query", "value", "mask"};
        }) == "trignet: mha.json: nodes[0].inputs[2]: expected key with as many positions as "
              "value (4), found shape [3, 4]" + tail);
  CHECK(load_error([](json& m) { m["inputs"][0]["shape"] = {3, 5, 1}; }) ==
        "trignet: mha.json: nodes[0].inputs[0]: expected query of rank 2 [T_q, D_q], found shape "
        "[3, 5, 1]" + tail);
  CHECK(load_error([](json& m) { m["inputs"][1]["shape"] = {24}; }) ==
        "trignet: mha.json: nodes[0].inputs[1]: expected value of rank 2 [T_v, D_v], found shape "
        "[24]" + tail);
  CHECK(load_error([](json& m) { m["inputs"][2]["shape"] = {5, 7}; }) ==
        "trignet: mha.json: nodes[0].inputs[2]: expected key with as many positions as value (4), "
        "found shape [5, 7]" + tail);
  CHECK(load_error([](json& m) { m["inputs"][3]["shape"] = {4, 3}; }) ==
        "trignet: mha.json: nodes[0].inputs[3]: expected mask of shape [T_q, T_v] = [3, 4], found "
        "shape [4, 3]" + tail);
  CHECK(load_error([](json& m) { m["inputs"][3]["shape"] = {12}; }) ==
        "trignet: mha.json: nodes[0].inputs[3]: expected mask of shape [T_q, T_v] = [3, 4], found "
        "shape [12]" + tail);
  CHECK(load_error([](json& m) { mha_node(m)["config"]["causal"] = true; }) ==
        "trignet: mha.json: nodes[0].config.causal: causal attention needs as many query as "
        "key/value positions, found T_q = 3 and T_v = 4" + tail);
}

TEST_CASE("MultiHeadAttention validation: weights", "[attention][errors]") {
  const std::string tail = " (node 'mha', MultiHeadAttention)";
  auto w = [](json& m) -> json& { return mha_node(m)["weights"]; };
  CHECK(load_error([&](json& m) { w(m).erase("query_kernel"); }) ==
        "trignet: mha.json: nodes[0].weights.query_kernel: missing weight, expected shape "
        "[5, 2, 3] (query features x heads x key_dim)" + tail);
  CHECK(load_error([&](json& m) { w(m)["key_kernel"] = tensor({6, 2, 3}, std::vector<double>(36, 0.1)); }) ==
        "trignet: mha.json: nodes[0].weights.key_kernel.shape: expected [7, 2, 3] (key features x "
        "heads x key_dim), found [6, 2, 3]" + tail);
  CHECK(load_error([&](json& m) { w(m)["value_kernel"] = tensor({6, 2, 3}, std::vector<double>(36, 0.1)); }) ==
        "trignet: mha.json: nodes[0].weights.value_kernel.shape: expected [6, 2, 4] (value "
        "features x heads x value_dim), found [6, 2, 3]" + tail);
  CHECK(load_error([&](json& m) { w(m).erase("output_kernel"); }) ==
        "trignet: mha.json: nodes[0].weights.output_kernel: missing weight, expected shape "
        "[2, 4, D_out] (heads x value_dim x output features)" + tail);
  CHECK(load_error([&](json& m) { w(m)["output_kernel"] = tensor({2, 3, 2}, std::vector<double>(12, 0.1)); }) ==
        "trignet: mha.json: nodes[0].weights.output_kernel.shape: expected [2, 4, D_out] (heads x "
        "value_dim x output features), found [2, 3, 2]" + tail);
  CHECK(load_error([&](json& m) { w(m)["output_kernel"] = tensor({8, 2}, std::vector<double>(16, 0.1)); }) ==
        "trignet: mha.json: nodes[0].weights.output_kernel.shape: expected [2, 4, D_out] (heads x "
        "value_dim x output features), found [8, 2]" + tail);
  CHECK(load_error([&](json& m) { w(m)["query_bias"] = tensor({6}, std::vector<double>(6, 0.1)); }) ==
        "trignet: mha.json: nodes[0].weights.query_bias.shape: expected [2, 3] (heads x key_dim), "
        "found [6]" + tail);
  CHECK(load_error([&](json& m) { w(m).erase("value_bias"); }) ==
        "trignet: mha.json: nodes[0].weights.value_bias: missing weight, expected shape [2, 4] "
        "(heads x value_dim)" + tail);
  // output_bias follows D_out from output_kernel.
  CHECK(load_error([&](json& m) { w(m)["output_bias"] = tensor({5}, std::vector<double>(5, 0.1)); }) ==
        "trignet: mha.json: nodes[0].weights.output_bias.shape: expected [2] (output features), "
        "found [5]" + tail);
  CHECK(load_error([&](json& m) { mha_node(m)["config"]["use_bias"] = false; }) ==
        "trignet: mha.json: nodes[0].weights.query_bias: unexpected bias: config.use_bias is false" +
            tail);
  CHECK(load_error([&](json& m) {
          mha_node(m)["config"]["use_bias"] = false;
          for (const char* b : {"query_bias", "key_bias", "value_bias"}) w(m).erase(b);
        }) == "trignet: mha.json: nodes[0].weights.output_bias: unexpected bias: config.use_bias "
              "is false" + tail);
  CHECK(load_error([&](json& m) { w(m)["kernel"] = tensor({1}, {0.5}); }) ==
        "trignet: mha.json: nodes[0].weights.kernel: unexpected weight (this layer takes: "
        "query_kernel, key_kernel, value_kernel, output_kernel, query_bias, key_bias, value_bias, "
        "output_bias)" + tail);
}
