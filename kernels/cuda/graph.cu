// The runtime calls behind kernels/cuda/graph.h.
#include <ember/kernels/cuda/graph.h>

#include <cuda_runtime.h>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/counters.h>

namespace ember::kernels::cuda {
namespace {

cudaStream_t as_stream(void* stream) {
  return static_cast<cudaStream_t>(stream);
}

}  // namespace

void capture_begin(void* stream) {
  EMBER_CUDA_CHECK(cudaStreamBeginCapture(as_stream(stream), cudaStreamCaptureModeGlobal));
}

void* capture_end(void* stream) {
  cudaGraph_t graph = nullptr;
  EMBER_CUDA_CHECK(cudaStreamEndCapture(as_stream(stream), &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
  (void)cudaGraphDestroy(graph);  // the instance keeps what it needs
  EMBER_CUDA_CHECK(err);
  return exec;
}

void capture_abort(void* stream) noexcept {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(as_stream(stream), &status) == cudaSuccess &&
      status != cudaStreamCaptureStatusNone) {
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(as_stream(stream), &graph) == cudaSuccess && graph != nullptr) {
      (void)cudaGraphDestroy(graph);
    }
  }
  (void)cudaGetLastError();  // the failure being handled is the one to report
}

bool is_capturing(void* stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  EMBER_CUDA_CHECK(cudaStreamIsCapturing(as_stream(stream), &status));
  return status != cudaStreamCaptureStatusNone;
}

void graph_launch(void* graph_exec, void* stream) {
  EMBER_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph_exec), as_stream(stream)));
  detail::count(detail::Counter::kGraphLaunches);
}

void graph_destroy(void* graph_exec) noexcept {
  if (graph_exec != nullptr) (void)cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph_exec));
}

RelaxedCaptureMode::RelaxedCaptureMode() {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  EMBER_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  previous_ = static_cast<int>(mode);
}

RelaxedCaptureMode::~RelaxedCaptureMode() {
  auto mode = static_cast<cudaStreamCaptureMode>(previous_);
  (void)cudaThreadExchangeStreamCaptureMode(&mode);
}

}  // namespace ember::kernels::cuda
