// What ember has asked of the GPUs, counted on the host for all devices together: kernel
// launches, cuBLAS calls, graph launches and the bytes each kind of copy moved. core's
// cuda::counters() (core/cuda.h) adds the host waits and raw allocations; benchmarks take two
// snapshots and subtract. Work a CUDA graph replays is not counted again: the replay is one
// graph launch. CUB's device-wide algorithms count their kernels as cudasim does
// (DeviceReduce two, DeviceSegmentedRadixSort one), so a SIM build's counts match cudasim's.
#pragma once

#include <atomic>
#include <cstdint>

namespace ember::kernels::cuda {

struct WorkCounters {
  int64_t kernel_launches = 0;
  int64_t library_calls = 0;  // cuBLAS
  int64_t graph_launches = 0;
  int64_t h2d_bytes = 0;
  int64_t d2h_bytes = 0;
  int64_t d2d_bytes = 0;  // within a device and between devices
};

namespace detail {

enum class Counter { kKernelLaunches, kLibraryCalls, kGraphLaunches, kH2D, kD2H, kD2D, kCount };

inline std::atomic<int64_t> g_work_counters[static_cast<int>(Counter::kCount)];

inline void count(Counter c, int64_t n = 1) {
  g_work_counters[static_cast<int>(c)].fetch_add(n, std::memory_order_relaxed);
}

}  // namespace detail

inline WorkCounters work_counters() {
  auto get = [](detail::Counter c) {
    return detail::g_work_counters[static_cast<int>(c)].load(std::memory_order_relaxed);
  };
  using detail::Counter;
  return WorkCounters{get(Counter::kKernelLaunches),
                      get(Counter::kLibraryCalls),
                      get(Counter::kGraphLaunches),
                      get(Counter::kH2D),
                      get(Counter::kD2H),
                      get(Counter::kD2D)};
}

}  // namespace ember::kernels::cuda
