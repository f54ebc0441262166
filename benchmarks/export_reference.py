#!/usr/bin/env python3
"""Exports trignet model files to TorchScript (.pt) and ONNX (.onnx) for the
side-by-side comparison in trignet-bench (libtorch) and ort_bench.py (ONNX Runtime).

    .venv/bin/python benchmarks/export_reference.py OUT_DIR MODEL.json...

The network is rebuilt in PyTorch from the trignet file itself (same weights,
same preprocessing, same layer sequence), so every runtime runs exactly the
network in the file, whatever framework it came from. Each export is checked
against the file's embedded test vectors (the training framework's outputs)
in PyTorch and in ONNX Runtime before it is used; a model that cannot be
rebuilt (a node type this script does not map yet) or does not match is
skipped with the reason, never measured.

TorchScript: torch.jit.trace, then torch.jit.freeze (constant weights, what a
deployment would do). ONNX: torch.onnx.export, dynamic batch axis, opset 17;
ONNX Runtime applies its own graph optimisations at load (e.g. folds
BatchNormalization into the preceding Gemm).
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def activation(spec):
    name = spec if isinstance(spec, str) else spec["name"]
    p = {} if isinstance(spec, str) else spec
    table = {
        "linear": lambda x: x,
        "relu": F.relu,
        "relu6": lambda x: torch.clamp(x, 0.0, 6.0),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda x: torch.softmax(x, dim=p.get("axis", -1) if p.get("axis", -1) < 0 else p["axis"] + 1),
        "leaky_relu": lambda x: F.leaky_relu(x, p.get("alpha", 0.01)),
        "elu": lambda x: F.elu(x, p.get("alpha", 1.0)),
        "selu": F.selu,
        "gelu": lambda x: F.gelu(x, approximate="tanh" if p.get("approximate") else "none"),
        "softplus": F.softplus,
        "softsign": F.softsign,
        "silu": F.silu, "swish": F.silu,
        "exponential": torch.exp,
        "hard_sigmoid": lambda x: torch.clamp(p["slope"] * x + p["offset"], 0.0, 1.0),
    }
    if name not in table:
        raise NotImplementedError(f"activation '{name}'")
    return table[name]


def w(node, key):
    t = node["weights"][key]
    return torch.tensor(np.asarray(t["data"], np.float32).reshape(t["shape"]))


class TrignetNet(nn.Module):
    """A trignet graph as a PyTorch module (weights as buffers, inference only)."""

    def __init__(self, model):
        super().__init__()
        self.spec = model
        self.inputs = [i["name"] for i in model["inputs"]]
        self.outputs = [o["node"] for o in model["outputs"]]
        self.pre = {}
        for i, inp in enumerate(model["inputs"]):
            pp = inp.get("preprocessing")
            if pp:
                if "nan_replacement" in pp:
                    raise NotImplementedError("nan_replacement preprocessing")
                off = torch.tensor(np.asarray(pp.get("offset", [0.0] * inp["shape"][-1]), np.float32))
                sc = torch.tensor(np.asarray(pp.get("scale", [1.0] * inp["shape"][-1]), np.float32))
                self.register_buffer(f"pre_off_{i}", off)
                self.register_buffer(f"pre_sc_{i}", sc)
                self.pre[inp["name"]] = i
        self.nodes = {n["name"]: n for n in model["nodes"]}
        self.ops = {}
        for k, n in enumerate(model["nodes"]):
            t, cfg = n["type"], n.get("config", {}) or {}
            if t == "Dense":
                self.register_buffer(f"k{k}", w(n, "kernel"))
                if cfg.get("use_bias", True) and "bias" in n.get("weights", {}):
                    self.register_buffer(f"b{k}", w(n, "bias"))
            elif t == "BatchNormalization":
                if cfg.get("axis", -1) not in (-1,) and cfg.get("axis") != len(self._shape_hint(n)) - 1:
                    raise NotImplementedError("BatchNormalization on an axis other than the last")
                eps = cfg.get("epsilon", 1e-3)
                ws = n["weights"]
                mean, var = w(n, "moving_mean"), w(n, "moving_variance")
                gamma = w(n, "gamma") if "gamma" in ws else torch.ones_like(mean)
                beta = w(n, "beta") if "beta" in ws else torch.zeros_like(mean)
                self.register_buffer(f"bn_m{k}", mean)
                self.register_buffer(f"bn_v{k}", var)
                self.register_buffer(f"bn_g{k}", gamma)
                self.register_buffer(f"bn_b{k}", beta)
                self.ops[n["name"]] = eps
            elif t not in ("Activation", "Multiply", "Add", "Subtract", "Concatenate", "Dropout", "Maximum",
                           "Minimum", "Average"):
                raise NotImplementedError(f"node type '{t}' (node '{n['name']}')")
            if t in ("Dense", "Activation"):
                activation(cfg.get("activation", "linear"))  # refuse unknown ones now
        self.index = {n["name"]: k for k, n in enumerate(model["nodes"])}

    def _shape_hint(self, n):
        return [0]  # rank is only needed for axis checks; trignet BN here is last-axis

    def forward(self, *xs):
        vals = {}
        for name, x in zip(self.inputs, xs):
            if name in self.pre:
                i = self.pre[name]
                x = (x - getattr(self, f"pre_off_{i}")) * getattr(self, f"pre_sc_{i}")
            vals[name] = x

        def get(name):
            if name not in vals:
                n = self.nodes[name]
                args = [get(a) for a in n["inputs"]]
                vals[name] = self._node(n, args)
            return vals[name]

        outs = [get(o) for o in self.outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _node(self, n, a):
        k, t, cfg = self.index[n["name"]], n["type"], n.get("config", {}) or {}
        if t == "Dense":
            y = torch.matmul(a[0], getattr(self, f"k{k}"))
            if hasattr(self, f"b{k}"):
                y = y + getattr(self, f"b{k}")
            return activation(cfg.get("activation", "linear"))(y)
        if t == "BatchNormalization":
            eps = self.ops[n["name"]]
            m, v, g, b = (getattr(self, f"bn_{s}{k}") for s in "mvgb")
            return (a[0] - m) / torch.sqrt(v + eps) * g + b
        if t == "Activation":
            return activation(cfg.get("activation", "linear"))(a[0])
        if t == "Dropout":
            return a[0]
        if t == "Concatenate":
            ax = cfg.get("axis", -1)
            return torch.cat(a, dim=ax if ax < 0 else ax + 1)
        y = a[0]
        for z in a[1:]:
            y = {"Multiply": torch.mul, "Add": torch.add, "Subtract": torch.sub, "Maximum": torch.maximum,
                 "Minimum": torch.minimum, "Average": torch.add}[t](y, z)
        return y / len(a) if t == "Average" else y


def test_vectors(model):
    for tv in model.get("test_vectors", []):
        xs = [np.asarray(tv["inputs"][i["name"]], np.float32).reshape([-1] + i["shape"]) for i in model["inputs"]]
        ys = [np.asarray(tv["outputs"][o["name"]], np.float64) for o in model["outputs"]]
        tol = tv.get("tolerance", {"abs": 1e-5, "rel": 1e-4})
        yield xs, ys, tol


def check(fn, model, what):
    worst = 0.0
    for xs, ys, tol in test_vectors(model):
        got = fn(xs)
        got = got if isinstance(got, (list, tuple)) else [got]
        for g, y in zip(got, ys):
            g = np.asarray(g, np.float64).reshape(y.shape)
            err = np.abs(g - y)
            worst = max(worst, float(err.max()))
            if not np.all(err <= tol["abs"] + tol["rel"] * np.abs(y)):
                raise AssertionError(f"{what}: differs from the embedded test vectors by {err.max():.3g}")
    return worst


def export(path, out_dir):
    model = json.loads(Path(path).read_text())
    name = model["name"]
    net = TrignetNet(model).eval()
    example = tuple(torch.zeros([2] + i["shape"]) for i in model["inputs"])
    with torch.no_grad():
        err_torch = check(lambda xs: [t.numpy() for t in _as_list(net(*map(torch.from_numpy, xs)))], model, "PyTorch rebuild")
        traced = torch.jit.freeze(torch.jit.trace(net, example, check_trace=False).eval())
        traced.save(str(out_dir / f"{name}.pt"))
        ts = torch.jit.load(str(out_dir / f"{name}.pt"))
        err_ts = check(lambda xs: [t.numpy() for t in _as_list(ts(*map(torch.from_numpy, xs)))], model, "TorchScript")
    in_names = [i["name"] for i in model["inputs"]]
    out_names = [o["name"] for o in model["outputs"]]
    onnx_path = out_dir / f"{name}.onnx"
    err_ort = None
    try:
        with torch.no_grad():
            torch.onnx.export(net, example, str(onnx_path), input_names=in_names, output_names=out_names,
                              dynamic_axes={n: {0: "batch"} for n in in_names + out_names}, opset_version=17,
                              dynamo=False)
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        err_ort = check(lambda xs: sess.run(None, dict(zip(in_names, xs))), model, "ONNX Runtime")
    except ImportError as e:
        print(f"  {name}: ONNX not exported ({e})")
        onnx_path.unlink(missing_ok=True)
    return name, err_torch, err_ts, err_ort


def _as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    torch.set_num_threads(1)
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    status = {}
    t0 = time.time()
    for path in sys.argv[2:]:
        try:
            name, e1, e2, e3 = export(path, out_dir)
            print(f"  {name:24s} exported: TorchScript (max err vs test vectors {e2:.1e}), "
                  f"ONNX ({'-' if e3 is None else f'{e3:.1e}'})")
            status[name] = "ok"
        except (NotImplementedError, AssertionError, Exception) as e:  # noqa: B014 - report and go on
            name = Path(path).stem
            try:
                name = json.loads(Path(path).read_text())["name"]
            except Exception:
                pass
            for ext in (".pt", ".onnx"):
                (out_dir / f"{name}{ext}").unlink(missing_ok=True)
            kind = "cannot rebuild" if isinstance(e, NotImplementedError) else "export failed"
            print(f"  {name:24s} not exported ({kind}: {str(e).splitlines()[0] if str(e) else type(e).__name__})")
            status[name] = f"{kind}: {e}"
    (out_dir / "exports.json").write_text(json.dumps(status, indent=1) + "\n")
    print(f"  ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
