// Pinned staging (kernels/cuda/pinned_staging.h).
#include <ember/kernels/cuda/pinned_staging.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/memory.h>

namespace ember::kernels::cuda {
size_t PinnedStaging::initial_limit() {
  const char* env = std::getenv("EMBER_CUDA_STAGING_MB");
  if (env == nullptr || *env == '\0') return PinnedStaging::kDefaultLimit;
  char* end = nullptr;
  const double mb = std::strtod(env, &end);
  EMBER_CHECK(
      end != env && *end == '\0' && mb * (1 << 20) >= PinnedStaging::kMinLimit && mb <= 1 << 20,
      ValueError, "EMBER_CUDA_STAGING_MB='", env,
      "': expected a number of MiB of pinned staging per device, at least ",
      PinnedStaging::kMinLimit >> 10, " KiB (0.0625) and at most 1048576");
  return static_cast<size_t>(mb * (1 << 20));
}

PinnedStaging::PinnedStaging(int device, BlockAllocator& pinned)
    : device_(device), pinned_(pinned), limit_(initial_limit()) {}

size_t PinnedStaging::chunk_bytes() const {
  return std::min(kMaxChunk, limit() / 2);
}

void PinnedStaging::set_limit(size_t bytes) {
  EMBER_CHECK(bytes >= kMinLimit, ValueError, "pinned staging limit of ", bytes,
              " bytes: at least ", kMinLimit, " bytes are needed");
  limit_.store(bytes, std::memory_order_relaxed);
}

void* PinnedStaging::acquire(size_t nbytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  reclaim_completed();
  EMBER_CHECK(nbytes <= chunk_bytes(), ValueError, "pinned staging: a block of ", nbytes,
              " bytes exceeds the chunk size of ", chunk_bytes());
  // Only blocks whose copies are queued can be waited for; blocks still being filled count
  // towards the limit but are not waited on (that would wait for this very caller).
  while (!pending_.empty() && held_ + nbytes > limit()) wait_for_oldest();
  void* ptr = nullptr;
  for (;;) {
    try {
      ptr = pinned_.allocate(nbytes);
      break;
    } catch (const OutOfMemoryError&) {
      // The host is short of pinned memory: a block coming back from a finished copy may do.
      if (pending_.empty()) throw;
      wait_for_oldest();
    }
  }
  held_ += nbytes;
  peak_held_ = std::max(peak_held_, held_);
  return ptr;
}

void PinnedStaging::release_now(void* ptr, size_t nbytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  pinned_.deallocate(ptr);
  held_ -= nbytes;
}

void PinnedStaging::release_after_copy(void* ptr, size_t nbytes, void* stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  void* event = nullptr;
  try {
    if (free_events_.empty()) {
      ensure_device(device_);
      event = event_create(/*timing=*/false);
    } else {
      event = free_events_.back();
      free_events_.pop_back();
    }
    event_record(event, stream);
  } catch (...) {
    // No event marks the copy's end: wait for the whole stream instead (an error there is
    // the device's, already on its way to the caller), then give the block back.
    if (event != nullptr) free_events_.push_back(event);
    try {
      stream_synchronize(stream);
    } catch (...) {
    }
    pinned_.deallocate(ptr);
    held_ -= nbytes;
    throw;
  }
  pending_.push_back({ptr, nbytes, event});
}

void PinnedStaging::release_idle() {
  std::lock_guard<std::mutex> lock(mutex_);
  reclaim_completed();
  pinned_.empty_cache();
}

size_t PinnedStaging::held_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

size_t PinnedStaging::peak_held_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_held_;
}

void PinnedStaging::wait_for_oldest() {
  event_synchronize(pending_.front().event);
  waits_.fetch_add(1, std::memory_order_relaxed);
  reclaim_completed();
}

// The stream runs in order, so the first incomplete event ends the scan.
void PinnedStaging::reclaim_completed() {
  while (!pending_.empty() && event_query(pending_.front().event)) {
    pinned_.deallocate(pending_.front().ptr);
    held_ -= pending_.front().nbytes;
    free_events_.push_back(pending_.front().event);
    pending_.pop_front();
  }
}

}  // namespace ember::kernels::cuda
