// cudasim's stream capture and CUDA graphs. A capturing stream's work (everything that goes
// through submit(): launches, asynchronous copies and sets, event records, cuBLAS calls) is
// appended to the capture instead of running; cudaStreamEndCapture turns the list into a
// graph, cudaGraphInstantiate copies it, and every cudaGraphLaunch submits the recorded work
// again, in order, on the launch's stream, so a replay runs exactly what was captured, with the
// arguments and addresses of the capture. One stream per capture: cudasim records no fork or
// join into other streams, which ember never makes.
//
// The calls a capture forbids are CUDA's (runtime_api.h): they fail, and they invalidate the
// capture so that its end fails too, as on a GPU, rather than leaving a graph without the work
// the program thought it recorded.
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "internal.h"

struct CUgraph_st {
  int device = 0;
  std::vector<cudasim::detail::Work> work;
};

struct CUgraphExec_st {
  int device = 0;
  std::vector<cudasim::detail::Work> work;
};

namespace cudasim::detail {
namespace {

struct Capture {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;
  std::vector<Work> work;
  bool invalidated = false;
  std::string why;  // what invalidated it
};

struct Graphs {
  std::map<cudaStream_t, Capture> captures;
  std::set<cudaGraph_t> graphs;
  std::set<cudaGraphExec_t> execs;
};

Graphs& graphs() {
  static Graphs* g = new Graphs;
  return *g;
}

// The interaction mode cudaThreadExchangeStreamCaptureMode sets for this host thread.
thread_local cudaStreamCaptureMode thread_mode = cudaStreamCaptureModeGlobal;

// Whether `c` forbids this thread the calls that are unsafe during any capture (CUDA's rule:
// the thread's own capture unless it is relaxed, another thread's global capture unless this
// thread's mode is thread-local or relaxed).
bool forbids_unsafe_calls(const Capture& c) {
  if (thread_mode == cudaStreamCaptureModeRelaxed || c.mode == cudaStreamCaptureModeRelaxed)
    return false;
  if (c.thread == std::this_thread::get_id()) return true;
  return c.mode == cudaStreamCaptureModeGlobal && thread_mode == cudaStreamCaptureModeGlobal;
}

}  // namespace

bool is_capturing(cudaStream_t stream) {
  return stream != nullptr && graphs().captures.count(stream) != 0;
}

cudaError_t capture_work(cudaStream_t stream, Work work) {
  Capture& c = graphs().captures.at(stream);
  if (c.invalidated) {
    return set_error(cudaErrorStreamCaptureInvalidated,
                     "work queued on a stream whose capture was invalidated by " + c.why);
  }
  c.work.push_back(std::move(work));
  return cudaSuccess;
}

cudaError_t check_capture_allows(const char* api, cudaStream_t stream, bool every_stream) {
  std::string forbidding;
  for (auto& [s, c] : graphs().captures) {
    // Waiting for, or working with pageable memory on, the capturing stream itself conflicts
    // with the capture whatever its mode.
    const bool conflicts =
        every_stream || (stream != nullptr ? s == stream : forbids_unsafe_calls(c));
    if (!conflicts) continue;
    if (!c.invalidated) {
      c.invalidated = true;
      c.why = api;
    }
    if (forbidding.empty()) forbidding = strprintf("%p", static_cast<void*>(s));
  }
  if (forbidding.empty()) return cudaSuccess;
  return set_error(cudaErrorStreamCaptureUnsupported,
                   strprintf("%s is not permitted while stream %s is capturing (the capture is "
                             "now invalidated)",
                             api, forbidding.c_str()));
}

void forget_capture(cudaStream_t stream) {
  graphs().captures.erase(stream);
}

}  // namespace cudasim::detail

using namespace cudasim::detail;

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  ApiLock lock(api_mutex());
  if (stream == nullptr) {
    return set_error(cudaErrorStreamCaptureUnsupported,
                     "cudaStreamBeginCapture: the legacy default stream cannot be captured");
  }
  if (!stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaStreamBeginCapture: not a live stream");
  }
  if (mode < cudaStreamCaptureModeGlobal || mode > cudaStreamCaptureModeRelaxed) {
    return set_error(cudaErrorInvalidValue, "cudaStreamBeginCapture: bad mode");
  }
  if (is_capturing(stream)) {
    return set_error(cudaErrorIllegalState,
                     "cudaStreamBeginCapture: the stream is already capturing");
  }
  Capture& c = graphs().captures[stream];
  c.mode = mode;
  c.thread = std::this_thread::get_id();
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  ApiLock lock(api_mutex());
  if (graph == nullptr) return set_error(cudaErrorInvalidValue, "cudaStreamEndCapture: null");
  if (!stream_is_valid(stream) || !is_capturing(stream)) {
    return set_error(cudaErrorIllegalState, "cudaStreamEndCapture: the stream is not capturing");
  }
  auto it = graphs().captures.find(stream);
  if (it->second.mode != cudaStreamCaptureModeRelaxed &&
      it->second.thread != std::this_thread::get_id()) {
    return set_error(cudaErrorStreamCaptureWrongThread,
                     "cudaStreamEndCapture: a global or thread-local capture must end on the "
                     "thread that began it");
  }
  Capture c = std::move(it->second);
  graphs().captures.erase(it);
  *graph = nullptr;
  if (c.invalidated) {
    return set_error(cudaErrorStreamCaptureInvalidated,
                     "cudaStreamEndCapture: the capture was invalidated by " + c.why);
  }
  auto* g = new CUgraph_st{stream_device(stream), std::move(c.work)};
  graphs().graphs.insert(g);
  *graph = g;
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  ApiLock lock(api_mutex());
  if (status == nullptr) return set_error(cudaErrorInvalidValue, "cudaStreamIsCapturing: null");
  if (!stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaStreamIsCapturing: not a live stream");
  }
  auto it = graphs().captures.find(stream);
  *status = it == graphs().captures.end() ? cudaStreamCaptureStatusNone
            : it->second.invalidated      ? cudaStreamCaptureStatusInvalidated
                                          : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (mode == nullptr || *mode < cudaStreamCaptureModeGlobal ||
      *mode > cudaStreamCaptureModeRelaxed) {
    return set_error(cudaErrorInvalidValue, "cudaThreadExchangeStreamCaptureMode: bad mode");
  }
  std::swap(*mode, thread_mode);
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph,
                                 unsigned long long flags) {
  ApiLock lock(api_mutex());
  (void)flags;  // instantiation options (auto-free, upload, ...) change nothing simulated
  if (exec == nullptr) return set_error(cudaErrorInvalidValue, "cudaGraphInstantiate: null");
  if (graphs().graphs.count(graph) == 0) {
    return set_error(cudaErrorInvalidValue, "cudaGraphInstantiate: not a live graph");
  }
  auto* e = new CUgraphExec_st{graph->device, graph->work};
  graphs().execs.insert(e);
  *exec = e;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  ApiLock lock(api_mutex());
  if (graphs().execs.count(exec) == 0) {
    return set_error(cudaErrorInvalidValue, "cudaGraphLaunch: not a live executable graph");
  }
  if (!stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaGraphLaunch: not a live stream");
  }
  if (stream_device(stream) != exec->device) {
    return set_error(cudaErrorInvalidValue,
                     strprintf("cudaGraphLaunch: the graph was captured on device %d, the stream "
                               "belongs to device %d",
                               exec->device, stream_device(stream)));
  }
  cudasim::Counters& counters = mutable_counters();
  ++counters.graph_launches;
  for (const Work& work : exec->work) {
    ++counters.graph_nodes_run;
    const cudaError_t err = submit(stream, work);
    if (err != cudaSuccess) return err;  // the failed node's error, as the next wait would say
  }
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  ApiLock lock(api_mutex());
  if (graphs().execs.erase(exec) == 0) {
    return set_error(cudaErrorInvalidValue, "cudaGraphExecDestroy: not a live executable graph");
  }
  delete exec;  // queued replays hold copies of the work, not the graph
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  ApiLock lock(api_mutex());
  if (graphs().graphs.erase(graph) == 0) {
    return set_error(cudaErrorInvalidValue, "cudaGraphDestroy: not a live graph");
  }
  delete graph;
  return cudaSuccess;
}
