// Fused optimizer updates (core/fused.h): the op-layer half. Validates that every operand
// matches the parameter (shape, dtype, device, contiguity, no overlap between the tensors
// the kernel writes and the ones it reads, which the kernels' restrict-qualified loops
// rely on), then hands raw pointers to the device's kernel and bumps the version counter
// of every tensor written, so a stale saved-for-backward value is still caught.
#include <cstdint>
#include <vector>

#include <ember/core/fused.h>
#include <ember/core/ops/inplace_check.h>
#include <ember/core/ops/op_utils.h>

namespace ember::fused {
namespace {

struct Operand {
  const Tensor* t;
  const char* what;
};

void check_operand(const char* op, const Tensor& param, const Tensor& t, const char* what) {
  EMBER_CHECK(t.defined(), ValueError, op, ": ", what, " is undefined");
  EMBER_CHECK(t.sizes() == param.sizes(), ShapeError, op, ": ", what, " has shape ", t.sizes(),
              ", param has shape ", param.sizes());
  EMBER_CHECK(t.dtype() == param.dtype(), DTypeError, op, ": ", what, " is ", t.dtype(),
              ", param is ", param.dtype());
  EMBER_CHECK(t.device() == param.device(), DeviceError, op, ": ", what, " is on ", t.device(),
              ", param is on ", param.device());
  EMBER_CHECK(t.is_contiguous(), ValueError, op, ": ", what, " must be contiguous (sizes ",
              t.sizes(), ", strides ", t.strides(), ")");
}

// Validates all operands; operands[0] is the parameter. The first `written` operands are
// updated in place and must not overlap any other operand.
void check_operands(const char* op, const std::vector<Operand>& operands, size_t written) {
  const Tensor& param = *operands[0].t;
  EMBER_CHECK(param.defined(), ValueError, op, ": param is undefined");
  detail::check_inplace(op, param);
  EMBER_CHECK(is_floating(param.dtype()), DTypeError, op,
              ": param must be float32 or float64, got ", param.dtype());
  for (const Operand& o : operands) check_operand(op, param, *o.t, o.what);
  if (param.numel() == 0) return;
  // All operands are contiguous with the same size, so each covers exactly one byte range.
  for (size_t i = 0; i < written; ++i) {
    const auto* a = static_cast<const char*>(operands[i].t->data_ptr());
    for (size_t j = 0; j < operands.size(); ++j) {
      if (j == i) continue;
      const auto* b = static_cast<const char*>(operands[j].t->data_ptr());
      const int64_t nbytes = param.nbytes();
      EMBER_CHECK(a + nbytes <= b || b + nbytes <= a, ValueError, op, ": ", operands[i].what,
                  " overlaps ", operands[j].what, " in memory");
    }
  }
}

void bump(const Tensor& t) {
  t.impl()->storage->bump_version();
}

}  // namespace

void sgd_step_(Tensor& param, const Tensor& grad, Tensor* momentum_buf, double lr, double momentum,
               double dampening, double weight_decay, bool nesterov, bool first_step) {
  constexpr const char* kOp = "sgd_step_";
  const bool use_buf = momentum != 0.0;
  EMBER_CHECK(!use_buf || (momentum_buf != nullptr && momentum_buf->defined()), ValueError, kOp,
              ": momentum ", momentum, " needs a momentum buffer");
  std::vector<Operand> ops{{&param, "param"}};
  if (use_buf) ops.push_back({momentum_buf, "momentum_buf"});
  const size_t written = ops.size();
  ops.push_back({&grad, "grad"});
  check_operands(kOp, ops, written);
  if (param.numel() == 0) return;
  backend(param.device())
      .sgd_step(param.dtype(), param.data_ptr(), grad.data_ptr(),
                use_buf ? momentum_buf->data_ptr() : nullptr, param.numel(), lr, momentum,
                dampening, weight_decay, nesterov, first_step);
  bump(param);
  if (use_buf) bump(*momentum_buf);
}

void adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                Tensor* max_exp_avg_sq, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, int64_t step) {
  constexpr const char* kOp = "adam_step_";
  EMBER_CHECK(step >= 1, ValueError, kOp, ": step must be >= 1 (it counts from 1), got ", step);
  const bool amsgrad = max_exp_avg_sq != nullptr;
  std::vector<Operand> ops{{&param, "param"}, {&exp_avg, "exp_avg"}, {&exp_avg_sq, "exp_avg_sq"}};
  if (amsgrad) ops.push_back({max_exp_avg_sq, "max_exp_avg_sq"});
  const size_t written = ops.size();
  ops.push_back({&grad, "grad"});
  check_operands(kOp, ops, written);
  if (param.numel() == 0) return;
  backend(param.device())
      .adam_step(param.dtype(), param.data_ptr(), grad.data_ptr(), exp_avg.data_ptr(),
                 exp_avg_sq.data_ptr(), amsgrad ? max_exp_avg_sq->data_ptr() : nullptr,
                 param.numel(), lr, beta1, beta2, eps, weight_decay, decoupled, step);
  bump(param);
  bump(exp_avg);
  bump(exp_avg_sq);
  if (amsgrad) bump(*max_exp_avg_sq);
}

}  // namespace ember::fused
