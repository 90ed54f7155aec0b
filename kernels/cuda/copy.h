// CUDA data movement: strided copy with dtype conversion, strided fill, arange. The
// launchers behind CudaBackend::copy, fill, arange: the entry points' semantics
// (kernels/common/backend_kernels.inc) plus the stream; every
// pointer is device memory and every call is asynchronous on `stream`.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>

namespace ember::kernels::cuda {

// `stream` is a cudaStream_t (nullptr: the legacy default stream).
// A contiguous same-dtype copy is one cudaMemcpyAsync (device to device, no kernel); anything
// else is one kernel launch.
void copy(DType src_dt, const Layout& src_layout, const void* src, DType dst_dt,
          const Layout& dst_layout, void* dst, void* stream);

// A contiguous fill whose value has one repeated byte (0, false/true, int64 -1) is one
// cudaMemsetAsync; anything else one kernel launch.
void fill(DType dt, const Layout& layout, void* dst, double value, void* stream);

// out[i] = start + i * step (computed in double, then converted) for i < n.
void arange(DType dt, void* out, int64_t n, double start, double step, void* stream);

}  // namespace ember::kernels::cuda
