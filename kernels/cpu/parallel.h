// The CPU loop machinery: parallel_for over index ranges on the OpenMP thread pool (the same
// libgomp pool oneDNN uses, so BLAS and our loops share one set of threads), and
// StridedLoop, which walks up to four strided operands over a broadcast iteration space.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include <ember/kernels/common/layout.h>

namespace ember::kernels::cpu {

// Elements per chunk for memory-bound elementwise loops: below this a thread fork
// (microseconds) costs more than the loop itself.
inline constexpr int64_t kGrainCheap = 32768;
// For loops doing a transcendental per element (exp, log, erf, ...).
inline constexpr int64_t kGrainTranscendental = 4096;

int get_num_threads();
void set_num_threads(int n);

// Calls f(begin, end) over disjoint chunks covering [0, n). Forks only when n > grain and we
// are not already inside a parallel region; otherwise it is a direct call, so small tensors
// pay nothing. f must not throw (an exception cannot leave an OpenMP region): kernels
// validate before looping.
template <class F>
inline void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  if (n <= grain || omp_in_parallel()) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t max_threads = omp_get_max_threads();
  const int want = static_cast<int>(std::min<int64_t>(max_threads, (n + grain - 1) / grain));
  if (want <= 1) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(want)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin < end) f(begin, end);
  }
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
