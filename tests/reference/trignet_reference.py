"""Independent numpy reference implementation of the trignet model format v1.

Written from docs/format.md only (never from the C++ sources), so that the C++
engine's tests compare against a second, independent reading of the spec.

What it does:

* ``ReferenceModel(model_dict)`` validates a model (keys, types, weight shapes,
  per-node shape inference) and ``evaluate(inputs)`` runs the graph on a batch.
  Weights, preprocessing arrays and inputs are rounded to float32 (as the
  loader does) and the arithmetic is then done in float64, so the result is a
  float32 model evaluated (nearly) exactly.  ``evaluate(..., dtype=np.float32)``
  instead runs every operation in float32; the fixture generator uses that as
  a stand-in for a float32 engine to check that the tolerances leave margin.
* Writing helpers (``weight``, ``batch_array``, ``dumps`` ...) produce model
  JSON with weights as float32 values in 9 significant digits (exact
  round-trip), inputs likewise, and expected outputs in 17 significant digits
  (exact float64 round-trip).

Only numpy and the standard library are used.  crosscheck_frameworks.py
(optional, needs Keras 3 and PyTorch) compares this reading of the spec for the
convolution, pooling, recurrent, embedding and attention layers with the
frameworks themselves.
"""

import json
import math

import numpy as np

FORMAT = "trignet"
FORMAT_VERSION = 1

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

DEFAULT_TOLERANCE = {"abs": 1e-6, "rel": 1e-4}

# Order in which long sums (Dense, convolutions, recurrent and attention
# products, pooling) add their terms: +1 index order, -1 reversed.  Only the
# float32 emulation in make_fixtures.py --check changes it, to see how much a
# float32 engine with another summation order can differ; expected outputs
# are always computed in index order.
SUM_ORDER = 1


def _order(n):
    return range(n) if SUM_ORDER > 0 else range(n - 1, -1, -1)


class ModelError(ValueError):
    """A model dict that does not follow docs/format.md."""


class RunError(ValueError):
    """Bad input values found while running (e.g. an Embedding index out of range)."""


def _fail(path, message):
    raise ModelError(f"{path}: {message}")


def _check_keys(obj, path, required=(), optional=()):
    """Unknown keys are errors everywhere except inside metadata (spec)."""
    if not isinstance(obj, dict):
        _fail(path, "expected an object")
    allowed = set(required) | set(optional)
    for key in obj:
        if key not in allowed:
            _fail(f"{path}.{key}", "unknown key")
    for key in required:
        if key not in obj:
            _fail(f"{path}.{key}", "missing required key")


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_shape(shape, path):
    if not isinstance(shape, list) or len(shape) < 1:
        _fail(path, "expected a non-empty array of positive integers")
    for d in shape:
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            _fail(path, "expected a non-empty array of positive integers")
    return tuple(shape)


def _normalize_axis(axis, rank, path):
    """Per-sample axis (negative counts from the end) -> 0 .. rank-1."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        _fail(path, "axis must be an integer")
    if not -rank <= axis < rank:
        _fail(path, f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _to_float32_values(data, path):
    """Round JSON numbers to float32, as the loader does; must stay finite."""
    if not isinstance(data, list) or not all(_is_number(v) for v in data):
        _fail(path, "expected an array of numbers")
    with np.errstate(over="ignore"):
        arr = np.asarray(data, dtype=np.float64).astype(np.float32)
    if not np.all(np.isfinite(arr)):
        _fail(path, "values must be finite float32 numbers")
    return arr


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------

# name -> (required parameters, optional parameters with defaults)
ACTIVATIONS = {
    "linear": ((), {}),
    "relu": ((), {}),
    "relu6": ((), {}),
    "leaky_relu": (("alpha",), {}),
    "elu": ((), {"alpha": 1.0}),
    "selu": ((), {}),
    "gelu": ((), {"approximate": False}),
    "sigmoid": ((), {}),
    "hard_sigmoid": (("slope", "offset"), {}),
    "tanh": ((), {}),
    "softmax": ((), {"axis": -1}),
    "softplus": ((), {}),
    "softsign": ((), {}),
    "silu": ((), {}),
    "swish": ((), {}),
    "exponential": ((), {}),
}


def parse_activation(spec, path):
    """String or {"name": ..., params} -> (name, params with defaults filled)."""
    if isinstance(spec, str):
        name, given = spec, {}
    elif isinstance(spec, dict):
        if "name" not in spec or not isinstance(spec["name"], str):
            _fail(f"{path}.name", "activation object needs a string name")
        name = spec["name"]
        given = {k: v for k, v in spec.items() if k != "name"}
    else:
        _fail(path, "activation must be a string or an object")
    if name not in ACTIVATIONS:
        _fail(path, f"unknown activation {name!r}")
    required, optional = ACTIVATIONS[name]
    _check_keys(given, path, required, optional)
    params = dict(optional)
    params.update(given)
    for key, value in params.items():
        if key == "approximate":
            if not isinstance(value, bool):
                _fail(f"{path}.{key}", "expected a boolean")
        elif key == "axis":
            if not isinstance(value, int) or isinstance(value, bool):
                _fail(f"{path}.{key}", "expected an integer")
        elif not _is_number(value) or not math.isfinite(value):
            _fail(f"{path}.{key}", "expected a finite number")
    return name, params


def _erf(x):
    # numpy has no erf; math.erf is correctly rounded enough for a reference.
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)


def _sigmoid(x):
    # Two-sided form so that exp never overflows; equal to 1 / (1 + exp(-x)).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def apply_activation(name, params, x, batch_axis_offset=1):
    """Apply an activation to a batch-first array x.

    ``params["axis"]`` for softmax is a per-sample axis; the batch axis is
    skipped by normalising it against the per-sample rank.
    """
    t = x.dtype.type  # keeps float32 emulation in float32
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, t(0))
    if name == "relu6":
        return np.minimum(np.maximum(x, t(0)), t(6))
    if name == "leaky_relu":
        return np.where(x >= 0, x, t(params["alpha"]) * x)
    if name in ("elu", "selu"):
        alpha = SELU_ALPHA if name == "selu" else params["alpha"]
        # expm1 would be more accurate near 0, but the spec says exp(x) - 1;
        # in float64 the difference is far below any test tolerance.
        neg = t(alpha) * (np.exp(np.minimum(x, t(0))) - t(1))
        y = np.where(x > 0, x, neg)
        return t(SELU_SCALE) * y if name == "selu" else y
    if name == "gelu":
        if params["approximate"]:
            c = t(math.sqrt(2 / math.pi))
            inner = c * (x + t(0.044715) * x * x * x)
            return t(0.5) * x * (t(1) + np.tanh(inner))
        return t(0.5) * x * (t(1) + _erf(x / t(math.sqrt(2))))
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "hard_sigmoid":
        return np.clip(t(params["slope"]) * x + t(params["offset"]), t(0), t(1))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        rank = x.ndim - batch_axis_offset
        axis = _normalize_axis(params["axis"], rank, "softmax.axis") + batch_axis_offset
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)
    if name == "softplus":
        # log(1 + exp(x)) without overflow for large x.
        return np.logaddexp(t(0), x)
    if name == "softsign":
        return x / (t(1) + np.abs(x))
    if name in ("silu", "swish"):
        return x * _sigmoid(x)
    if name == "exponential":
        return np.exp(x)
    raise AssertionError(name)


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

UNARY_TYPES = {"Dense", "Activation", "BatchNormalization", "LayerNormalization",
               "Flatten", "Reshape", "Permute", "Dropout"}
MERGE_TYPES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}

# Spatial layers (docs/format.md "Convolution, pooling and resampling layers").
# The suffix 1D/2D is the number of spatial axes.
CONV_TYPES = {"Conv1D", "Conv2D"}
DEPTHWISE_TYPES = {"DepthwiseConv1D", "DepthwiseConv2D"}
SEPARABLE_TYPES = {"SeparableConv1D", "SeparableConv2D"}
TRANSPOSE_TYPES = {"Conv1DTranspose", "Conv2DTranspose"}
MAXPOOL_TYPES = {"MaxPooling1D", "MaxPooling2D"}
AVGPOOL_TYPES = {"AveragePooling1D", "AveragePooling2D"}
GLOBALPOOL_TYPES = {"GlobalMaxPooling1D", "GlobalMaxPooling2D",
                    "GlobalAveragePooling1D", "GlobalAveragePooling2D"}
UPSAMPLING_TYPES = {"UpSampling1D", "UpSampling2D"}
ZEROPADDING_TYPES = {"ZeroPadding1D", "ZeroPadding2D"}
CROPPING_TYPES = {"Cropping1D", "Cropping2D"}
SPATIAL_TYPES = (CONV_TYPES | DEPTHWISE_TYPES | SEPARABLE_TYPES | TRANSPOSE_TYPES
                 | MAXPOOL_TYPES | AVGPOOL_TYPES | GLOBALPOOL_TYPES | UPSAMPLING_TYPES
                 | ZEROPADDING_TYPES | CROPPING_TYPES)
RECURRENT_TYPES = {"SimpleRNN", "GRU", "LSTM"}
UNARY_TYPES = UNARY_TYPES | SPATIAL_TYPES | RECURRENT_TYPES | {"Reverse", "Embedding"}
LAYER_TYPES = UNARY_TYPES | MERGE_TYPES | {"Concatenate", "MultiHeadAttention"}

# Config keys that hold an activation (string or object).
ACTIVATION_CONFIG_KEYS = ("activation", "recurrent_activation")

# type -> (required config keys, optional config keys)
CONFIG_KEYS = {
    "Dense": (("units",), ("activation", "use_bias")),
    "Activation": (("activation",), ()),
    "BatchNormalization": (("epsilon",), ("axis",)),
    "LayerNormalization": (("epsilon",), ("axis",)),
    "Flatten": ((), ()),
    "Reshape": (("shape",), ()),
    "Permute": (("dims",), ()),
    "Concatenate": ((), ("axis",)),
    "Dropout": ((), ("rate",)),
}
for _t in MERGE_TYPES:
    CONFIG_KEYS[_t] = ((), ())
_CONV_COMMON = ("strides", "dilation_rate", "padding", "use_bias", "activation", "data_format")
for _t in CONV_TYPES:
    CONFIG_KEYS[_t] = (("filters", "kernel_size"), _CONV_COMMON + ("groups",))
for _t in DEPTHWISE_TYPES:
    CONFIG_KEYS[_t] = (("kernel_size",), _CONV_COMMON + ("depth_multiplier",))
for _t in SEPARABLE_TYPES:
    CONFIG_KEYS[_t] = (("filters", "kernel_size"), _CONV_COMMON + ("depth_multiplier",))
for _t in TRANSPOSE_TYPES:
    CONFIG_KEYS[_t] = (("filters", "kernel_size"), _CONV_COMMON + ("output_padding",))
for _t in MAXPOOL_TYPES:
    CONFIG_KEYS[_t] = (("pool_size",), ("strides", "padding", "data_format"))
for _t in AVGPOOL_TYPES:
    CONFIG_KEYS[_t] = (("pool_size",), ("strides", "padding", "count_include_pad", "data_format"))
for _t in GLOBALPOOL_TYPES:
    CONFIG_KEYS[_t] = ((), ("data_format", "keepdims"))
for _t in UPSAMPLING_TYPES:
    CONFIG_KEYS[_t] = (("size",), ("data_format",))
for _t in ZEROPADDING_TYPES:
    CONFIG_KEYS[_t] = (("padding",), ("data_format",))
for _t in CROPPING_TYPES:
    CONFIG_KEYS[_t] = (("cropping",), ("data_format",))
_RNN_COMMON = ("activation", "use_bias", "return_sequences", "go_backwards")
CONFIG_KEYS["SimpleRNN"] = (("units",), _RNN_COMMON)
CONFIG_KEYS["GRU"] = (("units",), _RNN_COMMON + ("recurrent_activation", "reset_after"))
CONFIG_KEYS["LSTM"] = (("units",), _RNN_COMMON + ("recurrent_activation",))
CONFIG_KEYS["Reverse"] = ((), ("axis",))
CONFIG_KEYS["Embedding"] = (("input_dim", "output_dim"), ())
CONFIG_KEYS["MultiHeadAttention"] = (("num_heads", "key_dim"),
                                     ("value_dim", "use_bias", "use_mask", "causal"))

# type -> allowed weight names (required ones are checked per type)
WEIGHT_KEYS = {
    "Dense": ("kernel", "bias"),
    "BatchNormalization": ("moving_mean", "moving_variance", "gamma", "beta"),
    "LayerNormalization": ("gamma", "beta"),
    "Embedding": ("embeddings",),
    "MultiHeadAttention": ("query_kernel", "key_kernel", "value_kernel", "output_kernel",
                           "query_bias", "key_bias", "value_bias", "output_bias"),
}
for _t in CONV_TYPES | DEPTHWISE_TYPES | TRANSPOSE_TYPES:
    WEIGHT_KEYS[_t] = ("kernel", "bias")
for _t in SEPARABLE_TYPES:
    WEIGHT_KEYS[_t] = ("depthwise_kernel", "pointwise_kernel", "bias")
for _t in RECURRENT_TYPES:
    WEIGHT_KEYS[_t] = ("kernel", "recurrent_kernel", "bias")


class ReferenceModel:
    """A validated model dict that can be evaluated on batches."""

    def __init__(self, model):
        self.raw = model
        _check_keys(model, "model",
                    ("format", "format_version", "name", "inputs", "outputs", "nodes"),
                    ("metadata", "test_vectors"))
        if model["format"] != FORMAT:
            _fail("format", f"expected {FORMAT!r}")
        if model["format_version"] != FORMAT_VERSION or isinstance(model["format_version"], bool):
            _fail("format_version", f"expected {FORMAT_VERSION}")
        if not isinstance(model["name"], str) or not model["name"]:
            _fail("name", "expected a non-empty string")
        if "metadata" in model and not isinstance(model["metadata"], dict):
            _fail("metadata", "expected an object")
        for key in ("inputs", "outputs", "nodes"):
            if not isinstance(model[key], list) or not model[key]:
                _fail(key, "expected a non-empty array")

        self.shapes = {}        # tensor name -> per-sample shape (tuple)
        self.inputs = []        # list of (name, shape, preprocessing dict of float32 arrays)
        for i, spec in enumerate(model["inputs"]):
            self.inputs.append(self._parse_input(spec, f"inputs[{i}]"))

        self.nodes = {}         # name -> parsed node dict
        for i, spec in enumerate(model["nodes"]):
            node = self._parse_node(spec, f"nodes[{i}]")
            if node["name"] in self.nodes or node["name"] in self.shapes:
                _fail(f"nodes[{i}].name", f"duplicate name {node['name']!r}")
            self.nodes[node["name"]] = node
        # Shape inference for every node (used or not), in dependency order.
        for name in self.nodes:
            self._infer(name, ())

        self.outputs = []       # list of (name, node)
        seen = set()
        for i, spec in enumerate(model["outputs"]):
            path = f"outputs[{i}]"
            _check_keys(spec, path, ("name", "node"), ("shape", "labels"))
            if spec["name"] in seen:
                _fail(f"{path}.name", "duplicate output name")
            seen.add(spec["name"])
            if spec["node"] not in self.nodes:
                _fail(f"{path}.node", f"no node named {spec['node']!r}")
            shape = self.shapes[spec["node"]]
            if "shape" in spec and _check_shape(spec["shape"], f"{path}.shape") != shape:
                _fail(f"{path}.shape", f"node {spec['node']!r} has shape {list(shape)}")
            if "labels" in spec and len(spec["labels"]) != shape[-1]:
                _fail(f"{path}.labels", "need one label per element of the last axis")
            self.outputs.append((spec["name"], spec["node"]))

    # -- parsing ----------------------------------------------------------

    def _parse_input(self, spec, path):
        _check_keys(spec, path, ("name", "shape"), ("dtype", "variables", "preprocessing"))
        name = spec["name"]
        if not isinstance(name, str) or not name or name in self.shapes:
            _fail(f"{path}.name", "expected a unique non-empty string")
        shape = _check_shape(spec["shape"], f"{path}.shape")
        dtype = spec.get("dtype", "float32")
        if dtype not in ("float32", "int32"):
            _fail(f"{path}.dtype", 'expected "float32" or "int32"')
        if dtype == "int32" and "preprocessing" in spec:
            _fail(f"{path}.preprocessing", "an int32 input cannot have preprocessing")
        if "variables" in spec and len(spec["variables"]) != shape[-1]:
            _fail(f"{path}.variables", "need one name per element of the last axis")
        prep = {}
        if "preprocessing" in spec:
            p = spec["preprocessing"]
            _check_keys(p, f"{path}.preprocessing", (), ("offset", "scale", "nan_replacement"))
            for key, values in p.items():
                # The spec does not say whether these are float32; the fixture
                # generator only writes float32-exact values so both readings agree.
                arr = _to_float32_values(values, f"{path}.preprocessing.{key}")
                if arr.shape != (shape[-1],):
                    _fail(f"{path}.preprocessing.{key}", f"expected {shape[-1]} entries")
                prep[key] = arr
        self.shapes[name] = shape
        return name, shape, prep

    def _parse_node(self, spec, path):
        _check_keys(spec, path, ("name", "type", "inputs"), ("config", "weights"))
        name, kind = spec["name"], spec["type"]
        if not isinstance(name, str) or not name:
            _fail(f"{path}.name", "expected a non-empty string")
        if kind not in LAYER_TYPES:
            _fail(f"{path}.type", f"unknown layer type {kind!r}")
        srcs = spec["inputs"]
        if not isinstance(srcs, list) or not all(isinstance(s, str) for s in srcs):
            _fail(f"{path}.inputs", "expected an array of names")
        if kind in UNARY_TYPES and len(srcs) != 1:
            _fail(f"{path}.inputs", f"{kind} takes exactly one input")
        if kind == "Subtract" and len(srcs) != 2:
            _fail(f"{path}.inputs", "Subtract takes exactly two inputs")
        if kind in MERGE_TYPES | {"Concatenate"} and len(srcs) < 2:
            _fail(f"{path}.inputs", f"{kind} takes two or more inputs")
        if kind == "MultiHeadAttention" and not 2 <= len(srcs) <= 4:
            _fail(f"{path}.inputs", "MultiHeadAttention takes 2 to 4 inputs")
        config = spec.get("config", {})
        required, optional = CONFIG_KEYS[kind]
        _check_keys(config, f"{path}.config", required, optional)
        weights = {}
        raw_weights = spec.get("weights", {})
        _check_keys(raw_weights, f"{path}.weights", (), WEIGHT_KEYS.get(kind, ()))
        for wname, w in raw_weights.items():
            wpath = f"{path}.weights.{wname}"
            _check_keys(w, wpath, ("shape", "data"))
            shape = _check_shape(w["shape"], f"{wpath}.shape")
            data = _to_float32_values(w["data"], f"{wpath}.data")
            if data.size != math.prod(shape):
                _fail(f"{wpath}.data", f"expected {math.prod(shape)} values, got {data.size}")
            weights[wname] = data.reshape(shape)
        node = {"name": name, "type": kind, "inputs": list(srcs), "config": config,
                "weights": weights, "path": path}
        if kind == "Dense" or kind == "Activation":
            node["activation"] = parse_activation(config.get("activation", "linear"),
                                                  f"{path}.config.activation")
        elif kind in CONV_TYPES | DEPTHWISE_TYPES | SEPARABLE_TYPES | TRANSPOSE_TYPES:
            node["activation"] = parse_activation(config.get("activation", "linear"),
                                                  f"{path}.config.activation")
        elif kind in RECURRENT_TYPES:
            node["activation"] = parse_activation(config.get("activation", "tanh"),
                                                  f"{path}.config.activation")
            if kind != "SimpleRNN":
                node["recurrent_activation"] = parse_activation(
                    config.get("recurrent_activation", "sigmoid"),
                    f"{path}.config.recurrent_activation")
        return node

    # -- shape inference ---------------------------------------------------

    def _infer(self, name, stack):
        if name in self.shapes:
            return self.shapes[name]
        if name in stack:
            _fail("nodes", f"cycle through {name!r}")
        if name not in self.nodes:
            _fail("nodes", f"unknown tensor {name!r}")
        node = self.nodes[name]
        ins = [self._infer(s, stack + (name,)) for s in node["inputs"]]
        self.shapes[name] = self._node_shape(node, ins)
        return self.shapes[name]

    def _node_shape(self, node, ins):
        kind, cfg, w, path = node["type"], node["config"], node["weights"], node["path"]
        x = ins[0]
        rank = len(x)

        def need_weight(wname, shape):
            if wname not in w:
                _fail(f"{path}.weights.{wname}", "missing")
            if w[wname].shape != tuple(shape):
                _fail(f"{path}.weights.{wname}.shape", f"expected {list(shape)}")

        if kind == "Dense":
            units = cfg["units"]
            if not isinstance(units, int) or isinstance(units, bool) or units < 1:
                _fail(f"{path}.config.units", "expected a positive integer")
            use_bias = cfg.get("use_bias", True)
            if not isinstance(use_bias, bool):
                _fail(f"{path}.config.use_bias", "expected a boolean")
            need_weight("kernel", (x[-1], units))
            if use_bias:
                need_weight("bias", (units,))
            elif "bias" in w:
                _fail(f"{path}.weights.bias", "present although use_bias is false")
            out = x[:-1] + (units,)
            self._check_activation_axis(node, out)
            return out
        if kind == "Activation":
            self._check_activation_axis(node, x)
            return x
        if kind == "BatchNormalization":
            axis = _normalize_axis(cfg.get("axis", -1), rank, f"{path}.config.axis")
            eps = cfg["epsilon"]
            if not _is_number(eps) or not eps > 0:
                _fail(f"{path}.config.epsilon", "expected a positive number")
            for wname in ("moving_mean", "moving_variance"):
                need_weight(wname, (x[axis],))
            for wname in ("gamma", "beta"):
                if wname in w:
                    need_weight(wname, (x[axis],))
            if np.any(w["moving_variance"] < 0):
                _fail(f"{path}.weights.moving_variance", "must be non-negative")
            node["axis"] = axis
            return x
        if kind == "LayerNormalization":
            axes = cfg.get("axis", -1)
            axes = axes if isinstance(axes, list) else [axes]
            if not axes:
                _fail(f"{path}.config.axis", "expected at least one axis")
            norm = sorted(_normalize_axis(a, rank, f"{path}.config.axis") for a in axes)
            if len(set(norm)) != len(norm) or norm != list(range(rank - len(norm), rank)):
                _fail(f"{path}.config.axis", "normalised axes must be the trailing axes")
            eps = cfg["epsilon"]
            if not _is_number(eps) or not eps > 0:
                _fail(f"{path}.config.epsilon", "expected a positive number")
            for wname in ("gamma", "beta"):
                if wname in w:
                    need_weight(wname, x[norm[0]:])
            node["axes"] = tuple(norm)
            return x
        if kind == "Flatten":
            return (math.prod(x),)
        if kind == "Reshape":
            shape = cfg["shape"]
            if (not isinstance(shape, list) or not shape
                    or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
                    or any(d < 1 and d != -1 for d in shape) or shape.count(-1) > 1):
                _fail(f"{path}.config.shape", "expected positive integers and at most one -1")
            known = math.prod(d for d in shape if d != -1)
            total = math.prod(x)
            if -1 in shape:
                if total % known:
                    _fail(f"{path}.config.shape", f"cannot reshape {list(x)} to {shape}")
                shape = [total // known if d == -1 else d for d in shape]
            if math.prod(shape) != total:
                _fail(f"{path}.config.shape", f"cannot reshape {list(x)} to {shape}")
            node["shape"] = tuple(shape)
            return tuple(shape)
        if kind == "Permute":
            dims = cfg["dims"]
            if not isinstance(dims, list) or sorted(dims) != list(range(rank)):
                _fail(f"{path}.config.dims", f"expected a permutation of 0..{rank - 1}")
            return tuple(x[d] for d in dims)
        if kind == "Concatenate":
            axis = _normalize_axis(cfg.get("axis", -1), rank, f"{path}.config.axis")
            for s in ins[1:]:
                if len(s) != rank or any(a != b for k, (a, b) in enumerate(zip(x, s)) if k != axis):
                    _fail(f"{path}.inputs", f"shapes {[list(s) for s in ins]} do not agree off axis")
            node["axis"] = axis
            return x[:axis] + (sum(s[axis] for s in ins),) + x[axis + 1:]
        if kind in MERGE_TYPES:
            if any(s != x for s in ins):
                _fail(f"{path}.inputs", f"{kind} needs identical shapes, got {[list(s) for s in ins]}")
            return x
        if kind == "Dropout":
            rate = cfg.get("rate", 0)
            if not _is_number(rate):
                _fail(f"{path}.config.rate", "expected a number")
            return x
        if kind in SPATIAL_TYPES:
            return _spatial_shape(node, x, need_weight)
        if kind in RECURRENT_TYPES:
            return _recurrent_shape(node, x, need_weight)
        if kind == "Reverse":
            node["axis"] = _normalize_axis(cfg.get("axis", 0), rank, f"{path}.config.axis")
            return x
        if kind == "Embedding":
            input_dim = _cfg_int(cfg, "input_dim", None, path)
            output_dim = _cfg_int(cfg, "output_dim", None, path)
            need_weight("embeddings", (input_dim, output_dim))
            return x + (output_dim,)
        if kind == "MultiHeadAttention":
            return _attention_shape(node, ins, need_weight)
        raise AssertionError(kind)

    @staticmethod
    def _check_activation_axis(node, shape):
        name, params = node["activation"]
        if name == "softmax":
            _normalize_axis(params["axis"], len(shape), f"{node['path']}.config.activation.axis")

    # -- evaluation --------------------------------------------------------

    def evaluate(self, inputs, dtype=np.float64):
        """Run the model on a batch.

        inputs: {input name: array-like of shape [batch, *shape]} (raw values,
        before preprocessing); they are rounded to float32 first.
        Returns {output name: array of shape [batch, *shape]} in ``dtype``.
        Only nodes some output needs are evaluated.
        """
        values = {}
        batch = None
        for name, shape, prep in self.inputs:
            if name not in inputs:
                raise ModelError(f"missing input {name!r}")
            x = np.asarray(inputs[name], dtype=np.float64).astype(np.float32).astype(dtype)
            if x.shape[1:] != shape:
                raise ModelError(f"input {name!r}: expected [batch, {list(shape)}], got {list(x.shape)}")
            if batch is None:
                batch = x.shape[0]
            elif x.shape[0] != batch:
                raise ModelError("all inputs must have the same batch size")
            # Per feature (last axis); numpy broadcasting over leading axes.
            if "nan_replacement" in prep:
                x = np.where(np.isnan(x), prep["nan_replacement"].astype(dtype), x)
            if "offset" in prep:
                x = x - prep["offset"].astype(dtype)
            if "scale" in prep:
                x = x * prep["scale"].astype(dtype)
            values[name] = x
        unknown = set(inputs) - {n for n, _, _ in self.inputs}
        if unknown:
            raise ModelError(f"unknown inputs {sorted(unknown)}")

        def get(name):
            if name not in values:
                node = self.nodes[name]
                args = [get(s) for s in node["inputs"]]
                values[name] = self._run_node(node, args, dtype)
            return values[name]

        return {out: get(node) for out, node in self.outputs}

    @staticmethod
    def _run_node(node, args, dtype):
        kind, cfg = node["type"], node["config"]
        w = {k: v.astype(dtype) for k, v in node["weights"].items()}
        t = np.dtype(dtype).type
        x = args[0]
        if kind == "Dense":
            kernel = w["kernel"]
            # Explicit sum over in_features in index order instead of a BLAS
            # matmul: deterministic across machines, and in float32 mode it is
            # the plain sequential accumulation a simple engine would do.
            y = w["bias"] if cfg.get("use_bias", True) else np.zeros(kernel.shape[1], dtype)
            y = np.broadcast_to(y, x.shape[:-1] + (kernel.shape[1],)).copy()
            for i in _order(kernel.shape[0]):
                y += x[..., i:i + 1] * kernel[i]
            return apply_activation(*node["activation"], y)
        if kind == "Activation":
            return apply_activation(*node["activation"], x)
        if kind == "BatchNormalization":
            bshape = [1] * x.ndim
            bshape[node["axis"] + 1] = -1
            raw = {k: v.astype(np.float64) for k, v in node["weights"].items()}
            gamma = raw.get("gamma", np.ones_like(raw["moving_mean"]))
            beta = raw.get("beta", np.zeros_like(raw["moving_mean"]))
            if dtype == np.float64:
                # Textbook form for the reference itself.
                y = (gamma.reshape(bshape) * (x - raw["moving_mean"].reshape(bshape))
                     / np.sqrt(raw["moving_variance"].reshape(bshape) + cfg["epsilon"])
                     + beta.reshape(bshape))
                return y
            # float32 emulation: the engine folds into one scale and shift per
            # channel (spec), which is less accurate when x*scale cancels shift.
            scale = gamma / np.sqrt(raw["moving_variance"] + cfg["epsilon"])
            shift = beta - raw["moving_mean"] * scale
            return x * scale.astype(dtype).reshape(bshape) + shift.astype(dtype).reshape(bshape)
        if kind == "LayerNormalization":
            axes = tuple(a + 1 for a in node["axes"])
            mean = np.mean(x, axis=axes, keepdims=True)
            var = np.mean((x - mean) ** 2, axis=axes, keepdims=True)  # biased
            y = (x - mean) / np.sqrt(var + t(cfg["epsilon"]))
            # gamma/beta have the shape of the trailing axes: plain broadcasting.
            if "gamma" in w:
                y = w["gamma"] * y
            if "beta" in w:
                y = y + w["beta"]
            return y
        if kind == "Flatten":
            return x.reshape(x.shape[0], -1)
        if kind == "Reshape":
            return x.reshape((x.shape[0],) + node["shape"])
        if kind == "Permute":
            return np.transpose(x, [0] + [d + 1 for d in cfg["dims"]])
        if kind == "Concatenate":
            return np.concatenate(args, axis=node["axis"] + 1)
        if kind == "Dropout":
            return x
        if kind == "Subtract":
            return args[0] - args[1]
        if kind in ("Add", "Average"):
            y = args[0]
            for a in args[1:]:
                y = y + a
            return y / t(len(args)) if kind == "Average" else y
        if kind == "Multiply":
            y = args[0]
            for a in args[1:]:
                y = y * a
            return y
        if kind == "Maximum":
            return np.maximum.reduce(args)
        if kind == "Minimum":
            return np.minimum.reduce(args)
        if kind in SPATIAL_TYPES:
            return _spatial_run(node, x, w, dtype)
        if kind in RECURRENT_TYPES:
            return _recurrent_run(node, x, w, dtype)
        if kind == "Reverse":
            return np.flip(x, axis=node["axis"] + 1).copy()
        if kind == "Embedding":
            return _embedding_run(node, x, w)
        if kind == "MultiHeadAttention":
            return _attention_run(node, args, w, dtype)
        raise AssertionError(kind)


# --------------------------------------------------------------------------
# Config helpers for the layers below
# --------------------------------------------------------------------------

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _cfg_int(cfg, key, default, path, minimum=1):
    value = cfg.get(key, default)
    if value is None:
        _fail(f"{path}.config.{key}", "missing required key")
    if not _is_int(value) or value < minimum:
        _fail(f"{path}.config.{key}", f"expected an integer >= {minimum}")
    return value


def _cfg_bool(cfg, key, default, path):
    value = cfg.get(key, default)
    if not isinstance(value, bool):
        _fail(f"{path}.config.{key}", "expected a boolean")
    return value


def _cfg_int_list(cfg, key, default, n, path, minimum=1):
    """An array with one integer per spatial axis (the spec writes arrays, so a
    bare integer is rejected)."""
    value = cfg.get(key, default)
    if value is None:
        _fail(f"{path}.config.{key}", "missing required key")
    if (not isinstance(value, list) or len(value) != n
            or not all(_is_int(v) and v >= minimum for v in value)):
        _fail(f"{path}.config.{key}", f"expected an array of {n} integers >= {minimum}")
    return list(value)


def _pairs(value, n, where):
    """One [before, after] pair of non-negative integers per spatial axis."""
    if (not isinstance(value, list) or len(value) != n
            or not all(isinstance(p, list) and len(p) == 2
                       and all(_is_int(v) and v >= 0 for v in p) for p in value)):
        _fail(where, f"expected {n} [before, after] pairs of non-negative integers")
    return [tuple(p) for p in value]


def _resolve_padding(padding, lengths, kernel, strides, dilation, where):
    """'valid' / 'same' / explicit pairs -> [(before, after)] per spatial axis."""
    n = len(lengths)
    if padding == "valid":
        return [(0, 0)] * n
    if padding == "same":
        pads = []
        for length, k, s, d in zip(lengths, kernel, strides, dilation):
            e = d * (k - 1) + 1
            out = -(-length // s)  # ceil(length / s)
            total = max((out - 1) * s + e - length, 0)
            pads.append((total // 2, total - total // 2))
        return pads
    if isinstance(padding, list):
        return _pairs(padding, n, where)
    _fail(where, 'expected "valid", "same" or [before, after] pairs')


def _window_lengths(lengths, kernel, strides, dilation, pads, where):
    out = []
    for length, k, s, d, (b, a) in zip(lengths, kernel, strides, dilation, pads):
        e = d * (k - 1) + 1
        span = length + b + a - e
        if span < 0:
            _fail(where, f"the (padded) input length {length + b + a} is shorter than the "
                         f"effective kernel {e}")
        out.append(span // s + 1)
    return out


# --------------------------------------------------------------------------
# Spatial layers: shape inference
# --------------------------------------------------------------------------

def _spatial_shape(node, x, need_weight):
    kind, cfg, path = node["type"], node["config"], node["path"]
    n = 1 if kind.endswith("1D") or "1D" in kind else 2
    if len(x) != n + 1:
        _fail(f"{path}.inputs", f"{kind} needs a rank-{n + 1} input, got {list(x)}")
    data_format = cfg.get("data_format", "channels_last")
    if data_format not in ("channels_last", "channels_first"):
        _fail(f"{path}.config.data_format", 'expected "channels_last" or "channels_first"')
    first = data_format == "channels_first"
    channels = x[0] if first else x[-1]
    lengths = list(x[1:] if first else x[:-1])
    node["channels_first"] = first

    def shape(spatial, c):
        return tuple([c] + list(spatial)) if first else tuple(list(spatial) + [c])

    ones = [1] * n
    if kind in CONV_TYPES | DEPTHWISE_TYPES | SEPARABLE_TYPES | TRANSPOSE_TYPES:
        kernel = _cfg_int_list(cfg, "kernel_size", None, n, path)
        strides = _cfg_int_list(cfg, "strides", ones, n, path)
        dilation = _cfg_int_list(cfg, "dilation_rate", ones, n, path)
        use_bias = _cfg_bool(cfg, "use_bias", True, path)
        padding = cfg.get("padding", "valid")
        node.update(kernel=kernel, strides=strides, dilation=dilation, use_bias=use_bias)
        if kind in TRANSPOSE_TYPES:
            filters = _cfg_int(cfg, "filters", None, path)
            out_pad = _cfg_int_list(cfg, "output_padding", [0] * n, n, path, minimum=0)
            pads = []
            for length, k, s, d in zip(lengths, kernel, strides, dilation):
                # "same": output length n*s, floor(max(e - s, 0) / 2) before; the
                # "after" entry may be negative (bias-only cells beyond the taps).
                full = (length - 1) * s + d * (k - 1) + 1
                before = max(d * (k - 1) + 1 - s, 0) // 2
                pads.append((before, full - before - length * s))
            if padding == "same" and any(out_pad):
                _fail(f"{path}.config.output_padding", "must be 0 with \"same\" padding")
            if padding == "valid":
                pads = [(0, 0)] * n
            elif padding != "same":
                pads = _resolve_padding(padding, lengths, kernel, strides, dilation,
                                        f"{path}.config.padding")
            out = []
            for length, k, s, d, (b, a), q in zip(lengths, kernel, strides, dilation, pads, out_pad):
                if not (q < s or q < d):
                    _fail(f"{path}.config.output_padding", "must be smaller than the stride "
                                                           "or the dilation")
                full = (length - 1) * s + d * (k - 1) + 1
                o = full - b - a + q
                if o < 1:
                    _fail(f"{path}.config.padding", "output length would be below 1")
                out.append(o)
            node.update(pads=pads, output_padding=out_pad)
            need_weight("kernel", tuple(kernel) + (filters, channels))
            out_c = filters
        else:
            pads = _resolve_padding(padding, lengths, kernel, strides, dilation,
                                    f"{path}.config.padding")
            out = _window_lengths(lengths, kernel, strides, dilation, pads, f"{path}.config")
            node["pads"] = pads
            if kind in CONV_TYPES:
                filters = _cfg_int(cfg, "filters", None, path)
                groups = _cfg_int(cfg, "groups", 1, path)
                if channels % groups or filters % groups:
                    _fail(f"{path}.config.groups", f"input channels {channels} and filters "
                                                   f"{filters} must be divisible by it")
                node["groups"] = groups
                need_weight("kernel", tuple(kernel) + (channels // groups, filters))
                out_c = filters
            else:
                dm = _cfg_int(cfg, "depth_multiplier", 1, path)
                node["depth_multiplier"] = dm
                if kind in DEPTHWISE_TYPES:
                    need_weight("kernel", tuple(kernel) + (channels, dm))
                    out_c = channels * dm
                else:
                    filters = _cfg_int(cfg, "filters", None, path)
                    need_weight("depthwise_kernel", tuple(kernel) + (channels, dm))
                    need_weight("pointwise_kernel", tuple(ones) + (channels * dm, filters))
                    out_c = filters
        if use_bias:
            need_weight("bias", (out_c,))
        elif "bias" in node["weights"]:
            _fail(f"{path}.weights.bias", "present although use_bias is false")
        return shape(out, out_c)

    if kind in MAXPOOL_TYPES | AVGPOOL_TYPES:
        pool = _cfg_int_list(cfg, "pool_size", None, n, path)
        strides = _cfg_int_list(cfg, "strides", pool, n, path)
        if kind in AVGPOOL_TYPES:
            node["count_include_pad"] = _cfg_bool(cfg, "count_include_pad", False, path)
        pads = _resolve_padding(cfg.get("padding", "valid"), lengths, pool, strides, ones,
                                f"{path}.config.padding")
        out = _window_lengths(lengths, pool, strides, ones, pads, f"{path}.config")
        # Not in the spec: a window made only of padding has no maximum and
        # (without count_include_pad) no mean; the reference refuses it.
        for length, k, s, (b, _), o in zip(lengths, pool, strides, pads, out):
            for i in range(o):
                start = i * s - b
                if start + k <= 0 or start >= length:
                    _fail(f"{path}.config.padding", "a pooling window lies entirely in padding")
        node.update(pool=pool, strides=strides, pads=pads)
        return shape(out, channels)

    if kind in GLOBALPOOL_TYPES:
        keepdims = _cfg_bool(cfg, "keepdims", False, path)
        return shape(ones, channels) if keepdims else (channels,)

    if kind in UPSAMPLING_TYPES:
        size = _cfg_int_list(cfg, "size", None, n, path)
        node["size"] = size
        return shape([length * f for length, f in zip(lengths, size)], channels)

    if kind in ZEROPADDING_TYPES:
        if "padding" not in cfg:
            _fail(f"{path}.config.padding", "missing required key")
        pads = _pairs(cfg["padding"], n, f"{path}.config.padding")
        node["pads"] = pads
        return shape([length + b + a for length, (b, a) in zip(lengths, pads)], channels)

    if kind in CROPPING_TYPES:
        crops = _pairs(cfg["cropping"], n, f"{path}.config.cropping")
        out = [length - b - a for length, (b, a) in zip(lengths, crops)]
        if min(out) < 1:
            _fail(f"{path}.config.cropping", "cropping must leave at least one cell")
        node["crops"] = crops
        return shape(out, channels)
    raise AssertionError(kind)


# --------------------------------------------------------------------------
# Spatial layers: evaluation.  Everything is computed channels-last
# ([batch, *spatial, C]); channels-first tensors are transposed in and out.
#
# Sums are accumulated term by term in a fixed order (kernel taps outer,
# input channels inner) into arrays of the evaluation dtype, so that the
# float32 mode behaves like a plain float32 engine.
# --------------------------------------------------------------------------

def _accumulate(y, x, kernel):
    """y[..., :] += sum_c x[..., c] * kernel[c, :], one term at a time."""
    for c in _order(kernel.shape[0]):
        y += x[..., c:c + 1] * kernel[c]
    return y


def _taps(kernel, strides, dilation, out):
    """For every kernel tap: the tap index and the slices of a padded input
    that line up with the output positions."""
    taps = list(np.ndindex(*kernel))
    for tap in taps if SUM_ORDER > 0 else taps[::-1]:
        sl = tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                   for t, d, s, o in zip(tap, dilation, strides, out))
        yield tap, (slice(None),) + sl


def _conv(x, kernel, strides, dilation, pads, groups, dtype):
    """Grouped convolution of channels-last x with kernel [*k, cin/groups, filters]."""
    ksize = kernel.shape[:-2]
    cin_g, filters = kernel.shape[-2:]
    fg = filters // groups
    xp = np.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)])
    out = [(xp.shape[1 + i] - (d * (k - 1) + 1)) // s + 1
           for i, (k, s, d) in enumerate(zip(ksize, strides, dilation))]
    y = np.zeros((x.shape[0], *out, filters), dtype)
    for tap, sl in _taps(ksize, strides, dilation, out):
        patch = xp[sl]
        for g in range(groups):
            _accumulate(y[..., g * fg:(g + 1) * fg], patch[..., g * cin_g:(g + 1) * cin_g],
                        kernel[tap][:, g * fg:(g + 1) * fg])
    return y


def _depthwise_as_grouped(kernel):
    """[*k, C, M] -> [*k, 1, C*M]: output channel c*M + m sees input channel c
    only (a convolution with groups = C)."""
    ksize, c, m = kernel.shape[:-2], kernel.shape[-2], kernel.shape[-1]
    return kernel.reshape(ksize + (1, c * m)), c


def _conv_transpose(x, kernel, strides, dilation, pads, out_pad, dtype):
    """Channels-last x [B, *n, cin], kernel [*k, filters, cin]: input position i
    scatters into output i*s + k*d - before."""
    ksize = kernel.shape[:-2]
    filters = kernel.shape[-2]
    lengths = x.shape[1:-1]
    full = [(n - 1) * s + d * (k - 1) + 1 for n, k, s, d in zip(lengths, ksize, strides, dilation)]
    out = [f - b - a + q for f, (b, a), q in zip(full, pads, out_pad)]
    size = [max(f, b + o) for f, (b, _), o in zip(full, pads, out)]
    buf = np.zeros((x.shape[0], *size, filters), dtype)
    for tap, sl in _taps(ksize, strides, dilation, lengths):
        _accumulate(buf[sl], x, kernel[tap].T)
    crop = (slice(None),) + tuple(slice(b, b + o) for (b, _), o in zip(pads, out))
    return buf[crop].copy()


def _pool(x, kind, pool, strides, pads, include_pad, dtype):
    ones = [1] * len(pool)
    out = [(x.shape[1 + i] + b + a - k) // s + 1
           for i, (k, s, (b, a)) in enumerate(zip(pool, strides, pads))]
    padding = [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)]
    if kind in MAXPOOL_TYPES:
        # Padded cells never win: pad with -inf.
        xp = np.pad(x, padding, constant_values=-np.inf)
        y = None
        for _, sl in _taps(pool, strides, ones, out):
            y = xp[sl].copy() if y is None else np.maximum(y, xp[sl])
        return y
    xp = np.pad(x, padding)
    y = np.zeros((x.shape[0], *out, x.shape[-1]), dtype)
    for _, sl in _taps(pool, strides, ones, out):
        y += xp[sl]
    if include_pad:
        return y / dtype(math.prod(pool))
    real = np.pad(np.ones((1, *x.shape[1:-1], 1), dtype), padding)
    count = np.zeros((1, *out, 1), dtype)
    for _, sl in _taps(pool, strides, ones, out):
        count += real[sl]
    return y / count


def _spatial_run(node, x, w, dtype):
    kind = node["type"]
    first = node["channels_first"]
    if first:
        x = np.moveaxis(x, 1, -1)
    n = x.ndim - 2
    if kind in GLOBALPOOL_TYPES:
        flat = x.reshape(x.shape[0], -1, x.shape[-1])
        if "Max" in kind:
            y = np.max(flat, axis=1)
        else:
            y = np.zeros((x.shape[0], x.shape[-1]), dtype)
            for p in _order(flat.shape[1]):
                y += flat[:, p]
            y = y / dtype(flat.shape[1])
        if not _cfg_bool(node["config"], "keepdims", False, node["path"]):
            return y
        y = y.reshape((x.shape[0],) + (1,) * n + (x.shape[-1],))
    elif kind in CONV_TYPES:
        y = _conv(x, w["kernel"], node["strides"], node["dilation"], node["pads"],
                  node["groups"], dtype)
    elif kind in DEPTHWISE_TYPES:
        kernel, groups = _depthwise_as_grouped(w["kernel"])
        y = _conv(x, kernel, node["strides"], node["dilation"], node["pads"], groups, dtype)
    elif kind in SEPARABLE_TYPES:
        kernel, groups = _depthwise_as_grouped(w["depthwise_kernel"])
        mid = _conv(x, kernel, node["strides"], node["dilation"], node["pads"], groups, dtype)
        y = _conv(mid, w["pointwise_kernel"], [1] * n, [1] * n, [(0, 0)] * n, 1, dtype)
    elif kind in TRANSPOSE_TYPES:
        y = _conv_transpose(x, w["kernel"], node["strides"], node["dilation"], node["pads"],
                            node["output_padding"], dtype)
    elif kind in MAXPOOL_TYPES | AVGPOOL_TYPES:
        y = _pool(x, kind, node["pool"], node["strides"], node["pads"],
                  node.get("count_include_pad", False), dtype)
    elif kind in UPSAMPLING_TYPES:
        y = x
        for i, f in enumerate(node["size"]):
            y = np.repeat(y, f, axis=1 + i)
    elif kind in ZEROPADDING_TYPES:
        y = np.pad(x, [(0, 0)] + [tuple(p) for p in node["pads"]] + [(0, 0)])
    elif kind in CROPPING_TYPES:
        y = x[(slice(None),) + tuple(slice(b, x.shape[1 + i] - a)
                                     for i, (b, a) in enumerate(node["crops"]))]
    else:
        raise AssertionError(kind)
    if "activation" in node:  # the convolutions
        if node["use_bias"]:
            y = y + w["bias"]
        y = apply_activation(*node["activation"], y)
    return np.moveaxis(y, -1, 1).copy() if first else y.copy()


# --------------------------------------------------------------------------
# Recurrent layers
# --------------------------------------------------------------------------

RECURRENT_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


def _recurrent_shape(node, x, need_weight):
    kind, cfg, path = node["type"], node["config"], node["path"]
    if len(x) != 2:
        _fail(f"{path}.inputs", f"{kind} needs a [T, F] input, got {list(x)}")
    units = _cfg_int(cfg, "units", None, path)
    gates = RECURRENT_GATES[kind]
    use_bias = _cfg_bool(cfg, "use_bias", True, path)
    sequences = _cfg_bool(cfg, "return_sequences", False, path)
    backwards = _cfg_bool(cfg, "go_backwards", False, path)
    reset_after = _cfg_bool(cfg, "reset_after", True, path) if kind == "GRU" else False
    need_weight("kernel", (x[1], gates * units))
    need_weight("recurrent_kernel", (units, gates * units))
    if use_bias:
        need_weight("bias", (2, 3 * units) if reset_after else (gates * units,))
    elif "bias" in node["weights"]:
        _fail(f"{path}.weights.bias", "present although use_bias is false")
    node.update(units=units, use_bias=use_bias, return_sequences=sequences,
                go_backwards=backwards, reset_after=reset_after)
    return (x[0], units) if sequences else (units,)


def _recurrent_run(node, x, w, dtype):
    kind, u = node["type"], node["units"]
    batch, steps = x.shape[0], x.shape[1]
    act = node["activation"]
    rec = node.get("recurrent_activation")
    W, U = w["kernel"], w["recurrent_kernel"]
    gates = RECURRENT_GATES[kind]
    if node["use_bias"]:
        bias = w["bias"]
    else:
        bias = np.zeros((2, 3 * u) if node["reset_after"] else (gates * u,), dtype)
    h = np.zeros((batch, u), dtype)
    c = np.zeros((batch, u), dtype)
    order = range(steps - 1, -1, -1) if node["go_backwards"] else range(steps)
    seq = []
    for t in order:
        xt = x[:, t]
        if kind == "SimpleRNN":
            a = _accumulate(np.broadcast_to(bias, (batch, u)).astype(dtype), xt, W)
            h = apply_activation(*act, _accumulate(a, h, U))
        elif kind == "LSTM":
            a = _accumulate(np.broadcast_to(bias, (batch, 4 * u)).astype(dtype), xt, W)
            a = _accumulate(a, h, U)
            i = apply_activation(*rec, a[:, :u])
            f = apply_activation(*rec, a[:, u:2 * u])
            g = apply_activation(*act, a[:, 2 * u:3 * u])
            o = apply_activation(*rec, a[:, 3 * u:])
            c = f * c + i * g
            h = o * apply_activation(*act, c)
        elif node["reset_after"]:  # GRU, PyTorch / Keras 3 default
            xa = _accumulate(np.broadcast_to(bias[0], (batch, 3 * u)).astype(dtype), xt, W)
            ha = _accumulate(np.broadcast_to(bias[1], (batch, 3 * u)).astype(dtype), h, U)
            z = apply_activation(*rec, xa[:, :u] + ha[:, :u])
            r = apply_activation(*rec, xa[:, u:2 * u] + ha[:, u:2 * u])
            cand = apply_activation(*act, xa[:, 2 * u:] + r * ha[:, 2 * u:])
            h = z * h + (dtype(1) - z) * cand
        else:  # GRU, reset_after false
            xa = _accumulate(np.broadcast_to(bias, (batch, 3 * u)).astype(dtype), xt, W)
            hzr = _accumulate(np.zeros((batch, 2 * u), dtype), h, U[:, :2 * u])
            z = apply_activation(*rec, xa[:, :u] + hzr[:, :u])
            r = apply_activation(*rec, xa[:, u:2 * u] + hzr[:, u:])
            hh = _accumulate(np.zeros((batch, u), dtype), r * h, U[:, 2 * u:])
            cand = apply_activation(*act, xa[:, 2 * u:] + hh)
            h = z * h + (dtype(1) - z) * cand
        seq.append(h)
    return np.stack(seq, axis=1) if node["return_sequences"] else h


# --------------------------------------------------------------------------
# Embedding
# --------------------------------------------------------------------------

def _embedding_run(node, x, w):
    table = w["embeddings"]
    input_dim = table.shape[0]
    bad = ~(np.isfinite(x) & (x == np.floor(x)) & (x >= 0) & (x < input_dim))
    if np.any(bad):
        where = np.argwhere(bad)[0]
        raise RunError(f"node {node['name']!r}: sample {int(where[0])}, position "
                       f"{[int(i) for i in where[1:]]}: index {x[tuple(where)]} is not an integer in "
                       f"[0, {input_dim})")
    return table[x.astype(np.int64)]


# --------------------------------------------------------------------------
# MultiHeadAttention
# --------------------------------------------------------------------------

MASK_ADDER = -1e9  # added to masked scores (spec, Keras semantics)
# A query whose keys are all masked gets zero attention weights (Keras >= 3.10).


def _attention_shape(node, ins, need_weight):
    cfg, path = node["config"], node["path"]
    heads = _cfg_int(cfg, "num_heads", None, path)
    key_dim = _cfg_int(cfg, "key_dim", None, path)
    value_dim = _cfg_int(cfg, "value_dim", key_dim, path)
    use_bias = _cfg_bool(cfg, "use_bias", True, path)
    use_mask = _cfg_bool(cfg, "use_mask", False, path)
    causal = _cfg_bool(cfg, "causal", False, path)
    n_data = len(ins) - (1 if use_mask else 0)
    if n_data not in (2, 3):
        _fail(f"{path}.inputs", "expected [query, value], [query, value, key], plus the mask "
                                "when use_mask is true")
    query, value = ins[0], ins[1]
    key = ins[2] if n_data == 3 else value
    for name, s in (("query", query), ("value", value), ("key", key)):
        if len(s) != 2:
            _fail(f"{path}.inputs", f"{name} must have rank 2, got {list(s)}")
    if key[0] != value[0]:
        _fail(f"{path}.inputs", "key and value need the same length")
    if use_mask and ins[-1] != (query[0], value[0]):
        _fail(f"{path}.inputs", f"the mask must have shape [{query[0]}, {value[0]}]")
    if causal and query[0] != value[0]:
        _fail(f"{path}.config.causal", "causal attention needs T_q == T_v")
    w = node["weights"]
    if "output_kernel" not in w:
        _fail(f"{path}.weights.output_kernel", "missing")
    d_out = w["output_kernel"].shape[-1]
    need_weight("query_kernel", (query[1], heads, key_dim))
    need_weight("key_kernel", (key[1], heads, key_dim))
    need_weight("value_kernel", (value[1], heads, value_dim))
    need_weight("output_kernel", (heads, value_dim, d_out))
    biases = {"query_bias": (heads, key_dim), "key_bias": (heads, key_dim),
              "value_bias": (heads, value_dim), "output_bias": (d_out,)}
    for name, shape in biases.items():
        if use_bias:
            need_weight(name, shape)
        elif name in w:
            _fail(f"{path}.weights.{name}", "present although use_bias is false")
    node.update(heads=heads, key_dim=key_dim, use_bias=use_bias, use_mask=use_mask,
                causal=causal, n_data=n_data)
    return (query[0], d_out)


def _attention_run(node, args, w, dtype):
    query, value = args[0], args[1]
    key = args[2] if node["n_data"] == 3 else value
    batch, tq, tv = query.shape[0], query.shape[1], value.shape[1]
    allowed = np.ones((batch, tq, tv), dtype=bool)
    if node["use_mask"]:
        allowed &= args[-1] != 0
    if node["causal"]:
        allowed &= np.tril(np.ones((tq, tv), dtype=bool))
    d_out = w["output_kernel"].shape[-1]
    y = (np.broadcast_to(w["output_bias"], (batch, tq, d_out)).astype(dtype)
         if node["use_bias"] else np.zeros((batch, tq, d_out), dtype))
    scale = dtype(math.sqrt(node["key_dim"]))
    for h in range(node["heads"]):
        def project(x, name):
            kernel = w[f"{name}_kernel"][:, h, :]
            init = (np.broadcast_to(w[f"{name}_bias"][h], x.shape[:-1] + kernel.shape[-1:])
                    if node["use_bias"] else np.zeros(x.shape[:-1] + kernel.shape[-1:]))
            return _accumulate(init.astype(dtype), x, kernel)
        q, k, v = project(query, "query"), project(key, "key"), project(value, "value")
        scores = np.zeros((batch, tq, tv), dtype)
        for d in _order(q.shape[-1]):
            scores += q[:, :, d:d + 1] * k[:, None, :, d]
        scores = scores / scale
        scores = np.where(allowed, scores, scores + dtype(MASK_ADDER))
        e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
        p = e / np.sum(e, axis=-1, keepdims=True)
        p = np.where(allowed.any(axis=-1, keepdims=True), p, dtype(0))
        o = np.zeros((batch, tq, v.shape[-1]), dtype)
        for j in _order(tv):
            o += p[:, :, j:j + 1] * v[:, None, j, :]
        _accumulate(y, o, w["output_kernel"][h])
    return y


def load_model(path):
    """Read a model file and return a validated ReferenceModel."""
    with open(path, encoding="utf-8") as f:
        return ReferenceModel(json.load(f, parse_constant=reject_json_constant))


def reject_json_constant(name):
    # Python's json accepts NaN/Infinity; the format (and JSON) does not.
    raise ModelError(f"invalid JSON constant {name}")


# --------------------------------------------------------------------------
# Writing helpers
# --------------------------------------------------------------------------

class Num(float):
    """A float that remembers the exact text it is written as."""

    def __new__(cls, value, text):
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


def _num(value, digits):
    v = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0
    if not math.isfinite(v):
        raise ValueError(f"cannot write non-finite value {v} as JSON")
    return Num(v, format(v, f".{digits}g"))


def f32(values):
    """Round to float32 (returned as a float32 ndarray)."""
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def f32_list(values):
    """Flat list of float32 values written with 9 significant digits."""
    return [_num(v, 9) for v in f32(values).ravel()]


def weight(values):
    """A weight object {"shape", "data"} from an array; values become float32."""
    arr = f32(values)
    return {"shape": list(arr.shape), "data": f32_list(arr)}


def batch_array(values, digits):
    """Batch-first nested list; digits=9 for float32 inputs, 17 for float64 outputs."""
    arr = np.asarray(values)
    if digits == 9:
        arr = f32(arr)
    return _nest(arr, digits)


def _nest(arr, digits):
    if arr.ndim == 0:
        return _num(arr, digits)
    return [_nest(a, digits) for a in arr]


def make_test_vector(model, inputs, tolerance=None):
    """Test vector whose expected outputs come from the float64 reference.

    model: a model dict or ReferenceModel; inputs: {name: [batch, *shape]}.
    """
    ref = model if isinstance(model, ReferenceModel) else ReferenceModel(model)
    inputs = {k: f32(v) for k, v in inputs.items()}
    outputs = ref.evaluate(inputs)
    tv = {"inputs": {k: batch_array(v, 9) for k, v in inputs.items()},
          "outputs": {k: batch_array(v, 17) for k, v in outputs.items()}}
    if tolerance is not None:
        tv["tolerance"] = dict(tolerance)
    return tv


def test_vector_arrays(tv):
    """(inputs, outputs, tolerance) of a parsed test vector as float64 arrays."""
    ins = {k: np.asarray(v, dtype=np.float64) for k, v in tv["inputs"].items()}
    outs = {k: np.asarray(v, dtype=np.float64) for k, v in tv["outputs"].items()}
    return ins, outs, tv.get("tolerance", DEFAULT_TOLERANCE)


def _scalar_text(v):
    if isinstance(v, Num):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write non-finite value {v} as JSON")
        return repr(v)  # shortest text that round-trips the float64
    if isinstance(v, str):
        return json.dumps(v)
    raise TypeError(f"cannot write {type(v).__name__} as JSON")


def dumps(obj, width=100):
    """Deterministic, reasonably compact JSON text.

    Containers that fit on one line stay on one line; long arrays of numbers
    are wrapped, several numbers per line; everything else gets one entry per
    line.  Ends with a newline.
    """
    return _dumps(obj, 0, width) + "\n"


def _inline(obj):
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_inline(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ", ".join(_inline(v) for v in obj) + "]"
    return _scalar_text(obj)


def _dumps(obj, indent, width, lead=0):
    # lead: characters already on the first line (an object key) after the indent.
    if not isinstance(obj, (dict, list)):
        return _scalar_text(obj)
    text = _inline(obj)
    if indent + lead + len(text) <= width or not obj:
        return text
    pad = " " * (indent + 2)
    if isinstance(obj, list) and not any(isinstance(v, (dict, list)) for v in obj):
        # Wrap a long flat array: greedy packing of scalars into lines.
        lines, line = [], ""
        for item in (_scalar_text(v) for v in obj):
            if line and len(pad) + len(line) + len(item) + 2 > width:
                lines.append(line)
                line = ""
            line = f"{line}, {item}" if line else item
        lines.append(line)
        return "[\n" + ",\n".join(pad + ln for ln in lines) + "\n" + " " * indent + "]"
    if isinstance(obj, list):
        items = [pad + _dumps(v, indent + 2, width) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = []
    for k, v in obj.items():
        key = json.dumps(k) + ": "
        items.append(pad + key + _dumps(v, indent + 2, width, len(key)))
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
