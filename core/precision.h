// The float32 matmul precision, as torch.set_float32_matmul_precision:
//   "highest" (the default): float32 GEMMs compute in full FP32 on every device, so CUDA
//             results match the CPU's to float32 rounding;
//   "high", "medium": on CUDA, float32 GEMMs (matmul, mm, bmm, linear and their backward)
//             may round their inputs to TF32 on tensor cores (10 mantissa bits instead of 23,
//             about 8x the FP32 rate on an H100); "medium" is the same as "high" (ember has no
//             bfloat16 GEMM for float32 inputs). The CPU computes in FP32 either way.
// Anything else throws ValueError naming the string. Process-wide; takes effect at the next
// GEMM.
#pragma once

#include <string>

namespace ember {

void set_float32_matmul_precision(const std::string& precision);
std::string get_float32_matmul_precision();

}  // namespace ember
