// cudasim stand-in for CUDA's <math_constants.h>: the float constants ember's kernels use.
#pragma once

#include <math.h>

#define CUDART_INF_F INFINITY
#define CUDART_NAN_F NAN
#define CUDART_PI_F 3.141592654f
#define CUDART_INF HUGE_VAL
#define CUDART_NAN (0.0 / 0.0)
