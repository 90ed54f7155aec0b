// Conversions and copies: to(device, dtype), clone, copy_ (and its checks on in-place
// use of tensors that take part in autograd).
#include <ember/core/ops/op_utils.h>
#include <ember/core/ops/inplace_check.h>

namespace ember {
namespace {

using detail::backend_of;
using detail::layout_of;
using detail::make_tensor;

// Gradient of a dtype / device conversion: the same conversion back.
class ToCopyBackward final : public autograd::Node {
 public:
  ToCopyBackward(Device d, DType t) : device_(d), dtype_(t) {}
  std::vector<Tensor> apply(const Tensor& g) override { return {g.to(device_, dtype_)}; }
  std::string name() const override { return "ToCopyBackward"; }

 private:
  Device device_;
  DType dtype_;
};

class CloneBackward final : public autograd::Node {
 public:
  std::vector<Tensor> apply(const Tensor& g) override { return {g}; }
  std::string name() const override { return "CloneBackward"; }
};

// Same-device copy into a fresh contiguous tensor of dtype dt.
Tensor copy_cast(const Tensor& src, DType dt) {
  Tensor out = make_tensor(src.sizes(), dt, src.device());
  if (out.numel() > 0)
    backend_of(src).copy(src.dtype(), layout_of(src), src.data_ptr(), dt, layout_of(out),
                         out.data_ptr());
  return out;
}

// Copies contiguous `src` (any device) into contiguous `dst` (any device), same dtype.
void transfer(const Tensor& src, const Tensor& dst) {
  const size_t nbytes = static_cast<size_t>(src.nbytes());
  if (nbytes == 0) return;
  if (src.device().is_cpu()) {
    backend(dst.device()).memcpy_from_host(dst.data_ptr(), src.data_ptr(), nbytes);
  } else if (dst.device().is_cpu()) {
    backend(src.device()).memcpy_to_host(dst.data_ptr(), src.data_ptr(), nbytes);
  } else {
    backend(dst.device())
        .memcpy_from_peer(dst.data_ptr(), backend(src.device()), src.data_ptr(), nbytes);
  }
}

}  // namespace

Tensor Tensor::to(Device device, DType dt) const {
  if (device == this->device() && dt == dtype()) return *this;
  if (device.is_cuda()) backend(device);  // throws a clear error when CUDA is unavailable
  Tensor out;
  if (device == this->device()) {
    out = copy_cast(*this, dt);
  } else {
    Tensor src = dt == dtype() ? detail::contiguous_data(*this) : copy_cast(*this, dt);
    out = make_tensor(sizes(), dt, device);
    transfer(src, out);
  }
  if (autograd::needs_grad(*this) && is_floating(dt)) {
    autograd::attach(std::make_shared<ToCopyBackward>(this->device(), dtype()), {this}, out);
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = copy_cast(*this, dtype());
  if (autograd::needs_grad(*this)) autograd::attach(std::make_shared<CloneBackward>(), {this}, out);
  return out;
}

Tensor& Tensor::copy_(const Tensor& src) {
  detail::check_defined("copy_", src, "source");
  detail::check_inplace("copy_", *this, &src);
  EMBER_CHECK(src.dim() <= dim(), ShapeError, "copy_: source of shape ", src.sizes(),
              " cannot be broadcast to destination of shape ", sizes());
  for (int d = 0; d < src.dim(); ++d) {
    const int64_t s = src.size(d), t = size(d + dim() - src.dim());
    EMBER_CHECK(s == t || s == 1, ShapeError, "copy_: source of shape ", src.sizes(),
                " cannot be broadcast to destination of shape ", sizes());
  }
  Tensor from = src.device() == device() ? src : src.to(device());
  if (detail::overlaps_partially(*this, from)) from = from.clone();  // x.copy_(x.t())
  if (numel() > 0) {
    backend_of(*this).copy(from.dtype(), detail::broadcast_layout(from, sizes()), from.data_ptr(),
                           dtype(), layout_of(*this), data_ptr());
  }
  impl()->storage->bump_version();
  return *this;
}

}  // namespace ember
