#!/usr/bin/env python3
"""Optional: re-run the spatial / recurrent / embedding / attention fixtures
with Keras 3 (PyTorch backend) and PyTorch, in float64.

    KERAS_BACKEND=torch python tests/reference/crosscheck_frameworks.py [case ...]

The numpy reference (trignet_reference.py) is written from docs/format.md.
This script checks that reading against the frameworks the format describes:
every node of a fixture is evaluated with the corresponding Keras layer (the
format's weight layouts are Keras'), or with PyTorch functional ops where
Keras cannot express the configuration (explicit or asymmetric padding,
count_include_pad, stride together with dilation).  Masks, go_backwards,
reset_after, Bidirectional merges and MultiHeadAttention therefore come from
Keras' own implementation.  Keras Bidirectional itself is compared with the
forward + go_backwards + Reverse + merge composition of the bidirectional_*
fixtures.

Not needed for the fixtures: make_fixtures.py and --check use numpy only.
Fixtures made only of layers the script does not map are skipped.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from keras.src.backend.common import dtypes as _keras_dtypes  # noqa: E402

# Keras 3 on the PyTorch backend demotes float64 to float32 in binary ops (to
# match JAX's default); undo that so the comparison can be made in float64.
_keras_dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ROOT / "tests" / "data" / "layers"
DT = "float64"
NEW_TYPES = ("Conv", "Depthwise", "Separable", "Pooling", "UpSampling", "ZeroPadding",
             "Cropping", "SimpleRNN", "GRU", "LSTM", "Reverse", "Embedding", "MultiHead")


def f32(values):
    """Weights and inputs are float32 values (the loader rounds them)."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


class Unsupported(Exception):
    pass


def activation(spec):
    if spec is None:
        return None
    if isinstance(spec, str):
        return "swish" if spec == "silu" else spec
    name = spec["name"]
    if name == "hard_sigmoid":
        slope, offset = spec["slope"], spec["offset"]
        return lambda x: keras.ops.clip(slope * x + offset, 0.0, 1.0)
    if len(spec) == 1:
        return name
    raise Unsupported(f"activation {spec}")


def np_act(spec, y):
    fn = keras.activations.get(activation(spec)) if spec is not None else None
    return y if fn is None else keras.ops.convert_to_numpy(fn(torch.from_numpy(y)))


def run_keras(layer, *args, weights=None, **kwargs):
    tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in args]
    layer(*tensors, **kwargs)  # build
    if weights is not None:
        layer.set_weights(weights)
    return keras.ops.convert_to_numpy(layer(*tensors, **kwargs))


def same_pads(lengths, kernel, strides, dilation):
    pads = []
    for n, k, s, d in zip(lengths, kernel, strides, dilation):
        e = d * (k - 1) + 1
        total = max((-(-n // s) - 1) * s + e - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def to_first(x, cfg):
    """Batch-first per-sample tensor -> [B, C, *spatial] (PyTorch layout)."""
    if cfg.get("data_format") == "channels_first":
        return x
    return np.moveaxis(x, -1, 1)


def from_first(y, cfg):
    if cfg.get("data_format") == "channels_first":
        return y
    return np.moveaxis(y, 1, -1)


def np_pad_spatial(x, pads, cfg, value=0.0):
    first = cfg.get("data_format") == "channels_first"
    full = [(0, 0)] + ([(0, 0)] if first else []) + [tuple(p) for p in pads] + ([] if first else [(0, 0)])
    return np.pad(x, full, constant_values=value)


def torch_conv(x, w, cfg, n):
    """Conv with PyTorch: x padded already; kernel [*k, cin/g, f] -> [f, cin/g, *k]."""
    xf = torch.from_numpy(np.ascontiguousarray(to_first(x, cfg)))
    kernel = torch.from_numpy(np.ascontiguousarray(np.moveaxis(w["kernel"], [-1, -2], [0, 1])))
    conv = F.conv1d if n == 1 else F.conv2d
    y = conv(xf, kernel, torch.from_numpy(w["bias"]) if "bias" in w else None,
             stride=cfg.get("strides", [1] * n), dilation=cfg.get("dilation_rate", [1] * n),
             groups=cfg.get("groups", 1))
    return from_first(y.numpy(), cfg)


def run_node(node, args):
    kind, cfg = node["type"], node.get("config", {})
    w = {k: f32(v["data"]).reshape(v["shape"]) for k, v in node.get("weights", {}).items()}
    x = args[0]
    n = 1 if "1D" in kind else 2
    df = cfg.get("data_format", "channels_last")
    L = keras.layers

    if kind in ("Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D",
                "SeparableConv1D", "SeparableConv2D"):
        padding = cfg.get("padding", "valid")
        if isinstance(padding, list):
            x = np_pad_spatial(x, padding, cfg)
            padding = "valid"
        strides = cfg.get("strides", [1] * n)
        dilation = cfg.get("dilation_rate", [1] * n)
        use_bias = cfg.get("use_bias", True)
        if kind.startswith("Conv") and max(strides) > 1 and max(dilation) > 1:
            assert padding == "valid"
            return np_act(cfg.get("activation"), torch_conv(x, w, cfg, n))
        common = dict(kernel_size=cfg["kernel_size"], strides=strides, padding=padding,
                      dilation_rate=dilation, data_format=df, use_bias=use_bias,
                      activation=activation(cfg.get("activation")), dtype=DT)
        if kind.startswith("Conv"):
            layer = getattr(L, kind)(filters=cfg["filters"], groups=cfg.get("groups", 1), **common)
            weights = [w["kernel"]] + ([w["bias"]] if use_bias else [])
        elif kind.startswith("Depthwise"):
            layer = getattr(L, kind)(depth_multiplier=cfg.get("depth_multiplier", 1), **common)
            weights = [w["kernel"]] + ([w["bias"]] if use_bias else [])
        else:
            layer = getattr(L, kind)(filters=cfg["filters"],
                                     depth_multiplier=cfg.get("depth_multiplier", 1), **common)
            weights = [w["depthwise_kernel"], w["pointwise_kernel"]] + ([w["bias"]] if use_bias else [])
        return run_keras(layer, x, weights=weights)

    if kind in ("Conv1DTranspose", "Conv2DTranspose"):
        padding = cfg.get("padding", "valid")
        out_pad = cfg.get("output_padding", [0] * n)
        strides = cfg.get("strides", [1] * n)
        dilation = cfg.get("dilation_rate", [1] * n)
        if isinstance(padding, str) and max(strides) > 1 and max(dilation) > 1:
            # Keras refuses stride and dilation together: PyTorch below.
            pads = []
            for k, s, d in zip(cfg["kernel_size"], strides, dilation):
                total = max(d * (k - 1) + 1 - s, 0) if padding == "same" else 0
                pads.append([total // 2, total - total // 2])
            padding = pads
        if not isinstance(padding, list):
            layer = getattr(L, kind)(
                filters=cfg["filters"], kernel_size=cfg["kernel_size"], strides=strides,
                padding=padding, output_padding=out_pad if any(out_pad) else None,
                dilation_rate=dilation, data_format=df, use_bias=cfg.get("use_bias", True),
                activation=activation(cfg.get("activation")), dtype=DT)
            weights = [w["kernel"]] + ([w["bias"]] if "bias" in w else [])
            return run_keras(layer, x, weights=weights)
        # PyTorch: valid transposed convolution (padding 0) with output_padding,
        # then drop `before` cells and keep the spec's output length.
        xf = torch.from_numpy(np.ascontiguousarray(to_first(x, cfg)))
        kernel = torch.from_numpy(np.ascontiguousarray(np.moveaxis(w["kernel"], [-1, -2], [0, 1])))
        convt = F.conv_transpose1d if n == 1 else F.conv_transpose2d
        y = convt(xf, kernel, None, stride=strides, output_padding=out_pad, dilation=dilation).numpy()
        lengths = xf.shape[2:]
        sl = [slice(None), slice(None)]
        for length, k, s, d, (b, a), q in zip(lengths, cfg["kernel_size"], strides, dilation,
                                              padding, out_pad):
            full = (length - 1) * s + d * (k - 1) + 1
            sl.append(slice(b, b + full - b - a + q))
        y = y[tuple(sl)]
        if "bias" in w:
            y = y + w["bias"].reshape([1, -1] + [1] * n)
        return np_act(cfg.get("activation"), from_first(y, cfg))

    if "Pooling" in kind and "Global" not in kind:
        pool = cfg["pool_size"]
        strides = cfg.get("strides", pool)
        padding = cfg.get("padding", "valid")
        is_max = kind.startswith("Max")
        include = cfg.get("count_include_pad", False)
        lengths = list(x.shape[2:] if df == "channels_first" else x.shape[1:-1])
        pads = padding if isinstance(padding, list) else same_pads(lengths, pool, strides, [1] * n)
        symmetric = all(b == a for b, a in pads)
        # Keras' PyTorch backend pads an asymmetric "same" average pool by
        # replicating edge cells, which then count in the mean (TensorFlow and
        # the spec leave padded cells out): use PyTorch directly for those.
        if isinstance(padding, list) or (padding == "same" and not is_max
                                         and (include or not symmetric)):
            if is_max or include:
                # PyTorch pools on an input padded by hand (-inf for max, zeros for
                # an average that counts padded cells).
                xp = np_pad_spatial(x, pads, cfg, -np.inf if is_max else 0.0)
                xf = torch.from_numpy(np.ascontiguousarray(to_first(xp, cfg)))
                fn = {(True, 1): F.max_pool1d, (True, 2): F.max_pool2d,
                      (False, 1): F.avg_pool1d, (False, 2): F.avg_pool2d}[(is_max, n)]
                return from_first(fn(xf, pool, strides).numpy(), cfg)
            fn = F.avg_pool1d if n == 1 else F.avg_pool2d
            if symmetric:
                xf = torch.from_numpy(np.ascontiguousarray(to_first(x, cfg)))
                y = fn(xf, pool, strides, padding=[b for b, _ in pads], count_include_pad=False)
                return from_first(y.numpy(), cfg)
            # Mean of the real cells: pooled sums over pooled counts of real cells.
            xp = torch.from_numpy(np.ascontiguousarray(to_first(np_pad_spatial(x, pads, cfg), cfg)))
            real = np_pad_spatial(np.ones_like(x), pads, cfg)
            mp = torch.from_numpy(np.ascontiguousarray(to_first(real, cfg)))
            return from_first((fn(xp, pool, strides) / fn(mp, pool, strides)).numpy(), cfg)
        layer = getattr(L, kind)(pool_size=pool, strides=strides, padding=padding,
                                 data_format=df, dtype=DT)
        return run_keras(layer, x)

    if kind.startswith("Global"):
        layer = getattr(L, kind)(data_format=df, keepdims=cfg.get("keepdims", False), dtype=DT)
        return run_keras(layer, x)
    if kind == "UpSampling1D":
        if df == "channels_first":
            return np.repeat(x, cfg["size"][0], axis=2)
        return run_keras(L.UpSampling1D(size=cfg["size"][0], dtype=DT), x)
    if kind == "UpSampling2D":
        return run_keras(L.UpSampling2D(size=cfg["size"], data_format=df, dtype=DT), x)
    if kind in ("ZeroPadding1D", "Cropping1D"):
        pads = tuple(cfg["padding" if "Zero" in kind else "cropping"][0])
        if df == "channels_first":
            x = np.moveaxis(x, 1, -1)
        y = run_keras(getattr(L, kind)(pads, dtype=DT), x)
        return np.moveaxis(y, -1, 1) if df == "channels_first" else y
    if kind in ("ZeroPadding2D", "Cropping2D"):
        pads = tuple(tuple(p) for p in cfg["padding" if "Zero" in kind else "cropping"])
        return run_keras(getattr(L, kind)(pads, data_format=df, dtype=DT), x)

    if kind in ("SimpleRNN", "GRU", "LSTM"):
        common = dict(units=cfg["units"], activation=activation(cfg.get("activation", "tanh")),
                      use_bias=cfg.get("use_bias", True),
                      return_sequences=cfg.get("return_sequences", False),
                      go_backwards=cfg.get("go_backwards", False), dtype=DT)
        if kind != "SimpleRNN":
            common["recurrent_activation"] = activation(cfg.get("recurrent_activation", "sigmoid"))
        if kind == "GRU":
            common["reset_after"] = cfg.get("reset_after", True)
        layer = getattr(L, kind)(**common)
        weights = [w["kernel"], w["recurrent_kernel"]] + ([w["bias"]] if "bias" in w else [])
        return run_keras(layer, x, weights=weights)
    if kind == "Reverse":
        axis = cfg.get("axis", 0)
        return np.flip(x, axis=axis + 1 if axis >= 0 else axis)
    if kind == "Embedding":
        layer = L.Embedding(cfg["input_dim"], cfg["output_dim"], dtype=DT)
        return run_keras(layer, x.astype(np.int64), weights=[w["embeddings"]])
    if kind == "MultiHeadAttention":
        use_mask = cfg.get("use_mask", False)
        data = args[:-1] if use_mask else args
        query, value = data[0], data[1]
        key = data[2] if len(data) == 3 else None
        d_out = w["output_kernel"].shape[-1]
        layer = L.MultiHeadAttention(
            num_heads=cfg["num_heads"], key_dim=cfg["key_dim"], value_dim=cfg.get("value_dim"),
            use_bias=cfg.get("use_bias", True),
            output_shape=None if d_out == query.shape[-1] else d_out, dtype=DT)
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
        kwargs = dict(key=None if key is None else t(key),
                      attention_mask=t(args[-1] != 0) if use_mask else None,
                      use_causal_mask=cfg.get("causal", False))
        layer(t(query), t(value), **kwargs)
        names = ["query", "key", "value", "output"]
        dense = [layer._query_dense, layer._key_dense, layer._value_dense, layer._output_dense]
        for name, d in zip(names, dense):
            d.kernel.assign(w[f"{name}_kernel"])
            if cfg.get("use_bias", True):
                d.bias.assign(w[f"{name}_bias"])
        return keras.ops.convert_to_numpy(layer(t(query), t(value), **kwargs))

    if kind == "Dense":
        layer = L.Dense(cfg["units"], activation=activation(cfg.get("activation")),
                        use_bias=cfg.get("use_bias", True), dtype=DT)
        return run_keras(layer, x, weights=[w["kernel"]] + ([w["bias"]] if "bias" in w else []))
    if kind == "LayerNormalization":
        axis = cfg.get("axis", -1)
        axes = [a + 1 if a >= 0 else a for a in (axis if isinstance(axis, list) else [axis])]
        layer = L.LayerNormalization(axis=axes, epsilon=cfg["epsilon"],
                                     center="beta" in w, scale="gamma" in w, dtype=DT)
        weights = ([w["gamma"]] if "gamma" in w else []) + ([w["beta"]] if "beta" in w else [])
        return run_keras(layer, x, weights=weights)
    if kind == "Flatten":
        return x.reshape(x.shape[0], -1)
    if kind == "Concatenate":
        axis = cfg.get("axis", -1)
        return np.concatenate(args, axis=axis + 1 if axis >= 0 else axis)
    if kind == "Add":
        return sum(args[1:], args[0])
    if kind == "Multiply":
        return np.prod(np.stack(args), axis=0)
    if kind == "Average":
        return np.mean(np.stack(args), axis=0)
    raise Unsupported(kind)


def evaluate(model, inputs):
    values = dict(inputs)
    nodes = {n["name"]: n for n in model["nodes"]}

    def get(name):
        if name not in values:
            node = nodes[name]
            values[name] = np.asarray(run_node(node, [get(s) for s in node["inputs"]]),
                                      dtype=np.float64)
        return values[name]
    return {o["name"]: get(o["node"]) for o in model["outputs"]}


def keras_bidirectional(model, inputs):
    """The bidirectional_* fixtures once more through keras.layers.Bidirectional."""
    nodes = {n["name"]: n for n in model["nodes"]}
    fwd, bwd, merge = nodes["forward"], nodes["backward"], nodes["merge"]
    mode = {"Concatenate": "concat", "Add": "sum", "Multiply": "mul", "Average": "ave"}[merge["type"]]
    cfg = dict(fwd["config"])
    kind = fwd["type"]
    common = dict(units=cfg["units"], return_sequences=cfg.get("return_sequences", False), dtype=DT)
    if kind == "GRU":
        common["reset_after"] = cfg.get("reset_after", True)
    layer = keras.layers.Bidirectional(
        getattr(keras.layers, kind)(**common), merge_mode=mode,
        backward_layer=getattr(keras.layers, kind)(go_backwards=True, **common), dtype=DT)
    weights = []
    for n in (fwd, bwd):
        weights += [f32(n["weights"][k]["data"]).reshape(n["weights"][k]["shape"])
                    for k in ("kernel", "recurrent_kernel", "bias") if k in n["weights"]]
    return {"y": run_keras(layer, inputs["x"], weights=weights)}


def main(names):
    files = [LAYERS / f"{n}.json" for n in names] if names else sorted(LAYERS.glob("*.json"))
    failures = checked = 0
    for path in files:
        model = json.loads(path.read_text())
        if not any(t in n["type"] for n in model["nodes"] for t in NEW_TYPES):
            continue
        worst = 0.0
        try:
            for tv in model["test_vectors"]:
                inputs = {k: f32(v) for k, v in tv["inputs"].items()}
                runs = [evaluate(model, inputs)]
                if path.stem.startswith("bidirectional_"):
                    runs.append(keras_bidirectional(model, inputs))
                for got in runs:
                    for k, v in tv["outputs"].items():
                        e = np.asarray(v, dtype=np.float64)
                        if got[k].shape != e.shape:
                            raise AssertionError(f"shape {got[k].shape} != {e.shape}")
                        worst = max(worst, float(np.max(np.abs(got[k] - e) / (1e-12 + np.abs(e)))))
        except Unsupported as e:
            print(f"skip  {path.stem}: {e}")
            continue
        except Exception as e:  # report and go on
            failures += 1
            print(f"FAIL  {path.stem}: {type(e).__name__}: {e}")
            continue
        checked += 1
        ok = worst < 1e-9
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'}  {path.stem}  (max relative difference {worst:.2e})")
    print(f"{checked} checked, {failures} failed")
    return failures == 0


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
