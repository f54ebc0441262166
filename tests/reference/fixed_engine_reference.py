#!/usr/bin/env python3
"""Independent reference for the fixed-point engine (include/trignet/fixed_engine/).

Evaluates small models from their precision description (docs/format.md,
"Fixed-point precision") with exact rational arithmetic (fractions.Fraction)
and the store semantics of tests/reference/fixed_reference.py; it shares no
code with the C++ engine. Lookup tables are built with the float32
expressions hls4ml uses, calling the C library's expf/tanhf/logf through
ctypes (the functions hls4ml's compiled tables use), with float32 rounding of
each intermediate emulated exactly.

It writes, per case, a model file tests/data/fixed_engine/NAME.json and the
expected raw outputs NAME.expected.json ({"inputs": ..., "raw": ..., "types":
...}); tests/test_fixed_engine.cpp runs each model with the engine and
compares every raw output.

  fixed_engine_reference.py           rewrite the fixtures
  fixed_engine_reference.py --check   exit 1 unless the files on disk are current
"""

import argparse
import ctypes
import ctypes.util
import json
import math
import pathlib
import random
import re
import struct
import sys
from fractions import Fraction

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fixed_reference import handle_overflow, quantize  # noqa: E402  (exact store semantics)

OUT_DIR = pathlib.Path(__file__).resolve().parents[1] / "data" / "fixed_engine"

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
for _name in ("expf", "tanhf"):
    getattr(_libm, _name).restype = ctypes.c_float
    getattr(_libm, _name).argtypes = [ctypes.c_float]
_libm.log.restype = ctypes.c_double
_libm.log.argtypes = [ctypes.c_double]


def f32(x):
    """Round a double (or an exact Fraction via its nearest double) to float32."""
    return struct.unpack("f", struct.pack("f", float(x)))[0]


# ---- types --------------------------------------------------------------------

class T:
    """A fixed-point type parsed from its ap_fixed spelling."""

    def __init__(self, text):
        m = re.fullmatch(r"\s*(?:ap_)?(u?)(fixed|int)\s*<([^>]*)>\s*", text)
        assert m, text
        args = [a.strip() for a in m.group(3).split(",")]
        self.text = text
        self.signed = m.group(1) == ""
        self.w = int(args[0])
        self.i = self.w if m.group(2) == "int" else int(args[1])
        self.q = args[2].replace("AP_", "") if len(args) > 2 else "TRN"
        self.o = args[3].replace("AP_", "") if len(args) > 3 else "WRAP"

    @property
    def f(self):
        return self.w - self.i

    def store(self, x):
        """Raw value of this type constructed from the exact value x."""
        y = Fraction(x) * Fraction(2) ** self.f
        return handle_overflow(quantize(y, self.q), self.w, self.signed, self.o)

    def value(self, raw):
        return Fraction(raw) * Fraction(2) ** (-self.f)


def cast(x, t):
    """The exact value x cast to t, as an exact value."""
    return t.value(t.store(x))


# ---- activations ----------------------------------------------------------------

def trunc0(x):
    return math.floor(x) if x >= 0 else math.ceil(x)


def table_index(x, n, range_):
    """int(x * N / (2R)) + N/2 clamped to [0, N-1] (docs/format.md)."""
    idx = trunc0(Fraction(x) * n / (2 * range_)) + n // 2
    return min(max(idx, 0), n - 1)


def table_entry(kind, k, n, table_t):
    r = 4 if kind == "tanh" else 8
    v = f32(2 * r * (k - f32(n) / 2.0) / f32(n))
    if kind == "sigmoid":
        y = f32(1.0 / f32(1 + _libm.expf(-v)))
    elif kind == "tanh":
        y = _libm.tanhf(v)
    elif kind == "softplus":
        y = f32(_libm.log(float(_libm.expf(v)) + 1.0))
    elif kind == "softsign":
        y = f32(v / (abs(v) + 1.0))
    else:
        raise ValueError(kind)
    return table_t.value(table_t.store(Fraction(y)))


def top_bits(x, t, nbits):
    raw = t.store(x)  # exact: x is a value of t
    return (raw % (2 ** t.w)) >> (t.w - nbits)


def from_top_bits(k, t, nbits):
    raw = k << (t.w - nbits)
    if t.signed and raw >= 2 ** (t.w - 1):
        raw -= 2 ** t.w
    return f32(t.value(raw))


def tree_sum(vals, accum):
    n = len(vals)
    if n == 1:
        return vals[0]
    if n == 2:
        return cast(vals[0] + vals[1], accum)
    left = 2 ** int(math.floor(math.log2(n - 1)))
    return cast(tree_sum(vals[:left], accum) + tree_sum(vals[left:], accum), accum)


def softmax_slice(xs, in_t, p):
    res = T(p["result"])
    impl = p.get("implementation", "stable")
    d18 = "ap_fixed<18,8,AP_RND,AP_SAT>"
    if impl == "argmax":
        best = max(range(len(xs)), key=lambda i: (xs[i], -i))
        return [cast(1 if i == best else 0, res) for i in range(len(xs))]
    size = p.get("table_size", 1024)
    ne, ni = p.get("exp_table_size", size), p.get("inv_table_size", size)
    if impl == "legacy":
        tt = T(p.get("table", "ap_fixed<18,8>"))
        out = []
        for i in range(len(xs)):
            acc = Fraction(0)
            for j in range(len(xs)):
                if i == j:
                    term = cast(1, tt)
                else:
                    k = min(max(trunc0((xs[j] - xs[i]) * ne / 16) + ne // 2, 0), ne - 1)
                    v = f32(2 * 8.0 * (k - f32(ne) / 2.0) / f32(ne))
                    term = cast(Fraction(_libm.expf(v)), tt)
                acc = cast(acc + term, tt)
            k = min(max(trunc0(acc * ni / 64), 0), ni - 1)
            v = f32(64.0 * k / f32(ni))
            inv = cast(Fraction(1.0 / v), tt) if v > 0 else Fraction(0)
            out.append(cast(inv, res))
        return out
    exp_t, inv_t = T(p.get("exp_table", d18)), T(p.get("inv_table", d18))
    acc_t = T(p.get("accum", d18))
    inv_in = T(p.get("inv_input", p.get("exp_table", d18)))
    scale = f32(p.get("exp_scale", 1.0))
    eb, ib = int(math.log2(ne)), int(math.log2(ni))
    if impl == "latency":
        idx_t, keys = in_t, xs
    else:
        idx_t = T(p["norm_input"]) if "norm_input" in p else T(
            "ap_ufixed<%d,%d>" % (in_t.w - in_t.signed, in_t.i - in_t.signed))
        m = max(xs)
        keys = [cast(m - x, idx_t) for x in xs]
    e = []
    for k in keys:
        v = f32(from_top_bits(top_bits(k, idx_t, eb), idx_t, eb) * scale)
        if impl == "stable":
            v = -v
        e.append(cast(cast(Fraction(_libm.expf(v)), exp_t), acc_t))
    s = cast(tree_sum(e, acc_t), inv_in)
    u = from_top_bits(top_bits(s, inv_in, ib), inv_in, ib)
    inv = cast(Fraction(f32(1 / u)) if u != 0 else Fraction(2) ** 1024, inv_t)
    return [cast(ei * inv, res) for ei in e]


def activation(x, shape, in_t, act, p):
    """x: exact values of in_t; returns (values, type)."""
    name = act if isinstance(act, str) else act["name"]
    res = T(p["result"])
    if name == "softmax":
        axis = (act.get("axis", -1) if isinstance(act, dict) else -1) % len(shape)
        outer = math.prod(shape[:axis])
        inner = math.prod(shape[axis + 1:])
        n = shape[axis]
        y = [None] * len(x)
        for o in range(outer):
            for k in range(inner):
                idx = [o * n * inner + j * inner + k for j in range(n)]
                for j, v in zip(idx, softmax_slice([x[j] for j in idx], in_t, p)):
                    y[j] = v
        return y, res
    out = []
    if name in ("sigmoid", "tanh", "softplus", "softsign"):
        n = p.get("table_size", 1024)
        table_t = T(p.get("table", "ap_fixed<18,8>"))
        r = 4 if name == "tanh" else 8
        cache = {}
        for v in x:
            k = table_index(v, n, r)
            if k not in cache:
                cache[k] = table_entry(name, k, n, table_t)
            out.append(cast(cache[k], res))
        return out, res
    for v in x:
        if name == "linear":
            y = v
        elif name == "relu":
            y = v if v > 0 else 0
        elif name == "relu6":
            y = 0 if v < 0 else (6 if v > 6 else v)
        elif name == "leaky_relu":
            alpha = cast(Fraction(act["alpha"]), T(p["param"]))
            y = v if v > 0 else alpha * v
        elif name == "hard_sigmoid":
            slope = cast(Fraction(act["slope"]), T(p.get("slope", "ap_ufixed<16,0>")))
            shift = cast(Fraction(act["offset"]), T(p.get("shift", "ap_ufixed<2,0>")))
            y = min(max(slope * v + shift, 0), 1)
        else:
            raise ValueError(name)
        out.append(cast(y, res))
    return out, res


# ---- layers ---------------------------------------------------------------------

def weights_of(node, name, t):
    p = node["precision"]
    if name in p.get("raw", {}):
        return [t.value(r) for r in p["raw"][name]]
    # Weights are float32 in the format: rounded to float32, then cast.
    return [cast(Fraction(f32(v)), t) for v in node["weights"][name]["data"]]


def mac(xs_ws, bias, in_t, w_t, acc_t, res_t):
    acc = cast(bias, acc_t)
    for xv, wv in xs_ws:
        acc = cast(acc + cast(xv * wv, acc_t), acc_t)
    return cast(acc, res_t)


def spatial(shape, fmt, rank):
    """(lengths [H, W] with H = 1 for 1D, channels, index function)."""
    if fmt == "channels_first":
        c, sp = shape[0], shape[1:]
    else:
        c, sp = shape[-1], shape[:-1]
    hw = [1, sp[0]] if rank == 1 else list(sp)

    def index(h, w, ch):
        if fmt == "channels_first":
            return ch * hw[0] * hw[1] + h * hw[1] + w
        return (h * hw[1] + w) * c + ch
    return hw, c, index


def windows(cfg, hw, rank, key):
    k = cfg[key] if rank == 2 else [1] + cfg[key]
    # Convolutions stride 1 by default, pooling by the pool size.
    s = cfg.get("strides", cfg[key] if key == "pool_size" else [1] * rank)
    s = s if rank == 2 else [1] + s
    d = cfg.get("dilation_rate", [1] * rank)
    d = d if rank == 2 else [1] + d
    pad = cfg.get("padding", "valid")
    before, out = [0, 0], [0, 0]
    for a in range(2):
        e = d[a] * (k[a] - 1) + 1
        if pad == "same":
            o = -(-hw[a] // s[a])
            total = max((o - 1) * s[a] + e - hw[a], 0)
            before[a] = total // 2
            out[a] = o
        else:
            pr = [0, 0] if pad == "valid" else (pad[a] if rank == 2 else ([0, 0] if a == 0 else pad[0]))
            before[a] = pr[0]
            out[a] = (hw[a] + pr[0] + pr[1] - e) // s[a] + 1
    return k, s, d, before, out


def conv(node, x, shape, in_t):
    cfg, p = node["config"], node["precision"]
    rank = 2 if node["type"] == "Conv2D" else 1
    fmt = cfg.get("data_format", "channels_last")
    hw, c, idx = spatial(shape, fmt, rank)
    k, s, d, before, out = windows(cfg, hw, rank, "kernel_size")
    f = cfg["filters"]
    w_t, acc_t, res_t = T(p["weight"]), T(p["accum"]), T(p["result"])
    kern = weights_of(node, "kernel", w_t)
    bias = weights_of(node, "bias", T(p["bias"])) if cfg.get("use_bias", True) else [0] * f
    oshape = ([f] if fmt == "channels_first" else []) + (out if rank == 2 else [out[1]]) + \
        ([] if fmt == "channels_first" else [f])
    _, _, oidx = spatial(oshape, fmt, rank)
    y = [None] * (out[0] * out[1] * f)
    for oh in range(out[0]):
        for ow in range(out[1]):
            for ff in range(f):
                terms = []
                for kh in range(k[0]):
                    for kw in range(k[1]):
                        ih, iw = oh * s[0] + kh * d[0] - before[0], ow * s[1] + kw * d[1] - before[1]
                        if not (0 <= ih < hw[0] and 0 <= iw < hw[1]):
                            continue
                        for ch in range(c):
                            terms.append((x[idx(ih, iw, ch)], kern[((kh * k[1] + kw) * c + ch) * f + ff]))
                y[oidx(oh, ow, ff)] = mac(terms, bias[ff], in_t, w_t, acc_t, res_t)
    return y, oshape, res_t


def pool(node, x, shape, in_t):
    cfg, p = node["config"], node["precision"]
    typ = node["type"]
    is_max = "Max" in typ
    rank = 2 if typ.endswith("2D") else 1
    fmt = cfg.get("data_format", "channels_last")
    hw, c, idx = spatial(shape, fmt, rank)
    if typ.startswith("Global"):
        k, s, before, out = hw, hw, [0, 0], [1, 1]
        count_pad = False
    else:
        k, s, _, before, out = windows(cfg, hw, rank, "pool_size")
        count_pad = cfg.get("count_include_pad", False)
    acc_t, res_t = T(p["accum"]), T(p["result"])
    pad_val = in_t.value(-(2 ** (in_t.w - 1)) if in_t.signed else 2 ** (in_t.w - 1))
    if typ.startswith("Global"):
        oshape = [c]
    else:
        oshape = ([c] if fmt == "channels_first" else []) + (out if rank == 2 else [out[1]]) + \
            ([] if fmt == "channels_first" else [c])
    _, _, oidx = spatial(oshape, fmt, rank) if not typ.startswith("Global") else (None, None, lambda h, w, ch: ch)
    y = [None] * (out[0] * out[1] * c)
    for oh in range(out[0]):
        for ow in range(out[1]):
            for ch in range(c):
                cells, overlap = [], 0
                for kh in range(k[0]):
                    for kw in range(k[1]):
                        ih, iw = oh * s[0] + kh - before[0], ow * s[1] + kw - before[1]
                        if 0 <= ih < hw[0] and 0 <= iw < hw[1]:
                            cells.append(x[idx(ih, iw, ch)])
                            overlap += 1
                        else:
                            cells.append(pad_val if is_max else Fraction(0))
                if is_max:
                    r = cast(max(cells), acc_t)
                else:
                    acc = Fraction(0)
                    for v in cells:
                        acc = cast(acc + v, acc_t)
                    n = k[0] * k[1] if count_pad else overlap
                    q = trunc0(acc * 2 ** acc_t.f / n)  # ap_fixed / unsigned: towards zero at the LSB
                    r = cast(acc_t.value(q), acc_t)
                y[oidx(oh, ow, ch)] = cast(r, res_t)
    return y, oshape, res_t


def batchnorm(node, x, shape, in_t):
    cfg, p = node["config"], node["precision"]
    wts = node["weights"]
    ch = len(wts["moving_mean"]["data"])
    axis = cfg.get("axis", -1) % len(shape)
    inner = math.prod(shape[axis + 1:])
    eps = f32(cfg["epsilon"])
    s_t, b_t, r_t = T(p["scale"]), T(p["bias"]), T(p["result"])
    if "raw" in p and "scale" in p["raw"]:
        scale = [s_t.value(v) for v in p["raw"]["scale"]]
    else:
        scale = []
        for i in range(ch):
            g = f32(wts["gamma"]["data"][i]) if "gamma" in wts else 1.0
            root = f32(math.sqrt(f32(f32(wts["moving_variance"]["data"][i]) + eps)))
            scale.append(f32(g / root))
    if "raw" in p and "bias" in p["raw"]:
        bias = [b_t.value(v) for v in p["raw"]["bias"]]
    else:
        bias = []
        for i in range(ch):
            beta = f32(wts["beta"]["data"][i]) if "beta" in wts else 0.0
            bias.append(f32(beta - f32(scale[i] * f32(wts["moving_mean"]["data"][i]))))
        bias = [cast(Fraction(b), b_t) for b in bias]
    if not ("raw" in p and "scale" in p["raw"]):
        scale = [cast(Fraction(v), s_t) for v in scale]
    return [cast(x[j] * scale[(j // inner) % ch] + bias[(j // inner) % ch], r_t) for j in range(len(x))], r_t


def evaluate(model, inputs):
    """inputs: {name: flat list of float32 values} -> {output: (raw list, type)}."""
    vals = {}
    for inp in model["inputs"]:
        spec = model["fixed_point"]["inputs"][inp["name"]]
        t = T(spec["type"])
        off, sh = spec.get("offset", 0.0), spec.get("shift", 0)
        xs = []
        for v in inputs[inp["name"]]:
            d = (f32(v) - off) * 2.0 ** sh  # a float32 input; double arithmetic, as documented
            xs.append(cast(Fraction(d), t))
        vals[inp["name"]] = (xs, list(inp["shape"]), t)
    pending = list(model["nodes"])
    while pending:
        for node in pending:
            if all(i in vals for i in node["inputs"]):
                break
        pending.remove(node)
        x, shape, t = vals[node["inputs"][0]]
        typ, cfg, p = node["type"], node.get("config", {}), node.get("precision", {})
        if typ == "Dense":
            w_t, acc_t, res_t = T(p["weight"]), T(p["accum"]), T(p["result"])
            units = cfg["units"]
            kern = weights_of(node, "kernel", w_t)
            bias = weights_of(node, "bias", T(p["bias"])) if cfg.get("use_bias", True) else [0] * units
            nin = shape[-1]
            y = []
            for r in range(len(x) // nin):
                row = x[r * nin:(r + 1) * nin]
                y += [mac([(row[i], kern[i * units + j]) for i in range(nin)], bias[j], t, w_t, acc_t, res_t)
                      for j in range(units)]
            shape, t, x = shape[:-1] + [units], res_t, y
            act = cfg.get("activation", "linear")
            if act != "linear":
                x, t = activation(x, shape, t, act, p["activation"])
        elif typ in ("Conv1D", "Conv2D"):
            x, shape, t = conv(node, x, shape, t)
            act = cfg.get("activation", "linear")
            if act != "linear":
                x, t = activation(x, shape, t, act, p["activation"])
        elif typ == "Activation":
            x, t = activation(x, shape, t, cfg["activation"], p)
        elif typ == "BatchNormalization":
            x, t = batchnorm(node, x, shape, t)
        elif "Pooling" in typ:
            x, shape, t = pool(node, x, shape, t)
        elif typ in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
            b = vals[node["inputs"][1]][0]
            res = T(p["result"])
            op = {"Add": lambda u, v: u + v, "Subtract": lambda u, v: u - v, "Multiply": lambda u, v: u * v,
                  "Average": lambda u, v: (u + v) / 2, "Maximum": lambda u, v: u if u > v else v,
                  "Minimum": lambda u, v: u if u < v else v}[typ]
            x, t = [cast(op(u, v), res) for u, v in zip(x, b)], res
        elif typ == "Concatenate":
            res = T(p["result"])
            parts = [vals[n] for n in node["inputs"]]
            axis = cfg.get("axis", -1) % len(shape)
            outer = math.prod(shape[:axis])
            y = []
            for o in range(outer):
                for px, ps, _ in parts:
                    blk = len(px) // outer
                    y += [cast(v, res) for v in px[o * blk:(o + 1) * blk]]
            shape = list(shape)
            shape[axis] = sum(ps[axis] for _, ps, _ in parts)
            x, t = y, res
        elif typ[:-2] in ("ZeroPadding", "Cropping", "UpSampling"):
            rank = int(typ[-2])
            fmt = cfg.get("data_format", "channels_last")
            hw, c, idx = spatial(shape, fmt, rank)
            if typ.startswith("UpSampling"):
                size = cfg["size"] if rank == 2 else [1] + cfg["size"]
                out_hw = [hw[0] * size[0], hw[1] * size[1]]
                src = lambda h, w: (h // size[0], w // size[1])  # noqa: E731
            else:
                pairs = cfg["padding" if typ.startswith("Zero") else "cropping"]
                pairs = pairs if rank == 2 else [[0, 0]] + pairs
                sign = 1 if typ.startswith("Zero") else -1
                out_hw = [hw[a] + sign * (pairs[a][0] + pairs[a][1]) for a in range(2)]
                src = lambda h, w: (h - sign * pairs[0][0], w - sign * pairs[1][0])  # noqa: E731
            oshape = ([c] if fmt == "channels_first" else []) + (out_hw if rank == 2 else [out_hw[1]]) + \
                ([] if fmt == "channels_first" else [c])
            _, _, oidx = spatial(oshape, fmt, rank)
            y = [None] * (out_hw[0] * out_hw[1] * c)
            for h in range(out_hw[0]):
                for w in range(out_hw[1]):
                    ih, iw = src(h, w)
                    for ch in range(c):
                        inside = 0 <= ih < hw[0] and 0 <= iw < hw[1]
                        y[oidx(h, w, ch)] = x[idx(ih, iw, ch)] if inside else Fraction(0)
            x, shape = y, oshape
            if "result" in p:
                t2 = T(p["result"])
                x, t = [cast(v, t2) for v in x], t2
        elif typ in ("Flatten", "Reshape", "Dropout", "Permute"):
            if typ == "Flatten":
                shape = [len(x)]
            elif typ == "Reshape":
                shape = list(cfg["shape"])
            elif typ == "Permute":
                dims = cfg["dims"]
                nshape = [shape[dd] for dd in dims]
                strides = [math.prod(shape[a + 1:]) for a in range(len(shape))]
                y = []
                for k in range(len(x)):
                    rem, src = k, 0
                    for a in range(len(nshape)):
                        sub = math.prod(nshape[a + 1:])
                        src += (rem // sub) * strides[dims[a]]
                        rem %= sub
                    y.append(x[src])
                x, shape = y, nshape
            if "result" in p:
                t2 = T(p["result"])
                x, t = [cast(v, t2) for v in x], t2
        else:
            raise ValueError(typ)
        vals[node["name"]] = (x, shape, t)
    out = {}
    for o in model["outputs"]:
        x, _, t = vals[o["node"]]
        out[o["name"]] = ([t.store(v) for v in x], t)
    return out


# ---- the cases ------------------------------------------------------------------

def rnd_weights(rng, n, scale=1.0):
    return [float("%.9g" % f32(rng.uniform(-scale, scale))) for _ in range(n)]


def model(name, inputs, outputs, nodes, fixed_inputs):
    return {"format": "trignet", "format_version": 1, "name": name,
            "inputs": inputs, "outputs": outputs, "nodes": nodes,
            "fixed_point": {"inputs": fixed_inputs}}


def dense(name, inp, nin, units, rng, prec, activation="linear", use_bias=True, wscale=1.0):
    node = {"name": name, "type": "Dense", "inputs": [inp],
            "config": {"units": units, "activation": activation, "use_bias": use_bias},
            "weights": {"kernel": {"shape": [nin, units], "data": rnd_weights(rng, nin * units, wscale)}},
            "precision": prec}
    if use_bias:
        node["weights"]["bias"] = {"shape": [units], "data": rnd_weights(rng, units, wscale)}
    return node


def cases():
    rng = random.Random(20261128)
    out = []

    # 1. A jet-tagger-like MLP: 6-bit weights, saturating rounded accumulators, softmax.
    out.append(("mlp_softmax", model(
        "mlp_softmax", [{"name": "x", "shape": [8]}], [{"name": "p", "node": "d3"}],
        [dense("d1", "x", 8, 12, rng, {"weight": "ap_fixed<6,1,AP_RND_CONV,AP_SAT>", "bias": "ap_fixed<6,1>",
                                         "accum": "ap_fixed<14,6,AP_RND,AP_SAT>", "result": "ap_fixed<12,5>",
                                         "activation": {"result": "ap_ufixed<6,2,AP_RND,AP_SAT>"}}, "relu"),
         dense("d2", "d1", 12, 10, rng, {"weight": "ap_fixed<6,1>", "bias": "ap_fixed<6,1>",
                                          "accum": "ap_fixed<16,6>", "result": "ap_fixed<10,4,AP_RND_CONV,AP_SAT_SYM>",
                                          "activation": {"result": "ap_fixed<8,1,AP_RND,AP_SAT>", "table_size": 512,
                                                         "table": "ap_fixed<10,1,AP_RND,AP_SAT>"}}, "tanh"),
         dense("d3", "d2", 10, 5, rng, {"weight": "ap_fixed<8,2,AP_RND,AP_SAT>", "bias": "ap_fixed<8,2>",
                                         "accum": "ap_fixed<18,8>", "result": "ap_fixed<16,6>",
                                         "activation": {"result": "ap_ufixed<10,0,AP_RND,AP_SAT>",
                                                        "implementation": "stable"}}, "softmax")],
        {"x": {"type": "ap_fixed<12,5,AP_RND,AP_SAT>"}}), [8], 8.0))

    # 2. Every element-wise activation, each after a linear cast, in one graph.
    acts = [("a_sig", "sigmoid", {"result": "ap_ufixed<10,0,AP_RND,AP_SAT>"}),
            ("a_tanh", "tanh", {"result": "ap_fixed<10,1,AP_TRN_ZERO,AP_SAT_SYM>", "table_size": 256}),
            ("a_splus", "softplus", {"result": "ap_ufixed<12,5>"}),
            ("a_ssign", "softsign", {"result": "ap_fixed<9,1,AP_RND_INF,AP_SAT>", "table_size": 2048,
                                     "table": "ap_fixed<12,2,AP_RND_MIN_INF>"}),
            ("a_relu6", "relu6", {"result": "ap_ufixed<7,3,AP_RND_ZERO,AP_SAT>"}),
            ("a_leaky", {"name": "leaky_relu", "alpha": 0.3}, {"result": "ap_fixed<12,5,AP_RND>",
                                                               "param": "ap_fixed<8,1,AP_RND>"}),
            ("a_hsig", {"name": "hard_sigmoid", "slope": 0.2, "offset": 0.5},
             {"result": "ap_ufixed<8,1,AP_RND,AP_SAT>"}),
            ("a_lin", "linear", {"result": "ap_fixed<6,3,AP_RND_CONV,AP_WRAP>"})]
    nodes = [{"name": n, "type": "Activation", "inputs": ["x"], "config": {"activation": a}, "precision": p}
             for n, a, p in acts]
    nodes.append({"name": "cat", "type": "Concatenate", "inputs": [n for n, _, _ in acts],
                  "config": {"axis": -1}, "precision": {"result": "ap_fixed<24,8>"}})
    out.append(("activations", model(
        "activations", [{"name": "x", "shape": [2, 6]}], [{"name": "y", "node": "cat"}],
        nodes, {"x": {"type": "ap_fixed<14,5,AP_RND_CONV,AP_SAT>"}}), [2, 6], 12.0))

    # 3. Softmax implementations, along axis 0 of [4, 3] and the last axis.
    sm = []
    for impl, extra in (("latency", {"exp_table_size": 512, "inv_table_size": 256,
                                     "exp_table": "ap_fixed<16,6,AP_RND,AP_SAT>",
                                     "accum": "ap_fixed<16,6,AP_RND,AP_SAT>", "exp_scale": 1.0}),
                        ("stable", {"norm_input": "ap_ufixed<8,4>", "exp_table_size": 256,
                                    "inv_table": "ap_ufixed<12,4,AP_RND,AP_SAT>"}),
                        ("legacy", {"table": "ap_fixed<14,6>", "exp_table_size": 1024, "inv_table_size": 2048}),
                        ("argmax", {})):
        prec = {"result": "ap_ufixed<10,1,AP_RND,AP_SAT>", "implementation": impl}
        prec.update(extra)
        sm.append({"name": "sm_" + impl, "type": "Activation", "inputs": ["x"],
                   "config": {"activation": {"name": "softmax", "axis": 0 if impl in ("stable", "argmax") else -1}},
                   "precision": prec})
    out.append(("softmax", model(
        "softmax", [{"name": "x", "shape": [4, 3]}],
        [{"name": "y_" + n["name"][3:], "node": n["name"]} for n in sm], sm,
        {"x": {"type": "ap_fixed<10,4,AP_RND,AP_SAT>"}}), [4, 3], 9.0))

    # 4. CICADA-like CNN: Conv2D stride 2 "same", max pooling, batch norm, dense.
    conv_node = {"name": "c1", "type": "Conv2D", "inputs": ["img"],
                 "config": {"filters": 3, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                            "activation": "relu"},
                 "weights": {"kernel": {"shape": [3, 3, 2, 3], "data": rnd_weights(rng, 54)},
                             "bias": {"shape": [3], "data": rnd_weights(rng, 3)}},
                 "precision": {"weight": "ap_fixed<8,1,AP_RND,AP_SAT>", "bias": "ap_fixed<8,2>",
                               "accum": "ap_fixed<12,6,AP_RND,AP_SAT>", "result": "ap_fixed<12,6>",
                               "activation": {"result": "ap_ufixed<8,4,AP_RND,AP_SAT>"}}}
    bn = {"name": "bn", "type": "BatchNormalization", "inputs": ["mp"], "config": {"epsilon": 0.001},
          "weights": {k: {"shape": [3], "data": v} for k, v in (
              ("gamma", rnd_weights(rng, 3, 2.0)), ("beta", rnd_weights(rng, 3)),
              ("moving_mean", rnd_weights(rng, 3)),
              ("moving_variance", [abs(v) + 0.1 for v in rnd_weights(rng, 3)]))},
          "precision": {"scale": "ap_fixed<10,3,AP_RND>", "bias": "ap_fixed<10,3>", "result": "ap_fixed<12,5,AP_RND,AP_SAT>"}}
    nodes = [conv_node,
             {"name": "mp", "type": "MaxPooling2D", "inputs": ["c1"], "config": {"pool_size": [2, 2], "padding": "same"},
              "precision": {"accum": "ap_fixed<10,5>", "result": "ap_fixed<9,5,AP_RND,AP_SAT>"}},
             bn,
             {"name": "fl", "type": "Flatten", "inputs": ["bn"]},
             dense("d", "fl", 12, 2, rng, {"weight": "ap_fixed<6,1>", "bias": "ap_fixed<6,1>",
                                           "accum": "ap_fixed<16,7>", "result": "ap_fixed<12,6>",
                                           "activation": {"result": "ap_ufixed<8,0,AP_RND,AP_SAT>"}}, "sigmoid")]
    out.append(("cnn2d", model(
        "cnn2d", [{"name": "img", "shape": [7, 6, 2]}], [{"name": "score", "node": "d"}], nodes,
        {"img": {"type": "ap_ufixed<10,6,AP_RND,AP_SAT>", "offset": 0.5, "shift": -1}}), [7, 6, 2], 40.0))

    # 5. Conv1D channels-first, dilation, explicit padding, average pooling, global pooling, raw weights.
    k = rnd_weights(rng, 3 * 2 * 4)
    kt = "ap_fixed<7,2,AP_RND_CONV,AP_SAT>"
    raw_k = [T(kt).store(Fraction(v) * 3) for v in k]
    nodes = [{"name": "c", "type": "Conv1D", "inputs": ["s"],
              "config": {"filters": 4, "kernel_size": [3], "dilation_rate": [2], "padding": [[1, 2]],
                         "data_format": "channels_first"},
              "weights": {"kernel": {"shape": [3, 2, 4], "data": k}, "bias": {"shape": [4], "data": rnd_weights(rng, 4)}},
              "precision": {"weight": kt, "bias": "ap_fixed<7,2>", "accum": "ap_fixed<13,5,AP_TRN_ZERO,AP_SAT_SYM>",
                            "result": "ap_fixed<10,4>", "raw": {"kernel": raw_k}}},
             {"name": "ap", "type": "AveragePooling1D", "inputs": ["c"],
              "config": {"pool_size": [3], "strides": [2], "padding": "same", "data_format": "channels_first"},
              "precision": {"accum": "ap_fixed<12,5,AP_RND,AP_SAT>", "result": "ap_fixed<10,4,AP_RND_CONV>"}},
             {"name": "apc", "type": "AveragePooling1D", "inputs": ["c"],
              "config": {"pool_size": [2], "padding": [[1, 0]], "count_include_pad": True,
                         "data_format": "channels_first"},
              "precision": {"accum": "ap_fixed<12,5>", "result": "ap_fixed<10,4>"}},
             {"name": "gmax", "type": "GlobalMaxPooling1D", "inputs": ["c"], "config": {"data_format": "channels_first"},
              "precision": {"accum": "ap_fixed<10,4>", "result": "ap_fixed<8,3,AP_RND,AP_SAT>"}},
             {"name": "gavg", "type": "GlobalAveragePooling1D", "inputs": ["c"], "config": {"data_format": "channels_first"},
              "precision": {"accum": "ap_fixed<14,6>", "result": "ap_fixed<10,4,AP_RND>"}}]
    out.append(("conv1d_pool", model(
        "conv1d_pool", [{"name": "s", "shape": [2, 9]}],
        [{"name": n, "node": n} for n in ("ap", "apc", "gmax", "gavg")], nodes,
        {"s": {"type": "ap_fixed<8,3,AP_RND,AP_SAT>"}}), [2, 9], 6.0))

    # 6. Two inputs, two heads: merges, reshape, permute.
    p1 = {"weight": "ap_fixed<8,2,AP_RND>", "bias": "ap_fixed<8,2>", "accum": "ap_fixed<16,6>", "result": "ap_fixed<10,4>"}
    nodes = [dense("da", "a", 4, 6, rng, p1), dense("db", "b", 3, 6, rng, dict(p1, result="ap_ufixed<9,3,AP_RND,AP_SAT>")),
             {"name": "add", "type": "Add", "inputs": ["da", "db"], "precision": {"result": "ap_fixed<10,4,AP_RND,AP_SAT>"}},
             {"name": "sub", "type": "Subtract", "inputs": ["da", "db"], "precision": {"result": "ap_fixed<9,4,AP_RND_CONV,AP_SAT>"}},
             {"name": "mul", "type": "Multiply", "inputs": ["da", "db"], "precision": {"result": "ap_fixed<12,6,AP_RND_ZERO,AP_SAT_SYM>"}},
             {"name": "avg", "type": "Average", "inputs": ["da", "db"], "precision": {"result": "ap_fixed<8,3,AP_RND,AP_WRAP>"}},
             {"name": "max", "type": "Maximum", "inputs": ["da", "db"], "precision": {"result": "ap_fixed<8,3,AP_RND,AP_SAT>"}},
             {"name": "min", "type": "Minimum", "inputs": ["da", "db"], "precision": {"result": "ap_fixed<8,3>"}},
             {"name": "cat", "type": "Concatenate", "inputs": ["add", "sub", "mul"], "config": {"axis": 0},
              "precision": {"result": "ap_fixed<12,6>"}},
             {"name": "rs", "type": "Reshape", "inputs": ["cat"], "config": {"shape": [3, 6]}},
             {"name": "pm", "type": "Permute", "inputs": ["rs"], "config": {"dims": [1, 0]}},
             {"name": "head1", "type": "Dense", "inputs": ["pm"], "config": {"units": 2, "use_bias": False},
              "weights": {"kernel": {"shape": [3, 2], "data": rnd_weights(rng, 6)}},
              "precision": {"weight": "ap_fixed<6,1>", "accum": "ap_fixed<14,6,AP_RND,AP_SAT>", "result": "ap_fixed<10,5>"}},
             {"name": "cat2", "type": "Concatenate", "inputs": ["avg", "max", "min"],
              "precision": {"result": "ap_fixed<8,3>"}},
             {"name": "fl", "type": "Flatten", "inputs": ["cat2"], "precision": {"result": "ap_fixed<7,2,AP_RND,AP_SAT>"}}]
    out.append(("merges", model(
        "merges", [{"name": "a", "shape": [4]}, {"name": "b", "shape": [3]}],
        [{"name": "head1", "node": "head1"}, {"name": "head2", "node": "fl"}], nodes,
        {"a": {"type": "ap_fixed<10,4,AP_RND,AP_SAT>"}, "b": {"type": "ap_fixed<9,3>", "offset": -0.25}}),
        {"a": [4], "b": [3]}, 10.0))

    # 7. Padding, cropping and up-sampling (2D channels-last, 1D channels-first).
    nodes = [{"name": "zp", "type": "ZeroPadding2D", "inputs": ["g"], "config": {"padding": [[1, 0], [2, 1]]}},
             {"name": "cr", "type": "Cropping2D", "inputs": ["zp"], "config": {"cropping": [[0, 1], [1, 1]]},
              "precision": {"result": "ap_fixed<6,2,AP_RND,AP_SAT>"}},
             {"name": "us", "type": "UpSampling2D", "inputs": ["cr"], "config": {"size": [2, 1]}},
             {"name": "zp1", "type": "ZeroPadding1D", "inputs": ["h"],
              "config": {"padding": [[2, 1]], "data_format": "channels_first"}},
             {"name": "us1", "type": "UpSampling1D", "inputs": ["zp1"],
              "config": {"size": [3], "data_format": "channels_first"}, "precision": {"result": "ap_ufixed<5,2>"}}]
    out.append(("spatial_moves", model(
        "spatial_moves", [{"name": "g", "shape": [4, 5, 2]}, {"name": "h", "shape": [2, 3]}],
        [{"name": "us", "node": "us"}, {"name": "us1", "node": "us1"}], nodes,
        {"g": {"type": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"}, "h": {"type": "ap_fixed<8,3>"}}),
        {"g": [4, 5, 2], "h": [2, 3]}, 5.0))

    # 8. Wide types: 128-bit products, 64-bit accumulators and results (wrapping and saturating).
    nodes = [dense("w1", "x", 5, 4, rng, {"weight": "ap_fixed<32,4,AP_RND>", "bias": "ap_fixed<40,10>",
                                          "accum": "ap_fixed<64,20>", "result": "ap_fixed<64,24,AP_RND_CONV,AP_SAT>"}),
             dense("w2", "w1", 4, 3, rng, {"weight": "ap_fixed<30,2,AP_RND_CONV,AP_SAT>", "bias": "ap_fixed<24,4>",
                                           "accum": "ap_fixed<60,12,AP_RND_INF,AP_SAT>",
                                           "result": "ap_ufixed<63,13,AP_RND,AP_SAT>"}),
             dense("w3", "x", 5, 2, rng, {"weight": "ap_fixed<64,8>", "bias": "ap_fixed<64,8>",
                                          "accum": "ap_fixed<64,30,AP_TRN,AP_WRAP>", "result": "ap_fixed<48,16>"})]
    out.append(("wide_types", model(
        "wide_types", [{"name": "x", "shape": [5]}], [{"name": "y2", "node": "w2"}, {"name": "y3", "node": "w3"}],
        nodes, {"x": {"type": "ap_fixed<40,12,AP_RND,AP_SAT>"}}), [5], 3000.0))
    return out


def make_inputs(rng, model_, shapes, amplitude, n=24):
    """n samples per input: uniform over +-amplitude (saturating the input types), plus zeros and edges."""
    if not isinstance(shapes, dict):
        shapes = {model_["inputs"][0]["name"]: shapes}
    batches = {}
    for name, shape in shapes.items():
        size = math.prod(shape)
        samples = []
        for s in range(n):
            if s == 0:
                vals = [0.0] * size
            elif s == 1:
                vals = [amplitude * (1 if i % 2 else -1) for i in range(size)]
            else:
                vals = [rng.uniform(-amplitude, amplitude) for _ in range(size)]
            samples.append([float("%.9g" % f32(v)) for v in vals])
        batches[name] = samples
    return batches


def nest(flat, shape):
    if len(shape) == 1:
        return list(flat)
    step = math.prod(shape[1:])
    return [nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def build():
    rng = random.Random(7)
    files = {}
    for name, m, shapes, amp in cases():
        batches = make_inputs(rng, m, shapes, amp)
        shape_of = {i["name"]: i["shape"] for i in m["inputs"]}
        n = len(next(iter(batches.values())))
        raws, types = {}, {}
        for s in range(n):
            res = evaluate(m, {k: v[s] for k, v in batches.items()})
            for oname, (raw, t) in res.items():
                raws.setdefault(oname, []).append(raw)
                types[oname] = t.text
        inputs = {k: [nest(v, shape_of[k]) for v in vs] for k, vs in batches.items()}
        files[name + ".json"] = json.dumps(m, indent=1) + "\n"
        files[name + ".expected.json"] = json.dumps({"inputs": inputs, "raw": raws, "types": types}) + "\n"
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the files instead of writing")
    args = parser.parse_args()
    files = build()
    if args.check:
        stale = [n for n, text in files.items()
                 if not (OUT_DIR / n).exists() or (OUT_DIR / n).read_text() != text]
        extra = [p.name for p in OUT_DIR.glob("*.json") if p.name not in files]
        if stale or extra:
            print("fixed-engine fixtures are not current: %s; run %s" % (", ".join(stale + extra), sys.argv[0]))
            return 1
        print("fixed-engine fixtures are current (%d files)" % len(files))
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for n, text in files.items():
        (OUT_DIR / n).write_text(text)
    print("wrote %d files to %s" % (len(files), OUT_DIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
