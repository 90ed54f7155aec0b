// CPU fused optimizer updates (sgd_step, adam_step, and their multi-tensor forms). Each update is
// one pass over the parameter: every operand is read and written once, instead of the 5-10 passes
// (and temporaries) a chain of tensor ops would cost. The per-element math lives in
// kernels/common/optimizer_math.h, shared with the CUDA kernels; this file supplies the
// loops. The hyper-parameter branches (momentum, nesterov, weight decay, amsgrad, ...) are
// template parameters, so each inner loop is a flat branch-free `omp simd` loop. This file is
// built with -fno-math-errno (set in kernels/CMakeLists.txt): otherwise GCC branches around
// every sqrt and Adam stays scalar.
#include <ember/kernels/cpu/backend.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/optimizer_math.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(std::string("kernels::cpu::") + kernel +
                   ": only float32 and float64 are supported, got " + dtype_name(dt));
}

// Calls fn.template operator()<B>() with B = std::bool_constant<b>, turning a runtime flag
// into a compile-time one.
template <class Fn>
void with_bool(bool b, Fn&& fn) {
  if (b) {
    fn.template operator()<std::true_type>();
  } else {
    fn.template operator()<std::false_type>();
  }
}

// ---------------------------------------------------------------------------------------
// SGD

template <class T, bool kDecay, bool kMomentum, bool kNesterov, bool kFirst>
void sgd_loop_serial(T* p, const T* g, T* buf, int64_t n, const SgdScalars<T>& scalars) {
  const SgdScalars<T> s = scalars;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    sgd_update<T, kDecay, kMomentum, kNesterov, kFirst>(p, g, buf, i, s);
}

template <class T, bool kDecay, bool kMomentum, bool kNesterov, bool kFirst>
void sgd_loop(T* p, const T* g, T* buf, int64_t n, const SgdScalars<T>& scalars) {
  parallel_for(n, kGrainCheap, [=](int64_t begin, int64_t end) {
    const SgdScalars<T> s = scalars;  // a local the compiler knows the stores cannot alias
#pragma omp simd
    for (int64_t i = begin; i < end; ++i)
      sgd_update<T, kDecay, kMomentum, kNesterov, kFirst>(p, g, buf, i, s);
  });
}

template <class T>
void sgd_typed(void* param, const void* grad, void* buf, int64_t n, double lr, double momentum,
               double dampening, double weight_decay, bool nesterov, bool first_step) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* b = static_cast<T*>(buf);
  const bool use_momentum = momentum != 0.0;
  const SgdScalars<T> s = sgd_scalars<T>(lr, momentum, dampening, weight_decay);
  with_bool(weight_decay != 0.0, [&]<class Decay>() {
    if (!use_momentum) {
      sgd_loop<T, Decay::value, false, false, false>(p, g, nullptr, n, s);
      return;
    }
    with_bool(nesterov, [&]<class Nesterov>() {
      with_bool(first_step, [&]<class First>() {
        sgd_loop<T, Decay::value, true, Nesterov::value, First::value>(p, g, b, n, s);
      });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Adam / AdamW

template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
void adam_loop_serial(T* p, const T* g, T* m, T* v, T* vmax, int64_t n,
                      const AdamScalars<T>& scalars) {
  const AdamScalars<T> s = scalars;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    adam_update<T, kCoupledDecay, kDecoupledDecay, kAmsgrad>(p, g, m, v, vmax, i, s);
}

template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
void adam_loop(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamScalars<T>& scalars) {
  parallel_for(n, kGrainCheap, [=](int64_t begin, int64_t end) {
    const AdamScalars<T> s = scalars;
#pragma omp simd
    for (int64_t i = begin; i < end; ++i)
      adam_update<T, kCoupledDecay, kDecoupledDecay, kAmsgrad>(p, g, m, v, vmax, i, s);
  });
}

template <class T>
void adam_typed(void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
                void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, int64_t step) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* m = static_cast<T*>(exp_avg);
  T* v = static_cast<T*>(exp_avg_sq);
  T* vmax = static_cast<T*>(max_exp_avg_sq);
  const bool has_decay = weight_decay != 0.0;
  const AdamScalars<T> s = adam_scalars<T>(lr, beta1, beta2, eps, weight_decay, step);
  with_bool(has_decay && !decoupled, [&]<class Coupled>() {
    with_bool(has_decay && decoupled, [&]<class Decoupled>() {
      with_bool(vmax != nullptr, [&]<class Ams>() {
        adam_loop<T, Coupled::value, Decoupled::value, Ams::value>(p, g, m, v, vmax, n, s);
      });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Multi-tensor: the group's tensors cut into chunks, all chunks in one parallel loop.

struct Chunk {
  int tensor;
  int64_t begin, end;
};

std::vector<Chunk> chunks_of(const OptimizerTensor* tensors, int count) {
  std::vector<Chunk> chunks;
  for (int t = 0; t < count; ++t) {
    for (int64_t b = 0; b < tensors[t].n; b += kGrainCheap)
      chunks.push_back(Chunk{t, b, std::min(b + kGrainCheap, tensors[t].n)});
  }
  return chunks;
}

template <class Body>
void for_each_chunk(const OptimizerTensor* tensors, int count, Body body) {
  const std::vector<Chunk> chunks = chunks_of(tensors, count);
  parallel_for(static_cast<int64_t>(chunks.size()), 1, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) body(chunks[c]);
  });
}

template <class T>
void sgd_multi_typed(const OptimizerTensor* tensors, int count, double lr, const SgdHyper& h) {
  const SgdScalars<T> s = sgd_scalars<T>(lr, h.momentum, h.dampening, h.weight_decay);
  const bool use_momentum = h.momentum != 0.0;
  with_bool(h.weight_decay != 0.0, [&]<class Decay>() {
    with_bool(h.nesterov, [&]<class Nesterov>() {
      for_each_chunk(tensors, count, [&](const Chunk& c) {
        const OptimizerTensor& t = tensors[c.tensor];
        T* p = static_cast<T*>(t.param) + c.begin;
        const T* g = static_cast<const T*>(t.grad) + c.begin;
        T* b = static_cast<T*>(t.state[0]) + (t.state[0] != nullptr ? c.begin : 0);
        const int64_t n = c.end - c.begin;
        if (!use_momentum) {
          sgd_loop_serial<T, Decay::value, false, false, false>(p, g, nullptr, n, s);
        } else if (*t.step == 0) {
          sgd_loop_serial<T, Decay::value, true, Nesterov::value, true>(p, g, b, n, s);
        } else {
          sgd_loop_serial<T, Decay::value, true, Nesterov::value, false>(p, g, b, n, s);
        }
      });
    });
  });
}

template <class T>
void adam_multi_typed(const OptimizerTensor* tensors, int count, double lr, const AdamHyper& h) {
  const bool has_decay = h.weight_decay != 0.0;
  with_bool(has_decay && !h.decoupled, [&]<class Coupled>() {
    with_bool(has_decay && h.decoupled, [&]<class Decoupled>() {
      with_bool(h.amsgrad, [&]<class Ams>() {
        for_each_chunk(tensors, count, [&](const Chunk& c) {
          const OptimizerTensor& t = tensors[c.tensor];
          const AdamScalars<T> s =
              adam_scalars<T>(lr, h.beta1, h.beta2, h.eps, h.weight_decay, *t.step + 1);
          auto at = [&](void* q) { return q != nullptr ? static_cast<T*>(q) + c.begin : nullptr; };
          adam_loop_serial<T, Coupled::value, Decoupled::value, Ams::value>(
              at(t.param), static_cast<const T*>(t.grad) + c.begin, at(t.state[0]), at(t.state[1]),
              at(t.state[2]), c.end - c.begin, s);
        });
      });
    });
  });
}

void count_steps(const OptimizerTensor* tensors, int count) {
  for (int t = 0; t < count; ++t) {
    if (tensors[t].step != nullptr) ++*tensors[t].step;
  }
}

}  // namespace

void CpuBackend::sgd_multi_step(DType dt, const OptimizerTensor* tensors, int count,
                                const double* lr, const SgdHyper& hyper) {
  if (count <= 0) return;
  for (int t = 0; t < count; ++t) {
    if (hyper.momentum != 0.0 && (tensors[t].state[0] == nullptr || tensors[t].step == nullptr))
      throw ValueError(
          "kernels::cpu::sgd_multi_step: momentum != 0 needs a momentum buffer and "
          "a step count for every tensor");
  }
  switch (dt) {
    case DType::Float32:
      sgd_multi_typed<float>(tensors, count, *lr, hyper);
      break;
    case DType::Float64:
      sgd_multi_typed<double>(tensors, count, *lr, hyper);
      break;
    default:
      unsupported("sgd_multi_step", dt);
  }
  count_steps(tensors, count);
}

void CpuBackend::adam_multi_step(DType dt, const OptimizerTensor* tensors, int count,
                                 const double* lr, const AdamHyper& hyper) {
  if (count <= 0) return;
  for (int t = 0; t < count; ++t) {
    if (tensors[t].step == nullptr || tensors[t].state[0] == nullptr ||
        tensors[t].state[1] == nullptr || (hyper.amsgrad && tensors[t].state[2] == nullptr))
      throw ValueError(
          "kernels::cpu::adam_multi_step: every tensor needs its moments (and "
          "max_exp_avg_sq with amsgrad) and a step count");
  }
  switch (dt) {
    case DType::Float32:
      adam_multi_typed<float>(tensors, count, *lr, hyper);
      break;
    case DType::Float64:
      adam_multi_typed<double>(tensors, count, *lr, hyper);
      break;
    default:
      unsupported("adam_multi_step", dt);
  }
  count_steps(tensors, count);
}

void CpuBackend::sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n,
                          double lr, double momentum, double dampening, double weight_decay,
                          bool nesterov, bool first_step) {
  if (n <= 0) return;
  if (momentum != 0.0 && momentum_buf == nullptr)
    throw ValueError("kernels::cpu::sgd_step: momentum != 0 needs a momentum buffer");
  switch (dt) {
    case DType::Float32:
      return sgd_typed<float>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                              nesterov, first_step);
    case DType::Float64:
      return sgd_typed<double>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                               nesterov, first_step);
    default:
      unsupported("sgd_step", dt);
  }
}

void CpuBackend::adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
                           void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                           double eps, double weight_decay, bool decoupled, int64_t step) {
  if (n <= 0) return;
  if (step < 1)
    throw ValueError("kernels::cpu::adam_step: step must be >= 1, got " + std::to_string(step));
  switch (dt) {
    case DType::Float32:
      return adam_typed<float>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                               beta2, eps, weight_decay, decoupled, step);
    case DType::Float64:
      return adam_typed<double>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                                beta2, eps, weight_decay, decoupled, step);
    default:
      unsupported("adam_step", dt);
  }
}

}  // namespace ember::kernels::cpu
