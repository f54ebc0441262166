"""An independent Python evaluation of a trignet model file in fixed point,
written from docs/format.md ("Fixed-point precision") with integer numpy
arithmetic: every tensor is an int64 array of raw values plus its type.

It covers what the six models use (Dense, Conv1D and Conv2D with channels_last,
valid padding or same with stride 1, Flatten, relu, relu6, leaky_relu, sigmoid,
tanh, softplus and softsign tables, softmax latency/stable/legacy,
BatchNormalization, Max/AveragePooling2D, MaxPooling1D, GlobalAveragePooling1D,
Multiply, Add, Subtract, Average, Maximum, Minimum, Concatenate) and serves as a
third opinion when trignet's engine and hls4ml disagree: if this reference
agrees with hls4ml, the difference is in the engine; if it agrees with the
engine, in the converter's description or in hls4ml. Table functions are
evaluated with the C library's expf (as hls4ml's C++ does), through ctypes.
"""

import ctypes
import ctypes.util

import numpy as np

from trignet_convert.precision import parse_type

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_libm.expf.restype = ctypes.c_float
_libm.expf.argtypes = [ctypes.c_float]


_libm.log.restype = ctypes.c_double
_libm.log.argtypes = [ctypes.c_double]
_libm.tanhf.restype = ctypes.c_float
_libm.tanhf.argtypes = [ctypes.c_float]


def expf(v):
    return np.float32(_libm.expf(float(np.float32(v))))


def tanhf(v):
    return np.float32(_libm.tanhf(float(np.float32(v))))


def cast(r, f, t):
    """Raw integers r with f fractional bits, cast into FixedType t (ap_fixed rules)."""
    r = np.asarray(r, np.int64)
    d = f - t.fractional
    if d > 0:
        fl = r >> d
        rem = r - (fl << d)
        half = np.int64(1) << (d - 1)
        q = t.rounding
        neg = r < 0
        if q == "TRN":
            n = fl
        elif q == "TRN_ZERO":
            n = fl + ((rem != 0) & neg)
        elif q == "RND":
            n = fl + (rem >= half)
        elif q == "RND_MIN_INF":
            n = fl + (rem > half)
        elif q == "RND_ZERO":
            n = fl + ((rem > half) | ((rem == half) & neg))
        elif q == "RND_INF":
            n = fl + ((rem > half) | ((rem == half) & ~neg))
        else:  # RND_CONV
            n = fl + ((rem > half) | ((rem == half) & ((fl & 1) == 1)))
    else:
        n = r << (-d)
    lo, hi = t.raw_range()
    over = (n < lo) | (n > hi)
    if over.any():
        if t.saturation == "WRAP":
            m = np.int64(1) << np.int64(t.width)
            w = np.mod(n, m)
            if t.signed:
                w = np.where(w > hi, w - m, w)
            n = np.where(over, w, n)
        elif t.saturation == "SAT_ZERO":
            n = np.where(over, 0, n)
        else:
            n = np.clip(n, lo, hi)
    if t.saturation == "SAT_SYM" and t.signed and t.width > 1:
        n = np.where(n == lo, lo + 1, n)
    return n.astype(np.int64)


def from_float(x, t):
    """ap_fixed(x) for float values (exact: scaling by 2^F is exact in double)."""
    return t.quantize_raw(np.asarray(x, np.float64))


def _bits(r, t):
    return np.asarray(r, np.int64) & ((np.int64(1) << t.width) - 1)


def _top_index(r, t, n_entries):
    nb = int(np.ceil(np.log2(n_entries)))
    return (_bits(r, t) >> (t.width - nb)).astype(np.int64)


def _value_from_top(k, t, n_entries):
    """float(value of type t whose top log2(n) bits are k and the others 0)."""
    nb = int(np.ceil(np.log2(n_entries)))
    raw = np.int64(k) << (t.width - nb)
    if t.signed and raw >= (1 << (t.width - 1)):
        raw -= 1 << t.width
    return np.float32(float(raw) * 2.0 ** -t.fractional)


def _table_activation(r, t, p, name):
    n = int(p.get("table_size", 1024))
    tt = parse_type(p.get("table", "ap_fixed<18,8>"))
    rng = 8.0 if name in ("sigmoid", "softplus", "softsign") else 4.0   # table ranges [-R, R)
    table = np.zeros(n, np.int64)
    for ii in range(n):
        v = np.float32(2 * rng * (ii - float(n) / 2.0) / float(n))
        if name == "sigmoid":
            y = np.float32(1.0 / float(np.float32(1) + expf(-v)))
        elif name == "tanh":
            y = tanhf(v)
        elif name == "softplus":      # hls4ml: std::log(std::exp(float) + 1.) in double, returned as float
            y = np.float32(_libm.log(float(expf(v)) + 1.0))
        elif name == "softsign":      # input / (std::abs(input) + 1.) in double, returned as float
            y = np.float32(float(v) / (abs(float(v)) + 1.0))
        else:
            raise NotImplementedError(name)
        table[ii] = from_float(y, tt)
    # index = int(x * N / (2R)) + R*N/(2R), the quotient truncated towards zero
    q = r * n
    den = np.int64(int(2 * rng)) << np.int64(t.fractional) if t.fractional >= 0 else None
    idx = np.sign(q) * (np.abs(q) // den) + int(rng * n / (2 * rng))
    idx = np.clip(idx, 0, n - 1)
    return cast(table[idx], tt.fractional, parse_type(p["result"])), parse_type(p["result"])


def _reduce_add(xs, t):
    """hls4ml's balanced-tree reduce with Op_add<t>: every sum cast to t."""
    n = len(xs)
    if n == 1:
        return xs[0]
    if n == 2:
        return cast(xs[0] + xs[1], t.fractional, t)
    left = 1 << int(np.floor(np.log2(n - 1))) if n > 1 else 0
    return cast(_reduce_add(xs[:left], t) + _reduce_add(xs[left:], t), t.fractional, t)


def _softmax_legacy(r, t, p, res_t, n_exp, n_inv):
    """hls4ml's softmax_legacy: exp_res[i] = sum_j table(x_j - x_i) in table_t, result
    = invert_table[int(exp_res * N_inv / 64)] (the tables over [-8, 8) and [0, 64))."""
    tt = parse_type(p.get("table", "ap_fixed<18,8>"))
    exp_table = np.array([from_float(expf(np.float32(2 * 8.0 * (ii - float(n_exp) / 2.0) / float(n_exp))), tt)
                          for ii in range(n_exp)], np.int64)
    inv = []
    for ii in range(n_inv):
        v = np.float32(64.0 * ii / float(n_inv))
        inv.append(int(from_float(1.0 / float(v), tt)) if v > 0 else 0)   # 1.0 / float: double, then table_t
    inv = np.array(inv, np.int64)
    one = cast(np.int64(1), 0, tt)
    n = r.shape[-1]
    out = np.zeros_like(r)
    for i in range(n):
        acc = np.zeros(r.shape[:-1], np.int64)
        for j in range(n):
            if i == j:
                e = np.full(r.shape[:-1], one, np.int64)
            else:
                q = (r[..., j] - r[..., i]) * n_exp          # (x_j - x_i) * N / 16, truncated towards zero
                den = np.int64(16) << np.int64(t.fractional)
                idx = np.clip(np.sign(q) * (np.abs(q) // den) + 8 * n_exp // 16, 0, n_exp - 1)
                e = exp_table[idx]
            acc = cast(acc + e, tt.fractional, tt)
        q = acc * n_inv                                      # int(exp_res * N / 64)
        den = np.int64(64) << np.int64(tt.fractional)
        idx = np.clip(np.sign(q) * (np.abs(q) // den), 0, n_inv - 1)
        out[..., i] = cast(inv[idx], tt.fractional, res_t)
    return out, res_t


def _softmax(r, t, p):
    impl = p.get("implementation", "stable")
    res_t = parse_type(p["result"])
    exp_t = parse_type(p.get("exp_table", "ap_fixed<18,8,AP_RND,AP_SAT>"))
    inv_t = parse_type(p.get("inv_table", "ap_fixed<18,8,AP_RND,AP_SAT>"))
    acc_t = parse_type(p.get("accum", "ap_fixed<18,8,AP_RND,AP_SAT>"))
    inp_t = parse_type(p.get("inv_input", p.get("exp_table", "ap_fixed<18,8,AP_RND,AP_SAT>")))
    n_exp = int(p.get("exp_table_size", p.get("table_size", 1024)))
    n_inv = int(p.get("inv_table_size", p.get("table_size", 1024)))
    scale = np.float32(p.get("exp_scale", 1.0))
    if impl == "legacy":
        return _softmax_legacy(r, t, p, res_t, n_exp, n_inv)
    if impl == "stable":
        norm_t = parse_type(p["norm_input"])
        idx_t = norm_t
        mx = r.max(axis=-1, keepdims=True)
        d = cast(mx - r, t.fractional, norm_t)
        negative = True
    elif impl == "latency":
        idx_t, d, negative = t, r, False
    else:
        raise NotImplementedError(impl)
    exp_table = np.array([from_float(expf(-(_value_from_top(k, idx_t, n_exp) * scale) if negative
                                          else _value_from_top(k, idx_t, n_exp) * scale), exp_t)
                          for k in range(n_exp)], np.int64)
    inv_table = []
    for k in range(n_inv):
        u = _value_from_top(k, inp_t, n_inv)
        with np.errstate(divide="ignore"):
            inv = np.float32(1) / u
        if np.isfinite(inv):
            inv_table.append(int(from_float(inv, inv_t)))
        elif inv_t.saturation in ("WRAP", "SAT_ZERO"):   # ap_fixed reads inf as 2^1024
            inv_table.append(0)
        else:
            lo, hi = inv_t.raw_range()
            inv_table.append(hi if inv > 0 else (lo + 1 if inv_t.saturation == "SAT_SYM" else lo))
    inv_table = np.array(inv_table, np.int64)
    e = cast(exp_table[_top_index(d, idx_t, n_exp)], exp_t.fractional, acc_t)
    s = _reduce_add([e[..., i] for i in range(e.shape[-1])], acc_t)
    s = cast(s, acc_t.fractional, inp_t)
    inv = inv_table[_top_index(s, inp_t, n_inv)]
    return cast(e * inv[..., None], acc_t.fractional + inv_t.fractional, res_t), res_t


def activation(r, t, p, act):
    name = act.get("name") if isinstance(act, dict) else act
    res_t = parse_type(p["result"])
    if name == "linear":
        return cast(r, t.fractional, res_t), res_t
    if name == "relu":
        return cast(np.where(r > 0, r, 0), t.fractional, res_t), res_t
    if name in ("sigmoid", "tanh", "softplus", "softsign"):
        return _table_activation(r, t, p, name)
    if name == "relu6":             # relu_max<6>: x < 0 -> 0, x > 6 -> 6
        six = np.int64(6) << t.fractional if t.fractional >= 0 else None
        return cast(np.clip(r, 0, six), t.fractional, res_t), res_t
    if name == "leaky_relu":   # alpha cast to the param type; alpha * x exact, then the result cast
        pt = parse_type(p["param"])
        a = from_float(np.float64(act["alpha"]), pt)
        return cast(np.where(r > 0, r << pt.fractional, a * r), t.fractional + pt.fractional, res_t), res_t
    if name == "softmax":
        return _softmax(r, t, p)
    raise NotImplementedError(f"reference: activation {name}")


def _weights(node, key, t):
    p = node["precision"]
    if key in p.get("raw", {}):
        return np.asarray(p["raw"][key], np.int64).reshape(node["weights"][key]["shape"])
    w = np.asarray(node["weights"][key]["data"], np.float32).reshape(node["weights"][key]["shape"])
    return from_float(w, t)


def _dense_core(x, xt, w, wt, b, bt, at):
    """x [..., n_in] raw; acc = accum(bias); acc = accum(acc + accum(x_i * w_i)) in input order."""
    shape = x.shape[:-1] + (w.shape[-1],)
    acc = np.zeros(shape, np.int64) if b is None else np.broadcast_to(cast(b, bt.fractional, at), shape).copy()
    fp = xt.fractional + wt.fractional
    for i in range(w.shape[0]):
        prod = cast(x[..., i:i + 1] * w[i], fp, at)
        acc = cast(acc + prod, at.fractional, at)
    return acc


def run(model, xs):
    """model: the JSON dict; xs: list of float32 arrays [N, ...] (input order).
    Returns ({output name: raw int64 array}, {output name: FixedType})."""
    vals, types = {}, {}
    fp = model["fixed_point"]["inputs"]
    for inp, x in zip(model["inputs"], xs):
        t = parse_type(fp[inp["name"]]["type"])
        vals[inp["name"]] = from_float(np.asarray(x, np.float32), t)
        types[inp["name"]] = t
    for node in model["nodes"]:
        typ, p, cfg = node["type"], node.get("precision", {}), node.get("config", {})
        ins = [vals[i] for i in node["inputs"]]
        its = [types[i] for i in node["inputs"]]
        if typ in ("Dense", "Conv1D", "Conv2D"):
            wt, at, rt = parse_type(p["weight"]), parse_type(p["accum"]), parse_type(p["result"])
            bt = parse_type(p["bias"]) if "bias" in node.get("weights", {}) else None
            w = _weights(node, "kernel", wt)
            b = _weights(node, "bias", bt) if bt else None
            x = ins[0]
            if typ == "Conv1D":
                if cfg.get("data_format", "channels_last") != "channels_last" or cfg.get("padding", "valid") != "valid":
                    raise NotImplementedError("reference: Conv1D channels_last valid only")
                kw, cin, cout = w.shape
                (sw,) = cfg.get("strides", [1])
                n, ww, _ = x.shape
                ow = (ww - kw) // sw + 1
                patches = np.stack([x[:, j * sw:j * sw + kw, :].reshape(n, -1) for j in range(ow)], axis=1)
                acc = _dense_core(patches, its[0], w.reshape(-1, cout), wt, b, bt, at)
            elif typ == "Conv2D":
                if cfg.get("data_format", "channels_last") != "channels_last" or \
                        cfg.get("padding", "valid") not in ("valid", "same") or cfg.get("strides", [1, 1]) != [1, 1] \
                        and cfg.get("padding") == "same":
                    raise NotImplementedError("reference: Conv2D channels_last, valid, or same with stride 1")
                kh, kw, cin, cout = w.shape
                sh, sw = cfg.get("strides", [1, 1])
                if cfg.get("padding") == "same":                # zeros: (k-1)//2 before, the rest after
                    x = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
                n, hh, ww, _ = x.shape
                oh, ow = (hh - kh) // sh + 1, (ww - kw) // sw + 1
                patches = np.stack([x[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :].reshape(n, -1)
                                    for i in range(oh) for j in range(ow)], axis=1).reshape(n, oh, ow, -1)
                acc = _dense_core(patches, its[0], w.reshape(-1, cout), wt, b, bt, at)
            else:
                acc = _dense_core(x, its[0], w, wt, b, bt, at)
            r = cast(acc, at.fractional, rt)
            act = cfg.get("activation", "linear")
            if (act.get("name") if isinstance(act, dict) else act) != "linear":
                r, rt = activation(r, rt, p["activation"], act)
            vals[node["name"]], types[node["name"]] = r, rt
        elif typ == "Activation":
            vals[node["name"]], types[node["name"]] = activation(ins[0], its[0], p, cfg["activation"])
        elif typ == "BatchNormalization":
            st, bt, rt = parse_type(p["scale"]), parse_type(p["bias"]), parse_type(p["result"])
            sc = np.asarray(p["raw"]["scale"], np.int64)
            bi = np.asarray(p["raw"]["bias"], np.int64)
            f = its[0].fractional + st.fractional
            prod = ins[0] * sc
            bi_al = bi << (f - bt.fractional) if f >= bt.fractional else None
            if bi_al is None:
                raise NotImplementedError("reference: bias finer than the product")
            vals[node["name"]], types[node["name"]] = cast(prod + bi_al, f, rt), rt
        elif typ in ("MaxPooling1D", "GlobalAveragePooling1D"):
            at, rt = parse_type(p["accum"]), parse_type(p["result"])
            x, xt = ins[0], its[0]
            if typ == "MaxPooling1D":
                (k,) = cfg["pool_size"]
                (s_,) = cfg.get("strides", [k])
                ow = (x.shape[1] - k) // s_ + 1
                win = np.stack([x[:, j * s_:j * s_ + k, :].max(axis=1) for j in range(ow)], axis=1)
                r = cast(cast(win, xt.fractional, at), at.fractional, rt)
            else:
                acc = np.zeros((x.shape[0], x.shape[2]), np.int64)
                for j in range(x.shape[1]):          # acc = accum(acc + x), in window order
                    f = max(at.fractional, xt.fractional)
                    acc = cast((acc << (f - at.fractional)) + (x[:, j, :] << (f - xt.fractional)), f, at)
                q = np.sign(acc) * (np.abs(acc) // x.shape[1])   # ap_fixed / unsigned: towards zero
                r = cast(cast(q, at.fractional, at), at.fractional, rt)
            vals[node["name"]], types[node["name"]] = r, rt
        elif typ in ("MaxPooling2D", "AveragePooling2D"):
            at, rt = parse_type(p["accum"]), parse_type(p["result"])
            x, xt = ins[0], its[0]
            if cfg.get("padding", "valid") != "valid":
                raise NotImplementedError("reference: 2D pooling valid only")
            kh, kw = cfg["pool_size"]
            sh, sw = cfg.get("strides", [kh, kw])
            oh, ow = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
            r = np.zeros((x.shape[0], oh, ow, x.shape[3]), np.int64)
            for i in range(oh):
                for j in range(ow):
                    win = x[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :].reshape(x.shape[0], -1, x.shape[3])
                    if typ == "MaxPooling2D":
                        r[:, i, j, :] = cast(win.max(axis=1), xt.fractional, at)
                    else:
                        f = max(at.fractional, xt.fractional)
                        acc = np.zeros((x.shape[0], x.shape[3]), np.int64)
                        for k in range(win.shape[1]):
                            acc = cast((acc << (f - at.fractional)) + (win[:, k, :] << (f - xt.fractional)), f, at)
                        q = np.sign(acc) * (np.abs(acc) // win.shape[1])
                        r[:, i, j, :] = cast(q, at.fractional, at)
            vals[node["name"]], types[node["name"]] = cast(r, at.fractional, rt), rt
        elif typ in ("Average", "Maximum", "Minimum"):
            rt = parse_type(p["result"])
            (a, b), (ta, tb) = ins, its
            f = max(ta.fractional, tb.fractional)
            a2, b2 = a << (f - ta.fractional), b << (f - tb.fractional)
            if typ == "Average":                 # (a + b) * ap_ufixed<1,0>(0.5): exact, one more fraction bit
                r, fr = a2 + b2, f + 1
            elif typ == "Maximum":
                r, fr = np.where(a2 > b2, a2, b2), f
            else:
                r, fr = np.where(a2 < b2, a2, b2), f
            vals[node["name"]], types[node["name"]] = cast(r, fr, rt), rt
        elif typ == "Concatenate":
            rt = parse_type(p["result"])
            parts = [cast(a, t.fractional, rt).reshape(a.shape[0], -1) for a, t in zip(ins, its)]
            vals[node["name"]], types[node["name"]] = np.concatenate(parts, axis=-1), rt
        elif typ in ("Flatten", "Dropout", "Reshape"):
            vals[node["name"]] = ins[0].reshape(ins[0].shape[0], *node.get("config", {}).get("shape", [-1]))
            types[node["name"]] = its[0]
        elif typ in ("Multiply", "Add", "Subtract"):
            rt = parse_type(p["result"])
            a, b = ins
            ta, tb = its
            if typ == "Multiply":
                r, f = a * b, ta.fractional + tb.fractional
            else:
                f = max(ta.fractional, tb.fractional)
                a2, b2 = a << (f - ta.fractional), b << (f - tb.fractional)
                r = a2 + b2 if typ == "Add" else a2 - b2
            vals[node["name"]], types[node["name"]] = cast(r, f, rt), rt
        else:
            raise NotImplementedError(f"reference: node type {typ}")
    outs = {o["name"]: vals[o["node"]].reshape(len(xs[0]), -1) for o in model["outputs"]}
    otypes = {o["name"]: types[o["node"]] for o in model["outputs"]}
    return outs, otypes
