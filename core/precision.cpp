// set_float32_matmul_precision (core/precision.h): the setting, and the CUDA GEMMs' TF32 switch.
#include <ember/core/precision.h>

#include <atomic>

#include <ember/core/error.h>

#if defined(EMBER_WITH_CUDA)
#include <ember/kernels/cuda/gemm.h>
#endif

namespace ember {
namespace {

enum class Precision { kHighest, kHigh, kMedium };

std::atomic<Precision> g_precision{Precision::kHighest};

}  // namespace

void set_float32_matmul_precision(const std::string& precision) {
  Precision p = Precision::kHighest;
  if (precision == "highest") {
    p = Precision::kHighest;
  } else if (precision == "high") {
    p = Precision::kHigh;
  } else if (precision == "medium") {
    p = Precision::kMedium;
  } else {
    throw ValueError(detail::str_cat("set_float32_matmul_precision: unknown precision '", precision,
                                     "' (expected \"highest\", \"high\" or \"medium\")"));
  }
  g_precision.store(p, std::memory_order_relaxed);
#if defined(EMBER_WITH_CUDA)
  kernels::cuda::set_allow_tf32(p != Precision::kHighest);
#endif
}

std::string get_float32_matmul_precision() {
  switch (g_precision.load(std::memory_order_relaxed)) {
    case Precision::kHigh:
      return "high";
    case Precision::kMedium:
      return "medium";
    case Precision::kHighest:
      break;
  }
  return "highest";
}

}  // namespace ember
