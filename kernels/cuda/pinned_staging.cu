// Pinned staging (kernels/cuda/pinned_staging.h).
#include <ember/kernels/cuda/pinned_staging.h>

#include <ember/kernels/cuda/memory.h>

namespace ember::kernels::cuda {

void* PinnedStaging::acquire(size_t nbytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  reclaim_completed();
  return pinned_.allocate(nbytes);
}

bool PinnedStaging::release_after_copy(void* ptr, void* stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  void* event = nullptr;
  if (free_events_.empty()) {
    ensure_device(device_);
    event = event_create();
  } else {
    event = free_events_.back();
    free_events_.pop_back();
  }
  event_record(event, stream);
  pending_.push_back({ptr, event});
  if (pending_.size() <= kMaxPending) return false;
  event_synchronize(pending_.front().event);
  reclaim_completed();
  return true;
}

// The stream runs in order, so the first incomplete event ends the scan.
void PinnedStaging::reclaim_completed() {
  while (!pending_.empty() && event_query(pending_.front().event)) {
    pinned_.deallocate(pending_.front().ptr);
    free_events_.push_back(pending_.front().event);
    pending_.pop_front();
  }
}

}  // namespace ember::kernels::cuda
