#!/usr/bin/env bash
# Builds ember from scratch and runs the whole test suite:
#  1. if nvcc is present: the real CUDA build (-DEMBER_CUDA=ON), which compiles and links
#     every .cu for the GPU architectures users have, and its tests: the CPU cases, and each
#     per-device case again on the GPU ("/cuda"; skipped when no GPU is present);
#  2. the clang build: clang-14, CPU only, AddressSanitizer (with LeakSanitizer) and
#     UndefinedBehaviorSanitizer on everything, and ctest runs the whole CPU suite, the
#     consumer test and the libFuzzer harnesses of tests/fuzz (each over its regression corpus,
#     then fuzzing for EMBER_FUZZ_SECONDS, default 60);
#  3. the cudasim build (-DEMBER_CUDA=SIM): the CUDA backend's sources run on the CPU
#     simulator, next to the CPU backend, and ctest runs every suite. Its summary is last.
# EMBER_TEST_BUILDS picks the builds, in this order: "nvcc clang sim" (the default; nvcc only
# where present), or any of the three words ("nvcc" fails without nvcc). EMBER_JOBS sets the
# parallel jobs (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

builds=${EMBER_TEST_BUILDS:-nvcc clang sim}
for b in $builds; do
  case "$b" in nvcc | clang | sim) ;; *)
    echo "test.sh: EMBER_TEST_BUILDS='$builds': each word must be 'nvcc', 'clang' or 'sim'" >&2
    exit 2 ;;
  esac
done
have_nvcc=0
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then have_nvcc=1; fi
if [ "$builds" = nvcc ] && [ $have_nvcc -eq 0 ]; then
  echo "test.sh: EMBER_TEST_BUILDS=nvcc, but no nvcc (PATH or /usr/local/cuda/bin)" >&2
  exit 2
fi

bash scripts/install-deps.sh

jobs=${EMBER_JOBS:-$(nproc)}
common=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON)

if [[ " $builds " == *" nvcc "* ]]; then
  if [ $have_nvcc -eq 1 ]; then
    echo "== nvcc build (compile + link every .cu) =="
    rm -rf build-nvcc
    cmake -S . -B build-nvcc "${common[@]}" -DEMBER_CUDA=ON -DEMBER_BUILD_TESTS=ON \
      -DEMBER_BUILD_BENCHMARKS=OFF -DEMBER_BUILD_EXAMPLES=ON
    cmake --build build-nvcc -j "$jobs"
    ctest --test-dir build-nvcc --output-on-failure -j "$jobs"
  else
    echo "== nvcc not found: skipping the real CUDA build =="
  fi
fi

if [[ " $builds " == *" clang "* ]]; then
  echo "== clang build: ASan + UBSan, tests + fuzzers =="
  rm -rf build-clang
  # RelWithDebInfo: a sanitizer's report names file and line.
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-clang "${common[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_CUDA=OFF -DEMBER_SANITIZE="address;undefined" \
    -DEMBER_BUILD_FUZZERS=ON -DEMBER_BUILD_BENCHMARKS=OFF -DEMBER_FUZZ_SECONDS="${EMBER_FUZZ_SECONDS:-60}"
  cmake --build build-clang -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1 ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer \
    UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-clang --output-on-failure -j "$jobs"
fi

if [[ " $builds " == *" sim "* ]]; then
  echo "== cudasim build + tests =="
  rm -rf build-test
  cmake -S . -B build-test "${common[@]}" -DEMBER_CUDA=SIM
  cmake --build build-test -j "$jobs"
  ctest --test-dir build-test --output-on-failure -j "$jobs"
fi
