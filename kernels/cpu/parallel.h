// The CPU loop machinery: parallel_for over index ranges on ember's thread pool, and
// StridedLoop, which walks up to four strided operands over a broadcast iteration space.
//
// Note [Work-claiming pool]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// A parallel_for splits its range into chunks, publishes them, and then the calling thread
// and every pool thread that is running claim chunks one at a time (one atomic increment per
// chunk) until none are left; the call returns when every claimed chunk is done. Nothing
// waits for a thread that has not started: on a machine where another process holds a core,
// the threads that run do the work, and the call costs at most one chunk more than the same
// work on fewer threads. A fork-join team (OpenMP's) instead gives each thread a fixed share
// and waits at the barrier for the slowest, so one descheduled thread stalls every region.
// The pool's threads spin briefly after a job (a training step's next op comes within
// microseconds), then sleep. The float32 GEMM runs on the same pool: single-threaded BLAS
// calls on blocks of C (kernels/cpu/gemm.cpp), so there is one set of threads, never two.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>

#include <ember/kernels/common/layout.h>

namespace ember::kernels::cpu {

// Elements per chunk for memory-bound elementwise loops: below this a hand-off to another
// thread (about a microsecond) costs more than the loop itself.
inline constexpr int64_t kGrainCheap = 32768;
// For loops doing a transcendental per element (exp, log, erf, ...).
inline constexpr int64_t kGrainTranscendental = 4096;

// Threads that run a parallel_for, the calling thread included. The default is
// EMBER_NUM_THREADS when set (a positive integer), else OMP_NUM_THREADS, else the cores this
// process may run on. set_num_threads throws ValueError for n < 1.
int get_num_threads();
void set_num_threads(int n);

namespace detail {
using ChunkFn = void (*)(const void* body, int64_t begin, int64_t end);
// True on a pool thread, and on the calling thread while it runs chunks: a parallel_for there
// runs inline. (Inline, so the check costs one thread-local load.)
inline thread_local bool t_in_parallel_region = false;
inline bool in_parallel_region() {
  return t_in_parallel_region;
}
// Runs fn(body, b, e) over the chunks [i * chunk, min(n, (i + 1) * chunk)) of [0, n) on the
// pool. Returns false without running anything when the pool is busy with another caller's
// job (the caller then runs the range itself).
bool run_on_pool(int64_t n, int64_t chunk, ChunkFn fn, const void* body);
}  // namespace detail

// Calls f(begin, end) over disjoint chunks covering [0, n), each at least `grain` long (but
// the last). Small ranges, and calls made inside a parallel region (ember's or the user's
// OpenMP), are one direct call on the calling thread. Which thread runs a chunk varies; the
// chunks themselves depend only on n, grain and the thread count, so a kernel that combines
// per-chunk results in chunk order is deterministic. f must not throw: kernels validate before
// looping.
template <class F>
inline void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n <= grain || detail::in_parallel_region() || omp_in_parallel()) {
    f(int64_t{0}, n);
    return;
  }
  const int threads = get_num_threads();
  if (threads <= 1) {
    f(int64_t{0}, n);
    return;
  }
  // Enough chunks that a thread descheduled mid-chunk delays the call by a small share of it.
  constexpr int64_t kChunksPerThread = 8;
  const int64_t chunks = std::min((n + grain - 1) / grain, kChunksPerThread * threads);
  const int64_t chunk = (n + chunks - 1) / chunks;
  using Body = std::remove_reference_t<F>;
  const detail::ChunkFn call = [](const void* body, int64_t b, int64_t e) {
    (*static_cast<Body*>(const_cast<void*>(body)))(b, e);
  };
  if (!detail::run_on_pool(n, chunk, call, std::addressof(f))) f(int64_t{0}, n);
}

// The row-major contiguous layout over `like`'s sizes: the strides of an output operand.
inline Layout contiguous_like(const Layout& like) {
  Layout c;
  c.ndim = like.ndim;
  int64_t stride = 1;
  for (int d = like.ndim - 1; d >= 0; --d) {
    c.sizes[d] = like.sizes[d];
    c.strides[d] = stride;
    stride *= like.sizes[d];
  }
  return c;
}

// An iteration space shared by N operands (each with its own strides), coalesced so that
// contiguous runs become one long innermost dimension: [B, N] + [N] ends up as 2 dims with
// inner strides {1, 1, 0}, a contiguous same-shape op as 1 dim with strides {1, 1, 1}.
// `run` hands the body whole innermost runs, so the body's inner loop is a flat loop the
// compiler vectorises, and the outer coordinates advance like an odometer (no div/mod per
// element; one per chunk to find where a chunk starts).
template <int N>
struct StridedLoop {
  int ndim = 0;  // >= 1 after construction (a 0-d space is one run of length 1)
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];

  // All layouts must have the same sizes (the caller's contract).
  explicit StridedLoop(const Layout* const (&layouts)[N]) {
    const Layout& l0 = *layouts[0];
    // Drop size-1 dims (their strides are irrelevant), then merge neighbours.
    for (int d = 0; d < l0.ndim; ++d) {
      if (l0.sizes[d] == 1) continue;
      if (ndim > 0) {
        bool mergeable = true;
        for (int k = 0; k < N; ++k)
          mergeable &= strides[k][ndim - 1] == layouts[k]->strides[d] * l0.sizes[d];
        if (mergeable) {
          sizes[ndim - 1] *= l0.sizes[d];
          for (int k = 0; k < N; ++k) strides[k][ndim - 1] = layouts[k]->strides[d];
          continue;
        }
      }
      sizes[ndim] = l0.sizes[d];
      for (int k = 0; k < N; ++k) strides[k][ndim] = layouts[k]->strides[d];
      ++ndim;
    }
    if (ndim == 0) {
      ndim = 1;
      sizes[0] = 1;
      for (int k = 0; k < N; ++k) strides[k][0] = 0;
    }
  }

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }
  int64_t inner_size() const { return sizes[ndim - 1]; }
  int64_t inner_stride(int k) const { return strides[k][ndim - 1]; }

  // body(const int64_t (&offsets)[N], int64_t len): process `len` consecutive positions of
  // the innermost dim, operand k starting at element offset offsets[k] and stepping by
  // inner_stride(k). Covers linear positions [begin, end) of the iteration space.
  template <class Body>
  void run(int64_t begin, int64_t end, Body&& body) const {
    if (begin >= end) return;
    const int last = ndim - 1;
    int64_t coord[kMaxDims];
    int64_t off[N] = {};
    int64_t rest = begin;
    for (int d = last; d >= 0; --d) {
      coord[d] = rest % sizes[d];
      rest /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += coord[d] * strides[k][d];
    }
    int64_t pos = begin;
    while (pos < end) {
      const int64_t len = std::min(sizes[last] - coord[last], end - pos);
      body(off, len);
      pos += len;
      if (pos >= end) break;
      // Finish the inner run, then carry into the outer dims.
      for (int k = 0; k < N; ++k) off[k] += len * strides[k][last];
      coord[last] += len;
      for (int d = last; d > 0 && coord[d] == sizes[d]; --d) {
        for (int k = 0; k < N; ++k) off[k] -= sizes[d] * strides[k][d] - strides[k][d - 1];
        coord[d] = 0;
        ++coord[d - 1];
      }
    }
  }
};

}  // namespace ember::kernels::cpu
