// CUDA reductions over (outer, r, inner), the contract of the reduce entry points
// (kernels/common/backend_kernels.inc).
//
// rows     (inner == 1): one block per row; each thread folds a strided slice of the row,
//          then cub::BlockReduce combines the threads. Also the whole-tensor path for small
//          tensors, where one block beats the two launches of a device-wide reduction.
// columns  (inner > 1):  a 32 x 8 block per tile of 32 adjacent outputs; the 32 lanes read
//          adjacent addresses (coalesced), the 8 rows of threads split r, and row 0 folds the
//          8 partials from shared memory in a fixed order.
// device   (outer == inner == 1, large r): cub::DeviceReduce.
// Every path combines partials in an order fixed by the launch shape, so results are
// deterministic run to run (no atomics).
#include <ember/kernels/cuda/reduce.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cub/cub.cuh>
#include <cuda/std/limits>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/unary_functors.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/launch.h>

namespace ember::kernels::cuda {
namespace {

// Above this many elements a whole-tensor reduction goes to cub::DeviceReduce, which spreads
// it over the GPU; below it one block of the rows kernel is faster than CUB's two launches.
constexpr int64_t kDeviceReduceMin = int64_t{1} << 16;
// The rows kernel loops when there are more rows than blocks (gridDim.x has room for 2^31,
// but a few waves of blocks are enough to fill any GPU).
constexpr int64_t kMaxRowBlocks = int64_t{1} << 16;
constexpr int kColsX = 32;  // outputs per columns block (one warp wide: coalesced reads)
constexpr int kColsY = 8;   // threads splitting r in a columns block
constexpr int64_t kMaxColBlocksY = 65535;
constexpr int64_t kNone = INT64_MAX;  // "no index yet"

// libcu++'s numeric_limits: its members are callable in device code (std's are host-only
// constexpr functions under nvcc).
template <class T>
using Limits = ::cuda::std::numeric_limits<T>;

template <class T>
using SumAcc = std::conditional_t<std::is_same_v<T, float>, double, T>;

// Each reduction: the accumulator type A, its identity, the fold of two partials, and the
// conversion of the total to the output (given r, for Mean).
template <class T>
struct SumR {
  using A = SumAcc<T>;
  static EMBER_HD A init() { return A(0); }
  static EMBER_HD A step(A a, A b) { return a + b; }
  static EMBER_HD T finish(A a, int64_t) { return T(a); }
};

template <class T>
struct MeanR : SumR<T> {
  using A = SumAcc<T>;
  static EMBER_HD T finish(A a, int64_t r) { return T(a / A(r)); }  // r == 0: NaN
};

template <class T>
struct ProdR {
  using A = SumAcc<T>;
  static EMBER_HD A init() { return A(1); }
  static EMBER_HD A step(A a, A b) { return a * b; }
  static EMBER_HD T finish(A a, int64_t) { return T(a); }
};

// NaN propagates: once either side is NaN the result is NaN.
template <class T, bool kMax>
struct ExtremumR {
  using A = T;
  static EMBER_HD A init() {
    if constexpr (std::is_floating_point_v<T>)
      return kMax ? -Limits<T>::infinity() : Limits<T>::infinity();
    else
      return kMax ? Limits<T>::lowest() : Limits<T>::max();
  }
  static EMBER_HD A step(A a, A b) {
    if (math::isnan(a)) return a;
    if (math::isnan(b)) return b;
    return (kMax ? b > a : b < a) ? b : a;
  }
  static EMBER_HD T finish(A a, int64_t) { return a; }
};

// R::step as the binary functor CUB wants.
template <class R>
struct Combine {
  using A = typename R::A;
  EMBER_HD A operator()(const A& a, const A& b) const { return R::step(a, b); }
};

struct MinIndex {
  EMBER_HD int64_t operator()(int64_t a, int64_t b) const { return b < a ? b : a; }
};

// Whether (v, i) should replace (cur, ci) as the answer of an argmax/argmin: an index beats
// none, the first NaN beats everything, then the strictly better value, and among equal
// values the lower index (first on ties, as the CPU).
template <class T, bool kMax>
__device__ __forceinline__ bool prefer(T v, int64_t i, T cur, int64_t ci) {
  if (i == kNone) return false;
  if (ci == kNone) return true;
  const bool vn = math::isnan(v), cn = math::isnan(cur);
  if (vn || cn) return vn && (!cn || i < ci);
  if (v == cur) return i < ci;
  return kMax ? v > cur : v < cur;
}

// ---------------------------------------------------------------------------------------
// Kernels

// x (outer, r) -> out (outer). Threads past the row's end contribute the identity.
template <class R, class T, int kBlock>
__global__ void reduce_rows_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t outer,
                                   int64_t r) {
  using A = typename R::A;
  using BlockReduce = cub::BlockReduce<A, kBlock>;
  __shared__ typename BlockReduce::TempStorage temp;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const T* xr = x + row * r;
    A acc = R::init();
    for (int64_t j = threadIdx.x; j < r; j += kBlock) acc = R::step(acc, A(xr[j]));
    const A total = BlockReduce(temp).Reduce(acc, Combine<R>{});
    if (threadIdx.x == 0) out[row] = R::finish(total, r);
    __syncthreads();  // temp is reused for the next row
  }
}

// x (outer, r, inner) -> out (outer, inner); block (kColsX, kColsY), grid (column tiles, outer).
template <class R, class T>
__global__ void reduce_cols_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t outer,
                                   int64_t r, int64_t inner) {
  using A = typename R::A;
  __shared__ A partial[kColsY][kColsX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kColsX + tx;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    A acc = R::init();
    if (i < inner) {
      const T* xo = x + o * r * inner + i;
      for (int64_t j = ty; j < r; j += kColsY) acc = R::step(acc, A(xo[j * inner]));
    }
    partial[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && i < inner) {
      for (int y = 1; y < kColsY; ++y) acc = R::step(acc, partial[y][tx]);
      out[o * inner + i] = R::finish(acc, r);
    }
    __syncthreads();  // partial is reused for the next outer slice
  }
}

// Mean after cub::DeviceReduce: the total (in the accumulator type) divided by r.
template <class R, class T>
__global__ void reduce_finish_kernel(const typename R::A* __restrict__ total, T* __restrict__ out,
                                     int64_t r) {
  *out = R::finish(*total, r);
}

// Max/Min with index over rows: each thread finds the first extreme of its strided slice,
// the block agrees on the extreme value, then on the lowest index holding it.
template <class T, bool kMax, int kBlock>
__global__ void argreduce_rows_kernel(const T* __restrict__ x, T* __restrict__ values,
                                      int64_t* __restrict__ indices, int64_t outer, int64_t r) {
  using R = ExtremumR<T, kMax>;
  using ValueReduce = cub::BlockReduce<T, kBlock>;
  using IndexReduce = cub::BlockReduce<int64_t, kBlock>;
  __shared__ typename ValueReduce::TempStorage value_temp;
  __shared__ typename IndexReduce::TempStorage index_temp;
  __shared__ T block_best;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const T* xr = x + row * r;
    T best = R::init();
    int64_t idx = kNone;
    for (int64_t j = threadIdx.x; j < r; j += kBlock) {
      const T v = xr[j];
      if (prefer<T, kMax>(v, j, best, idx)) {
        best = v;
        idx = j;
      }
    }
    const T value = ValueReduce(value_temp).Reduce(best, Combine<R>{});
    if (threadIdx.x == 0) block_best = value;
    __syncthreads();
    const T target = block_best;
    const bool holds = idx != kNone && (math::isnan(target) ? math::isnan(best) : best == target);
    const int64_t first = IndexReduce(index_temp).Reduce(holds ? idx : kNone, MinIndex{});
    if (threadIdx.x == 0) {
      if (values != nullptr) values[row] = target;
      indices[row] = first;
    }
    __syncthreads();  // the temporaries and block_best are reused for the next row
  }
}

template <class T, bool kMax>
__global__ void argreduce_cols_kernel(const T* __restrict__ x, T* __restrict__ values,
                                      int64_t* __restrict__ indices, int64_t outer, int64_t r,
                                      int64_t inner) {
  __shared__ T part_value[kColsY][kColsX];
  __shared__ int64_t part_index[kColsY][kColsX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kColsX + tx;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    T best = T(0);
    int64_t idx = kNone;
    if (i < inner) {
      const T* xo = x + o * r * inner + i;
      for (int64_t j = ty; j < r; j += kColsY) {
        const T v = xo[j * inner];
        if (prefer<T, kMax>(v, j, best, idx)) {
          best = v;
          idx = j;
        }
      }
    }
    part_value[ty][tx] = best;
    part_index[ty][tx] = idx;
    __syncthreads();
    if (ty == 0 && i < inner) {
      for (int y = 1; y < kColsY; ++y) {
        if (prefer<T, kMax>(part_value[y][tx], part_index[y][tx], best, idx)) {
          best = part_value[y][tx];
          idx = part_index[y][tx];
        }
      }
      if (values != nullptr) values[o * inner + i] = best;
      indices[o * inner + i] = idx;
    }
    __syncthreads();
  }
}

// ---------------------------------------------------------------------------------------
// Launchers

cudaStream_t as_stream(void* stream) {
  return static_cast<cudaStream_t>(stream);
}

// CUB's temporary storage: one buffer per device that grows to the largest request and is
// then reused, so after the first reductions of a program no more raw allocations happen.
// Work using it is queued in stream order, and a growth frees the old buffer with cudaFree,
// which waits for the device. The mutex is held while the reduction is queued, so two host
// threads never see the buffer replaced under them.
struct Scratch {
  std::mutex mutex;
  std::array<void*, 64> ptr{};
  std::array<size_t, 64> bytes{};
};

Scratch& scratch() {
  static auto* s = new Scratch;  // never destroyed: the runtime may be gone at exit
  return *s;
}

void* scratch_for(int device, size_t nbytes) {
  Scratch& s = scratch();
  EMBER_CHECK(device >= 0 && device < static_cast<int>(s.ptr.size()), DeviceError,
              "reduce: CUDA device ", device, " is out of range");
  if (s.bytes[device] < nbytes) {
    // Forgotten before the free: cudaFree may report an earlier kernel's fault after freeing,
    // and a kept pointer would then be freed twice.
    void* const old = s.ptr[device];
    s.ptr[device] = nullptr;
    s.bytes[device] = 0;
    if (old != nullptr) EMBER_CUDA_CHECK(cudaFree(old));
    const size_t grown = nbytes < 4096 ? 4096 : nbytes;
    EMBER_CUDA_CHECK(cudaMalloc(&s.ptr[device], grown));
    s.bytes[device] = grown;
  }
  return s.ptr[device];
}

template <class R, class T>
void device_reduce(const T* x, T* out, int64_t n, cudaStream_t stream, BlockAllocator* memory) {
  using A = typename R::A;
  constexpr bool kNeedsFinish = std::is_same_v<R, MeanR<T>>;
  // The accumulator slot (Mean only) sits before CUB's storage, 256-byte aligned as CUB's is.
  constexpr size_t kSlot = kNeedsFinish ? 256 : 0;
  size_t temp_bytes = 0;
  EMBER_CUDA_CHECK(
      cub::DeviceReduce::Reduce(nullptr, temp_bytes, x, out, n, Combine<R>{}, R::init(), stream));
  // From the caching allocator when given one: a stream-ordered block, freed as soon as the
  // work is queued (only work queued after it on the stream can reuse it), and part of a CUDA
  // graph's pool while one is captured. Otherwise the shared scratch buffer.
  struct StreamBlock {
    BlockAllocator* memory;
    void* ptr = nullptr;
    ~StreamBlock() {
      if (ptr != nullptr) memory->deallocate(ptr);
    }
  } block{memory};
  std::unique_lock<std::mutex> lock;
  char* base = nullptr;
  if (memory != nullptr) {
    block.ptr = memory->allocate(kSlot + temp_bytes, reinterpret_cast<uintptr_t>(stream));
    base = static_cast<char*>(block.ptr);
  } else {
    int device = 0;
    EMBER_CUDA_CHECK(cudaGetDevice(&device));
    lock = std::unique_lock<std::mutex>(scratch().mutex);
    base = static_cast<char*>(scratch_for(device, kSlot + temp_bytes));
  }
  if constexpr (kNeedsFinish) {
    A* total = reinterpret_cast<A*>(base);
    detail::count(detail::Counter::kKernelLaunches, 2);  // CUB's tile and final passes
    EMBER_CUDA_CHECK(cub::DeviceReduce::Reduce(base + kSlot, temp_bytes, x, total, n, Combine<R>{},
                                               R::init(), stream));
    launch("reduce_finish", reduce_finish_kernel<R, T>, dim3(1), dim3(1), 0, stream,
           static_cast<const A*>(total), out, n);
  } else {
    detail::count(detail::Counter::kKernelLaunches, 2);  // CUB's tile and final passes
    EMBER_CUDA_CHECK(
        cub::DeviceReduce::Reduce(base, temp_bytes, x, out, n, Combine<R>{}, R::init(), stream));
  }
}

dim3 cols_grid(int64_t outer, int64_t inner) {
  return dim3(static_cast<unsigned>((inner + kColsX - 1) / kColsX),
              static_cast<unsigned>(std::min(outer, kMaxColBlocksY)));
}

template <class R, class T>
void reduce_typed(const T* x, T* out, int64_t outer, int64_t r, int64_t inner, cudaStream_t stream,
                  BlockAllocator* memory) {
  if (inner > 1) {
    launch("reduce_cols", reduce_cols_kernel<R, T>, cols_grid(outer, inner), dim3(kColsX, kColsY),
           0, stream, x, out, outer, r, inner);
  } else if (outer == 1 && r >= kDeviceReduceMin) {
    device_reduce<R>(x, out, r, stream, memory);
  } else {
    const dim3 grid(static_cast<unsigned>(std::min(outer, kMaxRowBlocks)));
    if (r <= 64) {
      launch("reduce_rows", reduce_rows_kernel<R, T, 32>, grid, dim3(32), 0, stream, x, out, outer,
             r);
    } else if (r <= 4096) {
      launch("reduce_rows", reduce_rows_kernel<R, T, 128>, grid, dim3(128), 0, stream, x, out,
             outer, r);
    } else {
      launch("reduce_rows", reduce_rows_kernel<R, T, 512>, grid, dim3(512), 0, stream, x, out,
             outer, r);
    }
  }
}

template <class T, bool kMax>
void argreduce_typed(const T* x, T* values, int64_t* indices, int64_t outer, int64_t r,
                     int64_t inner, cudaStream_t stream) {
  if (inner > 1) {
    launch("argreduce_cols", argreduce_cols_kernel<T, kMax>, cols_grid(outer, inner),
           dim3(kColsX, kColsY), 0, stream, x, values, indices, outer, r, inner);
    return;
  }
  const dim3 grid(static_cast<unsigned>(std::min(outer, kMaxRowBlocks)));
  if (r <= 64) {
    launch("argreduce_rows", argreduce_rows_kernel<T, kMax, 32>, grid, dim3(32), 0, stream, x,
           values, indices, outer, r);
  } else if (r <= 4096) {
    launch("argreduce_rows", argreduce_rows_kernel<T, kMax, 128>, grid, dim3(128), 0, stream, x,
           values, indices, outer, r);
  } else {
    launch("argreduce_rows", argreduce_rows_kernel<T, kMax, 512>, grid, dim3(512), 0, stream, x,
           values, indices, outer, r);
  }
}

[[noreturn]] void unsupported(const char* kernel, ReduceOp op, DType dt) {
  throw DTypeError(::ember::detail::str_cat("kernels::cuda::", kernel, ": op '", reduce_name(op),
                                            "' does not support dtype ", dtype_name(dt)));
}

template <class T>
void reduce_dispatch(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
                     int64_t inner, cudaStream_t stream, BlockAllocator* memory) {
  const T* xt = static_cast<const T*>(x);
  T* ot = static_cast<T*>(out);
  switch (op) {
    case ReduceOp::Sum:
      return reduce_typed<SumR<T>>(xt, ot, outer, r, inner, stream, memory);
    case ReduceOp::Mean:
      if constexpr (std::is_floating_point_v<T>)
        return reduce_typed<MeanR<T>>(xt, ot, outer, r, inner, stream, memory);
      break;
    case ReduceOp::Prod:
      return reduce_typed<ProdR<T>>(xt, ot, outer, r, inner, stream, memory);
    case ReduceOp::Max:
      return reduce_typed<ExtremumR<T, true>>(xt, ot, outer, r, inner, stream, memory);
    case ReduceOp::Min:
      return reduce_typed<ExtremumR<T, false>>(xt, ot, outer, r, inner, stream, memory);
  }
  unsupported("reduce", op, dt);
}

template <class T>
void argreduce_dispatch(bool is_max, const void* x, void* values, int64_t* indices, int64_t outer,
                        int64_t r, int64_t inner, cudaStream_t stream) {
  const T* xt = static_cast<const T*>(x);
  T* vt = static_cast<T*>(values);
  if (is_max) {
    argreduce_typed<T, true>(xt, vt, indices, outer, r, inner, stream);
  } else {
    argreduce_typed<T, false>(xt, vt, indices, outer, r, inner, stream);
  }
}

}  // namespace

void reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
            int64_t inner, void* stream, BlockAllocator* scratch_memory) {
  if (outer <= 0 || inner <= 0) return;
  r = r < 0 ? 0 : r;
  const cudaStream_t s = as_stream(stream);
  switch (dt) {
    case DType::Float32:
      return reduce_dispatch<float>(op, dt, x, out, outer, r, inner, s, scratch_memory);
    case DType::Float64:
      return reduce_dispatch<double>(op, dt, x, out, outer, r, inner, s, scratch_memory);
    case DType::Int64:
      return reduce_dispatch<int64_t>(op, dt, x, out, outer, r, inner, s, scratch_memory);
    case DType::Bool:
      break;
  }
  unsupported("reduce", op, dt);
}

void reduce_with_index(ReduceOp op, DType dt, const void* x, void* values, int64_t* indices,
                       int64_t outer, int64_t r, int64_t inner, void* stream) {
  if (op != ReduceOp::Max && op != ReduceOp::Min) unsupported("reduce_with_index", op, dt);
  if (outer <= 0 || inner <= 0 || r <= 0) return;
  const bool is_max = op == ReduceOp::Max;
  const cudaStream_t s = as_stream(stream);
  switch (dt) {
    case DType::Float32:
      return argreduce_dispatch<float>(is_max, x, values, indices, outer, r, inner, s);
    case DType::Float64:
      return argreduce_dispatch<double>(is_max, x, values, indices, outer, r, inner, s);
    case DType::Int64:
      return argreduce_dispatch<int64_t>(is_max, x, values, indices, outer, r, inner, s);
    case DType::Bool:
      break;
  }
  unsupported("reduce_with_index", op, dt);
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
                         int64_t inner) {
  ensure_device(device_);
  cuda::reduce(op, dt, x, out, outer, r, inner, stream_, &device_memory_);
}

void CudaBackend::reduce_with_index(ReduceOp op, DType dt, const void* x, void* values,
                                    int64_t* indices, int64_t outer, int64_t r, int64_t inner) {
  ensure_device(device_);
  cuda::reduce_with_index(op, dt, x, values, indices, outer, r, inner, stream_);
}

}  // namespace ember::kernels::cuda
