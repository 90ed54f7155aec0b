// cudasim stand-in for <cuda_runtime.h>: on the include path only in EMBER_CUDA=SIM builds, where
// kernels/cuda/*.cu are compiled by the host compiler as C++ and run on the simulator.
#pragma once

#define EMBER_CUDASIM_HEADERS 1

#include "cudasim/device_api.h"
#include "cudasim/runtime_api.h"
