// cudasim fault reporter: explains a SIGSEGV/SIGBUS that the simulator caused on purpose (host
// code touching PROT_NONE device memory) or that a kernel caused (an access outside every
// allocation, a fiber stack overflow), then lets the process die as it would have anyway.
// Faults it cannot attribute pass to the previous handler untouched. Everything here is
// async-signal-safe: fixed buffers, write(2), and addresses published before any fault.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "internal.h"

namespace cudasim::detail {

const char* volatile running_kernel = nullptr;
volatile int running_device = 0;

namespace {

struct sigaction previous_segv;
struct sigaction previous_bus;
char alt_stack[64 * 1024];

void put(char*& out, const char* end, const char* s) {
  while (*s != '\0' && out < end) *out++ = *s++;
}

void put_hex(char*& out, const char* end, uintptr_t v) {
  char digits[2 + 2 * sizeof(v)];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v & 0xF];
    v >>= 4;
  } while (v != 0);
  put(out, end, "0x");
  while (n > 0 && out < end) *out++ = digits[--n];
}

void put_dec(char*& out, const char* end, int v) {
  char digits[12];
  int n = 0;
  unsigned u = v < 0 ? 0u - static_cast<unsigned>(v) : static_cast<unsigned>(v);
  do {
    digits[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0 && out < end) *out++ = '-';
  while (n > 0 && out < end) *out++ = digits[--n];
}

void on_fault(int sig, siginfo_t* info, void* /*context*/) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  const char* kernel = running_kernel;
  char buf[512];
  char* out = buf;
  const char* end = buf + sizeof(buf) - 1;
  bool ours = true;
  if (in_fiber_guard_page(addr)) {
    put(out, end, "cudasim: kernel '");
    put(out, end, kernel != nullptr ? kernel : "?");
    put(out, end, "' overflowed its 64 KiB fiber stack (deep recursion or large local arrays)");
  } else if (in_device_arena(addr) && kernel == nullptr) {
    put(out, end, "cudasim: host code dereferenced device pointer ");
    put_hex(out, end, addr);
    put(out, end,
        ": device memory is only accessible inside kernels and the runtime's copy "
        "and set calls (cudaMemcpy/cudaMemset)");
  } else if (in_device_arena(addr) && device_of(info->si_addr) >= 0 &&
             device_of(info->si_addr) != running_device) {
    // Safe here: the faulting thread runs a kernel and holds the API lock, so nothing is
    // changing the allocation table it reads.
    put(out, end, "cudasim: kernel '");
    put(out, end, kernel);
    put(out, end, "' on device ");
    put_dec(out, end, running_device);
    put(out, end, " accessed ");
    put_hex(out, end, addr);
    put(out, end, ", memory of device ");
    put_dec(out, end, device_of(info->si_addr));
    put(out, end,
        " (a kernel may only touch its own device's memory; is a tensor on the wrong "
        "device, or was it allocated while another device was current?)");
  } else if (in_device_arena(addr)) {
    put(out, end, "cudasim: kernel '");
    put(out, end, kernel);
    put(out, end, "' accessed device address ");
    put_hex(out, end, addr);
    put(out, end, ", outside every live allocation (out of bounds, or freed memory)");
  } else if (kernel != nullptr) {
    put(out, end, "cudasim: kernel '");
    put(out, end, kernel);
    put(out, end, "' crashed accessing address ");
    put_hex(out, end, addr);
    put(out, end, " (a host pointer or a wild pointer?)");
  } else {
    ours = false;
  }
  if (ours) {
    *out++ = '\n';
    ssize_t ignored = write(STDERR_FILENO, buf, static_cast<size_t>(out - buf));
    (void)ignored;
  }
  // Returning re-executes the faulting access under the previous disposition, which then
  // does whatever it would have done without us (by default: die with this signal).
  sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, nullptr);
}

}  // namespace

void install_fault_reporter() {
  static bool installed = false;  // callers hold the API mutex
  if (installed) return;
  installed = true;
  stack_t current;
  // A handler for a stack overflow cannot run on the overflowed stack.
  if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) != 0) {
    stack_t alt{};
    alt.ss_sp = alt_stack;
    alt.ss_size = sizeof(alt_stack);
    sigaltstack(&alt, nullptr);
  }
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_sigaction = &on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &previous_segv);
  sigaction(SIGBUS, &action, &previous_bus);
}

}  // namespace cudasim::detail
