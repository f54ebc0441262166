#!/usr/bin/env bash
# Runs every test: installs what is missing (tools/setup.sh), builds in
# build/ and runs ctest (C++ tests, CLI tests, installed-package consumer,
# reference-fixture check).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"

build="${TRIGNET_BUILD_DIR:-$root/build}"
jobs="${TRIGNET_JOBS:-$(nproc)}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
      -DTRIGNET_PYTHON="$root/.venv/bin/python" >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs"
