// CUDA elementwise kernels (kernels/cuda/elementwise.h): unary maps and their derivatives,
// broadcast binary ops, binary ops with a scalar, where. The math is the shared functors of
// kernels/common/{unary,binary}_functors.h, the very ones the CPU loops instantiate; this
// file only supplies loops. Loop shapes, fastest first:
//   contiguous float32, all pointers    float4 loads and stores (one 128-bit access per four
//   16-byte aligned                     elements); the n % 4 tail in the same launch
//   contiguous                          a flat grid-stride loop
//   broadcast or strided                StridedIndexer offsets per element (loops.h)
// Every entry point is exactly one launch.
#include <ember/kernels/cuda/elementwise.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/binary_functors.h>
#include <ember/kernels/common/unary_functors.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

// ---------------------------------------------------------------------------------------
// Per-element operations: small functors the generic kernels below call, binding a shared
// functor (kernels/common) to its parameters.

template <class F, class T>
struct UnaryForwardOp {
  UnaryParams p;
  EMBER_HD T operator()(T x) const { return F::forward(x, p); }
};

// (x, y, gy): the op's derivative reads the forward output.
template <class F, class T>
struct UnaryBackwardWithOutputOp {
  UnaryParams p;
  EMBER_HD T operator()(T x, T y, T gy) const { return F::backward(x, y, gy, p); }
};

// (x, gy): the derivative does not read y, or y was not kept and is recomputed (as the CPU
// kernel does).
template <class F, class T>
struct UnaryBackwardOp {
  UnaryParams p;
  EMBER_HD T operator()(T x, T gy) const {
    if constexpr (F::kUsesOutput) {
      return F::backward(x, F::forward(x, p), gy, p);
    } else {
      return F::backward(x, T(0), gy, p);
    }
  }
};

template <class F, class T>
struct BinaryApplyOp {
  EMBER_HD auto operator()(T a, T b) const { return F::apply(a, b); }
};

template <class F, class T>
struct ScalarRightOp {
  T s;
  EMBER_HD auto operator()(T x) const { return F::apply(x, s); }
};

template <class F, class T>
struct ScalarLeftOp {
  T s;
  EMBER_HD auto operator()(T x) const { return F::apply(s, x); }
};

// The K contiguous inputs of a map, passed by value to the kernel.
template <class T, int K>
struct Inputs {
  const T* p[K];
};

template <class Op, class T, int K>
EMBER_HD EMBER_INLINE auto apply_at(const Op& op, const Inputs<T, K>& in, int64_t i) {
  if constexpr (K == 1) {
    return op(in.p[0][i]);
  } else if constexpr (K == 2) {
    return op(in.p[0][i], in.p[1][i]);
  } else {
    static_assert(K == 3, "maps take one to three inputs");
    return op(in.p[0][i], in.p[1][i], in.p[2][i]);
  }
}

template <class Op, int K>
EMBER_HD EMBER_INLINE float apply_lane(const Op& op, const float (&v)[K][4], int lane) {
  if constexpr (K == 1) {
    return op(v[0][lane]);
  } else if constexpr (K == 2) {
    return op(v[0][lane], v[1][lane]);
  } else {
    return op(v[0][lane], v[1][lane], v[2][lane]);
  }
}

// ---------------------------------------------------------------------------------------
// Kernels

// out[i] = op(in_0[i], ...) over contiguous operands. out may alias an input (in-place ops):
// each element is read and written by the same thread.
template <class Op, class O, class T, int K>
__global__ void map_kernel(Op op, O* out, Inputs<T, K> in, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) out[i] = apply_at(op, in, i);
}

// The same for float32 with every pointer 16-byte aligned: each step moves four elements per
// operand in one 128-bit access. The first n % 4 threads of the grid also take one element
// of the tail, so odd sizes need no second launch.
template <class Op, int K>
__global__ void map_vec4_kernel(Op op, float* out, Inputs<float, K> in, int64_t n) {
  const int64_t n4 = n / 4;
  for (int64_t i = global_thread_index(); i < n4; i += grid_stride()) {
    float v[K][4];
    for (int k = 0; k < K; ++k) {
      const float4 q = reinterpret_cast<const float4*>(in.p[k])[i];
      v[k][0] = q.x;
      v[k][1] = q.y;
      v[k][2] = q.z;
      v[k][3] = q.w;
    }
    reinterpret_cast<float4*>(out)[i] = make_float4(apply_lane(op, v, 0), apply_lane(op, v, 1),
                                                    apply_lane(op, v, 2), apply_lane(op, v, 3));
  }
  const int64_t t = 4 * n4 + global_thread_index();
  if (t < n) out[t] = apply_at(op, in, t);
}

// out[i] = F(a[offset_a(i)], b[offset_b(i)]) over a broadcast / strided space; out contiguous.
template <class F, class T, class O>
__global__ void binary_strided_kernel(O* out, const T* a, const T* b, StridedIndexer<2> ix,
                                      int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    out[i] = F::apply(a[off[0]], b[off[1]]);
  }
}

// where moves bits: U is the unsigned integer of the element's size.
template <class U>
__global__ void where_kernel(U* out, const bool* c, const U* a, const U* b, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) out[i] = c[i] ? a[i] : b[i];
}

template <class U>
__global__ void where_strided_kernel(U* out, const bool* c, const U* a, const U* b,
                                     StridedIndexer<3> ix, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    int64_t off[3];
    ix.offsets(i, off);
    out[i] = c[off[0]] ? a[off[1]] : b[off[2]];
  }
}

// ---------------------------------------------------------------------------------------
// Launchers

// One launch of the contiguous map; the float4 kernel when the types and alignment allow.
template <class Op, class O, class T, int K>
void launch_map(const char* name, const char* vec4_name, const Op& op, O* out, Inputs<T, K> in,
                int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  if constexpr (std::is_same_v<T, float> && std::is_same_v<O, float>) {
    bool aligned = aligned16(out);
    for (int k = 0; k < K; ++k) aligned = aligned && aligned16(in.p[k]);
    if (aligned) {
      launch(vec4_name, map_vec4_kernel<Op, K>, grid_for(n / 4), dim3(kBlockSize), 0, stream, op,
             out, in, n);
      return;
    }
  }
  launch(name, map_kernel<Op, O, T, K>, grid_for(n), dim3(kBlockSize), 0, stream, op, out, in, n);
}

[[noreturn]] void unsupported(const char* kernel, const char* op, DType dt) {
  throw DTypeError(::ember::detail::str_cat("kernels::cuda::", kernel, ": op '", op,
                                            "' does not support dtype ", dtype_name(dt)));
}

// Calls fn.template operator()<F>() with F the functor of `op`.
template <class Fn>
void visit_unary(UnaryOp op, Fn&& fn) {
  if (!dispatch_unary(op, std::forward<Fn>(fn)))
    throw ValueError(
        ::ember::detail::str_cat("kernels::cuda::unary: unknown UnaryOp ", static_cast<int>(op)));
}

template <class Fn>
void visit_binary(BinaryOp op, Fn&& fn) {
  if (!dispatch_binary(op, std::forward<Fn>(fn)))
    throw ValueError(
        ::ember::detail::str_cat("kernels::cuda::binary: unknown BinaryOp ", static_cast<int>(op)));
}

template <class U>
void where_typed(const Layout& cl, const bool* c, const Layout& al, const U* a, const Layout& bl,
                 const U* b, U* out, cudaStream_t stream) {
  const int64_t n = al.numel();
  if (n <= 0) return;
  if (cl.is_contiguous() && al.is_contiguous() && bl.is_contiguous()) {
    launch("where", where_kernel<U>, grid_for(n), dim3(kBlockSize), 0, stream, out, c, a, b, n);
    return;
  }
  const Layout* const layouts[3] = {&cl, &al, &bl};
  launch("where_strided", where_strided_kernel<U>, grid_for(n), dim3(kBlockSize), 0, stream, out, c,
         a, b, StridedIndexer<3>::make(layouts), n);
}

}  // namespace

void unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p, void* stream) {
  visit_dtype("unary", dt, [&]<class T>() {
    visit_unary(op, [&]<class F>() {
      if constexpr (unary_supports<F, T>()) {
        launch_map("unary", "unary_vec4", UnaryForwardOp<F, T>{p}, static_cast<T*>(y),
                   Inputs<T, 1>{{static_cast<const T*>(x)}}, n, as_stream(stream));
      } else {
        unsupported("unary", unary_name(op), dt);
      }
    });
  });
}

void unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy, void* gx,
                    int64_t n, UnaryParams p, void* stream) {
  visit_dtype("unary_backward", dt, [&]<class T>() {
    visit_unary(op, [&]<class F>() {
      if constexpr (unary_supports<F, T>()) {
        const T* xt = static_cast<const T*>(x);
        const T* gyt = static_cast<const T*>(gy);
        T* gxt = static_cast<T*>(gx);
        if constexpr (F::kUsesOutput) {
          if (y != nullptr) {
            launch_map("unary_backward", "unary_backward_vec4", UnaryBackwardWithOutputOp<F, T>{p},
                       gxt, Inputs<T, 3>{{xt, static_cast<const T*>(y), gyt}}, n,
                       as_stream(stream));
            return;
          }
        }
        launch_map("unary_backward", "unary_backward_vec4", UnaryBackwardOp<F, T>{p}, gxt,
                   Inputs<T, 2>{{xt, gyt}}, n, as_stream(stream));
      } else {
        unsupported("unary_backward", unary_name(op), dt);
      }
    });
  });
}

void binary(BinaryOp op, DType dt, const Layout& a_layout, const void* a, const Layout& b_layout,
            const void* b, void* out, void* stream) {
  visit_dtype("binary", dt, [&]<class T>() {
    visit_binary(op, [&]<class F>() {
      if constexpr (binary_supports<F, T>()) {
        using O = decltype(F::apply(T(), T()));
        const T* at = static_cast<const T*>(a);
        const T* bt = static_cast<const T*>(b);
        O* o = static_cast<O*>(out);
        const int64_t n = a_layout.numel();
        if (a_layout.is_contiguous() && b_layout.is_contiguous()) {
          launch_map("binary", "binary_vec4", BinaryApplyOp<F, T>{}, o, Inputs<T, 2>{{at, bt}}, n,
                     as_stream(stream));
        } else if (n > 0) {
          const Layout* const layouts[2] = {&a_layout, &b_layout};
          launch("binary_strided", binary_strided_kernel<F, T, O>, grid_for(n), dim3(kBlockSize), 0,
                 as_stream(stream), o, at, bt, StridedIndexer<2>::make(layouts), n);
        }
      } else {
        unsupported("binary", binary_name(op), dt);
      }
    });
  });
}

void binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first, void* out,
                   int64_t n, void* stream) {
  visit_dtype("binary_scalar", dt, [&]<class T>() {
    visit_binary(op, [&]<class F>() {
      if constexpr (binary_supports<F, T>()) {
        using O = decltype(F::apply(T(), T()));
        // The scalar takes the tensor's dtype first (int64 truncates, bool is s != 0).
        const T st = std::is_same_v<T, bool> ? T(s != 0) : static_cast<T>(s);
        const Inputs<T, 1> in{{static_cast<const T*>(x)}};
        O* o = static_cast<O*>(out);
        if (scalar_first) {
          launch_map("binary_scalar", "binary_scalar_vec4", ScalarLeftOp<F, T>{st}, o, in, n,
                     as_stream(stream));
        } else {
          launch_map("binary_scalar", "binary_scalar_vec4", ScalarRightOp<F, T>{st}, o, in, n,
                     as_stream(stream));
        }
      } else {
        unsupported("binary_scalar", binary_name(op), dt);
      }
    });
  });
}

void where(DType dt, const Layout& cond_layout, const bool* cond, const Layout& a_layout,
           const void* a, const Layout& b_layout, const void* b, void* out, void* stream) {
  visit_bits("where", dt, [&]<class U>() {
    where_typed(cond_layout, cond, a_layout, static_cast<const U*>(a), b_layout,
                static_cast<const U*>(b), static_cast<U*>(out), as_stream(stream));
  });
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p) {
  ensure_device(device_);
  cuda::unary(op, dt, x, y, n, p, stream_);
}

void CudaBackend::unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy,
                                 void* gx, int64_t n, UnaryParams p) {
  ensure_device(device_);
  cuda::unary_backward(op, dt, x, y, gy, gx, n, p, stream_);
}

void CudaBackend::binary(BinaryOp op, DType dt, const Layout& a_layout, const void* a,
                         const Layout& b_layout, const void* b, void* out) {
  ensure_device(device_);
  cuda::binary(op, dt, a_layout, a, b_layout, b, out, stream_);
}

void CudaBackend::binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first,
                                void* out, int64_t n) {
  ensure_device(device_);
  cuda::binary_scalar(op, dt, x, s, scalar_first, out, n, stream_);
}

void CudaBackend::where(DType dt, const Layout& cond_layout, const bool* cond,
                        const Layout& a_layout, const void* a, const Layout& b_layout,
                        const void* b, void* out) {
  ensure_device(device_);
  cuda::where(dt, cond_layout, cond, a_layout, a, b_layout, b, out, stream_);
}

}  // namespace ember::kernels::cuda
