#!/usr/bin/env bash
# Builds ember (with the CUDA backend when nvcc is present) and trains the Fashion-MNIST
# MLP on the best device present, reporting accuracy and time. Extra arguments go to
# train_mlp (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF \
  -DEMBER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build -j "$(nproc)" --target train_mlp
./build/examples/train_mlp --device auto "$@"
