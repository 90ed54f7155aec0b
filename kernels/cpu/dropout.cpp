// CPU dropout. The keep decision for element i is `u_i >= p`, where u_i is exactly the
// float32 value kernels::cpu::uniform would write at position i for the same (seed, offset):
// lane i % 4 of Philox block offset + i / 4, scaled by philox_uniform4 to [0, 1). Using the
// float32 draw for every dtype keeps one mask definition, shared with the CUDA kernel.
#include <ember/kernels/cpu/dropout.h>

#include <stdexcept>
#include <string>

#include <ember/kernels/common/philox.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

// A block is one Philox evaluation plus four multiply/stores.
constexpr int64_t kGrainBlocks = 2048;

template <class T>
void dropout_impl(const T* x, T* y, bool* mask, int64_t n, double p, uint64_t seed,
                  uint64_t offset) {
  const float pf = static_cast<float>(p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const int64_t blocks = (n + 3) / 4;
  parallel_for(blocks, kGrainBlocks, [&](int64_t b, int64_t e) {
    for (int64_t g = b; g < e; ++g) {
      float u[4];
      philox_uniform4(seed, offset + static_cast<uint64_t>(g), 0.0f, 1.0f, u);
      const int64_t base = 4 * g;
      const int64_t lanes = n - base < 4 ? n - base : 4;
      for (int64_t l = 0; l < lanes; ++l) {
        const bool keep = u[l] >= pf;
        mask[base + l] = keep;
        y[base + l] = keep ? x[base + l] * scale : T(0);
      }
    }
  });
}

}  // namespace

void dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p, uint64_t seed,
             uint64_t offset) {
  if (!(p >= 0.0 && p < 1.0))
    throw std::invalid_argument("kernels::cpu::dropout: p must be in [0, 1), got " +
                                std::to_string(p));
  if (dt == DType::Float32) {
    dropout_impl(static_cast<const float*>(x), static_cast<float*>(y), mask, n, p, seed, offset);
  } else if (dt == DType::Float64) {
    dropout_impl(static_cast<const double*>(x), static_cast<double*>(y), mask, n, p, seed, offset);
  } else {
    throw std::invalid_argument(std::string("kernels::cpu::dropout: unsupported dtype ") +
                                dtype_name(dt) + " (float32 or float64 only)");
  }
}

}  // namespace ember::kernels::cpu
