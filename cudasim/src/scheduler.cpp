// cudasim scheduler: runs a launch's blocks one after another on the calling host thread, the
// threads of a block as fibers.
//
// A fiber runs until it reaches __syncthreads(), a warp intrinsic, or the end of the kernel,
// then switches back here. When no fiber can run, the block is "stalled": if every live thread
// waits at the same barrier it is released; anything else (a thread exited while others wait,
// two barrier call sites, a shuffle whose lanes never arrive) is reported as an error naming
// the kernel. Warp intrinsics are a rendezvous of the lanes named in the mask: the last lane to
// arrive computes every lane's result and carries on, the others are made ready.
//
// Determinism: blocks run in x, y, z order (or, with a shuffle seed, in an order drawn from the
// seed and the launch's number); within a block, fibers run in rank order and are resumed in
// the order they were released. The same launch always interleaves the same way.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cudasim/modes.h"
#include "internal.h"

namespace cudasim::detail {

uint3 thread_idx{0, 0, 0};
uint3 block_idx{0, 0, 0};
dim3 block_dim;
dim3 grid_dim;
const int warp_size = 32;

namespace {

constexpr size_t kMaxDynamicSmem = 48 * 1024;
constexpr size_t kSmemGuardBytes = 64;
constexpr unsigned char kSmemGuardByte = 0xCD;

enum class FiberState : unsigned char { kReady, kBarrier, kWarp, kExited, kFailed };

struct Fiber {
  FiberContext ctx;
  uint3 tid;
  int warp = 0;
  int lane = 0;
  FiberState state = FiberState::kReady;
  int slot = -1;  // stack slot while started and not finished
  const char* barrier_file = nullptr;
  int barrier_line = 0;
};

struct PendingWarpOp {
  WarpOp op;
  unsigned mask;
  unsigned arrived;
};

struct Warp {
  unsigned exists = 0;  // lanes the block has
  unsigned exited = 0;
  uint64_t value[32];
  int src[32];
  uint64_t result[32];
  PendingWarpOp pending[32];  // disjoint masks: at most one op per lane
  int num_pending = 0;
};

struct Launch {
  const char* name = nullptr;
  const std::function<void()>* body = nullptr;
  int threads = 0;
  std::vector<Fiber> fibers = std::vector<Fiber>(kMaxBlockThreads);
  std::vector<Warp> warps = std::vector<Warp>(kMaxBlockThreads / 32);
  std::vector<int> ready;  // ranks to resume, in order
  size_t next_ready = 0;
  std::vector<int> free_slots;
  int exited = 0;
  int at_barrier = 0;
  FiberContext scheduler;
  Fiber* current = nullptr;
  std::string error;
  cudaError_t error_code = cudaSuccess;
  std::vector<unsigned char> smem;
  size_t smem_bytes = 0;
};

Launch* active = nullptr;  // the launch in progress, if any

Launch& launch_state() {
  static Launch* l = new Launch;  // never destroyed: fibers may outlive static destructors
  return *l;
}

std::string where(const Fiber& f) {
  return strprintf("thread (%u,%u,%u) of block (%u,%u,%u)", f.tid.x, f.tid.y, f.tid.z, block_idx.x,
                   block_idx.y, block_idx.z);
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::kShflIdx:
      return "__shfl_sync";
    case WarpOp::kShflUp:
      return "__shfl_up_sync";
    case WarpOp::kShflDown:
      return "__shfl_down_sync";
    case WarpOp::kShflXor:
      return "__shfl_xor_sync";
    case WarpOp::kBallot:
      return "__ballot_sync";
    case WarpOp::kSync:
      return "__syncwarp";
  }
  return "warp intrinsic";
}

void record_error(Launch& l, cudaError_t code, std::string what) {
  if (l.error.empty()) {
    l.error = std::move(what);
    l.error_code = code;
  }
}

Launch& running(const char* what) {
  if (active == nullptr || active->current == nullptr) {
    std::fprintf(stderr, "cudasim: %s called outside a kernel\n", what);
    std::abort();
  }
  return *active;
}

// Ends the calling fiber for good: the block is abandoned and the launch reports `what`.
[[noreturn]] void fail_current(cudaError_t code, std::string what) {
  Launch& l = *active;
  Fiber& f = *l.current;
  record_error(l, code, std::move(what));
  f.state = FiberState::kFailed;
  fiber_switch(f.ctx, l.scheduler);
  std::abort();  // a failed fiber is never resumed
}

void on_thread_exit(Launch& l, Fiber& f) {
  ++l.exited;
  f.state = FiberState::kExited;
  Warp& w = l.warps[f.warp];
  const unsigned bit = 1u << f.lane;
  w.exited |= bit;
  for (int k = 0; k < w.num_pending; ++k) {
    if (w.pending[k].mask & bit) {
      record_error(
          l, cudaErrorLaunchFailure,
          strprintf("%s exited while lanes 0x%08x of its warp wait for it in %s(mask 0x%08x)",
                    where(f).c_str(), w.pending[k].arrived, op_name(w.pending[k].op),
                    w.pending[k].mask));
    }
  }
}

// Runs threads until one blocks: when a thread finishes and the next thread to run has not
// started yet, it starts right here, on the same stack, without a round trip through the
// scheduler. A block that never blocks thus costs one switch in and one out.
void fiber_main(void* arg) {
  Launch& l = *active;
  Fiber* f = static_cast<Fiber*>(arg);
  for (;;) {
    std::string thrown;
    // The handler only copies the message: switching away from inside a catch block would
    // leave the exception registered as "being handled" on this host thread forever.
    try {
      (*l.body)();
    } catch (const std::exception& e) {
      thrown = e.what();
    } catch (...) {
      thrown = "unknown exception";
    }
    if (!thrown.empty()) {
      record_error(l, cudaErrorLaunchFailure, where(*f) + " threw: " + thrown);
      f->state = FiberState::kFailed;
      break;
    }
    on_thread_exit(l, *f);
    if (!l.error.empty() || l.next_ready >= l.ready.size()) break;
    Fiber& next = l.fibers[l.ready[l.next_ready]];
    if (next.slot >= 0) break;  // a started thread resumes on its own stack
    ++l.next_ready;
    next.slot = f->slot;
    f->slot = -1;
    f = &next;
    thread_idx = f->tid;
    l.current = f;
  }
  fiber_switch(f->ctx, l.scheduler);
  std::abort();  // a finished fiber is never resumed
}

// No fiber can run and some are still live: release a barrier or explain the hang.
void resolve_stall(Launch& l) {
  const int live = l.threads - l.exited;
  const Fiber* waiting = nullptr;
  for (int i = 0; i < l.threads && waiting == nullptr; ++i) {
    if (l.fibers[i].state == FiberState::kBarrier) waiting = &l.fibers[i];
  }
  if (waiting != nullptr && l.at_barrier == live) {
    for (int i = 0; i < l.threads; ++i) {
      const Fiber& f = l.fibers[i];
      if (f.state == FiberState::kExited) {
        return record_error(l, cudaErrorLaunchFailure,
                            strprintf("__syncthreads() at %s:%d is not reached by every thread: %s "
                                      "exited while %s waits there",
                                      waiting->barrier_file, waiting->barrier_line,
                                      where(f).c_str(), where(*waiting).c_str()));
      }
      if (f.barrier_line != waiting->barrier_line ||
          std::string(f.barrier_file) != waiting->barrier_file) {
        return record_error(
            l, cudaErrorLaunchFailure,
            strprintf("divergent __syncthreads(): %s waits at %s:%d while %s waits at %s:%d",
                      where(*waiting).c_str(), waiting->barrier_file, waiting->barrier_line,
                      where(f).c_str(), f.barrier_file, f.barrier_line));
      }
    }
    for (int i = 0; i < l.threads; ++i) {
      l.fibers[i].state = FiberState::kReady;
      l.ready.push_back(i);
    }
    l.at_barrier = 0;
    return;
  }
  // Some lanes wait in a warp intrinsic for lanes that are elsewhere (at a barrier, exited, or
  // in a different intrinsic): on a GPU this hangs or is undefined.
  for (int wi = 0; wi * 32 < l.threads; ++wi) {
    const Warp& w = l.warps[wi];
    if (w.num_pending == 0) continue;
    const PendingWarpOp& p = w.pending[0];
    const unsigned missing = p.mask & ~p.arrived;
    const Fiber& absent = l.fibers[wi * 32 + __builtin_ctz(missing)];
    std::string state =
        absent.state == FiberState::kBarrier
            ? strprintf("waits at __syncthreads() %s:%d", absent.barrier_file, absent.barrier_line)
            : std::string("is in another warp operation");
    return record_error(
        l, cudaErrorLaunchFailure,
        strprintf("%s(mask 0x%08x) in warp %d of block (%u,%u,%u) never completes: lanes 0x%08x "
                  "arrived, lane %d %s",
                  op_name(p.op), p.mask, wi, block_idx.x, block_idx.y, block_idx.z, p.arrived,
                  __builtin_ctz(missing), state.c_str()));
  }
  record_error(l, cudaErrorLaunchFailure, "the block deadlocked");
}

void run_block(Launch& l) {
  l.exited = 0;
  l.at_barrier = 0;
  for (int wi = 0; wi * 32 < l.threads; ++wi) {
    l.warps[wi].exited = 0;
    l.warps[wi].num_pending = 0;
  }
  if (l.smem_bytes > 0) {
    // Shared memory starts undefined on a GPU: NaN bytes make a read-before-write visible.
    std::memset(l.smem.data(), 0xFF, l.smem_bytes);
    std::memset(l.smem.data() + l.smem_bytes, kSmemGuardByte, kSmemGuardBytes);
  }
  l.ready.clear();
  l.free_slots.clear();
  for (int i = 0; i < l.threads; ++i) {
    Fiber& f = l.fibers[i];
    f.state = FiberState::kReady;
    f.slot = -1;
    l.ready.push_back(i);
    l.free_slots.push_back(l.threads - 1 - i);
  }
  l.next_ready = 0;
  for (;;) {
    while (l.next_ready < l.ready.size()) {
      Fiber& f = l.fibers[l.ready[l.next_ready++]];
      if (f.slot < 0) {
        // A thread gets a stack when it first runs and gives it back when it finishes, so
        // threads that never block all run on the same (cache-hot) stack.
        f.slot = l.free_slots.back();
        l.free_slots.pop_back();
        fiber_prepare(f.ctx, f.slot, &fiber_main, &f);
      }
      thread_idx = f.tid;
      l.current = &f;
      fiber_switch(l.scheduler, f.ctx);
      Fiber& back = *l.current;  // may be a later thread that ran on f's stack
      if (back.state == FiberState::kExited) {
        l.free_slots.push_back(back.slot);
        back.slot = -1;
      }
      if (!l.error.empty()) break;
    }
    l.current = nullptr;
    l.ready.clear();
    l.next_ready = 0;
    if (!l.error.empty() || l.exited == l.threads) break;
    resolve_stall(l);
    if (!l.error.empty()) break;
  }
  if (l.smem_bytes > 0 && l.error.empty()) {
    for (size_t i = 0; i < kSmemGuardBytes; ++i) {
      if (l.smem[l.smem_bytes + i] != kSmemGuardByte) {
        record_error(l, cudaErrorIllegalAddress,
                     strprintf("block (%u,%u,%u) wrote past its %zu bytes of dynamic shared memory "
                               "(byte %zu after the end)",
                               block_idx.x, block_idx.y, block_idx.z, l.smem_bytes, i));
        break;
      }
    }
  }
}

std::string config_string(dim3 grid, dim3 block, size_t smem) {
  return strprintf("grid (%u,%u,%u), block (%u,%u,%u), %zu bytes of dynamic shared memory", grid.x,
                   grid.y, grid.z, block.x, block.y, block.z, smem);
}

// The order in which a launch runs its blocks, as linear indices (x fastest). Shuffled: a
// Fisher-Yates permutation drawn from the seed and the launch's number; for grids too large to
// list, an affine permutation i -> (a i + b) mod n with a coprime to n.
class BlockOrder {
 public:
  BlockOrder(uint64_t blocks, bool shuffle, uint64_t seed, uint64_t launch_number)
      : n_(blocks), shuffle_(shuffle) {
    if (!shuffle_) return;
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + launch_number);
    if (n_ <= (uint64_t{1} << 22)) {
      order_.resize(n_);
      std::iota(order_.begin(), order_.end(), uint32_t{0});
      std::shuffle(order_.begin(), order_.end(), rng);
      return;
    }
    b_ = rng() % n_;
    do {
      a_ = rng() % n_ | 1;
    } while (std::gcd(a_, n_) != 1);
  }
  uint64_t operator[](uint64_t i) const {
    if (!shuffle_) return i;
    if (!order_.empty()) return order_[i];
    return static_cast<uint64_t>((static_cast<unsigned __int128>(a_) * i + b_) % n_);
  }

 private:
  uint64_t n_;
  bool shuffle_;
  std::vector<uint32_t> order_;
  uint64_t a_ = 1, b_ = 0;
};

// Runs a validated launch: every block, then the guard check. Returns how it ended.
Outcome run_launch(const char* kernel, const std::string& config, dim3 grid, dim3 block,
                   size_t dynamic_smem, int device, uint64_t launch_number,
                   const std::function<void()>& body) {
  if (active != nullptr) {
    return Outcome{cudaErrorNotSupported,
                   strprintf("kernel '%s' launched from inside kernel '%s' (dynamic parallelism "
                             "is not simulated)",
                             kernel, active->name)};
  }
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  Launch& l = launch_state();
  l.name = kernel;
  l.body = &body;
  l.threads = static_cast<int>(threads);
  l.error.clear();
  l.error_code = cudaSuccess;
  l.smem_bytes = dynamic_smem;
  if (l.smem.size() < dynamic_smem + kSmemGuardBytes) l.smem.resize(dynamic_smem + kSmemGuardBytes);
  for (int i = 0; i < l.threads; ++i) {
    Fiber& f = l.fibers[i];
    f.tid = uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
    f.warp = i / 32;
    f.lane = i % 32;
  }
  for (int wi = 0; wi * 32 < l.threads; ++wi) {
    const int lanes = l.threads - wi * 32 < 32 ? l.threads - wi * 32 : 32;
    l.warps[wi].exists = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1u;
  }
  block_dim = block;
  grid_dim = grid;

  uint64_t seed = 0;
  const bool shuffle = cudasim::block_shuffle(&seed);
  const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
  const BlockOrder order(blocks, shuffle, seed, launch_number);

  active = &l;
  running_kernel = kernel;
  running_device = device;
  std::string guards;
  {
    DeviceAccess access(DeviceAccess::kDevice, device);  // every live allocation of the device
    for (uint64_t i = 0; i < blocks && l.error.empty(); ++i) {
      const uint64_t b = order[i];
      block_idx =
          uint3{static_cast<unsigned>(b % grid.x), static_cast<unsigned>(b / grid.x % grid.y),
                static_cast<unsigned>(b / (uint64_t{grid.x} * grid.y))};
      run_block(l);
    }
    guards = check_device_guards(device);
  }
  running_kernel = nullptr;
  active = nullptr;
  l.body = nullptr;
  if (l.error.empty() && !guards.empty()) record_error(l, cudaErrorIllegalAddress, guards);
  if (!l.error.empty()) {
    return Outcome{l.error_code, strprintf("kernel '%s' (%s): ", kernel, config.c_str()) + l.error};
  }
  return Outcome{};
}

}  // namespace

void syncthreads(const char* file, int line) {
  Launch& l = running("__syncthreads()");
  Fiber& f = *l.current;
  f.state = FiberState::kBarrier;
  f.barrier_file = file;
  f.barrier_line = line;
  ++l.at_barrier;
  fiber_switch(f.ctx, l.scheduler);
}

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t bits, int arg, int width) {
  Launch& l = running(op_name(op));
  Fiber& f = *l.current;
  Warp& w = l.warps[f.warp];
  const int lane = f.lane;
  const unsigned bit = 1u << lane;
  const char* name = op_name(op);
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
    fail_current(cudaErrorLaunchFailure,
                 strprintf("%s: width %d is not a power of two in [1, 32]", name, width));
  }
  if ((mask & bit) == 0) {
    fail_current(cudaErrorLaunchFailure,
                 strprintf("%s(mask 0x%08x) called by %s, lane %d, which the "
                           "mask excludes",
                           name, mask, where(f).c_str(), lane));
  }
  if ((mask & ~w.exists) != 0) {
    fail_current(
        cudaErrorLaunchFailure,
        strprintf("%s(mask 0x%08x) in %s names lanes 0x%08x that do not exist (the block has "
                  "%d threads)",
                  name, mask, where(f).c_str(), mask & ~w.exists, l.threads));
  }
  if ((mask & w.exited) != 0) {
    fail_current(cudaErrorLaunchFailure,
                 strprintf("%s(mask 0x%08x) in %s names lanes 0x%08x that have already exited",
                           name, mask, where(f).c_str(), mask & w.exited));
  }
  int src = lane;
  const int group = lane & ~(width - 1);
  switch (op) {
    case WarpOp::kShflIdx:
      src = group + (arg & (width - 1));
      break;
    case WarpOp::kShflUp:
      src = (lane - group) - arg >= 0 ? lane - arg : -1;
      break;
    case WarpOp::kShflDown:
      src = (lane - group) + arg < width ? lane + arg : -1;
      break;
    case WarpOp::kShflXor: {
      const int x = lane ^ arg;  // earlier groups may be read, later ones give the own value
      src = x >= 0 && x < group + width ? x : -1;
      break;
    }
    default:
      break;
  }
  w.value[lane] = bits;
  w.src[lane] = src;

  PendingWarpOp* p = nullptr;
  for (int k = 0; k < w.num_pending && p == nullptr; ++k) {
    if (w.pending[k].mask & mask) p = &w.pending[k];
  }
  if (p == nullptr) {
    p = &w.pending[w.num_pending++];
    *p = PendingWarpOp{op, mask, 0};
  } else if (p->mask != mask || p->op != op) {
    fail_current(
        cudaErrorLaunchFailure,
        strprintf("lanes of warp %d disagree: %s calls %s(mask 0x%08x) while lanes 0x%08x "
                  "wait in %s(mask 0x%08x)",
                  f.warp, where(f).c_str(), name, mask, p->arrived, op_name(p->op), p->mask));
  }
  p->arrived |= bit;
  if (p->arrived != mask) {
    f.state = FiberState::kWarp;
    fiber_switch(f.ctx, l.scheduler);
    return w.result[lane];
  }

  // Last lane in: compute every lane's result, wake the others, carry on.
  *p = w.pending[--w.num_pending];
  uint64_t ballot = 0;
  for (unsigned m = mask; m != 0; m &= m - 1) {
    const int i = __builtin_ctz(m);
    if (w.value[i] != 0) ballot |= 1u << i;
  }
  for (unsigned m = mask; m != 0; m &= m - 1) {
    const int i = __builtin_ctz(m);
    uint64_t result = 0;
    if (op == WarpOp::kBallot) {
      result = ballot;
    } else if (op != WarpOp::kSync) {
      const int s = w.src[i];
      if (s >= 0 && (mask & (1u << s)) == 0) {
        fail_current(
            cudaErrorLaunchFailure,
            strprintf("%s(mask 0x%08x): lane %d of warp %d in block (%u,%u,%u) reads lane %d, "
                      "which is not in the mask (undefined on a GPU)",
                      name, mask, i, f.warp, block_idx.x, block_idx.y, block_idx.z, s));
      }
      result = w.value[s >= 0 ? s : i];
    }
    w.result[i] = result;
    if (i != lane) {
      const int rank = f.warp * 32 + i;
      l.fibers[rank].state = FiberState::kReady;
      l.ready.push_back(rank);
    }
  }
  return w.result[lane];
}

void device_fail(const char* what) {
  running("device_fail");
  fail_current(cudaErrorLaunchFailure, strprintf("%s: %s", where(*active->current).c_str(), what));
}

void* dynamic_shared_memory() {
  Launch& l = running("dynamic shared memory");
  return l.smem_bytes > 0 ? l.smem.data() : nullptr;
}

}  // namespace cudasim::detail

namespace cudasim {

cudaError_t launch(const char* name, dim3 grid, dim3 block, size_t dynamic_smem,
                   cudaStream_t stream, std::function<void()> body) {
  using namespace detail;
  ApiLock lock(api_mutex());
  install_fault_reporter();
  const char* kernel = name != nullptr ? name : "(unnamed kernel)";
  std::string config = config_string(grid, block, dynamic_smem);
  if (active != nullptr) {
    return set_error(
        cudaErrorNotSupported,
        strprintf("kernel '%s' launched from inside kernel '%s' (dynamic parallelism is "
                  "not simulated)",
                  kernel, active->name));
  }
  if (!stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle,
                     strprintf("kernel '%s' launched on a stream that does not exist", kernel));
  }
  const int device = current_device();
  if (stream_device(stream) != device) {
    return set_error(cudaErrorInvalidResourceHandle,
                     strprintf("kernel '%s' launched on a stream of device %d while device %d is "
                               "current (a launch must use a stream of the current device)",
                               kernel, stream_device(stream), device));
  }
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 || block.y > 1024 ||
      block.z > 64 || threads > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
    return set_error(cudaErrorInvalidConfiguration,
                     strprintf("kernel '%s': invalid launch configuration: %s (limits: block "
                               "(1024,1024,64) and 1024 threads, grid (2^31-1,65535,65535))",
                               kernel, config.c_str()));
  }
  if (dynamic_smem > kMaxDynamicSmem) {
    return set_error(
        cudaErrorInvalidValue,
        strprintf("kernel '%s': %zu bytes of dynamic shared memory exceed the %zu-byte "
                  "limit per block",
                  kernel, dynamic_smem, kMaxDynamicSmem));
  }
  touch_context(device);
  Counters& c = mutable_counters();
  ++c.kernel_launches;
  ++c.launches_by_kernel[kernel];
  const uint64_t number = next_launch_number();
  // The name is copied: a deferred launch may run after the caller's string is gone.
  return submit(stream, [=, kernel = std::string(kernel), config = std::move(config),
                         body = std::move(body)] {
    return run_launch(kernel.c_str(), config, grid, block, dynamic_smem, device, number, body);
  });
}

}  // namespace cudasim
