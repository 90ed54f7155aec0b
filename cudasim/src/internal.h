// cudasim internals shared by the runtime, memory, scheduler and cuBLAS parts. Every public
// entry point takes the one API mutex: the simulated device runs one thing at a time, which is
// what makes plain read-modify-writes valid atomics and blocks deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
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
// "" when [ptr, ptr + bytes) lies in one live allocation and crosses no guard; else why not.
std::string check_device_range(const void* ptr, size_t bytes);
// Makes device memory readable and writable for the lifetime of the object: every live
// allocation (kernels, cuBLAS) or the one holding `ptr` (copies, sets; nullptr: none). Nests.
class DeviceAccess {
 public:
  DeviceAccess();
  explicit DeviceAccess(const void* ptr);
  ~DeviceAccess();
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;

 private:
  bool all_;
  const void* ptr_;
};
// Checks every allocation guard and sub-block guard (device memory must be accessible);
// returns a description of the first damage found ("" if none) and re-arms damaged guards so
// one overrun is reported once.
std::string check_all_guards();
bool in_device_arena(uintptr_t address);

// ---- streams (runtime.cpp) -----------------------------------------------------------------
bool stream_is_valid(cudaStream_t stream);  // the default stream or a live created one

// ---- faults (fault.cpp) --------------------------------------------------------------------
// Installs the SIGSEGV/SIGBUS reporter once: a crash on device memory or a fiber stack is
// explained (host dereference of a device pointer, kernel out of bounds, stack overflow)
// before the process dies as it would have anyway.
void install_fault_reporter();
extern const char* volatile running_kernel;  // set for the duration of a launch

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
