// CPU reductions over the middle axis of a contiguous (outer, r, inner) view.
//
// inner == 1  every output is one contiguous row: an `omp simd` reduction over it.
// inner > 1   rows are added into a tile of accumulators (up to kTile outputs at a time), a
//             flat loop that vectorises: the bias-gradient case [B, N] summed over B.
// Work is split over (outer, inner tile) units, and a long r is cut into fixed kRChunk
// pieces whose partials are combined in a fixed order, so results never depend on the
// thread count.
//
// Accuracy: float32 Sum/Mean/Prod accumulate in double (each chunk, and the combination of
// chunk partials), as the entry point promises; float64 and int64 accumulate in their own type.
#include <ember/kernels/cpu/backend.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

constexpr int64_t kTile = 256;        // accumulators per unit when inner > 1 (on the stack)
constexpr int64_t kRChunk = 1 << 16;  // r is split into pieces of this length when long

template <class T>
using SumAcc = std::conditional_t<std::is_same_v<T, float>, double, T>;

template <class T>
bool is_nan(T v) {
  return v != v;
}

// Each op: init, step (fold one element), combine (fold two partials), row (a contiguous
// run, vectorised), finish (accumulator -> output, given r).
template <class T>
struct SumR {
  using A = SumAcc<T>;
  static A init() { return A(0); }
  static A step(A a, T v) { return a + A(v); }
  static A combine(A a, A b) { return a + b; }
  static A row(const T* x, int64_t n) {
    A acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < n; ++j) acc += A(x[j]);
    return acc;
  }
  static T finish(A a, int64_t) {
    return T(a);
  }
};

template <class T>
struct MeanR : SumR<T> {
  // r == 0 gives 0 / 0 = NaN, as documented.
  static T finish(SumAcc<T> a, int64_t r) { return T(a / SumAcc<T>(r)); }
};

template <class T>
struct ProdR {
  using A = SumAcc<T>;
  static A init() { return A(1); }
  static A step(A a, T v) { return a * A(v); }
  static A combine(A a, A b) { return a * b; }
  static A row(const T* x, int64_t n) {
    A acc = 1;
#pragma omp simd reduction(* : acc)
    for (int64_t j = 0; j < n; ++j) acc *= A(x[j]);
    return acc;
  }
  static T finish(A a, int64_t) {
    return T(a);
  }
};

// Max/Min propagate NaN: once the accumulator is NaN it stays NaN (v > NaN is false).
template <class T, bool kMax>
struct ExtremumR {
  using A = T;
  static A init() {
    if constexpr (std::is_floating_point_v<T>)
      return kMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else
      return kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  static A step(A a, T v) {
    const bool better = kMax ? v > a : v < a;
    return (better || is_nan(v)) ? v : a;
  }
  static A combine(A a, A b) { return step(a, b); }
  // The vector max/min instructions drop NaN, so NaN is tracked in a separate flag. The
  // flag is an integer as wide as T (a bool has no vector type, which would stop the loop
  // from vectorising).
  static A row(const T* x, int64_t n) {
    using Flag = std::conditional_t<sizeof(T) == 8, int64_t, int32_t>;
    A best = init();
    Flag nan = 0;
    if constexpr (kMax) {
#pragma omp simd reduction(max : best) reduction(| : nan)
      for (int64_t j = 0; j < n; ++j) {
        best = x[j] > best ? x[j] : best;
        nan |= static_cast<Flag>(is_nan(x[j]));
      }
    } else {
#pragma omp simd reduction(min : best) reduction(| : nan)
      for (int64_t j = 0; j < n; ++j) {
        best = x[j] < best ? x[j] : best;
        nan |= static_cast<Flag>(is_nan(x[j]));
      }
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (nan) return std::numeric_limits<T>::quiet_NaN();
      // OpenMP may start each lane of a max (min) reduction at the lowest (largest) finite
      // value rather than at -inf (+inf), as clang does, so a row of nothing but -inf (+inf)
      // comes out finite: a value no element holds, so argmax's search for it ends past the row.
      const T lane_start = kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
      if (best == lane_start && std::find(x, x + n, lane_start) == x + n) return init();
    }
    return best;
  }
  static T finish(A a, int64_t) {
    return a;
  }
};

// Folds rows j0 .. j0 + jlen of column block [i0, i0 + ilen) of outer slice o into acc.
template <class Op, class T>
void accumulate(const T* x, int64_t o, int64_t r, int64_t inner, int64_t i0, int64_t ilen,
                int64_t j0, int64_t jlen, typename Op::A* acc) {
  if (inner == 1) {
    acc[0] = Op::row(x + o * r + j0, jlen);
    return;
  }
  for (int64_t i = 0; i < ilen; ++i) acc[i] = Op::init();
  for (int64_t j = j0; j < j0 + jlen; ++j) {
    const T* xr = x + (o * r + j) * inner + i0;
#pragma omp simd
    for (int64_t i = 0; i < ilen; ++i) acc[i] = Op::step(acc[i], xr[i]);
  }
}

template <class Op, class T>
void reduce_typed(const T* x, T* out, int64_t outer, int64_t r, int64_t inner) {
  using A = typename Op::A;
  const int64_t tile = inner == 1 ? 1 : std::min(inner, kTile);
  const int64_t ntiles = (inner + tile - 1) / tile;
  const int64_t units = outer * ntiles;
  const int64_t nchunks = r >= 2 * kRChunk ? (r + kRChunk - 1) / kRChunk : 1;

  if (nchunks == 1) {
    const int64_t per_unit = std::max<int64_t>(1, r * tile);
    parallel_for(units, std::max<int64_t>(1, kGrainCheap / per_unit), [&](int64_t b, int64_t e) {
      A acc[kTile];
      for (int64_t u = b; u < e; ++u) {
        const int64_t o = u / ntiles, i0 = (u % ntiles) * tile;
        const int64_t ilen = std::min(tile, inner - i0);
        if (r == 0) {
          for (int64_t i = 0; i < ilen; ++i) acc[i] = Op::init();
        } else {
          accumulate<Op>(x, o, r, inner, i0, ilen, 0, r, acc);
        }
        for (int64_t i = 0; i < ilen; ++i) out[o * inner + i0 + i] = Op::finish(acc[i], r);
      }
    });
    return;
  }

  // Long r: partials per (unit, chunk), computed in parallel, combined in chunk order.
  std::vector<A> partial(static_cast<size_t>(units * nchunks * tile));
  parallel_for(units * nchunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t w = b; w < e; ++w) {
      const int64_t u = w / nchunks, c = w % nchunks;
      const int64_t o = u / ntiles, i0 = (u % ntiles) * tile;
      const int64_t ilen = std::min(tile, inner - i0);
      const int64_t j0 = c * kRChunk, jlen = std::min(kRChunk, r - j0);
      accumulate<Op>(x, o, r, inner, i0, ilen, j0, jlen, partial.data() + w * tile);
    }
  });
  for (int64_t u = 0; u < units; ++u) {
    const int64_t o = u / ntiles, i0 = (u % ntiles) * tile;
    const int64_t ilen = std::min(tile, inner - i0);
    for (int64_t i = 0; i < ilen; ++i) {
      A acc = partial[static_cast<size_t>(u * nchunks * tile + i)];
      for (int64_t c = 1; c < nchunks; ++c)
        acc = Op::combine(acc, partial[static_cast<size_t>((u * nchunks + c) * tile + i)]);
      out[o * inner + i0 + i] = Op::finish(acc, r);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Max/Min with index

template <class T, bool kMax>
void reduce_index_typed(const T* x, T* values, int64_t* indices, int64_t outer, int64_t r,
                        int64_t inner) {
  const int64_t tile = inner == 1 ? 1 : std::min(inner, kTile);
  const int64_t ntiles = (inner + tile - 1) / tile;
  const int64_t units = outer * ntiles;
  const int64_t per_unit = std::max<int64_t>(1, r * tile);
  parallel_for(units, std::max<int64_t>(1, kGrainCheap / per_unit), [&](int64_t b, int64_t e) {
    T best[kTile];
    int64_t idx[kTile];
    for (int64_t u = b; u < e; ++u) {
      const int64_t o = u / ntiles, i0 = (u % ntiles) * tile;
      const int64_t ilen = std::min(tile, inner - i0);
      if (inner == 1) {
        // Two passes, both vectorisable: the extreme value (NaN-aware), then the first
        // position holding it.
        const T* row = x + o * r;
        const T v = ExtremumR<T, kMax>::row(row, r);
        int64_t j = 0;
        if (is_nan(v)) {
          while (j < r && !is_nan(row[j])) ++j;
        } else {
          while (j < r && row[j] != v) ++j;
        }
        best[0] = v;
        idx[0] = j;
      } else {
        const T* x0 = x + o * r * inner + i0;
        for (int64_t i = 0; i < ilen; ++i) {
          best[i] = x0[i];
          idx[i] = 0;
        }
        for (int64_t j = 1; j < r; ++j) {
          const T* xr = x0 + j * inner;
          for (int64_t i = 0; i < ilen; ++i) {
            const T v = xr[i];
            // Strictly better keeps the first of ties; the first NaN wins and sticks.
            const bool better = kMax ? v > best[i] : v < best[i];
            const bool take = !is_nan(best[i]) && (better || is_nan(v));
            best[i] = take ? v : best[i];
            idx[i] = take ? j : idx[i];
          }
        }
      }
      for (int64_t i = 0; i < ilen; ++i) {
        if (values != nullptr) values[o * inner + i0 + i] = best[i];
        indices[o * inner + i0 + i] = idx[i];
      }
    }
  });
}

[[noreturn]] void unsupported(const char* kernel, ReduceOp op, DType dt) {
  throw DTypeError(std::string("kernels::cpu::") + kernel + ": op '" + reduce_name(op) +
                   "' does not support dtype " + dtype_name(dt));
}

template <class T>
void reduce_dispatch(ReduceOp op, const void* x, void* out, int64_t outer, int64_t r,
                     int64_t inner) {
  const T* xt = static_cast<const T*>(x);
  T* ot = static_cast<T*>(out);
  switch (op) {
    case ReduceOp::Sum:
      return reduce_typed<SumR<T>>(xt, ot, outer, r, inner);
    case ReduceOp::Mean:
      if constexpr (std::is_floating_point_v<T>)
        return reduce_typed<MeanR<T>>(xt, ot, outer, r, inner);
      break;
    case ReduceOp::Prod:
      return reduce_typed<ProdR<T>>(xt, ot, outer, r, inner);
    case ReduceOp::Max:
      return reduce_typed<ExtremumR<T, true>>(xt, ot, outer, r, inner);
    case ReduceOp::Min:
      return reduce_typed<ExtremumR<T, false>>(xt, ot, outer, r, inner);
  }
  unsupported("reduce", op, DType::Int64);
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
                        int64_t inner) {
  if (outer <= 0 || inner <= 0) return;
  switch (dt) {
    case DType::Float32:
      return reduce_dispatch<float>(op, x, out, outer, r, inner);
    case DType::Float64:
      return reduce_dispatch<double>(op, x, out, outer, r, inner);
    case DType::Int64:
      return reduce_dispatch<int64_t>(op, x, out, outer, r, inner);
    case DType::Bool:
      break;
  }
  unsupported("reduce", op, dt);
}

void CpuBackend::reduce_with_index(ReduceOp op, DType dt, const void* x, void* values,
                                   int64_t* indices, int64_t outer, int64_t r, int64_t inner) {
  if (op != ReduceOp::Max && op != ReduceOp::Min) unsupported("reduce_with_index", op, dt);
  if (outer <= 0 || inner <= 0 || r <= 0) return;
  const bool mx = op == ReduceOp::Max;
  switch (dt) {
    case DType::Float32:
      return mx ? reduce_index_typed<float, true>(static_cast<const float*>(x),
                                                  static_cast<float*>(values), indices, outer, r,
                                                  inner)
                : reduce_index_typed<float, false>(static_cast<const float*>(x),
                                                   static_cast<float*>(values), indices, outer, r,
                                                   inner);
    case DType::Float64:
      return mx ? reduce_index_typed<double, true>(static_cast<const double*>(x),
                                                   static_cast<double*>(values), indices, outer, r,
                                                   inner)
                : reduce_index_typed<double, false>(static_cast<const double*>(x),
                                                    static_cast<double*>(values), indices, outer, r,
                                                    inner);
    case DType::Int64:
      return mx ? reduce_index_typed<int64_t, true>(static_cast<const int64_t*>(x),
                                                    static_cast<int64_t*>(values), indices, outer,
                                                    r, inner)
                : reduce_index_typed<int64_t, false>(static_cast<const int64_t*>(x),
                                                     static_cast<int64_t*>(values), indices, outer,
                                                     r, inner);
    case DType::Bool:
      break;
  }
  unsupported("reduce_with_index", op, dt);
}

}  // namespace ember::kernels::cpu
