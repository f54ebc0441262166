// Convolution, pooling and resampling layers against an independent naive
// reference written here from the definitions in docs/format.md ("Convolution,
// pooling and resampling layers"): plain loops in double over every output
// element, with the padding rule re-derived from the text. Every case runs in
// float and double with a batch of 3; then validation errors with exact messages.

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <trignet/trignet.hpp>

#include "catch.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using trignet::Shape;
using trignet_test::contains;
using trignet_test::error_message;

// ---------------------------------------------------------------------------
// Canonical tensors for the reference: [H][W][C] (a 1D tensor has H = 1).

struct Img {
  long H = 1, W = 1, C = 1;
  std::vector<double> v;
  Img() = default;
  Img(long h, long w, long c) : H(h), W(w), C(c), v(static_cast<std::size_t>(h * w * c), 0.0) {}
  double& at(long h, long w, long c) { return v[static_cast<std::size_t>((h * W + w) * C + c)]; }
  double at(long h, long w, long c) const { return v[static_cast<std::size_t>((h * W + w) * C + c)]; }
};

/// File layout (channels_last [L, C] / [H, W, C], channels_first [C, L] / [C, H, W]) -> Img.
Img to_img(const std::vector<double>& x, const Shape& shape, bool first) {
  const std::size_t rank = shape.size() - 1;
  long C, H = 1, W;
  if (first) {
    C = long(shape[0]);
    if (rank == 2) H = long(shape[1]);
    W = long(shape.back());
  } else {
    C = long(shape.back());
    if (rank == 2) H = long(shape[0]);
    W = long(shape[rank - 1]);
  }
  Img img(H, W, C);
  for (long h = 0; h < H; ++h)
    for (long w = 0; w < W; ++w)
      for (long c = 0; c < C; ++c)
        img.at(h, w, c) = first ? x[std::size_t((c * H + h) * W + w)] : x[std::size_t((h * W + w) * C + c)];
  return img;
}

std::vector<double> from_img(const Img& img, bool first) {
  std::vector<double> out(img.v.size());
  for (long h = 0; h < img.H; ++h)
    for (long w = 0; w < img.W; ++w)
      for (long c = 0; c < img.C; ++c)
        out[std::size_t(first ? (c * img.H + h) * img.W + w : (h * img.W + w) * img.C + c)] = img.at(h, w, c);
  return out;
}

Shape img_shape(const Img& img, std::size_t rank, bool first) {
  Shape s;
  if (first) s.push_back(std::size_t(img.C));
  if (rank == 2) s.push_back(std::size_t(img.H));
  s.push_back(std::size_t(img.W));
  if (!first) s.push_back(std::size_t(img.C));
  return s;
}

// ---------------------------------------------------------------------------
// Configuration as the reference reads it (directly from the JSON config).

struct Axis {
  long k = 1, s = 1, d = 1, before = 0, after = 0, op = 0;
};

/// Per-axis values of a config array mapped onto [H, W] (1D: only W).
std::array<long, 2> axis_values(const json& config, const char* key, std::size_t rank, long fill) {
  std::array<long, 2> out{fill, fill};
  if (!config.contains(key)) return out;
  for (std::size_t a = 0; a < rank; ++a) out[rank == 1 ? 1 : a] = config[key][a].get<long>();
  return out;
}

/// The axes of a forward window (convolution or pooling) or of a transposed
/// convolution, with padding from docs/format.md.
std::array<Axis, 2> axes_of(const json& config, std::size_t rank, const Img& x, bool transpose,
                            const char* kernel_key = "kernel_size", bool pool = false) {
  std::array<Axis, 2> ax;
  const auto k = axis_values(config, kernel_key, rank, 1);
  const auto s = axis_values(config, "strides", rank, 1);
  const auto d = axis_values(config, "dilation_rate", rank, 1);
  const auto op = axis_values(config, "output_padding", rank, 0);
  const long n[2] = {x.H, x.W};
  for (int i = 0; i < 2; ++i) {
    ax[i].k = k[i];
    ax[i].s = pool && !config.contains("strides") ? k[i] : s[i];
    ax[i].d = d[i];
    ax[i].op = op[i];
  }
  const json padding = config.value("padding", json("valid"));
  for (std::size_t a = 0; a < rank; ++a) {
    const int i = rank == 1 ? 1 : int(a);
    const long e = ax[i].d * (ax[i].k - 1) + 1;
    if (padding.is_array()) {
      ax[i].before = padding[a][0].get<long>();
      ax[i].after = padding[a][1].get<long>();
    } else if (padding == "same") {
      if (transpose) {
        // Output length n*s; "after" may be negative (bias-only cells past the taps).
        ax[i].before = std::max(e - ax[i].s, 0L) / 2;
        ax[i].after = (n[i] - 1) * ax[i].s + e - ax[i].before - n[i] * ax[i].s;
      } else {
        const long out = (n[i] + ax[i].s - 1) / ax[i].s;
        const long total = std::max((out - 1) * ax[i].s + e - n[i], 0L);
        ax[i].before = total / 2;
        ax[i].after = total - total / 2;
      }
    }
  }
  return ax;
}

long out_len(const Axis& a, long n) { return (n + a.before + a.after - (a.d * (a.k - 1) + 1)) / a.s + 1; }

// ---------------------------------------------------------------------------
// Weights: random float32 values, shapes as docs/format.md gives them.

struct Weight {
  Shape shape;
  std::vector<double> v;
  double at(std::initializer_list<std::size_t> idx) const {
    std::size_t flat = 0, i = 0;
    for (std::size_t x : idx) flat = flat * shape[i++] + x;
    return v[flat];
  }
};
using Weights = std::map<std::string, Weight>;

std::mt19937& rng() {
  static std::mt19937 gen(12345);
  return gen;
}

std::vector<double> random_values(std::size_t n, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = double(float(dist(rng())));  // exactly representable in float
  return v;
}

Weight random_weight(const Shape& shape) { return {shape, random_values(trignet::element_count(shape))}; }

/// Kernel shape [*k, a, b] for the spatial kernel of a config.
Shape kernel_shape(const json& config, std::size_t rank, std::size_t a, std::size_t b,
                   const char* key = "kernel_size") {
  Shape s;
  for (std::size_t i = 0; i < rank; ++i) s.push_back(config[key][i].get<std::size_t>());
  s.push_back(a);
  s.push_back(b);
  return s;
}

// ---------------------------------------------------------------------------
// The reference itself.

double act(const std::string& name, double x) {
  if (name == "relu") return x > 0 ? x : 0;
  if (name == "tanh") return std::tanh(x);
  return x;  // linear (softmax handled over channels afterwards)
}

void finish(Img& y, const json& config) {
  const json spec = config.value("activation", json("linear"));
  const std::string a = spec.is_object() ? spec["name"].get<std::string>() : spec.get<std::string>();
  for (double& v : y.v) v = act(a, v);
  if (a == "softmax")  // over the channel axis at every position
    for (long h = 0; h < y.H; ++h)
      for (long w = 0; w < y.W; ++w) {
        double m = -1e300, sum = 0;
        for (long c = 0; c < y.C; ++c) m = std::max(m, y.at(h, w, c));
        for (long c = 0; c < y.C; ++c) sum += std::exp(y.at(h, w, c) - m);
        for (long c = 0; c < y.C; ++c) y.at(h, w, c) = std::exp(y.at(h, w, c) - m) / sum;
      }
}

double bias_of(const Weights& w, const json& config, long f) {
  return config.value("use_bias", true) ? w.at("bias").v[std::size_t(f)] : 0.0;
}

/// x at (h, w, c), or 0 in the padding.
double padded(const Img& x, long h, long w, long c) {
  return h < 0 || w < 0 || h >= x.H || w >= x.W ? 0.0 : x.at(h, w, c);
}

/// Conv1D/2D: y[o, f] = act(bias[f] + sum_{k, c} x[o*s + k*d - before, g*cin + c] * kernel[k, c, f]).
Img ref_conv(const Img& x, const json& config, std::size_t rank, const Weights& w) {
  const auto ax = axes_of(config, rank, x, false);
  const long F = config["filters"].get<long>(), groups = config.value("groups", 1L);
  const long cin = x.C / groups, fg = F / groups;
  Img y(out_len(ax[0], x.H), out_len(ax[1], x.W), F);
  const Weight& k = w.at("kernel");
  for (long oh = 0; oh < y.H; ++oh)
    for (long ow = 0; ow < y.W; ++ow)
      for (long f = 0; f < F; ++f) {
        const long g = f / fg;
        double sum = bias_of(w, config, f);
        for (long kh = 0; kh < ax[0].k; ++kh)
          for (long kw = 0; kw < ax[1].k; ++kw)
            for (long c = 0; c < cin; ++c) {
              const long ih = oh * ax[0].s + kh * ax[0].d - ax[0].before;
              const long iw = ow * ax[1].s + kw * ax[1].d - ax[1].before;
              const double kv = rank == 1 ? k.at({std::size_t(kw), std::size_t(c), std::size_t(f)})
                                          : k.at({std::size_t(kh), std::size_t(kw), std::size_t(c), std::size_t(f)});
              sum += padded(x, ih, iw, g * cin + c) * kv;
            }
        y.at(oh, ow, f) = sum;
      }
  finish(y, config);
  return y;
}

/// Depthwise: output channel c*M + m convolves input channel c with kernel[..., c, m].
Img ref_depthwise(const Img& x, const json& config, std::size_t rank, const Weight& k,
                  const Weights* with_bias) {
  const auto ax = axes_of(config, rank, x, false);
  const long M = config.value("depth_multiplier", 1L);
  Img y(out_len(ax[0], x.H), out_len(ax[1], x.W), x.C * M);
  for (long oh = 0; oh < y.H; ++oh)
    for (long ow = 0; ow < y.W; ++ow)
      for (long c = 0; c < x.C; ++c)
        for (long m = 0; m < M; ++m) {
          double sum = with_bias ? bias_of(*with_bias, config, c * M + m) : 0.0;
          for (long kh = 0; kh < ax[0].k; ++kh)
            for (long kw = 0; kw < ax[1].k; ++kw) {
              const long ih = oh * ax[0].s + kh * ax[0].d - ax[0].before;
              const long iw = ow * ax[1].s + kw * ax[1].d - ax[1].before;
              const double kv = rank == 1 ? k.at({std::size_t(kw), std::size_t(c), std::size_t(m)})
                                          : k.at({std::size_t(kh), std::size_t(kw), std::size_t(c), std::size_t(m)});
              sum += padded(x, ih, iw, c) * kv;
            }
          y.at(oh, ow, c * M + m) = sum;
        }
  return y;
}

Img ref_separable(const Img& x, const json& config, std::size_t rank, const Weights& w) {
  const Img z = ref_depthwise(x, config, rank, w.at("depthwise_kernel"), nullptr);
  const long F = config["filters"].get<long>();
  const Weight& pw = w.at("pointwise_kernel");
  Img y(z.H, z.W, F);
  for (long h = 0; h < z.H; ++h)
    for (long ww = 0; ww < z.W; ++ww)
      for (long f = 0; f < F; ++f) {
        double sum = bias_of(w, config, f);
        for (long c = 0; c < z.C; ++c)
          sum += z.at(h, ww, c) * pw.v[std::size_t(c * F + f)];  // [*ones, C*M, F]
        y.at(h, ww, f) = sum;
      }
  finish(y, config);
  return y;
}

/// Transposed: input position i scatters into output i*s + k*d - before; output
/// length full - before - after + output_padding with full = (n-1)*s + e.
Img ref_transpose(const Img& x, const json& config, std::size_t rank, const Weights& w) {
  const auto ax = axes_of(config, rank, x, true);
  const long F = config["filters"].get<long>();
  long len[2];
  const long n[2] = {x.H, x.W};
  for (int i = 0; i < 2; ++i)
    len[i] = (n[i] - 1) * ax[i].s + ax[i].d * (ax[i].k - 1) + 1 - ax[i].before - ax[i].after + ax[i].op;
  Img y(len[0], len[1], F);
  const Weight& k = w.at("kernel");
  for (long oh = 0; oh < y.H; ++oh)
    for (long ow = 0; ow < y.W; ++ow)
      for (long f = 0; f < F; ++f) y.at(oh, ow, f) = bias_of(w, config, f);
  for (long ih = 0; ih < x.H; ++ih)
    for (long iw = 0; iw < x.W; ++iw)
      for (long kh = 0; kh < ax[0].k; ++kh)
        for (long kw = 0; kw < ax[1].k; ++kw) {
          const long oh = ih * ax[0].s + kh * ax[0].d - ax[0].before;
          const long ow = iw * ax[1].s + kw * ax[1].d - ax[1].before;
          if (oh < 0 || ow < 0 || oh >= y.H || ow >= y.W) continue;
          for (long f = 0; f < F; ++f)
            for (long c = 0; c < x.C; ++c) {
              const double kv = rank == 1 ? k.at({std::size_t(kw), std::size_t(f), std::size_t(c)})
                                          : k.at({std::size_t(kh), std::size_t(kw), std::size_t(f), std::size_t(c)});
              y.at(oh, ow, f) += x.at(ih, iw, c) * kv;
            }
        }
  finish(y, config);
  return y;
}

Img ref_pool(const Img& x, const json& config, std::size_t rank, bool is_max) {
  const auto ax = axes_of(config, rank, x, false, "pool_size", true);
  const bool include_pad = config.value("count_include_pad", false);
  Img y(out_len(ax[0], x.H), out_len(ax[1], x.W), x.C);
  for (long oh = 0; oh < y.H; ++oh)
    for (long ow = 0; ow < y.W; ++ow)
      for (long c = 0; c < x.C; ++c) {
        double best = -1e300, sum = 0;
        long count = 0;
        for (long kh = 0; kh < ax[0].k; ++kh)
          for (long kw = 0; kw < ax[1].k; ++kw) {
            const long ih = oh * ax[0].s + kh - ax[0].before, iw = ow * ax[1].s + kw - ax[1].before;
            if (ih < 0 || iw < 0 || ih >= x.H || iw >= x.W) continue;  // padding never wins
            best = std::max(best, x.at(ih, iw, c));
            sum += x.at(ih, iw, c);
            ++count;
          }
        y.at(oh, ow, c) = is_max ? best : sum / double(include_pad ? ax[0].k * ax[1].k : count);
      }
  return y;
}

Img ref_global(const Img& x, bool is_max) {
  Img y(1, 1, x.C);
  for (long c = 0; c < x.C; ++c) {
    double best = -1e300, sum = 0;
    for (long h = 0; h < x.H; ++h)
      for (long w = 0; w < x.W; ++w) {
        best = std::max(best, x.at(h, w, c));
        sum += x.at(h, w, c);
      }
    y.at(0, 0, c) = is_max ? best : sum / double(x.H * x.W);
  }
  return y;
}

Img ref_upsampling(const Img& x, const json& config, std::size_t rank) {
  const auto size = axis_values(config, "size", rank, 1);
  Img y(x.H * size[0], x.W * size[1], x.C);
  for (long h = 0; h < y.H; ++h)
    for (long w = 0; w < y.W; ++w)
      for (long c = 0; c < x.C; ++c) y.at(h, w, c) = x.at(h / size[0], w / size[1], c);
  return y;
}

Img ref_pad_crop(const Img& x, const json& config, std::size_t rank, bool crop) {
  const json pairs = config[crop ? "cropping" : "padding"];
  long before[2] = {0, 0}, after[2] = {0, 0};
  for (std::size_t a = 0; a < rank; ++a) {
    before[rank == 1 ? 1 : a] = pairs[a][0].get<long>();
    after[rank == 1 ? 1 : a] = pairs[a][1].get<long>();
  }
  const long sign = crop ? -1 : 1;
  Img y(x.H + sign * (before[0] + after[0]), x.W + sign * (before[1] + after[1]), x.C);
  for (long h = 0; h < y.H; ++h)
    for (long w = 0; w < y.W; ++w)
      for (long c = 0; c < x.C; ++c) y.at(h, w, c) = padded(x, h - sign * before[0], w - sign * before[1], c);
  return y;
}

/// The reference output of one node for one sample, in the node's file layout.
std::vector<double> reference(const std::string& type, const json& config, const Shape& in_shape,
                              const std::vector<double>& sample, const Weights& w, Shape& out_shape) {
  const bool first = config.value("data_format", std::string("channels_last")) == "channels_first";
  const std::size_t rank = type.find("2D") != std::string::npos ? 2 : 1;
  const Img x = to_img(sample, in_shape, first);
  Img y;
  if (type.rfind("Conv", 0) == 0 && type.find("Transpose") != std::string::npos) y = ref_transpose(x, config, rank, w);
  else if (type.rfind("Conv", 0) == 0) y = ref_conv(x, config, rank, w);
  else if (type.rfind("Depthwise", 0) == 0) {
    y = ref_depthwise(x, config, rank, w.at("kernel"), &w);
    finish(y, config);
  } else if (type.rfind("Separable", 0) == 0) y = ref_separable(x, config, rank, w);
  else if (type.rfind("MaxPooling", 0) == 0) y = ref_pool(x, config, rank, true);
  else if (type.rfind("AveragePooling", 0) == 0) y = ref_pool(x, config, rank, false);
  else if (type.rfind("Global", 0) == 0) {
    y = ref_global(x, type.find("Max") != std::string::npos);
    if (!config.value("keepdims", false)) {
      out_shape = {std::size_t(y.C)};
      return y.v;
    }
  } else if (type.rfind("UpSampling", 0) == 0) y = ref_upsampling(x, config, rank);
  else if (type.rfind("ZeroPadding", 0) == 0) y = ref_pad_crop(x, config, rank, false);
  else if (type.rfind("Cropping", 0) == 0) y = ref_pad_crop(x, config, rank, true);
  else FAIL("no reference for " << type);
  out_shape = img_shape(y, rank, first);
  return from_img(y, first);
}

/// The weights a node of this type needs, random, shapes from docs/format.md.
Weights make_weights(const std::string& type, const json& config, const Shape& in_shape) {
  const bool first = config.value("data_format", std::string("channels_last")) == "channels_first";
  const std::size_t rank = in_shape.size() - 1;
  const std::size_t C = first ? in_shape[0] : in_shape.back();
  const bool bias = config.value("use_bias", true);
  Weights w;
  const std::size_t F = config.value("filters", std::size_t(0));
  const std::size_t M = config.value("depth_multiplier", std::size_t(1));
  if (type.find("Transpose") != std::string::npos) {
    w["kernel"] = random_weight(kernel_shape(config, rank, F, C));
    if (bias) w["bias"] = random_weight({F});
  } else if (type.rfind("Conv", 0) == 0) {
    w["kernel"] = random_weight(kernel_shape(config, rank, C / config.value("groups", std::size_t(1)), F));
    if (bias) w["bias"] = random_weight({F});
  } else if (type.rfind("Depthwise", 0) == 0) {
    w["kernel"] = random_weight(kernel_shape(config, rank, C, M));
    if (bias) w["bias"] = random_weight({C * M});
  } else if (type.rfind("Separable", 0) == 0) {
    w["depthwise_kernel"] = random_weight(kernel_shape(config, rank, C, M));
    w["pointwise_kernel"] = random_weight(Shape(rank == 2 ? Shape{1, 1, C * M, F} : Shape{1, C * M, F}));
    if (bias) w["bias"] = random_weight({F});
  }
  return w;
}

json model_json(const std::string& type, const json& config, const Shape& in_shape, const Weights& w) {
  json weights = json::object();
  for (const auto& [name, t] : w) {
    std::vector<float> data(t.v.begin(), t.v.end());
    weights[name] = {{"shape", t.shape}, {"data", data}};
  }
  json node = {{"name", "layer"}, {"type", type}, {"inputs", {"x"}}, {"config", config}};
  if (!w.empty()) node["weights"] = weights;
  return {{"format", "trignet"},
          {"format_version", 1},
          {"name", "conv_test"},
          {"inputs", {{{"name", "x"}, {"shape", in_shape}}}},
          {"outputs", {{{"name", "y"}, {"node", "layer"}}}},
          {"nodes", {node}}};
}

template <typename T>
std::vector<double> run_engine(const std::string& text, const std::vector<double>& input,
                               std::size_t batch, Shape* out_shape = nullptr) {
  auto model = trignet::load_model_from_string<T>(text);
  if (out_shape) *out_shape = model->outputs()[0].shape;
  trignet::Session<T> session(model);
  std::vector<T> x(input.begin(), input.end());
  const trignet::Span<const T> one[1] = {trignet::Span<const T>(x.data(), x.size())};
  session.run(trignet::Span<const trignet::Span<const T>>(one, 1), batch);
  session.run(trignet::Span<const trignet::Span<const T>>(one, 1), batch);  // buffers reused
  const auto y = session.output(0);
  return std::vector<double>(y.begin(), y.end());
}

/// One layer against the reference in float and double, batch 3.
void check_layer_case(const std::string& type, const json& config, const Shape& in_shape) {
  INFO(type << " " << config.dump() << " input " << trignet::to_string(in_shape));
  const Weights w = make_weights(type, config, in_shape);
  const std::string text = model_json(type, config, in_shape, w).dump();
  constexpr std::size_t batch = 3;
  const std::size_t n = trignet::element_count(in_shape);
  const std::vector<double> input = random_values(batch * n, -2, 2);
  std::vector<double> expected;
  Shape ref_shape;
  for (std::size_t b = 0; b < batch; ++b) {
    const std::vector<double> sample(input.begin() + long(b * n), input.begin() + long((b + 1) * n));
    const std::vector<double> y = reference(type, config, in_shape, sample, w, ref_shape);
    expected.insert(expected.end(), y.begin(), y.end());
  }
  Shape engine_shape;
  const std::vector<double> yd = run_engine<double>(text, input, batch, &engine_shape);
  const std::vector<double> yf = run_engine<float>(text, input, batch);
  REQUIRE(trignet::to_string(engine_shape) == trignet::to_string(ref_shape));
  REQUIRE(yd.size() == expected.size());
  REQUIRE(yf.size() == expected.size());
  double worst_d = 0, worst_f = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double e = expected[i];
    worst_d = std::max(worst_d, std::fabs(yd[i] - e) / (1e-12 + 1e-12 * std::fabs(e)));
    // Float sums run over up to ~400 terms here: K * 2^-24 ~ 2.4e-5 is the
    // worst-case bound; any summation order (-O1, -O3, SIMD width) stays inside.
    worst_f = std::max(worst_f, std::fabs(yf[i] - e) / (3e-5 + 3e-5 * std::fabs(e)));
  }
  CHECK(worst_d <= 1.0);
  CHECK(worst_f <= 1.0);
}

struct Case {
  std::string type;
  json config;
  Shape input;
};

void run_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) check_layer_case(c.type, c.config, c.input);
}

}  // namespace

TEST_CASE("Conv1D matches the naive reference", "[conv]") {
  run_cases({
      {"Conv1D", {{"filters", 4}, {"kernel_size", {3}}}, {10, 3}},
      {"Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"strides", {3}}, {"activation", "relu"}}, {11, 2}},
      // same with stride 2 and an even kernel: asymmetric padding, extra cell after
      {"Conv1D", {{"filters", 3}, {"kernel_size", {4}}, {"strides", {2}}, {"padding", "same"}}, {9, 2}},
      {"Conv1D", {{"filters", 3}, {"kernel_size", {4}}, {"strides", {2}}, {"padding", "same"}}, {10, 2}},
      {"Conv1D", {{"filters", 3}, {"kernel_size", {2}}, {"padding", "same"}}, {5, 2}},
      {"Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"dilation_rate", {2}}, {"padding", "same"}}, {11, 3}},
      {"Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"dilation_rate", {3}}}, {12, 2}},
      {"Conv1D", {{"filters", 6}, {"kernel_size", {3}}, {"groups", 2}, {"padding", {{2, 1}}}}, {8, 4}},
      {"Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"groups", 4}, {"strides", {2}}}, {9, 4}},
      {"Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"strides", {2}}, {"padding", "same"},
                  {"activation", "relu"}, {"data_format", "channels_first"}}, {3, 9}},
      {"Conv1D", {{"filters", 5}, {"kernel_size", {1}}, {"use_bias", false}}, {6, 3}},
      {"Conv1D", {{"filters", 5}, {"kernel_size", {1}}, {"data_format", "channels_first"}}, {3, 6}},
      {"Conv1D", {{"filters", 5}, {"kernel_size", {7}}}, {7, 3}},  // kernel == input
      {"Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"activation", "softmax"}, {"padding", "same"}}, {6, 2}},
      {"Conv1D", {{"filters", 16}, {"kernel_size", {3}}, {"activation", "relu"}}, {50, 8}},  // the case
  });
}

TEST_CASE("Conv2D matches the naive reference", "[conv]") {
  run_cases({
      {"Conv2D", {{"filters", 5}, {"kernel_size", {3, 2}}, {"strides", {2, 1}}, {"padding", "same"},
                  {"activation", "relu"}}, {7, 6, 3}},
      {"Conv2D", {{"filters", 3}, {"kernel_size", {4, 4}}, {"strides", {2, 2}}, {"padding", "same"}}, {8, 9, 2}},
      {"Conv2D", {{"filters", 3}, {"kernel_size", {2, 2}}, {"strides", {2, 2}}, {"padding", "same"}}, {5, 5, 2}},
      {"Conv2D", {{"filters", 3}, {"kernel_size", {3, 3}}, {"dilation_rate", {2, 1}}}, {9, 5, 2}},
      {"Conv2D", {{"filters", 3}, {"kernel_size", {3, 3}}, {"dilation_rate", {2, 2}}, {"padding", "same"},
                  {"data_format", "channels_first"}}, {2, 7, 6}},
      {"Conv2D", {{"filters", 3}, {"kernel_size", {3, 2}}, {"groups", 3}, {"padding", {{1, 0}, {0, 2}}}}, {5, 4, 6}},
      {"Conv2D", {{"filters", 4}, {"kernel_size", {2, 3}}, {"groups", 2}, {"use_bias", false},
                  {"activation", "tanh"}, {"data_format", "channels_first"}}, {4, 5, 6}},
      {"Conv2D", {{"filters", 4}, {"kernel_size", {1, 1}}}, {3, 4, 5}},
      {"Conv2D", {{"filters", 4}, {"kernel_size", {1, 1}}, {"data_format", "channels_first"}}, {5, 3, 4}},
      {"Conv2D", {{"filters", 4}, {"kernel_size", {1, 1}}, {"strides", {2, 2}}}, {5, 4, 3}},
      {"Conv2D", {{"filters", 3}, {"kernel_size", {5, 4}}}, {5, 4, 2}},  // kernel == input: 1x1 output
      {"Conv2D", {{"filters", 3}, {"kernel_size", {5, 4}}, {"data_format", "channels_first"}}, {2, 5, 4}},
      {"Conv2D", {{"filters", 4}, {"kernel_size", {3, 3}}, {"padding", "same"}, {"activation", "softmax"}}, {4, 5, 2}},
      {"Conv2D", {{"filters", 4}, {"kernel_size", {3, 3}}, {"padding", "same"}, {"data_format", "channels_first"},
                  {"activation", {{"name", "softmax"}, {"axis", 0}}}}, {2, 4, 5}},
      {"Conv2D", {{"filters", 70}, {"kernel_size", {3, 3}}, {"padding", "same"}}, {12, 11, 40}},  // several GEMM blocks
      {"Conv2D", {{"filters", 3}, {"kernel_size", {1, 3}}}, {1, 9, 2}},  // H = 1: strided path in 2D
  });
}

TEST_CASE("DepthwiseConv and SeparableConv match the naive reference", "[conv]") {
  run_cases({
      {"DepthwiseConv1D", {{"kernel_size", {4}}, {"strides", {2}}, {"padding", "same"}, {"depth_multiplier", 2}}, {9, 3}},
      {"DepthwiseConv1D", {{"kernel_size", {3}}, {"data_format", "channels_first"}, {"use_bias", false}}, {3, 8}},
      {"DepthwiseConv2D", {{"kernel_size", {3, 3}}, {"dilation_rate", {2, 2}}, {"activation", "relu"}}, {7, 8, 3}},
      {"DepthwiseConv2D", {{"kernel_size", {3, 2}}, {"depth_multiplier", 3}, {"padding", "same"},
                           {"data_format", "channels_first"}}, {2, 5, 6}},
      {"DepthwiseConv2D", {{"kernel_size", {2, 2}}, {"strides", {2, 2}}, {"padding", {{1, 0}, {0, 1}}}}, {5, 5, 4}},
      {"SeparableConv1D", {{"filters", 5}, {"kernel_size", {3}}, {"depth_multiplier", 2}, {"padding", "same"},
                           {"activation", "relu"}}, {8, 3}},
      {"SeparableConv1D", {{"filters", 4}, {"kernel_size", {2}}, {"strides", {2}}, {"padding", "same"},
                           {"data_format", "channels_first"}}, {3, 7}},
      {"SeparableConv2D", {{"filters", 4}, {"kernel_size", {3, 3}}, {"strides", {2, 2}}, {"padding", "same"},
                           {"use_bias", false}, {"data_format", "channels_first"}}, {2, 6, 7}},
      {"SeparableConv2D", {{"filters", 6}, {"kernel_size", {2, 3}}, {"dilation_rate", {1, 2}},
                           {"depth_multiplier", 2}, {"activation", "softmax"}}, {5, 7, 2}},
  });
}

TEST_CASE("Conv1DTranspose and Conv2DTranspose match the naive reference", "[conv]") {
  run_cases({
      {"Conv1DTranspose", {{"filters", 3}, {"kernel_size", {3}}}, {5, 2}},
      {"Conv1DTranspose", {{"filters", 3}, {"kernel_size", {3}}, {"strides", {2}}, {"padding", "same"}}, {5, 2}},
      {"Conv1DTranspose", {{"filters", 3}, {"kernel_size", {3}}, {"strides", {2}}, {"padding", {{1, 1}}},
                           {"output_padding", {1}}}, {5, 2}},
      // Effective kernel shorter than the stride: "same" still gives n*s outputs.
      {"Conv1DTranspose", {{"filters", 2}, {"kernel_size", {1}}, {"strides", {2}}, {"padding", "same"}}, {4, 2}},
      {"Conv2DTranspose", {{"filters", 2}, {"kernel_size", {2, 1}}, {"strides", {3, 2}}, {"padding", "same"}},
       {3, 4, 2}},
      {"Conv1DTranspose", {{"filters", 2}, {"kernel_size", {4}}, {"strides", {2}}, {"padding", "same"}}, {6, 3}},
      {"Conv1DTranspose", {{"filters", 2}, {"kernel_size", {3}}, {"strides", {2}}, {"padding", {{1, 1}}},
                           {"output_padding", {1}}, {"data_format", "channels_first"}}, {3, 5}},
      {"Conv1DTranspose", {{"filters", 2}, {"kernel_size", {3}}, {"dilation_rate", {2}}, {"activation", "relu"}}, {6, 2}},
      {"Conv1DTranspose", {{"filters", 2}, {"kernel_size", {1}}, {"strides", {3}}}, {4, 2}},  // gaps: bias only
      {"Conv1DTranspose", {{"filters", 2}, {"kernel_size", {3}}, {"dilation_rate", {2}}, {"output_padding", {1}},
                           {"use_bias", false}}, {4, 3}},  // output_padding < dilation, stride 1
      {"Conv2DTranspose", {{"filters", 3}, {"kernel_size", {3, 3}}, {"strides", {2, 2}},
                           {"padding", {{1, 1}, {1, 1}}}, {"output_padding", {1, 1}}}, {4, 3, 2}},
      {"Conv2DTranspose", {{"filters", 2}, {"kernel_size", {4, 3}}, {"strides", {2, 1}}, {"padding", {{1, 2}, {0, 1}}},
                           {"output_padding", {1, 0}}, {"use_bias", false}, {"activation", "relu"},
                           {"data_format", "channels_first"}}, {3, 4, 5}},
      {"Conv2DTranspose", {{"filters", 4}, {"kernel_size", {2, 2}}, {"strides", {2, 2}}}, {3, 3, 5}},
      {"Conv2DTranspose", {{"filters", 70}, {"kernel_size", {3, 3}}, {"strides", {2, 2}}, {"padding", "same"}},
       {9, 10, 20}},
  });
}

TEST_CASE("Pooling layers match the naive reference", "[conv][pooling]") {
  run_cases({
      {"MaxPooling1D", {{"pool_size", {2}}}, {9, 3}},
      {"MaxPooling1D", {{"pool_size", {3}}, {"strides", {2}}, {"padding", "same"}}, {8, 2}},
      {"MaxPooling1D", {{"pool_size", {4}}, {"strides", {1}}, {"padding", "same"}, {"data_format", "channels_first"}}, {2, 6}},
      {"AveragePooling1D", {{"pool_size", {3}}, {"strides", {2}}, {"padding", "same"}}, {8, 2}},
      {"AveragePooling1D", {{"pool_size", {3}}, {"strides", {2}}, {"padding", "same"}, {"count_include_pad", true}}, {8, 2}},
      {"AveragePooling1D", {{"pool_size", {2}}, {"padding", "same"}, {"count_include_pad", true}}, {5, 2}},
      {"AveragePooling1D", {{"pool_size", {5}}}, {5, 3}},  // pool == input
      {"MaxPooling2D", {{"pool_size", {2, 2}}}, {5, 6, 3}},
      {"MaxPooling2D", {{"pool_size", {2, 2}}, {"padding", {{1, 0}, {1, 1}}}, {"data_format", "channels_first"}}, {2, 5, 5}},
      {"MaxPooling2D", {{"pool_size", {3, 2}}, {"strides", {2, 2}}, {"padding", "same"}}, {7, 6, 2}},
      {"AveragePooling2D", {{"pool_size", {3, 2}}, {"strides", {2, 2}}, {"padding", "same"}}, {7, 5, 2}},
      {"AveragePooling2D", {{"pool_size", {3, 2}}, {"strides", {2, 2}}, {"padding", "same"}, {"count_include_pad", true},
                            {"data_format", "channels_first"}}, {2, 7, 5}},
      {"AveragePooling2D", {{"pool_size", {3, 3}}, {"strides", {1, 1}}, {"padding", {{1, 1}, {1, 1}}},
                            {"count_include_pad", true}}, {4, 4, 2}},  // PyTorch AvgPool2d(3, 1, 1)
      {"AveragePooling2D", {{"pool_size", {3, 3}}, {"strides", {1, 1}}, {"padding", {{1, 1}, {1, 1}}}}, {4, 4, 2}},
  });
}

TEST_CASE("Global pooling, UpSampling, ZeroPadding and Cropping match the naive reference", "[conv][pooling]") {
  run_cases({
      {"GlobalMaxPooling1D", json::object(), {7, 3}},
      {"GlobalAveragePooling1D", json::object(), {7, 3}},
      {"GlobalAveragePooling1D", {{"data_format", "channels_first"}}, {3, 7}},
      {"GlobalMaxPooling1D", {{"keepdims", true}, {"data_format", "channels_first"}}, {3, 7}},
      {"GlobalMaxPooling2D", {{"keepdims", true}}, {4, 5, 3}},
      {"GlobalAveragePooling2D", {{"data_format", "channels_first"}}, {3, 4, 5}},
      {"GlobalAveragePooling2D", {{"keepdims", true}}, {4, 5, 3}},
      {"UpSampling1D", {{"size", {3}}}, {4, 2}},
      {"UpSampling1D", {{"size", {2}}, {"data_format", "channels_first"}}, {2, 4}},
      {"UpSampling2D", {{"size", {2, 3}}}, {3, 2, 2}},
      {"UpSampling2D", {{"size", {2, 3}}, {"data_format", "channels_first"}}, {2, 3, 2}},
      {"ZeroPadding1D", {{"padding", {{1, 2}}}}, {4, 3}},
      {"ZeroPadding2D", {{"padding", {{1, 0}, {2, 1}}}, {"data_format", "channels_first"}}, {2, 3, 4}},
      {"ZeroPadding2D", {{"padding", {{0, 0}, {0, 3}}}}, {3, 4, 2}},
      {"Cropping1D", {{"cropping", {{1, 2}}}}, {6, 3}},
      {"Cropping2D", {{"cropping", {{0, 1}, {2, 0}}}}, {4, 5, 2}},
      {"Cropping2D", {{"cropping", {{1, 1}, {0, 2}}}, {"data_format", "channels_first"}}, {2, 4, 5}},
  });
}

namespace {

/// Engine output for channels_first config on the transposed input, brought back
/// to channels_last, must equal the channels_last engine output.
void check_formats_agree(const std::string& type, json config, const Shape& last_shape) {
  INFO(type << " " << config.dump());
  const std::size_t rank = last_shape.size() - 1;
  Shape first_shape{last_shape.back()};
  for (std::size_t a = 0; a < rank; ++a) first_shape.push_back(last_shape[a]);
  Weights w = make_weights(type, config, last_shape);
  const std::vector<double> x_last = random_values(trignet::element_count(last_shape), -2, 2);
  const std::vector<double> x_first = from_img(to_img(x_last, last_shape, false), true);
  Shape out_last, out_first;
  const auto y_last = run_engine<double>(model_json(type, config, last_shape, w).dump(), x_last, 1, &out_last);
  config["data_format"] = "channels_first";
  if (config.contains("activation") && config["activation"] == "softmax")
    config["activation"] = {{"name", "softmax"}, {"axis", 0}};
  const auto y_first = run_engine<double>(model_json(type, config, first_shape, w).dump(), x_first, 1, &out_first);
  const auto back = from_img(to_img(y_first, out_first, true), false);
  REQUIRE(back.size() == y_last.size());
  for (std::size_t i = 0; i < back.size(); ++i) CHECK(back[i] == Approx(y_last[i]).margin(1e-12));
}

}  // namespace

TEST_CASE("channels_first gives the channels_last result after transposing", "[conv]") {
  check_formats_agree("Conv2D", {{"filters", 4}, {"kernel_size", {4, 3}}, {"strides", {2, 2}}, {"padding", "same"},
                                 {"groups", 2}, {"activation", "softmax"}}, {7, 6, 4});
  check_formats_agree("Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"dilation_rate", {2}}}, {9, 3});
  check_formats_agree("DepthwiseConv2D", {{"kernel_size", {3, 3}}, {"depth_multiplier", 2}, {"padding", "same"}}, {5, 6, 3});
  check_formats_agree("SeparableConv1D", {{"filters", 3}, {"kernel_size", {3}}, {"padding", "same"}}, {6, 2});
  check_formats_agree("Conv2DTranspose", {{"filters", 3}, {"kernel_size", {3, 3}}, {"strides", {2, 2}},
                                          {"padding", {{1, 1}, {0, 1}}}, {"output_padding", {1, 0}}},
                      {3, 4, 2});
  check_formats_agree("AveragePooling2D", {{"pool_size", {2, 3}}, {"strides", {2, 2}}, {"padding", "same"}}, {5, 7, 3});
  check_formats_agree("MaxPooling1D", {{"pool_size", {3}}, {"padding", "same"}}, {5, 3});
  check_formats_agree("UpSampling2D", {{"size", {2, 2}}}, {2, 3, 2});
  check_formats_agree("Cropping2D", {{"cropping", {{1, 0}, {0, 1}}}}, {3, 3, 2});
}

TEST_CASE("hand-computed convolution values", "[conv]") {
  // Conv1D k=2, stride 2, same on length 5: output 3, total padding
  // (3-1)*2 + 2 - 5 = 1, all of it after: windows [0,1], [2,3], [4,pad].
  const json config = {{"filters", 1}, {"kernel_size", {2}}, {"strides", {2}}, {"padding", "same"}, {"use_bias", false}};
  Weights w;
  w["kernel"] = {{2, 1, 1}, {1.0, 10.0}};
  const auto y = run_engine<double>(model_json("Conv1D", config, {5, 1}, w).dump(), {1, 2, 3, 4, 5}, 1);
  CHECK(y == std::vector<double>{21, 43, 5});
  // Conv1DTranspose k=3, stride 2, same on length 2: output 4, total padding 1, before 0.
  // full: x0*[1,2,3] at 0..2, x1*[1,2,3] at 2..4 -> [1, 2, 3+10, 20, 30], cropped to 4.
  Weights t;
  t["kernel"] = {{3, 1, 1}, {1.0, 2.0, 3.0}};
  const json tconfig = {{"filters", 1}, {"kernel_size", {3}}, {"strides", {2}}, {"padding", "same"}, {"use_bias", false}};
  const auto yt = run_engine<double>(model_json("Conv1DTranspose", tconfig, {2, 1}, t).dump(), {1, 10}, 1);
  CHECK(yt == std::vector<double>{1, 2, 13, 20});
  // AveragePooling1D pool 2, same on length 3: last window [2, pad].
  const json pconfig = {{"pool_size", {2}}, {"padding", "same"}};
  CHECK(run_engine<double>(model_json("AveragePooling1D", pconfig, {3, 1}, {}).dump(), {1, 3, 8}, 1) ==
        std::vector<double>{2, 8});
  json pconfig2 = pconfig;
  pconfig2["count_include_pad"] = true;
  CHECK(run_engine<double>(model_json("AveragePooling1D", pconfig2, {3, 1}, {}).dump(), {1, 3, 8}, 1) ==
        std::vector<double>{2, 4});
  CHECK(run_engine<double>(model_json("MaxPooling1D", pconfig, {3, 1}, {}).dump(), {1, 3, -8}, 1) ==
        std::vector<double>{3, -8});  // padding never wins a maximum
}

TEST_CASE("the issue's Conv1D -> GlobalAveragePooling1D -> Dense model", "[conv]") {
  // Conv1D(16, k=3) over 50x8 -> GlobalAveragePooling1D -> Dense 5, against the reference.
  const Shape in{50, 8};
  const json cconf = {{"filters", 16}, {"kernel_size", {3}}, {"activation", "relu"}};
  const Weights cw = make_weights("Conv1D", cconf, in);
  Weights dw;
  dw["kernel"] = random_weight({16, 5});
  dw["bias"] = random_weight({5});
  json model = model_json("Conv1D", cconf, in, cw);
  model["nodes"][0]["name"] = "conv";
  model["nodes"].push_back({{"name", "pool"}, {"type", "GlobalAveragePooling1D"}, {"inputs", {"conv"}}});
  model["nodes"].push_back({{"name", "dense"}, {"type", "Dense"}, {"inputs", {"pool"}},
                            {"config", {{"units", 5}}},
                            {"weights", {{"kernel", {{"shape", {16, 5}}, {"data", dw["kernel"].v}}},
                                         {"bias", {{"shape", {5}}, {"data", dw["bias"].v}}}}}});
  model["outputs"][0]["node"] = "dense";
  const std::size_t batch = 5;
  const std::vector<double> x = random_values(batch * 400, -2, 2);
  const auto yd = run_engine<double>(model.dump(), x, batch);
  const auto yf = run_engine<float>(model.dump(), x, batch);
  for (std::size_t b = 0; b < batch; ++b) {
    Shape s;
    const std::vector<double> sample(x.begin() + long(b * 400), x.begin() + long((b + 1) * 400));
    const auto conv = reference("Conv1D", cconf, in, sample, cw, s);
    const auto pooled = reference("GlobalAveragePooling1D", json::object(), s, conv, {}, s);
    for (std::size_t j = 0; j < 5; ++j) {
      double e = dw["bias"].v[j];
      for (std::size_t i = 0; i < 16; ++i) e += pooled[i] * dw["kernel"].v[i * 5 + j];
      CHECK(yd[b * 5 + j] == Approx(e).epsilon(1e-12).margin(1e-12));
      CHECK(yf[b * 5 + j] == Approx(e).epsilon(1e-5).margin(1e-5));
    }
  }
}

TEST_CASE("large batches through chunked im2col and transposed GEMMs", "[conv]") {
  // More columns than one 256-column chunk, in both data formats.
  run_cases({
      {"Conv2D", {{"filters", 6}, {"kernel_size", {3, 3}}, {"strides", {1, 2}}, {"padding", "same"}}, {20, 30, 3}},
      {"Conv2D", {{"filters", 6}, {"kernel_size", {3, 3}}, {"padding", "same"}, {"data_format", "channels_first"}},
       {3, 20, 30}},
      {"Conv1DTranspose", {{"filters", 3}, {"kernel_size", {3}}, {"strides", {2}}, {"data_format", "channels_first"}},
       {2, 300}},
  });
}

// ---------------------------------------------------------------------------
// Validation: exact messages with the JSON path.

namespace {

std::string load_error(const std::string& type, const json& config, const Shape& in_shape,
                       const Weights& w) {
  return error_message<trignet::FormatError>([&] {
    trignet::load_model_from_string<float>(model_json(type, config, in_shape, w).dump(), {},
                                           "model.json");
  });
}

std::string load_error(const std::string& type, const json& config, const Shape& in_shape) {
  return load_error(type, config, in_shape, make_weights(type, config, in_shape));
}

std::string at_node(const std::string& field, const std::string& message, const std::string& type) {
  return "trignet: model.json: nodes[0]." + field + ": " + message + " (node 'layer', " + type + ")";
}

}  // namespace

TEST_CASE("convolution validation errors name the field and the problem", "[conv][errors]") {
  using trignet_test::contains;
  // Per-axis counts.
  CHECK(load_error("Conv2D", {{"filters", 2}, {"kernel_size", {3}}}, {5, 5, 2},
                   {{"kernel", random_weight({3, 3, 2, 2})}}) ==
        at_node("config.kernel_size", "expected 2 entries (one per spatial axis) for Conv2D, found 1", "Conv2D"));
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"strides", {1, 1}}}, {5, 2}) ==
        at_node("config.strides", "expected 1 entry (one per spatial axis) for Conv1D, found 2", "Conv1D"));
  CHECK(load_error("Conv2D", {{"filters", 2}, {"kernel_size", {3, 3}}, {"padding", {{1, 1}}}}, {5, 5, 2}) ==
        at_node("config.padding", "expected 2 [before, after] pairs (one per spatial axis) for Conv2D, found 1",
                "Conv2D"));
  // Kernel larger than the (padded) input.
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {6}}}, {5, 2}) ==
        at_node("config.kernel_size",
                "kernel 6 is larger than the padded input on spatial axis 0: length 5 + padding 0 + 0 = 5 "
                "(no output position)",
                "Conv1D"));
  CHECK(load_error("Conv2D", {{"filters", 2}, {"kernel_size", {3, 3}}, {"dilation_rate", {1, 3}},
                              {"padding", {{0, 0}, {1, 1}}}}, {5, 4, 2}) ==
        at_node("config.kernel_size",
                "kernel 3 with dilation 3 (extent 7) is larger than the padded input on spatial axis 1: "
                "length 4 + padding 1 + 1 = 6 (no output position)",
                "Conv2D"));
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {6}}, {"padding", "same"}}, {5, 2}).empty());
  // Transposed "same" fixes the output length at n*s: no output_padding.
  CHECK(load_error("Conv1DTranspose", {{"filters", 2}, {"kernel_size", {3}}, {"strides", {2}},
                                       {"padding", "same"}, {"output_padding", {1}}},
                   {5, 2}, {{"kernel", random_weight({3, 2, 2})}, {"bias", random_weight({2})}}) ==
        at_node("config.output_padding[0]",
                "must be 0 with \"same\" padding (write explicit padding instead)", "Conv1DTranspose"));
  // Groups.
  CHECK(load_error("Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"groups", 3}}, {5, 6},
                   {{"kernel", random_weight({3, 2, 4})}, {"bias", random_weight({4})}}) ==
        at_node("config.groups", "groups 3 does not divide filters 4", "Conv1D"));
  CHECK(load_error("Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"groups", 4}}, {5, 6},
                   {{"kernel", random_weight({3, 1, 4})}, {"bias", random_weight({4})}}) ==
        at_node("config.groups", "groups 4 does not divide the 6 input channels", "Conv1D"));
  // Input rank.
  CHECK(load_error("Conv2D", {{"filters", 2}, {"kernel_size", {3, 3}}}, {5, 2},
                   {{"kernel", random_weight({3, 3, 2, 2})}, {"bias", random_weight({2})}}) ==
        at_node("inputs",
                "expected an input of per-sample rank 3 [height, width, channels] for Conv2D (channels_last), "
                "found shape [5, 2]",
                "Conv2D"));
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"data_format", "channels_first"}}, {5},
                   {{"kernel", random_weight({3, 5, 2})}, {"bias", random_weight({2})}}) ==
        at_node("inputs",
                "expected an input of per-sample rank 2 [channels, length] for Conv1D (channels_first), "
                "found shape [5]",
                "Conv1D"));
  // Weight shapes.
  CHECK(load_error("Conv2D", {{"filters", 4}, {"kernel_size", {3, 2}}, {"groups", 2}}, {5, 5, 6},
                   {{"kernel", random_weight({3, 2, 6, 4})}, {"bias", random_weight({4})}}) ==
        at_node("weights.kernel.shape",
                "expected [3, 2, 3, 4] (kernel_size..., input channels / groups, filters), found [3, 2, 6, 4]",
                "Conv2D"));
  CHECK(load_error("Conv1D", {{"filters", 4}, {"kernel_size", {3}}}, {5, 2},
                   {{"kernel", random_weight({3, 2, 4})}, {"bias", random_weight({3})}}) ==
        at_node("weights.bias.shape", "expected [4] (output channels), found [3]", "Conv1D"));
  CHECK(load_error("Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"use_bias", false}}, {5, 2},
                   {{"kernel", random_weight({3, 2, 4})}, {"bias", random_weight({4})}}) ==
        at_node("weights.bias", "unexpected bias: config.use_bias is false", "Conv1D"));
  CHECK(load_error("Conv1D", {{"filters", 4}, {"kernel_size", {3}}}, {5, 2}, {{"bias", random_weight({4})}}) ==
        at_node("weights.kernel",
                "missing weight, expected shape [3, 2, 4] (kernel_size..., input channels / groups, filters)",
                "Conv1D"));
  CHECK(load_error("DepthwiseConv1D", {{"kernel_size", {3}}, {"depth_multiplier", 2}}, {5, 3},
                   {{"kernel", random_weight({3, 3, 2})}, {"bias", random_weight({3})}}) ==
        at_node("weights.bias.shape", "expected [6] (output channels), found [3]", "DepthwiseConv1D"));
  CHECK(load_error("SeparableConv2D", {{"filters", 4}, {"kernel_size", {3, 3}}}, {5, 5, 3},
                   {{"depthwise_kernel", random_weight({3, 3, 3, 1})},
                    {"pointwise_kernel", random_weight({3, 4})},
                    {"bias", random_weight({4})}}) ==
        at_node("weights.pointwise_kernel.shape",
                "expected [1, 1, 3, 4] (1..., input channels * depth_multiplier, filters), found [3, 4]",
                "SeparableConv2D"));
  CHECK(load_error("Conv1DTranspose", {{"filters", 4}, {"kernel_size", {3}}}, {5, 2},
                   {{"kernel", random_weight({3, 2, 4})}, {"bias", random_weight({4})}}) ==
        at_node("weights.kernel.shape", "expected [3, 4, 2] (kernel_size..., filters, input channels), found [3, 2, 4]",
                "Conv1DTranspose"));
  CHECK(load_error("Conv1D", {{"filters", 4}, {"kernel_size", {3}}}, {5, 2},
                   {{"kernel", random_weight({3, 2, 4})}, {"bias", random_weight({4})},
                    {"depthwise_kernel", random_weight({3, 2, 1})}}) ==
        at_node("weights.depthwise_kernel", "unexpected weight (this layer takes: kernel, bias)", "Conv1D"));
  // Transposed convolutions.
  CHECK(load_error("Conv1DTranspose", {{"filters", 2}, {"kernel_size", {3}}, {"strides", {2}},
                                       {"output_padding", {2}}}, {5, 2}) ==
        at_node("config.output_padding[0]",
                "output_padding 2 must be smaller than the stride (2) or the dilation (1)", "Conv1DTranspose"));
  CHECK(load_error("Conv1DTranspose", {{"filters", 2}, {"kernel_size", {3}}, {"output_padding", {1}}}, {5, 2}) ==
        at_node("config.output_padding[0]",
                "output_padding 1 must be smaller than the stride (1) or the dilation (1)", "Conv1DTranspose"));
  CHECK(load_error("Conv2DTranspose", {{"filters", 2}, {"kernel_size", {2, 2}}, {"padding", {{0, 0}, {2, 1}}}},
                   {1, 2, 2}) ==
        at_node("config.padding",
                "padding 2 + 1 on spatial axis 1 removes the whole output (full length 3)", "Conv2DTranspose"));
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"output_padding", {0}}}, {5, 2}) ==
        "trignet: model.json: nodes[0].config.output_padding: unknown key (allowed here: filters, "
        "kernel_size, strides, dilation_rate, padding, groups, use_bias, activation, data_format)");
  // Activation axis against the output rank.
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"activation", {{"name", "softmax"}, {"axis", 2}}}},
                   {5, 2}) ==
        at_node("config.activation.axis", "axis 2 is out of range for per-sample rank 2 (valid: -2 .. 1)", "Conv1D"));
}

TEST_CASE("convolution config parsing is strict", "[conv][errors]") {
  const Weights w = {{"kernel", random_weight({3, 2, 2})}, {"bias", random_weight({2})}};
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {0}}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.kernel_size[0]: expected a positive integer, found 0");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", 3}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.kernel_size: expected an array, found the number 3");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"strides", {-1}}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.strides[0]: expected a positive integer, found -1");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"strides", {1.5}}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.strides[0]: expected an integer, found the number 1.5");
  CHECK(load_error("Conv1D", {{"kernel_size", {3}}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config: missing required key \"filters\"");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"padding", "full"}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.padding: expected \"valid\", \"same\" or [[before, after], ...], "
        "found the string \"full\"");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"padding", {{1, -1}}}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.padding[0][1]: expected a non-negative integer, found -1");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"padding", {1, 1}}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.padding[0]: expected a [before, after] pair of non-negative "
        "integers, found the number 1");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"data_format", "NHWC"}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.data_format: expected \"channels_last\" or \"channels_first\", "
        "found the string \"NHWC\"");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"groups", 0}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.groups: expected a positive integer, found 0");
  CHECK(load_error("Conv1D", {{"filters", 2}, {"kernel_size", {3}}, {"strides", {4294967296LL}}}, {5, 2}, w) ==
        "trignet: model.json: nodes[0].config.strides[0]: expected at most 2147483648, found 4294967296");
  CHECK(contains(load_error("DepthwiseConv1D", {{"kernel_size", {3}}, {"filters", 2}}, {5, 2}, w),
                 "nodes[0].config.filters: unknown key (allowed here: kernel_size, strides, dilation_rate, "
                 "padding, depth_multiplier, use_bias, activation, data_format)"));
}

TEST_CASE("pooling and resampling validation errors", "[conv][pooling][errors]") {
  CHECK(load_error("MaxPooling1D", {{"pool_size", {6}}}, {5, 2}) ==
        at_node("config.pool_size",
                "kernel 6 is larger than the padded input on spatial axis 0: length 5 + padding 0 + 0 = 5 "
                "(no output position)",
                "MaxPooling1D"));
  CHECK(load_error("MaxPooling2D", {{"pool_size", {2, 2}}, {"strides", {1}}}, {5, 5, 2}) ==
        at_node("config.strides", "expected 2 entries (one per spatial axis) for MaxPooling2D, found 1",
                "MaxPooling2D"));
  CHECK(load_error("MaxPooling1D", {{"pool_size", {2}}, {"padding", {{2, 0}}}}, {5, 2}) ==
        at_node("config.padding",
                "padding 2 + 0 on spatial axis 0 leaves a pooling window entirely in the padding "
                "(pool size 2, stride 2, input length 5)",
                "MaxPooling1D"));
  CHECK(load_error("AveragePooling1D", {{"pool_size", {2}}, {"strides", {1}}, {"padding", {{0, 2}}}}, {5, 2}) ==
        at_node("config.padding",
                "padding 0 + 2 on spatial axis 0 leaves a pooling window entirely in the padding "
                "(pool size 2, stride 1, input length 5)",
                "AveragePooling1D"));
  CHECK(load_error("MaxPooling1D", {{"pool_size", {2}}, {"count_include_pad", true}}, {5, 2}) ==
        "trignet: model.json: nodes[0].config.count_include_pad: unknown key (allowed here: pool_size, strides, "
        "padding, data_format)");
  CHECK(load_error("MaxPooling1D", {{"strides", {2}}}, {5, 2}) ==
        "trignet: model.json: nodes[0].config: missing required key \"pool_size\"");
  CHECK(load_error("GlobalAveragePooling2D", json::object(), {5, 2}) ==
        at_node("inputs",
                "expected an input of per-sample rank 3 [height, width, channels] for GlobalAveragePooling2D "
                "(channels_last), found shape [5, 2]",
                "GlobalAveragePooling2D"));
  CHECK(load_error("UpSampling2D", {{"size", {2}}}, {3, 3, 2}) ==
        at_node("config.size", "expected 2 entries (one per spatial axis) for UpSampling2D, found 1", "UpSampling2D"));
  CHECK(load_error("UpSampling1D", {{"size", {2}}, {"interpolation", "bilinear"}}, {3, 2}) ==
        "trignet: model.json: nodes[0].config.interpolation: unknown key (allowed here: size, data_format)");
  CHECK(load_error("Cropping1D", {{"cropping", {{2, 3}}}}, {5, 2}) ==
        at_node("config.cropping", "cropping 2 + 3 on spatial axis 0 leaves no cell of length 5", "Cropping1D"));
  CHECK(load_error("Cropping2D", {{"cropping", {{0, 0}, {1, 3}}}, {"data_format", "channels_first"}}, {2, 3, 4}) ==
        at_node("config.cropping", "cropping 1 + 3 on spatial axis 1 leaves no cell of length 4", "Cropping2D"));
  CHECK(load_error("ZeroPadding2D", {{"padding", {{1, 1}}}}, {3, 3, 2}) ==
        at_node("config.padding", "expected 2 [before, after] pairs (one per spatial axis) for ZeroPadding2D, found 1",
                "ZeroPadding2D"));
  CHECK(load_error("ZeroPadding1D", json::object(), {3, 2}) ==
        "trignet: model.json: nodes[0].config: missing required key \"padding\"");
  CHECK(load_error("MaxPooling1D", {{"pool_size", {2}}}, {5, 2}, {{"kernel", random_weight({2})}}) ==
        at_node("weights.kernel", "unexpected weight (this layer takes: none)", "MaxPooling1D"));
}

TEST_CASE("layer FLOPs of the issue's model", "[conv]") {
  const json cconf = {{"filters", 16}, {"kernel_size", {3}}};
  auto model = trignet::load_model_from_string<float>(
      model_json("Conv1D", cconf, {50, 8}, make_weights("Conv1D", cconf, {50, 8})).dump());
  // 48 positions x 16 filters x (2 * 3 * 8 MACs + 1 bias).
  CHECK(model->flops_per_sample() == 48.0 * 16 * (2 * 24 + 1));
}
