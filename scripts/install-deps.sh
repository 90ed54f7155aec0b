#!/usr/bin/env bash
# Installs what ember needs from Debian 12's packages. Idempotent: installs only what is
# missing, so a machine that has everything makes no network calls.
set -euo pipefail

# nlohmann-json3-dev: the safetensors header's JSON. python3 and python3-venv: the safetensors
# interop test's virtual environment (tests/core), into which it pip-installs the Python
# safetensors and numpy.
# clang-14 with its sanitizer and libFuzzer runtimes (libclang-rt-14-dev), its OpenMP
# (libomp-14-dev) and llvm-14 for llvm-symbolizer (file and line in a sanitizer's report):
# scripts/test.sh's sanitized build and the fuzzers.
packages=(cmake ninja-build g++ pkg-config libgtest-dev libgmock-dev libbenchmark-dev
          libdnnl-dev libopenblas-dev zlib1g-dev nlohmann-json3-dev python3 python3-venv
          dataset-fashion-mnist gnuplot-nox
          clang-14 libclang-rt-14-dev libomp-14-dev llvm-14)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
