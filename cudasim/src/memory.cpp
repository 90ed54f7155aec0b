// cudasim device memory: allocations host code cannot touch, guard bytes, copies and sets.
//
// Every cudaMalloc is carved from one reserved range of address space (the "arena"), so the
// fault reporter can tell a device address from any other with two compares. An allocation is
//   [front guard 256 B][user bytes][back guard >= 256 B, to the page end][PROT_NONE page]
// and host code cannot touch any of it: a host dereference of a device pointer faults, as on a
// GPU. Launches, cuBLAS and the copy/set calls open device memory for their duration
// (DeviceAccess); a launch opens only its own device's allocations. Two mechanisms, chosen once:
//  - memory protection keys (x86 PKU), when the CPU and kernel have them: every allocation is
//    tagged with its device's key, whose access is denied to host threads; opening is one
//    WRPKRU on the calling thread, whatever the amount of memory. Other threads (OpenMP
//    workers, for one) never get access.
//  - mprotect, elsewhere (or with CUDASIM_PROTECTION=mprotect): allocations are PROT_NONE and
//    opened one mprotect each, which costs time in proportion to the pages they span.
// Freed memory is PROT_NONE under both, so a kernel using it faults too. Guards are checked
// after every launch, and copies and sets are range-checked up front, so an overrun is
// reported, not absorbed.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "cudasim/memory.h"
#include "cudasim/modes.h"
#include "internal.h"

namespace cudasim::detail {
namespace {

constexpr size_t kArenaBytes = size_t{64} << 30;  // address space only, never committed
constexpr size_t kFrontGuard = 256;               // keeps user pointers 256-byte aligned
constexpr size_t kMinBackGuard = 256;
constexpr unsigned char kGuardByte = 0xCD;
constexpr unsigned char kFreshByte = 0xFF;  // 0xFFFFFFFF is a float NaN

struct Allocation {
  char* base = nullptr;  // mapping start (front guard)
  size_t rw_bytes = 0;   // front guard + user + back guard; a PROT_NONE page follows
  char* user = nullptr;
  size_t size = 0;
  int device = 0;
  int access_depth = 0;  // open DeviceAccess scopes
};

struct SubBlock {  // a caching-allocator block inside an allocation
  char* user;
  size_t usable;
  size_t guard;
};

struct Memory {
  char* arena = nullptr;
  size_t page = 0;
  bool use_pkeys = false;                       // protection keys; else mprotect
  int pkey[kMaxDevices];                        // each device's key (-1: not allocated yet)
  std::map<size_t, size_t> free_ranges;         // arena offset -> bytes (page multiples)
  std::map<uintptr_t, Allocation> allocations;  // by user pointer
  // Caching-allocator blocks by block pointer, as the device sees them (the guards checked
  // after a launch) and as the host has declared them (what new declarations and range checks
  // see). They differ only in deferred mode, while guard updates wait in the queue.
  std::map<uintptr_t, SubBlock> sub_blocks;
  std::map<uintptr_t, SubBlock> declared_blocks;
  std::map<uintptr_t, size_t> pinned;  // cudaMallocHost blocks
  size_t used[kMaxDevices] = {};
  size_t limit = size_t{16} << 30;  // per device
  size_t pinned_used = 0;
  size_t pinned_peak = 0;
  size_t pinned_limit = SIZE_MAX;
};

volatile uintptr_t arena_lo = 0;  // published for the fault reporter
volatile uintptr_t arena_hi = 0;

Memory& mem() {
  static Memory* m = [] {
    auto* s = new Memory;  // never destroyed: late frees from static destructors stay valid
    s->page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* p =
        mmap(nullptr, kArenaBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      std::fprintf(stderr, "cudasim: cannot reserve %zu bytes of address space\n", kArenaBytes);
      std::abort();
    }
    s->arena = static_cast<char*>(p);
    s->free_ranges[0] = kArenaBytes;
    for (int& k : s->pkey) k = -1;
    const char* forced = std::getenv("CUDASIM_PROTECTION");
    if (forced == nullptr || std::strcmp(forced, "mprotect") != 0) {
      // Denied to this thread from the start; other threads start denied for any non-zero
      // key (Linux's initial PKRU).
      s->pkey[0] = pkey_alloc(0, PKEY_DISABLE_ACCESS);
      s->use_pkeys = s->pkey[0] >= 0;
    }
    arena_lo = reinterpret_cast<uintptr_t>(p);
    arena_hi = arena_lo + kArenaBytes;
    return s;
  }();
  return *m;
}

char* reserve(Memory& m, size_t bytes) {
  for (auto it = m.free_ranges.begin(); it != m.free_ranges.end(); ++it) {
    if (it->second < bytes) continue;
    const size_t offset = it->first;
    const size_t rest = it->second - bytes;
    m.free_ranges.erase(it);
    if (rest > 0) m.free_ranges[offset + bytes] = rest;
    return m.arena + offset;
  }
  return nullptr;
}

void release(Memory& m, char* p, size_t bytes) {
  size_t offset = static_cast<size_t>(p - m.arena);
  auto next = m.free_ranges.lower_bound(offset);
  if (next != m.free_ranges.end() && offset + bytes == next->first) {
    bytes += next->second;
    next = m.free_ranges.erase(next);
  }
  if (next != m.free_ranges.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      prev->second += bytes;
      return;
    }
  }
  m.free_ranges[offset] = bytes;
}

void protect(const Allocation& a, int prot) {
  if (mprotect(a.base, a.rw_bytes, prot) != 0) {
    std::fprintf(stderr, "cudasim: mprotect failed on device memory\n");
    std::abort();
  }
}

thread_local int pkey_access_depth[kMaxDevices] = {};  // open scopes per key on this thread

void open_key(Memory& m, int device) {
  if (pkey_access_depth[device]++ == 0) pkey_set(m.pkey[device], 0);
}
void close_key(Memory& m, int device) {
  if (--pkey_access_depth[device] == 0) pkey_set(m.pkey[device], PKEY_DISABLE_ACCESS);
}

// The key of `device`, allocated on its first allocation.
int device_pkey(Memory& m, int device) {
  if (m.pkey[device] < 0) {
    m.pkey[device] = pkey_alloc(0, PKEY_DISABLE_ACCESS);
    if (m.pkey[device] < 0) {
      std::fprintf(stderr, "cudasim: no memory protection key left for device %d\n", device);
      std::abort();
    }
  }
  return m.pkey[device];
}

void open_device(Memory& m, int device) {
  if (m.use_pkeys) {
    if (m.pkey[device] >= 0) open_key(m, device);
    return;
  }
  for (auto& [key, a] : m.allocations) {
    if (a.device == device && a.access_depth++ == 0) protect(a, PROT_READ | PROT_WRITE);
  }
}
void close_device(Memory& m, int device) {
  if (m.use_pkeys) {
    if (m.pkey[device] >= 0) close_key(m, device);
    return;
  }
  for (auto& [key, a] : m.allocations) {
    if (a.device == device && --a.access_depth == 0) protect(a, PROT_NONE);
  }
}
void open(Memory& m, Allocation& a) {
  if (m.use_pkeys) {
    open_key(m, a.device);
  } else if (a.access_depth++ == 0) {
    protect(a, PROT_READ | PROT_WRITE);
  }
}
void close(Memory& m, Allocation& a) {
  if (m.use_pkeys) {
    close_key(m, a.device);
  } else if (--a.access_depth == 0) {
    protect(a, PROT_NONE);
  }
}

// The live allocation whose user bytes (or one-past-the-end) contain p, or nullptr.
Allocation* find(Memory& m, const void* p) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  auto it = m.allocations.upper_bound(addr);
  if (it == m.allocations.begin()) return nullptr;
  --it;
  Allocation& a = it->second;
  return addr <= reinterpret_cast<uintptr_t>(a.user) + a.size ? &a : nullptr;
}

size_t first_mismatch(const char* p, size_t n, unsigned char byte) {
  uint64_t pattern;
  std::memset(&pattern, byte, sizeof(pattern));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word != pattern) break;
  }
  for (; i < n; ++i) {
    if (static_cast<unsigned char>(p[i]) != byte) return i;
  }
  return n;
}

// Checks (and re-arms) one guard; returns "" or what happened. Memory must be accessible.
std::string check_guard(char* guard, size_t bytes, const char* what, const void* block,
                        size_t block_size, bool before) {
  const size_t bad = first_mismatch(guard, bytes, kGuardByte);
  if (bad == bytes) return {};
  std::memset(guard, kGuardByte, bytes);
  if (before) {
    return strprintf("wrote %zu bytes before the start of the %zu-byte %s at %p", bytes - bad,
                     block_size, what, block);
  }
  return strprintf(
      "wrote past the end of the %zu-byte %s at %p (first damaged byte: %zu after "
      "the end)",
      block_size, what, block, bad);
}

std::string check_allocation(Allocation& a) {
  std::string s = check_guard(a.base, kFrontGuard, "device allocation", a.user, a.size, true);
  std::string back = check_guard(a.user + a.size, a.rw_bytes - kFrontGuard - a.size,
                                 "device allocation", a.user, a.size, false);
  return s.empty() ? back : s;
}

std::string check_sub_block(SubBlock& b) {
  return check_guard(b.user + b.usable, b.guard, "block (caching allocator)", b.user, b.usable,
                     false);
}

}  // namespace

bool in_device_arena(uintptr_t address) {
  return address >= arena_lo && address < arena_hi;
}

int device_of(const void* ptr) {
  const Allocation* a = find(mem(), ptr);
  return a != nullptr ? a->device : -1;
}

Space classify(const void* ptr) {
  Memory& m = mem();
  const auto addr = reinterpret_cast<uintptr_t>(ptr);
  if (in_device_arena(addr)) return Space::kDevice;
  auto it = m.pinned.upper_bound(addr);
  if (it != m.pinned.begin()) {
    --it;
    if (addr < it->first + it->second) return Space::kPinnedHost;
  }
  return Space::kHost;
}

std::string check_device_range(const void* ptr, size_t bytes) {
  Memory& m = mem();
  const Allocation* a = find(m, ptr);
  const auto lo = reinterpret_cast<uintptr_t>(ptr);
  if (a == nullptr) {
    return strprintf("%p is not inside any live device allocation (freed, or never allocated)",
                     ptr);
  }
  const auto end = reinterpret_cast<uintptr_t>(a->user) + a->size;
  if (bytes > end - lo) {
    return strprintf(
        "[%p, +%zu bytes) runs %zu bytes past the end of the %zu-byte device "
        "allocation at %p",
        ptr, bytes, bytes - (end - lo), a->size, static_cast<void*>(a->user));
  }
  // Blocks are disjoint, so only the one starting at or before ptr and those starting inside
  // the range can have a guard inside it.
  auto it = m.declared_blocks.upper_bound(lo);
  if (it != m.declared_blocks.begin()) --it;
  for (; it != m.declared_blocks.end() && it->first < lo + bytes; ++it) {
    const SubBlock& b = it->second;
    const auto guard_lo = reinterpret_cast<uintptr_t>(b.user) + b.usable;
    if (b.guard > 0 && guard_lo < lo + bytes && lo < guard_lo + b.guard) {
      return strprintf("[%p, +%zu bytes) overruns the %zu-byte block at %p into its guard bytes",
                       ptr, bytes, b.usable, static_cast<void*>(b.user));
    }
  }
  return {};
}

DeviceAccess::DeviceAccess(OneDevice, int device) : device_(device), ptr_(nullptr) {
  open_device(mem(), device_);
}
DeviceAccess::DeviceAccess(const void* ptr) : device_(-1), ptr_(ptr) {
  if (ptr_ == nullptr) return;
  if (Allocation* a = find(mem(), ptr_)) open(mem(), *a);
}
DeviceAccess::~DeviceAccess() {
  if (device_ >= 0) {
    close_device(mem(), device_);
  } else if (ptr_ != nullptr) {
    if (Allocation* a = find(mem(), ptr_)) close(mem(), *a);
  }
}

std::string check_device_guards(int device) {
  Memory& m = mem();
  std::string first;
  for (auto& [key, a] : m.allocations) {
    if (a.device != device) continue;
    std::string s = check_allocation(a);
    if (first.empty()) first = std::move(s);
  }
  for (auto& [key, b] : m.sub_blocks) {
    const Allocation* a = find(m, b.user);
    if (a == nullptr || a->device != device) continue;
    std::string s = check_sub_block(b);
    if (first.empty()) first = std::move(s);
  }
  return first;
}

}  // namespace cudasim::detail

using namespace cudasim::detail;

cudaError_t cudaMalloc(void** dev_ptr, size_t size) {
  ApiLock lock(api_mutex());
  if (const cudaError_t e = check_capture_allows("cudaMalloc"); e != cudaSuccess) return e;
  install_fault_reporter();
  if (dev_ptr == nullptr) return set_error(cudaErrorInvalidValue, "cudaMalloc: devPtr is null");
  if (size == 0) {
    *dev_ptr = nullptr;
    return cudaSuccess;
  }
  Memory& m = mem();
  const int device = current_device();
  touch_context(device);
  if (size > m.limit - m.used[device]) {
    return set_error(cudaErrorMemoryAllocation,
                     strprintf("cudaMalloc of %zu bytes on device %d: %zu of %zu bytes in use",
                               size, device, m.used[device], m.limit));
  }
  const size_t rw = (kFrontGuard + size + kMinBackGuard + m.page - 1) / m.page * m.page;
  char* base = reserve(m, rw + m.page);
  if (base == nullptr) {
    return set_error(cudaErrorMemoryAllocation,
                     strprintf("cudaMalloc of %zu bytes: simulator address space exhausted", size));
  }
  Allocation a;
  a.base = base;
  a.rw_bytes = rw;
  a.user = base + kFrontGuard;
  a.size = size;
  a.device = device;
  if (m.use_pkeys) {
    // Accessible pages, but only to a thread that has opened the device's key.
    if (pkey_mprotect(base, rw, PROT_READ | PROT_WRITE, device_pkey(m, device)) != 0) {
      std::fprintf(stderr, "cudasim: pkey_mprotect failed on device memory\n");
      std::abort();
    }
  }
  open(m, a);
  std::memset(base, kGuardByte, kFrontGuard);
  std::memset(a.user, kFreshByte, size);
  std::memset(a.user + size, kGuardByte, rw - kFrontGuard - size);
  close(m, a);
  m.allocations[reinterpret_cast<uintptr_t>(a.user)] = a;
  m.used[device] += size;
  ++mutable_counters().device_allocations;
  *dev_ptr = a.user;
  return cudaSuccess;
}

cudaError_t cudaFree(void* dev_ptr) {
  ApiLock lock(api_mutex());
  if (dev_ptr == nullptr) return cudaSuccess;
  if (const cudaError_t e = check_capture_allows("cudaFree"); e != cudaSuccess) return e;
  Memory& m = mem();
  auto it = m.allocations.find(reinterpret_cast<uintptr_t>(dev_ptr));
  if (it == m.allocations.end()) {
    const char* why = classify(dev_ptr) == Space::kPinnedHost ? "a cudaMallocHost pointer"
                      : find(m, dev_ptr) != nullptr           ? "not the start of an allocation"
                                                              : "not a live device allocation";
    return set_error(cudaErrorInvalidValue, strprintf("cudaFree(%p): %s", dev_ptr, why));
  }
  ++mutable_counters().host_syncs;
  ++mutable_counters().device_frees;
  // A GPU waits for the device here: queued work may still use the allocation.
  const cudaError_t pending = flush_all();
  it = m.allocations.find(reinterpret_cast<uintptr_t>(dev_ptr));
  Allocation& a = it->second;
  std::string damage;
  {
    DeviceAccess access(dev_ptr);
    damage = check_allocation(a);
    const auto lo = reinterpret_cast<uintptr_t>(a.user);
    for (auto b = m.sub_blocks.lower_bound(lo);
         b != m.sub_blocks.end() && b->first < lo + a.size;) {
      std::string s = check_sub_block(b->second);
      if (damage.empty()) damage = std::move(s);
      m.declared_blocks.erase(b->first);
      b = m.sub_blocks.erase(b);
    }
  }
  if (m.use_pkeys) protect(a, PROT_NONE);  // freed memory faults in kernels too
  madvise(a.base, a.rw_bytes, MADV_DONTNEED);
  release(m, a.base, a.rw_bytes + m.page);
  m.used[a.device] -= a.size;
  m.allocations.erase(it);
  if (!damage.empty()) return set_error(cudaErrorIllegalAddress, "found at cudaFree: " + damage);
  return pending;
}

cudaError_t cudaMallocHost(void** ptr, size_t size) {
  ApiLock lock(api_mutex());
  if (ptr == nullptr) return set_error(cudaErrorInvalidValue, "cudaMallocHost: ptr is null");
  if (const cudaError_t e = check_capture_allows("cudaMallocHost"); e != cudaSuccess) return e;
  Memory& m = mem();
  touch_context(current_device());
  if (size > m.pinned_limit - m.pinned_used) {
    return set_error(cudaErrorMemoryAllocation,
                     strprintf("cudaMallocHost of %zu bytes: %zu of %zu pinned bytes in use", size,
                               m.pinned_used, m.pinned_limit));
  }
  void* p = std::aligned_alloc(256, (size + 255) / 256 * 256 + (size == 0 ? 256 : 0));
  if (p == nullptr) {
    return set_error(cudaErrorMemoryAllocation, strprintf("cudaMallocHost of %zu bytes", size));
  }
  std::memset(p, kFreshByte, size);
  m.pinned[reinterpret_cast<uintptr_t>(p)] = size == 0 ? 1 : size;
  m.pinned_used += size == 0 ? 1 : size;
  m.pinned_peak = std::max(m.pinned_peak, m.pinned_used);
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* ptr) {
  ApiLock lock(api_mutex());
  if (ptr == nullptr) return cudaSuccess;
  if (const cudaError_t e = check_capture_allows("cudaFreeHost"); e != cudaSuccess) return e;
  auto it = mem().pinned.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == mem().pinned.end()) {
    return set_error(cudaErrorInvalidValue,
                     strprintf("cudaFreeHost(%p): not a cudaMallocHost pointer", ptr));
  }
  // Queued copies may still read or write the buffer.
  const cudaError_t pending = flush_all();
  it = mem().pinned.find(reinterpret_cast<uintptr_t>(ptr));
  mem().pinned_used -= it->second;
  mem().pinned.erase(it);
  std::free(ptr);
  return pending;
}

namespace {

const char* kind_name(cudaMemcpyKind kind) {
  switch (kind) {
    case cudaMemcpyHostToHost:
      return "cudaMemcpyHostToHost";
    case cudaMemcpyHostToDevice:
      return "cudaMemcpyHostToDevice";
    case cudaMemcpyDeviceToHost:
      return "cudaMemcpyDeviceToHost";
    case cudaMemcpyDeviceToDevice:
      return "cudaMemcpyDeviceToDevice";
    case cudaMemcpyDefault:
      return "cudaMemcpyDefault";
  }
  return "an unknown cudaMemcpyKind";
}

cudaError_t copy(void* dst, const void* src, size_t count, cudaMemcpyKind kind, bool async,
                 cudaStream_t stream) {
  const char* api = async ? "cudaMemcpyAsync" : "cudaMemcpy";
  if (async && !stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, strprintf("%s: invalid stream", api));
  }
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) {
    return set_error(cudaErrorInvalidMemcpyDirection,
                     strprintf("%s: kind %d is not a cudaMemcpyKind", api, static_cast<int>(kind)));
  }
  if (count == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) {
    return set_error(cudaErrorInvalidValue, strprintf("%s: null pointer", api));
  }
  const Space dst_space = classify(dst);
  const Space src_space = classify(src);
  const bool dst_dev = dst_space == Space::kDevice;
  const bool src_dev = src_space == Space::kDevice;
  const bool ok = kind == cudaMemcpyDefault ||
                  (kind == cudaMemcpyHostToHost && !dst_dev && !src_dev) ||
                  (kind == cudaMemcpyHostToDevice && dst_dev && !src_dev) ||
                  (kind == cudaMemcpyDeviceToHost && !dst_dev && src_dev) ||
                  (kind == cudaMemcpyDeviceToDevice && dst_dev && src_dev);
  if (!ok) {
    return set_error(
        cudaErrorInvalidMemcpyDirection,
        strprintf("%s(%s): dst %p is %s memory and src %p is %s memory", api, kind_name(kind), dst,
                  dst_dev ? "device" : "host", src, src_dev ? "device" : "host"));
  }
  for (auto [p, is_dev, role] : {std::tuple{static_cast<const void*>(dst), dst_dev, "dst"},
                                 std::tuple{src, src_dev, "src"}}) {
    if (!is_dev) continue;
    std::string why = check_device_range(p, count);
    if (!why.empty()) {
      return set_error(cudaErrorInvalidValue, strprintf("%s %s: ", api, role) + why);
    }
  }
  if (!async) {
    if (const cudaError_t e = check_capture_allows(api); e != cudaSuccess) return e;
  } else if (is_capturing(stream) && ((!dst_dev && dst_space != Space::kPinnedHost) ||
                                      (!src_dev && src_space != Space::kPinnedHost))) {
    // The runtime stages or waits for pageable memory, which a graph cannot record.
    if (const cudaError_t e =
            check_capture_allows("cudaMemcpyAsync with pageable host memory", stream);
        e != cudaSuccess)
      return e;
  }
  cudasim::Counters& c = mutable_counters();
  auto move = [dst, src, count, dst_dev, src_dev] {
    DeviceAccess dst_access(dst_dev ? dst : nullptr);
    DeviceAccess src_access(src_dev ? src : nullptr);
    std::memmove(dst, src, count);
    return Outcome{};
  };
  cudaError_t err = cudaSuccess;
  if (!async) {
    // A synchronous copy waits for the device's earlier work, then happens.
    err = flush_all();
    move();
  } else if (!src_dev && src_space != Space::kPinnedHost && dst_dev) {
    // From pageable memory the runtime stages the bytes before returning: the caller may
    // reuse its buffer at once.
    auto staged = std::make_shared<std::vector<char>>(static_cast<const char*>(src),
                                                      static_cast<const char*>(src) + count);
    err = submit(stream, [dst, staged, count] {
      DeviceAccess dst_access(dst);
      std::memcpy(dst, staged->data(), count);
      return Outcome{};
    });
  } else if (!dst_dev && !src_dev && !is_capturing(stream)) {
    // Host to host is synchronous for the host but still in stream order: a pinned buffer may
    // be the target of a copy queued earlier on the stream, so that work runs first.
    err = flush_stream(stream);
    move();
  } else {
    err = submit(stream, move);
    // Into pageable memory the runtime returns only once the bytes have arrived.
    if (err == cudaSuccess && src_dev && !dst_dev && dst_space != Space::kPinnedHost) {
      err = flush_through(last_submission());
    }
  }

  if (dst_dev && src_dev) {
    c.bytes_d2d += static_cast<int64_t>(count);
  } else if (dst_dev) {
    c.bytes_h2d += static_cast<int64_t>(count);
    if (!async) ++c.host_syncs;
  } else if (src_dev) {
    c.bytes_d2h += static_cast<int64_t>(count);
    // A device-to-pageable copy returns only once the data has arrived, even when "async".
    if (!async || dst_space != Space::kPinnedHost) ++c.host_syncs;
  }
  return err;
}

cudaError_t set(void* dev_ptr, int value, size_t count, bool async, cudaStream_t stream) {
  const char* api = async ? "cudaMemsetAsync" : "cudaMemset";
  if (async && !stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, strprintf("%s: invalid stream", api));
  }
  if (count == 0) return cudaSuccess;
  if (classify(dev_ptr) != Space::kDevice) {
    return set_error(cudaErrorInvalidValue, strprintf("%s: %p is not device memory", api, dev_ptr));
  }
  std::string why = check_device_range(dev_ptr, count);
  if (!why.empty()) return set_error(cudaErrorInvalidValue, strprintf("%s: ", api) + why);
  auto fill = [dev_ptr, value, count] {
    DeviceAccess access(dev_ptr);
    std::memset(dev_ptr, value, count);
    return Outcome{};
  };
  if (async) return submit(stream, fill);
  if (const cudaError_t e = check_capture_allows(api); e != cudaSuccess) return e;
  const cudaError_t err = flush_all();
  fill();
  return err;
}

}  // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  ApiLock lock(api_mutex());
  return copy(dst, src, count, kind, false, nullptr);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  ApiLock lock(api_mutex());
  return copy(dst, src, count, kind, true, stream);
}
cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device,
                                size_t count, cudaStream_t stream) {
  ApiLock lock(api_mutex());
  if (count == 0) return cudaSuccess;
  const int n = cudasim::device_count();
  if (dst_device < 0 || dst_device >= n || src_device < 0 || src_device >= n) {
    return set_error(cudaErrorInvalidDevice,
                     strprintf("cudaMemcpyPeerAsync: devices %d and %d (cudasim has %d)",
                               dst_device, src_device, n));
  }
  for (auto [p, device, role] : {std::tuple{static_cast<const void*>(dst), dst_device, "dst"},
                                 std::tuple{src, src_device, "src"}}) {
    if (device_of(p) != device) {
      return set_error(
          cudaErrorInvalidValue,
          strprintf("cudaMemcpyPeerAsync: %s %p is not memory of device %d", role, p, device));
    }
  }
  return copy(dst, src, count, cudaMemcpyDeviceToDevice, true, stream);
}

cudaError_t cudaMemset(void* dev_ptr, int value, size_t count) {
  ApiLock lock(api_mutex());
  return set(dev_ptr, value, count, false, nullptr);
}
cudaError_t cudaMemsetAsync(void* dev_ptr, int value, size_t count, cudaStream_t stream) {
  ApiLock lock(api_mutex());
  return set(dev_ptr, value, count, true, stream);
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  ApiLock lock(api_mutex());
  if (free == nullptr || total == nullptr) {
    return set_error(cudaErrorInvalidValue, "cudaMemGetInfo: null pointer");
  }
  const size_t used = mem().used[current_device()];
  *total = mem().limit;
  *free = used < mem().limit ? mem().limit - used : 0;
  return cudaSuccess;
}

namespace cudasim {

void register_subblock_guard(void* ptr, size_t usable, size_t guard) {
  ApiLock lock(api_mutex());
  Memory& m = mem();
  Allocation* a = find(m, ptr);
  const auto lo = reinterpret_cast<uintptr_t>(ptr);
  if (a == nullptr || usable + guard > reinterpret_cast<uintptr_t>(a->user) + a->size - lo) {
    throw std::invalid_argument(
        strprintf("cudasim::register_subblock_guard(%p, %zu, %zu): not inside one device "
                  "allocation",
                  ptr, usable, guard));
  }
  auto next = m.declared_blocks.lower_bound(lo);
  const bool overlaps_next = next != m.declared_blocks.end() && next->first < lo + usable + guard;
  bool overlaps_prev = false;
  if (next != m.declared_blocks.begin()) {
    const SubBlock& p = std::prev(next)->second;
    overlaps_prev = reinterpret_cast<uintptr_t>(p.user) + p.usable + p.guard > lo;
  }
  if (overlaps_next || overlaps_prev) {
    throw std::invalid_argument(
        strprintf("cudasim::register_subblock_guard(%p, %zu, %zu): overlaps a registered block",
                  ptr, usable, guard));
  }
  const SubBlock block{static_cast<char*>(ptr), usable, guard};
  m.declared_blocks[lo] = block;
  // The fill and the guard wait behind queued work that may still write the old block there.
  (void)submit(kAnyStream, [block, lo] {
    DeviceAccess access(block.user);
    std::memset(block.user, kFreshByte, block.usable);
    std::memset(block.user + block.usable, kGuardByte, block.guard);
    mem().sub_blocks[lo] = block;
    return Outcome{};
  });
}

bool unregister_subblock_guard(void* ptr) {
  ApiLock lock(api_mutex());
  Memory& m = mem();
  const auto lo = reinterpret_cast<uintptr_t>(ptr);
  if (m.declared_blocks.erase(lo) == 0) {
    throw std::invalid_argument(
        strprintf("cudasim::unregister_subblock_guard(%p): not a registered block", ptr));
  }
  auto check = [lo, ptr] {
    auto it = mem().sub_blocks.find(lo);
    if (it == mem().sub_blocks.end()) {  // the queue ran the free before the registration
      return Outcome{cudaErrorUnknown,
                     strprintf("cudasim: internal: no guard record for the block at %p", ptr)};
    }
    std::string damage;
    {
      DeviceAccess access(ptr);
      damage = check_sub_block(it->second);
    }
    mem().sub_blocks.erase(it);
    if (damage.empty()) return Outcome{};
    return Outcome{cudaErrorIllegalAddress, "found when the block was freed: " + damage};
  };
  if (cudasim::deferred()) {
    // The damage, if any, is reported by the call that runs the check.
    (void)submit(kAnyStream, check);
    return true;
  }
  Outcome o = check();
  if (o.code == cudaSuccess) return true;
  set_detail(std::move(o.detail));
  return false;
}

bool is_device_pointer(const void* ptr) {
  ApiLock lock(api_mutex());
  const Allocation* a = find(mem(), ptr);
  return a != nullptr && ptr < static_cast<const void*>(a->user + a->size);
}

const char* protection_mechanism() {
  ApiLock lock(api_mutex());
  return mem().use_pkeys ? "pkey" : "mprotect";
}

void set_pinned_memory_limit(size_t bytes) {
  ApiLock lock(api_mutex());
  mem().pinned_limit = bytes;
}

size_t pinned_bytes() {
  ApiLock lock(api_mutex());
  return mem().pinned_used;
}

size_t peak_pinned_bytes() {
  ApiLock lock(api_mutex());
  return mem().pinned_peak;
}

void reset_peak_pinned_bytes() {
  ApiLock lock(api_mutex());
  mem().pinned_peak = mem().pinned_used;
}

void set_device_memory_limit(size_t bytes) {
  ApiLock lock(api_mutex());
  mem().limit = bytes;
}

size_t device_memory_limit() {
  ApiLock lock(api_mutex());
  return mem().limit;
}

}  // namespace cudasim
