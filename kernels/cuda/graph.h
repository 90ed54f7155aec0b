// Stream capture and CUDA graphs over plain handles (void*: a cudaStream_t, a cudaGraphExec_t),
// for the CUDA backend's capture (kernels/cuda/backend.h) and core's cuda::Graph. Captures run
// in CUDA's global mode, so any call that would break one -- from any host thread -- fails
// instead of silently leaving work out of the graph.
#pragma once

namespace ember::kernels::cuda {

// Starts recording `stream`'s work instead of running it (cudaStreamBeginCapture).
void capture_begin(void* stream);
// Ends the capture and instantiates what it recorded; the caller owns the result (a
// cudaGraphExec_t, for graph_launch / graph_destroy). Throws CudaError when the capture was
// invalidated by a forbidden call (the message says by what) or cannot be instantiated.
void* capture_end(void* stream);
// Ends a capture that failed on the host, dropping what it recorded. Never throws.
void capture_abort(void* stream) noexcept;
// Whether `stream` is capturing now (an invalidated capture counts).
bool is_capturing(void* stream);
// Queues one replay of `graph_exec` on `stream`.
void graph_launch(void* graph_exec, void* stream);
void graph_destroy(void* graph_exec) noexcept;

// While it lives, this host thread may make the calls a capture forbids others
// (cudaThreadExchangeStreamCaptureMode, relaxed): how a capture pool takes new segments with
// cudaMalloc, as PyTorch's allocator does. Waiting for the capturing stream stays forbidden.
class RelaxedCaptureMode {
 public:
  RelaxedCaptureMode();
  ~RelaxedCaptureMode();
  RelaxedCaptureMode(const RelaxedCaptureMode&) = delete;
  RelaxedCaptureMode& operator=(const RelaxedCaptureMode&) = delete;

 private:
  int previous_;
};

}  // namespace ember::kernels::cuda
