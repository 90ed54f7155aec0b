// The CPU thread count (threads.h): the pool lives in kernels/cpu/parallel.cpp.
#include <ember/core/threads.h>

#include <ember/kernels/cpu/parallel.h>

namespace ember {

int get_num_threads() {
  return kernels::cpu::get_num_threads();
}
void set_num_threads(int n) {
  kernels::cpu::set_num_threads(n);
}

// The pool's own marker for "inside a parallel region": a parallel_for there runs inline.
SingleThreadGuard::SingleThreadGuard() : saved_(kernels::cpu::detail::t_in_parallel_region) {
  kernels::cpu::detail::t_in_parallel_region = true;
}
SingleThreadGuard::~SingleThreadGuard() {
  kernels::cpu::detail::t_in_parallel_region = saved_;
}

}  // namespace ember
