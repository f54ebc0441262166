"""The converter's intermediate form: a trignet graph under construction.

Every route (Keras, PyTorch, ONNX) walks its framework's graph and calls
``Graph.add_input`` / ``Graph.add_node`` / ``Graph.add_output`` with trignet
node types and configs (docs/format.md). The graph infers each node's
per-sample shape as it is added, so a mapping that produces an impossible node
fails here, at conversion time, naming the node, and never in a user's C++ job.
"""

import re

import numpy as np

from .errors import ConversionError

_NAME_RE = re.compile(r"[^A-Za-z0-9_.:/-]+")



def registrar(table):
    """The decorator factory every route uses for its mapping table:
    @register("Name1", "Name2") enters the function under each name."""
    def register_names(*names):
        def register(fn):
            for n in names:
                table[n] = fn
            return fn
        return register
    return register_names


def _norm_axis(axis, rank, where):
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ConversionError(f"{where}: axis {axis} out of range for a rank-{rank} tensor")
    return a


# ---------------------------------------------------------------------------
# spatial layers (docs/format.md, "Convolution, pooling and resampling layers")

SPATIAL_RANK = {"1D": 1, "2D": 2}


def _spatial_split(t, s, c, where):
    """(spatial lengths, channels, channels_first) of a per-sample shape."""
    n = 2 if "2D" in t else 1
    if len(s) != n + 1:
        raise ConversionError(f"{where}: {t} needs a rank-{n + 1} per-sample input, got {list(s)}")
    first = c.get("data_format", "channels_last") == "channels_first"
    return (list(s[1:]) if first else list(s[:-1])), (s[0] if first else s[-1]), first


def _spatial_join(lengths, ch, first):
    return tuple([ch] + list(lengths)) if first else tuple(list(lengths) + [ch])


def _pad_pairs(padding, n, k, s, e, where):
    """[before, after] per axis for a forward window (conv or pool)."""
    if padding in (None, "valid"):
        return [(0, 0)] * len(n)
    if padding == "same":
        out = []
        for ni, si, ei in zip(n, s, e):
            total = max((-(-ni // si) - 1) * si + ei - ni, 0)
            out.append((total // 2, total - total // 2))
        return out
    if len(padding) != len(n):
        raise ConversionError(f"{where}: padding {padding} needs one [before, after] pair per spatial axis")
    return [tuple(p) for p in padding]


def _window_out(t, n, k, s, d, padding, where):
    e = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
    pads = _pad_pairs(padding, n, k, s, e, where)
    out = [(ni + b + a - ei) // si + 1 for ni, (b, a), ei, si in zip(n, pads, e, s)]
    if any(o < 1 for o in out) or any(ni + b + a < ei for ni, (b, a), ei in zip(n, pads, e)):
        raise ConversionError(f"{where}: {t} window {k} (dilation {d}) does not fit the input lengths {n} "
                              f"with padding {padding}")
    return out


class Node:
    __slots__ = ("name", "type", "inputs", "config", "weights", "where")

    def __init__(self, name, type_, inputs, config, weights, where):
        self.name = name
        self.type = type_
        self.inputs = list(inputs)
        self.config = dict(config or {})
        self.weights = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in (weights or {}).items()}
        self.where = where


class Graph:
    def __init__(self, name):
        self.name = name
        self.inputs = []     # dicts: name, shape, + optional variables, preprocessing
        self.outputs = []    # dicts: name, node, shape, + optional labels
        self.nodes = []
        self.shapes = {}     # tensor name -> per-sample shape (tuple)
        self._taken = set()

    # -- names ---------------------------------------------------------------
    def unique_name(self, hint):
        base = _NAME_RE.sub("_", str(hint)).strip("_") or "node"
        name, k = base, 1
        while name in self._taken:
            name = f"{base}_{k}"
            k += 1
        self._taken.add(name)
        return name

    # -- building ------------------------------------------------------------
    def add_input(self, name, shape, dtype="float32", values=None):
        """``dtype`` "float32" or "int32" (indices). ``values`` says how the
        converter draws random test inputs: None (standard normal), ("index",
        high) for integers in [0, high), ("mask",) for 0/1 attention masks."""
        shape = tuple(int(d) for d in shape)
        if not shape or any(d <= 0 for d in shape):
            raise ConversionError(
                f"input '{name}': per-sample shape {list(shape)} is not fully known; "
                "give it with --input-shape (API: input_shapes=...)")
        n = self.unique_name(name)
        self.inputs.append({"name": n, "shape": list(shape), "dtype": dtype, "values": values})
        self.shapes[n] = shape
        return n

    def add_node(self, type_, inputs, config=None, weights=None, name=None, where=None):
        n = self.unique_name(name or type_.lower())
        node = Node(n, type_, inputs, config, weights, where or n)
        for i in node.inputs:
            if i not in self.shapes:
                raise ConversionError(f"{node.where}: internal error, unknown input tensor '{i}'")
        self.shapes[n] = tuple(self._infer(node))
        self.nodes.append(node)
        return n

    def add_output(self, name, node):
        if node not in self.shapes or node in (i["name"] for i in self.inputs):
            # trignet outputs name a node; an input passed straight through gets a Dropout (identity).
            node = self.add_node("Dropout", [node], name=f"{name}_identity")
        self.outputs.append({"name": name, "node": node, "shape": list(self.shapes[node])})

    def consumers(self, tensor):
        return [n for n in self.nodes if tensor in n.inputs]

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        return None

    # -- shape inference (mirrors docs/format.md) ------------------------------
    def _infer(self, node):
        shp = [self.shapes[i] for i in node.inputs]
        t, c, w, where = node.type, node.config, node.weights, node.where
        if not shp:
            raise ConversionError(f"{where}: {t} without inputs")
        s = shp[0]
        if t == "Dense":
            k = w["kernel"]
            if k.shape != (s[-1], c["units"]):
                raise ConversionError(f"{where}: Dense kernel {list(k.shape)} does not fit input {list(s)}")
            return s[:-1] + (c["units"],)
        if t in ("Activation", "Dropout"):
            return s
        if t == "BatchNormalization":
            a = _norm_axis(c.get("axis", -1), len(s), where)
            for k, v in w.items():
                if v.shape != (s[a],):
                    raise ConversionError(f"{where}: BatchNormalization {k} has shape {list(v.shape)}, "
                                          f"expected [{s[a]}]")
            return s
        if t == "LayerNormalization":
            axes = c.get("axis", -1)
            axes = sorted(_norm_axis(a, len(s), where) for a in (axes if isinstance(axes, list) else [axes]))
            if axes != list(range(len(s) - len(axes), len(s))):
                raise ConversionError(f"{where}: LayerNormalization over axes {c.get('axis')} of a "
                                      f"{list(s)} tensor: trignet normalises trailing axes only")
            return s
        if t == "Flatten":
            return (int(np.prod(s)),)
        if t == "Reshape":
            target = list(c["shape"])
            total = int(np.prod(s))
            if -1 in target:
                known = int(np.prod([d for d in target if d != -1]))
                target[target.index(-1)] = total // known if known else 0
            if int(np.prod(target)) != total:
                raise ConversionError(f"{where}: cannot reshape {list(s)} to {c['shape']}")
            return tuple(target)
        if t == "Permute":
            dims = c["dims"]
            if sorted(dims) != list(range(len(s))):
                raise ConversionError(f"{where}: Permute dims {dims} for a rank-{len(s)} tensor")
            return tuple(s[d] for d in dims)
        if t == "Concatenate":
            a = _norm_axis(c.get("axis", -1), len(s), where)
            for o in shp[1:]:
                if len(o) != len(s) or any(o[i] != s[i] for i in range(len(s)) if i != a):
                    raise ConversionError(f"{where}: cannot concatenate {[list(x) for x in shp]} on axis {a}")
            return s[:a] + (sum(o[a] for o in shp),) + s[a + 1:]
        if t in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
            if any(o != s for o in shp):
                raise ConversionError(f"{where}: {t} needs inputs of identical shape (trignet does not "
                                      f"broadcast), got {[list(x) for x in shp]}")
            if t == "Subtract" and len(shp) != 2:
                raise ConversionError(f"{where}: Subtract takes exactly two inputs")
            return s
        if t in ("Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
                 "Conv1DTranspose", "Conv2DTranspose", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
                 "AveragePooling2D"):
            return self._infer_window(t, s, c, w, where)
        if t.startswith("Global") and t.endswith(("Pooling1D", "Pooling2D")):
            n, ch, first = _spatial_split(t, s, c, where)
            return _spatial_join([1] * len(n), ch, first) if c.get("keepdims") else (ch,)
        if t in ("UpSampling1D", "UpSampling2D"):
            n, ch, first = _spatial_split(t, s, c, where)
            return _spatial_join([a * b for a, b in zip(n, c["size"])], ch, first)
        if t in ("ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D"):
            n, ch, first = _spatial_split(t, s, c, where)
            key = "padding" if t.startswith("Zero") else "cropping"
            sign = 1 if key == "padding" else -1
            out = [a + sign * (p[0] + p[1]) for a, p in zip(n, c[key])]
            if len(c[key]) != len(n) or any(o < 1 for o in out):
                raise ConversionError(f"{where}: {t} {key} {c[key]} does not fit lengths {n}")
            return _spatial_join(out, ch, first)
        if t in ("SimpleRNN", "GRU", "LSTM"):
            if len(s) != 2:
                raise ConversionError(f"{where}: {t} needs a [T, F] per-sample input, got {list(s)}")
            u, gates = c["units"], {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}[t]
            expect = {"kernel": (s[1], gates * u), "recurrent_kernel": (u, gates * u),
                      "bias": (2, 3 * u) if t == "GRU" and c.get("reset_after", True) else (gates * u,)}
            for k, v in w.items():
                if v.shape != expect[k]:
                    raise ConversionError(f"{where}: {t} {k} has shape {list(v.shape)}, expected {list(expect[k])}")
            return (s[0], u) if c.get("return_sequences") else (u,)
        if t == "Reverse":
            _norm_axis(c.get("axis", 0), len(s), where)
            return s
        if t == "Embedding":
            if w["embeddings"].shape != (c["input_dim"], c["output_dim"]):
                raise ConversionError(f"{where}: Embedding embeddings {list(w['embeddings'].shape)}")
            return s + (c["output_dim"],)
        if t == "MultiHeadAttention":
            nq = len(shp) - (1 if c.get("use_mask") else 0)
            q, v = shp[0], shp[1]
            k = shp[2] if nq == 3 else v
            if nq not in (2, 3) or any(len(x) != 2 for x in (q, v, k)) or k[0] != v[0]:
                raise ConversionError(f"{where}: MultiHeadAttention inputs {[list(x) for x in shp]}")
            if c.get("use_mask") and shp[-1] != (q[0], v[0]):
                raise ConversionError(f"{where}: attention mask {list(shp[-1])}, expected {[q[0], v[0]]}")
            h, kd = c["num_heads"], c["key_dim"]
            vd = c.get("value_dim", kd)
            exp = {"query_kernel": (q[1], h, kd), "key_kernel": (k[1], h, kd), "value_kernel": (v[1], h, vd),
                   "query_bias": (h, kd), "key_bias": (h, kd), "value_bias": (h, vd)}
            for name, e in exp.items():
                if name in w and w[name].shape != e:
                    raise ConversionError(f"{where}: MultiHeadAttention {name} {list(w[name].shape)}, expected {list(e)}")
            return (q[0], w["output_kernel"].shape[2])
        raise ConversionError(f"{where}: internal error, no shape rule for node type {t}")

    def _infer_window(self, t, s, c, w, where):
        n, ch, first = _spatial_split(t, s, c, where)
        r = len(n)
        pool = "Pooling" in t
        k = list(c["pool_size"] if pool else c["kernel_size"])
        st = list(c.get("strides", k if pool else [1] * r))
        d = list(c.get("dilation_rate", [1] * r))
        if len(k) != r or len(st) != r or len(d) != r:
            raise ConversionError(f"{where}: {t} spatial arrays must have {r} entries: {c}")
        if pool:
            return _spatial_join(_window_out(t, n, k, st, d, c.get("padding", "valid"), where), ch, first)
        if "Transpose" in t:
            e = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
            op = list(c.get("output_padding", [0] * r))
            pad = c.get("padding", "valid")
            if pad == "same":
                out = [ni * si for ni, si in zip(n, st)]
            else:
                pairs = [(0, 0)] * r if pad == "valid" else pad
                out = [(ni - 1) * si + ei - b - a + o for ni, si, ei, (b, a), o in zip(n, st, e, pairs, op)]
            if w["kernel"].shape != tuple(k) + (c["filters"], ch):
                raise ConversionError(f"{where}: {t} kernel {list(w['kernel'].shape)}, expected "
                                      f"{k + [c['filters'], ch]}")
            if any(o < 1 for o in out):
                raise ConversionError(f"{where}: {t} output lengths {out}")
            return _spatial_join(out, c["filters"], first)
        out = _window_out(t, n, k, st, d, c.get("padding", "valid"), where)
        if t.startswith("Conv"):
            gr = c.get("groups", 1)
            if ch % gr or c["filters"] % gr or w["kernel"].shape != tuple(k) + (ch // gr, c["filters"]):
                raise ConversionError(f"{where}: {t} kernel {list(w['kernel'].shape)} / groups {gr} do not fit "
                                      f"{ch} input channels (expected {k + [ch // gr, c['filters']]})")
            return _spatial_join(out, c["filters"], first)
        dm = c.get("depth_multiplier", 1)
        key = "kernel" if t.startswith("Depthwise") else "depthwise_kernel"
        if w[key].shape != tuple(k) + (ch, dm):
            raise ConversionError(f"{where}: {t} {key} {list(w[key].shape)}, expected {k + [ch, dm]}")
        if t.startswith("Depthwise"):
            return _spatial_join(out, ch * dm, first)
        if w["pointwise_kernel"].shape != (1,) * r + (ch * dm, c["filters"]):
            raise ConversionError(f"{where}: {t} pointwise_kernel {list(w['pointwise_kernel'].shape)}")
        return _spatial_join(out, c["filters"], first)

    # -- clean-up passes -------------------------------------------------------
    def fuse_activations(self):
        """Dense (linear) followed by its only consumer Activation -> one Dense."""
        out_nodes = {o["node"] for o in self.outputs}
        for act_node in list(self.nodes):
            if act_node.type != "Activation":
                continue
            src = self.node(act_node.inputs[0])
            if (src is None or src.type != "Dense" or src.config.get("activation", "linear") != "linear"
                    or src.name in out_nodes or len(self.consumers(src.name)) != 1):
                continue
            src.config["activation"] = act_node.config["activation"]
            self._replace_tensor(act_node.name, src.name)
            self.nodes.remove(act_node)

    def _replace_tensor(self, old, new):
        for n in self.nodes:
            n.inputs = [new if i == old else i for i in n.inputs]
        for o in self.outputs:
            if o["node"] == old:
                o["node"] = new

    def prune(self):
        """Drops nodes that no output needs."""
        needed, stack = set(), [o["node"] for o in self.outputs]
        by_name = {n.name: n for n in self.nodes}
        while stack:
            t = stack.pop()
            if t in needed or t not in by_name:
                continue
            needed.add(t)
            stack.extend(by_name[t].inputs)
        self.nodes = [n for n in self.nodes if n.name in needed]
