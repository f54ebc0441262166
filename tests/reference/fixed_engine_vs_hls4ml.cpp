// Spot check of the fixed-point engine against hls4ml's own C++: the
// nnet_utils layer functions (io_parallel, latency) and ap_types headers that
// hls4ml compiles into its emulation library, called directly on the same
// random inputs (saturating ones included), every output compared bit for bit.
// Run by hand (needs hls4ml's templates, e.g. from `pip download hls4ml`):
//
//   H=<site-packages>/hls4ml/templates/vivado
//   g++ -std=c++17 -O1 -I$H/ap_types -I$H -Iinclude \
//       tests/reference/fixed_engine_vs_hls4ml.cpp -o /tmp/fixed_vs_hls4ml && /tmp/fixed_vs_hls4ml
//
// Exit status 0 when every value agrees (docs/fixed-point.md lists the result).
#include "ap_fixed.h"
#include "nnet_utils/nnet_activation.h"
#include "nnet_utils/nnet_dense_latency.h"
#include "nnet_utils/nnet_batchnorm.h"
#include "nnet_utils/nnet_pooling.h"
#include "nnet_utils/nnet_merge.h"
#include <trignet/fixed_engine/fixed_model.hpp>
#include <cstdio>
#include <random>

static std::mt19937_64 rng(12345);
static long mismatches = 0, total = 0;


static std::string model1(const std::string& in_t, const std::string& act, const std::string& prec, int n) {
  return std::string(R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"x","shape":[)") +
         std::to_string(n) + R"(]}],"outputs":[{"name":"y","node":"a"}],"fixed_point":{"inputs":{"x":{"type":")" + in_t +
         R"("}}},"nodes":[{"name":"a","type":"Activation","inputs":["x"],"config":{"activation":)" + act +
         R"(},"precision":)" + prec + "}]}";
}

template <class In, class Res, int N, class F>
void check_act(const char* name, const std::string& json, F hls, double lo, double hi) {
  auto m = trignet::load_fixed_model_from_string(json);
  trignet::FixedSession s(m);
  std::uniform_real_distribution<float> u(lo, hi);
  long bad = 0;
  for (int it = 0; it < 4000; ++it) {
    float xf[N]; In x[N]; Res y[N];
    for (int i = 0; i < N; i++) { xf[i] = u(rng); if (it < 50) xf[i] = (float)(it - 25) * (float)(hi / 25); x[i] = In(xf[i]); }
    hls(x, y);
    std::vector<float> xv(xf, xf + N);
    s.run(xv);
    auto r = s.raw_output(0);
    for (int i = 0; i < N; i++) {
      Res ref; ref.V = r[i];  // raw into ap type
      total++;
      if (ref != y[i]) { if (bad++ < 5) printf("  %s: x=%g hls=%s trignet=%s\n", name, xf[i], y[i].to_string().c_str(), ref.to_string().c_str()); }
    }
  }
  mismatches += bad;
  printf("%-28s %ld mismatches\n", name, bad);
}

#define ACT_CFG(NAME, NIN, TS, ...) struct NAME : nnet::activ_config { static const unsigned n_in = NIN; static const unsigned table_size = TS; typedef __VA_ARGS__ table_t; };
ACT_CFG(sig_cfg, 8, 1024, ap_fixed<18,8>)
ACT_CFG(sig_cfg2, 8, 512, ap_ufixed<8,0,AP_RND,AP_SAT>)
ACT_CFG(tanh_cfg, 8, 1024, ap_fixed<18,8>)

template <nnet::softmax_implementation IMPL, unsigned ES, unsigned IS, class INORM>
struct smx_cfg : nnet::activ_config {
  static const unsigned n_in = 5, n_slice = 5, n_outer = 1, n_inner = 1, axis = -1;
  static const unsigned exp_table_size = ES, inv_table_size = IS;
  static const nnet::softmax_implementation implementation = IMPL;
  static constexpr float exp_scale = 1.0;
  typedef ap_fixed<18,8,AP_RND,AP_SAT> exp_table_t;
  typedef ap_fixed<18,8,AP_RND,AP_SAT> inv_table_t;
  typedef ap_fixed<18,8,AP_RND,AP_SAT> accum_t;
  typedef ap_fixed<18,8,AP_RND,AP_SAT> inv_inp_t;
  typedef INORM inp_norm_t;
  typedef ap_fixed<18,8> table_t;
};

struct dense_cfg : nnet::dense_config {
  static const unsigned n_in = 6, n_out = 4, io_type = nnet::io_parallel, strategy = nnet::latency, reuse_factor = 1, n_zeros = 0, n_nonzeros = 24, multiplier_limit = 24;
  static const bool store_weights_in_bram = false;
  typedef ap_fixed<12,4,AP_RND,AP_SAT> accum_t;
  typedef ap_fixed<6,1> bias_t;
  typedef ap_fixed<6,1,AP_RND_CONV,AP_SAT> weight_t;
  typedef ap_uint<1> index_t;
  template <class x_T, class y_T> using product = nnet::product::mult<x_T, y_T>;
};
struct dense_cfg2 : dense_cfg { typedef ap_fixed<14,5> accum_t; };

struct pcfg : nnet::pooling2d_config {
      static const unsigned in_height = 5, in_width = 4, n_filt = 2, stride_height = 2, stride_width = 2,
                            pool_height = 2, pool_width = 2, filt_height = 2, filt_width = 2,
                            out_height = 3, out_width = 2, pad_top = 0, pad_bottom = 1, pad_left = 0,
                            pad_right = 0;
      static const bool count_pad = false;
      static const nnet::Pool_Op pool_op = nnet::Average;
      static const unsigned reuse_factor = 1;
      typedef ap_fixed<12,5,AP_RND,AP_SAT> accum_t;
    };
struct pmax : pcfg { static const nnet::Pool_Op pool_op = nnet::Max; typedef ap_fixed<10,4> accum_t; };
struct gcfg : pcfg { static const unsigned stride_height = 5, stride_width = 4, pool_height = 5, pool_width = 4,
                                               out_height = 1, out_width = 1, pad_bottom = 0; typedef ap_fixed<14,6> accum_t; };
    using pin = ap_fixed<10,4>; using pout = ap_fixed<8,3,AP_RND_CONV,AP_SAT>;
    auto make = [](const char* type, const char* cfg, const char* acc) {
      return std::string(R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"x","shape":[5,4,2]}],"outputs":[{"name":"y","node":"p"}],"fixed_point":{"inputs":{"x":{"type":"ap_fixed<10,4>"}}},"nodes":[{"name":"p","type":")") + type + R"(","inputs":["x"],"config":)" + cfg + R"(,"precision":{"accum":")" + acc + R"(","result":"ap_fixed<8,3,AP_RND_CONV,AP_SAT>"}}]})";
    };
struct bcfg : nnet::batchnorm_config {
      static const unsigned n_in = 6, n_filt = 3, n_scale_bias = 3, io_type = nnet::io_parallel, reuse_factor = 1;
      typedef ap_fixed<10,3,AP_RND> scale_t;
      typedef ap_fixed<10,3> bias_t;
      template <class x_T, class y_T> using product = nnet::product::mult<x_T, y_T>;
    };
struct mcfg : nnet::merge_config { static const unsigned n_elem = 4, n_elem1 = 4, n_elem2 = 4; };

struct hsig_cfg {
  static const unsigned n_in = 8, io_type = nnet::io_parallel, reuse_factor = 1;
  static const ap_ufixed<16,0> slope;
  static const ap_ufixed<2,0> shift;
};
const ap_ufixed<16,0> hsig_cfg::slope = 0.2;
const ap_ufixed<2,0> hsig_cfg::shift = 0.5;

int main() {
  using in_t = ap_fixed<16,6>;
  using res_t = ap_fixed<16,6>;
  check_act<in_t, res_t, 8>("sigmoid", model1("ap_fixed<16,6>", "\"sigmoid\"", R"({"result":"ap_fixed<16,6>"})", 8),
      [](in_t* x, res_t* y) { nnet::sigmoid<in_t, res_t, sig_cfg>(x, y); }, -12, 12);
  using in2 = ap_fixed<10,3,AP_RND,AP_SAT>; using r2 = ap_ufixed<8,0,AP_RND_CONV,AP_SAT>;
  check_act<in2, r2, 8>("sigmoid small table", model1("ap_fixed<10,3,AP_RND,AP_SAT>", "\"sigmoid\"",
      R"({"result":"ap_ufixed<8,0,AP_RND_CONV,AP_SAT>","table_size":512,"table":"ap_ufixed<8,0,AP_RND,AP_SAT>"})", 8),
      [](in2* x, r2* y) { nnet::sigmoid<in2, r2, sig_cfg2>(x, y); }, -5, 5);
  check_act<in_t, res_t, 8>("tanh", model1("ap_fixed<16,6>", "\"tanh\"", R"({"result":"ap_fixed<16,6>"})", 8),
      [](in_t* x, res_t* y) { nnet::tanh<in_t, res_t, tanh_cfg>(x, y); }, -6, 6);
  check_act<in_t, res_t, 8>("relu", model1("ap_fixed<16,6>", "\"relu\"", R"({"result":"ap_fixed<16,6>"})", 8),
      [](in_t* x, res_t* y) { nnet::relu<in_t, res_t, tanh_cfg>(x, y); }, -40, 40);
  using r3 = ap_ufixed<6,2,AP_RND,AP_SAT>;
  check_act<in_t, r3, 8>("relu sat", model1("ap_fixed<16,6>", "\"relu\"", R"({"result":"ap_ufixed<6,2,AP_RND,AP_SAT>"})", 8),
      [](in_t* x, r3* y) { nnet::relu<in_t, r3, tanh_cfg>(x, y); }, -10, 10);
  check_act<in_t, res_t, 8>("leaky_relu", model1("ap_fixed<16,6>", R"({"name":"leaky_relu","alpha":0.3})", R"({"result":"ap_fixed<16,6>","param":"ap_fixed<16,6>"})", 8),
      [](in_t* x, res_t* y) { nnet::leaky_relu<in_t, ap_fixed<16,6>, res_t, tanh_cfg>(x, 0.3, y); }, -40, 40);
  check_act<in_t, res_t, 8>("softplus", model1("ap_fixed<16,6>", "\"softplus\"", R"({"result":"ap_fixed<16,6>"})", 8),
      [](in_t* x, res_t* y) { nnet::softplus<in_t, res_t, sig_cfg>(x, y); }, -12, 12);
  check_act<in_t, res_t, 8>("softsign", model1("ap_fixed<16,6>", "\"softsign\"", R"({"result":"ap_fixed<16,6>"})", 8),
      [](in_t* x, res_t* y) { nnet::softsign<in_t, res_t, sig_cfg>(x, y); }, -12, 12);
  using r6 = ap_ufixed<8,3,AP_RND,AP_SAT>;
  check_act<in_t, r6, 8>("relu6", model1("ap_fixed<16,6>", "\"relu6\"", R"({"result":"ap_ufixed<8,3,AP_RND,AP_SAT>"})", 8),
      [](in_t* x, r6* y) { nnet::relu6<in_t, r6, tanh_cfg>(x, y); }, -10, 10);
  using rh = ap_ufixed<8,1,AP_RND,AP_SAT>;
  check_act<in_t, rh, 8>("hard_sigmoid", model1("ap_fixed<16,6>", R"({"name":"hard_sigmoid","slope":0.2,"offset":0.5})", R"({"result":"ap_ufixed<8,1,AP_RND,AP_SAT>"})", 8),
      [](in_t* x, rh* y) { nnet::hard_sigmoid<in_t, rh, hsig_cfg>(x, y); }, -8, 8);
  using rs = ap_fixed<16,6>;
  check_act<in_t, rs, 5>("softmax latency", model1("ap_fixed<16,6>", "\"softmax\"", R"({"result":"ap_fixed<16,6>","implementation":"latency"})", 5),
      [](in_t* x, rs* y) { nnet::softmax<in_t, rs, smx_cfg<nnet::softmax_implementation::latency,1024,1024,ap_fixed<1,0>>>(x, y); }, -8, 8);
  check_act<in_t, rs, 5>("softmax stable", model1("ap_fixed<16,6>", "\"softmax\"", R"({"result":"ap_fixed<16,6>","implementation":"stable"})", 5),
      [](in_t* x, rs* y) { nnet::softmax<in_t, rs, smx_cfg<nnet::softmax_implementation::stable,1024,1024,ap_ufixed<15,5>>>(x, y); }, -8, 8);
  check_act<in_t, rs, 5>("softmax legacy", model1("ap_fixed<16,6>", "\"softmax\"", R"({"result":"ap_fixed<16,6>","implementation":"legacy"})", 5),
      [](in_t* x, rs* y) { nnet::softmax<in_t, rs, smx_cfg<nnet::softmax_implementation::legacy,1024,1024,ap_fixed<1,0>>>(x, y); }, -8, 8);
  check_act<in_t, rs, 5>("softmax argmax", model1("ap_fixed<16,6>", "\"softmax\"", R"({"result":"ap_fixed<16,6>","implementation":"argmax"})", 5),
      [](in_t* x, rs* y) { nnet::softmax<in_t, rs, smx_cfg<nnet::softmax_implementation::argmax,1024,1024,ap_fixed<1,0>>>(x, y); }, -8, 8);

  // Dense, saturating accumulator (slow path) and wrapping (fast path).
  for (int variant = 0; variant < 2; ++variant) {
    std::uniform_real_distribution<float> wu(-1.2f, 1.2f);
    float wf[24], bf[4];
    for (auto& w : wf) w = wu(rng);
    for (auto& b : bf) b = wu(rng);
    std::string kd, bd;
    for (int i = 0; i < 24; i++) kd += (i ? "," : "") + std::to_string(wf[i]);
    for (int i = 0; i < 4; i++) bd += (i ? "," : "") + std::to_string(bf[i]);
    // Re-read the printed values as float for both sides.
    for (int i = 0; i < 24; i++) wf[i] = std::stof(std::to_string(wf[i]));
    for (int i = 0; i < 4; i++) bf[i] = std::stof(std::to_string(bf[i]));
    const char* acc = variant == 0 ? "ap_fixed<12,4,AP_RND,AP_SAT>" : "ap_fixed<14,5>";
    std::string json = std::string(R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"x","shape":[6]}],"outputs":[{"name":"y","node":"d"}],"fixed_point":{"inputs":{"x":{"type":"ap_fixed<16,6>"}}},"nodes":[{"name":"d","type":"Dense","inputs":["x"],"config":{"units":4},"weights":{"kernel":{"shape":[6,4],"data":[)") + kd + R"(]},"bias":{"shape":[4],"data":[)" + bd + R"(]}},"precision":{"weight":"ap_fixed<6,1,AP_RND_CONV,AP_SAT>","bias":"ap_fixed<6,1>","accum":")" + acc + R"(","result":"ap_fixed<8,3,AP_RND_CONV,AP_SAT>"}}]})";
    auto m = trignet::load_fixed_model_from_string(json);
    trignet::FixedSession s(m);
    using rt = ap_fixed<8,3,AP_RND_CONV,AP_SAT>;
    dense_cfg::weight_t W[24]; dense_cfg::bias_t B[4];
    for (int i = 0; i < 24; i++) W[i] = wf[i];
    for (int i = 0; i < 4; i++) B[i] = bf[i];
    std::uniform_real_distribution<float> u(-40, 40);
    long bad = 0;
    for (int it = 0; it < 5000; ++it) {
      float xf[6]; in_t x[6]; rt y[4];
      for (int i = 0; i < 6; i++) { xf[i] = u(rng); x[i] = xf[i]; }
      if (variant == 0) nnet::dense_latency<in_t, rt, dense_cfg>(x, y, W, B);
      else nnet::dense_latency<in_t, rt, dense_cfg2>(x, y, W, B);
      s.run(std::vector<float>(xf, xf + 6));
      auto r = s.raw_output(0);
      for (int i = 0; i < 4; i++) { rt ref; ref.V = r[i]; total++; if (ref != y[i]) bad++; }
    }
    mismatches += bad;
    printf("%-28s %ld mismatches\n", variant == 0 ? "dense (saturating accum)" : "dense (wrapping accum)", bad);
  }

  // Pooling 2D (max and average, "same" padding with count_pad false), global average.
  {


    const char* names[3] = {"average pooling 2D", "max pooling 2D", "global average pooling 2D"};
    const std::string models[3] = {make("AveragePooling2D", R"({"pool_size":[2,2],"padding":"same"})", "ap_fixed<12,5,AP_RND,AP_SAT>"),
                                   make("MaxPooling2D", R"({"pool_size":[2,2],"padding":"same"})", "ap_fixed<10,4>"),
                                   make("GlobalAveragePooling2D", "{}", "ap_fixed<14,6>")};
    for (int v = 0; v < 3; ++v) {
      auto m = trignet::load_fixed_model_from_string(models[v]);
      trignet::FixedSession s(m);
      std::uniform_real_distribution<float> u(-10, 10);
      long bad = 0;
      for (int it = 0; it < 3000; ++it) {
        float xf[40]; pin x[40]; pout y[12];
        for (int i = 0; i < 40; i++) { xf[i] = u(rng); x[i] = xf[i]; }
        if (v == 0) nnet::pooling2d_cl<pin, pout, pcfg>(x, y);
        else if (v == 1) nnet::pooling2d_cl<pin, pout, pmax>(x, y);
        else nnet::global_pooling2d_cl<pin, pout, gcfg>(x, y);
        s.run(std::vector<float>(xf, xf + 40));
        auto r = s.raw_output(0);
        for (std::size_t i = 0; i < r.size(); i++) { pout ref; ref.V = r[i]; total++; if (ref != y[i]) bad++; }
      }
      mismatches += bad;
      printf("%-28s %ld mismatches\n", names[v], bad);
    }
  }
  // BatchNormalization (folded scale and bias) and the binary merges.
  {

    const float gamma[3] = {1.5f, -0.7f, 0.3f}, beta[3] = {0.2f, -1.1f, 0.05f}, mean[3] = {0.4f, -0.3f, 2.0f},
                var[3] = {0.8f, 1.7f, 0.05f};
    const float eps = 0.001f;
    bcfg::scale_t sc[3]; bcfg::bias_t bi[3];
    for (int i = 0; i < 3; i++) {  // numpy float32 folding, as hls4ml
      const float scale = gamma[i] / std::sqrt(var[i] + eps);
      volatile float prod = scale * mean[i];
      sc[i] = scale; bi[i] = beta[i] - prod;
    }
    std::string json = R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"x","shape":[2,3]}],"outputs":[{"name":"y","node":"b"}],"fixed_point":{"inputs":{"x":{"type":"ap_fixed<12,5>"}}},"nodes":[{"name":"b","type":"BatchNormalization","inputs":["x"],"config":{"epsilon":0.001},"weights":{"gamma":{"shape":[3],"data":[1.5,-0.7,0.3]},"beta":{"shape":[3],"data":[0.2,-1.1,0.05]},"moving_mean":{"shape":[3],"data":[0.4,-0.3,2.0]},"moving_variance":{"shape":[3],"data":[0.8,1.7,0.05]}},"precision":{"scale":"ap_fixed<10,3,AP_RND>","bias":"ap_fixed<10,3>","result":"ap_fixed<9,4,AP_RND,AP_SAT>"}}]})";
    auto m = trignet::load_fixed_model_from_string(json);
    trignet::FixedSession s(m);
    using bin = ap_fixed<12,5>; using bout = ap_fixed<9,4,AP_RND,AP_SAT>;
    std::uniform_real_distribution<float> u(-20, 20);
    long bad = 0;
    for (int it = 0; it < 5000; ++it) {
      float xf[6]; bin x[6]; bout y[6];
      for (int i = 0; i < 6; i++) { xf[i] = u(rng); x[i] = xf[i]; }
      nnet::normalize<bin, bout, bcfg>(x, y, sc, bi);
      s.run(std::vector<float>(xf, xf + 6));
      auto r = s.raw_output(0);
      for (int i = 0; i < 6; i++) { bout ref; ref.V = r[i]; total++; if (ref != y[i]) bad++; }
    }
    mismatches += bad;
    printf("%-28s %ld mismatches\n", "batch normalization", bad);

    using ma = ap_fixed<10,4>; using mb = ap_ufixed<9,3,AP_RND,AP_SAT>; using mo = ap_fixed<9,4,AP_RND_CONV,AP_SAT>;
    const char* ops[6] = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"};
    for (int op = 0; op < 6; ++op) {
      std::string js = std::string(R"({"format":"trignet","format_version":1,"name":"m","inputs":[{"name":"a","shape":[4]},{"name":"b","shape":[4]}],"outputs":[{"name":"y","node":"m"}],"fixed_point":{"inputs":{"a":{"type":"ap_fixed<10,4>"},"b":{"type":"ap_ufixed<9,3,AP_RND,AP_SAT>"}}},"nodes":[{"name":"m","type":")") + ops[op] + R"(","inputs":["a","b"],"precision":{"result":"ap_fixed<9,4,AP_RND_CONV,AP_SAT>"}}]})";
      auto mm = trignet::load_fixed_model_from_string(js);
      trignet::FixedSession ss(mm);
      long b2 = 0;
      for (int it = 0; it < 5000; ++it) {
        float af[4], bf[4]; ma a[4]; mb b[4]; mo y[4];
        for (int i = 0; i < 4; i++) { af[i] = u(rng); bf[i] = u(rng) / 2; a[i] = af[i]; b[i] = bf[i]; }
        switch (op) {
          case 0: nnet::add<ma, mb, mo, mcfg>(a, b, y); break;
          case 1: nnet::subtract<ma, mb, mo, mcfg>(a, b, y); break;
          case 2: nnet::multiply<ma, mb, mo, mcfg>(a, b, y); break;
          case 3: nnet::average<ma, mb, mo, mcfg>(a, b, y); break;
          case 4: nnet::maximum<ma, mb, mo, mcfg>(a, b, y); break;
          case 5: nnet::minimum<ma, mb, mo, mcfg>(a, b, y); break;
        }
        const trignet::Span<const float> in[2] = {trignet::Span<const float>(af, 4), trignet::Span<const float>(bf, 4)};
        ss.run(trignet::Span<const trignet::Span<const float>>(in, 2));
        auto r = ss.raw_output(0);
        for (int i = 0; i < 4; i++) { mo ref; ref.V = r[i]; total++; if (ref != y[i]) b2++; }
      }
      mismatches += b2;
      printf("merge %-22s %ld mismatches\n", ops[op], b2);
    }
  }
  printf("total %ld values, %ld mismatches\n", total, mismatches);
  return mismatches != 0;
}
