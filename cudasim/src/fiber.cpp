// cudasim fibers: the stacks the threads of a block run on, and the switch between them.
//
// A block of up to 1024 threads needs up to 1024 stacks; they are carved once from one mapping
// and reused by every block of every launch, so starting a thread costs a few stores. Each
// stack has a PROT_NONE page below it, so a kernel overflowing its stack faults (and the fault
// reporter says so) instead of corrupting its neighbour's.
//
// On x86-64 the switch is a dozen instructions: push the callee-saved registers, swap stack
// pointers, pop. The floating-point control state (MXCSR, x87 control word) is not switched:
// every fiber of the process runs with the same one and kernels do not change it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "internal.h"

#if CUDASIM_ASM_FIBERS
extern "C" void cudasim_fiber_switch(void** save_sp, void* load_sp);
extern "C" void cudasim_fiber_start();

// cudasim_fiber_switch(save_sp = rdi, load_sp = rsi). cudasim_fiber_start is where a fresh
// fiber "returns" to: it calls entry (r13) with arg (r12), both loaded from the prepared stack;
// entry never returns. `.cfi_undefined rip` ends debugger backtraces cleanly there.
__asm__(R"(
  .text
  .p2align 4
  .globl cudasim_fiber_switch
  .hidden cudasim_fiber_switch
  .type cudasim_fiber_switch, @function
cudasim_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cudasim_fiber_switch, .-cudasim_fiber_switch

  .p2align 4
  .globl cudasim_fiber_start
  .hidden cudasim_fiber_start
  .type cudasim_fiber_start, @function
cudasim_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %r12, %rdi
  callq *%r13
  ud2
  .cfi_endproc
  .size cudasim_fiber_start, .-cudasim_fiber_start
)");
#endif

namespace cudasim::detail {
namespace {

struct StackPool {
  char* base = nullptr;
  size_t page = 0;
  size_t slot_bytes = 0;  // guard page + stack
};

// Published for the fault reporter, which must not initialise anything from a signal handler.
const StackPool* volatile published_pool = nullptr;

StackPool& pool() {
  static StackPool p = [] {
    StackPool s;
    s.page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    s.slot_bytes = s.page + kFiberStackBytes;
    const size_t total = s.slot_bytes * kMaxBlockThreads;
    // Reserved inaccessible, then each stack opened: only the pages a kernel touches are ever
    // backed by memory.
    void* mem = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
      std::fprintf(stderr, "cudasim: cannot reserve %zu bytes for fiber stacks\n", total);
      std::abort();
    }
    s.base = static_cast<char*>(mem);
    for (int i = 0; i < kMaxBlockThreads; ++i) {
      if (mprotect(s.base + i * s.slot_bytes + s.page, kFiberStackBytes, PROT_READ | PROT_WRITE) !=
          0) {
        std::fprintf(stderr, "cudasim: mprotect of a fiber stack failed\n");
        std::abort();
      }
    }
    return s;
  }();
  return p;
}

const StackPool* publish_pool() {
  published_pool = &pool();
  return &pool();
}

char* stack_low(int slot) {
  static const StackPool* const p = publish_pool();
  return p->base + slot * p->slot_bytes + p->page;
}

#if !CUDASIM_ASM_FIBERS
struct Start {
  void (*entry)(void*);
  void* arg;
};
Start starts[kMaxBlockThreads];
void ucontext_start(int slot) {
  starts[slot].entry(starts[slot].arg);
}
#endif

}  // namespace

void fiber_prepare(FiberContext& ctx, int slot, void (*entry)(void*), void* arg) {
#if CUDASIM_ASM_FIBERS
  char* top = stack_low(slot) + kFiberStackBytes;  // 16-byte aligned (page multiple)
  // Popped by cudasim_fiber_switch: r15 r14 r13 r12 rbx rbp, then `ret` into
  // cudasim_fiber_start with rsp 16-byte aligned, as the call it makes requires.
  void** sp = reinterpret_cast<void**>(top - 9 * sizeof(void*));
  sp[0] = nullptr;
  sp[1] = nullptr;
  sp[2] = reinterpret_cast<void*>(entry);
  sp[3] = arg;
  sp[4] = nullptr;
  sp[5] = nullptr;
  sp[6] = reinterpret_cast<void*>(&cudasim_fiber_start);
  ctx.sp = sp;
#else
  starts[slot] = Start{entry, arg};
  getcontext(&ctx.uc);
  ctx.uc.uc_stack.ss_sp = stack_low(slot);
  ctx.uc.uc_stack.ss_size = kFiberStackBytes;
  ctx.uc.uc_link = nullptr;
  makecontext(&ctx.uc, reinterpret_cast<void (*)()>(&ucontext_start), 1, slot);
#endif
}

void fiber_switch(FiberContext& from, FiberContext& to) {
#if CUDASIM_ASM_FIBERS
  cudasim_fiber_switch(&from.sp, to.sp);
#else
  swapcontext(&from.uc, &to.uc);
#endif
}

bool in_fiber_guard_page(uintptr_t address) {
  const StackPool* p = published_pool;
  if (p == nullptr) return false;
  const auto base = reinterpret_cast<uintptr_t>(p->base);
  if (address < base || address >= base + p->slot_bytes * kMaxBlockThreads) return false;
  return (address - base) % p->slot_bytes < p->page;
}

}  // namespace cudasim::detail
