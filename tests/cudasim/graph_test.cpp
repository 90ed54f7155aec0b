// cudasim's stream capture and graphs: capture records instead of running, a replay runs the
// recorded work with the captured arguments and addresses (reading pinned inputs as they are at
// the replay), and every call CUDA forbids during a capture fails and invalidates it.
#include <gtest/gtest.h>

#include <cublas_v2.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cudasim/counters.h"
#include "cudasim/modes.h"
#include "sim_test_util.h"
#include "test_kernels.h"

namespace cudasim_test {
namespace {

class CudasimGraph : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, 1), cudaSuccess); }
  void TearDown() override {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream_, &status) == cudaSuccess &&
        status != cudaStreamCaptureStatusNone) {
      cudaGraph_t g = nullptr;
      (void)cudaStreamEndCapture(stream_, &g);
      if (g != nullptr) (void)cudaGraphDestroy(g);
    }
    (void)cudaGetLastError();
    EXPECT_EQ(cudaStreamDestroy(stream_), cudaSuccess);
  }

  // Captures `work` on the stream and instantiates it.
  cudaGraphExec_t capture(const std::function<void()>& work) {
    EXPECT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
    work();
    cudaGraph_t graph = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
    cudaGraphExec_t exec = nullptr;
    EXPECT_EQ(cudaGraphInstantiate(&exec, graph), cudaSuccess);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess) << "an instance outlives its graph";
    return exec;
  }

  cudaStream_t stream_ = nullptr;
};

TEST_F(CudasimGraph, CaptureRecordsAndEachReplayRunsTheWorkInOrder) {
  DeviceArray<float> x(std::vector<float>(300, 7.0f));
  cudasim::reset_counters();
  const cudaGraphExec_t exec = capture([&] {
    fill_on(x.get(), 300, 1.0f, stream_);
    axpb_on(x.get(), 300, 2.0f, 1.0f, stream_);  // 3 only if it runs after the fill
  });
  EXPECT_EQ(x.download(), std::vector<float>(300, 7.0f)) << "captured work must not run";
  EXPECT_EQ(cudasim::counters().kernel_launches, 2) << "captured launches are host calls";

  cudasim::reset_counters();
  for (int replay = 0; replay < 3; ++replay) {
    ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    EXPECT_EQ(x.download(), std::vector<float>(300, 3.0f)) << "replay " << replay;
  }
  const cudasim::Counters c = cudasim::counters();
  EXPECT_EQ(c.kernel_launches, 0) << "a replay makes no host launch";
  EXPECT_EQ(c.graph_launches, 3);
  EXPECT_EQ(c.graph_nodes_run, 6);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaErrorInvalidValue);
  (void)cudaGetLastError();
}

// The static-input pattern: a captured copy from pinned memory reads it when the replay runs.
TEST_F(CudasimGraph, AReplayReadsPinnedInputsAsTheyAreThen) {
  DeviceArray<float> x(4);
  float* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(&pinned, 4 * sizeof(float)), cudaSuccess);
  float* out = nullptr;
  ASSERT_EQ(cudaMallocHost(&out, 4 * sizeof(float)), cudaSuccess);
  const cudaGraphExec_t exec = capture([&] {
    ASSERT_EQ(cudaMemcpyAsync(x.get(), pinned, 4 * sizeof(float), cudaMemcpyHostToDevice, stream_),
              cudaSuccess);
    axpb_on(x.get(), 4, 10.0f, 0.0f, stream_);
    ASSERT_EQ(cudaMemcpyAsync(out, x.get(), 4 * sizeof(float), cudaMemcpyDeviceToHost, stream_),
              cudaSuccess);
  });
  for (float v : {1.0f, 2.5f}) {
    for (int i = 0; i < 4; ++i) pinned[i] = v + static_cast<float>(i);
    ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], 10.0f * (v + static_cast<float>(i)));
  }
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFreeHost(out), cudaSuccess);
}

TEST_F(CudasimGraph, AReplayInDeferredModeRunsAtTheWait) {
  const bool was = cudasim::deferred();
  cudasim::set_deferred(true);
  DeviceArray<float> x(std::vector<float>(8, 0.0f));
  const cudaGraphExec_t exec = capture([&] { axpb_on(x.get(), 8, 1.0f, 1.0f, stream_); });
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  float first = -1.0f;
  // Read through a pinned buffer without waiting: the replays have not run.
  float* peek = nullptr;
  ASSERT_EQ(cudaMallocHost(&peek, sizeof(float)), cudaSuccess);
  *peek = -1.0f;
  ASSERT_EQ(cudaMemcpyAsync(peek, x.get(), sizeof(float), cudaMemcpyDeviceToHost, stream_),
            cudaSuccess);
  first = *peek;
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(first, -1.0f) << "queued replays ran before the wait";
  EXPECT_EQ(*peek, 2.0f) << "two replays, in order";
  EXPECT_EQ(cudaFreeHost(peek), cudaSuccess);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  cudasim::set_deferred(was);
}

TEST_F(CudasimGraph, CuBlasCallsAreCapturedAndReplayed) {
  // C = A * B for 2x2 column-major matrices.
  DeviceArray<float> a(std::vector<float>{1, 2, 3, 4});
  DeviceArray<float> b(std::vector<float>{1, 0, 0, 1});
  DeviceArray<float> c(std::vector<float>(4, 0.0f));
  cublasHandle_t handle = nullptr;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSetStream(handle, stream_), CUBLAS_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  cudasim::reset_counters();
  const cudaGraphExec_t exec = capture([&] {
    ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), 2, b.get(), 2,
                          &zero, c.get(), 2),
              CUBLAS_STATUS_SUCCESS);
  });
  EXPECT_EQ(c.download(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(cudasim::counters().cublas_calls, 1);
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(c.download(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(cudasim::counters().cublas_calls, 1) << "the replay is no host call";
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
}

struct ForbiddenCall {
  const char* name;
  std::function<cudaError_t(cudaStream_t, float*)> call;
};

class CudasimGraphForbidden : public CudasimGraph,
                              public ::testing::WithParamInterface<ForbiddenCall> {};

TEST_P(CudasimGraphForbidden, FailsAndInvalidatesTheCapture) {
  DeviceArray<float> x(16);
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  fill_on(x.get(), 16, 1.0f, stream_);
  EXPECT_EQ(GetParam().call(stream_, x.get()), cudaErrorStreamCaptureUnsupported);
  const std::string detail = cudasim::last_error_detail();
  EXPECT_NE(detail.find("is not permitted while stream"), std::string::npos) << detail;
  (void)cudaGetLastError();
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  ASSERT_EQ(cudaStreamIsCapturing(stream_, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
  EXPECT_THROW(fill_on(x.get(), 16, 2.0f, stream_), ember::CudaError)
      << "work on an invalidated capture fails";
  cudaGraph_t graph = reinterpret_cast<cudaGraph_t>(1);
  EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  (void)cudaGetLastError();
  // The stream is usable again, eagerly.
  fill_on(x.get(), 16, 3.0f, stream_);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(x.download(), std::vector<float>(16, 3.0f));
}

std::vector<ForbiddenCall> forbidden_calls() {
  return {
      {"cudaStreamSynchronize", [](cudaStream_t s, float*) { return cudaStreamSynchronize(s); }},
      {"cudaStreamQuery", [](cudaStream_t s, float*) { return cudaStreamQuery(s); }},
      {"cudaDeviceSynchronize", [](cudaStream_t, float*) { return cudaDeviceSynchronize(); }},
      {"cudaMalloc",
       [](cudaStream_t, float*) {
         void* p = nullptr;
         return cudaMalloc(&p, 256);
       }},
      {"cudaMallocHost",
       [](cudaStream_t, float*) {
         void* p = nullptr;
         return cudaMallocHost(&p, 256);
       }},
      {"cudaMemcpy",
       [](cudaStream_t, float* x) {
         float host[16];
         return cudaMemcpy(host, x, sizeof(host), cudaMemcpyDeviceToHost);
       }},
      {"cudaMemset", [](cudaStream_t, float* x) { return cudaMemset(x, 0, 16); }},
      {"PageableCopyToTheDevice",
       [](cudaStream_t s, float* x) {
         std::vector<float> host(16, 1.0f);
         return cudaMemcpyAsync(x, host.data(), 64, cudaMemcpyHostToDevice, s);
       }},
      {"PageableCopyToTheHost",
       [](cudaStream_t s, float* x) {
         std::vector<float> host(16);
         return cudaMemcpyAsync(host.data(), x, 64, cudaMemcpyDeviceToHost, s);
       }},
  };
}

INSTANTIATE_TEST_SUITE_P(Calls, CudasimGraphForbidden, ::testing::ValuesIn(forbidden_calls()),
                         [](const ::testing::TestParamInfo<ForbiddenCall>& info) {
                           return std::string(info.param.name);
                         });

TEST_F(CudasimGraph, CudaFreeDuringCaptureIsForbiddenAndFreesNothing) {
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 256), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaErrorStreamCaptureUnsupported);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaErrorStreamCaptureInvalidated);
  (void)cudaGetLastError();
  EXPECT_EQ(cudaFree(p), cudaSuccess) << "the failed free left the allocation live";
}

// PyTorch's caching allocator takes new segments during a capture this way.
TEST_F(CudasimGraph, ARelaxedThreadMayAllocateDuringACapture) {
  DeviceArray<float> x(8);
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  EXPECT_EQ(mode, cudaStreamCaptureModeGlobal) << "the previous mode comes back";
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 256), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaErrorStreamCaptureUnsupported)
      << "waiting for the capturing stream is never allowed";
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorStreamCaptureUnsupported)
      << "nor is waiting for every stream";
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaErrorStreamCaptureInvalidated);
  (void)cudaGetLastError();
  EXPECT_EQ(cudaFree(p), cudaSuccess);
}

TEST_F(CudasimGraph, AGlobalCaptureForbidsOtherThreadsAThreadLocalOneDoesNot) {
  for (auto [mode, forbids] : {std::pair{cudaStreamCaptureModeGlobal, true},
                               std::pair{cudaStreamCaptureModeThreadLocal, false}}) {
    ASSERT_EQ(cudaStreamBeginCapture(stream_, mode), cudaSuccess);
    cudaError_t other = cudaSuccess;
    void* p = nullptr;
    std::thread([&] { other = cudaMalloc(&p, 256); }).join();
    EXPECT_EQ(other, forbids ? cudaErrorStreamCaptureUnsupported : cudaSuccess) << mode;
    cudaGraph_t graph = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(stream_, &graph),
              forbids ? cudaErrorStreamCaptureInvalidated : cudaSuccess);
    (void)cudaGetLastError();
    if (graph != nullptr) {
      EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
    }
    if (p != nullptr) {
      EXPECT_EQ(cudaFree(p), cudaSuccess);
    }
  }
}

TEST_F(CudasimGraph, CaptureStateIsValidated) {
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaErrorIllegalState);
  EXPECT_EQ(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal),
            cudaErrorStreamCaptureUnsupported)
      << "the legacy stream cannot be captured";
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  EXPECT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaErrorIllegalState);
  cudaError_t other = cudaSuccess;
  std::thread([&] { other = cudaStreamEndCapture(stream_, &graph); }).join();
  EXPECT_EQ(other, cudaErrorStreamCaptureWrongThread);
  ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
  ASSERT_NE(graph, nullptr);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph), cudaSuccess);
  EXPECT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess) << "an empty graph runs nothing";
  EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  EXPECT_EQ(cudaGraphInstantiate(&exec, graph), cudaErrorInvalidValue) << "destroyed graph";
  (void)cudaGetLastError();
}

TEST_F(CudasimGraph, EventsRecordedInACaptureCannotBeAwaitedDuringIt) {
  cudaEvent_t event = nullptr;
  ASSERT_EQ(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), cudaSuccess);
  cudaEvent_t outside = nullptr;
  ASSERT_EQ(cudaEventCreateWithFlags(&outside, cudaEventDisableTiming), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(outside, stream_), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(event, stream_), cudaSuccess);
  EXPECT_EQ(cudaEventSynchronize(event), cudaErrorCapturedEvent);
  EXPECT_EQ(cudaEventQuery(event), cudaErrorCapturedEvent);
  EXPECT_EQ(cudaStreamWaitEvent(stream_, event), cudaSuccess) << "recorded in this capture";
  EXPECT_EQ(cudaStreamWaitEvent(stream_, outside), cudaErrorStreamCaptureIsolation);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaErrorStreamCaptureInvalidated);
  (void)cudaGetLastError();
  EXPECT_EQ(cudaEventSynchronize(event), cudaSuccess) << "after the capture it is no longer";
  EXPECT_EQ(cudaEventDestroy(event), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(outside), cudaSuccess);
}

TEST_F(CudasimGraph, AGraphRunsOnlyOnItsDevice) {
  if (cudasim::device_count() < 2) cudasim::set_device_count(2);
  const cudaGraphExec_t exec = capture([] {});
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  cudaStream_t other = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&other, 1), cudaSuccess);
  EXPECT_EQ(cudaGraphLaunch(exec, other), cudaErrorInvalidValue);
  (void)cudaGetLastError();
  EXPECT_EQ(cudaStreamDestroy(other), cudaSuccess);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
}

}  // namespace
}  // namespace cudasim_test
