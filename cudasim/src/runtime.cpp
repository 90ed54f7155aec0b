// cudasim runtime: error state and strings, the simulated devices (cudasim/modes.h), streams,
// events and the counters. Streams and events belong to the device current when they were
// made and are validated as on a GPU (a destroyed stream is an error). By default work is
// never queued: every call runs to completion before it returns, so a stream is in order
// trivially. In deferred mode (queue.cpp) the waiting calls here are where queued work runs.
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "cudasim/memory.h"
#include "cudasim/modes.h"
#include "internal.h"

struct CUstream_st {
  unsigned int flags = 0;
  int device = 0;
  uint64_t told_not_ready = 0;  // the pending item a cudaStreamQuery last answered "not yet" for
};

struct CUevent_st {
  unsigned int flags = 0;
  int device = 0;
  bool recorded = false;  // cudaEventRecord was called
  uint64_t seq = 0;       // the submission that completes the record
  bool told_not_ready = false;
  cudaStream_t captured_in = nullptr;  // the latest record was captured on this stream
  // When the latest record ran. Shared with that queued record, so destroying the event (which
  // a GPU also defers until the record completes) neither waits nor leaves it a dangling write.
  std::shared_ptr<std::chrono::steady_clock::time_point> when =
      std::make_shared<std::chrono::steady_clock::time_point>();
};

namespace cudasim::detail {
namespace {

thread_local cudaError_t last_error = cudaSuccess;
thread_local std::string last_detail;

thread_local int thread_device = 0;  // cudaSetDevice's, per host thread as in CUDA

struct Handles {
  std::set<CUstream_st*> streams;
  std::set<CUevent_st*> events;
  bool contexts[kMaxDevices] = {};
};

Handles& handles() {
  static Handles* h = new Handles;
  return *h;
}

bool event_is_valid(cudaEvent_t event) {
  return event != nullptr && handles().events.count(event) != 0;
}

}  // namespace

std::recursive_mutex& api_mutex() {
  static std::recursive_mutex* m = new std::recursive_mutex;
  return *m;
}

cudaError_t set_error(cudaError_t code, std::string detail) {
  if (code != cudaSuccess) {
    last_error = code;
    last_detail = std::move(detail);
  }
  return code;
}

void set_detail(std::string detail) {
  last_detail = std::move(detail);
}

Counters& mutable_counters() {
  static Counters* c = new Counters;
  return *c;
}

std::string strprintf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  std::vsnprintf(out.data(), out.size() + 1, format, again);
  va_end(again);
  return out;
}

bool stream_is_valid(cudaStream_t stream) {
  return stream == nullptr || handles().streams.count(stream) != 0;
}

int current_device() {
  return thread_device;
}

int stream_device(cudaStream_t stream) {
  return stream == nullptr ? thread_device : stream->device;
}

void touch_context(int device) {
  handles().contexts[device] = true;
}

}  // namespace cudasim::detail

using namespace cudasim::detail;

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
#define CUDASIM_NAME_(e) \
  case e:                \
    return #e;
    CUDASIM_NAME_(cudaSuccess)
    CUDASIM_NAME_(cudaErrorInvalidValue)
    CUDASIM_NAME_(cudaErrorMemoryAllocation)
    CUDASIM_NAME_(cudaErrorInitializationError)
    CUDASIM_NAME_(cudaErrorInvalidConfiguration)
    CUDASIM_NAME_(cudaErrorInvalidHostPointer)
    CUDASIM_NAME_(cudaErrorInvalidDevicePointer)
    CUDASIM_NAME_(cudaErrorInvalidMemcpyDirection)
    CUDASIM_NAME_(cudaErrorInsufficientDriver)
    CUDASIM_NAME_(cudaErrorInvalidDeviceFunction)
    CUDASIM_NAME_(cudaErrorNoDevice)
    CUDASIM_NAME_(cudaErrorInvalidDevice)
    CUDASIM_NAME_(cudaErrorInvalidResourceHandle)
    CUDASIM_NAME_(cudaErrorNotReady)
    CUDASIM_NAME_(cudaErrorIllegalAddress)
    CUDASIM_NAME_(cudaErrorLaunchOutOfResources)
    CUDASIM_NAME_(cudaErrorAssert)
    CUDASIM_NAME_(cudaErrorLaunchFailure)
    CUDASIM_NAME_(cudaErrorNotSupported)
    CUDASIM_NAME_(cudaErrorIllegalState)
    CUDASIM_NAME_(cudaErrorStreamCaptureUnsupported)
    CUDASIM_NAME_(cudaErrorStreamCaptureInvalidated)
    CUDASIM_NAME_(cudaErrorStreamCaptureUnmatched)
    CUDASIM_NAME_(cudaErrorStreamCaptureIsolation)
    CUDASIM_NAME_(cudaErrorCapturedEvent)
    CUDASIM_NAME_(cudaErrorStreamCaptureWrongThread)
    CUDASIM_NAME_(cudaErrorUnknown)
#undef CUDASIM_NAME_
  }
  return "unrecognized error code";
}

// The runtime's own wording, so messages read the same on both builds.
const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInitializationError:
      return "initialization error";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidHostPointer:
      return "invalid host pointer";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection:
      return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver:
      return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorInvalidDeviceFunction:
      return "invalid device function";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorNotReady:
      return "device not ready";
    case cudaErrorIllegalAddress:
      return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources:
      return "too many resources requested for launch";
    case cudaErrorAssert:
      return "device-side assert triggered";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    case cudaErrorNotSupported:
      return "operation not supported";
    case cudaErrorIllegalState:
      return "the operation cannot be performed in the present state";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched:
      return "capture was not initiated in this stream";
    case cudaErrorStreamCaptureIsolation:
      return "dependency created on uncaptured work in another stream";
    case cudaErrorCapturedEvent:
      return "operation not permitted on an event last recorded in a capturing stream";
    case cudaErrorStreamCaptureWrongThread:
      return "attempt to terminate a thread-local capture sequence from another thread";
    case cudaErrorUnknown:
      return "unknown error";
  }
  return "unrecognized error code";
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() {
  return last_error;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return set_error(cudaErrorInvalidValue, "cudaGetDeviceCount: null");
  *count = cudasim::device_count();
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return set_error(cudaErrorInvalidValue, "cudaGetDeviceProperties: null");
  if (device < 0 || device >= cudasim::device_count()) {
    return set_error(cudaErrorInvalidDevice,
                     strprintf("cudaGetDeviceProperties: device %d (cudasim has %d)", device,
                               cudasim::device_count()));
  }
  *prop = cudaDeviceProp{};
  std::strncpy(prop->name, "cudasim", sizeof(prop->name) - 1);
  prop->totalGlobalMem = cudasim::device_memory_limit();
  prop->sharedMemPerBlock = 48 * 1024;
  prop->sharedMemPerBlockOptin = 48 * 1024;  // no opt-in beyond the default is simulated
  prop->sharedMemPerMultiprocessor = 164 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 64 * 1024;
  prop->major = 8;
  prop->minor = 0;
  prop->multiProcessorCount = 80;
  prop->concurrentKernels = 1;
  prop->asyncEngineCount = 2;
  prop->unifiedAddressing = 1;
  prop->memoryBusWidth = 5120;
  prop->l2CacheSize = 40 * 1024 * 1024;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->maxBlocksPerMultiProcessor = 32;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  ApiLock lock(api_mutex());
  if (device < 0 || device >= cudasim::device_count()) {
    return set_error(
        cudaErrorInvalidDevice,
        strprintf("cudaSetDevice(%d): cudasim has %d device(s)", device, cudasim::device_count()));
  }
  thread_device = device;
  touch_context(device);  // CUDA 12 and later initialise the primary context here
  return cudaSuccess;
}

// Reads this thread's device without creating a context, as in CUDA.
cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return set_error(cudaErrorInvalidValue, "cudaGetDevice: null");
  *device = thread_device;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  ApiLock lock(api_mutex());
  if (const cudaError_t e = check_capture_allows("cudaDeviceSynchronize", nullptr, true);
      e != cudaSuccess)
    return e;
  ++mutable_counters().host_syncs;
  return flush_all();
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  ApiLock lock(api_mutex());
  if (stream == nullptr || (flags & ~unsigned{cudaStreamNonBlocking}) != 0) {
    return set_error(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: null or bad flags");
  }
  auto* s = new CUstream_st{flags, thread_device};
  touch_context(thread_device);
  handles().streams.insert(s);
  *stream = s;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  ApiLock lock(api_mutex());
  if (stream == nullptr || handles().streams.erase(stream) == 0) {
    return set_error(
        cudaErrorInvalidResourceHandle,
        strprintf("cudaStreamDestroy(%p): not a live stream", static_cast<void*>(stream)));
  }
  forget_capture(stream);
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  ApiLock lock(api_mutex());
  if (!stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: not a live stream");
  }
  if (const cudaError_t e = check_capture_allows("cudaStreamSynchronize", stream); e != cudaSuccess)
    return e;
  if (stream == nullptr) {
    if (const cudaError_t e =
            check_capture_allows("cudaStreamSynchronize(legacy stream)", nullptr, true);
        e != cudaSuccess)
      return e;
  }
  ++mutable_counters().host_syncs;
  return flush_stream(stream);
}

// "Not ready" once for each newest piece of pending work, then it runs: a polling loop makes
// progress, and code that treats "not ready" as final is exercised.
cudaError_t cudaStreamQuery(cudaStream_t stream) {
  ApiLock lock(api_mutex());
  if (!stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaStreamQuery: not a live stream");
  }
  if (const cudaError_t e = check_capture_allows("cudaStreamQuery", stream); e != cudaSuccess)
    return e;
  const uint64_t pending = stream == nullptr ? (has_run(last_submission()) ? 0 : last_submission())
                                             : pending_through(stream);
  if (pending == 0) return cudaSuccess;
  if (stream != nullptr && stream->told_not_ready != pending) {
    stream->told_not_ready = pending;
    return set_error(cudaErrorNotReady);
  }
  return flush_through(pending);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  ApiLock lock(api_mutex());
  if (!stream_is_valid(stream) || !event_is_valid(event)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: bad stream or event");
  }
  if (flags != 0) return set_error(cudaErrorInvalidValue, "cudaStreamWaitEvent: flags");
  if (is_capturing(stream) && event->captured_in != stream) {
    (void)check_capture_allows("cudaStreamWaitEvent on an event recorded outside the capture",
                               stream);
    return set_error(cudaErrorStreamCaptureIsolation,
                     "cudaStreamWaitEvent: a capturing stream waits for an event recorded "
                     "outside its capture (the capture is now invalidated)");
  }
  if (!is_capturing(stream) && event->captured_in != nullptr && is_capturing(event->captured_in)) {
    return set_error(cudaErrorNotSupported,
                     "cudaStreamWaitEvent: joining a second stream into a capture is not "
                     "simulated");
  }
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  ApiLock lock(api_mutex());
  if (event == nullptr ||
      (flags & ~unsigned{cudaEventBlockingSync | cudaEventDisableTiming}) != 0) {
    return set_error(cudaErrorInvalidValue, "cudaEventCreateWithFlags: null or bad flags");
  }
  auto* e = new CUevent_st{};
  e->flags = flags;
  e->device = thread_device;
  touch_context(thread_device);
  handles().events.insert(e);
  *event = e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  ApiLock lock(api_mutex());
  if (!event_is_valid(event) || !stream_is_valid(stream)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: bad event or stream");
  }
  if (stream_device(stream) != event->device) {
    return set_error(cudaErrorInvalidResourceHandle,
                     strprintf("cudaEventRecord: the event belongs to device %d, the stream to "
                               "device %d",
                               event->device, stream_device(stream)));
  }
  event->told_not_ready = false;
  event->when = std::make_shared<std::chrono::steady_clock::time_point>();
  if (is_capturing(stream)) {
    // A record node: the replays set the time; until the capture ends, waiting for it is an
    // error (cudaErrorCapturedEvent), afterwards it counts as complete.
    event->captured_in = stream;
    event->recorded = false;
    return submit(stream, [when = event->when] {
      *when = std::chrono::steady_clock::now();
      return Outcome{};
    });
  }
  event->captured_in = nullptr;
  event->recorded = true;
  const cudaError_t err = submit(stream, [when = event->when] {
    *when = std::chrono::steady_clock::now();
    return Outcome{};
  });
  event->seq = last_submission();
  return err;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  ApiLock lock(api_mutex());
  if (!event_is_valid(event)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: not a live event");
  }
  if (event->captured_in != nullptr && is_capturing(event->captured_in)) {
    return set_error(cudaErrorCapturedEvent,
                     "cudaEventSynchronize: the event was last recorded in a capturing stream");
  }
  ++mutable_counters().host_syncs;
  return event->recorded ? flush_through(event->seq) : cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  ApiLock lock(api_mutex());
  if (!event_is_valid(event)) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaEventQuery: not a live event");
  }
  if (event->captured_in != nullptr && is_capturing(event->captured_in)) {
    return set_error(cudaErrorCapturedEvent,
                     "cudaEventQuery: the event was last recorded in a capturing stream");
  }
  if (!event->recorded || has_run(event->seq)) return cudaSuccess;
  if (!event->told_not_ready) {
    event->told_not_ready = true;
    return set_error(cudaErrorNotReady);
  }
  return flush_through(event->seq);
}

// Host time between the two records: the simulator's own speed, not a GPU's.
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  ApiLock lock(api_mutex());
  if (ms == nullptr) return set_error(cudaErrorInvalidValue, "cudaEventElapsedTime: null");
  if (!event_is_valid(start) || !event_is_valid(end) || !start->recorded || !end->recorded ||
      ((start->flags | end->flags) & cudaEventDisableTiming) != 0) {
    return set_error(cudaErrorInvalidResourceHandle,
                     "cudaEventElapsedTime: events must be live, recorded and timing-enabled");
  }
  if (!has_run(start->seq) || !has_run(end->seq)) {
    return set_error(cudaErrorNotReady, "cudaEventElapsedTime: an event has not completed");
  }
  *ms = std::chrono::duration<float, std::milli>(*end->when - *start->when).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  ApiLock lock(api_mutex());
  if (event == nullptr || handles().events.count(event) == 0) {
    return set_error(cudaErrorInvalidResourceHandle, "cudaEventDestroy: not a live event");
  }
  // No wait: a queued record writes only into its own `when`, which it shares.
  handles().events.erase(event);
  delete event;
  return cudaSuccess;
}

namespace cudasim {

const char* last_error_detail() {
  return detail::last_detail.c_str();
}

Counters counters() {
  detail::ApiLock lock(detail::api_mutex());
  return detail::mutable_counters();
}

void reset_counters() {
  detail::ApiLock lock(detail::api_mutex());
  detail::mutable_counters() = Counters{};
}

bool has_context(int device) {
  detail::ApiLock lock(detail::api_mutex());
  return device >= 0 && device < detail::kMaxDevices && detail::handles().contexts[device];
}

void forget_contexts() {
  detail::ApiLock lock(detail::api_mutex());
  for (bool& c : detail::handles().contexts) c = false;
}

int64_t launches_of(const std::string& kernel_name) {
  detail::ApiLock lock(detail::api_mutex());
  const auto& by = detail::mutable_counters().launches_by_kernel;
  auto it = by.find(kernel_name);
  return it == by.end() ? 0 : it->second;
}

}  // namespace cudasim
