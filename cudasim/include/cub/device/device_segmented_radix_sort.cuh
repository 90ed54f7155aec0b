// cudasim stand-in for <cub/device/device_segmented_radix_sort.cuh>: SortPairs and
// SortPairsDescending with CUB's two-phase temporary-storage API, for unsigned integer keys
// (the keys ember sorts by: order-preserving encodings of its dtypes). Like CUB's radix sort
// it is stable in both directions and compares only bits [begin_bit, end_bit). It runs as one
// simulated launch on the given stream, so it is queued (deferred mode) and its memory
// accesses are checked like a kernel's; each segment is sorted with std::stable_sort.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include "cuda_runtime.h"
#include "cudasim/memory.h"

namespace cub {

struct DeviceSegmentedRadixSort {
  template <typename KeyT, typename ValueT, typename BeginOffsetIteratorT,
            typename EndOffsetIteratorT>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes,
                               const KeyT* d_keys_in, KeyT* d_keys_out, const ValueT* d_values_in,
                               ValueT* d_values_out, int num_items, int num_segments,
                               BeginOffsetIteratorT d_begin_offsets,
                               EndOffsetIteratorT d_end_offsets, int begin_bit = 0,
                               int end_bit = sizeof(KeyT) * 8, cudaStream_t stream = 0) {
    return sort<false>(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, d_values_in,
                       d_values_out, num_items, num_segments, d_begin_offsets, d_end_offsets,
                       begin_bit, end_bit, stream);
  }

  template <typename KeyT, typename ValueT, typename BeginOffsetIteratorT,
            typename EndOffsetIteratorT>
  static cudaError_t SortPairsDescending(void* d_temp_storage, size_t& temp_storage_bytes,
                                         const KeyT* d_keys_in, KeyT* d_keys_out,
                                         const ValueT* d_values_in, ValueT* d_values_out,
                                         int num_items, int num_segments,
                                         BeginOffsetIteratorT d_begin_offsets,
                                         EndOffsetIteratorT d_end_offsets, int begin_bit = 0,
                                         int end_bit = sizeof(KeyT) * 8, cudaStream_t stream = 0) {
    return sort<true>(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, d_values_in,
                      d_values_out, num_items, num_segments, d_begin_offsets, d_end_offsets,
                      begin_bit, end_bit, stream);
  }

 private:
  template <bool kDescending, typename KeyT, typename ValueT, typename BeginIt, typename EndIt>
  static cudaError_t sort(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* keys_in,
                          KeyT* keys_out, const ValueT* values_in, ValueT* values_out,
                          int num_items, int num_segments, BeginIt begin, EndIt end, int begin_bit,
                          int end_bit, cudaStream_t stream) {
    static_assert(std::is_integral_v<KeyT> && std::is_unsigned_v<KeyT>,
                  "cudasim simulates DeviceSegmentedRadixSort for unsigned integer keys only");
    if (d_temp_storage == nullptr) {
      temp_storage_bytes = 256;  // what a real sort needs is larger; callers must not assume
      return cudaSuccess;
    }
    if (temp_storage_bytes < 256 || !::cudasim::is_device_pointer(d_temp_storage) ||
        num_items < 0 || num_segments < 0 || begin_bit < 0 || end_bit > int{sizeof(KeyT) * 8} ||
        begin_bit >= end_bit) {
      return cudaErrorInvalidValue;
    }
    if (num_items == 0 || num_segments == 0) return cudaSuccess;
    const KeyT mask = static_cast<KeyT>((end_bit - begin_bit == int{sizeof(KeyT) * 8}
                                             ? ~KeyT{0}
                                             : (KeyT{1} << (end_bit - begin_bit)) - 1)
                                        << begin_bit);
    return ::cudasim::launch("cub::DeviceSegmentedRadixSort", dim3(1), dim3(1), 0, stream, [=] {
      std::vector<int> order;
      for (int s = 0; s < num_segments; ++s) {
        const int lo = begin[s], hi = end[s];
        if (hi <= lo) continue;
        order.resize(static_cast<size_t>(hi - lo));
        std::iota(order.begin(), order.end(), lo);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
          const KeyT ka = keys_in[a] & mask, kb = keys_in[b] & mask;
          return kDescending ? kb < ka : ka < kb;
        });
        std::vector<KeyT> keys(order.size());
        std::vector<ValueT> values(order.size());
        for (size_t i = 0; i < order.size(); ++i) {
          keys[i] = keys_in[order[i]];
          values[i] = values_in[order[i]];
        }
        std::copy(keys.begin(), keys.end(), keys_out + lo);
        std::copy(values.begin(), values.end(), values_out + lo);
      }
    });
  }
};

}  // namespace cub
