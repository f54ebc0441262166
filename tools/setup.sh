#!/usr/bin/env bash
# Installs what trignet's build, tests and tools need on a Debian 12 machine:
# Debian packages (only those missing) and a project virtual environment
# (.venv) with the pinned Python packages. Safe to run again: it does nothing
# when everything is present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(g++ cmake make libeigen3-dev nlohmann-json3-dev catch2 ccache python3-venv
          clang-14 libclang-rt-14-dev)  # clang: libFuzzer (tools/run-fuzz.sh)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "trignet setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv="$root/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/tools/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "trignet setup: creating $venv with tools/requirements.txt"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/tools/requirements.txt"
  echo "$want" > "$stamp"
fi
