// ember::cuda::Graph over the CUDA backend's capture (Note [Graph capture] in
// kernels/cuda/backend.h) and the caching allocator's capture pools (Note [Capture pools] in
// core/allocator.h).
#include <ember/core/cuda_graph.h>

#include <atomic>
#include <utility>

#include <ember/core/backend.h>
#include <ember/core/cuda.h>
#include <ember/core/error.h>

#if defined(EMBER_WITH_CUDA)
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/graph.h>
#endif

namespace ember::cuda {
#if defined(EMBER_WITH_CUDA)

namespace {

// Pool tags are odd, so no stream (an aligned pointer) ever has one.
StreamId next_pool_tag() {
  static std::atomic<StreamId> next{0};
  return (next.fetch_add(1, std::memory_order_relaxed) << 1) | 1;
}

}  // namespace

struct Graph::Impl {
  int device = 0;
  kernels::cuda::CudaBackend* backend = nullptr;
  CachingAllocator* memory = nullptr;
  kernels::cuda::CudaBackend::CapturedGraph graph;
  StreamId pool = 0;  // nonzero from capture_begin until reset
  bool capturing = false;

  // Ends a failed capture: what it recorded and what it allocated are dropped.
  void abort() noexcept {
    backend->abort_capture();
    capturing = false;
    try {
      memory->end_capture(pool);
    } catch (...) {  // not capturing any more: nothing to end
    }
    release();
  }
  void release() noexcept {
    kernels::cuda::graph_destroy(graph.exec);  // an in-flight replay still completes
    graph = {};
    if (pool != 0) {
      try {
        memory->release_pool(pool);
      } catch (...) {  // a damaged guard, already reported by the work that did it
      }
    }
    pool = 0;
  }
};

Graph::Graph(int device) : impl_(std::make_unique<Impl>()) {
  EMBER_CHECK(device >= 0 && device < device_count(), DeviceError, "cuda::Graph: cuda:", device,
              " does not exist (", device_count(), " CUDA device(s))");
  impl_->device = device;
  impl_->backend = static_cast<kernels::cuda::CudaBackend*>(&backend(Device::cuda(device)));
  impl_->memory = &device_allocator(Device::cuda(device));
}

Graph::~Graph() {
  if (impl_ == nullptr) return;
  if (impl_->capturing) {
    impl_->abort();
  } else {
    impl_->release();
  }
}

void Graph::capture_begin() {
  Impl& g = *impl_;
  EMBER_CHECK(!g.capturing && g.graph.exec == nullptr, ValueError,
              "cuda::Graph::capture_begin: the graph ",
              g.capturing ? "is being captured" : "is already captured", " (reset() first)");
  g.backend->synchronize();
  g.pool = next_pool_tag();
  g.memory->begin_capture(device_stream_tag(Device::cuda(g.device)), g.pool);
  try {
    g.backend->begin_capture();
  } catch (...) {
    (void)g.memory->end_capture(g.pool);
    g.release();
    throw;
  }
  g.capturing = true;
}

void Graph::capture_end() {
  Impl& g = *impl_;
  EMBER_CHECK(g.capturing, ValueError, "cuda::Graph::capture_end: no capture_begin()");
  try {
    g.graph = g.backend->end_capture();
  } catch (...) {
    g.capturing = false;
    g.memory->end_capture(g.pool);
    g.release();
    throw;
  }
  g.capturing = false;
  g.memory->end_capture(g.pool);
}

void Graph::capture(const std::function<void()>& work) {
  capture_begin();
  try {
    work();
  } catch (...) {
    impl_->abort();
    throw;
  }
  capture_end();
}

void Graph::replay() {
  EMBER_CHECK(impl_->graph.exec != nullptr, ValueError,
              "cuda::Graph::replay: nothing captured yet (capture() first)");
  impl_->backend->replay(impl_->graph);
}

void Graph::reset() {
  if (impl_->capturing) {
    impl_->abort();
  } else {
    impl_->release();
  }
}

bool Graph::captured() const {
  return impl_->graph.exec != nullptr;
}

bool is_current_stream_capturing(int device) {
  Backend* b =
      device >= 0 && device < device_count() ? backend_if_used(Device::cuda(device)) : nullptr;
  return b != nullptr && static_cast<kernels::cuda::CudaBackend*>(b)->capturing();
}

#else  // no CUDA backend

struct Graph::Impl {
  int device = 0;
};

Graph::Graph(int device) {
  throw DeviceError(detail::str_cat("cuda::Graph: cuda:", device,
                                    " is not available: this build of ember has no CUDA backend "
                                    "(configure with -DEMBER_CUDA=ON or SIM)"));
}
Graph::~Graph() = default;
void Graph::capture_begin() {}
void Graph::capture_end() {}
void Graph::capture(const std::function<void()>&) {}
void Graph::replay() {}
void Graph::reset() {}
bool Graph::captured() const {
  return false;
}
bool is_current_stream_capturing(int) {
  return false;
}

#endif

Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&& other) noexcept {
  if (this != &other) {
    Graph dropped(std::move(*this));  // releases what this graph held
    impl_ = std::move(other.impl_);
  }
  return *this;
}

int Graph::device() const {
  return impl_->device;
}

}  // namespace ember::cuda
