#!/usr/bin/env bash
# Sanitizer builds of the C++ tests:
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer: every C++ test
#         program, the CLI tests and the fuzz-regression replays, except the
#         allocation-counting program (it replaces malloc, which ASan owns) and
#         the cross-ISA reproducibility check (three builds with their own
#         -march flags, compared byte for byte: a build check, not a memory one).
#   tsan  ThreadSanitizer: the multithreaded tests ([threads] in the test
#         programs, and the thread stress program with fewer runs).
#   ci    the subset the test command runs on every submission (CI's time
#         limit; 2 cores): ASan+UBSan over the core test program (loader,
#         format, layers, engine, numerics, binary weight file, reproducible
#         mode), the fixed-point engine, the CLI tests and the fuzz replays;
#         TSan over the thread stress program. The layer-family, fast-path and
#         fixed-type programs (long sanitizer builds) run in "all" only.
# Usage: tools/run-sanitizers.sh [asan|tsan|all|ci] (default all). Builds in
# build-asan/ and build-tsan/ (TRIGNET_ASAN_BUILD_DIR, TRIGNET_TSAN_BUILD_DIR),
# with TRIGNET_SAN_CXX (default g++) and TRIGNET_JOBS parallel jobs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-all}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"  # reuse objects across clones (see run-tests.sh)
# These builds have -g, for which ccache also hashes the working directory
# (debug info records it): without this no other clone would reuse them. The
# cost: a debugger may look for sources under the clone that built them.
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
jobs="${TRIGNET_JOBS:-$(nproc)}"
cxx="${TRIGNET_SAN_CXX:-g++}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

configure() {  # dir, flags
  cmake -S "$root" -B "$1" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -fno-omit-frame-pointer $2" \
        -DCMAKE_EXE_LINKER_FLAGS="$2" -DTRIGNET_BUILD_BENCHMARKS=OFF -DTRIGNET_INSTALL=OFF \
        -DTRIGNET_PYTHON= "${launcher[@]}" >/dev/null
}

targets_of() {  # dir: the test programs the build defines (+ the CLI)
  cmake --build "$1" --target help | sed -n 's/^\.\.\. \(trignet_[a-z_]*\).*/\1/p' |
    grep -E '_tests$|^trignet_fuzz_replay_|^trignet_cli$' || true
}

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

case "$what" in
  asan|tsan|all|ci) ;;
  *) echo "usage: tools/run-sanitizers.sh [asan|tsan|all|ci]" >&2; exit 2 ;;
esac

if [[ $what == asan || $what == all || $what == ci ]]; then
  start=$(date +%s)
  build="${TRIGNET_ASAN_BUILD_DIR:-$root/build-asan}"
  configure "$build" "-fsanitize=address,undefined -fno-sanitize-recover=undefined"
  if [[ $what == ci ]]; then
    mapfile -t targets < <(targets_of "$build" |
      grep -E '^trignet_(tests|fixed_engine_tests|cli)$|^trignet_fuzz_replay_')
    tests_re='^(trignet_tests:|trignet_fixed_engine_tests:|cli: |fuzz_)'
  else
    mapfile -t targets < <(targets_of "$build" | grep -v '^trignet_allocation_tests$')
    tests_re='.'
  fi
  echo "== ASan+UBSan: building ${targets[*]}"
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
  built=$(date +%s)
  echo "== ASan+UBSan: running ctest (build $(elapsed "$start"))"
  ( cd "$build" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --output-on-failure -j "$jobs" -R "$tests_re" \
      -E '^(trignet_allocation_tests|reference_fixtures|installed_package|trignet_cuda_gpu_tests|reproducible_across_instruction_sets)' )
  echo "== ASan+UBSan: done (build $((built - start))s, tests $(elapsed "$built"))"
fi

if [[ $what == tsan || $what == all || $what == ci ]]; then
  start=$(date +%s)
  build="${TRIGNET_TSAN_BUILD_DIR:-$root/build-tsan}"
  configure "$build" "-fsanitize=thread"
  if [[ $what == ci ]]; then
    targets=(trignet_stress_tests)
  else
    mapfile -t targets < <(targets_of "$build" | grep -E '^trignet_(tests|stress_tests)$')
  fi
  echo "== TSan: building ${targets[*]}"
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
  built=$(date +%s)
  echo "== TSan: running the multithreaded tests (build $(elapsed "$start"))"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  for t in "${targets[@]}"; do
    exe="$(find "$build/tests" -maxdepth 2 -type f -name "$t" -perm -u+x | head -1)"
    if [[ $t == trignet_stress_tests ]]; then
      TRIGNET_STRESS_RUNS="${TRIGNET_TSAN_STRESS_RUNS:-300}" "$exe"
    else
      "$exe" "[threads]"
    fi
  done
  echo "== TSan: done (build $((built - start))s, tests $(elapsed "$built"))"
fi
