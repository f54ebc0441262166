"""PyTorch models to trignet, through torch.export.

Every PyTorch route ends in an ``ExportedProgram`` (an ATen-level FX graph):

* an ``nn.Module`` in memory: ``torch.export.export(module, example_inputs)``;
* a ``.pt2`` file: ``torch.export.load``;
* a TorchScript ``.pt`` file: ``torch.jit.load`` then torch's TorchScript ->
  ExportedProgram converter (``torch._export.converter.TS2EPConverter``),
  which needs example inputs, hence ``--input-shape``.

The graph is walked node by node; each ATen op maps to trignet nodes through
the ``OPS`` table. Adding an op = one function decorated with
``@op("aten.name.overload", ...)`` that receives the op's arguments (trignet
tensor names as ``T``, weights as numpy arrays, Python constants as they are)
and returns the result. Tensors are batch-first: axis 0 is the batch, and
every op that would touch it is refused.
"""

import os

import numpy as np

from .activations import act
from .errors import ConversionError, UnsupportedError, unsupported_config
from .graph import Graph, registrar
from . import writer

OPS = {}

# ops that are the identity at inference (no trignet node)
IDENTITY_OPS = ("aten.dropout.default", "aten.alias.default", "aten.clone.default", "aten.contiguous.default",
                "aten.detach.default", "aten.feature_dropout.default", "aten.alpha_dropout.default",
                "aten.lift_fresh_copy.default", "aten.dropout_.default")


op = registrar(OPS)


class T(str):
    """A trignet tensor name (the result of a mapped op)."""


class Pending:
    """A partial pattern (e.g. ``abs(x) + 1`` on the way to softsign): valid
    only as the input of the op that completes it."""

    def __init__(self, kind, src, where):
        self.kind, self.src, self.where = kind, src, where


class Ctx:
    def __init__(self, g, node, where):
        self.g, self.node, self.where = g, node, where

    def out_shape(self):
        v = self.node.meta.get("val")
        return tuple(int(d) for d in v.shape[1:])

    def add(self, type_, inputs, config=None, weights=None):
        return T(self.g.add_node(type_, inputs, config, weights, name=self.node.name, where=self.where))

    def activation(self, x, a):
        return self.add("Activation", [x], {"activation": a})

    def dim(self, d, rank_with_batch):
        """A torch dim (batch = 0) as a trignet per-sample axis."""
        d = int(d)
        if d < 0:
            d += rank_with_batch
        if d == 0:
            raise unsupported_config(self.op_name, self.where, "the op works on the batch axis (dim 0)")
        return d - 1

    def rank(self, x):
        return len(self.g.shapes[x]) + 1

    def tensor(self, v, what="input"):
        if isinstance(v, Pending):
            raise UnsupportedError(f"op '{v.kind}'", v.where, supported_ops(),
                                   "only supported as part of a softsign pattern x / (1 + abs(x))")
        if not isinstance(v, T):
            raise unsupported_config(self.op_name, self.where,
                                     f"{what} is a constant or weight tensor, not computed from the model "
                                     "inputs (trignet has no constant tensors)")
        return v


def supported_ops():
    return [n.replace("aten.", "") for n in list(OPS) + list(IDENTITY_OPS)]


# ---------------------------------------------------------------------------
# ops

@op("aten.linear.default")
def _linear(c, x, w, b=None):
    x = c.tensor(x)
    w = np.asarray(w)
    weights = {"kernel": w.T}
    if b is not None:
        weights["bias"] = np.asarray(b)
    return c.add("Dense", [x], {"units": int(w.shape[0]), "activation": "linear", "use_bias": b is not None}, weights)


@op("aten.matmul.default", "aten.mm.default")
def _matmul(c, x, w):
    x = c.tensor(x)
    if isinstance(w, T) or np.ndim(w) != 2:
        raise unsupported_config(c.op_name, c.where, "only x @ W with a constant 2-D W (a Linear) is supported")
    w = np.asarray(w)
    return c.add("Dense", [x], {"units": int(w.shape[1]), "activation": "linear", "use_bias": False},
                 {"kernel": w})


def _simple_activation(a):
    def fn(c, x, *args, **kwargs):
        return c.activation(c.tensor(x), a)
    return fn


for _name, _a in (("relu", act("relu")), ("relu_", act("relu")), ("sigmoid", act("sigmoid")),
                  ("tanh", act("tanh")), ("selu", act("selu")), ("silu", act("silu")), ("relu6", act("relu6")),
                  ("exp", act("exponential")), ("hardsigmoid", act("hard_sigmoid", slope=1.0 / 6.0, offset=0.5))):
    op(f"aten.{_name}.default")(_simple_activation(_a))


@op("aten.gelu.default")
def _gelu(c, x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise unsupported_config("gelu", c.where, f"approximate={approximate!r}")
    return c.activation(c.tensor(x), act("gelu", approximate=(approximate == "tanh")))


@op("aten.elu.default")
def _elu(c, x, alpha=1.0, scale=1.0, input_scale=1.0):
    if float(scale) != 1.0 or float(input_scale) != 1.0:
        raise unsupported_config("elu", c.where, f"scale={scale}, input_scale={input_scale} (only 1)")
    return c.activation(c.tensor(x), act("elu", alpha=float(alpha)))


@op("aten.leaky_relu.default")
def _leaky_relu(c, x, negative_slope=0.01):
    return c.activation(c.tensor(x), act("leaky_relu", alpha=float(negative_slope)))


@op("aten.hardtanh.default")
def _hardtanh(c, x, min_val=-1.0, max_val=1.0):
    if float(min_val) == 0.0 and float(max_val) == 6.0:
        return c.activation(c.tensor(x), act("relu6"))
    raise unsupported_config("hardtanh", c.where, f"min_val={min_val}, max_val={max_val} (only ReLU6: 0, 6)")


@op("aten.softplus.default")
def _softplus(c, x, beta=1.0, threshold=20.0):
    # torch returns x above the threshold; log(1 + exp(x)) equals x in float32 there.
    if float(beta) != 1.0 or float(threshold) < 15.0:
        raise unsupported_config("softplus", c.where, f"beta={beta}, threshold={threshold} (only beta=1)")
    return c.activation(c.tensor(x), act("softplus"))


@op("aten.softmax.int", "aten._softmax.default")
def _softmax(c, x, dim, *rest):
    x = c.tensor(x)
    return c.activation(x, act("softmax", axis=c.dim(dim, c.rank(x))))


@op("aten.abs.default")
def _abs(c, x):
    return Pending("abs", c.tensor(x), c.where)


@op("aten.div.Tensor")
def _div(c, a, b):
    if isinstance(b, Pending) and b.kind == "abs+1" and b.src == a:
        return c.activation(c.tensor(a), act("softsign"))
    raise unsupported_config("div", c.where, "division is supported only as softsign, x / (1 + abs(x))")


@op("aten.batch_norm.default")
def _batch_norm(c, x, weight, bias, mean, var, training=False, momentum=0.1, eps=1e-5, *rest):
    return _bn(c, x, weight, bias, mean, var, eps)


@op("aten._native_batch_norm_legit_no_training.default")
def _native_bn(c, x, weight, bias, mean, var, momentum, eps):
    return (_bn(c, x, weight, bias, mean, var, eps), None, None)


def _bn(c, x, weight, bias, mean, var, eps):
    x = c.tensor(x)
    if mean is None or var is None:
        raise unsupported_config("batch_norm", c.where, "no running statistics (track_running_stats=False)")
    w = {"moving_mean": np.asarray(mean), "moving_variance": np.asarray(var)}
    if weight is not None:
        w["gamma"] = np.asarray(weight)
    if bias is not None:
        w["beta"] = np.asarray(bias)
    # PyTorch normalises channels, dim 1 with the batch: per-sample axis 0.
    return c.add("BatchNormalization", [x], {"axis": 0, "epsilon": float(eps)}, w)


@op("aten.layer_norm.default")
def _layer_norm(c, x, normalized_shape, weight=None, bias=None, eps=1e-5, *rest):
    x = c.tensor(x)
    k = len(normalized_shape)
    w = {}
    if weight is not None:
        w["gamma"] = np.asarray(weight)
    if bias is not None:
        w["beta"] = np.asarray(bias)
    axes = list(range(-k, 0))
    return c.add("LayerNormalization", [x], {"axis": axes[0] if k == 1 else axes, "epsilon": float(eps)}, w)


@op("aten.native_layer_norm.default")
def _native_layer_norm(c, x, normalized_shape, weight, bias, eps):
    return (_layer_norm(c, x, normalized_shape, weight, bias, eps), None, None)


@op("aten.flatten.using_ints")
def _flatten(c, x, start_dim=0, end_dim=-1):
    x = c.tensor(x)
    r = c.rank(x)
    s, e = start_dim % r, end_dim % r
    if s == 0:
        raise unsupported_config("flatten", c.where, "flattening the batch axis (start_dim=0)")
    if s == 1 and e == r - 1:
        return c.add("Flatten", [x])
    return c.add("Reshape", [x], {"shape": list(c.out_shape())})


@op("aten.view.default", "aten.reshape.default", "aten._unsafe_view.default", "aten.unsqueeze.default",
    "aten.squeeze.dim", "aten.squeeze.dims", "aten.unflatten.int")
def _reshape(c, x, *args):
    x = c.tensor(x)
    v = c.node.meta["val"]
    in_v = c.node.args[0].meta["val"]
    if int(v.shape[0]) != int(in_v.shape[0]) or len(v.shape) < 2:
        raise unsupported_config(c.op_name, c.where, f"reshape {list(in_v.shape)} -> {list(v.shape)} "
                                 "changes the batch axis")
    return c.add("Reshape", [x], {"shape": list(c.out_shape())})


@op("aten.permute.default")
def _permute(c, x, dims):
    x = c.tensor(x)
    r = c.rank(x)
    dims = [int(d) % r for d in dims]
    if dims[0] != 0:
        raise unsupported_config("permute", c.where, f"dims {dims} move the batch axis")
    return c.add("Permute", [x], {"dims": [d - 1 for d in dims[1:]]})


@op("aten.transpose.int")
def _transpose(c, x, d0, d1):
    x = c.tensor(x)
    r = c.rank(x)
    a, b = c.dim(d0, r), c.dim(d1, r)
    dims = list(range(r - 1))
    dims[a], dims[b] = dims[b], dims[a]
    return c.add("Permute", [x], {"dims": dims})


@op("aten.cat.default", "aten.concat.default")
def _cat(c, tensors, dim=0):
    xs = [c.tensor(t) for t in tensors]
    if len(xs) == 1:
        return xs[0]
    return c.add("Concatenate", xs, {"axis": c.dim(dim, c.rank(xs[0]))})


def _binary(type_):
    def fn(c, a, b, alpha=1):
        if type_ == "Add" and isinstance(a, Pending) and a.kind == "abs" and _is_scalar(b, 1.0):
            return Pending("abs+1", a.src, c.where)
        if type_ == "Add" and isinstance(b, Pending) and b.kind == "abs" and _is_scalar(a, 1.0):
            return Pending("abs+1", b.src, c.where)
        if float(alpha) != 1.0:
            raise unsupported_config(c.op_name, c.where, f"alpha={alpha}")
        if not (isinstance(a, T) and isinstance(b, T)):
            raise unsupported_config(c.op_name, c.where, "an operand is a constant or a Python number; trignet's "
                                     f"{type_} combines computed tensors of identical shape only")
        return c.add(type_, [a, b])
    return fn


def _is_scalar(v, value):
    return isinstance(v, (int, float)) and float(v) == value


op("aten.add.Tensor")(_binary("Add"))
op("aten.sub.Tensor")(_binary("Subtract"))
op("aten.mul.Tensor")(_binary("Multiply"))
op("aten.maximum.default")(_binary("Maximum"))
op("aten.minimum.default")(_binary("Minimum"))


# ---------------------------------------------------------------------------
# convolution, pooling, resampling: PyTorch tensors are channels-first, and
# the engine keeps that layout (data_format "channels_first"), so a Flatten
# after a convolution sees PyTorch's element order.

CF = "channels_first"


def _sp(v, r):
    v = [int(a) for a in (v if isinstance(v, (list, tuple)) else [v])]
    return v * r if len(v) == 1 else v


def _conv_kernel(w):
    """[out, in/g, *k] (PyTorch) -> [*k, in/g, out] (trignet); also for
    transposed convolutions' [in, out, *k] -> [*k, out, in]."""
    w = np.asarray(w)
    return np.transpose(w, tuple(range(2, w.ndim)) + (1, 0))


def _spatial_rank(c, x, r):
    if c.rank(x) != r + 2:
        raise unsupported_config(c.op_name, c.where, f"input of rank {c.rank(x)} (batch included); expected "
                                 f"{r + 2}: [N, C, {'L' if r == 1 else 'H, W'}]")


def _conv(r):
    def fn(c, x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        x = c.tensor(x)
        _spatial_rank(c, x, r)
        k = list(np.shape(w)[2:])
        d = _sp(dilation, r)
        if isinstance(padding, str):
            if padding == "same":
                pad = [[(di * (ki - 1)) // 2, di * (ki - 1) - (di * (ki - 1)) // 2] for ki, di in zip(k, d)]
            elif padding == "valid":
                pad = "valid"
            else:
                raise unsupported_config(c.op_name, c.where, f"padding={padding!r}")
        else:
            pad = [[p, p] for p in _sp(padding, r)]
        cfg = {"filters": int(np.shape(w)[0]), "kernel_size": k, "strides": _sp(stride, r), "dilation_rate": d,
               "padding": pad, "groups": int(groups), "use_bias": b is not None, "data_format": CF}
        weights = {"kernel": _conv_kernel(w)}
        if b is not None:
            weights["bias"] = np.asarray(b)
        return c.add(f"Conv{r}D", [x], cfg, weights)
    return fn


op("aten.conv1d.default", "aten.conv1d.padding")(_conv(1))
op("aten.conv2d.default", "aten.conv2d.padding")(_conv(2))


@op("aten.convolution.default")
def _convolution(c, x, w, b, stride, padding, dilation, transposed, output_padding, groups):
    r = np.ndim(w) - 2
    if transposed:
        return _conv_transpose(r)(c, x, w, b, stride, padding, output_padding, groups, dilation)
    return _conv(r)(c, x, w, b, stride, padding, dilation, groups)


def _conv_transpose(r):
    def fn(c, x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        x = c.tensor(x)
        _spatial_rank(c, x, r)
        if int(groups) != 1:
            raise unsupported_config(c.op_name, c.where, f"groups={groups} (transposed convolutions: only 1)")
        pad = [[p, p] for p in _sp(padding, r)]
        cfg = {"filters": int(np.shape(w)[1]), "kernel_size": list(np.shape(w)[2:]), "strides": _sp(stride, r),
               "dilation_rate": _sp(dilation, r), "padding": pad, "use_bias": b is not None, "data_format": CF}
        op_ = _sp(output_padding, r)
        if any(op_):
            cfg["output_padding"] = op_
        weights = {"kernel": _conv_kernel(w)}
        if b is not None:
            weights["bias"] = np.asarray(b)
        return c.add(f"Conv{r}DTranspose", [x], cfg, weights)
    return fn


op("aten.conv_transpose1d.default")(_conv_transpose(1))
op("aten.conv_transpose2d.input")(_conv_transpose(2))


def _pool_padding(p, r):
    p = _sp(p, r)
    return "valid" if not any(p) else [[a, a] for a in p]


def _max_pool(r):
    def fn(c, x, kernel, stride=(), padding=0, dilation=1, ceil_mode=False):
        x = c.tensor(x)
        _spatial_rank(c, x, r)
        if any(d != 1 for d in _sp(dilation, r)):
            raise unsupported_config(c.op_name, c.where, f"dilation={dilation} (trignet pooling has no dilation)")
        if ceil_mode:
            raise unsupported_config(c.op_name, c.where, "ceil_mode=True (only floor)")
        k = _sp(kernel, r)
        cfg = {"pool_size": k, "strides": _sp(stride, r) if stride else k, "padding": _pool_padding(padding, r),
               "data_format": CF}
        res = c.add(f"MaxPooling{r}D", [x], cfg)
        return (res, None) if "with_indices" in c.op_full else res
    return fn


op("aten.max_pool1d.default", "aten.max_pool1d_with_indices.default")(_max_pool(1))
op("aten.max_pool2d.default", "aten.max_pool2d_with_indices.default")(_max_pool(2))


def _avg_pool(r):
    def fn(c, x, kernel, stride=(), padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        x = c.tensor(x)
        _spatial_rank(c, x, r)
        if ceil_mode:
            raise unsupported_config(c.op_name, c.where, "ceil_mode=True (only floor)")
        if divisor_override:
            raise unsupported_config(c.op_name, c.where, f"divisor_override={divisor_override}")
        k = _sp(kernel, r)
        pad = _pool_padding(padding, r)
        cfg = {"pool_size": k, "strides": _sp(stride, r) if stride else k, "padding": pad, "data_format": CF}
        if pad != "valid":
            cfg["count_include_pad"] = bool(count_include_pad)
        return c.add(f"AveragePooling{r}D", [x], cfg)
    return fn


op("aten.avg_pool1d.default")(_avg_pool(1))
op("aten.avg_pool2d.default")(_avg_pool(2))


def _adaptive_avg(r):
    def fn(c, x, output_size):
        x = c.tensor(x)
        _spatial_rank(c, x, r)
        n = list(c.g.shapes[x][1:])
        o = _sp(output_size, r)
        if all(a == 1 for a in o):
            return c.add(f"GlobalAveragePooling{r}D", [x], {"keepdims": True, "data_format": CF})
        if all(a and ni % a == 0 for ni, a in zip(n, o)):
            k = [ni // a for ni, a in zip(n, o)]
            return c.add(f"AveragePooling{r}D", [x], {"pool_size": k, "strides": k, "data_format": CF})
        raise unsupported_config(c.op_name, c.where, f"output_size {o} does not divide the input lengths {n}")
    return fn


op("aten.adaptive_avg_pool1d.default")(_adaptive_avg(1))
op("aten.adaptive_avg_pool2d.default", "aten._adaptive_avg_pool2d.default")(_adaptive_avg(2))


def _upsample(r):
    def fn(c, x, output_size=None, scale_factors=None, *rest):
        x = c.tensor(x)
        _spatial_rank(c, x, r)
        n = list(c.g.shapes[x][1:])
        if output_size:
            o = _sp(output_size, r)
            if any(a % b for a, b in zip(o, n)):
                raise unsupported_config(c.op_name, c.where, f"output size {o} is not a multiple of {n}")
            size = [a // b for a, b in zip(o, n)]
        else:
            f = [float(a) for a in _sp(scale_factors, r)] if not isinstance(scale_factors, (int, float)) \
                else [float(scale_factors)] * r
            if any(a != int(a) or a < 1 for a in f):
                raise unsupported_config(c.op_name, c.where, f"scale factors {f} (only positive integers)")
            size = [int(a) for a in f]
        return c.add(f"UpSampling{r}D", [x], {"size": size, "data_format": CF})
    return fn


op("aten.upsample_nearest1d.vec")(_upsample(1))
op("aten.upsample_nearest2d.vec")(_upsample(2))


def _pad_or_crop(c, x, per_axis):
    """per_axis: {per-sample axis: (before, after)}, positive pads, negative crops."""
    s = c.g.shapes[x]
    rk = len(s)
    per_axis = {a: p for a, p in per_axis.items() if p != (0, 0)}
    if not per_axis:
        return x
    if rk not in (2, 3):
        raise unsupported_config(c.op_name, c.where, f"padding/cropping a per-sample rank-{rk} tensor "
                                 "(trignet pads and crops rank 2 and 3: 1D and 2D layers)")
    spatial = list(range(1, rk)) if all(a >= 1 for a in per_axis) else list(range(0, rk - 1))
    if not all(a in spatial for a in per_axis):
        raise unsupported_config(c.op_name, c.where, f"padding/cropping axes {sorted(per_axis)} of a rank-{rk} "
                                 "tensor together")
    fmt = {"data_format": CF if spatial[0] == 1 else "channels_last"}
    pads = [per_axis.get(a, (0, 0)) for a in spatial]
    r = len(spatial)
    pos = [[max(b, 0), max(e, 0)] for b, e in pads]
    neg = [[max(-b, 0), max(-e, 0)] for b, e in pads]
    if any(any(p) for p in pos):
        x = c.add(f"ZeroPadding{r}D", [x], {"padding": pos, **fmt})
    if any(any(p) for p in neg):
        x = c.add(f"Cropping{r}D", [x], {"cropping": neg, **fmt})
    return x


@op("aten.pad.default", "aten.constant_pad_nd.default")
def _pad(c, x, pad, mode="constant", value=0.0):
    x = c.tensor(x)
    if mode != "constant" or (value is not None and float(value) != 0.0):
        raise unsupported_config(c.op_name, c.where, f"mode={mode!r}, value={value} (only constant 0)")
    rk = c.rank(x)
    per_axis = {}
    for i in range(len(pad) // 2):
        per_axis[c.dim(rk - 1 - i, rk)] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return _pad_or_crop(c, x, per_axis)


@op("aten.slice.Tensor")
def _slice(c, x, dim=0, start=None, end=None, step=1):
    if isinstance(x, np.ndarray):     # a weight sliced in the graph
        sl = [slice(None)] * x.ndim
        sl[int(dim)] = slice(start, end, step)
        return x[tuple(sl)]
    x = c.tensor(x)
    rk = c.rank(x)
    a = c.dim(dim, rk)
    n = c.g.shapes[x][a]
    if int(step) != 1:
        raise unsupported_config("slice", c.where, f"step={step} (only 1: a crop)")
    b = 0 if start is None else int(start)
    e = n if end is None else int(end)
    b, e = (b + n if b < 0 else b), (e + n if e < 0 else e)
    b, e = min(max(b, 0), n), min(max(e, 0), n)
    if e <= b:
        raise unsupported_config("slice", c.where, "empty slice")
    return _pad_or_crop(c, x, {a: (-b, -(n - e))})


@op("aten.select.int")
def _select(c, x, dim, index):
    if isinstance(x, RnnState):
        return x.select(c, int(dim), int(index))
    x = c.tensor(x)
    rk = c.rank(x)
    a = c.dim(dim, rk)
    s = c.g.shapes[x]
    i = int(index) % s[a]
    y = _pad_or_crop(c, x, {a: (-i, -(s[a] - i - 1))})
    return c.add("Reshape", [y], {"shape": [d for k, d in enumerate(s) if k != a] or [1]})


# ---------------------------------------------------------------------------
# recurrent layers (aten.gru / lstm / rnn_tanh / rnn_relu, batch_first)

class Zeros:
    """aten.zeros: only valid as a recurrent layer's initial state."""


@op("aten.zeros.default", "aten.zeros_like.default", "aten.new_zeros.default")
def _zeros(c, *args, **kwargs):
    return Zeros()


class RnnState:
    """h_n (or c_n) of a recurrent op: [num_layers * directions, N, H], not
    batch-first; only ``h_n[k]`` (select on dim 0) is supported."""

    def __init__(self, builders, where):
        self.builders, self.where = builders, where

    def select(self, c, dim, index):
        if dim != 0:
            raise unsupported_config("select", c.where, "only h_n[k] of a recurrent layer's final state")
        return self.builders[index % len(self.builders)]()


_GATES = {"gru": 3, "lstm": 4, "rnn_tanh": 1, "rnn_relu": 1}


def _rnn_weights(kind, w_ih, w_hh, b_ih, b_hh, units):
    w_ih, w_hh = np.asarray(w_ih, np.float32), np.asarray(w_hh, np.float32)
    perm = None
    if kind == "gru":   # PyTorch r, z, n -> trignet z, r, h
        perm = np.concatenate([np.arange(units, 2 * units), np.arange(0, units), np.arange(2 * units, 3 * units)])
        w_ih, w_hh = w_ih[perm], w_hh[perm]
    w = {"kernel": w_ih.T, "recurrent_kernel": w_hh.T}
    if b_ih is not None:
        b_ih, b_hh = np.asarray(b_ih, np.float32), np.asarray(b_hh, np.float32)
        if kind == "gru":
            w["bias"] = np.stack([b_ih[perm], b_hh[perm]])
        else:
            w["bias"] = b_ih + b_hh      # PyTorch's two biases, summed
    return w


def _recurrent(kind):
    def fn(c, x, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
        x = c.tensor(x)
        hxs = hx if isinstance(hx, (list, tuple)) else [hx]
        if not all(isinstance(h, Zeros) or h is None for h in hxs):
            raise unsupported_config(c.op_name, c.where, "a non-zero initial state (trignet starts from zeros)")
        if not batch_first:
            raise unsupported_config(c.op_name, c.where, "batch_first=False: the input is [T, N, F], not "
                                     "batch-first; use batch_first=True")
        dirs = 2 if bidirectional else 1
        per = 4 if has_biases else 2
        if len(params) != num_layers * dirs * per:
            raise unsupported_config(c.op_name, c.where, "LSTM with proj_size (weight_hr) is not supported")
        units = int(np.shape(params[1])[1])
        t = {"gru": "GRU", "lstm": "LSTM"}.get(kind, "SimpleRNN")
        base = {"units": units}
        if kind == "rnn_relu":
            base["activation"] = "relu"
        elif kind == "rnn_tanh":
            base["activation"] = "tanh"
        if t == "GRU":
            base["reset_after"] = True
        base["use_bias"] = bool(has_biases)
        inp, builders = x, []
        for layer_i in range(num_layers):
            outs = []
            for d in range(dirs):
                p = params[(layer_i * dirs + d) * per:(layer_i * dirs + d + 1) * per]
                w = _rnn_weights(kind, p[0], p[1], p[2] if has_biases else None, p[3] if has_biases else None, units)
                cfg = dict(base, return_sequences=True, go_backwards=bool(d))
                y = c.add(t, [inp], cfg, w)
                if d:
                    y = c.add("Reverse", [y], {"axis": 0})
                outs.append(y)
                builders.append(lambda inp=inp, w=w, d=d: c.add(t, [inp], dict(base, return_sequences=False,
                                                                               go_backwards=bool(d)), w))
            inp = outs[0] if dirs == 1 else c.add("Concatenate", outs, {"axis": -1})
        state = RnnState(builders, c.where)
        if kind != "lstm":
            return inp, state

        def cell_state():
            raise unsupported_config(c.op_name, c.where, "the LSTM cell state c_n (trignet's LSTM returns h)")
        return inp, state, RnnState([cell_state] * len(builders), c.where)
    return fn


for _k in _GATES:
    op(f"aten.{_k}.input")(_recurrent(_k))


# ---------------------------------------------------------------------------
# embedding

@op("aten.embedding.default")
def _embedding(c, weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    x = c.tensor(indices, "indices")
    w = np.asarray(weight)
    return c.add("Embedding", [x], {"input_dim": int(w.shape[0]), "output_dim": int(w.shape[1])}, {"embeddings": w})


# ---------------------------------------------------------------------------
# nn.MultiheadAttention: torch.export decomposes it into dozens of view /
# transpose / scaled_dot_product_attention ops. convert_torch captures it
# whole instead: while exporting, each nn.MultiheadAttention calls one custom
# op (trignet::mha) holding its projections; the framework's test vectors
# come from the untouched module.

_MHA_OP = []


def _mha_op():
    if _MHA_OP:
        return _MHA_OP[0]
    import torch
    import torch.nn.functional as F
    from typing import Optional

    @torch.library.custom_op("trignet::mha", mutates_args=())
    def mha(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, wq: torch.Tensor, wk: torch.Tensor,
            wv: torch.Tensor, bq: Optional[torch.Tensor], bk: Optional[torch.Tensor], bv: Optional[torch.Tensor],
            wo: torch.Tensor, bo: Optional[torch.Tensor], num_heads: int, causal: bool) -> torch.Tensor:
        n, tq, _ = query.shape
        h = num_heads
        q = F.linear(query, wq, bq).view(n, tq, h, -1).transpose(1, 2)
        k = F.linear(key, wk, bk).view(n, key.shape[1], h, -1).transpose(1, 2)
        v = F.linear(value, wv, bv).view(n, value.shape[1], h, -1).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return F.linear(o.transpose(1, 2).reshape(n, tq, -1), wo, bo)

    @mha.register_fake
    def _(query, key, value, wq, wk, wv, bq, bk, bv, wo, bo, num_heads, causal):
        return query.new_empty((query.shape[0], query.shape[1], wo.shape[0]))

    _MHA_OP.append(mha)
    return mha


def _mha_forward(mod, path):
    from .errors import ConversionError as CE
    where = f"module '{path}' (MultiheadAttention)"

    def forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if not mod.batch_first:
            raise CE(f"unsupported configuration of MultiheadAttention at {where}: batch_first=False "
                     "(inputs [T, N, D] are not batch-first); use batch_first=True")
        if mod.bias_k is not None or mod.add_zero_attn:
            raise CE(f"unsupported configuration of MultiheadAttention at {where}: add_bias_kv / add_zero_attn")
        if key_padding_mask is not None:
            raise CE(f"unsupported configuration of MultiheadAttention at {where}: key_padding_mask. PyTorch "
                     "masks are inverted relative to trignet's (True = masked, per key [N, S]); trignet takes a "
                     "[T_q, T_v] mask with 1 = attend as a model input, which convert_keras produces from Keras' "
                     "attention_mask. Apply the mask outside the model, or use is_causal=True for causal masking")
        if attn_mask is not None and not is_causal:
            raise CE(f"unsupported configuration of MultiheadAttention at {where}: attn_mask (True / -inf = "
                     "masked in PyTorch, the inverse of trignet's 1 = attend); only the causal mask is converted, "
                     "passed with is_causal=True")
        e = mod.embed_dim
        if mod._qkv_same_embed_dim:
            wq, wk, wv = mod.in_proj_weight[:e], mod.in_proj_weight[e:2 * e], mod.in_proj_weight[2 * e:]
        else:
            wq, wk, wv = mod.q_proj_weight, mod.k_proj_weight, mod.v_proj_weight
        b = mod.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        out = _mha_op()(query, key, value, wq, wk, wv, bq, bk, bv, mod.out_proj.weight, mod.out_proj.bias,
                        mod.num_heads, bool(is_causal))
        return out, None
    return forward


def _patched_mha(module):
    """Context: every nn.MultiheadAttention of module calls trignet::mha."""
    import contextlib
    import torch

    @contextlib.contextmanager
    def ctx():
        saved = []
        for path, m in module.named_modules():
            if isinstance(m, torch.nn.MultiheadAttention):
                saved.append((m, m.__dict__.get("forward")))
                m.forward = _mha_forward(m, path or type(module).__name__)
        try:
            yield
        finally:
            for m, f in saved:
                if f is None:
                    del m.forward
                else:
                    m.forward = f
    return ctx()


@op("trignet.mha.default", "torch._ops.trignet.mha.default")
def _mha(c, query, key, value, wq, wk, wv, bq, bk, bv, wo, bo, num_heads, causal):
    q, k, v = c.tensor(query), c.tensor(key), c.tensor(value)
    h = int(num_heads)
    wq, wk, wv, wo = (np.asarray(a, np.float32) for a in (wq, wk, wv, wo))
    e = wq.shape[0]
    kd, vd = e // h, wv.shape[0] // h
    # PyTorch Linear weights [out = H * dim, in] -> Keras [in, H, dim]; out_proj [D, H * vd] -> [H, vd, D]
    w = {"query_kernel": wq.T.reshape(-1, h, kd), "key_kernel": wk.T.reshape(-1, h, kd),
         "value_kernel": wv.T.reshape(-1, h, vd), "output_kernel": wo.T.reshape(h, vd, -1)}
    use_bias = bq is not None
    if use_bias:
        w.update(query_bias=np.asarray(bq).reshape(h, kd), key_bias=np.asarray(bk).reshape(h, kd),
                 value_bias=np.asarray(bv).reshape(h, vd),
                 output_bias=np.asarray(bo) if bo is not None else np.zeros(wo.shape[0], np.float32))
    elif bo is not None:
        raise unsupported_config("MultiheadAttention", c.where, "an output bias without input projection biases")
    ins = [q, v] if k == v else [q, v, k]
    cfg = {"num_heads": h, "key_dim": kd, "value_dim": vd, "use_bias": use_bias}
    if causal:
        cfg["causal"] = True
    return c.add("MultiHeadAttention", ins, cfg, w)


# ---------------------------------------------------------------------------
# graph walk

def _where(n):
    stack = n.meta.get("nn_module_stack")
    mod = ""
    if stack:
        path, cls = list(stack.values())[-1]
        cls = getattr(cls, "__name__", str(cls)).split(".")[-1]
        mod = f" in module '{path}' ({cls})"
    src = ""
    trace = n.meta.get("stack_trace")
    if trace:
        lines = [ln.strip() for ln in trace.strip().splitlines() if ln.strip()]
        src = f", source: {lines[-1]}" if lines else ""
    return f"graph node '{n.name}'{mod}{src}"


def _target_name(t):
    s = str(t)
    if not s.startswith("aten.") and hasattr(t, "__name__"):
        s = f"{getattr(t, '__module__', '')}.{t.__name__}".lstrip(".")
    return s


def convert_program(ep, run, name, options, meta, path, input_shapes=None):
    import torch
    import torch.fx
    g = Graph(name)
    sig = ep.graph_signature
    consts = {}
    state = dict(ep.state_dict)
    state.update(getattr(ep, "constants", {}) or {})
    for spec_map in (sig.inputs_to_parameters, sig.inputs_to_buffers,
                     getattr(sig, "inputs_to_lifted_tensor_constants", {}) or {}):
        for ph, key in spec_map.items():
            consts[ph] = state[key]
    user_inputs = list(sig.user_inputs)
    nodes = list(ep.graph.nodes)
    out_node = [n for n in nodes if n.op == "output"][0]

    # only what the outputs need (skips dead code such as TorchScript's dim checks)
    needed, stack = set(), [out_node]
    while stack:
        n = stack.pop()
        if n in needed:
            continue
        needed.add(n)
        stack.extend(n.all_input_nodes)

    for n in nodes:   # control flow and decomposed attention first: they explain every later failure
        if n.op == "call_function" and n in needed and "scaled_dot_product_attention" in _target_name(n.target):
            raise UnsupportedError(f"PyTorch op '{_target_name(n.target)}'", _where(n), supported_ops(),
                                   "attention decomposed into primitive ops: nn.MultiheadAttention is converted "
                                   "from the nn.Module (convert_torch), which captures it whole; an exported "
                                   "program (.pt2) or TorchScript file holds it decomposed")
        if n.op == "call_function" and n in needed and "higher_order" in _target_name(n.target):
            raise UnsupportedError(f"PyTorch op '{_target_name(n.target)}'", _where(n), supported_ops(),
                                   "data-dependent control flow (torch.cond / loops) cannot be represented "
                                   "in a static graph")
    values = {}
    k = 0
    for n in nodes:
        if n.op == "placeholder":
            if n.name in consts:
                v = consts[n.name]
                values[n] = v.detach().cpu().numpy().astype(np.float32) if isinstance(v, torch.Tensor) else v
            elif n.name in user_inputs:
                val = n.meta.get("val")
                shape = list(val.shape[1:]) if val is not None and hasattr(val, "shape") else None
                if input_shapes and k < len(input_shapes) and input_shapes[k] is not None:
                    shape = list(input_shapes[k])
                if shape is None or any(not isinstance(d, int) and not str(d).isdigit() for d in shape):
                    raise ConversionError(f"input '{n.name}': per-sample shape unknown; give it with --input-shape")
                dtype = "float32"
                if val is not None and hasattr(val, "dtype") and not val.dtype.is_floating_point:
                    dtype = "int32"
                values[n] = T(g.add_input(n.name, [int(d) for d in shape], dtype))
                k += 1
            else:
                values[n] = None
            continue
        if n not in needed:
            continue
        if n.op == "output":
            break
        if n.op == "get_attr":
            v = getattr(ep.graph_module, n.target)
            values[n] = v.detach().cpu().numpy().astype(np.float32) if isinstance(v, torch.Tensor) else v
            continue
        if n.op != "call_function":
            raise UnsupportedError(f"graph node kind '{n.op}'", _where(n), supported_ops())
        tname = _target_name(n.target)
        args = torch.fx.node.map_arg(n.args, lambda a: values[a])
        kwargs = torch.fx.node.map_arg(n.kwargs, lambda a: values[a])
        if tname in ("_operator.getitem", "operator.getitem"):
            values[n] = args[0][args[1]]
            continue
        if tname in IDENTITY_OPS:
            values[n] = args[0]
            continue
        fn = OPS.get(tname)
        if fn is None:
            detail = None
            if "scaled_dot_product_attention" in tname:
                detail = ("nn.MultiheadAttention is converted from the nn.Module (convert_torch), which captures "
                          "it whole; in an exported program or TorchScript file it is decomposed")
            elif "higher_order" in tname or "cond" in tname or "while_loop" in tname:
                detail = "data-dependent control flow (torch.cond / loops) cannot be represented in a static graph"
            raise UnsupportedError(f"PyTorch op '{tname}'", _where(n), supported_ops(), detail)
        c = Ctx(g, n, f"{_where(n)}, op {tname}")
        c.op_name = tname.replace("aten.", "").split(".")[0]
        c.op_full = tname
        values[n] = fn(c, *args, **kwargs)

    import torch.utils._pytree as pytree
    outs = pytree.tree_leaves(out_node.args[0], is_leaf=lambda a: isinstance(a, torch.fx.Node))
    out_names = list(sig.user_outputs) if len(sig.user_outputs) == len(outs) else [None] * len(outs)
    used = set()
    for i, (o, oname) in enumerate(zip(outs, out_names)):
        v = values[o]
        if not isinstance(v, T):
            raise ConversionError(f"output {i} ({o.name}) is not computed from the model inputs")
        oname = "output" if len(outs) == 1 else f"output_{i}"
        while oname in used:
            oname += "_"
        used.add(oname)
        g.add_output(oname, v)
    if hasattr(run, "dtypes"):
        run.dtypes[:] = [i["dtype"] for i in g.inputs]
    return writer.finish(g, run, options, meta, path)


def _export(module, args):
    import torch
    try:
        return torch.export.export(module, tuple(args))
    except ConversionError:
        raise
    except Exception as e:
        msg = str(e)
        first = msg.strip().splitlines()[0] if msg.strip() else type(e).__name__
        if "data-dependent" in msg.lower() or "control flow" in msg.lower() or "GuardOnDataDependent" in type(e).__name__:
            raise ConversionError(
                "torch.export cannot capture the model: it has data-dependent (dynamic) control flow, which "
                f"trignet's static graph cannot represent. torch.export said: {first}") from e
        raise ConversionError(f"torch.export cannot capture the model: {first}") from e


def _runner(fn, static_batch=None, dtypes=None):
    """Runs the framework on a batch; a program exported with a fixed batch
    size B is run on chunks of B samples (the last one zero-padded)."""
    import torch
    import torch.utils._pytree as pytree

    dtypes = [] if dtypes is None else dtypes

    def run_once(xs):
        with torch.no_grad():
            ts = [torch.from_numpy(np.ascontiguousarray(x)) for x in xs]
            ts = [t.long() if dt == "int32" else t for t, dt in zip(ts, list(dtypes) + [None] * len(ts))]
            ys = fn(*ts)
        return [y.detach().cpu().numpy().astype(np.float32) for y in pytree.tree_leaves(ys)]

    def run(xs):
        n = xs[0].shape[0]
        if not static_batch or n == static_batch:
            return run_once(xs)
        chunks = []
        for start in range(0, n, static_batch):
            part = [x[start:start + static_batch] for x in xs]
            k = part[0].shape[0]
            part = [np.concatenate([p, np.zeros((static_batch - k, *p.shape[1:]), np.float32)]) for p in part]
            chunks.append([y[:k] for y in run_once(part)])
        return [np.concatenate(c) for c in zip(*chunks)]
    run.dtypes = dtypes
    return run


def _static_batch(ep):
    for n in ep.graph.nodes:
        if n.op == "placeholder" and n.name in ep.graph_signature.user_inputs:
            d = n.meta["val"].shape[0]
            return int(d) if isinstance(d, int) else None
    return None


def _meta():
    import torch
    return {"framework": "pytorch", "framework_version": torch.__version__.split("+")[0]}


def convert_torch(module, example_inputs, path=None, options=None, **kwargs):
    """Converts an nn.Module (put in eval mode) with example inputs
    (a tensor or a tuple of tensors, batch-first)."""
    import torch
    opt = writer.make_options(options, **kwargs)
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    module.eval()
    with _patched_mha(module):
        ep = _export(module, example_inputs)
    return convert_program(ep, _runner(module), type(module).__name__, opt, _meta(), path)


def convert_exported_program(ep, path=None, options=None, **kwargs):
    opt = writer.make_options(options, **kwargs)
    return convert_program(ep, _runner(ep.module(), _static_batch(ep)), "exported_program", opt, _meta(), path)


def convert_exported_file(model_path, path=None, options=None, input_shapes=None, **kwargs):
    import torch
    opt = writer.make_options(options, **kwargs)
    ep = torch.export.load(str(model_path))
    meta = dict(_meta(), source_file=os.path.basename(str(model_path)))
    name = os.path.splitext(os.path.basename(str(model_path)))[0]
    return convert_program(ep, _runner(ep.module(), _static_batch(ep)), name, opt, meta, path, input_shapes)


def convert_torchscript_file(model_path, path=None, options=None, input_shapes=None, **kwargs):
    import torch
    opt = writer.make_options(options, **kwargs)
    if not input_shapes:
        raise ConversionError(f"{model_path}: a TorchScript file does not record input shapes; give each "
                              "input's per-sample shape with --input-shape (API: input_shapes=[[16], ...])")
    ts = torch.jit.load(str(model_path), map_location="cpu")
    ts.eval()
    args = tuple(torch.randn(2, *s) for s in input_shapes)
    try:
        from torch._export.converter import TS2EPConverter
        ep = TS2EPConverter(ts, args).convert()
    except Exception as e:
        msg = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConversionError(f"{model_path}: torch cannot turn this TorchScript module into an exported "
                              f"program (dynamic control flow or an unsupported construct): {msg}. Export the "
                              "original nn.Module with torch.export (a .pt2 file) instead.") from e
    meta = dict(_meta(), source_file=os.path.basename(str(model_path)), torchscript=True)
    name = os.path.splitext(os.path.basename(str(model_path)))[0]
    return convert_program(ep, _runner(ts), name, opt, meta, path)
