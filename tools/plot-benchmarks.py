#!/usr/bin/env python3
"""Plots trignet-bench results: latency distribution per model and backend.

    .venv/bin/python tools/plot-benchmarks.py RESULTS.json [-o latency.png]

RESULTS.json is written by `trignet-bench --json`. One panel per model; one
line per backend and batch size: single-call latency (y, log) against
percentile (x, on a tail scale: 50, 90, 99, 99.9 %, max), so the median and
the tail read off one picture. Budgets (when the run had --check) are drawn as
crosses at their percentile. Needs matplotlib (tools/requirements.txt).
"""
import argparse
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"cpu-graph": "tab:blue", "cpu-static": "tab:green", "cuda": "tab:purple", "libtorch": "tab:red",
          "onnxruntime-py": "tab:orange", "eigen-fixed": "tab:brown"}
STYLES = ["-", "--", ":", "-."]


def tail_x(p):
    """Percentile -> x on a log(1 / (1 - p)) scale (50 % -> 1, 90 % -> 3.3, 99 % -> 6.6, 99.9 % -> 10)."""
    return math.log2(1.0 / max(1e-6, 1.0 - p / 100.0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("-o", "--output", default="latency.png")
    args = ap.parse_args()
    data = json.load(open(args.results))
    results = [r for r in data["results"] if r.get("quantiles_ns")]
    if not results:
        print("plot-benchmarks: no latency distributions in", args.results, file=sys.stderr)
        return 1
    models = sorted({r["model"] for r in results})
    batches = sorted({r["batch"] for r in results})
    cols = min(3, len(models))
    rows = math.ceil(len(models) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows), squeeze=False)
    ticks = [(0, "0"), (50, "50"), (90, "90"), (99, "99"), (99.9, "99.9")]
    for ax, model in zip(axes.flat, models):
        for r in sorted((r for r in results if r["model"] == model), key=lambda r: (r["backend"], r["batch"])):
            q = r["quantiles_ns"]
            n = len(q)
            ps = [100.0 * i / (n - 1) for i in range(n)]
            xs = [tail_x(p) for p in ps[:-1]]  # the 100 % point is the max, drawn below
            ys = [v / 1e3 for v in q[:-1]]
            xs.append(tail_x(99.9))
            ys.append(r["p999_ns"] / 1e3)
            style = STYLES[batches.index(r["batch"]) % len(STYLES)]
            color = COLORS.get(r["backend"], "tab:gray")
            ax.plot(xs, ys, style, color=color, lw=1.6, label=f"{r['backend']} b={r['batch']}")
            ax.plot([tail_x(99.98)], [r["max_ns"] / 1e3], "^", color=color, ms=4)
        for b in data.get("budgets", []):
            # Only absolute limits are drawn (ratio and throughput budgets have no limit_ns).
            if b["model"] != model or "limit_ns" not in b or b["percentile"] not in ("p50", "p90", "p99", "p99.9", "median"):
                continue
            p = 50.0 if b["percentile"] in ("median", "p50") else float(b["percentile"][1:])
            ax.plot([tail_x(p)], [b["limit_ns"] / 1e3], "x", color="black", ms=7, mew=1.5)
            ax.annotate(f"b={b['batch']}", (tail_x(p), b["limit_ns"] / 1e3), textcoords="offset points",
                        xytext=(5, -3), fontsize=6)
        ax.set_yscale("log")
        ax.set_xticks([tail_x(p) for p, _ in ticks] + [tail_x(99.98)])
        ax.set_xticklabels([t for _, t in ticks] + ["max"])
        ax.set_xlim(0, tail_x(99.99))
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("percentile of single calls (%)", fontsize=8)
        ax.set_ylabel("latency per call (us)", fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(models):]:
        ax.axis("off")
    labels = {}
    for ax in axes.flat:
        for h, l in zip(*ax.get_legend_handles_labels()):
            labels.setdefault(l, h)
    order = sorted(labels, key=lambda l: (l.split()[0], int(l.split("b=")[1])))
    fig.legend([labels[l] for l in order], order, loc="lower center", ncol=min(6, len(order)), fontsize=8,
               frameon=False)
    m = data.get("machine", {})
    isa = data.get("isa", data.get("simd", ""))
    fig.suptitle(f"trignet-bench {data.get('mode', '')} {data.get('date', '')}: {m.get('cpu_model', '')}, {isa}, "
                 f"one thread pinned, load {m.get('load_average_1min', '?')}  (x = budget, ^ = max)", fontsize=10)
    fig.tight_layout(rect=(0, 0.035 * math.ceil(len(labels) / 6) + 0.01, 1, 1))
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
