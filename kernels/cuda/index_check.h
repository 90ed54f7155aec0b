// Device-side validation of class targets (cross_entropy, nll_loss) and indices (gather,
// scatter_add) without a host-device synchronisation per call.
//
// A kernel cannot throw, and returning its verdict would make the host wait for the GPU on
// every call. Instead each checked kernel folds what it found into an IndexCheck in device
// memory: the first error (its position, the bad value, the bound it broke, the dim and
// which kernel found it) stays recorded until the host resets it, and later launches leave
// a recorded error alone, so the host reports the earliest one in stream order. The host
// reads the record where it waits for the stream anyway (kernels/cuda/backend.h, Note
// [Host-device synchronisation]).
//
// Within a launch the blocks agree through the scratch fields: each block lowers
// `launch_first_bad` (an atomic minimum, so the position is the first one, as the CPU
// kernels report), adds to `launch_valid`, and counts itself done; the last block to finish
// sees every other block's results, writes the record and the loss's reduction, and
// restores the scratch for the next launch (kernels/cuda/index_check_device.h). Launches on
// one stream run one after another, so one IndexCheck per stream is enough.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ember::kernels::cuda {

inline constexpr int64_t kNoBadIndex = INT64_MAX;

// Which kernel recorded an error (the host names the op after it).
enum class CheckedKernel : int64_t { None, CrossEntropy, NllLoss, Gather, ScatterAdd, IndexSelect };

struct IndexCheck {
  // The record, read back by the host (the first kReportedBytes bytes).
  int64_t position = kNoBadIndex;  // linear position in the target / index tensor
  int64_t value = 0;               // the target or index found there
  int64_t bound = 0;               // the number of classes, or the size along dim
  int64_t dim = 0;                 // gather / scatter_add's dim (0 for the losses)
  CheckedKernel kernel = CheckedKernel::None;
  // Scratch of the launch in flight; each launch's last block restores these values.
  int64_t launch_first_bad = kNoBadIndex;
  unsigned long long launch_valid = 0;  // the losses' non-ignored targets
  unsigned int blocks_done = 0;
};

// The record's bytes: what the host copies back, and what it resets after reporting.
inline constexpr size_t kReportedBytes = 5 * sizeof(int64_t);
static_assert(offsetof(IndexCheck, launch_first_bad) == kReportedBytes);

}  // namespace ember::kernels::cuda
