// The backend objects behind backend(Device) (core/backend.cpp), and what ember::cuda asks of
// the CUDA backend. Internal to core.
#pragma once

#include <cstdint>

#include <ember/core/backend.h>

namespace ember {

// The CPU backend (core/cpu_backend.cpp).
extern Backend* const g_cpu_backend;

#if defined(EMBER_WITH_CUDA)
// The CUDA backend of `device` (core/cuda_backend.cpp), made on its first use and never
// destroyed; nullptr when there is no such device.
Backend* make_cuda_backend(int device);
// Every time `backend` waited for its GPU (Note [Host-device synchronisation]); 0 for a
// backend installed with register_backend.
int64_t cuda_backend_host_syncs(Backend& backend);
#endif

}  // namespace ember
