"""Common back end of every route: options (names, preprocessing, variables,
labels, metadata), embedded test vectors computed by the framework, the JSON
text (float32 numbers in 9 significant digits, exact), validation against
docs/trignet-format-v1.schema.json and a read-back check."""

import dataclasses
import datetime
import json
import math
import os
from pathlib import Path

import numpy as np

from . import __version__
from .errors import ConversionError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "trignet-format-v1.schema.json"

# Written into every test vector. float32 evaluation in a different order than
# the framework (another GEMM blocking, another exp) differs by a few ulp per
# operation; an output that is a sum of K products of magnitude ~1 can differ
# by ~K * 6e-8 in absolute terms, so for K up to ~100 1e-5 is safely above
# float32 noise while still far below any real mapping error (wrong axis,
# transposed kernel, wrong epsilon: >1e-3).
DEFAULT_TOLERANCE = {"abs": 1e-5, "rel": 1e-4}
DEFAULT_SEED = 20261128


@dataclasses.dataclass
class Options:
    """Options shared by every route (see docs/converter.md).

    Dicts keyed by input or output are keyed by the final name (after
    input_names/output_names) or by position (0, 1, ...); for a model with a
    single input (output) a bare value is accepted too.
    """
    name: str = None
    input_names: list = None
    output_names: list = None
    preprocessing: object = None   # {input: {"offset","scale","nan_replacement"} | scaler object | JSON path}
    variables: object = None       # {input: [names]}
    labels: object = None          # {output: [labels]}
    test_vectors: int = 3          # number of embedded test vectors
    test_batch: int = 8            # samples per test vector (the first has 1)
    test_inputs: object = None     # {input: batch-first array} or a JSON/npz path: used for one extra vector
    tolerance: dict = None         # {"abs": .., "rel": ..}; default DEFAULT_TOLERANCE
    metadata: dict = None
    seed: int = DEFAULT_SEED
    fuse_activations: bool = True
    binary_weights: bool = False   # weights in <name>.weights.bin next to the JSON (docs/format.md)
    precision: object = None       # fixed point: hls4ml config (dict or .json/.yml path) or ModelGraph (precision.py)


def make_options(options=None, **kwargs):
    if options is None:
        options = Options()
    unknown = set(kwargs) - {f.name for f in dataclasses.fields(Options)}
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    return dataclasses.replace(options, **kwargs)


# ---------------------------------------------------------------------------
# keyed options

_BARE_KEYS = {"offset", "scale", "nan_replacement", "mean_", "scale_", "center_", "min_"}


def _keyed(value, names, what):
    """Normalises an option keyed by input/output to {name: value}. A value
    that is not a dict keyed by names/positions applies to the only input (output)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) & _BARE_KEYS:
        if len(names) != 1:
            raise ConversionError(f"the model has {len(names)} {what}s ({', '.join(names)}): "
                                  f"key the option by {what} name")
        value = {names[0]: value}
    out = {}
    for k, v in value.items():
        if isinstance(k, int):
            if not 0 <= k < len(names):
                raise ConversionError(f"no {what} number {k} (the model has {len(names)})")
            k = names[k]
        if k not in names:
            raise ConversionError(f"no {what} named '{k}' (the model's {what}s: {', '.join(names)})")
        if k in out and isinstance(out[k], dict) and isinstance(v, dict):
            v = {**out[k], **v}
        out[k] = v
    return out


def _array(v, n, what):
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.size == 1 and n != 1:
        a = np.full(n, a[0])
    if a.size != n:
        raise ConversionError(f"{what}: expected {n} values (one per feature), got {a.size}")
    a32 = a.astype(np.float32)
    if not np.all(np.isfinite(a32)):
        raise ConversionError(f"{what}: values must be finite float32 numbers")
    return a32


def preprocessing_from(spec, n, input_name):
    """{"offset","scale","nan_replacement"} float32 arrays from a dict, a
    scaler object (scikit-learn StandardScaler/RobustScaler/MinMaxScaler
    attributes) or a JSON file holding either."""
    what = f"preprocessing of input '{input_name}'"
    if isinstance(spec, (str, os.PathLike)):
        with open(spec) as f:
            spec = json.load(f)
        if isinstance(spec, dict) and input_name in spec and isinstance(spec[input_name], dict):
            spec = spec[input_name]
    if not isinstance(spec, dict):  # scaler-like object
        spec = {k: getattr(spec, k) for k in ("mean_", "scale_", "center_", "min_", "with_mean", "with_std")
                if hasattr(spec, k)}
    spec = dict(spec)
    out = {}
    if "offset" in spec or "scale" in spec or "nan_replacement" in spec:
        extra = set(spec) - {"offset", "scale", "nan_replacement"}
        if extra:
            raise ConversionError(f"{what}: unknown keys {sorted(extra)} (use offset, scale, nan_replacement)")
        for k in ("offset", "scale", "nan_replacement"):
            if spec.get(k) is not None:
                out[k] = _array(spec[k], n, f"{what}.{k}")
        return out
    if "min_" in spec and "scale_" in spec:          # MinMaxScaler: x * scale_ + min_
        scale = np.asarray(spec["scale_"], np.float64).reshape(-1)
        out["offset"] = _array(-np.asarray(spec["min_"], np.float64).reshape(-1) / scale, n, f"{what} (min_)")
        out["scale"] = _array(scale, n, f"{what} (scale_)")
        return out
    mean = spec.get("mean_", spec.get("center_"))    # StandardScaler / RobustScaler: (x - mean_) / scale_
    if mean is not None:
        out["offset"] = _array(mean, n, f"{what} (mean_)")
    if spec.get("scale_") is not None:
        out["scale"] = _array(1.0 / np.asarray(spec["scale_"], np.float64), n, f"{what} (1/scale_)")
    if not out:
        raise ConversionError(f"{what}: expected offset/scale, or a scaler with mean_/scale_ "
                              f"(StandardScaler), center_/scale_ (RobustScaler) or min_/scale_ (MinMaxScaler)")
    return out


def apply_preprocessing(x, pre):
    """What the engine does to raw inputs (float32, same order of operations)."""
    x = np.asarray(x, np.float32)
    if "nan_replacement" in pre:
        x = np.where(np.isnan(x), pre["nan_replacement"], x).astype(np.float32)
    if "offset" in pre:
        x = (x - pre["offset"]).astype(np.float32)
    if "scale" in pre:
        x = (x * pre["scale"]).astype(np.float32)
    return x


def _load_test_inputs(src, names):
    if isinstance(src, (str, os.PathLike)):
        p = str(src)
        if p.endswith(".npz"):
            with np.load(p) as z:
                src = {k: z[k] for k in z.files}
        else:
            with open(p) as f:
                src = json.load(f)
    src = _keyed(src, names, "input")
    missing = [n for n in names if n not in src]
    if missing:
        raise ConversionError(f"test inputs: missing input(s) {', '.join(missing)}")
    return {k: np.asarray(_nulls_to_nan(a), np.float32) for k, a in src.items()}


def _nulls_to_nan(a):
    if isinstance(a, list):
        return [_nulls_to_nan(v) for v in a]
    return np.nan if a is None else a


# ---------------------------------------------------------------------------
# finishing a graph

def finish(graph, run, options, metadata, path=None, source=None):
    """Applies the options to a converted graph, computes test vectors with
    ``run`` (list of float32 arrays in input order, preprocessed -> list of
    float32 arrays in output order), validates and writes. Returns the model dict."""
    opt = options
    # names
    if opt.input_names is not None:
        if len(opt.input_names) != len(graph.inputs):
            raise ConversionError(f"{len(opt.input_names)} input names given, the model has "
                                  f"{len(graph.inputs)} inputs ({', '.join(i['name'] for i in graph.inputs)})")
        for inp, new in zip(graph.inputs, opt.input_names):
            _rename_input(graph, inp, new)
    if opt.output_names is not None:
        if len(opt.output_names) != len(graph.outputs):
            raise ConversionError(f"{len(opt.output_names)} output names given, the model has "
                                  f"{len(graph.outputs)} outputs ({', '.join(o['name'] for o in graph.outputs)})")
        for out, new in zip(graph.outputs, opt.output_names):
            out["name"] = new
    in_names = [i["name"] for i in graph.inputs]
    out_names = [o["name"] for o in graph.outputs]
    for names, what in ((in_names, "input"), (out_names, "output")):
        if len(set(names)) != len(names):
            raise ConversionError(f"{what} names are not unique: {names}")

    # preprocessing, variables, labels
    pre = {}
    for k, v in _keyed(opt.preprocessing, in_names, "input").items():
        inp = graph.inputs[in_names.index(k)]
        if inp.get("dtype") == "int32":
            raise ConversionError(f"input '{k}' holds integers (int32: indices or a mask); "
                                  "format v1 allows no preprocessing on it")
        pre[k] = preprocessing_from(v, inp["shape"][-1], k)
        if pre[k]:
            inp["preprocessing"] = pre[k]
    for k, v in _keyed(opt.variables, in_names, "input").items():
        inp = graph.inputs[in_names.index(k)]
        v = _str_list(v)
        if len(v) != inp["shape"][-1]:
            raise ConversionError(f"variables of input '{k}': {len(v)} names for {inp['shape'][-1]} features")
        inp["variables"] = v
    for k, v in _keyed(opt.labels, out_names, "output").items():
        out = graph.outputs[out_names.index(k)]
        v = _str_list(v)
        if len(v) != out["shape"][-1]:
            raise ConversionError(f"labels of output '{k}': {len(v)} labels for {out['shape'][-1]} values")
        out["labels"] = v

    if opt.fuse_activations:
        graph.fuse_activations()
    graph.prune()
    fixed = None
    if opt.precision is not None:   # fixed-point description (docs/format.md, "Fixed-point precision")
        from .precision import attach
        fixed = attach(graph, opt.precision, pre)

    # test vectors, computed by the framework on raw inputs through our preprocessing
    rng = np.random.default_rng(opt.seed)
    tol = dict(opt.tolerance or DEFAULT_TOLERANCE)
    batches = []
    for t in range(max(0, int(opt.test_vectors))):
        b = 1 if t == 0 else max(1, int(opt.test_batch))
        raw = {}
        for inp in graph.inputs:
            kind = _input_values(graph, inp)
            if kind[0] == "index":
                raw[inp["name"]] = rng.integers(0, kind[1], (b, *inp["shape"])).astype(np.float32)
                continue
            if kind[0] == "mask":
                raw[inp["name"]] = random_mask(rng, (b, *inp["shape"]))
                continue
            z = rng.standard_normal((b, *inp["shape"])).astype(np.float32)
            p = pre.get(inp["name"], {})
            if "scale" in p:
                z = z / np.where(p["scale"] == 0, 1, p["scale"])
            if "offset" in p:
                z = z + p["offset"]
            raw[inp["name"]] = z.astype(np.float32)
        batches.append(raw)
    if opt.test_inputs is not None:
        batches.append(_load_test_inputs(opt.test_inputs, in_names))
    vectors = []
    for raw in batches:
        xs = [apply_preprocessing(raw[n], pre.get(n, {})) for n in in_names]
        ys = run(xs)
        if len(ys) != len(out_names):
            raise ConversionError(f"internal error: the framework returned {len(ys)} outputs, "
                                  f"the graph has {len(out_names)}")
        outs = {}
        for o, y in zip(graph.outputs, ys):
            y = np.asarray(y, np.float32)
            if tuple(y.shape[1:]) != tuple(o["shape"]):
                raise ConversionError(f"output '{o['name']}': the framework computes per-sample shape "
                                      f"{list(y.shape[1:])}, the converted graph {o['shape']}")
            outs[o["name"]] = y
        vectors.append({"inputs": raw, "outputs": outs, "tolerance": tol})

    meta = {"converter": "trignet-convert", "converter_version": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()}
    if source:
        meta["source"] = source
    meta.update(metadata or {})
    meta.update(opt.metadata or {})

    model = {
        "format": "trignet",
        "format_version": 1,
        "name": opt.name or graph.name or "model",
        "metadata": meta,
        "inputs": [_input_json(i) for i in graph.inputs],
        "outputs": graph.outputs,
        "nodes": [_node_json(n) for n in graph.nodes],
    }
    if fixed is not None:
        model["fixed_point"] = fixed[0]
        for nj in model["nodes"]:
            if nj["name"] in fixed[1]:
                nj["precision"] = fixed[1][nj["name"]]
    if vectors:
        model["test_vectors"] = vectors
    text = dumps(model)
    check_text(text, graph)
    if path is not None and opt.binary_weights:
        from .binary_weights import write_split
        return write_split(json.loads(text), path, dumps)
    if opt.binary_weights:
        raise ConversionError("binary_weights needs an output path (the weight file goes next to it)")
    if path is not None:
        Path(path).write_text(text)
    return json.loads(text)


def random_mask(rng, shape):
    """0/1 attention mask; the diagonal (and column 0) attend, so no query is fully masked."""
    m = (rng.random(shape) < 0.7).astype(np.float32)
    m[..., 0] = 1.0
    if shape[-1] == shape[-2]:
        idx = np.arange(shape[-1])
        m[..., idx, idx] = 1.0
    return m


def _input_values(graph, inp):
    """How to draw random test inputs for a model input (see Graph.add_input)."""
    if inp.get("values"):
        return inp["values"]
    if inp.get("dtype") == "int32":
        highs = [n.config["input_dim"] for n in graph.nodes if n.type == "Embedding" and inp["name"] in n.inputs]
        if not highs:
            raise ConversionError(f"int32 input '{inp['name']}': no Embedding reads it directly, so the converter "
                                  "cannot tell the valid range of its random test values")
        return ("index", min(highs))
    return ("normal",)


def _str_list(v):
    if isinstance(v, str):
        if v.startswith("@"):
            v = Path(v[1:]).read_text().split()
        else:
            v = v.split(",")
    return [str(s) for s in v]


def _rename_input(graph, inp, new):
    old = inp["name"]
    if new == old:
        return
    if new in graph._taken:
        raise ConversionError(f"input name '{new}' is already used by a node or input")
    graph._taken.add(new)
    inp["name"] = new
    graph.shapes[new] = graph.shapes[old]
    for n in graph.nodes:
        n.inputs = [new if i == old else i for i in n.inputs]


def _input_json(i):
    out = {"name": i["name"], "shape": i["shape"], "dtype": i.get("dtype", "float32")}
    if "variables" in i:
        out["variables"] = i["variables"]
    if "preprocessing" in i:
        out["preprocessing"] = i["preprocessing"]
    return out


def _node_json(n):
    out = {"name": n.name, "type": n.type, "inputs": n.inputs}
    if n.config:
        out["config"] = n.config
    if n.weights:
        out["weights"] = {k: {"shape": list(v.shape), "data": v.reshape(-1)} for k, v in n.weights.items()}
    return out


# ---------------------------------------------------------------------------
# JSON text

def f32_text(v):
    """A float32 value in 9 significant digits: reads back bit-exact."""
    v = float(np.float32(v))
    if not math.isfinite(v):
        raise ConversionError(f"non-finite value {v} cannot be written (weights must be finite)")
    s = format(v, ".9g")
    return "-0.0" if s == "-0" else s


def f64_text(v):
    v = float(v)
    if not math.isfinite(v):
        raise ConversionError(f"non-finite parameter {v}")
    s = format(v, ".17g")
    return "-0.0" if s == "-0" else s


def _nan_ok_f32(v):
    return "null" if math.isnan(v) else f32_text(v)


def _numbers(a, fmt, indent):
    """A numeric array (any rank) as nested JSON arrays, wrapped at ~100 columns."""
    a = np.asarray(a)
    if a.ndim == 0:
        return fmt(a)
    if a.ndim == 1:
        items = [fmt(x) for x in a.tolist()]
        lines, cur = [], ""
        for it in items:
            if cur and len(cur) + len(it) + 2 + indent > 100:
                lines.append(cur + ",")
                cur = it
            else:
                cur = f"{cur}, {it}" if cur else it
        lines.append(cur)
        if len(lines) == 1:
            return "[" + lines[0] + "]"
        pad = " " * (indent + 2)
        return "[\n" + "\n".join(pad + ln for ln in lines) + "\n" + " " * indent + "]"
    parts = [_numbers(x, fmt, indent + 2) for x in a]
    if all("\n" not in p for p in parts) and sum(len(p) + 2 for p in parts) + indent < 100:
        return "[" + ", ".join(parts) + "]"
    pad = " " * (indent + 2)
    return "[\n" + ",\n".join(pad + p for p in parts) + "\n" + " " * indent + "]"


def _emit(o, indent, key=None):
    if isinstance(o, np.ndarray):
        # weights, preprocessing, test-vector inputs and outputs: float32 in 9 digits
        return _numbers(o.astype(np.float32), _nan_ok_f32, indent)
    if isinstance(o, bool):
        return "true" if o else "false"
    if isinstance(o, (int, np.integer)):
        return str(int(o))
    if isinstance(o, (float, np.floating)):
        return f64_text(o)        # layer parameters and tolerances: float64
    if isinstance(o, str) or o is None:
        return json.dumps(o, ensure_ascii=False)
    if isinstance(o, (list, tuple)):
        parts = [_emit(x, indent + 2) for x in o]
        one = "[" + ", ".join(parts) + "]"
        if "\n" not in one and len(one) + indent < 100:
            return one
        pad = " " * (indent + 2)
        return "[\n" + ",\n".join(pad + p for p in parts) + "\n" + " " * indent + "]"
    if isinstance(o, dict):
        parts = [f"{json.dumps(str(k), ensure_ascii=False)}: {_emit(v, indent + 2, k)}" for k, v in o.items()]
        one = "{" + ", ".join(parts) + "}"
        if "\n" not in one and len(one) + indent < 100:
            return one
        pad = " " * (indent + 2)
        return "{\n" + ",\n".join(pad + p for p in parts) + "\n" + " " * indent + "}"
    raise ConversionError(f"internal error: cannot write {type(o).__name__} to JSON")


def dumps(model):
    return _emit(model, 0) + "\n"


# ---------------------------------------------------------------------------
# checks

_schema_validator = None


def schema_validator():
    global _schema_validator
    if _schema_validator is None:
        import jsonschema
        schema = json.loads(SCHEMA_PATH.read_text())
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _schema_validator = cls(schema)
    return _schema_validator


def validate(model_dict):
    """Raises ConversionError listing every schema violation of a model dict."""
    errors = sorted(schema_validator().iter_errors(model_dict), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  {'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message[:200]}"
                 for e in errors[:20]]
        raise ConversionError("the converted model does not follow format v1:\n" + "\n".join(lines))


def check_text(text, graph):
    """Validates against the schema and checks that every weight reads back bit-exact."""
    model = json.loads(text)
    validate(model)
    by_name = {n["name"]: n for n in model["nodes"]}
    for n in graph.nodes:
        for k, w in n.weights.items():
            back = np.asarray(by_name[n.name]["weights"][k]["data"], np.float64).astype(np.float32)
            if not np.array_equal(back.view(np.uint32), w.reshape(-1).view(np.uint32)):
                raise ConversionError(f"internal error: weight {n.name}.{k} does not read back exactly")
