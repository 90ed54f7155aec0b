// CPU data movement: strided copy with dtype conversion (all 16 dtype pairs), strided fill,
// arange. Same-dtype copies move bits through an unsigned type of the element's size, so
// only conversions instantiate per dtype pair.
#include <ember/kernels/cpu/copy.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

// Elements per chunk for a plain memcpy: large, since memcpy is already near bandwidth.
constexpr int64_t kGrainMemcpy = 1 << 20;

template <class D, class S>
inline D convert(S v) {
  if constexpr (std::is_same_v<D, bool>) {
    return v != S(0);
  } else {
    return static_cast<D>(v);  // float -> int64 truncates toward zero
  }
}

template <class Fn>
void visit_dtype(DType dt, Fn&& fn) {
  switch (dt) {
    case DType::Float32: return fn.template operator()<float>();
    case DType::Float64: return fn.template operator()<double>();
    case DType::Int64: return fn.template operator()<int64_t>();
    case DType::Bool: return fn.template operator()<bool>();
  }
  throw std::invalid_argument("kernels::cpu::copy: unknown dtype");
}

template <class Fn>
void visit_bits(DType dt, Fn&& fn) {
  switch (dtype_size(dt)) {
    case 1: return fn.template operator()<uint8_t>();
    case 4: return fn.template operator()<uint32_t>();
    case 8: return fn.template operator()<uint64_t>();
    default: throw std::invalid_argument("kernels::cpu::copy: unknown dtype");
  }
}

template <class S, class D>
void copy_strided(const Layout& sl, const S* src, const Layout& dl, D* dst) {
  const Layout* const layouts[2] = {&dl, &sl};
  const StridedLoop<2> loop(layouts);
  const int64_t sd = loop.inner_stride(0), ss = loop.inner_stride(1);
  parallel_for(loop.numel(), kGrainCheap, [&](int64_t b, int64_t e) {
    loop.run(b, e, [&](const int64_t (&off)[2], int64_t len) {
      D* d = dst + off[0];
      const S* s = src + off[1];
      if (sd == 1 && ss == 1) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] = convert<D>(s[i]);
      } else if (sd == 1 && ss == 0) {
        const D v = convert<D>(*s);
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] = v;
      } else {
        for (int64_t i = 0; i < len; ++i) d[i * sd] = convert<D>(s[i * ss]);
      }
    });
  });
}

template <class D>
void fill_typed(const Layout& l, D* dst, D v) {
  const Layout* const layouts[1] = {&l};
  const StridedLoop<1> loop(layouts);
  const int64_t sd = loop.inner_stride(0);
  parallel_for(loop.numel(), kGrainCheap, [&](int64_t b, int64_t e) {
    loop.run(b, e, [&](const int64_t (&off)[1], int64_t len) {
      D* d = dst + off[0];
      if (sd == 1) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] = v;
      } else {
        for (int64_t i = 0; i < len; ++i) d[i * sd] = v;
      }
    });
  });
}

}  // namespace

void copy(DType src_dt, const Layout& src_layout, const void* src, DType dst_dt,
          const Layout& dst_layout, void* dst) {
  if (src_dt == dst_dt) {
    if (src_layout.is_contiguous() && dst_layout.is_contiguous()) {
      const int64_t esize = dtype_size(src_dt);
      const auto* s = static_cast<const char*>(src);
      auto* d = static_cast<char*>(dst);
      parallel_for(src_layout.numel(), kGrainMemcpy, [=](int64_t b, int64_t e) {
        std::memcpy(d + b * esize, s + b * esize, static_cast<size_t>((e - b) * esize));
      });
      return;
    }
    visit_bits(src_dt, [&]<class U>() {
      copy_strided(src_layout, static_cast<const U*>(src), dst_layout, static_cast<U*>(dst));
    });
    return;
  }
  visit_dtype(src_dt, [&]<class S>() {
    visit_dtype(dst_dt, [&]<class D>() {
      copy_strided(src_layout, static_cast<const S*>(src), dst_layout, static_cast<D*>(dst));
    });
  });
}

void fill(DType dt, const Layout& layout, void* dst, double value) {
  visit_dtype(dt, [&]<class D>() { fill_typed(layout, static_cast<D*>(dst), convert<D>(value)); });
}

void arange(DType dt, void* out, int64_t n, double start, double step) {
  visit_dtype(dt, [&]<class D>() {
    D* o = static_cast<D*>(out);
    // start + i * step in double, then converted: no accumulated rounding error.
    parallel_for(n, kGrainCheap, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = convert<D>(start + static_cast<double>(i) * step);
    });
  });
}

}  // namespace ember::kernels::cpu
