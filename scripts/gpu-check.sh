#!/usr/bin/env bash
# scripts/gpu-check.sh [--sim] [--quick]: everything ember can check only on a real GPU, in one
# command, for the day a machine with an NVIDIA GPU and the CUDA toolkit is at hand (for
# example the H200 machine the project's `device` tool lends). In at most about 8 minutes:
#   1. configure for the present GPU's architecture only (nvidia-smi's compute capability);
#   2. build with every core;
#   3. ctest: every case, the "/cuda" and "cuda/..." ones on the GPU (none may be skipped);
#   4. compute-sanitizer (memcheck, racecheck, synccheck, initcheck) over the CUDA cases of the
#      integration suite (the op harness on the device, the tutorial ops' parity tests);
#   5. ember-bench (the op families and a training step, CPU vs GPU; CSV and PNG), and
#      ember-bench --counters (one step's launches, syncs and copies, and its time eager vs
#      replayed as a CUDA graph);
#   6. train_mlp --device cuda for 10 epochs, with its default CUDA graph and with
#      --no-cuda-graph (needs Fashion-MNIST; skipped without it).
# The report folder ($OUT when set, else gpu-check-report/) gets one log per step and
# summary.txt: one line per step with its verdict (PASS, FAIL or SKIP) and figures. The exit
# status is 0 only if no step failed.
#
# Without an NVIDIA GPU and driver it stops at once with exit status 3 and says so: it must
# never look like a pass. --sim runs the same steps against the cudasim build instead
# (EMBER_CUDA=SIM; no compute-sanitizer, one epoch), so the script itself is tested on
# machines without a GPU. --quick shortens the benchmark. It installs nothing: the machine
# needs CMake, a C++20 compiler, GoogleTest and (for the CPU GEMM) oneDNN or OpenBLAS, as
# scripts/install-deps.sh would install them.
set -uo pipefail
cd "$(dirname "$0")/.."

sim=0
quick=0
for arg in "$@"; do
  case "$arg" in
    --sim) sim=1 ;;
    --quick) quick=1 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check.sh: unknown option '$arg' (expected --sim, --quick)" >&2; exit 2 ;;
  esac
done

out=${OUT:-gpu-check-report}
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary=$out/summary.txt
: > "$summary"
failed=0
note() { echo "$*" | tee -a "$summary"; }

# step NAME TIMEOUT_S CMD...: runs CMD with its output in $out/NAME.log; records the verdict.
step() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS rc=0
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1 || rc=$?
  local secs=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then
    verdict=PASS
  else
    verdict=FAIL
    failed=1
    [ $rc -eq 124 ] && verdict="FAIL (timed out after ${limit} s)"
  fi
  last_rc=$rc
  last_secs=$secs
}

for tool in cmake; do
  command -v "$tool" >/dev/null 2>&1 || { echo "gpu-check.sh: '$tool' is not installed" >&2; exit 2; }
done
export PATH="$PATH:/usr/local/cuda/bin"

if [ $sim -eq 0 ]; then
  if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L > "$out/nvidia-smi.log" 2>&1 ||
    ! grep -q '^GPU ' "$out/nvidia-smi.log"; then
    note "gpu-check: NO GPU -- no NVIDIA GPU or driver found (nvidia-smi -L: $(head -c 200 "$out/nvidia-smi.log" 2>/dev/null || echo 'not installed')). Nothing was checked; this is not a pass. (--sim runs the steps on cudasim.)"
    exit 3
  fi
  if ! command -v nvcc >/dev/null 2>&1; then
    note "gpu-check: NO CUDA TOOLKIT -- a GPU is present but nvcc is not (PATH or /usr/local/cuda/bin). Nothing was checked."
    exit 3
  fi
  gpu=$(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader | head -1)
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
  note "gpu-check: $gpu; building for sm_$arch; $(nvcc --version | tail -1)"
  build=build-gpu-check
  cuda_flags=(-DEMBER_CUDA=ON "-DEMBER_CUDA_ARCHITECTURES=$arch")
else
  note "gpu-check --sim: the cudasim build (no GPU is used; compute-sanitizer is skipped)"
  build=build-gpu-check-sim
  cuda_flags=(-DEMBER_CUDA=SIM)
fi
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
jobs=$(nproc)

# 1. configure
step configure 120 cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  "${cuda_flags[@]}" -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_EXAMPLES=ON -DEMBER_BUILD_BENCHMARKS=ON
note "configure: $verdict in ${last_secs} s ($build)"
if [ "$last_rc" -ne 0 ]; then
  note "gpu-check: cannot continue without a configured build; see $out/configure.log"
  exit 1
fi

# 2. build
step build 420 cmake --build "$build" -j "$jobs"
note "build: $verdict in ${last_secs} s with $jobs jobs"
if [ "$last_rc" -ne 0 ]; then
  note "gpu-check: cannot continue without a build; see $out/build.log"
  exit 1
fi

# 3. ctest: on a GPU no case may be skipped.
step ctest 420 ctest --test-dir "$build" -j "$jobs" --output-on-failure
tests=$(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1)
skipped=$(awk '/The following tests did not run/{f=1; next} f && /Skipped/{n++} END{print n+0}' "$out/ctest.log")
if [ $sim -eq 0 ] && [ "$skipped" -gt 0 ] && [ "$last_rc" -eq 0 ]; then
  verdict="FAIL ($skipped cases skipped on a machine with a GPU)"
  failed=1
fi
note "ctest: $verdict in ${last_secs} s: $tests; skipped: $skipped"

# 4. compute-sanitizer over the integration suite's CUDA cases.
filter='cuda/*:TutorialOpsCuda.*'
if [ $sim -eq 1 ]; then
  note "compute-sanitizer: SKIP (cudasim runs no GPU code)"
elif ! command -v compute-sanitizer >/dev/null 2>&1; then
  note "compute-sanitizer: FAIL (not found beside nvcc)"
  failed=1
else
  # 90 s per tool keeps the whole check near 8 minutes; a tool that runs out of time found
  # nothing in what it covered, which the summary says instead of calling it a failure.
  for tool in memcheck racecheck synccheck initcheck; do
    saved_failed=$failed
    step "sanitizer-$tool" 90 compute-sanitizer --tool "$tool" --error-exitcode 1 \
      "$build/tests/integration/integration_tests" "--gtest_filter=$filter"
    errors=$(grep -cE '^========= (Invalid|Race|Barrier|Uninitialized|.*[Ee]rror)' \
      "$out/sanitizer-$tool.log" || true)
    if [ "$last_rc" -eq 124 ] && [ "$errors" -eq 0 ]; then
      verdict="TIMEOUT (no finding in the cases it reached: $(grep -c '^\[       OK \]' \
        "$out/sanitizer-$tool.log") passed)"
      failed=$saved_failed
    fi
    note "compute-sanitizer $tool: $verdict in ${last_secs} s ($errors findings; --gtest_filter=$filter)"
  done
fi

# 5. ember-bench
bench_flags=(--out "$out/ember-bench")
[ $quick -eq 1 ] && bench_flags+=(--quick)
[ $sim -eq 1 ] && bench_flags+=(--quick --cudasim)
step ember-bench 240 "$build/benchmarks/ember-bench" "${bench_flags[@]}"
rows=$(grep -cE '^(elementwise|activation|matmul|bmm|softmax-CE|train step)' "$out/ember-bench.log" || true)
train_row=$(grep -E '^train step' "$out/ember-bench.log" | head -1 | tr -s ' ')
note "ember-bench: $verdict in ${last_secs} s ($rows rows; ${train_row:-no train step row}); $out/ember-bench/"
step ember-bench-counters 120 "$build/benchmarks/ember-bench" --counters
while read -r line; do note "  $line"; done < <(grep -E '^(counters|  (eager|graph) step)' \
  "$out/ember-bench-counters.log")
note "ember-bench --counters: $verdict in ${last_secs} s"

# 6. train_mlp on the device
data_dir=${EMBER_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
epochs=10
[ $sim -eq 1 ] && epochs=1
if [ ! -d "$data_dir" ]; then
  note "train_mlp: SKIP (no Fashion-MNIST at $data_dir; set EMBER_FASHION_MNIST_DIR)"
else
  step train_mlp 300 "$build/examples/train_mlp" --device cuda --epochs "$epochs" --data "$data_dir"
  result=$(grep -E '^done:' "$out/train_mlp.log" | tail -1)
  note "train_mlp --device cuda --epochs $epochs (CUDA graph): $verdict in ${last_secs} s (${result:-no result line})"
  step train_mlp_eager 300 "$build/examples/train_mlp" --device cuda --epochs "$epochs" \
    --data "$data_dir" --no-cuda-graph
  result=$(grep -E '^done:' "$out/train_mlp_eager.log" | tail -1)
  note "train_mlp --device cuda --epochs $epochs --no-cuda-graph: $verdict in ${last_secs} s (${result:-no result line})"
fi

if [ $failed -eq 0 ]; then note "gpu-check: ALL PASSED"; else note "gpu-check: SOME STEPS FAILED"; fi
exit $failed
