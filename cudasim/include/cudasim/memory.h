// cudasim memory hooks beyond the CUDA API: guards for blocks carved out of a cudaMalloc
// segment by ember's caching allocator, and knobs tests use to provoke device-side conditions.
#pragma once

#include <cstddef>

namespace cudasim {

// Declares [ptr, ptr + usable) a block handed out from inside a cudaMalloc allocation, followed
// by `guard` bytes nobody may write. The block is filled with the NaN pattern (0xFF bytes), as a
// fresh cudaMalloc is, and the guard with the guard pattern; the guard is checked after every
// launch (an overrun fails that launch, naming the kernel), on unregister and on cudaFree. In
// deferred mode the fill and the checks wait, in order, behind the work queued before them.
// Throws std::invalid_argument when the range is not inside one live device allocation or
// overlaps a block already registered.
void register_subblock_guard(void* ptr, size_t usable, size_t guard);
// Checks the guard one last time and forgets it. Returns false when the guard was overwritten
// (cudasim::last_error_detail() then says how); it does not throw for that, because it is
// called on deallocation paths that run in destructors. Launches, copies, sets and cuBLAS
// calls already check guards, so this is a last line of defence. Throws std::invalid_argument
// for a pointer that was not registered. In deferred mode the check is queued and a damaged
// guard is reported by the call that runs it.
bool unregister_subblock_guard(void* ptr);

// How host code is kept out of device memory: "pkey" (x86 memory protection keys, chosen
// when available) or "mprotect" (elsewhere, or forced with CUDASIM_PROTECTION=mprotect).
const char* protection_mechanism();

// True when ptr lies inside a live cudaMalloc allocation.
bool is_device_pointer(const void* ptr);

// Page-locked host memory (cudaMallocHost): the bytes allocated now and at most since the last
// reset, and a limit past which cudaMallocHost fails with cudaErrorMemoryAllocation (default:
// none), as a real machine's would once pinning starves the rest of the system.
size_t pinned_bytes();
size_t peak_pinned_bytes();
void reset_peak_pinned_bytes();
void set_pinned_memory_limit(size_t bytes);

// Device memory of each device, reported by cudaGetDeviceProperties / cudaMemGetInfo and
// enforced by cudaMalloc (default 16 GiB). Tests lower it to exercise out-of-memory paths.
void set_device_memory_limit(size_t bytes);
size_t device_memory_limit();

}  // namespace cudasim
