// Tensor metadata, conversion and autograd accessors. Ops live in core/ops/.
#include <ember/core/object_pool.h>
#include <ember/core/tensor.h>

#include <cstring>

#include <ember/core/autograd/autograd_meta.h>
#include <ember/core/autograd/engine.h>
#include <ember/core/backend.h>
#include <ember/core/cuda_graph.h>
#include <ember/core/ops/op_utils.h>

namespace ember {

TensorImpl::TensorImpl(std::shared_ptr<Storage> st, const Shape& sz, const Shape& str, int64_t off,
                       DType dt)
    : storage(std::move(st)),
      sizes(sz),
      strides(str),
      offset(off),
      dtype(dt),
      device(storage->device()) {}

TensorImpl::~TensorImpl() = default;

AutogradMeta& TensorImpl::autograd_meta() {
  if (!autograd) autograd = std::make_unique<AutogradMeta>();
  return *autograd;
}

int64_t Tensor::size(int dim) const {
  EMBER_CHECK(this->dim() > 0, IndexError, "size: a 0-dim tensor has no dim ", dim);
  return sizes()[detail::normalize_dim("size", dim, this->dim())];
}
int64_t Tensor::stride(int dim) const {
  EMBER_CHECK(this->dim() > 0, IndexError, "stride: a 0-dim tensor has no dim ", dim);
  return strides()[detail::normalize_dim("stride", dim, this->dim())];
}

bool Tensor::is_contiguous() const {
  const TensorImpl* t = checked();
  int64_t expected = 1;
  for (int d = t->sizes.size() - 1; d >= 0; --d) {
    if (t->sizes[d] != 1 && t->strides[d] != expected) return false;
    expected *= t->sizes[d];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& o) const {
  return defined() && o.defined() && impl_->storage == o.impl_->storage;
}

void* Tensor::data_ptr() const {
  const TensorImpl* t = checked();
  return static_cast<char*>(t->storage->data()) + t->offset * dtype_size(t->dtype);
}

// ---- conversion -------------------------------------------------------------------------

Tensor Tensor::to(Device device) const {
  return to(device, dtype());
}
Tensor Tensor::to(DType dt) const {
  return to(device(), dt);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

template <typename T>
T Tensor::item() const {
  EMBER_CHECK(numel() == 1, ValueError, "item: tensor with ", numel(),
              " elements cannot be converted to a scalar (shape ", sizes(), ")");
  EMBER_CHECK(!device().is_cuda() || !cuda::is_current_stream_capturing(device().index), CudaError,
              "item(): reads a ", device().str(),
              " tensor on the host, which is not allowed while a CUDA graph is being captured "
              "on that device (keep the value on the device; read it after a replay)");
  Tensor host = to(kCPU, dtype_of_v<T>);
  return *static_cast<const T*>(host.data_ptr());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = to(kCPU, dtype_of_v<T>).contiguous();
  const T* p = static_cast<const T*>(host.data_ptr());
  return std::vector<T>(p, p + host.numel());
}

#define EMBER_INSTANTIATE_ACCESSORS(T) \
  template T Tensor::item<T>() const;  \
  template std::vector<T> Tensor::to_vector<T>() const;
EMBER_INSTANTIATE_ACCESSORS(float)
EMBER_INSTANTIATE_ACCESSORS(double)
EMBER_INSTANTIATE_ACCESSORS(int64_t)
EMBER_INSTANTIATE_ACCESSORS(bool)
#undef EMBER_INSTANTIATE_ACCESSORS

// ---- autograd accessors ------------------------------------------------------------------

bool Tensor::requires_grad() const {
  const TensorImpl* t = checked();
  return t->autograd != nullptr && (t->autograd->requires_grad || t->autograd->grad_fn);
}

Tensor& Tensor::requires_grad_(bool enabled) {
  TensorImpl* t = checked();
  EMBER_CHECK(!enabled || is_floating(t->dtype), DTypeError,
              "requires_grad_: only floating point tensors can require gradients (got ", t->dtype,
              ")");
  EMBER_CHECK(is_leaf(), AutogradError,
              "requires_grad_: can only change requires_grad of leaf tensors; use detach() to "
              "cut a non-leaf from the graph");
  if (enabled || t->autograd) t->autograd_meta().requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const {
  const TensorImpl* t = checked();
  return t->autograd == nullptr || t->autograd->grad_fn == nullptr;
}

Tensor Tensor::grad() const {
  const TensorImpl* t = checked();
  return t->autograd ? t->autograd->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  TensorImpl* t = checked();
  if (g.defined()) {
    EMBER_CHECK(g.sizes() == t->sizes, ShapeError, "set_grad: gradient shape ", g.sizes(),
                " does not match tensor shape ", t->sizes);
    EMBER_CHECK(g.device() == t->device, DeviceError, "set_grad: gradient on ", g.device(),
                ", tensor on ", t->device);
  }
  t->autograd_meta().grad = g;
}

void Tensor::retain_grad() const {
  TensorImpl* t = checked();
  EMBER_CHECK(requires_grad(), AutogradError,
              "retain_grad: tensor does not require grad (no graph to retain from)");
  if (is_leaf()) return;  // leaves keep .grad anyway
  auto& retained = t->autograd->grad_fn->retained;
  for (const auto& weak : retained)
    if (weak.lock() == impl_) return;  // already retained: the gradient must land once
  retained.push_back(impl_);
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<autograd::Node> none;
  const TensorImpl* t = checked();
  return t->autograd ? t->autograd->grad_fn : none;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::backward({*this},
                     gradient.defined() ? std::vector<Tensor>{gradient} : std::vector<Tensor>{},
                     retain_graph);
}

Tensor Tensor::detach() const {
  const TensorImpl* t = checked();
  return Tensor(
      detail::make_pooled<TensorImpl>(t->storage, t->sizes, t->strides, t->offset, t->dtype));
}

}  // namespace ember
