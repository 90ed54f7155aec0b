// cudasim: the device-side language subset ember's kernels use, for .cu files compiled by the
// host compiler as C++. Qualifiers become plain C++ (`__shared__` is `static`: blocks run one
// after another and every fiber of a block shares the storage), built-in indices are globals
// the scheduler sets before resuming each fiber, and barriers / warp intrinsics are opaque calls
// into the scheduler (see src/scheduler.cpp). Everything here also exists, with the same
// signature, in real CUDA: code that compiles against it must compile under nvcc too.
#pragma once

#include <math.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

// ---- qualifiers ---------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __shared__ static
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// __restrict__ is a g++/clang keyword already.

// ---- vector types and launch geometry ----------------------------------------------------
struct uint3 {
  unsigned int x, y, z;
};

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

struct __align__(8) float2 {
  float x, y;
};
struct __align__(16) float4 {
  float x, y, z, w;
};
struct __align__(8) int2 {
  int x, y;
};
struct __align__(16) int4 {
  int x, y, z, w;
};
struct __align__(8) uint2 {
  unsigned int x, y;
};
struct __align__(16) uint4 {
  unsigned int x, y, z, w;
};
inline constexpr float2 make_float2(float x, float y) {
  return float2{x, y};
}
inline constexpr float4 make_float4(float x, float y, float z, float w) {
  return float4{x, y, z, w};
}
inline constexpr int2 make_int2(int x, int y) {
  return int2{x, y};
}
inline constexpr int4 make_int4(int x, int y, int z, int w) {
  return int4{x, y, z, w};
}
inline constexpr uint3 make_uint3(unsigned x, unsigned y, unsigned z) {
  return uint3{x, y, z};
}

namespace cudasim::detail {
// Written by the scheduler only; kernels see them through the const references below.
extern uint3 thread_idx;
extern uint3 block_idx;
extern dim3 block_dim;
extern dim3 grid_dim;
extern const int warp_size;
}  // namespace cudasim::detail

inline const uint3& threadIdx = ::cudasim::detail::thread_idx;
inline const uint3& blockIdx = ::cudasim::detail::block_idx;
inline const dim3& blockDim = ::cudasim::detail::block_dim;
inline const dim3& gridDim = ::cudasim::detail::grid_dim;
// Not a constant expression, as in CUDA.
inline const int& warpSize = ::cudasim::detail::warp_size;

// ---- barriers and warp intrinsics ---------------------------------------------------------
namespace cudasim::detail {
// The barrier's call site (file:line) identifies it, so threads waiting at two different
// __syncthreads() calls are reported rather than silently matched together.
void syncthreads(const char* file, int line);
enum class WarpOp : int { kShflIdx, kShflUp, kShflDown, kShflXor, kBallot, kSync };
// A rendezvous of the lanes named in `mask`: returns the bits the lane's source lane passed
// (or, for kBallot, the vote of every lane in mask).
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t bits, int arg, int width);
// Fails the running launch with `what` (for checks inside kernels, e.g. CUB's block size).
[[noreturn]] void device_fail(const char* what);
// The current block's dynamic shared memory (nullptr when the launch asked for none).
void* dynamic_shared_memory();

template <typename T>
uint64_t to_bits(T value) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "warp shuffles move values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}
template <typename T>
T from_bits(uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}
}  // namespace cudasim::detail

#define __syncthreads() ::cudasim::detail::syncthreads(__FILE__, __LINE__)

inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::cudasim::detail::warp_exchange(::cudasim::detail::WarpOp::kSync, mask, 0, 0, 32);
}
template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32) {
  using namespace ::cudasim::detail;
  return from_bits<T>(warp_exchange(WarpOp::kShflIdx, mask, to_bits(var), src_lane, width));
}
template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  using namespace ::cudasim::detail;
  return from_bits<T>(
      warp_exchange(WarpOp::kShflUp, mask, to_bits(var), static_cast<int>(delta), width));
}
template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  using namespace ::cudasim::detail;
  return from_bits<T>(
      warp_exchange(WarpOp::kShflDown, mask, to_bits(var), static_cast<int>(delta), width));
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32) {
  using namespace ::cudasim::detail;
  return from_bits<T>(warp_exchange(WarpOp::kShflXor, mask, to_bits(var), lane_mask, width));
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  using namespace ::cudasim::detail;
  return static_cast<unsigned>(warp_exchange(WarpOp::kBallot, mask, predicate != 0, 0, 32));
}
inline int __all_sync(unsigned mask, int predicate) {
  return __ballot_sync(mask, predicate) == mask;
}
inline int __any_sync(unsigned mask, int predicate) {
  return __ballot_sync(mask, predicate) != 0;
}

// Blocks run one at a time, so there is no other observer to fence against.
inline void __threadfence() {}
inline void __threadfence_block() {}

template <typename T>
T __ldg(const T* ptr) {
  return *ptr;
}

// ---- atomics --------------------------------------------------------------------------------
// One block runs at a time on one host thread, so a plain read-modify-write is atomic. The
// overloads are exactly CUDA's (no float atomicMax, for instance: nvcc has none either).
#define CUDASIM_ATOMIC_(name, type, expr)     \
  inline type name(type* address, type val) { \
    type old = *address;                      \
    *address = (expr);                        \
    return old;                               \
  }
CUDASIM_ATOMIC_(atomicAdd, int, old + val)
CUDASIM_ATOMIC_(atomicAdd, unsigned int, old + val)
CUDASIM_ATOMIC_(atomicAdd, unsigned long long int, old + val)
CUDASIM_ATOMIC_(atomicAdd, float, old + val)
CUDASIM_ATOMIC_(atomicAdd, double, old + val)
CUDASIM_ATOMIC_(atomicSub, int, old - val)
CUDASIM_ATOMIC_(atomicSub, unsigned int, old - val)
CUDASIM_ATOMIC_(atomicExch, int, val)
CUDASIM_ATOMIC_(atomicExch, unsigned int, val)
CUDASIM_ATOMIC_(atomicExch, unsigned long long int, val)
CUDASIM_ATOMIC_(atomicExch, float, val)
CUDASIM_ATOMIC_(atomicMax, int, old < val ? val : old)
CUDASIM_ATOMIC_(atomicMax, unsigned int, old < val ? val : old)
CUDASIM_ATOMIC_(atomicMax, long long int, old < val ? val : old)
CUDASIM_ATOMIC_(atomicMax, unsigned long long int, old < val ? val : old)
CUDASIM_ATOMIC_(atomicMin, int, val < old ? val : old)
CUDASIM_ATOMIC_(atomicMin, unsigned int, val < old ? val : old)
CUDASIM_ATOMIC_(atomicMin, long long int, val < old ? val : old)
CUDASIM_ATOMIC_(atomicMin, unsigned long long int, val < old ? val : old)
#undef CUDASIM_ATOMIC_

#define CUDASIM_ATOMIC_CAS_(type)                                \
  inline type atomicCAS(type* address, type compare, type val) { \
    type old = *address;                                         \
    if (old == compare) *address = val;                          \
    return old;                                                  \
  }
CUDASIM_ATOMIC_CAS_(int)
CUDASIM_ATOMIC_CAS_(unsigned int)
CUDASIM_ATOMIC_CAS_(unsigned long long int)
#undef CUDASIM_ATOMIC_CAS_

// ---- math and bit intrinsics --------------------------------------------------------------
// The fast-math intrinsics compute the accurate function: the simulator checks logic, not
// the last ulp of the hardware's approximations.
inline float __expf(float x) {
  return expf(x);
}
inline float __logf(float x) {
  return logf(x);
}
inline float __sinf(float x) {
  return sinf(x);
}
inline float __cosf(float x) {
  return cosf(x);
}
inline float __tanf(float x) {
  return tanf(x);
}
inline float __powf(float x, float y) {
  return powf(x, y);
}
inline float __fdividef(float x, float y) {
  return x / y;
}
inline float __frcp_rn(float x) {
  return 1.0f / x;
}
inline float __fsqrt_rn(float x) {
  return sqrtf(x);
}
inline float __fmaf_rn(float x, float y, float z) {
  return fmaf(x, y, z);
}
inline float __fadd_rn(float x, float y) {
  return x + y;
}
inline float __fmul_rn(float x, float y) {
  return x * y;
}
inline float rsqrtf(float x) {
  return 1.0f / sqrtf(x);
}
inline double rsqrt(double x) {
  return 1.0 / sqrt(x);
}
inline float __saturatef(float x) {
  return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
}

inline int __float_as_int(float x) {
  return cudasim::detail::from_bits<int>(cudasim::detail::to_bits(x));
}
inline float __int_as_float(int x) {
  return cudasim::detail::from_bits<float>(cudasim::detail::to_bits(x));
}
inline unsigned int __float_as_uint(float x) {
  return cudasim::detail::from_bits<unsigned int>(cudasim::detail::to_bits(x));
}
inline float __uint_as_float(unsigned int x) {
  return cudasim::detail::from_bits<float>(cudasim::detail::to_bits(x));
}
inline long long __double_as_longlong(double x) {
  return cudasim::detail::from_bits<long long>(cudasim::detail::to_bits(x));
}
inline double __longlong_as_double(long long x) {
  return cudasim::detail::from_bits<double>(cudasim::detail::to_bits(x));
}
inline int __float2int_rn(float x) {
  return static_cast<int>(nearbyintf(x));
}
inline int __float2int_rz(float x) {
  return static_cast<int>(x);
}
inline float __int2float_rn(int x) {
  return static_cast<float>(x);
}
inline int __popc(unsigned int x) {
  return __builtin_popcount(x);
}
inline int __popcll(unsigned long long x) {
  return __builtin_popcountll(x);
}
inline int __clz(int x) {
  return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x));
}
inline int __ffs(int x) {
  return __builtin_ffs(x);
}

// CUDA's global min/max overloads (same set, so a call ambiguous under nvcc is ambiguous here).
#define CUDASIM_MINMAX_(A, B, R)                                                          \
  inline R min(A a, B b) {                                                                \
    return static_cast<R>(b) < static_cast<R>(a) ? static_cast<R>(b) : static_cast<R>(a); \
  }                                                                                       \
  inline R max(A a, B b) {                                                                \
    return static_cast<R>(a) < static_cast<R>(b) ? static_cast<R>(b) : static_cast<R>(a); \
  }
CUDASIM_MINMAX_(int, int, int)
CUDASIM_MINMAX_(unsigned int, unsigned int, unsigned int)
CUDASIM_MINMAX_(int, unsigned int, unsigned int)
CUDASIM_MINMAX_(unsigned int, int, unsigned int)
CUDASIM_MINMAX_(long, long, long)
CUDASIM_MINMAX_(unsigned long, unsigned long, unsigned long)
CUDASIM_MINMAX_(long long, long long, long long)
CUDASIM_MINMAX_(unsigned long long, unsigned long long, unsigned long long)
CUDASIM_MINMAX_(long long, unsigned long long, unsigned long long)
CUDASIM_MINMAX_(unsigned long long, long long, unsigned long long)
#undef CUDASIM_MINMAX_
// Floating-point min/max follow fmin/fmax, as CUDA's do (a NaN operand yields the other one).
inline float min(float a, float b) {
  return fminf(a, b);
}
inline float max(float a, float b) {
  return fmaxf(a, b);
}
inline double min(double a, double b) {
  return fmin(a, b);
}
inline double max(double a, double b) {
  return fmax(a, b);
}
inline double min(float a, double b) {
  return fmin(a, b);
}
inline double max(float a, double b) {
  return fmax(a, b);
}
inline double min(double a, float b) {
  return fmin(a, b);
}
inline double max(double a, float b) {
  return fmax(a, b);
}
