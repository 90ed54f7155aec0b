// What the CPU GEMM (CpuBackend::gemm, kernels/cpu/gemm.cpp) runs on: float32 goes to the
// fastest BLAS found at build time (oneDNN's dnnl_sgemm, else OpenBLAS' cblas_sgemm); float64
// (gradcheck, tests) to a plain blocked loop.
#pragma once

namespace ember::kernels::cpu {

// Name of the BLAS behind float32 gemm ("oneDNN", "OpenBLAS"), for benchmarks and logs.
const char* gemm_backend_name();

}  // namespace ember::kernels::cpu
