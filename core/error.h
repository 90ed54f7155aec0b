// ember's exceptions: ember::Error and its subclasses, and EMBER_CHECK. They are defined in
// kernels/common/error.h, below core, so that the kernels of every backend throw the same
// types the op layer does; this header is where users and core code include them from.
#pragma once

#include <ember/kernels/common/error.h>
