"""ONNX models to trignet (the ``onnx`` package reads the file; onnxruntime,
or onnx's reference evaluator when onnxruntime is missing, computes the test
vectors).

The graph is walked node by node (ONNX lists nodes in topological order);
each op type maps to trignet nodes through the ``OPS`` table. Adding an op =
one function decorated with ``@op("OpType")`` receiving a context and the
node's input values: trignet tensor names (``T``), numpy constants
(initializers, Constant nodes), ``ShapeOf`` for shape arithmetic, or a
``Pending`` partial pattern (erf-GELU, softsign, thresholded softplus).
Tensors are batch-first: axis 0 is the batch, and an op that touches it is
refused.
"""

import math
import os

import numpy as np

from .activations import act
from .errors import ConversionError, UnsupportedError, unsupported_config
from .graph import Graph, registrar
from . import writer

OPS = {}
IDENTITY_OPS = ("Identity", "Dropout")


op = registrar(OPS)


class T(str):
    """A trignet tensor name."""


class ShapeOf(list):
    """A shape computed from a tensor's shape; None stands for the batch size."""


class Pending:
    """Part of a pattern that is valid only when completed by a later op."""

    def __init__(self, kind, src, where, value=None):
        self.kind, self.src, self.where, self.value = kind, src, where, value


class Ctx:
    def __init__(self, g, node, where, consumers):
        self.g, self.node, self.where, self.consumers = g, node, where, consumers
        self.attrs = {}
        import onnx.helper
        for a in node.attribute:
            self.attrs[a.name] = onnx.helper.get_attribute_value(a)
        self.attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in self.attrs.items()}

    def attr(self, name, default=None):
        return self.attrs.get(name, default)

    def add(self, type_, inputs, config=None, weights=None):
        return T(self.g.add_node(type_, inputs, config, weights, name=self.node.name or self.node.output[0],
                                 where=self.where))

    def activation(self, x, a):
        return self.add("Activation", [self.tensor(x)], {"activation": a})

    def rank(self, x):
        return len(self.g.shapes[x]) + 1

    def axis(self, a, rank_with_batch):
        a = int(a)
        if a < 0:
            a += rank_with_batch
        if a == 0:
            raise unsupported_config(self.node.op_type, self.where, "the op works on the batch axis (axis 0)")
        return a - 1

    def tensor(self, v):
        if isinstance(v, Pending):
            raise UnsupportedError(f"ONNX op '{v.kind}'", v.where, supported_ops(),
                                   "only supported inside a recognised pattern (erf GELU, softsign, softplus)")
        if not isinstance(v, T):
            raise unsupported_config(self.node.op_type, self.where,
                                     "an input is a constant, not computed from the model inputs "
                                     "(trignet has no constant tensors)")
        return v


def supported_ops():
    return list(OPS) + list(IDENTITY_OPS)


def _const(v):
    return v is not None and not isinstance(v, (T, Pending, ShapeOf))


def _scalar(v):
    if _const(v) and np.size(v) == 1:
        return float(np.asarray(v).reshape(-1)[0])
    return None


# ---------------------------------------------------------------------------
# dense

@op("Gemm")
def _gemm(c, a, b, bias=None):
    a = c.tensor(a)
    if c.attr("transA", 0):
        raise unsupported_config("Gemm", c.where, "transA=1")
    if not _const(b):
        raise unsupported_config("Gemm", c.where, "B must be a constant (weights)")
    w = np.asarray(b, np.float64)
    w = w.T if c.attr("transB", 0) else w
    w = w * c.attr("alpha", 1.0)
    weights = {"kernel": w.astype(np.float32)}
    if bias is not None:
        if not _const(bias):
            raise unsupported_config("Gemm", c.where, "C must be a constant (bias)")
        weights["bias"] = (np.broadcast_to(np.asarray(bias, np.float64).reshape(-1), (w.shape[1],))
                           * c.attr("beta", 1.0)).astype(np.float32)
    return c.add("Dense", [a], {"units": int(w.shape[1]), "activation": "linear", "use_bias": bias is not None},
                 weights)


@op("MatMul")
def _matmul(c, a, b):
    a = c.tensor(a)
    if not _const(b) or np.ndim(b) != 2:
        raise unsupported_config("MatMul", c.where, "only X @ W with a constant 2-D W is supported")
    w = np.asarray(b, np.float32)
    return c.add("Dense", [a], {"units": int(w.shape[1]), "activation": "linear", "use_bias": False}, {"kernel": w})


# ---------------------------------------------------------------------------
# activations

def _simple(a):
    def fn(c, x):
        return c.activation(x, a)
    return fn


for _n, _a in (("Relu", act("relu")), ("Sigmoid", act("sigmoid")), ("Tanh", act("tanh")),
               ("Softsign", act("softsign")), ("Exp", act("exponential"))):
    op(_n)(_simple(_a))


@op("Softplus")
def _softplus(c, x):
    return c.activation(x, act("softplus"))


@op("Elu")
def _elu(c, x):
    return c.activation(x, act("elu", alpha=c.attr("alpha", 1.0)))


@op("LeakyRelu")
def _leaky(c, x):
    return c.activation(x, act("leaky_relu", alpha=c.attr("alpha", 0.01)))


@op("HardSigmoid")
def _hard_sigmoid(c, x):
    return c.activation(x, act("hard_sigmoid", slope=c.attr("alpha", 0.2), offset=c.attr("beta", 0.5)))


@op("Selu")
def _selu(c, x):
    alpha, gamma = c.attr("alpha", 1.67326319217681884765625), c.attr("gamma", 1.05070102214813232421875)
    if abs(alpha - 1.6732632423543772) > 1e-6 or abs(gamma - 1.0507009873554805) > 1e-6:
        raise unsupported_config("Selu", c.where, f"alpha={alpha}, gamma={gamma} (only the standard constants)")
    return c.activation(x, act("selu"))


@op("Gelu")
def _gelu(c, x):
    return c.activation(x, act("gelu", approximate=c.attr("approximate", "none") == "tanh"))


@op("Softmax")
def _softmax(c, x):
    x = c.tensor(x)
    opset = c.opset
    default = -1 if opset >= 13 else 1
    axis = c.attr("axis", default)
    r = c.rank(x)
    if opset < 13 and (axis % r) != r - 1:
        raise unsupported_config("Softmax", c.where, f"opset {opset} softmax flattens axes {axis}..end; "
                                 "only the last axis is supported")
    return c.activation(x, act("softmax", axis=c.axis(axis, r)))


@op("Clip")
def _clip(c, x, lo=None, hi=None):
    lo = _scalar(lo) if lo is not None else c.attr("min")
    hi = _scalar(hi) if hi is not None else c.attr("max")
    if lo == 0.0 and hi == 6.0:
        return c.activation(x, act("relu6"))
    if lo == 0.0 and hi is None:
        return c.activation(x, act("relu"))
    raise unsupported_config("Clip", c.where, f"min={lo}, max={hi} (only ReLU6: 0, 6)")


# ---------------------------------------------------------------------------
# normalisation

@op("BatchNormalization")
def _bn(c, x, scale, bias, mean, var):
    x = c.tensor(x)
    if not all(_const(v) for v in (scale, bias, mean, var)):
        raise unsupported_config("BatchNormalization", c.where, "statistics must be constants (inference mode)")
    if c.attr("training_mode", 0):
        raise unsupported_config("BatchNormalization", c.where, "training_mode=1")
    w = {"gamma": scale, "beta": bias, "moving_mean": mean, "moving_variance": var}
    return c.add("BatchNormalization", [x], {"axis": 0, "epsilon": float(c.attr("epsilon", 1e-5))}, w)


@op("LayerNormalization")
def _ln(c, x, scale, bias=None):
    x = c.tensor(x)
    r = c.rank(x)
    first = c.axis(c.attr("axis", -1), r)
    axes = list(range(first - (r - 1), 0))
    w = {"gamma": np.asarray(scale, np.float32).reshape(c.g.shapes[x][first:])}
    if bias is not None:
        w["beta"] = np.asarray(bias, np.float32).reshape(c.g.shapes[x][first:])
    return c.add("LayerNormalization", [x], {"axis": axes[0] if len(axes) == 1 else axes,
                                             "epsilon": float(c.attr("epsilon", 1e-5))}, w)


# ---------------------------------------------------------------------------
# shapes

@op("Flatten")
def _flatten(c, x):
    x = c.tensor(x)
    if c.attr("axis", 1) != 1:
        raise unsupported_config("Flatten", c.where, f"axis={c.attr('axis')} (only 1: keep the batch axis)")
    return c.add("Flatten", [x])


@op("Reshape")
def _reshape(c, x, shape):
    x = c.tensor(x)
    in_shape = c.g.shapes[x]
    if isinstance(shape, ShapeOf):
        target = list(shape)
        if target[0] is not None:
            raise unsupported_config("Reshape", c.where, "the target shape does not keep the batch axis")
        target = target[1:]
    elif _const(shape):
        target = [int(d) for d in np.asarray(shape).reshape(-1)][1:]
    else:
        raise unsupported_config("Reshape", c.where, "the target shape is computed at run time")
    if c.attr("allowzero", 0) and 0 in target:
        raise unsupported_config("Reshape", c.where, "allowzero=1 with a zero dimension")
    target = [in_shape[i] if d == 0 else d for i, d in enumerate(target)]
    if any(d is None or d < -1 for d in target):
        raise unsupported_config("Reshape", c.where, f"target shape {target}")
    return c.add("Reshape", [x], {"shape": target})


def _axes_arg(c, axes):
    if axes is None:
        axes = c.attr("axes")
    if axes is None:
        return None
    return [int(a) for a in np.asarray(axes).reshape(-1)]


@op("Unsqueeze")
def _unsqueeze(c, x, axes=None):
    axes = _axes_arg(c, axes)
    if isinstance(x, ShapeOf) or _const(x):
        return ShapeOf(list(np.asarray(x, dtype=object).reshape(-1))) if isinstance(x, ShapeOf) else \
            np.expand_dims(np.asarray(x), axes)
    x = c.tensor(x)
    out = list(c.g.shapes[x])
    r = len(out) + 1 + len(axes)
    for a in sorted(ax % r for ax in axes):
        if a == 0:
            raise unsupported_config("Unsqueeze", c.where, "inserting an axis before the batch axis")
        out.insert(a - 1, 1)
    return c.add("Reshape", [x], {"shape": out})


@op("Squeeze")
def _squeeze(c, x, axes=None):
    x = c.tensor(x)
    axes = _axes_arg(c, axes)
    s = list(c.g.shapes[x])
    r = len(s) + 1
    drop = {c.axis(a, r) for a in axes} if axes else {i for i, d in enumerate(s) if d == 1}
    out = [d for i, d in enumerate(s) if i not in drop] or [1]
    return c.add("Reshape", [x], {"shape": out})


@op("Transpose")
def _transpose(c, x):
    x = c.tensor(x)
    r = c.rank(x)
    perm = c.attr("perm") or list(reversed(range(r)))
    perm = [int(p) for p in perm]
    if perm[0] != 0:
        raise unsupported_config("Transpose", c.where, f"perm {perm} moves the batch axis")
    return c.add("Permute", [x], {"dims": [p - 1 for p in perm[1:]]})


@op("Shape")
def _shape(c, x):
    x = c.tensor(x)
    start, end = c.attr("start", 0), c.attr("end", None)
    return ShapeOf(([None] + list(c.g.shapes[x]))[start:end])


@op("Gather")
def _gather(c, data, idx):
    if isinstance(data, ShapeOf) and _const(idx):
        i = np.asarray(idx)
        vals = [data[int(k)] for k in i.reshape(-1)]
        return ShapeOf(vals) if i.ndim else ShapeOf(vals)
    if _const(data) and isinstance(idx, T) and np.ndim(data) == 2 and int(c.attr("axis", 0)) == 0:
        w = np.asarray(data, np.float32)     # a lookup table: Embedding
        return c.add("Embedding", [idx], {"input_dim": int(w.shape[0]), "output_dim": int(w.shape[1])},
                     {"embeddings": w})
    raise unsupported_config("Gather", c.where, "only shape arithmetic (Shape -> Gather) and a lookup in a "
                             "constant [V, D] table on axis 0 (Embedding) are supported")


@op("Concat")
def _concat(c, *xs):
    if any(isinstance(x, ShapeOf) for x in xs) and all(isinstance(x, ShapeOf) or _const(x) for x in xs):
        out = ShapeOf()
        for x in xs:
            out.extend(list(x) if isinstance(x, ShapeOf) else [int(v) for v in np.asarray(x).reshape(-1)])
        return out
    xs = [c.tensor(x) for x in xs]
    if len(xs) == 1:
        return xs[0]
    return c.add("Concatenate", xs, {"axis": c.axis(c.attr("axis"), c.rank(xs[0]))})


# ---------------------------------------------------------------------------
# convolution, pooling, resampling (NCHW: trignet data_format channels_first)

CF = "channels_first"


def _spatial(c, x, r=None):
    x = c.tensor(x)
    rk = c.rank(x)
    if rk not in (3, 4) or (r is not None and rk != r + 2):
        raise unsupported_config(c.node.op_type, c.where, f"input of rank {rk} (batch included): trignet has 1D "
                                 "and 2D spatial layers, [N, C, L] and [N, C, H, W]")
    return x, rk - 2


def _onnx_pads(c, n, k, s, d, allow_same=True):
    """Explicit [before, after] pairs (or "valid") from auto_pad / pads."""
    auto = c.attr("auto_pad", "NOTSET")
    r = len(n)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        out = []
        for ni, ki, si, di in zip(n, k, s, d):
            e = di * (ki - 1) + 1
            total = max((-(-ni // si) - 1) * si + e - ni, 0)
            small = total // 2
            out.append([small, total - small] if auto == "SAME_UPPER" else [total - small, small])
        return out
    if auto == "VALID":
        return "valid"
    p = c.attr("pads")
    if not p or not any(p):
        return "valid"
    return [[int(p[i]), int(p[i + r])] for i in range(r)]


def _conv_geometry(c, x, w):
    n = list(c.g.shapes[x][1:])
    k = list(c.attr("kernel_shape") or np.shape(w)[2:])
    r = len(n)
    s = list(c.attr("strides") or [1] * r)
    d = list(c.attr("dilations") or [1] * r)
    return n, k, s, d


@op("Conv")
def _conv(c, x, w, b=None):
    x, r = _spatial(c, x)
    if not _const(w) or (b is not None and not _const(b)):
        raise unsupported_config("Conv", c.where, "weights must be constants")
    n, k, s, d = _conv_geometry(c, x, w)
    w = np.asarray(w, np.float32)
    cfg = {"filters": int(w.shape[0]), "kernel_size": k, "strides": s, "dilation_rate": d,
           "padding": _onnx_pads(c, n, k, s, d), "groups": int(c.attr("group", 1)), "use_bias": b is not None,
           "data_format": CF}
    weights = {"kernel": np.transpose(w, tuple(range(2, w.ndim)) + (1, 0))}
    if b is not None:
        weights["bias"] = np.asarray(b, np.float32)
    return c.add(f"Conv{r}D", [x], cfg, weights)


@op("ConvTranspose")
def _conv_transpose(c, x, w, b=None):
    x, r = _spatial(c, x)
    if not _const(w) or (b is not None and not _const(b)):
        raise unsupported_config("ConvTranspose", c.where, "weights must be constants")
    if int(c.attr("group", 1)) != 1:
        raise unsupported_config("ConvTranspose", c.where, "group > 1")
    if c.attr("output_shape"):
        raise unsupported_config("ConvTranspose", c.where, "output_shape (give pads and output_padding)")
    if c.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise unsupported_config("ConvTranspose", c.where, f"auto_pad={c.attr('auto_pad')}")
    n, k, s, d = _conv_geometry(c, x, w)
    w = np.asarray(w, np.float32)
    p = c.attr("pads") or [0] * (2 * r)
    cfg = {"filters": int(w.shape[1]), "kernel_size": k, "strides": s, "dilation_rate": d,
           "padding": [[int(p[i]), int(p[i + r])] for i in range(r)], "use_bias": b is not None, "data_format": CF}
    op_ = list(c.attr("output_padding") or [0] * r)
    if any(op_):
        cfg["output_padding"] = [int(a) for a in op_]
    weights = {"kernel": np.transpose(w, tuple(range(2, w.ndim)) + (1, 0))}
    if b is not None:
        weights["bias"] = np.asarray(b, np.float32)
    return c.add(f"Conv{r}DTranspose", [x], cfg, weights)


def _pool(kind):
    def fn(c, x):
        x, r = _spatial(c, x)
        t = c.node.op_type
        if c.attr("ceil_mode", 0):
            raise unsupported_config(t, c.where, "ceil_mode=1 (only floor)")
        if any(a != 1 for a in (c.attr("dilations") or [])):
            raise unsupported_config(t, c.where, "dilations (trignet pooling has no dilation)")
        if len(c.node.output) > 1 and c.node.output[1]:
            raise unsupported_config(t, c.where, "the Indices output")
        n = list(c.g.shapes[x][1:])
        k = list(c.attr("kernel_shape"))
        s = list(c.attr("strides") or [1] * r)
        cfg = {"pool_size": k, "strides": s, "padding": _onnx_pads(c, n, k, s, [1] * r), "data_format": CF}
        if kind == "Average" and cfg["padding"] != "valid":
            cfg["count_include_pad"] = bool(c.attr("count_include_pad", 0))
        return c.add(f"{kind}Pooling{r}D", [x], cfg)
    return fn


op("MaxPool")(_pool("Max"))
op("AveragePool")(_pool("Average"))


def _global_pool(kind):
    def fn(c, x):
        x, r = _spatial(c, x)
        return c.add(f"Global{kind}Pooling{r}D", [x], {"keepdims": True, "data_format": CF})
    return fn


op("GlobalAveragePool")(_global_pool("Average"))
op("GlobalMaxPool")(_global_pool("Max"))


@op("Pad")
def _pad(c, x, pads=None, value=None, axes=None):
    x = c.tensor(x)
    if c.attr("mode", "constant") != "constant":
        raise unsupported_config("Pad", c.where, f"mode={c.attr('mode')} (only constant 0)")
    v = _scalar(value) if value is not None else c.attr("value", 0.0)
    if v not in (None, 0.0):
        raise unsupported_config("Pad", c.where, f"constant value {v} (only 0)")
    pads = c.attr("pads") if pads is None else pads
    if not _const(pads):
        raise unsupported_config("Pad", c.where, "pads computed at run time")
    pads = [int(a) for a in np.asarray(pads).reshape(-1)]
    rk = c.rank(x)
    ax = list(range(rk)) if axes is None else [int(a) % rk for a in np.asarray(axes).reshape(-1)]
    m = len(ax)
    per = {a: (pads[i], pads[i + m]) for i, a in enumerate(ax)}
    if per.get(0, (0, 0)) != (0, 0):
        raise unsupported_config("Pad", c.where, "padding the batch axis")
    per = {a - 1: p for a, p in per.items() if a != 0 and p != (0, 0)}
    if not per:
        return x
    if any(b < 0 or e < 0 for b, e in per.values()):
        raise unsupported_config("Pad", c.where, "negative pads")
    s = c.g.shapes[x]
    if len(s) not in (2, 3):
        raise unsupported_config("Pad", c.where, f"per-sample rank {len(s)} (trignet pads rank 2 and 3)")
    spatial = list(range(1, len(s))) if all(a >= 1 for a in per) else list(range(len(s) - 1))
    if not all(a in spatial for a in per):
        raise unsupported_config("Pad", c.where, f"padding axes {sorted(per)} together")
    return c.add(f"ZeroPadding{len(spatial)}D", [x], {"padding": [list(per.get(a, (0, 0))) for a in spatial],
                                                      "data_format": CF if spatial[0] == 1 else "channels_last"})


def _nearest(c, x, scales, sizes=None):
    x, r = _spatial(c, x)
    n = list(c.g.shapes[x])
    if sizes is not None and _const(sizes) and np.size(sizes):
        sz = [int(a) for a in np.asarray(sizes).reshape(-1)]
        if len(sz) != r + 2 or sz[1] != n[0] or any(a % b for a, b in zip(sz[2:], n[1:])):
            raise unsupported_config(c.node.op_type, c.where, f"sizes {sz}: only integer upscaling of L / H, W")
        f = [a // b for a, b in zip(sz[2:], n[1:])]
    else:
        if not _const(scales):
            raise unsupported_config(c.node.op_type, c.where, "scales computed at run time")
        sc = [float(a) for a in np.asarray(scales).reshape(-1)]
        if len(sc) != r + 2 or sc[0] != 1.0 or sc[1] != 1.0 or any(a != int(a) or a < 1 for a in sc[2:]):
            raise unsupported_config(c.node.op_type, c.where, f"scales {sc}: only positive integers on L / H, W")
        f = [int(a) for a in sc[2:]]
    return c.add(f"UpSampling{r}D", [x], {"size": f, "data_format": CF})


@op("Resize")
def _resize(c, x, roi=None, scales=None, sizes=None):
    mode = c.attr("mode", "nearest")
    ctm = c.attr("coordinate_transformation_mode", "half_pixel")
    nm = c.attr("nearest_mode", "round_prefer_floor")
    ok = mode == "nearest" and ((ctm == "asymmetric" and nm == "floor") or
                                (ctm in ("half_pixel", "pytorch_half_pixel") and nm.startswith("round_prefer")))
    if not ok:
        raise unsupported_config("Resize", c.where, f"mode={mode}, coordinate_transformation_mode={ctm}, "
                                 f"nearest_mode={nm}: only nearest-neighbour repetition (integer scales; "
                                 "asymmetric + floor, or half_pixel + round_prefer_*); no (bi)linear")
    return _nearest(c, x, scales, sizes)


@op("Upsample")
def _upsample(c, x, scales=None):
    if c.attr("mode", "nearest") != "nearest":
        raise unsupported_config("Upsample", c.where, f"mode={c.attr('mode')} (only nearest)")
    return _nearest(c, x, scales if scales is not None else c.attr("scales"))


def _recurrent_refused(c, *args):
    raise UnsupportedError(f"ONNX op '{c.node.op_type}'", c.where, supported_ops(),
                           "ONNX recurrent ops are time-major with their own gate layouts and are not converted; "
                           "convert the Keras model, or the PyTorch module (nn.GRU / nn.LSTM / nn.RNN with "
                           "batch_first=True), instead")


op("GRU", "LSTM", "RNN")(_recurrent_refused)


# ---------------------------------------------------------------------------
# element-wise, with the patterns that exporters produce

SQRT1_2 = 1.0 / math.sqrt(2.0)


def _close(a, b):
    return a is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))


@op("Abs")
def _abs(c, x):
    return Pending("Abs", c.tensor(x), c.where)


@op("Erf")
def _erf(c, x):
    if isinstance(x, Pending) and x.kind == "Mul/Div by a constant" and _close(x.value, SQRT1_2):
        return Pending("Erf", x.src, c.where)
    raise UnsupportedError("ONNX op 'Erf'", c.where, supported_ops(), "only as part of GELU: erf(x / sqrt(2))")


@op("Greater")
def _greater(c, x, thr):
    return Pending("Greater", c.tensor(x), c.where, _scalar(thr))


@op("Where")
def _where(c, cond, a, b):
    # thresholded softplus (torch exporter): where(x > t, x, softplus(x)); equal in float32 for t >= 15
    if isinstance(cond, Pending) and cond.kind == "Greater" and cond.src == a and cond.value is not None \
            and cond.value >= 15.0 and isinstance(b, T):
        n = c.g.node(b)
        if n is not None and n.type == "Activation" and n.config["activation"] == "softplus" and n.inputs[0] == a:
            return b
    raise UnsupportedError("ONNX op 'Where'", c.where, supported_ops(), "only as part of a thresholded softplus")


def _elementwise(type_):
    def fn(c, *xs):
        if len(xs) == 2:
            r = _pattern(c, type_, xs[0], xs[1])
            if r is not None:
                return r
        if type_ == "Add" and len(xs) == 2:
            r = _bias_add(c, xs[0], xs[1])
            if r is not None:
                return r
        if type_ == "Divide":
            raise unsupported_config("Div", c.where, "division is supported only inside softsign "
                                     "x / (1 + abs(x)) and GELU x / sqrt(2) patterns")
        ts = [c.tensor(x) for x in xs]
        if len(ts) == 1:
            return ts[0]
        if type_ == "Subtract" and len(ts) != 2:
            raise unsupported_config("Sub", c.where, "needs two inputs")
        return c.add(type_, ts)
    return fn


def _bias_add(c, a, b):
    """MatMul + Add(bias) -> Dense with bias."""
    if _const(a) and isinstance(b, T):
        a, b = b, a
    if not (isinstance(a, T) and _const(b)):
        return None
    n = c.g.node(a)
    if n is None or n.type != "Dense" or n.config.get("use_bias", True) or c.consumers.get(a, 0) != 1:
        return None
    units = n.config["units"]
    bias = np.asarray(b, np.float32)
    if bias.size not in (1, units) or (bias.ndim and bias.shape[-1] not in (1, units)):
        return None
    n.weights["bias"] = np.broadcast_to(bias.reshape(-1), (units,)).astype(np.float32).copy()
    n.config["use_bias"] = True
    return a


def _pattern(c, type_, a, b):
    sa, sb = _scalar(a), _scalar(b)
    if type_ in ("Multiply", "Divide"):
        # x * k or x / k on the way to GELU
        for x, k in ((a, sb), (b, sa if type_ == "Multiply" else None)):
            if isinstance(x, T) and k is not None:
                return Pending("Mul/Div by a constant", x, c.where, k if type_ == "Multiply" else 1.0 / k)
    if type_ == "Add":
        for x, k in ((a, sb), (b, sa)):
            if isinstance(x, Pending) and x.kind == "Abs" and k == 1.0:
                return Pending("Abs + 1", x.src, c.where)
            if isinstance(x, Pending) and x.kind == "Erf" and k == 1.0:
                return Pending("Erf + 1", x.src, c.where)
    if type_ == "Divide" and isinstance(b, Pending) and b.kind == "Abs + 1" and b.src == a:
        return c.activation(a, act("softsign"))
    if type_ == "Multiply":
        for x, y in ((a, b), (b, a)):
            if isinstance(y, Pending) and y.kind == "Erf + 1":
                if x == y.src and isinstance(x, T):
                    return Pending("x * (Erf + 1)", x, c.where)
                if isinstance(x, Pending) and x.kind == "Mul/Div by a constant" and x.src == y.src and _close(x.value, 0.5):
                    return c.activation(x.src, act("gelu", approximate=False))
            if isinstance(x, Pending) and x.kind == "x * (Erf + 1)" and (sa if y is a else sb) is not None \
                    and _close(_scalar(y), 0.5):
                return c.activation(x.src, act("gelu", approximate=False))
    return None


op("Add", "Sum")(_elementwise("Add"))
op("Sub")(_elementwise("Subtract"))
op("Mul")(_elementwise("Multiply"))
op("Max")(_elementwise("Maximum"))
op("Min")(_elementwise("Minimum"))
op("Mean")(_elementwise("Average"))
op("Div")(_elementwise("Divide"))


# ---------------------------------------------------------------------------
# graph walk

def _dims(value_info):
    t = value_info.type.tensor_type
    return [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]


def convert_onnx(model_or_path, path=None, options=None, input_shapes=None, **kwargs):
    """Converts an ONNX model (a file path or an onnx.ModelProto)."""
    import onnx
    import onnx.numpy_helper as nh
    opt = writer.make_options(options, **kwargs)
    source = None
    if isinstance(model_or_path, (str, os.PathLike)):
        source = os.path.basename(str(model_or_path))
        model = onnx.load(str(model_or_path))
    else:
        model = model_or_path
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise ConversionError(f"not a valid ONNX model: {str(e).splitlines()[0]}") from e
    opset = max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [1])
    gr = model.graph
    inits = {i.name: nh.to_array(i).astype(np.float32) if nh.to_array(i).dtype.kind == "f" else nh.to_array(i)
             for i in gr.initializer}
    name = gr.name or (os.path.splitext(source)[0] if source else "onnx_model")
    g = Graph(name)
    values = {"": None}
    k = 0
    for vi in gr.input:
        if vi.name in inits:
            continue
        dims = _dims(vi)
        shape = dims[1:]
        if input_shapes and k < len(input_shapes) and input_shapes[k] is not None:
            shape = list(input_shapes[k])
        if not shape or any(d is None for d in shape):
            raise ConversionError(f"ONNX input '{vi.name}' has shape {dims} (batch first) with unknown "
                                  "per-sample dimensions; give them with --input-shape")
        elem = vi.type.tensor_type.elem_type
        dtype = "int32" if elem in (onnx.TensorProto.INT32, onnx.TensorProto.INT64, onnx.TensorProto.INT16,
                                    onnx.TensorProto.INT8, onnx.TensorProto.UINT8) else "float32"
        values[vi.name] = T(g.add_input(vi.name, shape, dtype))
        k += 1
    values.update(inits)
    consumers = {}
    for n in gr.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    for o in gr.output:
        consumers[o.name] = consumers.get(o.name, 0) + 1
    for idx, n in enumerate(gr.node):
        where = f"ONNX node {idx} '{n.name or n.output[0]}' ({n.op_type})"
        if n.domain not in ("", "ai.onnx"):
            raise UnsupportedError(f"ONNX op '{n.domain}.{n.op_type}'", where, supported_ops(), "custom domain")
        if n.op_type == "Constant":
            import onnx.helper
            a = n.attribute[0]
            v = onnx.helper.get_attribute_value(a)
            values[n.output[0]] = nh.to_array(v) if a.name == "value" else np.asarray(v)
            continue
        args = [values[i] if i in values else _missing(i, where) for i in n.input]
        if n.op_type in IDENTITY_OPS:
            values[n.output[0]] = args[0]
            continue
        fn = OPS.get(n.op_type)
        if fn is None:
            detail = None
            if n.op_type in ("If", "Loop", "Scan"):
                detail = "data-dependent control flow cannot be represented in a static graph"
            raise UnsupportedError(f"ONNX op '{n.op_type}'", where, supported_ops(), detail)
        c = Ctx(g, n, where, {})
        c.opset = opset
        # consumer counts keyed by trignet tensor: the ONNX output name maps to it after the call
        c.consumers = {values[i]: consumers.get(i, 0) for i in n.input if isinstance(values.get(i), T)}
        values[n.output[0]] = fn(c, *args)
    out_names = []
    for o in gr.output:
        v = values.get(o.name)
        if not isinstance(v, T):
            raise ConversionError(f"ONNX output '{o.name}' is not computed from the model inputs by supported ops")
        g.add_output(o.name, v)
        out_names.append(o.name)

    import onnx.helper
    np_types = [onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
                for vi in gr.input if vi.name not in inits]
    run = _onnx_runner(model, [i["name"] for i in g.inputs], [vi.name for vi in gr.input if vi.name not in inits],
                       np_types)
    meta = {"framework": "onnx", "framework_version": onnx.__version__, "onnx_opset": opset,
            "onnx_producer": f"{model.producer_name} {model.producer_version}".strip()}
    if source:
        meta["source_file"] = source
    return writer.finish(g, run, opt, meta, path)


def _missing(name, where):
    raise ConversionError(f"{where}: input '{name}' is not produced by any earlier node")


def _onnx_runner(model, trignet_names, onnx_names, np_types=None):
    cast = (lambda xs: [np.asarray(x).astype(t) for x, t in zip(xs, np_types)]) if np_types else (lambda xs: xs)
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

        def run(xs):
            return sess.run(None, dict(zip(onnx_names, cast(xs))))
    except ImportError:
        from onnx.reference import ReferenceEvaluator
        ev = ReferenceEvaluator(model)

        def run(xs):
            return ev.run(None, dict(zip(onnx_names, cast(xs))))
    return run
