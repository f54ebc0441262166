#!/usr/bin/env bash
# Runs every test: installs what is missing (tools/setup.sh), builds in
# build/, runs ctest (C++ tests, CLI tests, installed-package consumer,
# reference-fixture check), then the converter tests (pytest: real Keras,
# PyTorch and ONNX models converted and compared with the C++ engine).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"

build="${TRIGNET_BUILD_DIR:-$root/build}"
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
