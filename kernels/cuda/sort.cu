// sort / argsort / topk / kthvalue on the device: CUB's segmented radix sort over an
// order-preserving unsigned encoding of the values, one segment per row.
//
// The rows of the contiguous (outer, r, inner) view run along r with stride `inner`, so a first
// kernel lays them out as contiguous segments of (key, position) pairs; CUB sorts each segment
// stably; a last kernel writes the first k of each row's order back in (outer, k, inner)
// layout, values gathered from x by position. The encoding makes the radix order the CPU's
// comparison order: -0.0 and +0.0 get one key (they compare equal, so stability keeps their
// input order), every NaN gets the largest key (NaN counts as larger than every number, as in
// PyTorch), and signed integers have their sign bit flipped.
#include <ember/kernels/cuda/backend.h>

#include <cub/cub.cuh>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/counters.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>
#include <ember/kernels/cuda/memory.h>

namespace ember::kernels::cuda {
namespace {

// The key type of each dtype's encoding.
template <class T>
using SortKey = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;

template <class T>
__device__ __forceinline__ SortKey<T> sort_key(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? 1u : 0u;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  } else {
    using K = SortKey<T>;
    constexpr K kSign = K{1} << (sizeof(K) * 8 - 1);
    if (v != v) return ~K{0};  // every NaN, whatever its sign and payload
    if (v == T(0)) v = T(0);   // -0.0 -> +0.0
    K bits;
    memcpy(&bits, &v, sizeof(bits));
    return (bits & kSign) != 0 ? ~bits : bits | kSign;
  }
}

// Segment s = o * inner + i holds row x[o, :, i]: keys and positions 0..r.
template <class T>
__global__ void sort_prepare_kernel(const T* x, SortKey<T>* keys, int64_t* positions, int* offsets,
                                    int64_t r, int64_t inner, int64_t total, int64_t segments) {
  for (int64_t e = global_thread_index(); e < total; e += grid_stride()) {
    const int64_t s = e / r, j = e % r, o = s / inner, i = s % inner;
    keys[e] = sort_key(x[(o * r + j) * inner + i]);
    positions[e] = j;
    if (j == 0) offsets[s] = static_cast<int>(e);
    if (e == total - 1) offsets[segments] = static_cast<int>(total);
  }
}

// values[o, t, i] = x[o, pos, i] and indices[o, t, i] = pos for the t-th of row (o, i), t < k.
template <class T>
__global__ void sort_finish_kernel(const T* x, const int64_t* sorted_positions, T* values,
                                   int64_t* indices, int64_t r, int64_t inner, int64_t k,
                                   int64_t total) {
  for (int64_t e = global_thread_index(); e < total; e += grid_stride()) {
    const int64_t i = e % inner, t = (e / inner) % k, o = e / (inner * k);
    const int64_t pos = sorted_positions[(o * inner + i) * r + t];
    indices[e] = pos;
    if (values != nullptr) values[e] = x[(o * r + pos) * inner + i];
  }
}

}  // namespace

void CudaBackend::sort(DType dt, const void* x, void* values, int64_t* indices, int64_t outer,
                       int64_t r, int64_t inner, int64_t k, bool descending) {
  EMBER_CHECK(k >= 0 && k <= r, ValueError, "kernels::cuda::sort: k ", k,
              " is out of range for rows of length ", r);
  if (outer <= 0 || inner <= 0 || k == 0) return;
  const int64_t total = outer * r * inner;
  const int64_t segments = outer * inner;
  // CUB's segmented sort counts items and offsets in int; the op layer sorts larger tensors on
  // the host.
  if (total > INT_MAX) {
    throw DeviceError(::ember::detail::str_cat("kernels::cuda::sort: ", total,
                                               " elements exceed CUB's 32-bit item count"));
  }
  ensure_device(device_);
  const cudaStream_t stream = as_stream(stream_);
  const auto tag = reinterpret_cast<uintptr_t>(stream_);
  visit_dtype("sort", dt, [&]<class T>() {
    using K = SortKey<T>;
    const size_t n = static_cast<size_t>(total);
    size_t temp_bytes = 0;
    auto cub_sort = [&](void* temp, K* keys_in, K* keys_out, int64_t* pos_in, int64_t* pos_out,
                        int* offsets) {
      const int items = static_cast<int>(total), segs = static_cast<int>(segments);
      return descending ? cub::DeviceSegmentedRadixSort::SortPairsDescending(
                              temp, temp_bytes, keys_in, keys_out, pos_in, pos_out, items, segs,
                              offsets, offsets + 1, 0, int{sizeof(K) * 8}, stream)
                        : cub::DeviceSegmentedRadixSort::SortPairs(
                              temp, temp_bytes, keys_in, keys_out, pos_in, pos_out, items, segs,
                              offsets, offsets + 1, 0, int{sizeof(K) * 8}, stream);
    };
    EMBER_CUDA_CHECK(cub_sort(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
    // Every buffer is stream-ordered device memory: blocks freed here are reused only by work
    // queued after this sort on the same stream.
    struct Buffers {
      BlockAllocator& memory;
      void* ptr[6] = {};
      ~Buffers() {
        for (void* p : ptr)
          if (p != nullptr) memory.deallocate(p);
      }
    } buffers{device_memory_};
    const size_t sizes[6] = {n * sizeof(K), n * sizeof(K), n * sizeof(int64_t), n * sizeof(int64_t),
                             (static_cast<size_t>(segments) + 1) * sizeof(int),
                             // Never null: CUB takes a null temp pointer for a size query
                             // and would sort nothing.
                             std::max<size_t>(temp_bytes, 1)};
    for (int b = 0; b < 6; ++b) buffers.ptr[b] = device_memory_.allocate(sizes[b], tag);
    auto* keys_in = static_cast<K*>(buffers.ptr[0]);
    auto* keys_out = static_cast<K*>(buffers.ptr[1]);
    auto* pos_in = static_cast<int64_t*>(buffers.ptr[2]);
    auto* pos_out = static_cast<int64_t*>(buffers.ptr[3]);
    auto* offsets = static_cast<int*>(buffers.ptr[4]);
    launch("sort_prepare", sort_prepare_kernel<T>, grid_for(total), dim3(kBlockSize), 0, stream,
           static_cast<const T*>(x), keys_in, pos_in, offsets, r, inner, total, segments);
    detail::count(detail::Counter::kKernelLaunches);  // as cudasim counts CUB's sort
    EMBER_CUDA_CHECK(cub_sort(buffers.ptr[5], keys_in, keys_out, pos_in, pos_out, offsets));
    const int64_t out_total = outer * k * inner;
    launch("sort_finish", sort_finish_kernel<T>, grid_for(out_total), dim3(kBlockSize), 0, stream,
           static_cast<const T*>(x), static_cast<const int64_t*>(pos_out), static_cast<T*>(values),
           indices, r, inner, k, out_total);
  });
}

}  // namespace ember::kernels::cuda
