#!/usr/bin/env python3
"""ONNX Runtime side of the comparison in trignet-bench, through ONNX Runtime's
Python API (the PyPI wheel ships libonnxruntime.so but not the C/C++ headers,
and no package reachable here provides them).

    .venv/bin/python benchmarks/ort_bench.py REF_DIR OUT.json [--batch 64,1000] [--full] [--cpu N]

REF_DIR holds <model>.onnx from export_reference.py (checked there against the
model's embedded test vectors). One intra-op and one inter-op thread,
sequential execution, all graph optimisations, pinned to one core (the last
one by default, like trignet-bench). Inputs and outputs are bound once
(IOBinding), so a call is `run_with_iobinding` only; the fixed cost that the
Python API still adds per call is measured on an Identity model of the same
input size at batch 1, reported as `python_overhead_ns`. Batch 1 is not measured:
that overhead (a few microseconds) is larger than the models themselves.
Results use trignet-bench's JSON schema (backend "onnxruntime-py").
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def quantile(sorted_v, p):
    pos = p / 100.0 * (len(sorted_v) - 1)
    i = int(pos)
    f = pos - i
    return sorted_v[i] * (1 - f) + sorted_v[i + 1] * f if i + 1 < len(sorted_v) else sorted_v[i]


def measure(call, full):
    pc = time.perf_counter_ns
    t0, n = pc(), 0
    warm = 1e8 if full else 3e7
    while n < 20 or pc() - t0 < warm:
        call()
        n += 1
    est = (pc() - t0) / n
    per_block = int(min(100, max(1, np.ceil(20000 / est))))
    blocks = int(min(2000 if full else 300, max(10, (2e9 if full else 2.5e8) / (est * per_block))))
    per_call = []
    for _ in range(blocks):
        a = pc()
        for _ in range(per_block):
            call()
        per_call.append((pc() - a) / per_block)
    singles = int(min(200000 if full else 20000, max(50, (4e9 if full else 4e8) / est)))
    t = []
    for _ in range(singles):
        a = pc()
        call()
        t.append(pc() - a)
    t.sort()
    return {"median_ns": float(np.median(per_call)), "block_calls": per_block, "blocks": blocks,
            "p50_ns": quantile(t, 50), "p90_ns": quantile(t, 90), "p99_ns": quantile(t, 99),
            "p999_ns": quantile(t, 99.9), "max_ns": t[-1], "single_calls": len(t),
            "quantiles_ns": [quantile(t, q * 0.5) for q in range(201)]}


def session(path, ort):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def bound_call(sess, ort, inputs):
    b = sess.io_binding()
    for meta, x in zip(sess.get_inputs(), inputs):
        b.bind_ortvalue_input(meta.name, ort.OrtValue.ortvalue_from_numpy(x))
    for meta in sess.get_outputs():
        b.bind_output(meta.name, "cpu")
    sess.run_with_iobinding(b)  # allocates the outputs once; later calls reuse them
    return lambda: sess.run_with_iobinding(b)


def identity_model(size, path):
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", size])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", size])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8  # what every ONNX Runtime since 1.10 reads
    onnx.save(m, str(path))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ref_dir")
    ap.add_argument("out")
    ap.add_argument("--batch", default="64,1000")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--cpu", type=int, default=None)
    ap.add_argument("--filter", default=None)
    args = ap.parse_args()
    out = {"info": {}, "results": [], "unavailable": []}
    try:
        import onnxruntime as ort
    except ImportError as e:
        out["unavailable"].append(f"onnxruntime-py: onnxruntime is not importable ({e})")
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
        print(out["unavailable"][0])
        return 0
    cpus = sorted(os.sched_getaffinity(0))
    cpu = args.cpu if args.cpu is not None else cpus[-1]
    if cpu >= 0:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError as e:
            print(f"ort_bench: cannot pin to core {cpu} ({e})")
            cpu = -1
    batches = [int(b) for b in args.batch.split(",")]
    out["info"] = {"onnxruntime_version": ort.__version__, "pinned_core": cpu, "batches": batches,
                   "note": ("onnxruntime-py is ONNX Runtime " + ort.__version__ + " through its Python API "
                            "(IOBinding, 1 thread); each call includes the Python API's fixed cost "
                            "(python_overhead_ns in the JSON: an Identity model at batch 1, ~2.5 us), so batch 1 is "
                            "not measured and batch 64 overstates ONNX Runtime's time")}
    import re
    ref = Path(args.ref_dir)
    for path in sorted(ref.glob("*.onnx")):
        name = path.stem
        if name.startswith("_") or (args.filter and not re.search(args.filter, name)):
            continue
        sess = session(path, ort)
        rng = np.random.default_rng(12345)
        metas = sess.get_inputs()
        shapes = [[d for d in m.shape[1:]] for m in metas]
        size = int(sum(np.prod(s) for s in shapes))
        idpath = ref / f"_identity_{size}.onnx"
        if not idpath.exists():
            identity_model(size, idpath)
        ident = session(idpath, ort)
        for batch in batches:
            xs = [rng.uniform(-1, 1, [batch] + s).astype(np.float32) for s in shapes]
            r = measure(bound_call(sess, ort, xs), args.full)
            overhead = measure(bound_call(ident, ort, [rng.uniform(-1, 1, (1, size)).astype(np.float32)]),
                               False)["median_ns"]
            r.update({"model": name, "backend": "onnxruntime-py", "batch": batch,
                      "samples_per_s": batch / (r["median_ns"] * 1e-9), "python_overhead_ns": overhead,
                      "note": f"Python API; an Identity call costs {overhead:.0f} ns"})
            out["results"].append(r)
            print(f"  {name:24s} onnxruntime-py batch {batch:5d}: median {r['median_ns'] / 1e3:9.1f} us "
                  f"(Identity call {overhead / 1e3:.1f} us)", flush=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
