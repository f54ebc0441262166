#!/usr/bin/env python3
"""Load time and peak memory of a large model, all-JSON versus JSON + binary
weight file (docs/format.md, "Binary weight file"; results in
docs/benchmarks.md, "Loading large models").

    .venv/bin/python tools/measure-load-time.py [--cli build/tools/trignet] [--mb 50] [--repeat 3]

Writes a synthetic Dense model (random float32 weights, written by the
converter's own writer, so numbers are spelled as in converted models) of
about --mb megabytes of JSON into a temporary directory, re-packs it with
--binary-weights, and times `trignet info` (parse, validate, compile for
float) on each with /usr/bin/time: wall seconds and maximum resident set.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from trignet_convert.binary_weights import repack  # noqa: E402
from trignet_convert.writer import dumps  # noqa: E402


def synthetic_model(mb):
    # ~35 bytes per float32 as the writer spells it (9 significant digits, one per line).
    n = int(mb * 1e6 / 35)
    width = int((n / 2) ** 0.5)
    rng = np.random.default_rng(1)
    sizes = [width, width, width, 10]
    nodes, prev = [], "x"
    for i in range(3):
        k = (rng.standard_normal((sizes[i], sizes[i + 1])) / np.sqrt(sizes[i])).astype(np.float32)
        b = (0.01 * rng.standard_normal(sizes[i + 1])).astype(np.float32)
        nodes.append({"name": f"dense_{i}", "type": "Dense", "inputs": [prev],
                      "config": {"units": sizes[i + 1], "activation": "relu" if i < 2 else "linear"},
                      "weights": {"kernel": {"shape": list(k.shape), "data": k.reshape(-1).tolist()},
                                  "bias": {"shape": [sizes[i + 1]], "data": b.tolist()}}})
        prev = f"dense_{i}"
    return {"format": "trignet", "format_version": 1, "name": f"synthetic_{mb}mb",
            "inputs": [{"name": "x", "shape": [width]}],
            "outputs": [{"name": "y", "node": prev}], "nodes": nodes}


def measure(cli, path, repeat):
    walls, rss = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-v", cli, "info", str(path)], capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit(f"trignet info {path} failed:\n{r.stderr}")
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024)
    return float(np.median(walls)), float(np.median(rss))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", default=str(ROOT / "build" / "tools" / "trignet"))
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        plain = Path(d) / "model.json"
        plain.write_text(dumps(synthetic_model(a.mb)))
        packed = Path(d) / "packed.json"
        repack(plain, packed, dumps)
        weights = Path(d) / "packed.weights.bin"
        rows = [("all JSON", plain.stat().st_size, *measure(a.cli, plain, a.repeat)),
                ("JSON + .weights.bin", packed.stat().st_size + weights.stat().st_size,
                 *measure(a.cli, packed, a.repeat))]
    print(f"`trignet info` on a {a.mb:g} MB synthetic Dense model, median of {a.repeat} runs")
    print("| form | bytes on disk | load wall time (s) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    for name, size, wall, rss in rows:
        print(f"| {name} | {size / 1e6:.1f} MB | {wall:.2f} | {rss:.0f} |")
    print(f"speed-up {rows[0][2] / rows[1][2]:.0f}x, memory {rows[0][3] / rows[1][3]:.1f}x less")


if __name__ == "__main__":
    main()
