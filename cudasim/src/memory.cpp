// cudasim device memory: allocations host code cannot touch, guard bytes, copies and sets.
//
// Every cudaMalloc is carved from one reserved range of address space (the "arena"), so the
// fault reporter can tell a device address from any other with two compares. An allocation is
//   [front guard 256 B][user bytes][back guard >= 256 B, to the page end][PROT_NONE page]
// and host code cannot touch any of it: a host dereference of a device pointer faults, as on a
// GPU. Launches, cuBLAS and the copy/set calls open device memory for their duration
// (DeviceAccess). Two mechanisms, chosen once:
//  - memory protection keys (x86 PKU), when the CPU and kernel have them: every allocation is
//    tagged with one key whose access is denied to host threads; opening is one WRPKRU on the
//    calling thread, whatever the amount of memory. Other threads (OpenMP workers, for one)
//    never get access.
//  - mprotect, elsewhere (or with CUDASIM_PROTECTION=mprotect): allocations are PROT_NONE and
//    opened one mprotect each, which costs time in proportion to the pages they span.
// Freed memory is PROT_NONE under both, so a kernel using it faults too. Guards are checked
// after every launch, and copies and sets are range-checked up front, so an overrun is
// reported, not absorbed.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <stdexcept>
#include <tuple>

#include "cudasim/memory.h"
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
  int pkey = -1;                                // >= 0: protection keys; -1: mprotect
  std::map<size_t, size_t> free_ranges;         // arena offset -> bytes (page multiples)
  std::map<uintptr_t, Allocation> allocations;  // by user pointer
  std::map<uintptr_t, SubBlock> sub_blocks;     // by block pointer
  std::map<uintptr_t, size_t> pinned;           // cudaMallocHost blocks
  size_t used = 0;
  size_t limit = size_t{16} << 30;
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
    const char* forced = std::getenv("CUDASIM_PROTECTION");
    if (forced == nullptr || std::strcmp(forced, "mprotect") != 0) {
      // Denied to this thread from the start; other threads start denied for any non-zero
      // key (Linux's initial PKRU).
      s->pkey = pkey_alloc(0, PKEY_DISABLE_ACCESS);
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

thread_local int pkey_access_depth = 0;  // open DeviceAccess scopes on this thread

void open_all(Memory& m) {
  if (m.pkey >= 0) {
    if (pkey_access_depth++ == 0) pkey_set(m.pkey, 0);
    return;
  }
  for (auto& [key, a] : m.allocations) {
    if (a.access_depth++ == 0) protect(a, PROT_READ | PROT_WRITE);
  }
}
void close_all(Memory& m) {
  if (m.pkey >= 0) {
    if (--pkey_access_depth == 0) pkey_set(m.pkey, PKEY_DISABLE_ACCESS);
    return;
  }
  for (auto& [key, a] : m.allocations) {
    if (--a.access_depth == 0) protect(a, PROT_NONE);
  }
}
void open(Memory& m, Allocation& a) {
  if (m.pkey >= 0) {
    if (pkey_access_depth++ == 0) pkey_set(m.pkey, 0);
  } else if (a.access_depth++ == 0) {
    protect(a, PROT_READ | PROT_WRITE);
  }
}
void close(Memory& m, Allocation& a) {
  if (m.pkey >= 0) {
    if (--pkey_access_depth == 0) pkey_set(m.pkey, PKEY_DISABLE_ACCESS);
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
  auto it = m.sub_blocks.upper_bound(lo);
  if (it != m.sub_blocks.begin()) --it;
  for (; it != m.sub_blocks.end() && it->first < lo + bytes; ++it) {
    const SubBlock& b = it->second;
    const auto guard_lo = reinterpret_cast<uintptr_t>(b.user) + b.usable;
    if (b.guard > 0 && guard_lo < lo + bytes && lo < guard_lo + b.guard) {
      return strprintf("[%p, +%zu bytes) overruns the %zu-byte block at %p into its guard bytes",
                       ptr, bytes, b.usable, static_cast<void*>(b.user));
    }
  }
  return {};
}

DeviceAccess::DeviceAccess() : all_(true), ptr_(nullptr) {
  open_all(mem());
}
DeviceAccess::DeviceAccess(const void* ptr) : all_(false), ptr_(ptr) {
  if (ptr_ == nullptr) return;
  if (Allocation* a = find(mem(), ptr_)) open(mem(), *a);
}
DeviceAccess::~DeviceAccess() {
  if (all_) {
    close_all(mem());
  } else if (ptr_ != nullptr) {
    if (Allocation* a = find(mem(), ptr_)) close(mem(), *a);
  }
}

std::string check_all_guards() {
  Memory& m = mem();
  std::string first;
  for (auto& [key, a] : m.allocations) {
    std::string s = check_allocation(a);
    if (first.empty()) first = std::move(s);
  }
  for (auto& [key, b] : m.sub_blocks) {
    std::string s = check_sub_block(b);
    if (first.empty()) first = std::move(s);
  }
  return first;
}

}  // namespace cudasim::detail

using namespace cudasim::detail;

cudaError_t cudaMalloc(void** dev_ptr, size_t size) {
  ApiLock lock(api_mutex());
  install_fault_reporter();
  if (dev_ptr == nullptr) return set_error(cudaErrorInvalidValue, "cudaMalloc: devPtr is null");
  if (size == 0) {
    *dev_ptr = nullptr;
    return cudaSuccess;
  }
  Memory& m = mem();
  if (size > m.limit - m.used) {
    return set_error(
        cudaErrorMemoryAllocation,
        strprintf("cudaMalloc of %zu bytes: %zu of %zu bytes in use", size, m.used, m.limit));
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
  if (m.pkey >= 0) {
    // Accessible pages, but only to a thread that has opened the key.
    if (pkey_mprotect(base, rw, PROT_READ | PROT_WRITE, m.pkey) != 0) {
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
  m.used += size;
  ++mutable_counters().device_allocations;
  *dev_ptr = a.user;
  return cudaSuccess;
}

cudaError_t cudaFree(void* dev_ptr) {
  ApiLock lock(api_mutex());
  if (dev_ptr == nullptr) return cudaSuccess;
  Memory& m = mem();
  auto it = m.allocations.find(reinterpret_cast<uintptr_t>(dev_ptr));
  if (it == m.allocations.end()) {
    const char* why = classify(dev_ptr) == Space::kPinnedHost ? "a cudaMallocHost pointer"
                      : find(m, dev_ptr) != nullptr           ? "not the start of an allocation"
                                                              : "not a live device allocation";
    return set_error(cudaErrorInvalidValue, strprintf("cudaFree(%p): %s", dev_ptr, why));
  }
  Allocation& a = it->second;
  ++mutable_counters().host_syncs;
  ++mutable_counters().device_frees;
  std::string damage;
  {
    DeviceAccess access(dev_ptr);
    damage = check_allocation(a);
    const auto lo = reinterpret_cast<uintptr_t>(a.user);
    for (auto b = m.sub_blocks.lower_bound(lo);
         b != m.sub_blocks.end() && b->first < lo + a.size;) {
      std::string s = check_sub_block(b->second);
      if (damage.empty()) damage = std::move(s);
      b = m.sub_blocks.erase(b);
    }
  }
  if (m.pkey >= 0) protect(a, PROT_NONE);  // freed memory faults in kernels too
  madvise(a.base, a.rw_bytes, MADV_DONTNEED);
  release(m, a.base, a.rw_bytes + m.page);
  m.used -= a.size;
  m.allocations.erase(it);
  if (!damage.empty()) return set_error(cudaErrorIllegalAddress, "found at cudaFree: " + damage);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t size) {
  ApiLock lock(api_mutex());
  if (ptr == nullptr) return set_error(cudaErrorInvalidValue, "cudaMallocHost: ptr is null");
  void* p = std::aligned_alloc(256, (size + 255) / 256 * 256 + (size == 0 ? 256 : 0));
  if (p == nullptr) {
    return set_error(cudaErrorMemoryAllocation, strprintf("cudaMallocHost of %zu bytes", size));
  }
  std::memset(p, kFreshByte, size);
  mem().pinned[reinterpret_cast<uintptr_t>(p)] = size == 0 ? 1 : size;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* ptr) {
  ApiLock lock(api_mutex());
  if (ptr == nullptr) return cudaSuccess;
  auto it = mem().pinned.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == mem().pinned.end()) {
    return set_error(cudaErrorInvalidValue,
                     strprintf("cudaFreeHost(%p): not a cudaMallocHost pointer", ptr));
  }
  mem().pinned.erase(it);
  std::free(ptr);
  return cudaSuccess;
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
  DeviceAccess dst_access(dst_dev ? dst : nullptr);
  DeviceAccess src_access(src_dev ? src : nullptr);
  std::memmove(dst, src, count);

  cudasim::Counters& c = mutable_counters();
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
  return cudaSuccess;
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
  DeviceAccess access(dev_ptr);
  std::memset(dev_ptr, value, count);
  return cudaSuccess;
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
  *total = mem().limit;
  *free = mem().used < mem().limit ? mem().limit - mem().used : 0;
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
  auto next = m.sub_blocks.lower_bound(lo);
  const bool overlaps_next = next != m.sub_blocks.end() && next->first < lo + usable + guard;
  bool overlaps_prev = false;
  if (next != m.sub_blocks.begin()) {
    const SubBlock& p = std::prev(next)->second;
    overlaps_prev = reinterpret_cast<uintptr_t>(p.user) + p.usable + p.guard > lo;
  }
  if (overlaps_next || overlaps_prev) {
    throw std::invalid_argument(
        strprintf("cudasim::register_subblock_guard(%p, %zu, %zu): overlaps a registered block",
                  ptr, usable, guard));
  }
  DeviceAccess access(ptr);
  std::memset(ptr, kFreshByte, usable);
  std::memset(static_cast<char*>(ptr) + usable, kGuardByte, guard);
  m.sub_blocks[lo] = SubBlock{static_cast<char*>(ptr), usable, guard};
}

bool unregister_subblock_guard(void* ptr) {
  ApiLock lock(api_mutex());
  Memory& m = mem();
  auto it = m.sub_blocks.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == m.sub_blocks.end()) {
    throw std::invalid_argument(
        strprintf("cudasim::unregister_subblock_guard(%p): not a registered block", ptr));
  }
  std::string damage;
  {
    DeviceAccess access(ptr);
    damage = check_sub_block(it->second);
  }
  m.sub_blocks.erase(it);
  if (!damage.empty()) {
    set_detail("found when the block was freed: " + damage);
    return false;
  }
  return true;
}

bool is_device_pointer(const void* ptr) {
  ApiLock lock(api_mutex());
  const Allocation* a = find(mem(), ptr);
  return a != nullptr && ptr < static_cast<const void*>(a->user + a->size);
}

const char* protection_mechanism() {
  ApiLock lock(api_mutex());
  return mem().pkey >= 0 ? "pkey" : "mprotect";
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
