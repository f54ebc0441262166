#!/usr/bin/env bash
# The whole GPU check in one command. On a machine with a GPU it:
#   1. takes the programs prebuilt by --prebuild (if they load there), or builds
#      them (nvcc + C++ compiler directly: no CMake, no Catch2, no Debian packages);
#   2. runs the GPU tests: every model in models/ and every supported layer
#      fixture, each execution mode, against the CPU engine;
#   3. runs trignet-bench with the GPU backends (cuda, cuda-graph, cuda-h2d) at
#      batch 1, 1000 and 100000 and checks their budgets (benchmarks/budgets.json);
#   4. runs trignet-cuda-bench: throughput versus batch 1..10^6, latency with and
#      without CUDA graphs, GFLOP/s against the FP32 peak, the device-callable
#      network, and a sweep of the fused kernel's launch shape;
#   5. reruns the GPU tests (quick) under compute-sanitizer memcheck, and the jet
#      tagger under racecheck (shared-memory races in the fused kernel);
# and writes everything under one folder.
#
#   benchmarks/gpu-check.sh [RESULTS_DIR]   # default: $OUT if set, else build-gpu-check/results
#   benchmarks/gpu-check.sh --prebuild      # build the programs here into build-gpu-check/prebuilt
#   benchmarks/gpu-check.sh --prepare-deps  # copy Eigen + nlohmann headers to build-cuda/gpu-deps
#
# With the device tool: run --prebuild and --prepare-deps here, then carry
# ["build-gpu-check/prebuilt", "build-cuda/gpu-deps"] and run this script there.
# Environment: TRIGNET_CUDA_ARCH (default 90), NVCC, CXX, TRIGNET_BENCH_MAX_BATCH
# (default 1000000), TRIGNET_GPU_SANITIZER_SECONDS (default 100 per sanitizer pass).
# Results: gpu-check-summary.txt, gpu-tests.txt, trignet-bench.txt,
# trignet-bench.json, cuda-bench.md, sanitizer.txt, build.log.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/build-cuda/gpu-deps"
prebuilt="$root/build-gpu-check/prebuilt"
arch="${TRIGNET_CUDA_ARCH:-90}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
cxx="${CXX:-g++}"
programs=(trignet-cuda-gpu-tests trignet-cuda-bench trignet-bench)

if [[ "${1:-}" == "--prepare-deps" ]]; then
  mkdir -p "$deps/include"
  cp -r /usr/include/eigen3 "$deps/" && cp -r /usr/include/nlohmann "$deps/include/" || exit 1
  du -sh "$deps"
  exit 0
fi

first_dir() {  # first directory holding the file $1
  local rel="$1"; shift
  for d in "$@"; do [[ -f "$d/$rel" ]] && { echo "$d"; return 0; }; done
  return 1
}

# build DIR: compiles the three programs into DIR (log on stdout/stderr).
# trignet-bench for a portable x86-64-v3 (AVX2+FMA): it may run on another CPU.
build() {
  local dir="$1" eigen json
  eigen="$(first_dir Eigen/Core "$deps/eigen3" /usr/include/eigen3 /usr/local/include/eigen3)" ||
    { echo "Eigen headers not found (run benchmarks/gpu-check.sh --prepare-deps where they are installed)"; return 1; }
  json="$(first_dir nlohmann/json.hpp "$deps/include" /usr/include /usr/local/include)" ||
    { echo "nlohmann/json.hpp not found (run benchmarks/gpu-check.sh --prepare-deps)"; return 1; }
  mkdir -p "$dir/obj"
  local o="$dir/obj"
  local cuflags=(-std=c++17 -O3 -DNDEBUG "-gencode=arch=compute_${arch},code=[sm_${arch},compute_${arch}]"
                 -I"$root/include" -I"$json" -DTRIGNET_SOURCE_DIR="\"$root\"")
  local cxxflags=(-std=c++17 -O3 -DNDEBUG -I"$root/include" -I"$eigen" -I"$json" -DTRIGNET_SOURCE_DIR="\"$root\"")
  local benchflags=("${cxxflags[@]}" -march=x86-64-v3 -Wno-psabi -DTRIGNET_BENCH_CUDA -DTRIGNET_BENCH_STATIC_GRU
                    -DTRIGNET_BENCH_FLAGS="\"-O3 -DNDEBUG -march=x86-64-v3\"" -I"$root/benchmarks")
  local pids=()
  "$nvcc" "${cuflags[@]}" -Xptxas -v -I"$root/tests/cuda" -c "$root/tests/cuda/test_cuda_gpu.cu" -o "$o/test_cuda_gpu.o" & pids+=($!)
  "$nvcc" "${cuflags[@]}" -Xptxas -v -c "$root/benchmarks/cuda_bench.cu" -o "$o/cuda_bench.o" & pids+=($!)
  "$nvcc" "${cuflags[@]}" -I"$root/benchmarks" -c "$root/benchmarks/backend_cuda.cu" -o "$o/backend_cuda.o" & pids+=($!)
  "$cxx" "${cxxflags[@]}" -c "$root/tests/cuda/cpu_reference.cpp" -o "$o/cpu_reference.o" & pids+=($!)
  for f in bench eigen_baselines static_backends; do
    "$cxx" "${benchflags[@]}" -c "$root/benchmarks/$f.cpp" -o "$o/$f.o" & pids+=($!)
  done
  local ok=0
  for p in "${pids[@]}"; do wait "$p" || ok=1; done
  [[ $ok == 0 ]] || return 1
  local cudalib
  cudalib="$(dirname "$(dirname "$nvcc")")/lib64"
  local link=(-static-libstdc++ -static-libgcc -L"$cudalib" -lcublas -lcudart_static -ldl -lrt -lpthread)
  "$cxx" -o "$dir/trignet-cuda-gpu-tests" "$o/test_cuda_gpu.o" "$o/cpu_reference.o" "${link[@]}" &&
    "$cxx" -o "$dir/trignet-cuda-bench" "$o/cuda_bench.o" "${link[@]}" &&
    "$cxx" -o "$dir/trignet-bench" "$o/bench.o" "$o/eigen_baselines.o" "$o/static_backends.o" "$o/backend_cuda.o" "${link[@]}"
}

if [[ "${1:-}" == "--prebuild" ]]; then
  start=$(date +%s)
  rm -rf "$prebuilt" && mkdir -p "$prebuilt"
  build "$prebuilt" >"$prebuilt/build.log" 2>&1 || { tail -30 "$prebuilt/build.log"; exit 1; }
  rm -rf "$prebuilt/obj"
  echo "$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" status --porcelain | grep -q . && echo "+uncommitted")" >"$prebuilt/commit"
  echo "prebuilt in $(( $(date +%s) - start )) s:"; ls -la "$prebuilt"
  exit 0
fi

out="${1:-${OUT:-$root/build-gpu-check/results}}"
mkdir -p "$out"
summary="$out/gpu-check-summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

# cuBLAS for programs built elsewhere: the toolkit's lib64, or the pip wheel's.
for d in "$(dirname "$(dirname "$nvcc")")/lib64" /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
         "$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null)"; do
  [[ -n "$d" && -e "$d/libcublas.so.13" ]] && { export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; break; }
done
export TRIGNET_SOURCE_DIR="$root"

note "trignet GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
note "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo ' (+ uncommitted changes)')"
note "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"
note "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
note "nvcc: $("$nvcc" --version 2>/dev/null | tail -2 | head -1)"

bin="$prebuilt"
usable=1
for p in "${programs[@]}"; do
  [[ -x "$bin/$p" ]] && ! ldd "$bin/$p" 2>&1 | grep -q 'not found' || usable=0
done
if [[ $usable == 1 ]]; then
  note "programs: prebuilt ($(cat "$bin/commit" 2>/dev/null || echo 'commit unknown'))"
else
  bin="$root/build-gpu-check/here"
  build "$bin" >"$out/build.log" 2>&1
  rc=$?
  note "programs: built here, rc=$rc at $(elapsed) (build.log; registers/spills: grep ptxas build.log)"
  [[ $rc == 0 ]] || { tail -30 "$out/build.log"; exit 1; }
fi

"$bin/trignet-cuda-gpu-tests" >"$out/gpu-tests.txt" 2>&1
tests_rc=$?
cat "$out/gpu-tests.txt"
note "gpu tests: rc=$tests_rc ($(tail -1 "$out/gpu-tests.txt")) at $(elapsed)"

"$bin/trignet-bench" --backend '^cuda' --batch 1,1000,100000 --check --budgets "$root/benchmarks/budgets.json" \
  --json "$out/trignet-bench.json" "$root/models" >"$out/trignet-bench.txt" 2>&1
bench_rc=$?
cat "$out/trignet-bench.txt"
note "trignet-bench (GPU backends, budgets): rc=$bench_rc at $(elapsed)"

(cd "$root" && "$bin/trignet-cuda-bench" --models "$root/models" --max-batch "${TRIGNET_BENCH_MAX_BATCH:-1000000}" \
  --out "$out/cuda-bench.md") >"$out/cuda-bench-stdout.txt" 2>&1
cuda_bench_rc=$?
cat "$out/cuda-bench.md" 2>/dev/null || tail -20 "$out/cuda-bench-stdout.txt"
note "trignet-cuda-bench: rc=$cuda_bench_rc at $(elapsed)"

san_rc=0
if command -v compute-sanitizer >/dev/null; then
  secs="${TRIGNET_GPU_SANITIZER_SECONDS:-100}"
  {
    echo "== memcheck, all models, quick"
    timeout "$secs" compute-sanitizer --tool memcheck --error-exitcode 9 "$bin/trignet-cuda-gpu-tests" --quick
    echo "rc=$?"
    echo "== racecheck, jet tagger, quick"
    timeout "$secs" compute-sanitizer --tool racecheck --error-exitcode 9 "$bin/trignet-cuda-gpu-tests" --quick --filter jet_tagger
    echo "rc=$?"
  } >"$out/sanitizer.txt" 2>&1
  grep -E '^(==|rc=)|ERROR SUMMARY|RACECHECK SUMMARY|checks,' "$out/sanitizer.txt" | tee -a "$summary"
  grep -q '^rc=[^0]' "$out/sanitizer.txt" && san_rc=1
  note "compute-sanitizer: $([[ $san_rc == 0 ]] && echo clean || echo 'FINDINGS or timeout (sanitizer.txt; rc=124 is a timeout)') at $(elapsed)"
else
  note "compute-sanitizer: not on this machine"
fi
note "total: $(elapsed)"
[[ $tests_rc == 0 && $bench_rc == 0 && $cuda_bench_rc == 0 ]]
