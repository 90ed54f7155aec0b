// ember::cuda: device queries, synchronisation, memory statistics and events. Talks to the
// GPU through kernels/cuda's plain-C++ headers and the CUDA backend, and only when a CUDA mode
// is built (EMBER_WITH_CUDA); otherwise every query answers "no GPU".
#include <ember/core/cuda.h>

#include <atomic>

#include <ember/core/backend.h>
#include <ember/core/error.h>

#if defined(EMBER_WITH_CUDA)
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/counters.h>
#include <ember/kernels/cuda/device.h>
#include <ember/kernels/cuda/memory.h>
#endif

namespace ember {

namespace cuda {
namespace {

// cuda:device's allocator if something has used the device, else nullptr: a query about an
// unused GPU answers zero rather than creating its context, stream and memory. A device that
// does not exist throws as backend() does.
CachingAllocator* allocator_if_used(int device) {
  if (CachingAllocator* a = device_allocator_if_used(Device::cuda(device))) return a;
  if (device < 0 || device >= device_count()) (void)backend(Device::cuda(device));  // throws
  return nullptr;
}

AllocatorStats stats_of(int device) {
  const CachingAllocator* a = allocator_if_used(device);
  return a != nullptr ? a->stats() : AllocatorStats{};
}

}  // namespace

int device_count() {
#if defined(EMBER_WITH_CUDA)
  return kernels::cuda::device_count();
#else
  return 0;
#endif
}

bool is_available() {
  return device_count() > 0;
}

bool is_simulated() {
#if defined(EMBER_WITH_CUDA)
  return kernels::cuda::is_simulated();
#else
  return false;
#endif
}

std::string device_name(int device) {
  EMBER_CHECK(device >= 0 && device < device_count(), DeviceError, "cuda::device_name: device ",
              device, " does not exist (", device_count(), " CUDA device(s))");
#if defined(EMBER_WITH_CUDA)
  return kernels::cuda::device_properties(device).name;
#else
  return {};
#endif
}

void synchronize() {
  const int n = device_count();
  // Only devices in use: creating a backend on an unused GPU would cost it a context.
  for (int d = 0; d < n; ++d) {
    if (Backend* b = backend_if_used(Device::cuda(d))) b->synchronize();
  }
}

int64_t memory_allocated(int device) {
  return stats_of(device).allocated_bytes;
}

int64_t max_memory_allocated(int device) {
  return stats_of(device).peak_allocated_bytes;
}

int64_t memory_reserved(int device) {
  return stats_of(device).reserved_bytes;
}

void reset_peak_memory_stats(int device) {
  if (CachingAllocator* a = allocator_if_used(device)) a->reset_peak_stats();
}

namespace {

// The device's pinned staging; without a CUDA backend, an object whose every use throws.
#if defined(EMBER_WITH_CUDA)
kernels::cuda::PinnedStaging& staging_of(int device) {
  return static_cast<kernels::cuda::CudaBackend&>(backend(Device::cuda(device))).staging();
}
#else
struct NoStaging {
  [[noreturn]] static NoStaging& of(int device) {
    throw DeviceError(detail::str_cat("cuda:", device,
                                      " has no pinned staging: this build of ember has no "
                                      "CUDA backend"));
  }
  void set_limit(size_t) {}
  size_t limit() const { return 0; }
  size_t held_bytes() const { return 0; }
  size_t peak_held_bytes() const { return 0; }
};
NoStaging& staging_of(int device) {
  return NoStaging::of(device);
}
#endif

}  // namespace

void empty_cache(int device) {
  CachingAllocator* a = allocator_if_used(device);
  if (a == nullptr) return;  // nothing is cached on an unused device
  a->empty_cache();
#if defined(EMBER_WITH_CUDA)
  staging_of(device).release_idle();
#endif
}

void set_staging_limit(int64_t bytes, int device) {
  EMBER_CHECK(bytes > 0, ValueError, "cuda::set_staging_limit: ", bytes, " bytes");
  staging_of(device).set_limit(static_cast<size_t>(bytes));
}

int64_t staging_limit(int device) {
#if defined(EMBER_WITH_CUDA)
  if (allocator_if_used(device) == nullptr)
    return static_cast<int64_t>(kernels::cuda::PinnedStaging::initial_limit());
#endif
  return static_cast<int64_t>(staging_of(device).limit());
}

int64_t staging_bytes(int device) {
  if (allocator_if_used(device) == nullptr) return 0;
  return static_cast<int64_t>(staging_of(device).held_bytes());
}

int64_t max_staging_bytes(int device) {
  if (allocator_if_used(device) == nullptr) return 0;
  return static_cast<int64_t>(staging_of(device).peak_held_bytes());
}

AllocatorStats memory_stats(int device) {
  return stats_of(device);
}

// Eager checks only change what the CUDA backend does; a build without one just keeps the flag.
#if !defined(EMBER_WITH_CUDA)
namespace {
std::atomic<bool> g_eager_checks{false};
}  // namespace
#endif

void set_eager_checks(bool on) {
#if defined(EMBER_WITH_CUDA)
  kernels::cuda::set_eager_checks(on);
#else
  g_eager_checks.store(on, std::memory_order_relaxed);
#endif
}

bool eager_checks() {
#if defined(EMBER_WITH_CUDA)
  return kernels::cuda::eager_checks();
#else
  return g_eager_checks.load(std::memory_order_relaxed);
#endif
}

int64_t host_syncs(int device) {
#if defined(EMBER_WITH_CUDA)
  if (device >= 0 && device < device_count()) {
    Backend* b = backend_if_used(Device::cuda(device));  // an unused device has waited for nothing
    return b != nullptr ? static_cast<kernels::cuda::CudaBackend*>(b)->host_syncs() : 0;
  }
#endif
  (void)device;
  return 0;
}

Counters counters() {
  Counters c;
#if defined(EMBER_WITH_CUDA)
  const kernels::cuda::WorkCounters w = kernels::cuda::work_counters();
  c.launches = w.kernel_launches + w.library_calls;
  c.graph_launches = w.graph_launches;
  c.h2d_bytes = w.h2d_bytes;
  c.d2h_bytes = w.d2h_bytes;
  c.d2d_bytes = w.d2d_bytes;
  for (int d = 0; d < device_count(); ++d) {
    c.syncs += host_syncs(d);
    if (const CachingAllocator* a = device_allocator_if_used(Device::cuda(d)))
      c.raw_allocs += a->stats().raw_alloc_calls;
  }
#endif
  return c;
}

Counters operator-(const Counters& after, const Counters& before) {
  return Counters{after.launches - before.launches,   after.graph_launches - before.graph_launches,
                  after.syncs - before.syncs,         after.raw_allocs - before.raw_allocs,
                  after.h2d_bytes - before.h2d_bytes, after.d2h_bytes - before.d2h_bytes,
                  after.d2d_bytes - before.d2d_bytes};
}

// ---------------------------------------------------------------------------------------
// Event

Event::Event(int device) : device_(device) {
  const int n = device_count();
  if (n == 0) return;  // no GPU: host wall-clock
  EMBER_CHECK(device >= 0 && device < n, DeviceError, "cuda::Event: device ", device,
              " does not exist (", n, " CUDA device(s))");
#if defined(EMBER_WITH_CUDA)
  kernels::cuda::ensure_device(device);
  event_ = kernels::cuda::event_create();
#endif
}

Event::~Event() {
#if defined(EMBER_WITH_CUDA)
  if (event_ != nullptr) {
    try {
      kernels::cuda::event_destroy(event_);
    } catch (const Error&) {
      // A destructor must not throw; a failing runtime at this point has failed louder before.
    }
  }
#endif
}

void Event::record() {
  recorded_ = true;
  host_time_ = std::chrono::steady_clock::now();
#if defined(EMBER_WITH_CUDA)
  if (event_ != nullptr) {
    kernels::cuda::ensure_device(device_);
    kernels::cuda::event_record(event_, kernels::cuda::current_stream(device_));
  }
#endif
}

void Event::synchronize() {
  EMBER_CHECK(recorded_, ValueError, "cuda::Event::synchronize: the event was never recorded");
#if defined(EMBER_WITH_CUDA)
  if (event_ != nullptr) kernels::cuda::event_synchronize(event_);
#endif
}

float Event::elapsed_ms(const Event& end) const {
  EMBER_CHECK(recorded_ && end.recorded_, ValueError,
              "cuda::Event::elapsed_ms: both events must be recorded first");
#if defined(EMBER_WITH_CUDA)
  if (event_ != nullptr && end.event_ != nullptr)
    return kernels::cuda::event_elapsed_ms(event_, end.event_);
#endif
  return std::chrono::duration<float, std::milli>(end.host_time_ - host_time_).count();
}

}  // namespace cuda
}  // namespace ember
