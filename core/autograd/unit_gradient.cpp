// The constant seeds of Note [Unit gradient] (core/autograd/unit_gradient.h).
#include <ember/core/autograd/unit_gradient.h>

#include <map>
#include <mutex>
#include <tuple>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/cuda_graph.h>

namespace ember::autograd {
namespace {

struct Seeds {
  std::mutex mutex;
  // Keyed by (device type, index, dtype); never destroyed (tensors outlive static teardown).
  std::map<std::tuple<int, int, int>, Tensor> constants;
};

Seeds& seeds() {
  static auto* s = new Seeds;
  return *s;
}

}  // namespace

Tensor unit_gradient(const Tensor& root) {
  const Device device = root.device();
  Seeds& s = seeds();
  std::lock_guard<std::mutex> lock(s.mutex);
  Tensor& one =
      s.constants[{static_cast<int>(device.type), device.index, static_cast<int>(root.dtype())}];
  if (!one.defined()) {
    // Not made during a capture: it would live in the graph's memory.
    if (device.is_cuda() && cuda::is_current_stream_capturing(device.index)) {
      NoGradGuard no_grad;
      return ones_like(root);
    }
    NoGradGuard no_grad;
    one = ones({1}, TensorOptions(root.dtype()).device(device));
  }
  return one.reshape(root.sizes());
}

bool is_unit_gradient(const Tensor& grad) {
  if (!grad.defined()) return false;
  const Device device = grad.device();
  Seeds& s = seeds();
  std::lock_guard<std::mutex> lock(s.mutex);
  const auto it = s.constants.find(
      {static_cast<int>(device.type), device.index, static_cast<int>(grad.dtype())});
  return it != s.constants.end() && it->second.defined() &&
         it->second.impl()->storage == grad.impl()->storage;
}

}  // namespace ember::autograd
