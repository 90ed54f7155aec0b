#!/usr/bin/env bash
# Builds ember (with the CUDA backend when nvcc is present) and trains the Fashion-MNIST
# MLP on the best device present, reporting accuracy and time. Extra arguments go to
# train_mlp (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The CUDA backend only when a GPU answers, compiled for that GPU alone: compiling every
# .cu for five architectures takes minutes that a CPU-only machine would waste.
cuda=(-DEMBER_CUDA=OFF)
if nvidia-smi -L >/dev/null 2>&1 && { command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; }; then
  cuda=(-DEMBER_CUDA=ON -DEMBER_CUDA_ARCHITECTURES=native)
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF \
  -DEMBER_BUILD_BENCHMARKS=OFF "${cuda[@]}" >/dev/null
cmake --build build -j "$(nproc)" --target train_mlp
./build/examples/train_mlp --device auto "$@"
