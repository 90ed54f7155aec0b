// cudasim stand-in for <cub/device/device_reduce.cuh>: cub::DeviceReduce with CUB's two-phase
// temporary-storage API. Like CUB it launches two kernels on the given stream: one block per
// tile reduces its slice with BlockReduce into a partial in d_temp_storage, then a single
// block folds the partials (and the initial value) into d_out. Both run on the simulator, so
// they count as launches and their memory accesses are checked like ember's own kernels.
#pragma once

#include <cstdint>
#include <iterator>
#include <type_traits>

#include <cuda/functional>
#include <cuda/std/functional>
#include <cuda/std/limits>

#include "cub/block/block_reduce.cuh"
#include "cuda_runtime.h"
#include "cudasim/memory.h"

namespace cub {
namespace detail {

inline constexpr int kReduceBlockThreads = 256;
inline constexpr int64_t kReduceTileItems = kReduceBlockThreads * 4;
inline constexpr int64_t kReduceMaxTiles = 256;

// Each thread folds a grid-stride slice; threads with no item do not take part.
template <typename AccumT, typename InputIt, typename Op>
void reduce_tiles_kernel(InputIt in, int64_t n, AccumT* partials, Op op) {
  using Reduce = BlockReduce<AccumT, kReduceBlockThreads>;
  __shared__ typename Reduce::TempStorage temp;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kReduceBlockThreads;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kReduceBlockThreads;
  int64_t i = first + threadIdx.x;
  AccumT acc{};
  if (i < n) {
    acc = static_cast<AccumT>(in[i]);
    for (i += stride; i < n; i += stride) acc = op(acc, static_cast<AccumT>(in[i]));
  }
  const int64_t valid = n - first < kReduceBlockThreads ? n - first : kReduceBlockThreads;
  const AccumT block_total = Reduce(temp).Reduce(acc, op, static_cast<int>(valid));
  if (threadIdx.x == 0) partials[blockIdx.x] = block_total;
}

template <typename AccumT, typename OutputIt, typename Op, typename InitT>
void reduce_partials_kernel(const AccumT* partials, int num_partials, OutputIt out, Op op,
                            InitT init) {
  using Reduce = BlockReduce<AccumT, kReduceBlockThreads>;
  __shared__ typename Reduce::TempStorage temp;
  AccumT acc{};
  const int t = static_cast<int>(threadIdx.x);
  if (t < num_partials) {
    acc = partials[t];
    for (int i = t + kReduceBlockThreads; i < num_partials; i += kReduceBlockThreads) {
      acc = op(acc, partials[i]);
    }
  }
  const int valid = num_partials < kReduceBlockThreads ? num_partials : kReduceBlockThreads;
  AccumT total{};
  if (valid > 0) total = Reduce(temp).Reduce(acc, op, valid);
  if (t == 0) *out = valid > 0 ? op(static_cast<AccumT>(init), total) : static_cast<AccumT>(init);
}

template <typename It>
using iterator_value_t = typename std::iterator_traits<It>::value_type;

// CUB's rule for Sum's output type: the output iterator's value type, or the input's when the
// output iterator has none (void).
template <typename OutputIt, typename InputIt>
using sum_output_t = std::conditional_t<std::is_void_v<iterator_value_t<OutputIt>>,
                                        iterator_value_t<InputIt>, iterator_value_t<OutputIt>>;

}  // namespace detail

struct DeviceReduce {
  template <typename InputIteratorT, typename OutputIteratorT, typename ReductionOpT, typename T,
            typename NumItemsT>
  static cudaError_t Reduce(void* d_temp_storage, size_t& temp_storage_bytes, InputIteratorT d_in,
                            OutputIteratorT d_out, NumItemsT num_items, ReductionOpT reduction_op,
                            T init, cudaStream_t stream = 0) {
    using AccumT = std::decay_t<
        std::invoke_result_t<ReductionOpT, T, detail::iterator_value_t<InputIteratorT>>>;
    const int64_t n = static_cast<int64_t>(num_items);
    int64_t tiles = n > 0 ? (n + detail::kReduceTileItems - 1) / detail::kReduceTileItems : 0;
    if (tiles > detail::kReduceMaxTiles) tiles = detail::kReduceMaxTiles;
    const size_t partial_bytes = static_cast<size_t>(tiles > 0 ? tiles : 1) * sizeof(AccumT);
    const size_t needed = (partial_bytes + 255) / 256 * 256;
    if (d_temp_storage == nullptr) {
      temp_storage_bytes = needed;
      return cudaSuccess;
    }
    // Storage that is too small, or not device memory, would be an illegal access on a GPU.
    if (temp_storage_bytes < needed || !::cudasim::is_device_pointer(d_temp_storage)) {
      return cudaErrorInvalidValue;
    }
    auto* partials = static_cast<AccumT*>(d_temp_storage);
    if (tiles > 0) {
      const cudaError_t err = ::cudasim::launch(
          "cub::DeviceReduce(tiles)", dim3(static_cast<unsigned>(tiles)),
          dim3(detail::kReduceBlockThreads), 0, stream,
          [=] { detail::reduce_tiles_kernel<AccumT>(d_in, n, partials, reduction_op); });
      if (err != cudaSuccess) return err;
    }
    const int num_partials = static_cast<int>(tiles);
    return ::cudasim::launch(
        "cub::DeviceReduce(partials)", dim3(1), dim3(detail::kReduceBlockThreads), 0, stream, [=] {
          detail::reduce_partials_kernel<AccumT>(partials, num_partials, d_out, reduction_op, init);
        });
  }

  template <typename InputIteratorT, typename OutputIteratorT, typename NumItemsT>
  static cudaError_t Sum(void* d_temp_storage, size_t& temp_storage_bytes, InputIteratorT d_in,
                         OutputIteratorT d_out, NumItemsT num_items, cudaStream_t stream = 0) {
    using OutputT = detail::sum_output_t<OutputIteratorT, InputIteratorT>;
    return Reduce(d_temp_storage, temp_storage_bytes, d_in, d_out, num_items, ::cuda::std::plus<>{},
                  OutputT{}, stream);
  }

  // An empty input yields numeric_limits<T>::lowest() (Max) or max() (Min), as in CUB 3.
  template <typename InputIteratorT, typename OutputIteratorT, typename NumItemsT>
  static cudaError_t Max(void* d_temp_storage, size_t& temp_storage_bytes, InputIteratorT d_in,
                         OutputIteratorT d_out, NumItemsT num_items, cudaStream_t stream = 0) {
    using InputT = detail::iterator_value_t<InputIteratorT>;
    return Reduce(d_temp_storage, temp_storage_bytes, d_in, d_out, num_items, ::cuda::maximum<>{},
                  ::cuda::std::numeric_limits<InputT>::lowest(), stream);
  }

  template <typename InputIteratorT, typename OutputIteratorT, typename NumItemsT>
  static cudaError_t Min(void* d_temp_storage, size_t& temp_storage_bytes, InputIteratorT d_in,
                         OutputIteratorT d_out, NumItemsT num_items, cudaStream_t stream = 0) {
    using InputT = detail::iterator_value_t<InputIteratorT>;
    return Reduce(d_temp_storage, temp_storage_bytes, d_in, d_out, num_items, ::cuda::minimum<>{},
                  ::cuda::std::numeric_limits<InputT>::max(), stream);
  }
};

}  // namespace cub
