// CPU sort kernel (semantics: kernels/common/backend_kernels.inc).
//
// Each row is gathered into a buffer of (value, position) pairs and ordered with a comparator
// that breaks ties by position. That makes the order total, so an unstable std::sort (or a
// std::partial_sort when only the first k are wanted: topk, kthvalue) gives exactly the
// stable result, and the output never depends on the thread count. Rows are independent and
// split over threads.
#include <ember/kernels/cpu/backend.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

template <class T>
struct Entry {
  T value;
  int64_t pos;
};

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

// Strict weak order "a comes before b"; NaN is the largest value and equal values (NaN
// included) fall back to the position.
template <class T, bool kDescending>
struct Before {
  bool operator()(const Entry<T>& a, const Entry<T>& b) const {
    const bool an = is_nan(a.value), bn = is_nan(b.value);
    if (an || bn) {
      if (an && bn) return a.pos < b.pos;
      return kDescending ? an : bn;  // NaN first when descending, last when ascending
    }
    if (a.value != b.value) return kDescending ? a.value > b.value : a.value < b.value;
    return a.pos < b.pos;
  }
};

template <class T, bool kDescending>
void sort_typed(const T* x, T* values, int64_t* indices, int64_t outer, int64_t r, int64_t inner,
                int64_t k) {
  const int64_t rows = outer * inner;
  // A row costs about r log r; a chunk of rows should be worth a thread fork.
  const int64_t grain = std::max<int64_t>(1, kGrainCheap / std::max<int64_t>(1, 4 * r));
  parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    std::vector<Entry<T>> buf(static_cast<size_t>(r));
    for (int64_t row = b; row < e; ++row) {
      const int64_t o = row / inner, i = row % inner;
      const T* src = x + o * r * inner + i;
      for (int64_t j = 0; j < r; ++j) buf[j] = {src[j * inner], j};
      if (k < r)
        std::partial_sort(buf.begin(), buf.begin() + k, buf.end(), Before<T, kDescending>{});
      else
        std::sort(buf.begin(), buf.end(), Before<T, kDescending>{});
      const int64_t base = o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        if (values != nullptr) values[base + j * inner] = buf[j].value;
        indices[base + j * inner] = buf[j].pos;
      }
    }
  });
}

template <class T>
void sort_dispatch(const void* x, void* values, int64_t* indices, int64_t outer, int64_t r,
                   int64_t inner, int64_t k, bool descending) {
  const T* xt = static_cast<const T*>(x);
  T* vt = static_cast<T*>(values);
  if (descending)
    sort_typed<T, true>(xt, vt, indices, outer, r, inner, k);
  else
    sort_typed<T, false>(xt, vt, indices, outer, r, inner, k);
}

}  // namespace

void CpuBackend::sort(DType dt, const void* x, void* values, int64_t* indices, int64_t outer,
                      int64_t r, int64_t inner, int64_t k, bool descending) {
  if (k < 0 || k > r)
    throw ValueError("kernels::cpu::sort: k " + std::to_string(k) +
                     " is out of range for rows of length " + std::to_string(r));
  if (outer <= 0 || inner <= 0 || k == 0) return;
  switch (dt) {
    case DType::Float32:
      return sort_dispatch<float>(x, values, indices, outer, r, inner, k, descending);
    case DType::Float64:
      return sort_dispatch<double>(x, values, indices, outer, r, inner, k, descending);
    case DType::Int64:
      return sort_dispatch<int64_t>(x, values, indices, outer, r, inner, k, descending);
    case DType::Bool:
      return sort_dispatch<bool>(x, values, indices, outer, r, inner, k, descending);
  }
}

}  // namespace ember::kernels::cpu
