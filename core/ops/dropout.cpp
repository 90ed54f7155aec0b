// Inverted dropout (ember::dropout, core/fused.h). One kernel draws the Philox mask and
// scales the kept elements; the mask is saved so backward is grad * mask / (1 - p) without
// drawing again.
#include <ember/core/fused.h>
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

class DropoutBackward final : public Node {
 public:
  DropoutBackward(const Tensor& mask, double scale) : mask_(mask), scale_(scale) {}

  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor mask = mask_.unpack(*this);
    // The bool mask promotes to g's dtype in mul; the scale is applied after, so a float32
    // gradient sees the same rounding as the forward's x * scale.
    return {g * mask * scale_};
  }
  std::string name() const override { return "DropoutBackward"; }
  void release_saved() override { mask_.reset(); }

 private:
  SavedTensor mask_;
  double scale_;
};

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  detail::check_defined("dropout", x);
  EMBER_CHECK(p >= 0.0 && p <= 1.0, ValueError,
              "dropout: probability has to be between 0 and 1, but got ", p);
  if (!training || p == 0.0) return x;
  detail::check_floating("dropout", x);
  if (p == 1.0) {
    // Every element dropped (PyTorch allows it): x * 0 keeps the graph, so the gradient is
    // an explicit zero rather than missing.
    return x * 0.0;
  }
  Generator& g = gen ? *gen : default_generator();
  Tensor xc = detail::contiguous_data(x);
  Tensor y = detail::make_tensor(x.sizes(), x.dtype(), x.device());
  Tensor mask = detail::make_tensor(x.sizes(), kBool, x.device());
  const uint64_t offset = g.reserve(static_cast<uint64_t>(x.numel()));
  if (y.numel() > 0)
    backend_of(x).dropout(x.dtype(), xc.data_ptr(), y.data_ptr(),
                          static_cast<bool*>(mask.data_ptr()), x.numel(), p, g.seed(), offset);
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<DropoutBackward>(mask, 1.0 / (1.0 - p)), {&x}, y);
  return y;
}

}  // namespace ember
