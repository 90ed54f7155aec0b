// CPU dropout: one parallel loop over Philox blocks; the mask is defined once, in
// kernels/common/dropout_block.h, shared with the CUDA kernel.
#include <ember/kernels/cpu/backend.h>

#include <stdexcept>
#include <string>

#include <ember/kernels/common/dropout_block.h>
#include <ember/kernels/common/error.h>
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
    for (int64_t g = b; g < e; ++g) dropout_block(x, y, mask, n, pf, scale, seed, offset, g);
  });
}

}  // namespace

void CpuBackend::dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p,
                         uint64_t seed, uint64_t offset) {
  if (!(p >= 0.0 && p < 1.0))
    throw ValueError("kernels::cpu::dropout: p must be in [0, 1), got " + std::to_string(p));
  if (dt == DType::Float32) {
    dropout_impl(static_cast<const float*>(x), static_cast<float*>(y), mask, n, p, seed, offset);
  } else if (dt == DType::Float64) {
    dropout_impl(static_cast<const double*>(x), static_cast<double*>(y), mask, n, p, seed, offset);
  } else {
    throw DTypeError(std::string("kernels::cpu::dropout: unsupported dtype ") + dtype_name(dt) +
                     " (float32 or float64 only)");
  }
}

}  // namespace ember::kernels::cpu
