// CUDA devices from the public API: availability, synchronisation, the caching allocator's
// memory statistics, and events for timing GPU work. No CUDA header is included: these work
// (and report "no GPU") in a CPU-only build too, so programs pick the best device with one
// call and benchmarks time both devices with one Event class.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <ember/core/allocator.h>

namespace ember::cuda {

// Number of usable CUDA devices: 0 without a CUDA build, a driver or a GPU. Under cudasim
// (EMBER_CUDA=SIM) the simulator's one device counts.
int device_count();
bool is_available();  // device_count() > 0
// True when the CUDA device is cudasim, the CPU simulator (its timings are not a GPU's).
bool is_simulated();
// The device's name, e.g. "NVIDIA H100 80GB HBM3" (throws DeviceError if it does not exist).
std::string device_name(int device = 0);

// Waits for all queued work on every device ember has used (a no-op without CUDA).
void synchronize();

// The caching allocator of a device (bytes are rounded block sizes; see AllocatorStats).
int64_t memory_allocated(int device = 0);      // handed out to tensors now
int64_t max_memory_allocated(int device = 0);  // peak of memory_allocated
int64_t memory_reserved(int device = 0);       // held from cudaMalloc (in use + cached)
void reset_peak_memory_stats(int device = 0);
// Returns every cached, fully free segment to the driver (cudaFree), and the idle pinned host
// memory of the device's staging.
void empty_cache(int device = 0);
AllocatorStats memory_stats(int device = 0);

// The pinned host memory a device stages its host<->device copies through: copies go through
// it in chunks of at most 4 MiB, and a copy waits for the GPU only when the limit is reached
// (blocks in use plus copies in flight). Default 64 MiB per device, or EMBER_CUDA_STAGING_MB;
// set_staging_limit throws ValueError below 64 KiB.
void set_staging_limit(int64_t bytes, int device = 0);
int64_t staging_limit(int device = 0);
int64_t staging_bytes(int device = 0);      // held now
int64_t max_staging_bytes(int device = 0);  // held at most so far

// How often ember has made the host wait for `device` (copies to the host, synchronize(),
// and with eager checks every checked op). 0 for a device never used.
int64_t host_syncs(int device = 0);

// What ember has asked of the GPUs since the program started, all devices together. A
// benchmark takes a snapshot before and after the work it measures and subtracts
// (ember-bench --counters). Work a CUDA graph replays counts once, when captured; each replay
// is one graph launch. All zero without CUDA.
struct Counters {
  int64_t launches = 0;        // kernel launches and cuBLAS calls made from the host
  int64_t graph_launches = 0;  // replays of captured graphs (cuda::Graph::replay)
  int64_t syncs = 0;           // host waits for a device (host_syncs(), every device)
  int64_t raw_allocs = 0;      // cudaMalloc calls of the caching allocators
  int64_t h2d_bytes = 0;       // bytes copied host to device
  int64_t d2h_bytes = 0;       // device to host
  int64_t d2d_bytes = 0;       // within a device and between devices
};
Counters counters();
Counters operator-(const Counters& after, const Counters& before);

// Bad class targets (cross_entropy, nll_loss) and gather / scatter_add indices are found on
// the GPU and thrown as ember::IndexError at the next point where ember waits for that
// device -- item(), to(cpu), printing, synchronize() -- so a training step never waits for
// them. With eager checks on, each such op waits and throws at the call instead: slower,
// for debugging. Off by default; EMBER_CUDA_EAGER_CHECKS=1 in the environment turns it on.
void set_eager_checks(bool on);
bool eager_checks();

// Marks a point in a device's stream for timing GPU work:
//   cuda::Event start, stop;  start.record();  ...queue work...  stop.record();
//   stop.synchronize();  float ms = start.elapsed_ms(stop);
// Backed by a cudaEvent on the device's stream when CUDA is available; otherwise (CPU-only
// build or no GPU) it records host wall-clock time at record(), so the same benchmark code
// times CPU work. Under cudasim the events measure the simulator's host time.
class Event {
 public:
  explicit Event(int device = 0);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record();
  // Waits until the work queued before record() has finished (a host-device sync).
  void synchronize();
  // Milliseconds from this event to `end`; both recorded, `end` completed.
  float elapsed_ms(const Event& end) const;

 private:
  int device_;
  void* event_ = nullptr;  // cudaEvent_t when CUDA is available
  bool recorded_ = false;
  std::chrono::steady_clock::time_point host_time_;
};

}  // namespace ember::cuda
