#!/usr/bin/env python3
"""Fixed-point inference time per sample, trignet vs hls4ml's C++ emulation,
for the four proof models (tests/fixed_point/models.py).

Builds benchmarks/fixed_point/fixed_vs_hls4ml.cpp with g++ -O3 (the flags
hls4ml's build_lib.sh gives its own library; no -march), gets each model's
compiled hls4ml library from the cache of tests/fixed_point/hls4ml_runner.py
(compiling it if needed), converts the same model with trignet-convert, and
runs both in one process on the same random samples (see the .cpp).

    .venv/bin/python benchmarks/fixed_point/fixed_vs_hls4ml.py [-n 2000] [--rounds 15] [MODEL ...]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "fixed_point"))
os.environ.setdefault("KERAS_BACKEND", "torch")


def eigen_include():
    for d in ("/usr/include/eigen3", "/usr/local/include/eigen3"):
        if Path(d, "Eigen").is_dir():
            return d
    raise SystemExit("Eigen headers not found (libeigen3-dev)")


def build(out):
    exe = Path(out) / "fixed_vs_hls4ml"
    cmd = [os.environ.get("CXX", "g++"), "-O3", "-std=c++17", "-DNDEBUG", f"-I{ROOT / 'include'}",
           f"-I{eigen_include()}", str(HERE / "fixed_vs_hls4ml.cpp"), "-o", str(exe), "-ldl"]
    subprocess.run(cmd, check=True)
    return exe


def main(argv=None):
    import hls4ml_runner
    import models
    from trignet_convert import convert_keras
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", default=list(models.NAMES))
    ap.add_argument("-n", type=int, default=2000, help="samples (default 2000)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--json", help="write the results as JSON")
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="trignet-fxbench-"))
    try:
        exe = build(work)
        results = []
        for name in a.models:
            m, cfg = models.build(name)
            proj = hls4ml_runner.project(name)
            path = work / f"{name}.json"
            convert_keras(m, path, precision=cfg)
            xs, _ = models.inputs(name, m, cfg, a.n, seed=3)
            # time on the random group only (the typical case), repeated to n samples; inputs one after another
            blob = b""
            for x in xs:
                x = x[: max(1, a.n // 4)]
                blob += np.resize(x, (a.n,) + x.shape[1:]).astype(np.float32).tobytes()
            (work / f"{name}.f32").write_bytes(blob)
            r = subprocess.run([str(exe), str(path), str(proj.library), proj.meta["top"], str(work / f"{name}.f32"),
                                str(a.n), str(a.rounds)], capture_output=True, text=True)
            if r.returncode not in (0, 1) or not r.stdout.strip():
                raise SystemExit(f"{name}: benchmark failed: {r.stderr}")
            res = json.loads(r.stdout)
            res["model"] = name
            res["ratio_hls4ml_over_trignet"] = round(res["hls4ml_ns_median"] / res["trignet_ns_median"], 2)
            results.append(res)
            if r.stderr.strip():
                print(r.stderr.strip(), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'model':8s} {'hls4ml ns/sample':>17s} {'trignet ns/sample':>18s} {'hls4ml/trignet':>15s} {'differ':>7s}")
    for r in results:
        print(f"{r['model']:8s} {r['hls4ml_ns_median']:17.1f} {r['trignet_ns_median']:18.1f} "
              f"{r['ratio_hls4ml_over_trignet']:15.2f} {r['samples_differing']:7d}")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 1 if any(r["samples_differing"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
