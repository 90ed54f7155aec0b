// cudasim internals shared by the runtime, memory, scheduler and cuBLAS parts. Every public
// entry point takes the one API mutex: the simulated device runs one thing at a time, which is
// what makes plain read-modify-writes valid atomics and blocks deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#if defined(__x86_64__) && !defined(CUDASIM_FORCE_UCONTEXT)
#define CUDASIM_ASM_FIBERS 1
#else
#define CUDASIM_ASM_FIBERS 0
#include <ucontext.h>
#endif

#include "cuda_runtime.h"
#include "cudasim/counters.h"

namespace cudasim::detail {

std::recursive_mutex& api_mutex();
using ApiLock = std::lock_guard<std::recursive_mutex>;

// Records `code` (and why) as this host thread's last error, as the runtime does for any
// failing call, and returns it. cudaSuccess is returned unrecorded.
cudaError_t set_error(cudaError_t code, std::string detail = {});
void set_detail(std::string detail);  // for cuBLAS failures, which have no runtime error code

Counters& mutable_counters();

std::string strprintf(const char* format, ...) __attribute__((format(printf, 1, 2)));

// ---- memory (memory.cpp) -------------------------------------------------------------------
enum class Space { kDevice, kPinnedHost, kHost };
Space classify(const void* ptr);
// The device whose live allocation holds `ptr` (its user bytes or one past them), or -1.
int device_of(const void* ptr);
// "" when [ptr, ptr + bytes) lies in one live allocation and crosses no guard; else why not.
std::string check_device_range(const void* ptr, size_t bytes);
// Makes device memory readable and writable for the lifetime of the object: every live
// allocation of one device (kernels, cuBLAS) or the one holding `ptr` (copies, sets; nullptr:
// none). Nests.
class DeviceAccess {
 public:
  enum OneDevice { kDevice };
  DeviceAccess(OneDevice, int device);
  explicit DeviceAccess(const void* ptr);
  ~DeviceAccess();
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;

 private:
  int device_;  // >= 0: every allocation of the device; -1: the one holding ptr_
  const void* ptr_;
};
// Checks every allocation guard and sub-block guard of `device` (its memory must be
// accessible); returns a description of the first damage found ("" if none) and re-arms
// damaged guards so one overrun is reported once.
std::string check_device_guards(int device);
bool in_device_arena(uintptr_t address);

// ---- devices and streams (runtime.cpp) -----------------------------------------------------
bool stream_is_valid(cudaStream_t stream);  // the default stream or a live created one
int current_device();                       // this host thread's, as cudaGetDevice says
// The device a stream belongs to (the legacy default stream: the current device).
int stream_device(cudaStream_t stream);
// Notes that the program now has a context on `device` (cudasim::has_context).
void touch_context(int device);
inline constexpr int kMaxDevices = 8;

// ---- modes and deferred work (queue.cpp) ----------------------------------------------------
// What a piece of device work reports when it runs: cudaSuccess, or a failure and why.
struct Outcome {
  cudaError_t code = cudaSuccess;
  std::string detail;
};
using Work = std::function<Outcome()>;
// Outside deferred mode: runs `work` at once and returns its outcome (recorded as the last
// error when it fails). In deferred mode: queues it behind everything submitted so far and
// returns cudaSuccess; it belongs to `stream` (kAnyStream: bookkeeping ordered after all
// earlier work, such as the caching allocator's guards).
cudaError_t submit(cudaStream_t stream, Work work);
extern const cudaStream_t kAnyStream;
// Runs queued work in submission order up to the last item of `stream` (nullptr, the legacy
// stream, waits for everything), up to the item numbered `seq`, or all of it. Returns the
// first failure among what ran (recorded as the last error), else cudaSuccess. No-ops when
// nothing is queued.
cudaError_t flush_stream(cudaStream_t stream);
cudaError_t flush_through(uint64_t seq);
cudaError_t flush_all();
// The number of `stream`'s last queued (not yet run) item, 0 when none is queued.
uint64_t pending_through(cudaStream_t stream);
// The number of the most recent submission (0: none yet), and whether it has run.
uint64_t last_submission();
bool has_run(uint64_t seq);
// How many launches have been submitted, for the shuffled block order's seed.
uint64_t next_launch_number();

// ---- stream capture and graphs (graph.cpp) ------------------------------------------------
// Whether `stream` is capturing (then submit() records its work instead of running it).
bool is_capturing(cudaStream_t stream);
// Appends `work` to the capture of `stream` (which is capturing); fails with
// cudaErrorStreamCaptureInvalidated once the capture has been invalidated.
cudaError_t capture_work(cudaStream_t stream, Work work);
// For a call that breaks a capture: a raw allocation or free, a device-wide wait, a
// synchronous copy or set (`stream` nullptr), or one that must wait for `stream` or touch
// pageable memory in its order. cudaSuccess when no capture forbids it now; otherwise
// invalidates every capture that does and fails with cudaErrorStreamCaptureUnsupported, the
// detail naming `api` and the capture.
// `every_stream`: the call waits for all streams (cudaDeviceSynchronize), which conflicts with
// every capture whatever its mode.
cudaError_t check_capture_allows(const char* api, cudaStream_t stream = nullptr,
                                 bool every_stream = false);
// Forgets the capture of a destroyed stream.
void forget_capture(cudaStream_t stream);

// ---- faults (fault.cpp) --------------------------------------------------------------------
// Installs the SIGSEGV/SIGBUS reporter once: a crash on device memory or a fiber stack is
// explained (host dereference of a device pointer, kernel out of bounds, stack overflow)
// before the process dies as it would have anyway.
void install_fault_reporter();
extern const char* volatile running_kernel;  // set for the duration of a launch
extern volatile int running_device;          // the running launch's device

// ---- fibers (fiber.cpp) --------------------------------------------------------------------
inline constexpr int kMaxBlockThreads = 1024;
inline constexpr size_t kFiberStackBytes = 64 * 1024;
// x86-64: a saved stack pointer (the callee-saved registers sit on that stack). Elsewhere the
// portable, slower ucontext (swapcontext makes a signal-mask syscall per switch).
struct FiberContext {
#if CUDASIM_ASM_FIBERS
  void* sp = nullptr;
#else
  ucontext_t uc;
#endif
};
// Prepares `ctx` to start `entry(arg)` on the stack of pool slot `slot` at the next switch.
void fiber_prepare(FiberContext& ctx, int slot, void (*entry)(void*), void* arg);
// Saves the running context into `from` and resumes `to`.
void fiber_switch(FiberContext& from, FiberContext& to);
bool in_fiber_guard_page(uintptr_t address);

}  // namespace cudasim::detail
