"""Fixed-point precision for the converter (issue 7).

Sources of precision:

- an hls4ml configuration dictionary (``{'Model': {...}, 'LayerName': {...}}``,
  the style of ``hls4ml.utils.config_from_keras_model``), in Python or as a
  JSON/YAML file (``--precision-config``). When hls4ml is importable, the
  converter lets hls4ml itself resolve the configuration (``auto`` types, the
  accumulator and result types it infers, table sizes, softmax
  implementation) by converting the Keras model to an hls4ml ``ModelGraph``
  (nothing is written or compiled) and reads every type from that graph; so the
  trignet file holds exactly the types hls4ml's generated C++ uses.
- an hls4ml ``ModelGraph`` given directly (``from_hls4ml``),
- QKeras quantizer configurations (``qkeras_type``: ``quantized_bits``,
  ``quantized_relu``, ... mapped to the ap types hls4ml gives them).

The model file gets types in the C++ spelling of docs/format.md
(``ap_fixed<16,6,AP_RND,AP_SAT>``, modes only where not the defaults);
``parse_type`` reads that and hls4ml's own printing (``fixed<16,6,RND,SAT,0>``,
``ufixed<...>``, ``int<8>``).

``attach`` (called by writer.finish) maps the resolved hls4ml layers onto the
converted graph's nodes; see docs/fixed-point.md ("Converting a model with
precision").
"""

import dataclasses
import json
import re
from pathlib import Path

from .errors import ConversionError

ROUNDING = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")
SATURATION = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")


@dataclasses.dataclass(frozen=True)
class FixedType:
    """ap_fixed<width, integer, rounding, saturation> (signed) or ap_ufixed."""
    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    saturation: str = "WRAP"

    @property
    def fractional(self):
        return self.width - self.integer

    def hls(self):
        """hls4ml's spelling, modes only where not the defaults."""
        s = f"{'' if self.signed else 'u'}fixed<{self.width},{self.integer}"
        if self.rounding != "TRN" or self.saturation != "WRAP":
            s += f",{self.rounding}"
        if self.saturation != "WRAP":
            s += f",{self.saturation}"
        return s + ">"

    def ap(self):
        """C++ spelling (docs/format.md "Types"), modes only where not the defaults."""
        s = f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer}"
        if self.rounding != "TRN" or self.saturation != "WRAP":
            s += f",AP_{self.rounding}"
        if self.saturation != "WRAP":
            s += f",AP_{self.saturation}"
        return s + ">"

    def __str__(self):
        return self.hls()

    def raw_range(self):
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, (1 << self.width) - 1

    def quantize_raw(self, values):
        """Raw integers (value * 2^F, int64) of float64 `values` cast into this
        type as ap_fixed casts a double: quantisation with the rounding mode,
        then overflow. Exact: scaling a double by 2^F is exact, and floor/ties
        are decided on exact doubles."""
        import numpy as np
        s = np.asarray(values, np.float64) * (2.0 ** self.fractional)
        if not np.all(np.isfinite(s)):
            raise ConversionError(f"non-finite value cast to {self.ap()}")
        fl = np.floor(s)
        frac = s - fl
        q = self.rounding
        if q == "TRN":
            n = fl
        elif q == "TRN_ZERO":
            n = np.where((frac > 0) & (s < 0), fl + 1, fl)
        else:
            up = frac > 0.5
            tie = frac == 0.5
            if q == "RND":
                tie_up = np.ones_like(tie)
            elif q == "RND_MIN_INF":
                tie_up = np.zeros_like(tie)
            elif q == "RND_ZERO":
                tie_up = s < 0
            elif q == "RND_INF":
                tie_up = s > 0
            else:  # RND_CONV: ties to even
                tie_up = np.mod(fl, 2) == 1
            n = fl + (up | (tie & tie_up))
        lo, hi = self.raw_range()
        big = float(2 ** 62)
        if np.any(np.abs(n) > big):
            raise ConversionError(f"value {float(np.max(np.abs(values)))} is far outside {self.ap()}")
        n = n.astype(np.int64)
        over = (n < lo) | (n > hi)
        if np.any(over):
            o = self.saturation
            if o == "WRAP":
                m = np.int64(1) << np.int64(self.width) if self.width < 63 else None
                if m is None:
                    raise ConversionError(f"wrapping a weight into {self.ap()} is not supported")
                w = np.mod(n, m)
                if self.signed:
                    w = np.where(w > hi, w - m, w)
                n = np.where(over, w, n)
            elif o == "SAT_ZERO":
                n = np.where(over, 0, n)
            else:
                n = np.where(n > hi, hi, np.where(n < lo, lo, n))
        if self.saturation == "SAT_SYM" and self.signed and self.width > 1:
            n = np.where(n == lo, lo + 1, n)
        return n

    def value(self, raw):
        import numpy as np
        return np.asarray(raw, np.float64) * (2.0 ** -self.fractional)


_TYPE_RE = re.compile(r"^\s*(?:ap_)?(u?)(fixed|int)\s*<\s*([^>]*)>\s*$", re.I)


def parse_type(spec):
    """A FixedType from an hls4ml precision string or type object."""
    if isinstance(spec, FixedType):
        return spec
    if hasattr(spec, "width") and hasattr(spec, "signed"):       # hls4ml PrecisionType object
        cls = type(spec).__name__
        mro = {c.__name__ for c in type(spec).__mro__}
        if "IntegerPrecisionType" in mro:
            return parse_type(FixedType(int(spec.width), int(spec.width), bool(spec.signed)).ap())
        if "FixedPrecisionType" in mro:
            if int(getattr(spec, "saturation_bits", 0) or 0) != 0:
                raise ConversionError(f"precision {spec}: saturation bits N > 0 are not supported")
            return parse_type(FixedType(int(spec.width), int(spec.integer), bool(spec.signed),
                                        str(spec.rounding_mode).replace("AP_", ""),
                                        str(spec.saturation_mode).replace("AP_", "")).ap())   # validated
        raise ConversionError(f"precision type {cls} ({spec}) is not supported (only fixed-point and integer types)")
    if not isinstance(spec, str):
        raise ConversionError(f"precision {spec!r}: expected a string such as 'fixed<16,6>'")
    m = _TYPE_RE.match(spec)
    if not m:
        raise ConversionError(f"precision '{spec}': expected fixed<W,I[,Q[,O[,N]]]>, ufixed<...>, int<W> or uint<W> "
                              "(hls4ml syntax; ap_ prefix and AP_ modes accepted)")
    unsigned, kind, args = m.group(1).lower() == "u", m.group(2).lower(), [a.strip() for a in m.group(3).split(",")]
    try:
        if kind == "int":
            if len(args) != 1:
                raise ValueError
            w = int(args[0])
            t = FixedType(w, w, not unsigned)
        else:
            if not 2 <= len(args) <= 5:
                raise ValueError
            w, i = int(args[0]), int(args[1])
            q = args[2].upper().replace("AP_", "") if len(args) > 2 and args[2] else "TRN"
            o = args[3].upper().replace("AP_", "") if len(args) > 3 and args[3] else "WRAP"
            n = int(args[4]) if len(args) > 4 and args[4] else 0
            if n != 0:
                raise ConversionError(f"precision '{spec}': saturation bits N > 0 are not supported")
            t = FixedType(w, i, not unsigned, q, o)
    except ValueError:
        raise ConversionError(f"precision '{spec}': malformed arguments") from None
    if t.rounding not in ROUNDING:
        raise ConversionError(f"precision '{spec}': rounding mode '{t.rounding}' is not one of {', '.join(ROUNDING)}")
    if t.saturation not in SATURATION:
        raise ConversionError(f"precision '{spec}': overflow mode '{t.saturation}' is not one of {', '.join(SATURATION)}")
    if not 1 <= t.width <= (64 if t.signed else 63):
        raise ConversionError(f"precision '{spec}': width must be 1 to 64 bits (63 unsigned)")
    if not -64 <= t.integer <= 64:
        raise ConversionError(f"precision '{spec}': integer bits must be -64 to 64")
    return t


# ---------------------------------------------------------------------------
# QKeras quantizers -> the ap types hls4ml gives them

def qkeras_type(quantizer, role="activation"):
    """The type hls4ml uses for a QKeras quantizer config
    ({'class_name': ..., 'config': {...}} or a quantizer object with get_config()).

    role 'weight' (kernel/bias quantizers: hls4ml keeps TRN/WRAP since the
    values already lie on the grid) or 'activation' (QActivation / activation
    quantizers: RND_CONV and SAT, as hls4ml's config_from_keras_model)."""
    if not isinstance(quantizer, dict):
        if isinstance(quantizer, str):
            raise ConversionError(f"QKeras quantizer '{quantizer}': give its config dict "
                                  "({'class_name': ..., 'config': {...}})")
        quantizer = {"class_name": type(quantizer).__name__, "config": quantizer.get_config()}
    cls = quantizer["class_name"]
    c = quantizer.get("config", {})
    bits = int(c.get("bits", 0) or 0)
    alpha = c.get("alpha")
    if alpha not in (None, 1, 1.0, "1"):
        raise ConversionError(f"QKeras quantizer {cls} with alpha={alpha!r}: hls4ml scales such a layer with an "
                              "extra ApplyAlpha layer; only alpha=1 maps to a plain type")
    if cls == "quantized_bits":
        integer = int(c.get("integer", 0) or 0)
        if role == "weight":
            if bits == integer:
                return FixedType(bits, bits, True)
            return FixedType(bits, integer + 1, True)
        return FixedType(bits, integer + 1, True, "RND_CONV", "SAT")
    if cls == "quantized_relu":
        integer = int(c.get("integer", 0) or 0)
        if float(c.get("negative_slope", 0.0) or 0.0) != 0.0:
            return FixedType(bits, integer + 1, True, "RND_CONV", "SAT")
        return FixedType(bits, integer, False, "RND_CONV", "SAT")
    if cls == "quantized_tanh":
        return FixedType(bits, 1, True, "RND_CONV", "SAT_SYM" if c.get("symmetric") else "SAT")
    if cls == "quantized_sigmoid":
        return FixedType(bits, 0, False, "RND_CONV", "SAT")
    raise ConversionError(f"QKeras quantizer '{cls}' is not supported (supported: quantized_bits, "
                          "quantized_relu, quantized_tanh, quantized_sigmoid)")


# ---------------------------------------------------------------------------
# hls4ml configurations

def load_config(src):
    """An hls4ml-style configuration from a dict or a .json/.yml/.yaml file."""
    if isinstance(src, dict):
        return src
    p = Path(src)
    text = p.read_text()
    if p.suffix.lower() in (".yml", ".yaml"):
        try:
            import yaml
        except ImportError:
            raise ConversionError(f"{p}: reading YAML needs PyYAML (pip install pyyaml), or give JSON") from None
        class _Loader(yaml.SafeLoader):   # hls4ml's own hls4ml_config.yml tags its model: !keras_model '...'
            pass
        _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        try:
            cfg = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as e:
            raise ConversionError(f"{p}: not valid YAML: {e}") from None
    else:
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConversionError(f"{p}: not valid JSON: {e}") from None
    if not isinstance(cfg, dict):
        raise ConversionError(f"{p}: expected an object with 'Model' and/or 'LayerName'")
    if "HLSConfig" in cfg:           # a whole hls4ml_config.yml written by hls4ml
        cfg = cfg["HLSConfig"]
    return cfg


def hls4ml_graph(keras_model, config, backend="Vitis", io_type="io_parallel", output_dir=None):
    """Lets hls4ml resolve `config` for `keras_model`: an hls4ml ModelGraph
    (converted and optimised, not written nor compiled)."""
    try:
        import hls4ml
    except ImportError:
        raise ConversionError("a precision configuration is resolved by hls4ml (its 'auto' types and inferred "
                              "accumulators): install hls4ml (pip install hls4ml, see tools/requirements.txt)") from None
    import contextlib
    import io
    import tempfile
    import warnings
    chatter = io.StringIO()   # hls4ml prints notes (optional da4ml missing, which handler it used)
    with tempfile.TemporaryDirectory(prefix="trignet-hls4ml-") as tmp, contextlib.redirect_stdout(chatter), \
            contextlib.redirect_stderr(chatter), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return hls4ml.converters.convert_from_keras_model(keras_model, hls_config=config,
                                                              output_dir=str(output_dir or tmp),
                                                              backend=backend, io_type=io_type)
        except Exception as e:  # hls4ml raises assertions and plain exceptions for what it does not support
            said = chatter.getvalue().strip()
            raise ConversionError(f"hls4ml {hls4ml.__version__} cannot convert the model with this precision "
                                  f"configuration: {type(e).__name__}: {e}"
                                  + (f"\nhls4ml said:\n{said[-2000:]}" if said else "")) from e


# ---------------------------------------------------------------------------
# reading a converted hls4ml ModelGraph

_TYPEDEF_RE = re.compile(r"typedef\s+(.+?)\s+(\w+)\s*;")
_CONST_RE = re.compile(r"static\s+(?:const|constexpr)\s+[\w:]+\s+(\w+)\s*=\s*([^;]+);")

# hls4ml activation name -> trignet activation name (docs/format.md)
_HLS_ACT = {"linear": "linear", "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu",
            "hard_sigmoid": "hard_sigmoid", "sigmoid": "sigmoid", "tanh": "tanh", "softplus": "softplus",
            "softsign": "softsign", "softmax": "softmax"}
_TABLE_ACTS = ("sigmoid", "tanh", "softplus", "softsign")


@dataclasses.dataclass
class HlsLayer:
    """What the compiled hls4ml C++ uses for one layer."""
    name: str
    cls: str
    inputs: list
    result: FixedType
    typedefs: dict            # config typedef alias -> FixedType (weight_t, bias_t, accum_t, table_t, ...)
    consts: dict              # config static constants (table sizes, implementation, exp_scale, ...)
    attrs: dict               # plain attributes (activation, use_bias, op, ...)
    weights: dict             # 'weight'/'bias'/'scale' -> (None, the array hls4ml writes as text)


@dataclasses.dataclass
class Resolved:
    """A resolved hls4ml model: per-layer types exactly as hls4ml compiles them."""
    inputs: list              # [(hls name, FixedType)] in model input order
    outputs: list             # hls layer names in model output order
    layers: dict              # name -> HlsLayer
    source: str               # for metadata

    def consumers(self, name):
        return [lyr for lyr in self.layers.values() if name in lyr.inputs]


def _named_types(hm):
    """Every named type of the graph: C++ typedef name -> precision object."""
    names = {}
    for lyr in hm.get_layers():
        for v in lyr.attributes.values():
            t = getattr(v, "type", v)
            if hasattr(t, "name") and hasattr(t, "precision"):
                names.setdefault(t.name, t.precision)
        for w in lyr.weights.values():
            names.setdefault(w.type.name, w.type.precision)
        for v in lyr.variables.values():
            names.setdefault(v.type.name, v.type.precision)
    default = hm.config.model_precision.get("default") if hasattr(hm.config, "model_precision") else None
    if default is not None and "model_default_t" not in names:
        names["model_default_t"] = default
    return names


def _typedef(spec, names, where):
    spec = spec.strip()
    if spec in names:
        return parse_type(names[spec])
    try:
        return parse_type(spec)
    except ConversionError:
        raise ConversionError(f"hls4ml layer '{where}': type '{spec}' is neither a named type of the graph "
                              "nor an ap_fixed/ap_int literal") from None


def from_hls4ml(hm, source="hls4ml ModelGraph"):
    """Reads a converted hls4ml ModelGraph: input, weight, bias, accumulator,
    result and table types, table sizes and the softmax implementation, taken
    from the C++ configuration hls4ml generates for each layer (the
    ``config_cpp`` it compiles), so inferred and derived types are exact."""
    if isinstance(hm, Resolved):
        return hm
    names = _named_types(hm)
    layers = {}
    for lyr in hm.get_layers():
        cpp = str(lyr.attributes.get("config_cpp", "") or "")
        typedefs = {}
        for spec, alias in _TYPEDEF_RE.findall(cpp):
            if spec.strip() in names or _TYPE_RE.match(spec):      # others: nested configs, templates
                typedefs.setdefault(alias, _typedef(spec, names, lyr.name))
        consts = {}
        for k, v in _CONST_RE.findall(cpp):
            v = v.strip()
            if "::" in v:
                v = v.rsplit("::", 1)[1]
            else:
                try:
                    v = int(v)
                except ValueError:
                    try:
                        v = float(v)
                    except ValueError:
                        pass
            consts[k] = v
        attrs = {k: v for k, v in lyr.attributes.items() if isinstance(v, (str, int, float, bool))}
        weights = {}
        for wn, w in lyr.weights.items():
            weights[wn] = (None, w.data)   # types: from the config typedefs (what the C++ uses)
        out = lyr.get_output_variable()
        layers[lyr.name] = HlsLayer(lyr.name, lyr.class_name, list(lyr.inputs), parse_type(out.type.precision),
                                    typedefs, consts, attrs, weights)
    ins = []
    for name in hm.inputs:
        ins.append((name, layers[name].result))
    return Resolved(ins, list(hm.outputs), layers, source)


def resolve_keras(keras_model, spec):
    """Precision of a Keras model from a user configuration (dict, JSON/YAML
    path), an hls4ml ModelGraph or an already resolved description."""
    if isinstance(spec, Resolved):
        return spec
    if hasattr(spec, "get_layers") and hasattr(spec, "config"):
        return from_hls4ml(spec)
    cfg = load_config(spec)
    src = spec if isinstance(spec, (str, Path)) else "precision configuration"
    return from_hls4ml(hls4ml_graph(keras_model, cfg), source=f"hls4ml {_hls4ml_version()} from {src}")


def _hls4ml_version():
    try:
        import hls4ml
        return hls4ml.__version__
    except ImportError:
        return "?"


# ---------------------------------------------------------------------------
# writing the trignet description (docs/format.md "Fixed-point precision")

def _hls_weight_raw(data, t):
    """Raw integers of the values hls4ml's compiled C++ holds for a weight:
    hls4ml writes each float with max(0, F) digits after the point
    (``'{:.Nf}'``), the C++ reads the text back as a double and casts it
    into the type."""
    import numpy as np
    fmt = f"{{:.{max(0, t.fractional)}f}}"
    back = np.array([float(fmt.format(float(v))) for v in np.asarray(data, np.float64).reshape(-1)], np.float64)
    return t.quantize_raw(back)


# nnet::activ_config's own typedef, used where an hls4ml layer's config does not override it
# (the softmax configuration has no table_t: the legacy softmax's tables use this one)
_ACTIV_CONFIG_TABLE_T = FixedType(18, 8)


def _activation_precision(lyr, where, node_act=None):
    """An activation precision object from an hls4ml activation layer.
    node_act: the trignet node's activation (name or dict) to check constants against."""
    cls = lyr.cls
    act = str(lyr.attrs.get("activation", "")).lower()
    if cls == "Softmax" or act == "softmax":
        act = "softmax"
    elif cls == "LeakyReLU" or act == "leakyrelu":
        act = "leaky_relu"
    elif cls == "HardActivation":
        act = "hard_sigmoid"
    if act not in _HLS_ACT:
        raise ConversionError(f"{where}: hls4ml activation '{act}' ({cls}) has no trignet fixed-point equivalent")
    p = {"result": lyr.result.ap()}
    td, c = lyr.typedefs, lyr.consts
    if act in _TABLE_ACTS:
        p["table_size"] = int(c.get("table_size", 1024))
        if "table_t" in td:
            p["table"] = td["table_t"].ap()
    elif act == "leaky_relu" and "param_t" in td:
        p["param"] = td["param_t"].ap()
    elif act == "hard_sigmoid":
        for k in ("slope", "shift"):
            if f"{k}_t" in td:
                p[k] = td[f"{k}_t"].ap()
        if isinstance(node_act, dict):
            mine = (float(node_act.get("slope", 0.0)), float(node_act.get("offset", 0.0)))
            hls = (float(lyr.attrs.get("slope", 0.2)), float(lyr.attrs.get("shift", 0.5)))
            if mine != hls:
                raise ConversionError(
                    f"{where}: hard_sigmoid: hls4ml's firmware computes clamp({hls[0]:g} * x + {hls[1]:g}) "
                    f"(Keras 2's definition), the model clamp({mine[0]:.6g} * x + {mine[1]:g}) (Keras 3); the "
                    "fixed-point description keeps the model's constants, so it would not match hls4ml bit for "
                    "bit. Use an activation both define alike (e.g. sigmoid with a table)")
    elif act == "softmax":
        impl = str(c.get("implementation", lyr.attrs.get("implementation", "stable")))
        p["implementation"] = impl
        p["table_size"] = int(lyr.attrs.get("table_size", c.get("exp_table_size", 1024)))
        for k in ("exp_table_size", "inv_table_size"):
            if k in c:
                p[k] = int(c[k])
        for alias, key in (("exp_table_t", "exp_table"), ("inv_table_t", "inv_table"), ("accum_t", "accum"),
                           ("inv_inp_t", "inv_input")):
            if alias in td:
                p[key] = td[alias].ap()
        if impl == "stable" and "inp_norm_t" in td:
            p["norm_input"] = td["inp_norm_t"].ap()
        if impl == "legacy":
            p["table"] = td.get("table_t", _ACTIV_CONFIG_TABLE_T).ap()
        if impl in ("latency", "stable") and "exp_scale" in c:
            p["exp_scale"] = float(c["exp_scale"])
        if int(c.get("n_outer", 1)) != 1 or int(c.get("n_inner", 1)) != 1:
            raise ConversionError(f"{where}: softmax over an inner axis (n_outer/n_inner != 1) is not mapped")
    return act, p


def _compute_precision(node, lyr, where):
    """Dense/Conv precision from an hls4ml layer."""
    import numpy as np
    td = lyr.typedefs
    for k in ("weight_t", "accum_t"):
        if k not in td:
            raise ConversionError(f"{where}: hls4ml layer '{lyr.name}' has no {k} in its configuration")
    p = {"weight": td["weight_t"].ap()}
    raw = {}
    pairs = [("kernel", "weight", td["weight_t"])]
    if "bias" in node.weights:
        p["bias"] = td["bias_t"].ap()
        pairs.append(("bias", "bias", td["bias_t"]))
    p["accum"] = td["accum_t"].ap()
    p["result"] = lyr.result.ap()
    for tname, hname, t in pairs:
        w = node.weights[tname]
        if hname not in lyr.weights:
            raise ConversionError(f"{where}: hls4ml layer '{lyr.name}' has no '{hname}' weights")
        hdata = np.asarray(lyr.weights[hname][1], np.float32)
        if hdata.size != w.size or not np.array_equal(hdata.reshape(w.shape), w):
            raise ConversionError(f"{where}: hls4ml holds other values for '{tname}' than the framework (hls4ml "
                                  f"rewrote layer '{lyr.name}', e.g. folded a BatchNormalization into it); "
                                  "keep the layers separate (hls4ml's fuse_batchnorm) or fold before converting")
        hls_raw = _hls_weight_raw(w, t)
        exact_raw = t.quantize_raw(w.astype(np.float64).reshape(-1))
        if not np.array_equal(hls_raw, exact_raw):
            raw[tname] = [int(v) for v in hls_raw]
    if raw:
        p["raw"] = raw
    return p


_COMPUTE = ("Dense", "Conv1D", "Conv2D")
_POOL = ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D",
         "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D")
_MOVE = ("Flatten", "Reshape", "Permute", "Dropout")
_MERGE = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")


def attach(graph, resolved, preprocessing=None):
    """The fixed-point description of a converted graph: returns
    (fixed_point object, {node name: precision object}). Nodes are matched
    to hls4ml layers by name (both take the Keras layer names); a Dense/Conv
    node with a fused activation takes the hls4ml activation layer that
    consumes it."""
    if not isinstance(resolved, Resolved) and not hasattr(resolved, "get_layers"):
        raise ConversionError("fixed point: a precision configuration is resolved through hls4ml's Keras frontend, "
                              "so it is supported for Keras models; for another route pass an hls4ml ModelGraph "
                              "whose layer names are the converted node names")
    res = from_hls4ml(resolved) if not isinstance(resolved, Resolved) else resolved
    if preprocessing and any(preprocessing.values()):
        raise ConversionError("fixed point: the float preprocessing of an input (offset/scale) is not applied in "
                              "fixed point; convert without it (see docs/format.md, fixed_point.inputs)")
    if len(res.inputs) != len(graph.inputs):
        raise ConversionError(f"fixed point: hls4ml has {len(res.inputs)} inputs, the converted graph "
                              f"{len(graph.inputs)}")
    fixed = {"inputs": {}}
    for inp, (hname, t) in zip(graph.inputs, res.inputs):
        if inp.get("dtype", "float32") != "float32":
            raise ConversionError(f"fixed point: input '{inp['name']}' holds integers; not supported in fixed point")
        fixed["inputs"][inp["name"]] = {"type": t.ap()}
    out = {}
    for node in graph.nodes:
        where = f"node '{node.name}' ({node.type})"
        lyr = res.layers.get(node.name)
        if node.type in _MOVE:
            if lyr is not None and lyr.cls not in ("Reshape", "Transpose", "Dropout", "Flatten"):
                raise ConversionError(f"{where}: hls4ml layer of the same name is a {lyr.cls}")
            continue
        if lyr is None:
            raise ConversionError(f"{where}: hls4ml's graph has no layer '{node.name}' (hls4ml layers: "
                                  f"{', '.join(res.layers)}); the node cannot be given a precision")
        if node.type in _COMPUTE:
            if lyr.cls not in (node.type, "PointwiseConv1D", "PointwiseConv2D"):
                raise ConversionError(f"{where}: the hls4ml layer '{lyr.name}' is a {lyr.cls}")
            p = _compute_precision(node, lyr, where)
            act = node.config.get("activation", {"name": "linear"})
            act_name = act.get("name") if isinstance(act, dict) else str(act)
            if act_name != "linear":
                cons = res.consumers(lyr.name)
                if len(cons) != 1:
                    raise ConversionError(f"{where}: fused activation '{act_name}', but hls4ml layer '{lyr.name}' "
                                          f"has {len(cons)} consumers")
                a_name, ap = _activation_precision(cons[0], where, act)
                if a_name != act_name:
                    raise ConversionError(f"{where}: activation '{act_name}', hls4ml's next layer "
                                          f"'{cons[0].name}' computes '{a_name}'")
                p["activation"] = ap
            out[node.name] = p
        elif node.type == "Activation":
            act = node.config.get("activation", {})
            act_name = act.get("name") if isinstance(act, dict) else str(act)
            a_name, ap = _activation_precision(lyr, where, act)
            if a_name != act_name:
                raise ConversionError(f"{where}: activation '{act_name}', hls4ml layer computes '{a_name}'")
            out[node.name] = ap
        elif node.type == "BatchNormalization":
            if lyr.cls != "BatchNormalization":
                raise ConversionError(f"{where}: the hls4ml layer '{lyr.name}' is a {lyr.cls}")
            p = {}
            raw = {}
            for key in ("scale", "bias"):
                if f"{key}_t" not in lyr.typedefs or key not in lyr.weights:
                    raise ConversionError(f"{where}: hls4ml layer '{lyr.name}' has no {key} type or values")
                t = lyr.typedefs[f"{key}_t"]
                p[key] = t.ap()
                # hls4ml folds mean, variance, gamma and beta into scale and bias itself (numpy, float32);
                # the file carries exactly the values its C++ holds
                raw[key] = [int(v) for v in _hls_weight_raw(lyr.weights[key][1], t)]
            p["result"] = lyr.result.ap()
            p["raw"] = raw
            out[node.name] = p
        elif node.type in _POOL:
            if "Pooling" not in lyr.cls:
                raise ConversionError(f"{where}: the hls4ml layer '{lyr.name}' is a {lyr.cls}")
            if "accum_t" not in lyr.typedefs:
                raise ConversionError(f"{where}: hls4ml layer '{lyr.name}' has no accum_t in its configuration")
            out[node.name] = {"accum": lyr.typedefs["accum_t"].ap(), "result": lyr.result.ap()}
        elif node.type in _MERGE:
            if lyr.cls not in ("Merge", "Concatenate"):
                raise ConversionError(f"{where}: the hls4ml layer '{lyr.name}' is a {lyr.cls}")
            out[node.name] = {"result": lyr.result.ap()}
        else:
            raise ConversionError(f"{where}: no fixed-point mapping for {node.type} from hls4ml (mapped: "
                                  f"{', '.join(_COMPUTE + ('Activation', 'BatchNormalization') + _POOL + _MERGE + _MOVE)})")
    return fixed, out
