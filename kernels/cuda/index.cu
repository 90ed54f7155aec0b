// CUDA gather / scatter_add along one dim (kernels/cuda/index.h).
//
// Both walk the index's shape with the strided operand's stride along `dim` zeroed, so a
// StridedIndexer (loops.h) supplies the offset of every coordinate except `dim`, and the
// index value times the real stride supplies that one (the CPU kernels' scheme). index, out
// (gather) and src (scatter_add) are contiguous with the index's shape, so their offset is
// the linear position itself. A bad index is not an error the kernel can throw: its element
// is skipped and its position noted, and the launch's last block records the first one in
// the caller's IndexCheck (kernels/cuda/index_check.h).
#include <ember/kernels/cuda/index.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/index_check_device.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

// One unsigned compare covers both ends: negative indices wrap to huge values.
__device__ __forceinline__ bool index_ok(int64_t j, int64_t size) {
  return static_cast<uint64_t>(j) < static_cast<uint64_t>(size);
}

template <class T>
__device__ __forceinline__ void atomic_add(T* address, T value) {
  if constexpr (std::is_same_v<T, int64_t>) {
    // No signed 64-bit atomicAdd in CUDA; two's-complement addition is the same bits.
    atomicAdd(reinterpret_cast<unsigned long long*>(address),
              static_cast<unsigned long long>(value));
  } else {
    atomicAdd(address, value);
  }
}

// gather moves bits: U is the unsigned integer of the element's size.
// Every thread reaches the end (no early return): is_last_block is a block barrier.
template <class U>
__global__ void gather_kernel(U* out, const U* x, const int64_t* index, StridedIndexer<1> rest,
                              int64_t dim_stride, int64_t dim_size, int64_t n, int dim,
                              IndexCheck* check) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const int64_t j = index[i];
    if (!index_ok(j, dim_size)) {
      note_bad_position(check, i);
      continue;
    }
    int64_t off[1];
    rest.offsets(i, off);
    out[i] = x[off[0] + j * dim_stride];
  }
  if (is_last_block(check) && threadIdx.x == 0)
    finish_launch(check, CheckedKernel::Gather, index, dim_size, dim);
}

template <class T>
__global__ void scatter_add_kernel(T* out, const T* src, const int64_t* index,
                                   StridedIndexer<1> rest, int64_t dim_stride, int64_t dim_size,
                                   int64_t n, int dim, IndexCheck* check) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const int64_t j = index[i];
    if (!index_ok(j, dim_size)) {
      note_bad_position(check, i);
      continue;
    }
    int64_t off[1];
    rest.offsets(i, off);
    atomic_add(out + off[0] + j * dim_stride, src[i]);
  }
  if (is_last_block(check) && threadIdx.x == 0)
    finish_launch(check, CheckedKernel::ScatterAdd, index, dim_size, dim);
}

// The strided operand's layout with `dim`'s stride removed, as an indexer, and that stride.
struct DimSplit {
  StridedIndexer<1> rest;
  int64_t dim_stride = 0;
};

DimSplit split_dim(const char* kernel, int dim, const Layout& layout) {
  Layout rest = layout;
  int64_t dim_stride = 0;
  if (layout.ndim > 0) {  // 0-d: the only valid index is 0
    EMBER_CHECK(dim >= 0 && dim < layout.ndim, ValueError, "kernels::cuda::", kernel, ": dim ", dim,
                " out of range for ", layout.ndim, " dims");
    dim_stride = layout.strides[dim];
    rest.strides[dim] = 0;
  }
  const Layout* const layouts[1] = {&rest};
  return DimSplit{StridedIndexer<1>::make(layouts), dim_stride};
}

// index_select: element e of out (outer, n, inner) copies its row's element from x.
// Every thread reaches the end (no early return): is_last_block is a block barrier.
template <class U>
__global__ void index_select_kernel(U* out, const U* x, const int64_t* index, int64_t r, int64_t n,
                                    int64_t inner, int64_t total, int dim, IndexCheck* check) {
  for (int64_t e = global_thread_index(); e < total; e += grid_stride()) {
    const int64_t j = e % inner, row = e / inner, i = row % n, o = row / n;
    const int64_t k = index[i];
    if (index_ok(k, r)) {
      out[e] = x[(o * r + k) * inner + j];
    } else {
      note_bad_position(check, i);
    }
  }
  if (is_last_block(check) && threadIdx.x == 0)
    finish_launch(check, CheckedKernel::IndexSelect, index, r, dim);
}

}  // namespace

void gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size, const void* x,
            const int64_t* index, void* out, IndexCheck* check, void* stream) {
  const DimSplit xs = split_dim("gather", dim, x_layout);
  const int64_t n = x_layout.numel();
  if (n <= 0) return;
  visit_bits("gather", dt, [&]<class U>() {
    launch("gather", gather_kernel<U>, grid_for(n), dim3(kBlockSize), 0, as_stream(stream),
           static_cast<U*>(out), static_cast<const U*>(x), index, xs.rest, xs.dim_stride,
           x_dim_size, n, dim, check);
  });
}

void scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size, void* out,
                 const int64_t* index, const void* src, IndexCheck* check, void* stream) {
  EMBER_CHECK(dt != DType::Bool, DTypeError,
              "kernels::cuda::scatter_add: unsupported dtype bool (float32, float64, int64 only)");
  const DimSplit os = split_dim("scatter_add", dim, out_layout);
  const int64_t n = out_layout.numel();
  if (n <= 0) return;
  visit_dtype("scatter_add", dt, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      launch("scatter_add", scatter_add_kernel<T>, grid_for(n), dim3(kBlockSize), 0,
             as_stream(stream), static_cast<T*>(out), static_cast<const T*>(src), index, os.rest,
             os.dim_stride, out_dim_size, n, dim, check);
    }
  });
}

void index_select(DType dt, int dim, const void* x, int64_t outer, int64_t r, int64_t inner,
                  const int64_t* index, int64_t n, void* out, IndexCheck* check, void* stream) {
  const int64_t total = outer * n * inner;
  if (total <= 0) return;
  visit_bits("index_select", dt, [&]<class U>() {
    launch("index_select", index_select_kernel<U>, grid_for(total), dim3(kBlockSize), 0,
           as_stream(stream), static_cast<U*>(out), static_cast<const U*>(x), index, r, n, inner,
           total, dim, check);
  });
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size,
                         const void* x, const int64_t* index, void* out) {
  ensure_device(device_);
  cuda::gather(dt, dim, x_layout, x_dim_size, x, index, out, check_, stream_);
  checked_kernel_queued();
}

void CudaBackend::scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size,
                              void* out, const int64_t* index, const void* src) {
  ensure_device(device_);
  cuda::scatter_add(dt, dim, out_layout, out_dim_size, out, index, src, check_, stream_);
  checked_kernel_queued();
}

void CudaBackend::index_select(DType dt, int dim, const void* x, int64_t outer, int64_t r,
                               int64_t inner, const int64_t* index, int64_t n, void* out) {
  ensure_device(device_);
  cuda::index_select(dt, dim, x, outer, r, inner, index, n, out, check_, stream_);
  checked_kernel_queued();
}

}  // namespace ember::kernels::cuda
