#!/usr/bin/env bash
# The main job: builds trignet, verifies every bundled model in models/
# (`trignet check`: embedded test vectors), measures every model on every
# available backend and batch size (`trignet-bench`), runs ONNX Runtime and
# libtorch side by side on the same networks when .venv has them, checks the
# budgets in benchmarks/budgets.json and prints the table (with every trignet
# result as a ratio to the hand-written fixed-size Eigen baseline, and the
# issue-6 targets), then times the compile-time path's compilation
# (benchmarks/compile-time.sh); exit status 1 if a model fails its check or a
# budget fails. See docs/benchmarks.md.
#
#   tools/run-benchmarks.sh [--no-compare] [--no-compile-time] [trignet-bench options: --full, --filter REGEX,
#                           --batch LIST, --rounds N, ...]
#
# trignet-bench is compiled for TRIGNET_BENCH_ARCH (environment or CMake
# cache; default native: the SIMD path of this machine). TRIGNET_BUILD_DIR
# chooses the build folder (default build/).
#
# Writes $build/bench/results.json and, with matplotlib, $build/bench/latency.png.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"

compare=1
compile_time=1
full=0
bench_args=()
ort_args=()
while (($#)); do
  case "$1" in
    --no-compare) compare=0 ;;
    --no-compile-time) compile_time=0 ;;
    --full) bench_args+=("$1"); ort_args+=("$1"); full=1 ;;
    --filter) bench_args+=("$1" "$2"); ort_args+=("$1" "$2"); shift ;;
    *) bench_args+=("$1") ;;
  esac
  shift
done

build="${TRIGNET_BUILD_DIR:-$root/build}"
py="$root/.venv/bin/python"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
torch_opt=(-DTRIGNET_BENCH_LIBTORCH=OFF)
if ((compare)) && "$py" -c "import torch" >/dev/null 2>&1; then
  torch_opt=(-DTRIGNET_BENCH_LIBTORCH=ON -DTRIGNET_TORCH_PYTHON="$py")
fi
arch_opt=()
[[ -n "${TRIGNET_BENCH_ARCH+set}" ]] && arch_opt=(-DTRIGNET_BENCH_ARCH="$TRIGNET_BENCH_ARCH")
# The GPU rows (cuda, cuda-graph, cuda-h2d) where a GPU is visible and nvcc exists.
cuda_opt=()
if nvidia-smi -L 2>/dev/null | grep -q '^GPU' && { command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; }; then
  cuda_opt=(-DTRIGNET_ENABLE_CUDA=ON)
  command -v ccache >/dev/null && cuda_opt+=(-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "${torch_opt[@]}" "${arch_opt[@]}" \
      "${cuda_opt[@]}" >/dev/null
start=$SECONDS
cmake --build "$build" -j "$(nproc)" --target trignet_cli trignet_bench
echo "(build: $((SECONDS - start)) s)"

status=0
echo
echo "== Verifying bundled models (embedded test vectors) =="
for m in "$root"/models/*.json; do
  if "$build/tools/trignet" check "$m" > "$build/check.log" 2>&1; then
    printf '%-40s PASS\n' "$(basename "$m")"
  else
    printf '%-40s FAIL\n' "$(basename "$m")"
    cat "$build/check.log"
    status=1
  fi
done

out="$build/bench"
mkdir -p "$out"
ref_args=()
if ((compare)); then
  echo
  echo "== Reference exports for ONNX Runtime and libtorch (same networks, same weights) =="
  if "$py" -c "import torch" >/dev/null 2>&1; then
    rm -rf "$out/reference"
    t=$SECONDS
    "$py" -W ignore "$root/benchmarks/export_reference.py" "$out/reference" "$root"/models/*.json 2>/dev/null \
      || echo "  export failed: no comparison this run"
    echo "  (export: $((SECONDS - t)) s)"
    ref_args+=(--reference-dir "$out/reference")
    if "$py" -c "import onnxruntime" >/dev/null 2>&1; then
      echo "  measuring ONNX Runtime (Python API, batch 64 and 1000) ..."
      t=$SECONDS
      "$py" "$root/benchmarks/ort_bench.py" "$out/reference" "$out/onnxruntime.json" "${ort_args[@]}" >/dev/null \
        && ref_args+=(--reference-json "$out/onnxruntime.json") || echo "  ONNX Runtime benchmark failed: not compared"
      echo "  ($((SECONDS - t)) s)"
    else
      echo "  onnxruntime is not installed in .venv: not compared"
    fi
  else
    echo "  torch is not installed in .venv: no libtorch or ONNX Runtime comparison"
  fi
fi

echo
echo "== Latency and budgets =="
"$build/benchmarks/trignet-bench" --check --json "$out/results.json" "${ref_args[@]}" "${bench_args[@]}" \
  "$root/models" || status=1
if "$py" -c "import matplotlib" >/dev/null 2>&1; then
  "$py" "$root/tools/plot-benchmarks.py" "$out/results.json" -o "$out/latency.png" || true
fi
if ((compile_time)); then
  echo
  # Quick: one compilation of each TU, without the (slow) run-time engine TU.
  ct_args=(--runs 1 --no-runtime)
  ((full)) && ct_args=(--runs 3)
  "$root/benchmarks/compile-time.sh" "${ct_args[@]}" --json "$out/compile-time.json" || status=1
fi
echo "results: $out/results.json (total $SECONDS s)"
exit $status
