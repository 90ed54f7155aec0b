// CUDA data movement (kernels/cuda/copy.h): strided copy with dtype conversion (all 16 dtype
// pairs), strided fill, arange. Same-dtype copies move bits through an unsigned type of the
// element's size, so only conversions instantiate per dtype pair. Paths, fastest first:
//   contiguous, same dtype       cudaMemcpyAsync device to device (no kernel)
//   transposed (one side         32 x 32 tiles staged in shared memory, so both the reads and
//   contiguous along the last    the writes of a warp touch consecutive addresses (the
//   dim, the other along the     classic tiled transpose); `.t().contiguous()` and
//   one before)                  `permute(...).contiguous()` land here
//   anything else                one StridedIndexer kernel (loops.h)
#include <ember/kernels/cuda/copy.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include <ember/kernels/common/convert.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/common/macros.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

using kernels::convert;  // kernels/common/convert.h: the same answer on every backend

// ---------------------------------------------------------------------------------------
// Kernels

template <class D, class S>
__global__ void copy_kernel(D* dst, const S* src, StridedIndexer<2> ix, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = convert<D>(src[off[1]]);
  }
}

constexpr int kTile = 32;
constexpr int kTileRows = 8;  // threads per block: kTile x kTileRows, each moving 4 elements

// One kTile x kTile tile of one matrix of the batch (blockIdx.z): the last two dims of the
// space are (rows, cols), src has stride 1 along rows and dst stride 1 along cols. Threads
// read the tile walking src's contiguous dim, then write it walking dst's, through shared
// memory padded by one column so neither phase has bank conflicts.
template <class D, class S>
__global__ void copy_transpose_kernel(D* dst, const S* src, StridedIndexer<2> ix, int64_t rows,
                                      int64_t cols, int64_t dst_row_stride,
                                      int64_t src_col_stride) {
  __shared__ S tile[kTile][kTile + 1];
  int64_t base[2];
  ix.offsets(static_cast<int64_t>(blockIdx.z) * rows * cols, base);
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int k = ty; k < kTile; k += kTileRows) {
    const int64_t i = row0 + tx, j = col0 + k;
    if (i < rows && j < cols) tile[k][tx] = src[base[1] + i + j * src_col_stride];
  }
  __syncthreads();
  for (int k = ty; k < kTile; k += kTileRows) {
    const int64_t i = row0 + k, j = col0 + tx;
    if (i < rows && j < cols) dst[base[0] + i * dst_row_stride + j] = convert<D>(tile[tx][k]);
  }
}

template <class D>
__global__ void fill_kernel(D* dst, D value, StridedIndexer<1> ix, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    int64_t off[1];
    ix.offsets(i, off);
    dst[off[0]] = value;
  }
}

template <class D>
__global__ void arange_kernel(D* out, int64_t n, double start, double step) {
  // start + i * step in double, then converted: no accumulated rounding error (as the CPU).
  for (int64_t i = global_thread_index(); i < n; i += grid_stride())
    out[i] = convert<D>(start + static_cast<double>(i) * step);
}

// ---------------------------------------------------------------------------------------
// Launchers

// Launches the tiled transpose when the (coalesced) space is a batch of matrices that one
// side stores row-major and the other column-major; returns false otherwise.
template <class D, class S>
bool try_copy_transpose(StridedIndexer<2> ix, const S* src, D* dst, cudaStream_t stream) {
  if (ix.ndim < 2) return false;
  const int r = ix.ndim - 2, c = ix.ndim - 1;
  // The copy is positionwise, so the roles of the last two dims may be swapped: make src the
  // side that is contiguous along `r`.
  if (ix.strides[1][c] == 1 && ix.strides[0][r] == 1) {
    std::swap(ix.sizes[r], ix.sizes[c]);
    for (int k = 0; k < 2; ++k) std::swap(ix.strides[k][r], ix.strides[k][c]);
  }
  if (!(ix.strides[1][r] == 1 && ix.strides[0][c] == 1)) return false;
  const int64_t rows = ix.sizes[r], cols = ix.sizes[c];
  // Small matrices gain nothing from the tile; grid y and z are limited to 65535.
  if (rows < kTile || cols < kTile) return false;
  const int64_t batch = ix.numel_outer(2);
  const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
  if (row_tiles > 65535 || batch > 65535 || col_tiles > (int64_t{1} << 31) - 1) return false;
  launch("copy_transpose", copy_transpose_kernel<D, S>,
         dim3(static_cast<unsigned>(col_tiles), static_cast<unsigned>(row_tiles),
              static_cast<unsigned>(batch)),
         dim3(kTile, kTileRows), 0, stream, dst, src, ix, rows, cols, ix.strides[0][r],
         ix.strides[1][c]);
  return true;
}

template <class D, class S>
void copy_typed(const Layout& sl, const S* src, const Layout& dl, D* dst, cudaStream_t stream) {
  const int64_t n = sl.numel();
  if (n <= 0) return;
  const Layout* const layouts[2] = {&dl, &sl};
  const StridedIndexer<2> ix = StridedIndexer<2>::make(layouts);
  if (try_copy_transpose(ix, src, dst, stream)) return;
  launch("copy", copy_kernel<D, S>, grid_for(n), dim3(kBlockSize), 0, stream, dst, src, ix, n);
}

// The byte every byte of `v` equals, or -1 when they differ.
template <class D>
int repeated_byte(D v) {
  unsigned char bytes[sizeof(D)];
  std::memcpy(bytes, &v, sizeof(D));
  for (size_t i = 1; i < sizeof(D); ++i)
    if (bytes[i] != bytes[0]) return -1;
  return bytes[0];
}

}  // namespace

void copy(DType src_dt, const Layout& src_layout, const void* src, DType dst_dt,
          const Layout& dst_layout, void* dst, void* stream) {
  const cudaStream_t s = as_stream(stream);
  if (src_dt == dst_dt) {
    const int64_t n = src_layout.numel();
    if (n <= 0) return;
    if (src_layout.is_contiguous() && dst_layout.is_contiguous()) {
      EMBER_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n * dtype_size(src_dt)),
                                       cudaMemcpyDeviceToDevice, s));
      return;
    }
    visit_bits("copy", src_dt, [&]<class U>() {
      copy_typed(src_layout, static_cast<const U*>(src), dst_layout, static_cast<U*>(dst), s);
    });
    return;
  }
  visit_dtype("copy", src_dt, [&]<class S>() {
    visit_dtype("copy", dst_dt, [&]<class D>() {
      copy_typed(src_layout, static_cast<const S*>(src), dst_layout, static_cast<D*>(dst), s);
    });
  });
}

void fill(DType dt, const Layout& layout, void* dst, double value, void* stream) {
  const int64_t n = layout.numel();
  if (n <= 0) return;
  const cudaStream_t s = as_stream(stream);
  visit_dtype("fill", dt, [&]<class D>() {
    const D v = convert<D>(value);
    D* d = static_cast<D*>(dst);
    const int byte = repeated_byte(v);
    if (byte >= 0 && layout.is_contiguous()) {
      EMBER_CUDA_CHECK(cudaMemsetAsync(d, byte, static_cast<size_t>(n) * sizeof(D), s));
      return;
    }
    const Layout* const layouts[1] = {&layout};
    launch("fill", fill_kernel<D>, grid_for(n), dim3(kBlockSize), 0, s, d, v,
           StridedIndexer<1>::make(layouts), n);
  });
}

void arange(DType dt, void* out, int64_t n, double start, double step, void* stream) {
  if (n <= 0) return;
  visit_dtype("arange", dt, [&]<class D>() {
    launch("arange", arange_kernel<D>, grid_for(n), dim3(kBlockSize), 0, as_stream(stream),
           static_cast<D*>(out), n, start, step);
  });
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::copy(DType src_dt, const Layout& src_layout, const void* src, DType dst_dt,
                       const Layout& dst_layout, void* dst) {
  ensure_device(device_);
  cuda::copy(src_dt, src_layout, src, dst_dt, dst_layout, dst, stream_);
}

void CudaBackend::fill(DType dt, const Layout& layout, void* dst, double value) {
  ensure_device(device_);
  cuda::fill(dt, layout, dst, value, stream_);
}

void CudaBackend::arange(DType dt, void* out, int64_t n, double start, double step) {
  ensure_device(device_);
  cuda::arange(dt, out, n, start, step, stream_);
}

}  // namespace ember::kernels::cuda
