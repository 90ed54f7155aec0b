// Portability macros shared by the CPU and CUDA backends. Functors in kernels/common are
// compiled by g++ for the CPU loops and by nvcc (or the cudasim host build) for kernels.
#pragma once

#if defined(__CUDACC__) || defined(EMBER_CUDASIM)
#define EMBER_HD __host__ __device__
#else
#define EMBER_HD
#endif

#if defined(__CUDACC__)
#define EMBER_INLINE __forceinline__
#else
#define EMBER_INLINE inline
#endif
