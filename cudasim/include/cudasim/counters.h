// cudasim counters: what the simulated device was asked to do, for tests and benchmarks that
// assert on costs a GPU would have ("a training step makes no raw allocation", "no hidden
// host-device sync", "one launch per fused op"). All counts are since the last reset_counters().
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace cudasim {

struct Counters {
  int64_t kernel_launches = 0;                        // launches that ran (valid configuration)
  std::map<std::string, int64_t> launches_by_kernel;  // keyed by the name given to the launcher
  int64_t device_allocations = 0;                     // successful cudaMalloc calls
  int64_t device_frees = 0;                           // successful cudaFree calls (non-null)
  // Points where the host waits for the device: cudaDeviceSynchronize, cudaStreamSynchronize,
  // cudaEventSynchronize, synchronous cudaMemcpy to or from the host, cudaMemcpyAsync into
  // pageable (not cudaMallocHost) host memory, which the real runtime makes synchronous, and
  // cudaFree, which synchronises the device on real GPUs.
  int64_t host_syncs = 0;
  int64_t bytes_h2d = 0;     // cudaMemcpy/cudaMemcpyAsync, host to device
  int64_t bytes_d2h = 0;     // device to host
  int64_t bytes_d2d = 0;     // device to device
  int64_t cublas_calls = 0;  // GEMM calls that ran (a strided batch counts once)
  // Of those, float32 GEMMs allowed to round inputs to TF32 (a handle in
  // CUBLAS_TF32_TENSOR_OP_MATH, cuBLASLt's CUBLAS_COMPUTE_32F_FAST_TF32). cudasim computes them
  // in full FP32 all the same.
  int64_t tf32_gemms = 0;
  // Host calls only: work recorded by a stream capture counts above once, when it is captured;
  // its replays count here, one per cudaGraphLaunch, with the pieces of work they replayed.
  int64_t graph_launches = 0;
  int64_t graph_nodes_run = 0;
};

// A snapshot of the counters.
Counters counters();
void reset_counters();
// Launches of one kernel name since the last reset (0 if never launched).
int64_t launches_of(const std::string& kernel_name);

}  // namespace cudasim
