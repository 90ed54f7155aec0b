// ember-bench --counters (counters_bench.cpp).
#pragma once

namespace ember_bench {

// Prints the device work of one training step of the default MLP at batch 256, eager and as
// a CUDA graph replay, for Adam and SGD; on a GPU also the step times. Returns the exit code.
int run_counters_benchmark();

}  // namespace ember_bench
