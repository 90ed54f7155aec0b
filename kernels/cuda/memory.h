// The CUDA runtime as core/ sees it: devices, the current stream of each device, raw device
// and pinned-host allocations, asynchronous copies and sets, events, and the guard hooks the
// caching allocator calls under cudasim. Plain functions over void* handles, so core/ (which
// owns the caching allocator and must not include CUDA headers) can drive the GPU.
//
// Note [Current stream]
// ~~~~~~~~~~~~~~~~~~~~~
// ember queues all of a device's work on one stream per device, created lazily with
// cudaStreamNonBlocking on first use (current_stream). A non-blocking stream, not the legacy
// default stream, because the legacy stream implicitly serialises with every other blocking
// stream in the process (another library's, a user's data-loading stream) and would make such
// overlap impossible. The price: nothing in ember may use the default stream implicitly; no
// synchronous cudaMemcpy, every launch, copy, set, cuBLAS and CUB call names the stream. The
// caching allocator keys its free lists by this stream, so a block freed by one step's kernels
// is only reused by work queued after them on the same stream, which is what makes reuse safe
// without waiting for the GPU.
//
// Note [Current device]
// ~~~~~~~~~~~~~~~~~~~~~
// Every CUDA entry point makes its tensors' device current first (ensure_device, which asks
// the runtime rather than trusting a cache, so a cudaSetDevice of the program's own is
// noticed) and leaves it current afterwards. Nothing is restored: switching back would create
// a context, hundreds of MiB on a GPU, on a device the thread may never have used (a fresh
// thread's current device is 0 without any context). A thread that works on cuda:1 only thus
// never touches GPU 0, and a program mixing its own CUDA calls with ember's should set its
// device before each of its own calls, as it must with any library that uses several GPUs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ember::kernels::cuda {

struct DeviceProperties {
  std::string name;
  size_t total_memory = 0;
  int multiprocessors = 0;
  int major = 0;  // compute capability
  int minor = 0;
  int max_threads_per_block = 0;
  size_t shared_memory_per_block = 0;
};

// cudaSetDevice / cudaGetDevice; set_device throws CudaError for a bad ordinal.
void set_device(int device);
int current_device();
// Makes `device` current on this thread unless the runtime says it already is (Note [Current
// device]).
void ensure_device(int device);
DeviceProperties device_properties(int device);
// True when this build runs on cudasim (the CPU simulator), not a GPU.
bool is_simulated();

// The stream ember queues `device`'s work on (a cudaStream_t; Note [Current stream]).
void* current_stream(int device);
void stream_synchronize(void* stream);

// cudaMalloc on the current device (see ensure_device); nullptr when the device is out of memory
// (the runtime's error is cleared: the caching allocator frees its cache and retries). Other
// failures throw.
void* device_malloc(size_t nbytes);
void device_free(void* ptr);
// Page-locked host memory (cudaMallocHost): the only host memory copies can be asynchronous
// with. nullptr when exhausted.
void* pinned_malloc(size_t nbytes);
void pinned_free(void* ptr);

// Asynchronous on `stream`. Host pointers must be pinned for the copy to be truly
// asynchronous (a pageable host pointer makes the runtime block, and the caller could then
// reuse it at once; ember only passes pinned staging buffers).
void memcpy_h2d_async(void* dst_device, const void* src_host, size_t nbytes, void* stream);
void memcpy_d2h_async(void* dst_host, const void* src_device, size_t nbytes, void* stream);
void memcpy_d2d_async(void* dst_device, const void* src_device, size_t nbytes, void* stream);
// Between two devices (each side's memory on the named device), on `stream`.
void memcpy_peer_async(void* dst, int dst_device, const void* src, int src_device, size_t nbytes,
                       void* stream);
// Sets nbytes of device memory to the byte `value`.
void memset_async(void* dst_device, int value, size_t nbytes, void* stream);

// Events (cudaEvent_t as void*), for benchmarks and for knowing when a staging buffer's copy
// is done. Only timing events record timestamps (which costs the GPU a little).
void* event_create(bool timing = true);
void event_destroy(void* event);
void event_record(void* event, void* stream);
void event_synchronize(void* event);
// Makes `stream`'s later work wait for the work before the event's record (no host wait).
void stream_wait_event(void* stream, void* event);
// True when the work before the event's record has completed (cudaEventQuery).
bool event_query(void* event);
// Milliseconds between two recorded, completed events.
float event_elapsed_ms(void* start, void* end);

// Under cudasim: declares [ptr, ptr + usable) a block the caching allocator carved out of a
// device segment, followed by `guard` bytes no kernel may write (checked after every launch),
// and forgets it again. No-ops on a real GPU.
void register_block_guard(void* ptr, size_t usable, size_t guard);
void unregister_block_guard(void* ptr);

}  // namespace ember::kernels::cuda
