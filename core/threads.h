// The CPU backend's thread count, as torch::set_num_threads / get_num_threads.
//
// One pool runs every parallel CPU loop and GEMM of the process; the calling thread is one of
// its threads. The default is EMBER_NUM_THREADS when set (a positive integer), else a
// single-number OMP_NUM_THREADS, else the cores this process may run on.
#pragma once

namespace ember {

// Threads a parallel CPU op uses, the calling thread included.
int get_num_threads();
// Throws ValueError for n < 1, and when called from inside a parallel region.
void set_num_threads(int n);

// While alive, the CPU ops this thread runs use this thread alone, never the pool: for a
// background thread (a data loader's worker, a checkpoint writer) that must not take the
// pool's threads from the training loop. Guards nest.
class SingleThreadGuard {
 public:
  SingleThreadGuard();
  ~SingleThreadGuard();
  SingleThreadGuard(const SingleThreadGuard&) = delete;
  SingleThreadGuard& operator=(const SingleThreadGuard&) = delete;

 private:
  bool saved_;
};

}  // namespace ember
