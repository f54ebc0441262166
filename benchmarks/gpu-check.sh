#!/usr/bin/env bash
# The whole GPU check in one command: builds the CUDA backend's GPU tests and
# benchmark (Release, -O3, sm_90 + compute_90 PTX by default), runs the GPU
# tests (every model in models/ and every supported layer fixture, each
# execution mode, against the CPU engine), runs the GPU benchmark, and writes
# the results under one folder.
#
#   benchmarks/gpu-check.sh [RESULTS_DIR]       # default: $OUT if set, else build-gpu-check/results
#   benchmarks/gpu-check.sh --prepare-deps      # copy Eigen + nlohmann headers to build-cuda/gpu-deps
#
# It compiles with nvcc and the C++ compiler directly (no CMake, no Catch2), so
# it runs on a machine that has CUDA but not the project's Debian packages:
# Eigen (for the CPU reference) and nlohmann_json headers come from the system
# or from build-cuda/gpu-deps (made here with --prepare-deps, then carried).
# Environment: TRIGNET_CUDA_ARCH (default 90), NVCC, CXX, TRIGNET_BENCH_MAX_BATCH (default 1000000).
# Results: gpu-check-summary.txt, gpu-tests.txt, cuda-bench.md, build.log.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/build-cuda/gpu-deps"

if [[ "${1:-}" == "--prepare-deps" ]]; then
  mkdir -p "$deps/include"
  cp -r /usr/include/eigen3 "$deps/" && cp -r /usr/include/nlohmann "$deps/include/" || exit 1
  du -sh "$deps"
  exit 0
fi

out="${1:-${OUT:-$root/build-gpu-check/results}}"
build="${TRIGNET_GPU_BUILD:-$root/build-gpu-check}"
arch="${TRIGNET_CUDA_ARCH:-90}"
max_batch="${TRIGNET_BENCH_MAX_BATCH:-1000000}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
cxx="${CXX:-g++}"
mkdir -p "$out" "$build"
summary="$out/gpu-check-summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

first_dir() {  # first directory holding the file $1
  local rel="$1"; shift
  for d in "$@"; do [[ -f "$d/$rel" ]] && { echo "$d"; return 0; }; done
  return 1
}
eigen="$(first_dir Eigen/Core "$deps/eigen3" /usr/include/eigen3 /usr/local/include/eigen3)" ||
  { note "FAILED: Eigen headers not found (run benchmarks/gpu-check.sh --prepare-deps where they are installed)"; exit 1; }
json="$(first_dir nlohmann/json.hpp "$deps/include" /usr/include /usr/local/include)" ||
  { note "FAILED: nlohmann/json.hpp not found (run benchmarks/gpu-check.sh --prepare-deps)"; exit 1; }

note "trignet GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
note "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo ' (+ uncommitted changes)')"
note "nvcc: $("$nvcc" --version | tail -2 | head -1)"
note "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"

cuflags=(-std=c++17 -O3 -DNDEBUG "-gencode=arch=compute_${arch},code=[sm_${arch},compute_${arch}]"
         -I"$root/include" -I"$json" -DTRIGNET_SOURCE_DIR="\"$root\"")
start=$(date +%s)
{
  "$nvcc" "${cuflags[@]}" -Xptxas -v -I"$root/tests/cuda" -c "$root/tests/cuda/test_cuda_gpu.cu" -o "$build/test_cuda_gpu.o" &
  p1=$!
  "$nvcc" "${cuflags[@]}" -c "$root/benchmarks/cuda_bench.cu" -o "$build/cuda_bench.o" &
  p2=$!
  "$cxx" -std=c++17 -O3 -DNDEBUG -I"$root/include" -I"$eigen" -I"$json" -c "$root/tests/cuda/cpu_reference.cpp" -o "$build/cpu_reference.o" &
  p3=$!
  ok=0
  wait $p1 || ok=1; wait $p2 || ok=1; wait $p3 || ok=1
  [[ $ok == 0 ]] &&
    "$nvcc" "-gencode=arch=compute_${arch},code=sm_${arch}" "$build/test_cuda_gpu.o" "$build/cpu_reference.o" -lcublas -o "$build/trignet-cuda-gpu-tests" &&
    "$nvcc" "-gencode=arch=compute_${arch},code=sm_${arch}" "$build/cuda_bench.o" -lcublas -o "$build/trignet-cuda-bench"
} >"$out/build.log" 2>&1
build_rc=$?
note "build: rc=$build_rc in $(( $(date +%s) - start )) s (log: build.log; registers/spills: grep ptxas build.log)"
if [[ $build_rc != 0 ]]; then tail -30 "$out/build.log"; exit 1; fi

"$build/trignet-cuda-gpu-tests" 2>&1 | tee "$out/gpu-tests.txt"
tests_rc=${PIPESTATUS[0]}
note "gpu tests: rc=$tests_rc ($(tail -1 "$out/gpu-tests.txt"))"

(cd "$root" && "$build/trignet-cuda-bench" --models "$root/models" --max-batch "$max_batch" --out "$out/cuda-bench.md") \
  >"$out/bench-stdout.txt" 2>&1
bench_rc=$?
note "benchmark: rc=$bench_rc (cuda-bench.md)"
cat "$out/cuda-bench.md" 2>/dev/null || tail -20 "$out/bench-stdout.txt"
note "total: $(( $(date +%s) - start )) s"
[[ $tests_rc == 0 && $bench_rc == 0 ]]
