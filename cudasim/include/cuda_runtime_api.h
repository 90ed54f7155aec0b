// cudasim stand-in for <cuda_runtime_api.h> (the host API without the language extensions is
// not worth separating in the simulator: both come from cuda_runtime.h).
#pragma once

#include "cuda_runtime.h"
