"""Keras 3 models (in memory, ``.keras`` files, legacy Keras 2 ``.h5`` full
models) to trignet.

The Keras graph (Sequential or Functional, nested models included) is walked
layer call by layer call; each layer class maps to trignet nodes through the
``LAYERS`` table. Adding a layer = one function decorated with
``@layer("KerasClassName")`` that calls ``g.add_node`` and returns the
trignet tensor name.
"""

import os

import numpy as np

from .activations import act
from .errors import ConversionError, UnsupportedError, unsupported_config
from .graph import registrar
from . import writer

LAYERS = {}


layer = registrar(LAYERS)


def import_keras():
    # Keras 3 runs on the torch backend when TensorFlow is not installed.
    if "KERAS_BACKEND" not in os.environ:
        import importlib.util
        if importlib.util.find_spec("tensorflow") is None and importlib.util.find_spec("torch") is not None:
            os.environ["KERAS_BACKEND"] = "torch"
    import keras
    return keras


def _np(v):
    keras = import_keras()
    return np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32)


def keras_axis(axis, where):
    """Keras counts the batch axis as 0; trignet axes are per sample."""
    axis = int(axis)
    if axis == 0:
        raise unsupported_config("axis", where, "axis 0 is the batch axis")
    return axis - 1 if axis > 0 else axis


# ---------------------------------------------------------------------------
# activations

KERAS_ACTIVATIONS = {
    "linear": lambda: act("linear"),
    "relu": lambda: act("relu"),
    "relu6": lambda: act("relu6"),
    "leaky_relu": lambda: act("leaky_relu", alpha=0.2),       # keras.activations.leaky_relu default
    "elu": lambda: act("elu", alpha=1.0),
    "selu": lambda: act("selu"),
    "gelu": lambda: act("gelu", approximate=False),          # keras.activations.gelu default
    "sigmoid": lambda: act("sigmoid"),
    "hard_sigmoid": lambda: act("hard_sigmoid", slope=1.0 / 6.0, offset=0.5),   # Keras 3: relu6(x + 3) / 6
    "tanh": lambda: act("tanh"),
    "softmax": lambda: act("softmax", axis=-1),
    "softplus": lambda: act("softplus"),
    "softsign": lambda: act("softsign"),
    "silu": lambda: act("silu"),
    "swish": lambda: act("silu"),
    "exponential": lambda: act("exponential"),
}


def keras_activation(spec, where):
    name = spec
    if isinstance(spec, dict):      # serialised function: {"class_name": "function", "config": "relu", ...}
        name = spec.get("config") if isinstance(spec.get("config"), str) else spec.get("class_name")
    if not isinstance(name, str) and callable(spec):
        name = getattr(spec, "__name__", repr(spec))
    if name not in KERAS_ACTIVATIONS:
        raise UnsupportedError(f"activation '{name}'", where, KERAS_ACTIVATIONS)
    return KERAS_ACTIVATIONS[name]()


# ---------------------------------------------------------------------------
# layers

@layer("Dense")
def _dense(g, lyr, x, where):
    cfg = lyr.get_config()
    if getattr(lyr, "lora_enabled", False) or cfg.get("lora_rank"):
        raise unsupported_config("Dense", where, "LoRA is enabled; merge the LoRA weights first")
    if getattr(lyr, "quantization_mode", None):
        raise unsupported_config("Dense", where, f"quantized ({lyr.quantization_mode}) Dense")
    weights = {"kernel": _np(lyr.kernel)}
    if cfg["use_bias"]:
        weights["bias"] = _np(lyr.bias)
    return g.add_node("Dense", x, {"units": int(cfg["units"]), "activation": keras_activation(cfg["activation"], where),
                                   "use_bias": bool(cfg["use_bias"])}, weights, name=lyr.name, where=where)


@layer("Activation")
def _activation(g, lyr, x, where):
    return g.add_node("Activation", x, {"activation": keras_activation(lyr.get_config()["activation"], where)},
                      name=lyr.name, where=where)


@layer("ReLU")
def _relu(g, lyr, x, where):
    c = lyr.get_config()
    mv, slope, thr = c.get("max_value"), float(c.get("negative_slope") or 0.0), float(c.get("threshold") or 0.0)
    if thr != 0.0:
        raise unsupported_config("ReLU", where, f"threshold={thr} (only 0)")
    if mv is None and slope == 0.0:
        a = act("relu")
    elif mv is not None and float(mv) == 6.0 and slope == 0.0:
        a = act("relu6")
    elif mv is None:
        a = act("leaky_relu", alpha=slope)
    else:
        raise unsupported_config("ReLU", where, f"max_value={mv} with negative_slope={slope}")
    return g.add_node("Activation", x, {"activation": a}, name=lyr.name, where=where)


@layer("LeakyReLU")
def _leaky_relu(g, lyr, x, where):
    c = lyr.get_config()
    alpha = c.get("negative_slope", c.get("alpha", 0.3))
    return g.add_node("Activation", x, {"activation": act("leaky_relu", alpha=float(alpha))}, name=lyr.name, where=where)


@layer("ELU")
def _elu(g, lyr, x, where):
    return g.add_node("Activation", x, {"activation": act("elu", alpha=float(lyr.get_config().get("alpha", 1.0)))},
                      name=lyr.name, where=where)


@layer("Softmax")
def _softmax(g, lyr, x, where):
    axis = lyr.get_config().get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise unsupported_config("Softmax", where, f"softmax over several axes {axis}")
        axis = axis[0]
    return g.add_node("Activation", x, {"activation": act("softmax", axis=keras_axis(axis, where))},
                      name=lyr.name, where=where)


@layer("BatchNormalization")
def _batchnorm(g, lyr, x, where):
    c = lyr.get_config()
    axis = c["axis"]
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise unsupported_config("BatchNormalization", where, f"several axes {axis}")
        axis = axis[0]
    w = {"moving_mean": _np(lyr.moving_mean), "moving_variance": _np(lyr.moving_variance)}
    if c.get("scale", True):
        w["gamma"] = _np(lyr.gamma)
    if c.get("center", True):
        w["beta"] = _np(lyr.beta)
    return g.add_node("BatchNormalization", x, {"axis": keras_axis(axis, where), "epsilon": float(c["epsilon"])},
                      w, name=lyr.name, where=where)


@layer("LayerNormalization")
def _layernorm(g, lyr, x, where):
    c = lyr.get_config()
    if c.get("rms_scaling"):
        raise unsupported_config("LayerNormalization", where, "rms_scaling=True")
    axis = c.get("axis", -1)
    axes = [keras_axis(a, where) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    w = {}
    if c.get("scale", True):
        w["gamma"] = _np(lyr.gamma)
    if c.get("center", True):
        w["beta"] = _np(lyr.beta)
    return g.add_node("LayerNormalization", x, {"axis": axes[0] if len(axes) == 1 else axes,
                                                "epsilon": float(c["epsilon"])}, w, name=lyr.name, where=where)


@layer("Flatten")
def _flatten(g, lyr, x, where):
    if lyr.get_config().get("data_format") == "channels_first" and len(g.shapes[x[0]]) > 1:
        raise unsupported_config("Flatten", where, "data_format='channels_first' on a tensor of rank > 1")
    return g.add_node("Flatten", x, name=lyr.name, where=where)


@layer("Reshape")
def _reshape(g, lyr, x, where):
    return g.add_node("Reshape", x, {"shape": [int(d) for d in lyr.get_config()["target_shape"]]},
                      name=lyr.name, where=where)


@layer("Permute")
def _permute(g, lyr, x, where):
    return g.add_node("Permute", x, {"dims": [int(d) - 1 for d in lyr.get_config()["dims"]]},
                      name=lyr.name, where=where)


@layer("Concatenate")
def _concatenate(g, lyr, x, where):
    return g.add_node("Concatenate", x, {"axis": keras_axis(lyr.get_config().get("axis", -1), where)},
                      name=lyr.name, where=where)


def _merge(type_):
    def fn(g, lyr, x, where):
        return g.add_node(type_, x, name=lyr.name, where=where)
    return fn


for _t in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    layer(_t)(_merge(_t))


@layer("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
       "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Identity")
def _dropout(g, lyr, x, where):
    # identity at inference
    rate = lyr.get_config().get("rate")
    return g.add_node("Dropout", x, {"rate": float(rate)} if rate is not None else None, name=lyr.name, where=where)


# ---------------------------------------------------------------------------
# convolution, pooling, resampling (docs/format.md: spatial layers)

def _ints(v, n=None):
    v = [int(a) for a in (v if isinstance(v, (list, tuple)) else [v])]
    return v * n if n and len(v) == 1 else v


def _rank(t):
    return 2 if "2D" in t else 1


def _conv_padding(c, where, kernel, dilation):
    p = c.get("padding", "valid")
    if p == "causal":     # Conv1D: all the padding before
        return [[d * (k - 1), 0] for k, d in zip(kernel, dilation)]
    if p not in ("valid", "same"):
        raise unsupported_config("padding", where, f"padding={p!r}")
    return p


def _spatial_common(c, r, where):
    k = _ints(c["kernel_size"], r)
    d = _ints(c.get("dilation_rate", 1), r)
    out = {"kernel_size": k, "strides": _ints(c.get("strides", 1), r), "dilation_rate": d,
           "padding": _conv_padding(c, where, k, d)}
    if c.get("data_format", "channels_last") != "channels_last":
        out["data_format"] = c["data_format"]
    return out


def _act_bias(cfg, c, where):
    cfg["use_bias"] = bool(c.get("use_bias", True))
    cfg["activation"] = keras_activation(c.get("activation", "linear"), where)
    return cfg


@layer("Conv1D", "Conv2D")
def _conv(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    cfg = {"filters": int(c["filters"]), **_spatial_common(c, _rank(t), where), "groups": int(c.get("groups", 1))}
    w = {"kernel": _np(lyr.kernel)}
    if c.get("use_bias", True):
        w["bias"] = _np(lyr.bias)
    return g.add_node(t, x, _act_bias(cfg, c, where), w, name=lyr.name, where=where)


@layer("DepthwiseConv1D", "DepthwiseConv2D")
def _depthwise(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    cfg = {**_spatial_common(c, _rank(t), where), "depth_multiplier": int(c.get("depth_multiplier", 1))}
    kern = getattr(lyr, "kernel", None)
    if kern is None:
        kern = lyr.depthwise_kernel
    w = {"kernel": _np(kern)}
    if c.get("use_bias", True):
        w["bias"] = _np(lyr.bias)
    return g.add_node(t, x, _act_bias(cfg, c, where), w, name=lyr.name, where=where)


@layer("SeparableConv1D", "SeparableConv2D")
def _separable(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    cfg = {"filters": int(c["filters"]), **_spatial_common(c, _rank(t), where),
           "depth_multiplier": int(c.get("depth_multiplier", 1))}
    w = {"depthwise_kernel": _np(lyr.depthwise_kernel), "pointwise_kernel": _np(lyr.pointwise_kernel)}
    if c.get("use_bias", True):
        w["bias"] = _np(lyr.bias)
    return g.add_node(t, x, _act_bias(cfg, c, where), w, name=lyr.name, where=where)


def keras_transpose_padding(n_k, stride, dilation, padding, output_padding, where):
    """Keras' transposed-convolution geometry (keras.src.backend.common.backend_utils,
    the padding of the equivalent dilated-input convolution) as trignet
    explicit ``[before, after]`` pairs and ``output_padding``. Keras' rule
    differs from format.md's "same" when output_padding is given, and its
    "valid" grows the output to n*s when the effective kernel e < s."""
    pads, ops = [], []
    for i, (k, s, d) in enumerate(zip(n_k, stride, dilation)):
        e = (k - 1) * d + 1
        op = None if output_padding is None else int(output_padding[i])
        if padding == "valid":
            op = max(e, s) - e if op is None else op
            left, right = e - 1, e - 1 + op
        else:
            pad_len = s + e - 2 if op is None else e + e % 2 - 2 + op
            left = min(pad_len // 2 + pad_len % 2, e - 1)
            right = pad_len - left
        before, after = e - 1 - left, e - 1 - right
        extra = 0
        if after < 0:
            extra, after = -after, 0
        if extra and extra >= max(s, d):
            raise unsupported_config("output_padding", where, f"output_padding={output_padding} with strides "
                                     f"{stride}: output grows by {extra}, not below the stride or dilation")
        pads.append([before, after])
        ops.append(extra)
    return pads, ops


@layer("Conv1DTranspose", "Conv2DTranspose")
def _conv_transpose(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    r = _rank(t)
    k, s, d = _ints(c["kernel_size"], r), _ints(c.get("strides", 1), r), _ints(c.get("dilation_rate", 1), r)
    if c.get("groups", 1) != 1:
        raise unsupported_config(t, where, "groups > 1")
    p = c.get("padding", "valid")
    if p not in ("valid", "same"):
        raise unsupported_config(t, where, f"padding={p!r}")
    opad = c.get("output_padding")
    opad = None if opad is None else _ints(opad, r)
    pads, ops = keras_transpose_padding(k, s, d, p, opad, where)
    cfg = {"filters": int(c["filters"]), "kernel_size": k, "strides": s, "dilation_rate": d}
    # the plain forms when they say the same thing, else explicit pairs
    if all(a == [0, 0] for a in pads) and not any(ops):
        cfg["padding"] = "valid"
    elif opad is None and p == "same" and not any(ops) and all(
            a[0] == max((kk - 1) * dd + 1 - ss, 0) // 2 for a, kk, dd, ss in zip(pads, k, d, s)):
        cfg["padding"] = "same"
    else:
        cfg["padding"] = pads
        if any(ops):
            cfg["output_padding"] = ops
    if c.get("data_format", "channels_last") != "channels_last":
        cfg["data_format"] = c["data_format"]
    w = {"kernel": _np(lyr.kernel)}
    if c.get("use_bias", True):
        w["bias"] = _np(lyr.bias)
    return g.add_node(t, x, _act_bias(cfg, c, where), w, name=lyr.name, where=where)


@layer("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
def _pool(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    r = _rank(t)
    k = _ints(c["pool_size"], r)
    cfg = {"pool_size": k, "strides": _ints(c.get("strides") or k, r), "padding": c.get("padding", "valid")}
    if cfg["padding"] not in ("valid", "same"):
        raise unsupported_config(t, where, f"padding={cfg['padding']!r}")
    if t.startswith("Average"):
        cfg["count_include_pad"] = False      # Keras leaves padded cells out of the mean
        if cfg["padding"] == "same" and import_keras().backend.backend() == "torch":
            s_in = g.shapes[x[0]]
            n = s_in[1:] if c.get("data_format") == "channels_first" else s_in[:-1]
            for ni, ki, si in zip(n, k, cfg["strides"]):
                total = ki - 1 if si == 1 else max(0, (-(-ni // si) - 1) * si + ki - ni)
                if total % 2:
                    raise unsupported_config(t, where, (
                        f"padding='same' needs uneven padding here (input {list(n)}, pool {k}, strides "
                        f"{cfg['strides']}), and Keras' torch backend then pads by repeating edge values and "
                        "counts them in the mean (TensorFlow and JAX leave padded cells out, as trignet does): "
                        "the result depends on the backend; use padding='valid', or a size that pads evenly"))
    if c.get("data_format", "channels_last") != "channels_last":
        cfg["data_format"] = c["data_format"]
    return g.add_node(t, x, cfg, name=lyr.name, where=where)


@layer("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D")
def _global_pool(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    cfg = {"keepdims": bool(c.get("keepdims", False))}
    if c.get("data_format", "channels_last") != "channels_last":
        cfg["data_format"] = c["data_format"]
    return g.add_node(t, x, cfg, name=lyr.name, where=where)


@layer("UpSampling1D", "UpSampling2D")
def _upsampling(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    if c.get("interpolation", "nearest") != "nearest":
        raise unsupported_config(t, where, f"interpolation={c['interpolation']!r} (only 'nearest')")
    cfg = {"size": _ints(c["size"], _rank(t))}
    if c.get("data_format", "channels_last") != "channels_last":
        cfg["data_format"] = c["data_format"]
    return g.add_node(t, x, cfg, name=lyr.name, where=where)


def _pairs(v, r):
    if isinstance(v, int):
        return [[v, v]] * r
    v = list(v)
    if r == 1 and len(v) == 2 and all(isinstance(a, int) for a in v):
        return [[int(v[0]), int(v[1])]]
    return [[int(a), int(a)] if isinstance(a, int) else [int(a[0]), int(a[1])] for a in v]


@layer("ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D")
def _pad_crop(g, lyr, x, where):
    c, t = lyr.get_config(), type(lyr).__name__
    key = "padding" if t.startswith("Zero") else "cropping"
    cfg = {key: _pairs(c[key], _rank(t))}
    if c.get("data_format", "channels_last") not in (None, "channels_last"):
        cfg["data_format"] = c["data_format"]
    return g.add_node(t, x, cfg, name=lyr.name, where=where)


# ---------------------------------------------------------------------------
# recurrent

def _rnn_node(g, lyr, x, where, name=None, go_backwards=None):
    c, t = lyr.get_config(), type(lyr).__name__
    for k in ("return_state", "stateful"):
        if c.get(k):
            raise unsupported_config(t, where, f"{k}=True")
    cell = lyr.cell
    cfg = {"units": int(c["units"]), "activation": keras_activation(c.get("activation", "tanh"), where)}
    if t != "SimpleRNN":
        cfg["recurrent_activation"] = keras_activation(c.get("recurrent_activation", "sigmoid"), where)
    cfg["use_bias"] = bool(c.get("use_bias", True))
    cfg["return_sequences"] = bool(c.get("return_sequences", False))
    cfg["go_backwards"] = bool(c.get("go_backwards", False) if go_backwards is None else go_backwards)
    if t == "GRU":
        cfg["reset_after"] = bool(c.get("reset_after", True))
    w = {"kernel": _np(cell.kernel), "recurrent_kernel": _np(cell.recurrent_kernel)}
    if cfg["use_bias"]:
        w["bias"] = _np(cell.bias)
    return g.add_node(t, x, cfg, w, name=name or lyr.name, where=where)


@layer("SimpleRNN", "GRU", "LSTM")
def _rnn(g, lyr, x, where):
    return _rnn_node(g, lyr, x, where)


_MERGES = {"concat": "Concatenate", "sum": "Add", "mul": "Multiply", "ave": "Average"}


@layer("Bidirectional")
def _bidirectional(g, lyr, x, where):
    mode = lyr.merge_mode
    if mode not in _MERGES:
        raise unsupported_config("Bidirectional", where, f"merge_mode={mode!r} (supported: {', '.join(_MERGES)})")
    fw, bw = lyr.forward_layer, lyr.backward_layer
    for sub in (fw, bw):
        if type(sub).__name__ not in ("SimpleRNN", "GRU", "LSTM"):
            raise unsupported_config("Bidirectional", where, f"wrapped layer {type(sub).__name__}")
    f = _rnn_node(g, fw, x, f"{where} forward", name=f"{lyr.name}_forward")
    b = _rnn_node(g, bw, x, f"{where} backward", name=f"{lyr.name}_backward")
    if bw.get_config().get("return_sequences"):
        # Keras reverses the backward layer's returned sequence back to input order
        b = g.add_node("Reverse", [b], {"axis": 0}, name=f"{lyr.name}_backward_reverse", where=where)
    cfg = {"axis": -1} if mode == "concat" else None
    return g.add_node(_MERGES[mode], [f, b], cfg, name=lyr.name, where=where)


@layer("TimeDistributed")
def _time_distributed(g, lyr, x, where):
    inner = lyr.layer
    if type(inner).__name__ != "Dense":
        raise unsupported_config("TimeDistributed", where, f"wrapped layer {type(inner).__name__} (only Dense, "
                                 "which trignet's Dense applies on the last axis at every step)")
    return _dense(g, inner, x, f"{where} / {inner.name}")


# ---------------------------------------------------------------------------
# embedding, attention

@layer("Embedding")
def _embedding(g, lyr, x, where):
    c = lyr.get_config()
    if c.get("mask_zero"):
        raise unsupported_config("Embedding", where, "mask_zero=True (trignet has no masks between layers)")
    if getattr(lyr, "quantization_mode", None):
        raise unsupported_config("Embedding", where, f"quantized ({lyr.quantization_mode})")
    return g.add_node("Embedding", x, {"input_dim": int(c["input_dim"]), "output_dim": int(c["output_dim"])},
                      {"embeddings": _np(lyr.embeddings)}, name=lyr.name, where=where)


def _mha(g, lyr, x, where, node=None):
    c = lyr.get_config()
    for k, ok in (("use_gate", False), ("sliding_window", None), ("output_shape", None)):
        if c.get(k, ok) not in (ok,) and not (k == "output_shape" and c.get(k) is None):
            raise unsupported_config("MultiHeadAttention", where, f"{k}={c.get(k)!r}")
    if tuple(c.get("attention_axes") or (1,)) not in ((1,), (-2,)):
        raise unsupported_config("MultiHeadAttention", where, f"attention_axes={c.get('attention_axes')}")
    # which call argument each input tensor is
    names = ["query", "value", "key", "attention_mask"]
    bound, causal = {}, False
    if node is not None:
        args, kwargs = node.arguments.args, node.arguments.kwargs
        pos = list(args) + [None] * 4
        flat = {id(t): n for t, n in zip(node.input_tensors, x)}
        for i, a in enumerate(pos[:4]):
            if a is not None and id(a) in flat:
                bound[names[i]] = flat[id(a)]
        for k, a in kwargs.items():
            if k in names and a is not None and id(a) in flat:
                bound[k] = flat[id(a)]
            elif k == "use_causal_mask":
                causal = bool(a)
            elif k == "return_attention_scores" and a:
                raise unsupported_config("MultiHeadAttention", where, "return_attention_scores=True")
            elif k in ("query_mask", "value_mask", "key_mask") and a is not None:
                raise unsupported_config("MultiHeadAttention", where, f"{k} (use attention_mask)")
    else:
        bound = dict(zip(names, x))
    ins = [bound["query"], bound["value"]] + ([bound["key"]] if "key" in bound else [])
    cfg = {"num_heads": int(c["num_heads"]), "key_dim": int(c["key_dim"]),
           "value_dim": int(c.get("value_dim") or c["key_dim"]), "use_bias": bool(c.get("use_bias", True))}
    if "attention_mask" in bound:
        m = bound["attention_mask"]
        cfg["use_mask"] = True
        ins.append(m)
        for inp in g.inputs:
            if inp["name"] == m and inp.get("values") is None:
                inp["values"] = ("mask",)
    if causal:
        cfg["causal"] = True
    w = {"query_kernel": _np(lyr._query_dense.kernel), "key_kernel": _np(lyr._key_dense.kernel),
         "value_kernel": _np(lyr._value_dense.kernel), "output_kernel": _np(lyr._output_dense.kernel)}
    if cfg["use_bias"]:
        w.update(query_bias=_np(lyr._query_dense.bias), key_bias=_np(lyr._key_dense.bias),
                 value_bias=_np(lyr._value_dense.bias), output_bias=_np(lyr._output_dense.bias))
    return g.add_node("MultiHeadAttention", ins, cfg, w, name=lyr.name, where=where)


_mha.wants_node = True
layer("MultiHeadAttention")(_mha)


# ---------------------------------------------------------------------------
# graph walk

def _supported():
    return list(LAYERS) + ["InputLayer", "Sequential", "Functional (nested models)"]


def _walk(g, model, in_names, path):
    """Adds model's layers to g, its inputs bound to trignet tensors in_names;
    returns the trignet tensors of its outputs."""
    keras = import_keras()
    where_model = f"{path}{model.name}"
    if isinstance(model, keras.Sequential) and getattr(model, "_functional", None) is None:
        x = in_names
        for lyr in model.layers:
            x = _call(g, lyr, x, f"{where_model}/")
            x = x if isinstance(x, list) else [x]
        return x
    fn = model._functional if isinstance(model, keras.Sequential) else model
    if not hasattr(fn, "_nodes_by_depth"):
        raise UnsupportedError(f"model class '{type(model).__name__}' (subclassed Model: no layer graph)",
                               where_model, _supported(),
                               "build the model with the Functional or Sequential API")
    tensors = {id(t): n for t, n in zip(fn.inputs, in_names)}
    input_ids = {id(t) for t in fn.inputs}
    for depth in sorted(fn._nodes_by_depth, reverse=True):
        for node in fn._nodes_by_depth[depth]:
            op = node.operation
            if type(op).__name__ == "InputLayer" or all(id(t) in input_ids for t in node.output_tensors):
                continue
            ins = [tensors[id(t)] for t in node.input_tensors]
            outs = _call(g, op, ins, f"{where_model}/", node)
            outs = outs if isinstance(outs, list) else [outs]
            for t, n in zip(node.output_tensors, outs):
                tensors[id(t)] = n
    return [tensors[id(t)] for t in fn.outputs]


def _call(g, op, ins, prefix, node=None):
    keras = import_keras()
    cls = type(op).__name__
    where = f"layer '{prefix}{op.name}' ({cls})"
    if isinstance(op, keras.Model):
        return _walk(g, op, ins, prefix)
    if cls == "InputLayer":
        return ins
    fn = LAYERS.get(cls)
    if fn is None or type(op).__module__.split(".")[0] != "keras":
        kind = "layer" if isinstance(op, keras.layers.Layer) else "operation"
        detail = None
        if cls == "Lambda":
            detail = "a Lambda layer runs arbitrary Python code, which trignet cannot represent"
        elif type(op).__module__.split(".")[0] != "keras":
            detail = f"custom {kind} class {type(op).__module__}.{cls}"
        raise UnsupportedError(f"Keras {kind} '{cls}'", where, _supported(), detail)
    if getattr(fn, "wants_node", False):
        return fn(g, op, ins, where, node=node)
    return fn(g, op, ins, where)


def _model_inputs(model):
    keras = import_keras()
    if isinstance(model, keras.Sequential) and getattr(model, "_functional", None) is not None:
        return model._functional.inputs
    try:
        return model.inputs
    except (AttributeError, ValueError):
        return None


def convert_keras(model, path=None, options=None, input_shapes=None, **kwargs):
    """Converts an in-memory Keras 3 model; writes ``path`` if given; returns the model dict.

    Options: see ``writer.Options`` (name, input_names, output_names,
    preprocessing, variables, labels, test_vectors, test_batch, test_inputs,
    tolerance, metadata, seed)."""
    keras = import_keras()
    opt = writer.make_options(options, **kwargs)
    inputs = _model_inputs(model)
    if not inputs:
        raise ConversionError(f"model '{model.name}' is not built: call it once or give it an Input")
    g = writer_graph(model.name)
    in_names = []
    for i, t in enumerate(inputs):
        shape = list(t.shape[1:])
        if input_shapes and i < len(input_shapes) and input_shapes[i] is not None:
            shape = list(input_shapes[i])
        if any(d is None for d in shape):
            raise ConversionError(f"input '{t.name}' has per-sample shape {shape} with unknown dimensions; "
                                  "give it with --input-shape (API: input_shapes=[...])")
        dt = str(getattr(t, "dtype", "float32"))
        if dt.startswith(("int", "uint", "bool")):
            dtype = "int32"
        elif dt.startswith(("float", "bfloat")):
            dtype = "float32"
        else:
            raise ConversionError(f"input '{t.name}' has dtype {dt} (trignet inputs are float32 or int32)")
        in_names.append(g.add_input(t.name, shape, dtype))
    in_dtypes = [str(getattr(t, "dtype", "float32")) for t in inputs]
    outs = _walk(g, model, in_names, "")
    out_names = getattr(model, "output_names", None) or [f"output_{i}" for i in range(len(outs))]
    for name, t in zip(out_names, outs):
        g.add_output(name, t)

    def run(xs):
        xs = [np.asarray(a).astype(dt) if dt != "float32" else a for a, dt in zip(xs, in_dtypes)]
        ys = model(xs[0] if len(xs) == 1 else xs, training=False)
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        return [_np(y) for y in ys]

    meta = {"framework": "keras", "framework_version": keras.__version__, "keras_backend": keras.backend.backend()}
    if opt.precision is not None:   # fixed point: let hls4ml resolve the configuration (precision.py)
        from .precision import resolve_keras
        resolved = resolve_keras(model, opt.precision)
        opt = writer.make_options(opt, precision=resolved)
        meta["fixed_point_source"] = resolved.source
    return writer.finish(g, run, opt, meta, path)


def writer_graph(name):
    from .graph import Graph
    return Graph(name)


def load_keras(path):
    keras = import_keras()
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many types; the message says what
        msg = str(e)
        if "Lambda" in msg or "safe_mode" in msg:
            raise UnsupportedError("Keras layer 'Lambda'", str(path), _supported(),
                                   "a Lambda layer runs arbitrary Python code, which trignet cannot represent") from e
        if "Unknown layer" in msg or "Could not locate class" in msg or "custom" in msg.lower():
            raise ConversionError(f"{path}: Keras cannot load the model because it uses a custom class "
                                  f"(trignet supports: {', '.join(sorted(_supported()))}). Keras said: "
                                  f"{msg.splitlines()[0]}") from e
        raise ConversionError(f"{path}: Keras cannot load the model: {msg}") from e


def convert_keras_file(path, out=None, options=None, input_shapes=None, **kwargs):
    model = load_keras(path)
    opt = writer.make_options(options, **kwargs)
    meta = dict(opt.metadata or {})
    meta.setdefault("source_file", os.path.basename(str(path)))
    return convert_keras(model, out, writer.make_options(opt, metadata=meta), input_shapes=input_shapes)
