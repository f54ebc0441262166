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

Only numpy and the standard library are used.
"""

import json
import math

import numpy as np

FORMAT = "trignet"
FORMAT_VERSION = 1

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

DEFAULT_TOLERANCE = {"abs": 1e-6, "rel": 1e-4}


class ModelError(ValueError):
    """A model dict that does not follow docs/format.md."""


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
LAYER_TYPES = UNARY_TYPES | MERGE_TYPES | {"Concatenate"}

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

# type -> allowed weight names (required ones are checked per type)
WEIGHT_KEYS = {
    "Dense": ("kernel", "bias"),
    "BatchNormalization": ("moving_mean", "moving_variance", "gamma", "beta"),
    "LayerNormalization": ("gamma", "beta"),
}


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
        if spec.get("dtype", "float32") != "float32":
            _fail(f"{path}.dtype", "only float32 is supported")
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
            for i in range(kernel.shape[0]):
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
        raise AssertionError(kind)


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
