// CUDA fused optimizer updates (kernels/cuda/optimizer.h): one grid-stride kernel per step
// and parameter, every operand read and written once. The per-element update is
// kernels/common/optimizer_math.h, the same code the CPU loop runs; hyper-parameter branches
// (momentum, nesterov, first step, weight decay, amsgrad) are template flags, so the kernel
// body is branch-free, and the scalars are narrowed to T once on the host.
#include <ember/kernels/cuda/optimizer.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/optimizer_math.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

template <class T, bool kDecay, bool kMomentum, bool kNesterov, bool kFirst>
__global__ void sgd_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ buf,
                           int64_t n, SgdScalars<T> s) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride())
    sgd_update<T, kDecay, kMomentum, kNesterov, kFirst>(p, g, buf, i, s);
}

template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
__global__ void adam_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m,
                            T* __restrict__ v, T* __restrict__ vmax, int64_t n, AdamScalars<T> s) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride())
    adam_update<T, kCoupledDecay, kDecoupledDecay, kAmsgrad>(p, g, m, v, vmax, i, s);
}

// Calls fn.template operator()<B>() with B = std::bool_constant<b>.
template <class Fn>
void with_bool(bool b, Fn&& fn) {
  if (b) {
    fn.template operator()<std::true_type>();
  } else {
    fn.template operator()<std::false_type>();
  }
}

template <class T>
void sgd_typed(void* param, const void* grad, void* momentum_buf, int64_t n, double lr,
               double momentum, double dampening, double weight_decay, bool nesterov,
               bool first_step, cudaStream_t stream) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* b = static_cast<T*>(momentum_buf);
  const SgdScalars<T> s = sgd_scalars<T>(lr, momentum, dampening, weight_decay);
  with_bool(weight_decay != 0.0, [&]<class Decay>() {
    if (momentum == 0.0) {
      launch("sgd_step", sgd_kernel<T, Decay::value, false, false, false>, grid_for(n),
             dim3(kBlockSize), 0, stream, p, g, static_cast<T*>(nullptr), n, s);
      return;
    }
    with_bool(nesterov, [&]<class Nesterov>() {
      with_bool(first_step, [&]<class First>() {
        launch("sgd_step", sgd_kernel<T, Decay::value, true, Nesterov::value, First::value>,
               grid_for(n), dim3(kBlockSize), 0, stream, p, g, b, n, s);
      });
    });
  });
}

template <class T>
void adam_typed(void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
                void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, int64_t step, cudaStream_t stream) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* m = static_cast<T*>(exp_avg);
  T* v = static_cast<T*>(exp_avg_sq);
  T* vmax = static_cast<T*>(max_exp_avg_sq);
  const AdamScalars<T> s = adam_scalars<T>(lr, beta1, beta2, eps, weight_decay, step);
  const bool has_decay = weight_decay != 0.0;
  with_bool(has_decay && !decoupled, [&]<class Coupled>() {
    with_bool(has_decay && decoupled, [&]<class Decoupled>() {
      with_bool(vmax != nullptr, [&]<class Ams>() {
        launch("adam_step", adam_kernel<T, Coupled::value, Decoupled::value, Ams::value>,
               grid_for(n), dim3(kBlockSize), 0, stream, p, g, m, v, vmax, n, s);
      });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Multi-tensor updates: the tensors of a group and their chunks travel in the kernel's
// arguments (as in PyTorch's multi_tensor_apply), so one launch updates the whole group.

constexpr int kListTensors = 24;
constexpr int kListBlocks = 320;
constexpr int64_t kListChunk = 16384;  // elements per block and pass

// Under CUDA's 4 KB of kernel arguments. Block b updates chunks first_chunk[b],
// first_chunk[b] + stride[t], ... of tensor t = block_tensor[b]; stride[t] is the number of
// blocks tensor t has (a tensor never spans two launches: its step is counted once).
struct TensorList {
  void* ptr[5][kListTensors];  // param, grad, state[0..2]
  int64_t* step[kListTensors];
  int64_t n[kListTensors];
  int stride[kListTensors];
  int tensors = 0;
  int blocks = 0;
  unsigned char block_tensor[kListBlocks];
  int first_chunk[kListBlocks];
};

// After the block's updates: the launch's last block to finish counts every tensor's step
// (all blocks have read the steps by then) and resets the counter for the next launch.
__device__ __forceinline__ void count_steps_when_last(const TensorList& list,
                                                      unsigned int* blocks_done) {
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(blocks_done, 1u) == gridDim.x - 1;
  __syncthreads();
  if (!last) return;
  __threadfence();
  if (static_cast<int>(threadIdx.x) < list.tensors && list.step[threadIdx.x] != nullptr)
    ++*list.step[threadIdx.x];
  if (threadIdx.x == 0) *blocks_done = 0;
}

template <class T, bool kDecay, bool kMomentum, bool kNesterov, bool kFirst>
__device__ __forceinline__ void sgd_chunks(const TensorList& list, int t, const SgdScalars<T>& s) {
  T* p = static_cast<T*>(list.ptr[0][t]);
  const T* g = static_cast<const T*>(list.ptr[1][t]);
  T* b = static_cast<T*>(list.ptr[2][t]);
  const int64_t n = list.n[t];
  for (int64_t c = list.first_chunk[blockIdx.x]; c * kListChunk < n; c += list.stride[t]) {
    const int64_t end = c * kListChunk + kListChunk < n ? c * kListChunk + kListChunk : n;
    for (int64_t i = c * kListChunk + threadIdx.x; i < end; i += blockDim.x)
      sgd_update<T, kDecay, kMomentum, kNesterov, kFirst>(p, g, b, i, s);
  }
}

template <class T, bool kDecay, bool kMomentum, bool kNesterov>
__global__ void sgd_multi_kernel(TensorList list, const double* lr, SgdHyper h,
                                 unsigned int* blocks_done) {
  const int t = list.block_tensor[blockIdx.x];
  const SgdScalars<T> s = sgd_scalars<T>(*lr, h.momentum, h.dampening, h.weight_decay);
  if (kMomentum && *list.step[t] == 0) {
    sgd_chunks<T, kDecay, kMomentum, kNesterov, true>(list, t, s);
  } else {
    sgd_chunks<T, kDecay, kMomentum, kNesterov, false>(list, t, s);
  }
  count_steps_when_last(list, blocks_done);
}

template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
__global__ void adam_multi_kernel(TensorList list, const double* lr, AdamHyper h,
                                  unsigned int* blocks_done) {
  const int t = list.block_tensor[blockIdx.x];
  const AdamScalars<T> s =
      adam_scalars<T>(*lr, h.beta1, h.beta2, h.eps, h.weight_decay, *list.step[t] + 1);
  T* p = static_cast<T*>(list.ptr[0][t]);
  const T* g = static_cast<const T*>(list.ptr[1][t]);
  T* m = static_cast<T*>(list.ptr[2][t]);
  T* v = static_cast<T*>(list.ptr[3][t]);
  T* vmax = static_cast<T*>(list.ptr[4][t]);
  const int64_t n = list.n[t];
  for (int64_t c = list.first_chunk[blockIdx.x]; c * kListChunk < n; c += list.stride[t]) {
    const int64_t end = c * kListChunk + kListChunk < n ? c * kListChunk + kListChunk : n;
    for (int64_t i = c * kListChunk + threadIdx.x; i < end; i += blockDim.x)
      adam_update<T, kCoupledDecay, kDecoupledDecay, kAmsgrad>(p, g, m, v, vmax, i, s);
  }
  count_steps_when_last(list, blocks_done);
}

// Packs the tensors into as few lists as fit and calls launch(list) for each.
template <class Launch>
void for_each_list(const OptimizerTensor* tensors, int count, Launch&& launch) {
  TensorList list;
  auto flush = [&] {
    if (list.blocks > 0) launch(list);
    list.tensors = 0;
    list.blocks = 0;
  };
  for (int k = 0; k < count; ++k) {
    const OptimizerTensor& t = tensors[k];
    if (t.n <= 0) continue;
    const int64_t chunks = (t.n + kListChunk - 1) / kListChunk;
    const int blocks = static_cast<int>(chunks < kListBlocks ? chunks : kListBlocks);
    if (list.tensors == kListTensors || list.blocks + blocks > kListBlocks) flush();
    const int i = list.tensors++;
    list.ptr[0][i] = t.param;
    list.ptr[1][i] = const_cast<void*>(t.grad);
    for (int b = 0; b < 3; ++b) list.ptr[2 + b][i] = t.state[b];
    list.step[i] = t.step;
    list.n[i] = t.n;
    list.stride[i] = blocks;
    for (int b = 0; b < blocks; ++b) {
      list.block_tensor[list.blocks] = static_cast<unsigned char>(i);
      list.first_chunk[list.blocks] = b;
      ++list.blocks;
    }
  }
  flush();
}

template <class T>
void sgd_multi_typed(const OptimizerTensor* tensors, int count, const double* lr, const SgdHyper& h,
                     unsigned int* blocks_done, cudaStream_t stream) {
  with_bool(h.weight_decay != 0.0, [&]<class Decay>() {
    with_bool(h.momentum != 0.0, [&]<class Momentum>() {
      with_bool(h.nesterov && h.momentum != 0.0, [&]<class Nesterov>() {
        for_each_list(tensors, count, [&](const TensorList& list) {
          launch("sgd_multi_step",
                 sgd_multi_kernel<T, Decay::value, Momentum::value, Nesterov::value>,
                 dim3(static_cast<unsigned>(list.blocks)), dim3(kBlockSize), 0, stream, list, lr, h,
                 blocks_done);
        });
      });
    });
  });
}

template <class T>
void adam_multi_typed(const OptimizerTensor* tensors, int count, const double* lr,
                      const AdamHyper& h, unsigned int* blocks_done, cudaStream_t stream) {
  const bool has_decay = h.weight_decay != 0.0;
  with_bool(has_decay && !h.decoupled, [&]<class Coupled>() {
    with_bool(has_decay && h.decoupled, [&]<class Decoupled>() {
      with_bool(h.amsgrad, [&]<class Ams>() {
        for_each_list(tensors, count, [&](const TensorList& list) {
          launch("adam_multi_step",
                 adam_multi_kernel<T, Coupled::value, Decoupled::value, Ams::value>,
                 dim3(static_cast<unsigned>(list.blocks)), dim3(kBlockSize), 0, stream, list, lr, h,
                 blocks_done);
        });
      });
    });
  });
}

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(::ember::detail::str_cat(
      "kernels::cuda::", kernel, ": only float32 and float64 are supported, got ", dtype_name(dt)));
}

}  // namespace

void sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool first_step, void* stream) {
  if (n <= 0) return;
  EMBER_CHECK(momentum == 0.0 || momentum_buf != nullptr, ValueError,
              "kernels::cuda::sgd_step: momentum != 0 needs a momentum buffer");
  switch (dt) {
    case DType::Float32:
      return sgd_typed<float>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                              nesterov, first_step, as_stream(stream));
    case DType::Float64:
      return sgd_typed<double>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                               nesterov, first_step, as_stream(stream));
    default:
      unsupported("sgd_step", dt);
  }
}

void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
               void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool decoupled, int64_t step, void* stream) {
  if (n <= 0) return;
  EMBER_CHECK(step >= 1, ValueError, "kernels::cuda::adam_step: step must be >= 1, got ", step);
  switch (dt) {
    case DType::Float32:
      return adam_typed<float>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                               beta2, eps, weight_decay, decoupled, step, as_stream(stream));
    case DType::Float64:
      return adam_typed<double>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                                beta2, eps, weight_decay, decoupled, step, as_stream(stream));
    default:
      unsupported("adam_step", dt);
  }
}

void sgd_multi_step(DType dt, const OptimizerTensor* tensors, int count, const double* lr,
                    const SgdHyper& hyper, unsigned int* blocks_done, void* stream) {
  if (count <= 0) return;
  for (int t = 0; t < count; ++t) {
    EMBER_CHECK(hyper.momentum == 0.0 || (tensors[t].state[0] != nullptr && tensors[t].step),
                ValueError,
                "kernels::cuda::sgd_multi_step: momentum != 0 needs a momentum buffer and a step "
                "count for every tensor");
  }
  switch (dt) {
    case DType::Float32:
      return sgd_multi_typed<float>(tensors, count, lr, hyper, blocks_done, as_stream(stream));
    case DType::Float64:
      return sgd_multi_typed<double>(tensors, count, lr, hyper, blocks_done, as_stream(stream));
    default:
      unsupported("sgd_multi_step", dt);
  }
}

void adam_multi_step(DType dt, const OptimizerTensor* tensors, int count, const double* lr,
                     const AdamHyper& hyper, unsigned int* blocks_done, void* stream) {
  if (count <= 0) return;
  for (int t = 0; t < count; ++t) {
    const OptimizerTensor& x = tensors[t];
    EMBER_CHECK(x.step != nullptr && x.state[0] != nullptr && x.state[1] != nullptr &&
                    (!hyper.amsgrad || x.state[2] != nullptr),
                ValueError,
                "kernels::cuda::adam_multi_step: every tensor needs its moments (and "
                "max_exp_avg_sq with amsgrad) and a step count");
  }
  switch (dt) {
    case DType::Float32:
      return adam_multi_typed<float>(tensors, count, lr, hyper, blocks_done, as_stream(stream));
    case DType::Float64:
      return adam_multi_typed<double>(tensors, count, lr, hyper, blocks_done, as_stream(stream));
    default:
      unsupported("adam_multi_step", dt);
  }
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n,
                           double lr, double momentum, double dampening, double weight_decay,
                           bool nesterov, bool first_step) {
  ensure_device(device_);
  cuda::sgd_step(dt, param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay, nesterov,
                 first_step, stream_);
}

void CudaBackend::adam_step(DType dt, void* param, const void* grad, void* exp_avg,
                            void* exp_avg_sq, void* max_exp_avg_sq, int64_t n, double lr,
                            double beta1, double beta2, double eps, double weight_decay,
                            bool decoupled, int64_t step) {
  ensure_device(device_);
  cuda::adam_step(dt, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1, beta2, eps,
                  weight_decay, decoupled, step, stream_);
}

void CudaBackend::sgd_multi_step(DType dt, const OptimizerTensor* tensors, int count,
                                 const double* lr, const SgdHyper& hyper) {
  ensure_device(device_);
  cuda::sgd_multi_step(dt, tensors, count, lr, hyper, blocks_done_, stream_);
}

void CudaBackend::adam_multi_step(DType dt, const OptimizerTensor* tensors, int count,
                                  const double* lr, const AdamHyper& hyper) {
  ensure_device(device_);
  cuda::adam_multi_step(dt, tensors, count, lr, hyper, blocks_done_, stream_);
}

}  // namespace ember::kernels::cuda
