// CPU elementwise kernels: unary maps and their derivatives, broadcast binary ops, where.
// The math lives in kernels/common/{unary,binary}_functors.h; this file only supplies loops.
// Loop shapes, fastest first:
//   contiguous operands          one flat `omp simd` loop (also the 1-element case: no
//                                allocation, no fork, no indirect call)
//   innermost run contiguous or  StridedLoop coalesces dims and hands out whole inner runs;
//   broadcast (stride 0)         the inner loop is flat with the broadcast side hoisted
//   anything else                the same runs with explicit strides
#include <utility>
#include <ember/kernels/cpu/backend.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <ember/kernels/common/binary_functors.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/common/unary_functors.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

[[noreturn]] void unsupported(const char* kernel, const char* op, DType dt) {
  throw DTypeError(std::string("kernels::cpu::") + kernel + ": op '" + op +
                   "' does not support dtype " + dtype_name(dt));
}

// Calls fn.template operator()<F>() with F the functor of `op`.
template <class Fn>
void visit_unary(UnaryOp op, Fn&& fn) {
  if (!dispatch_unary(op, std::forward<Fn>(fn)))
    throw ValueError("kernels::cpu::unary: unknown UnaryOp");
}

template <class Fn>
void visit_binary(BinaryOp op, Fn&& fn) {
  if (!dispatch_binary(op, std::forward<Fn>(fn)))
    throw ValueError("kernels::cpu::binary: unknown BinaryOp");
}

// Calls fn.template operator()<T>() for the C++ type of dt.
template <class Fn>
void visit_dtype(DType dt, Fn&& fn) {
  if (!dispatch_dtype(dt, std::forward<Fn>(fn))) throw DTypeError("kernels::cpu: unknown dtype");
}

// Elements a thread takes per chunk, by the op list's cost column (Note [Op lists]).
constexpr int64_t grain_for(OpCost cost) {
  return cost == OpCost::Cheap ? kGrainCheap : kGrainTranscendental;
}

// ---------------------------------------------------------------------------------------
// Unary

template <class F, class T>
void unary_loop(const T* x, T* y, int64_t n, UnaryParams p, int64_t grain) {
  parallel_for(n, grain, [=](int64_t begin, int64_t end) {
    const UnaryParams lp = p;  // a local the compiler knows y cannot alias
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) y[i] = F::forward(x[i], lp);
  });
}

template <class F, class T>
void unary_backward_loop(const T* x, const T* y, const T* gy, T* gx, int64_t n, UnaryParams p,
                         int64_t grain) {
  parallel_for(n, grain, [=](int64_t begin, int64_t end) {
    const UnaryParams lp = p;
    if constexpr (F::kUsesOutput) {
      if (y != nullptr) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) gx[i] = F::backward(x[i], y[i], gy[i], lp);
      } else {
        // The op layer did not keep y: recompute it rather than read a null pointer.
#pragma omp simd
        for (int64_t i = begin; i < end; ++i)
          gx[i] = F::backward(x[i], F::forward(x[i], lp), gy[i], lp);
      }
    } else {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) gx[i] = F::backward(x[i], T(0), gy[i], lp);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Binary

template <class F, class T, class O>
void binary_flat(const T* a, const T* b, O* out, int64_t n) {
  parallel_for(n, grain_for(binary_cost(BinaryOpOf<F>::value)), [=](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) out[i] = F::apply(a[i], b[i]);
  });
}

// One inner run of the strided path, specialised on which side is contiguous / broadcast.
template <class F, class T, class O>
inline void binary_run(const T* a, int64_t sa, const T* b, int64_t sb, O* out, int64_t len) {
  if (sa == 1 && sb == 1) {
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) out[i] = F::apply(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const T bv = *b;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) out[i] = F::apply(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const T av = *a;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) out[i] = F::apply(av, b[i]);
  } else {
    for (int64_t i = 0; i < len; ++i) out[i] = F::apply(a[i * sa], b[i * sb]);
  }
}

template <class F, class T, class O>
void binary_strided(const Layout& al, const T* a, const Layout& bl, const T* b, O* out) {
  const Layout ol = contiguous_like(al);  // the output
  const Layout* const layouts[3] = {&ol, &al, &bl};
  const StridedLoop<3> loop(layouts);
  const int64_t sa = loop.inner_stride(1), sb = loop.inner_stride(2);
  parallel_for(loop.numel(), grain_for(binary_cost(BinaryOpOf<F>::value)),
               [&](int64_t begin, int64_t end) {
                 loop.run(begin, end, [&](const int64_t(&off)[3], int64_t len) {
                   binary_run<F>(a + off[1], sa, b + off[2], sb, out + off[0], len);
                 });
               });
}

template <class F, class T>
void binary_typed(const Layout& al, const T* a, const Layout& bl, const T* b, void* out) {
  using O = decltype(F::apply(T(), T()));
  O* o = static_cast<O*>(out);
  if (al.is_contiguous() && bl.is_contiguous()) {
    binary_flat<F>(a, b, o, al.numel());
  } else {
    binary_strided<F>(al, a, bl, b, o);
  }
}

template <class F, class T>
void binary_scalar_typed(const T* x, T s, bool scalar_first, void* out, int64_t n) {
  using O = decltype(F::apply(T(), T()));
  O* o = static_cast<O*>(out);
  parallel_for(n, grain_for(binary_cost(BinaryOpOf<F>::value)), [=](int64_t begin, int64_t end) {
    if (scalar_first) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) o[i] = F::apply(s, x[i]);
    } else {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) o[i] = F::apply(x[i], s);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Where: a bitwise select, so one instantiation per element size serves every dtype.

template <class U>
void where_typed(const Layout& cl, const bool* c, const Layout& al, const U* a, const Layout& bl,
                 const U* b, U* out) {
  if (cl.is_contiguous() && al.is_contiguous() && bl.is_contiguous()) {
    parallel_for(al.numel(), kGrainCheap, [=](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) out[i] = c[i] ? a[i] : b[i];
    });
    return;
  }
  const Layout ol = contiguous_like(al);  // the output
  const Layout* const layouts[4] = {&ol, &cl, &al, &bl};
  const StridedLoop<4> loop(layouts);
  const int64_t sc = loop.inner_stride(1), sa = loop.inner_stride(2), sb = loop.inner_stride(3);
  parallel_for(loop.numel(), kGrainCheap, [&](int64_t begin, int64_t end) {
    loop.run(begin, end, [&](const int64_t(&off)[4], int64_t len) {
      const bool* pc = c + off[1];
      const U* pa = a + off[2];
      const U* pb = b + off[3];
      U* po = out + off[0];
      if (sc == 1 && sa == 1 && sb == 1) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) po[i] = pc[i] ? pa[i] : pb[i];
      } else {
        for (int64_t i = 0; i < len; ++i) po[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb];
      }
    });
  });
}

}  // namespace

void CpuBackend::unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p) {
  visit_dtype(dt, [&]<class T>() {
    visit_unary(op, [&]<class F>() {
      if constexpr (unary_supports<F, T>()) {
        unary_loop<F>(static_cast<const T*>(x), static_cast<T*>(y), n, p,
                      grain_for(unary_cost(op)));
      } else {
        unsupported("unary", unary_name(op), dt);
      }
    });
  });
}

void CpuBackend::unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy,
                                void* gx, int64_t n, UnaryParams p) {
  visit_dtype(dt, [&]<class T>() {
    visit_unary(op, [&]<class F>() {
      if constexpr (unary_supports<F, T>()) {
        unary_backward_loop<F>(static_cast<const T*>(x), static_cast<const T*>(y),
                               static_cast<const T*>(gy), static_cast<T*>(gx), n, p,
                               grain_for(unary_cost(op)));
      } else {
        unsupported("unary_backward", unary_name(op), dt);
      }
    });
  });
}

void CpuBackend::binary(BinaryOp op, DType dt, const Layout& a_layout, const void* a,
                        const Layout& b_layout, const void* b, void* out) {
  visit_dtype(dt, [&]<class T>() {
    visit_binary(op, [&]<class F>() {
      if constexpr (binary_supports<F, T>()) {
        binary_typed<F>(a_layout, static_cast<const T*>(a), b_layout, static_cast<const T*>(b),
                        out);
      } else {
        unsupported("binary", binary_name(op), dt);
      }
    });
  });
}

void CpuBackend::binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first,
                               void* out, int64_t n) {
  visit_dtype(dt, [&]<class T>() {
    visit_binary(op, [&]<class F>() {
      if constexpr (binary_supports<F, T>()) {
        // The scalar takes the tensor's dtype first (int64 truncates, bool is s != 0).
        const T st = std::is_same_v<T, bool> ? T(s != 0) : static_cast<T>(s);
        binary_scalar_typed<F>(static_cast<const T*>(x), st, scalar_first, out, n);
      } else {
        unsupported("binary_scalar", binary_name(op), dt);
      }
    });
  });
}

void CpuBackend::where(DType dt, const Layout& cond_layout, const bool* cond,
                       const Layout& a_layout, const void* a, const Layout& b_layout, const void* b,
                       void* out) {
  switch (dtype_size(dt)) {
    case 1:
      return where_typed(cond_layout, cond, a_layout, static_cast<const uint8_t*>(a), b_layout,
                         static_cast<const uint8_t*>(b), static_cast<uint8_t*>(out));
    case 4:
      return where_typed(cond_layout, cond, a_layout, static_cast<const uint32_t*>(a), b_layout,
                         static_cast<const uint32_t*>(b), static_cast<uint32_t*>(out));
    case 8:
      return where_typed(cond_layout, cond, a_layout, static_cast<const uint64_t*>(a), b_layout,
                         static_cast<const uint64_t*>(b), static_cast<uint64_t*>(out));
    default:
      unsupported("where", "where", dt);
  }
}

}  // namespace ember::kernels::cpu
