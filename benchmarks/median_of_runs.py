#!/usr/bin/env python3
"""Median of several trignet-bench runs: the table docs/benchmarks.md quotes.

    python3 benchmarks/median_of_runs.py RUN1.json RUN2.json RUN3.json [--targets]

Each RUN.json is written by `trignet-bench --json` (for the issue-6 table:
`--check --rounds 5 --filter '^(hls4ml_jet_tagger|mlp_64_256x3_10|gru_track_model)$'`).
On a shared machine one run can land in a busy minute; the median over runs of
each figure (and of each ratio, taken within its run) is steadier than any
single run. Prints a Markdown table per model and batch: the Eigen baseline's
median, each trignet backend's median and its x eigen ratio (median over runs,
with the range), cpu-static's batch-1 p99.9/p50, and samples/s; with
--targets, the issue-6 targets of the runs (met in how many runs, median
measured value). Standard library only.
"""
import argparse
import json
import statistics
import sys


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns < 1e4:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} us"
    return f"{ns / 1e6:.2f} ms"


def fmt_rate(v):
    if v is None:
        return "-"
    return f"{v / 1e6:.2f} M/s" if v >= 1e6 else f"{v / 1e3:.0f} k/s"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--targets", action="store_true", help="also summarise the targets of each run")
    args = ap.parse_args()
    runs = [json.load(open(p)) for p in args.runs]
    by_key = {}  # (model, batch) -> backend -> [result per run]
    for run in runs:
        for r in run["results"]:
            by_key.setdefault((r["model"], r["batch"]), {}).setdefault(r["backend"], []).append(r)
    first = runs[0]
    m = first.get("machine", {})
    print(f"{len(runs)} runs: {', '.join(r.get('date', '?') for r in runs)}; {m.get('cpu_model', '?')}; "
          f"{first.get('isa', first.get('simd', '?'))}; flags {first.get('compile_flags', '?')}; "
          f"rounds {first.get('rounds', 1)}; load averages {', '.join(str(r.get('machine', {}).get('load_average_1min', '?')) for r in runs)}")
    print()
    print("| model | batch | eigen-fixed | cpu-graph | x eigen | cpu-static | x eigen | cpu-static p99.9/p50 | cpu-static samples/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (model, batch), backends in sorted(by_key.items()):
        if "eigen-fixed" not in backends:
            continue

        def cell(backend):
            rs = backends.get(backend, [])
            if not rs:
                return "-", "-"
            ratios = [r.get("x_eigen") for r in rs if r.get("x_eigen")]
            ratio = "-"
            if ratios:
                ratio = f"{med(ratios):.2f}" + (f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else "")
            return fmt_ns(med([r["median_ns"] for r in rs])), ratio

        e, _ = cell("eigen-fixed")
        g, gx = cell("cpu-graph")
        s, sx = cell("cpu-static")
        st = backends.get("cpu-static", [])
        tail = "-"
        if batch == 1 and st:
            tails = [r["p999_ns"] / r["p50_ns"] for r in st if r.get("single_calls", 0) >= 1000 and r.get("p50_ns")]
            if tails:
                tail = f"{med(tails):.2f}"
        rate = fmt_rate(med([r["samples_per_s"] for r in st])) if st else "-"
        print(f"| {model} | {batch} | {e} | {g} | {gx} | {s} | {sx} | {tail} | {rate} |")
    if args.targets:
        print()
        print("| target | model | backend | batch | met in | median measured |")
        print("|---|---|---|---|---|---|")
        seen = {}
        for run in runs:
            for t in run.get("targets", []):
                key = (t["model"], t["backend"], t["batch"], t["limit"])
                seen.setdefault(key, []).append(t)
        for (model, backend, batch, limit), ts in seen.items():
            measured = [t for t in ts if "measured" in t]
            met = sum(1 for t in measured if t["result"] == "met")
            value = med([t["measured"] for t in measured])
            if value is None:
                shown = "not measured"
            elif "max_ratio" in ts[0]:
                shown = f"{value:.2f}x"
            elif "min_samples_per_s" in ts[0]:
                shown = fmt_rate(value)
            else:
                shown = fmt_ns(value)
            print(f"| {limit} | {model} | {backend} | {batch} | {met}/{len(measured)} runs | {shown} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
