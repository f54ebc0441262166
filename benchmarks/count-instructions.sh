#!/usr/bin/env bash
# Instructions per call of every backend on the reference networks, counted by
# callgrind: repeatable to the instruction whatever the machine's load, so it
# settles what noisy timings cannot (docs/benchmarks.md, "Instruction counts").
#
#   benchmarks/count-instructions.sh [--runner PATH] [--calls N] [--batch LIST] [--filter REGEX]
#
# Valgrind does not decode AVX-512, so by default this builds its own
# trignet-bench for AVX2 + FMA (-DTRIGNET_BENCH_ARCH=x86-64-v3, in
# build-instructions/ or $TRIGNET_BUILD_DIR) and counts that; --runner uses an
# existing runner instead (built for at most AVX2). It runs
# `trignet-bench --instructions N` under `valgrind --tool=callgrind`, which
# zeroes the counters before and dumps them after N calls of each model,
# backend and batch, and prints instructions (Ir) per call and per sample,
# with the ratio to the fixed-size Eigen baseline.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runner=""
calls=200
batches="1"
filter='^(hls4ml_jet_tagger|mlp_64_256x3_10|gru_track_model)$'
while (($#)); do
  case "$1" in
    --runner) runner="$2"; shift ;;
    --calls) calls="$2"; shift ;;
    --batch) batches="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "count-instructions.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v valgrind >/dev/null || { echo "count-instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

if [[ -z "$runner" ]]; then
  build="${TRIGNET_BUILD_DIR:-$root/build-instructions}"
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTRIGNET_BENCH_ARCH=x86-64-v3 -DTRIGNET_ENABLE_CUDA=OFF \
    -DTRIGNET_BENCH_LIBTORCH=OFF "${launcher[@]}" >/dev/null
  cmake --build "$build" -j "$(nproc)" --target trignet_bench >/dev/null
  runner="$build/benchmarks/trignet-bench"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== Instructions per call (callgrind, $calls calls each, $runner) =="
valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" --dump-instr=no --collect-jumps=no \
  "$runner" --instructions "$calls" --batch "$batches" --filter "$filter" --cpu -1 "$root/models" \
  > "$out/runner.log" 2> "$out/valgrind.log" || {
  echo "count-instructions.sh: the run under valgrind failed:" >&2
  tail -20 "$out/valgrind.log" >&2
  exit 1
}
grep -m1 '^compiled for' "$out/runner.log" || true
# Each dump: "desc: Trigger: Client Request: <model> <backend> <batch> <calls>" and "totals: <Ir>".
for f in "$out"/cg.*; do
  awk '/^desc: Trigger: Client Request:/ {sub(/^desc: Trigger: Client Request: /, ""); label = $0}
       /^(totals|summary):/ {ir = $2}
       END {if (label != "") print label, ir}' "$f"
done | sort -k1,1 -k3,3n -k2,2 | awk '
  {model = $1; backend = $2; batch = $3; n = $4; per = $5 / n
   key = model " " batch; ir[key, backend] = per; rows[++count] = model " " backend " " batch " " per}
  END {
    printf "%-24s %-11s %6s %14s %14s %8s\n", "model", "backend", "batch", "Ir/call", "Ir/sample", "x eigen"
    for (i = 1; i <= count; i++) {
      split(rows[i], r, " ")
      base = ir[r[1] " " r[3], "eigen-fixed"]
      ratio = base > 0 ? sprintf("%.2f", r[4] / base) : "-"
      printf "%-24s %-11s %6d %14.0f %14.0f %8s\n", r[1], r[2], r[3], r[4], r[4] / r[3], ratio
    }
  }'
