#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang 14 under
# AddressSanitizer + UndefinedBehaviorSanitizer and runs each for a bounded
# time: tools/run-fuzz.sh [seconds per target, default 60] [target...]
# Targets: model (model JSON -> loaded, verified model -> Session runs) and
# inputs (`trignet run` inputs JSON). Seeds: tests/fuzz/corpus/<target>,
# models/*.json, tests/data/layers/*.json and tests/data/fixed_engine (model target), past findings in
# tests/fuzz/regressions/<target>. New corpus entries go to the build
# directory, never into the source tree; crash/leak/timeout reproducers are
# written to $build/findings/<target>/ and make the script fail.
# Needs clang-14 and libclang-rt-14-dev (Debian). Environment:
#   TRIGNET_FUZZ_BUILD_DIR (default build-fuzz), TRIGNET_FUZZ_JOBS (parallel
#   fuzzing processes per target, default 1), TRIGNET_FUZZ_FLAGS (extra
#   libFuzzer flags).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(model inputs)
build="${TRIGNET_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${TRIGNET_FUZZ_JOBS:-1}"
cxx="${TRIGNET_FUZZ_CXX:-clang++-14}"
command -v "$cxx" >/dev/null || { echo "run-fuzz: $cxx not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
mkdir -p "$build"

flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/include" -isystem /usr/include/eigen3)
status=0
for t in "${targets[@]}"; do
  src="$root/tests/fuzz/fuzz_$t.cpp"
  exe="$build/fuzz_$t"
  if [[ ! -x "$exe" || "$src" -nt "$exe" || -n "$(find "$root/include" -newer "$exe" -name '*.hpp' -print -quit)" ]]; then
    echo "== building fuzz_$t"
    "$cxx" "${flags[@]}" "$src" -o "$exe"
  fi
  work="$build/corpus/$t"
  findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  seeds=("$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions/$t")
  [[ $t == model ]] && seeds+=("$root/models" "$root/tests/data/layers" "$root/tests/data/fixed_engine")
  echo "== fuzzing $t for ${seconds}s ($jobs job(s))"
  log="$build/fuzz_$t.log"
  # -rss_limit_mb / -malloc_limit_mb: an allocation beyond 2 GiB is a finding
  # (resource limits must reject such files first). -timeout: one input > 10 s is a hang.
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048
        -max_len=131072 -dict="$root/tests/fuzz/json.dict" -artifact_prefix="$findings/"
        -print_final_stats=1 ${TRIGNET_FUZZ_FLAGS:-})
  if ((jobs > 1)); then
    args+=(-jobs="$jobs" -workers="$jobs")
  fi
  set +e
  ( cd "$build" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$exe" "${args[@]}" "$work" "${seeds[@]}" ) > "$log" 2>&1
  rc=$?
  set -e
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" || true
  for f in "$build"/fuzz-*.log; do [[ -e $f ]] && grep -h -E 'stat::number_of_executed_units' "$f"; done 2>/dev/null || true
  if ((rc != 0)); then
    echo "!! fuzz_$t failed (exit $rc); log: $log; reproducers: $findings" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20 >&2 || true
    status=1
  else
    echo "   fuzz_$t: no finding (log: $log)"
  fi
done
exit $status
