#!/usr/bin/env bash
# Runs every test: installs what is missing (tools/setup.sh), builds in
# build/, runs ctest (C++ tests, CLI tests, installed-package consumer,
# reference-fixture check), then the converter tests (pytest: real Keras,
# PyTorch and ONNX models converted and compared with the C++ engine), then
# a bounded libFuzzer session of the model loader and of `trignet run` input
# parsing under ASan+UBSan (tools/run-fuzz.sh, TRIGNET_FUZZ_SECONDS per
# target, default 60).
# Then the sanitizer builds (tools/run-sanitizers.sh ci): the core test
# program, the fixed-point engine, the CLI tests and the fuzz replays under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the thread stress program
# under ThreadSanitizer.
# TRIGNET_SANITIZERS=1 widens that to every C++ test program under ASan+UBSan
# and every multithreaded test under TSan (tools/run-sanitizers.sh all; long:
# every test program is built twice more).
# TRIGNET_QUICK=1 skips fuzzing and sanitizers (a fast local edit-test loop).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"

build="${TRIGNET_BUILD_DIR:-$root/build}"
# ccache keys on paths relative to the checkout, so a fresh clone (CI) reuses
# the objects of any earlier clone on this machine.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
jobs="${TRIGNET_JOBS:-$(nproc)}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# The CUDA backend is built (and its GPU tests skip cleanly) wherever nvcc exists.
cuda=()
if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  cuda=(-DTRIGNET_ENABLE_CUDA=ON)
  command -v ccache >/dev/null && cuda+=(-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "${cuda[@]}" \
      -DTRIGNET_PYTHON="$root/.venv/bin/python" >/dev/null
cmake --build "$build" -j "$jobs"
(cd "$build" && ctest --output-on-failure -j "$jobs")
# -p no:warnings hides hundreds of framework deprecation warnings.
TRIGNET_CLI="$build/tools/trignet" "$root/.venv/bin/python" -m pytest -q -p no:warnings \
  "$root/tests/python"

if [[ ${TRIGNET_QUICK:-0} == 1 ]]; then
  echo "TRIGNET_QUICK=1: sanitizer builds and fuzzing skipped"
  exit 0
fi
stage() { echo; echo "== $1 ($(date -u +%H:%M:%S))"; }
stage "fuzzing: libFuzzer under ASan+UBSan, ${TRIGNET_FUZZ_SECONDS:-60} s per target"
"$root/tools/run-fuzz.sh" "${TRIGNET_FUZZ_SECONDS:-60}"
if [[ ${TRIGNET_SANITIZERS:-0} == 1 ]]; then
  stage "sanitizers: ASan+UBSan over every C++ test program, TSan over the threaded tests"
  TRIGNET_JOBS="$jobs" "$root/tools/run-sanitizers.sh" all
else
  stage "sanitizers: ASan+UBSan over the core, fixed-point, CLI and fuzz-replay tests, TSan over the thread stress test"
  TRIGNET_JOBS="$jobs" "$root/tools/run-sanitizers.sh" ci
fi
stage "all tests passed"
