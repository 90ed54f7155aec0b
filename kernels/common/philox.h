// Philox4x32-10, the counter-based generator behind every random fill (Salmon et al.,
// "Parallel random numbers: as easy as 1, 2, 3", SC'11). A block of four 32-bit words is a
// pure function of (counter, key), so any element of any draw can be computed independently:
// CPU threads and CUDA threads produce the same stream for the same (seed, offset).
//
// Packing used by ember: a 64-bit counter c becomes the 128-bit counter
// {lo32(c), hi32(c), word2, 0} and the 64-bit seed the key {lo32(seed), hi32(seed)}.
// word2 is 0 for the primary block and 1 for the secondary block that supplies the extra
// 32 bits of 64-bit draws (see below).
//
// Element i of a fill starting at counter `offset` (the scheme both backends' random fills follow):
//   float32 uniform   lane i%4 of block(offset + i/4), top 24 bits -> [0, 1)
//   float64 uniform   53 bits of (primary[i%4] << 32 | secondary[i%4]) -> [0, 1), where
//                     primary/secondary = blocks (offset + i/4, word2 = 0 / 1)
//   normal            Box-Muller on lanes (0,1) and (2,3) of the same uniforms, so element
//                     i is still a function of block offset + i/4 only
//   int64 randint     the 64-bit word of float64 uniform, mapped to [0, range) by a
//                     multiply-high (bias <= range / 2^64, no rejection loop)
// Every dtype therefore consumes counters offset .. offset + ceil(n/4) - 1 and nothing else.
#pragma once

#include <stdint.h>

#include <ember/kernels/common/macros.h>
#include <ember/kernels/common/unary_functors.h>

namespace ember::kernels {

struct Philox4 {
  uint32_t v[4];
};

namespace philox_detail {
inline constexpr uint32_t kM0 = 0xD2511F53u;
inline constexpr uint32_t kM1 = 0xCD9E8D57u;
inline constexpr uint32_t kW0 = 0x9E3779B9u;  // golden ratio
inline constexpr uint32_t kW1 = 0xBB67AE85u;  // sqrt(3) - 1

EMBER_HD EMBER_INLINE uint32_t mulhi32(uint32_t a, uint32_t b) {
  return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
}

EMBER_HD EMBER_INLINE Philox4 round(Philox4 c, uint32_t k0, uint32_t k1) {
  const uint32_t lo0 = kM0 * c.v[0], hi0 = mulhi32(kM0, c.v[0]);
  const uint32_t lo1 = kM1 * c.v[2], hi1 = mulhi32(kM1, c.v[2]);
  return Philox4{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
}
}  // namespace philox_detail

// The raw generator over a full 128-bit counter and 64-bit key (what the Random123
// known-answer tests specify).
EMBER_HD EMBER_INLINE Philox4 philox4x32_10(Philox4 counter, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += philox_detail::kW0;
      k1 += philox_detail::kW1;
    }
    counter = philox_detail::round(counter, k0, k1);
  }
  return counter;
}

// ember's packing: 64-bit counter, 64-bit seed, and the word2 stream selector.
EMBER_HD EMBER_INLINE Philox4 philox4x32(uint64_t counter, uint64_t seed, uint32_t word2 = 0) {
  const Philox4 c{
      {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), word2, 0u}};
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Top 24 bits: every value k * 2^-24 is exact in float, so the result is in [0, 1) and
// never rounds up to 1.
EMBER_HD EMBER_INLINE float uniform_float(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// Top 53 bits of hi:lo, exact in double, in [0, 1).
EMBER_HD EMBER_INLINE double uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

// floor(x * range / 2^64): maps a uniform 64-bit word onto [0, range). Portable
// multiply-high from 32-bit halves (no __int128 in device code).
EMBER_HD EMBER_INLINE uint64_t mulhi64(uint64_t x, uint64_t range) {
  const uint64_t x_lo = x & 0xffffffffu, x_hi = x >> 32;
  const uint64_t r_lo = range & 0xffffffffu, r_hi = range >> 32;
  const uint64_t lo_lo = x_lo * r_lo;
  const uint64_t hi_lo = x_hi * r_lo;
  const uint64_t lo_hi = x_lo * r_hi;
  const uint64_t hi_hi = x_hi * r_hi;
  const uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

// Box-Muller: two uniforms in [0, 1) -> two independent standard normals. 1 - u1 lies in
// (0, 1], so the log never sees 0.
template <class T>
EMBER_HD EMBER_INLINE void box_muller(T u1, T u2, T* z0, T* z1) {
  const T radius = math::sqrt(T(-2) * math::log(T(1) - u1));
  const T theta = T(6.28318530717958647692) * u2;
  *z0 = radius * math::cos(theta);
  *z1 = radius * math::sin(theta);
}

// ---------------------------------------------------------------------------------------
// One block's worth of output: the values of elements 4g .. 4g + 3 of a fill whose
// counter is `counter` = offset + g. Backends loop over g and store the lanes they need,
// so the element -> (counter, lane) scheme above lives only here.

// Uniform in [low, high). low + u (high - low) can round up to exactly `high` (e.g. float
// [1, 2) with u = 1 - 2^-24); such a draw is folded back to `low` so the interval really is
// half-open (probability ~2^-24 for float, ~2^-53 for double).
template <class T>
EMBER_HD EMBER_INLINE T scale_uniform(T u, T low, T high) {
#if defined(__CUDA_ARCH__)
  // nvcc would contract this into one fused multiply-add, which rounds once instead of
  // twice; explicit round-to-nearest ops keep GPU draws bit-identical to the CPU's.
  T v;
  if constexpr (sizeof(T) == 4)
    v = __fadd_rn(low, __fmul_rn(u, __fsub_rn(high, low)));
  else
    v = __dadd_rn(low, __dmul_rn(u, __dsub_rn(high, low)));
#else
  const T v = low + u * (high - low);
#endif
  return v < high ? v : low;
}

EMBER_HD EMBER_INLINE void philox_uniform4(uint64_t seed, uint64_t counter, float low, float high,
                                           float out[4]) {
  const Philox4 b = philox4x32(counter, seed);
  for (int l = 0; l < 4; ++l) out[l] = scale_uniform(uniform_float(b.v[l]), low, high);
}

EMBER_HD EMBER_INLINE void philox_uniform4(uint64_t seed, uint64_t counter, double low, double high,
                                           double out[4]) {
  const Philox4 hi = philox4x32(counter, seed, 0), lo = philox4x32(counter, seed, 1);
  for (int l = 0; l < 4; ++l) out[l] = scale_uniform(uniform_double(hi.v[l], lo.v[l]), low, high);
}

// Normals: Box-Muller on the uniforms of lanes (0, 1) and (2, 3).
template <class T>
EMBER_HD EMBER_INLINE void philox_normal4(uint64_t seed, uint64_t counter, T mean, T stddev,
                                          T out[4]) {
  T u[4];
  philox_uniform4(seed, counter, T(0), T(1), u);
  T z[4];
  box_muller(u[0], u[1], &z[0], &z[1]);
  box_muller(u[2], u[3], &z[2], &z[3]);
  for (int l = 0; l < 4; ++l) out[l] = mean + stddev * z[l];
}

// Integers in [low, high), high > low: 64 random bits mapped by multiply-high (bias at most
// range / 2^64, far below anything a test could see). The span is computed in unsigned
// arithmetic, so the full int64 range works.
EMBER_HD EMBER_INLINE void philox_randint4(uint64_t seed, uint64_t counter, int64_t low,
                                           int64_t high, int64_t out[4]) {
  const Philox4 hi = philox4x32(counter, seed, 0), lo = philox4x32(counter, seed, 1);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  for (int l = 0; l < 4; ++l) {
    const uint64_t word = (static_cast<uint64_t>(hi.v[l]) << 32) | lo.v[l];
    out[l] = static_cast<int64_t>(static_cast<uint64_t>(low) + mulhi64(word, range));
  }
}

}  // namespace ember::kernels
