// CPU random fills. All the numerics (Philox, bits -> uniform, Box-Muller, randint mapping)
// live in kernels/common/philox.h; this file only walks blocks: element i comes from block
// offset + i / 4, lane i % 4, so any chunking over threads yields the same values.
#include <ember/kernels/cpu/backend.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/philox.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

// Blocks per chunk: a block is ~10 rounds of 32-bit multiplies (plus logs for normals).
constexpr int64_t kGrainBlocks = 2048;

// gen(counter, T out[4]) produces one block; lanes past n are dropped.
template <class T, class Gen>
void fill_blocks(T* out, int64_t n, uint64_t offset, Gen gen) {
  const int64_t blocks = (n + 3) / 4;
  parallel_for(blocks, kGrainBlocks, [&](int64_t b, int64_t e) {
    for (int64_t g = b; g < e; ++g) {
      T v[4];
      gen(offset + static_cast<uint64_t>(g), v);
      const int64_t base = 4 * g;
      const int64_t lanes = n - base < 4 ? n - base : 4;
      for (int64_t l = 0; l < lanes; ++l) out[base + l] = v[l];
    }
  });
}

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(std::string("kernels::cpu::") + kernel + ": unsupported dtype " +
                   dtype_name(dt) + " (float32 or float64 only)");
}

}  // namespace

void CpuBackend::uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double low,
                         double high) {
  if (dt == DType::Float32) {
    const float lo = static_cast<float>(low), hi = static_cast<float>(high);
    fill_blocks(static_cast<float*>(out), n, offset,
                [=](uint64_t c, float* v) { philox_uniform4(seed, c, lo, hi, v); });
  } else if (dt == DType::Float64) {
    fill_blocks(static_cast<double*>(out), n, offset,
                [=](uint64_t c, double* v) { philox_uniform4(seed, c, low, high, v); });
  } else {
    unsupported("uniform", dt);
  }
}

void CpuBackend::normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
                        double std) {
  if (dt == DType::Float32) {
    const float m = static_cast<float>(mean), s = static_cast<float>(std);
    fill_blocks(static_cast<float*>(out), n, offset,
                [=](uint64_t c, float* v) { philox_normal4(seed, c, m, s, v); });
  } else if (dt == DType::Float64) {
    fill_blocks(static_cast<double*>(out), n, offset,
                [=](uint64_t c, double* v) { philox_normal4(seed, c, mean, std, v); });
  } else {
    unsupported("normal", dt);
  }
}

void CpuBackend::randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low,
                         int64_t high) {
  if (high <= low)
    throw ValueError("kernels::cpu::randint: empty range [" + std::to_string(low) + ", " +
                     std::to_string(high) + ")");
  fill_blocks(out, n, offset,
              [=](uint64_t c, int64_t* v) { philox_randint4(seed, c, low, high, v); });
}

}  // namespace ember::kernels::cpu
