#!/usr/bin/env python3
"""Bit-exactness proof: trignet's fixed-point engine against hls4ml's C++
emulation, on the four proof models of tests/fixed_point/models.py.

For each model: hls4ml converts the Keras model with its precision
configuration and compiles the generated project (cached, see
hls4ml_runner.py); trignet-convert converts the same Keras model with the same
configuration (``precision=``), and ``trignet run --fixed --raw`` evaluates it.
Both get the same float32 inputs (random, grid edges and exact ties,
saturating inputs, saturating intermediates); every output is compared as the
raw integer of its fixed-point type. Prints a report; exit status 1 on any
mismatch.

    .venv/bin/python tests/fixed_point/compare_hls4ml.py [-n 4000] [--json report.json] [MODEL ...]

The trignet CLI is $TRIGNET_CLI (default build/tools/trignet).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(HERE))
os.environ.setdefault("KERAS_BACKEND", "torch")

import hls4ml_runner  # noqa: E402
import models  # noqa: E402
from trignet_convert.precision import parse_type  # noqa: E402


def cli_path():
    return os.environ.get("TRIGNET_CLI", str(ROOT / "build" / "tools" / "trignet"))


def convert(name, out_dir):
    """The trignet model file of proof model `name` (float weights + precision)."""
    from trignet_convert import convert_keras
    m, cfg = models.build(name)
    path = Path(out_dir) / f"{name}.json"
    convert_keras(m, path, precision=cfg, metadata={"proof_model": name})
    return path, m, cfg


def run_trignet(cli, model_path, names, xs, work, double=False):
    """`trignet run --fixed --raw` (with --double: inputs used as doubles): {output: raw integers,
    output.type: type string}. Inputs are written with Python's shortest exact repr."""
    inp = Path(work) / "in.json"
    out = Path(work) / "out.json"
    inp.write_text(json.dumps({n: x.tolist() for n, x in zip(names, xs)}))
    r = subprocess.run([cli, "run", str(model_path), "--fixed", "--raw", "--inputs", str(inp), "--outputs", str(out)]
                       + (["--double"] if double else []), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"trignet run --fixed failed ({r.returncode}): {r.stderr.strip()[:2000]}")
    return json.loads(out.read_text())


def hls_raw(values, type_str):
    """Raw integers of hls4ml's output values (exact doubles) in the output type."""
    t = parse_type(type_str)
    v = np.asarray(values, np.float64) * (2.0 ** t.fractional)
    r = np.rint(v)
    assert np.array_equal(r, v), "hls4ml output not on the type's grid"
    return r.astype(np.int64)


def _at_limits(r, t):
    """How many raw values sit at the type's maximum (or, signed, its minimum)."""
    lo, hi = t.raw_range()
    return int(np.sum((r == hi) | ((r == lo) & t.signed)))


def saturation_census(cli, model, keras_model, xs, kinds, work):
    """Per node and input kind: the fraction of the node's values that sit at
    its type's limits (its maximum; for a signed type also its minimum:
    saturated, or wrapped onto them), from trignet's engine
    with every node made an output (the engine agrees with hls4ml bit for bit
    on the real outputs; this shows how hard the inputs push the intermediates)."""
    m = json.loads(json.dumps(model))
    m.pop("test_vectors", None)
    names = []
    for nd in m["nodes"]:
        if "precision" not in nd:
            continue
        try:
            shape = [int(d) for d in keras_model.get_layer(nd["name"]).output.shape[1:]]
        except (ValueError, AttributeError):
            continue
        m["outputs"].append({"name": f"census_{nd['name']}", "node": nd["name"], "shape": shape})
        names.append(nd["name"])
    path = Path(work) / f"census_{model['name']}.json"
    path.write_text(json.dumps(m))
    got = run_trignet(cli, path, [i["name"] for i in m["inputs"]], xs, work)
    out = {}
    for nm in names:
        t = parse_type(got[f"census_{nm}.type"])
        r = np.asarray(got[f"census_{nm}"], np.int64).reshape(len(kinds), -1)
        out[nm] = {str(k): round(_at_limits(r[kinds == k], t) / r[kinds == k].size, 4) for k in np.unique(kinds)}
    return out


def compare_model(name, n, cli, work, seed=1, log=print):
    t0 = time.time()
    proj = hls4ml_runner.project(name, log=log)
    t_hls_build = time.time() - t0
    path, m, cfg = convert(name, work)
    model = json.loads(path.read_text())
    in_names = [i["name"] for i in model["inputs"]]
    out_names = [o["name"] for o in model["outputs"]]
    xs, kinds = models.inputs(name, m, cfg, n, seed=seed)
    t1 = time.time()
    ys_hls = proj.predict(xs)
    t_hls = time.time() - t1
    t2 = time.time()
    got = run_trignet(cli, path, in_names, xs, work)
    t_tn = time.time() - t2
    res = {"model": name, "samples": int(n), "outputs": {}, "mismatches": 0, "values": 0,
           "by_kind": {}, "examples": [], "raw_weights": sorted(
               f"{nd['name']}.{k}" for nd in model["nodes"] for k in nd.get("precision", {}).get("raw", {})),
           "seconds": {"hls4ml_project": round(t_hls_build, 2), "hls4ml_predict": round(t_hls, 2),
                       "trignet_run": round(t_tn, 2)}}
    for k, (oname, yh) in enumerate(zip(out_names, ys_hls)):
        tstr = got[f"{oname}.type"]
        rt = np.asarray(got[oname], np.int64).reshape(n, -1)
        rh = hls_raw(yh, tstr).reshape(n, -1)
        bad = rt != rh
        res["outputs"][oname] = {"type": tstr, "mismatches": int(bad.sum()), "values": int(bad.size),
                                 "distinct_values": int(len(np.unique(rh))),
                                 "at_type_limits": _at_limits(rh, parse_type(tstr))}
        res["mismatches"] += int(bad.sum())
        res["values"] += int(bad.size)
        for kind in np.unique(kinds):
            sel = kinds == kind
            d = res["by_kind"].setdefault(str(kind), {"samples": int(sel.sum()), "mismatches": 0})
            d["mismatches"] += int(bad[sel].sum())
        for i, j in zip(*np.nonzero(bad)):
            if len(res["examples"]) >= 10:
                break
            res["examples"].append({"output": oname, "sample": int(i), "element": int(j), "kind": str(kinds[i]),
                                    "hls4ml_raw": int(rh[i, j]), "trignet_raw": int(rt[i, j]),
                                    "input": [x[i].reshape(-1)[:64].tolist() for x in xs]})
    # how much the inputs saturate: fraction of input elements outside the input type's range
    sat = 0
    for x, ty in zip(xs, models.input_type(cfg, m)):
        lo, hi = ty.raw_range()
        r = x.astype(np.float64) * 2.0 ** ty.fractional
        sat += int(np.sum((r > hi + 0.5) | (r < lo - 0.5)))
    res["saturating_input_elements"] = sat
    res["at_limits_per_node"] = saturation_census(cli, model, m, xs, kinds, work)
    res["input_elements"] = int(sum(x.size for x in xs))
    return res


def report(results, file=sys.stdout):
    p = lambda *a: print(*a, file=file)  # noqa: E731
    p("trignet fixed point vs hls4ml C++ emulation (Vitis backend, io_parallel, latency), raw output bits")
    p(f"{'model':8s} {'samples':>8s} {'values':>8s} {'mismatch':>9s}  outputs")
    for r in results:
        outs = ", ".join(f"{k} {v['type']} ({v['distinct_values']} distinct values, {v['at_type_limits']} at the type's limits)"
                         for k, v in r["outputs"].items())
        p(f"{r['model']:8s} {r['samples']:8d} {r['values']:8d} {r['mismatches']:9d}  {outs}")
        p("         by input kind: " + ", ".join(f"{k}: {v['mismatches']}/{v['samples']}"
                                              for k, v in r["by_kind"].items()))
        p(f"         saturating input elements: {r['saturating_input_elements']} of {r['input_elements']}; "
          f"weights written as raw integers: {', '.join(r['raw_weights']) or 'none'}")
        cen = r.get("at_limits_per_node", {})
        p("         values at their type's limits (random / saturating intermediates): " + ", ".join(
            f"{k} {v.get('random', 0):.0%}/{v.get('saturating intermediates', 0):.0%}" for k, v in cen.items()))
        p(f"         seconds: {r['seconds']}")
        for e in r["examples"][:5]:
            p(f"         MISMATCH {e['output']}[{e['element']}] sample {e['sample']} ({e['kind']}): "
              f"hls4ml raw {e['hls4ml_raw']}, trignet raw {e['trignet_raw']}")
    total = sum(r["mismatches"] for r in results)
    p(f"total: {sum(r['samples'] for r in results)} samples, {sum(r['values'] for r in results)} output values, "
      f"{total} mismatches")
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", default=list(models.NAMES))
    ap.add_argument("-n", type=int, default=4000, help="samples per model (default 4000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the results as JSON")
    ap.add_argument("--keep", help="directory for the converted model files (default: a temporary one)")
    a = ap.parse_args(argv)
    cli = cli_path()
    if not os.access(cli, os.X_OK):
        print(f"trignet CLI not found at {cli}: build target trignet_cli or set TRIGNET_CLI", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = a.keep or tmp
        Path(work).mkdir(parents=True, exist_ok=True)
        results = [compare_model(name, a.n, cli, work, seed=a.seed) for name in a.models]
    total = report(results)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
