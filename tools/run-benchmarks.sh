#!/usr/bin/env bash
# The main job: builds trignet, verifies every bundled model in models/
# (`trignet check`: embedded test vectors) and measures its latency
# (`trignet-latency`). Extra arguments go to trignet-latency (e.g. --full).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"

build="${TRIGNET_BUILD_DIR:-$root/build}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" --target trignet_cli trignet_latency

models=("$root"/models/*.json)
status=0
echo
echo "== Verifying bundled models (embedded test vectors) =="
for m in "${models[@]}"; do
  if "$build/tools/trignet" check "$m" > "$build/check.log" 2>&1; then
    printf '%-40s PASS\n' "$(basename "$m")"
  else
    printf '%-40s FAIL\n' "$(basename "$m")"
    cat "$build/check.log"
    status=1
  fi
done
echo
echo "== Latency (CPU run-time engine) =="
"$build/benchmarks/trignet-latency" "$@" "${models[@]}"
exit $status
