// The CPU backend: every entry point of kernels/common/backend_kernels.inc computed at the
// call, on OpenMP threads (kernels/cpu/parallel.h). Each is defined in the kernels/cpu file
// that holds its loop: elementwise.cpp, reduce.cpp, softmax.cpp, norm.cpp, index.cpp, sort.cpp,
// copy.cpp (with the memory entry points), random.cpp, dropout.cpp, optimizer.cpp, gemm.cpp.
#pragma once

#include <ember/kernels/common/backend.h>

namespace ember::kernels::cpu {

class CpuBackend final : public Backend {
 public:
#define EMBER_BACKEND_ENTRY(...) __VA_ARGS__ override
#include <ember/kernels/common/backend_kernels.inc>
#undef EMBER_BACKEND_ENTRY
};

// The one CPU backend. Constant-initialised (copy.cpp), so it is ready before any static
// initialiser of another file can ask for it.
extern CpuBackend cpu_backend;

}  // namespace ember::kernels::cpu
