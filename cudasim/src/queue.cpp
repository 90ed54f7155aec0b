// cudasim's modes (cudasim/modes.h) and the queue of deferred device work.
//
// In deferred mode every piece of device work (a launch, an asynchronous copy or set, a cuBLAS
// call, a guard update of the caching allocator) is validated by the call that makes it and
// then queued in one process-wide list, in submission order. Waiting for a stream or an event
// runs the list's prefix up to the awaited item: simpler than one queue per stream with the
// dependencies between them, never less than CUDA guarantees, and exact for a program that
// queues each device's work on one stream, as ember does.
#include <cstdlib>
#include <cstring>
#include <deque>
#include <stdexcept>

#include "cudasim/modes.h"
#include "internal.h"

namespace cudasim::detail {
namespace {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

struct Modes {
  bool deferred = env_flag("CUDASIM_DEFERRED");
  bool shuffle = std::getenv("CUDASIM_SHUFFLE_SEED") != nullptr;
  uint64_t seed = shuffle ? std::strtoull(std::getenv("CUDASIM_SHUFFLE_SEED"), nullptr, 10) : 0;
  int devices = [] {
    const char* v = std::getenv("CUDASIM_DEVICES");
    const long n = v != nullptr ? std::strtol(v, nullptr, 10) : 1;
    return n < 1 ? 1 : n > kMaxDevices ? kMaxDevices : static_cast<int>(n);
  }();
};

Modes& modes() {
  static Modes* m = new Modes;
  return *m;
}

struct Item {
  uint64_t seq;
  cudaStream_t stream;
  Work work;
};

struct Queue {
  std::deque<Item> items;
  uint64_t submitted = 0;  // number of the last submission
  uint64_t ran = 0;        // every item numbered <= ran has run
  uint64_t launches = 0;
  bool running = false;  // work being run may not flush again (it never waits)
};

Queue& queue() {
  static Queue* q = new Queue;
  return *q;
}

// Runs the queue's items while `more` says so; returns the first failure.
template <typename More>
cudaError_t run_while(More more) {
  Queue& q = queue();
  if (q.running) return cudaSuccess;
  q.running = true;
  Outcome first;
  while (!q.items.empty() && more(q.items.front())) {
    Item item = std::move(q.items.front());
    q.items.pop_front();
    Outcome o = item.work();
    q.ran = item.seq;
    if (first.code == cudaSuccess && o.code != cudaSuccess) first = std::move(o);
  }
  if (q.items.empty()) q.ran = q.submitted;
  q.running = false;
  if (first.code == cudaSuccess) return cudaSuccess;
  return set_error(first.code, "deferred work failed: " + first.detail);
}

}  // namespace

const cudaStream_t kAnyStream = reinterpret_cast<cudaStream_t>(~uintptr_t{0});

cudaError_t submit(cudaStream_t stream, Work work) {
  if (stream != kAnyStream && is_capturing(stream)) return capture_work(stream, std::move(work));
  Queue& q = queue();
  const uint64_t seq = ++q.submitted;
  if (!modes().deferred || q.running) {
    Outcome o = work();
    if (q.items.empty()) q.ran = seq;
    return o.code == cudaSuccess ? cudaSuccess : set_error(o.code, std::move(o.detail));
  }
  q.items.push_back(Item{seq, stream, std::move(work)});
  return cudaSuccess;
}

cudaError_t flush_stream(cudaStream_t stream) {
  if (stream == nullptr) return flush_all();
  const uint64_t last = pending_through(stream);
  return last == 0 ? cudaSuccess : flush_through(last);
}

cudaError_t flush_through(uint64_t seq) {
  return run_while([seq](const Item& item) { return item.seq <= seq; });
}

cudaError_t flush_all() {
  return run_while([](const Item&) { return true; });
}

uint64_t pending_through(cudaStream_t stream) {
  Queue& q = queue();
  for (auto it = q.items.rbegin(); it != q.items.rend(); ++it) {
    if (it->stream == stream) return it->seq;
  }
  return 0;
}

uint64_t last_submission() {
  return queue().submitted;
}

bool has_run(uint64_t seq) {
  Queue& q = queue();
  return q.items.empty() || q.items.front().seq > seq;
}

uint64_t next_launch_number() {
  return ++queue().launches;
}

}  // namespace cudasim::detail

namespace cudasim {

bool deferred() {
  detail::ApiLock lock(detail::api_mutex());
  return detail::modes().deferred;
}

void set_deferred(bool on) {
  detail::ApiLock lock(detail::api_mutex());
  if (!on) (void)detail::flush_all();
  detail::modes().deferred = on;
}

bool block_shuffle(uint64_t* seed) {
  detail::ApiLock lock(detail::api_mutex());
  if (seed != nullptr) *seed = detail::modes().seed;
  return detail::modes().shuffle;
}

void set_block_shuffle(bool on, uint64_t seed) {
  detail::ApiLock lock(detail::api_mutex());
  detail::modes().shuffle = on;
  detail::modes().seed = seed;
}

int device_count() {
  detail::ApiLock lock(detail::api_mutex());
  return detail::modes().devices;
}

void set_device_count(int n) {
  detail::ApiLock lock(detail::api_mutex());
  if (n < detail::modes().devices || n > detail::kMaxDevices) {
    throw std::invalid_argument(detail::strprintf(
        "cudasim::set_device_count(%d): the count may only grow, up to %d (it is %d)", n,
        detail::kMaxDevices, detail::modes().devices));
  }
  detail::modes().devices = n;
}

}  // namespace cudasim
