// Fused optimizer updates (core/fused.h): the op-layer half. Validates that every operand
// matches the parameter (shape, dtype, device, contiguity, no overlap between the tensors
// the kernel writes and the ones it reads, which the kernels' restrict-qualified loops
// rely on), then hands raw pointers to the device's kernel and bumps the version counter
// of every tensor written, so a stale saved-for-backward value is still caught.
#include <cstdint>
#include <utility>
#include <vector>

#include <ember/core/fused.h>
#include <ember/core/ops/inplace_check.h>
#include <ember/core/ops/op_utils.h>
#include <ember/kernels/common/optimizer_tensor.h>

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

namespace {

// Validates a multi-tensor update's operands and returns the kernel's tensor list (without
// the state pointers). lists[0] are the parameters; the other lists are updated in place
// with them; the gradients are read.
std::vector<kernels::OptimizerTensor> check_group(
    const char* op, std::vector<std::pair<const std::vector<Tensor>*, const char*>> lists,
    const std::vector<Tensor>& grads, const Tensor& lr, const Tensor& steps,
    const std::vector<int64_t>& index) {
  const size_t written = lists.size() - 1;
  lists.push_back({&grads, "grad"});
  const std::vector<Tensor>& params = *lists[0].first;
  for (const auto& [list, what] : lists) {
    EMBER_CHECK(list->size() == params.size(), ValueError, op, ": ", params.size(), " params but ",
                list->size(), " ", what);
  }
  EMBER_CHECK(index.size() == params.size(), ValueError, op, ": ", params.size(), " params but ",
              index.size(), " step indices");
  if (params.empty()) return {};
  const Device device = params[0].device();
  EMBER_CHECK(lr.defined() && lr.dtype() == kFloat64 && lr.numel() == 1 && lr.device() == device,
              ValueError, op, ": lr must be a 1-element float64 tensor on ", device);
  EMBER_CHECK(steps.defined() && steps.dtype() == kInt64 && steps.is_contiguous() &&
                  steps.device() == device,
              ValueError, op, ": steps must be a contiguous int64 tensor on ", device);
  std::vector<bool> used(static_cast<size_t>(steps.numel()), false);
  std::vector<kernels::OptimizerTensor> out(params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    EMBER_CHECK(index[k] >= 0 && index[k] < steps.numel() && !used[index[k]], IndexError, op,
                ": step index ", index[k], " of param ", k, " is out of range for ", steps.numel(),
                " steps or used twice");
    used[index[k]] = true;
    std::vector<Operand> ops{{&params[k], "param"}};
    for (size_t l = 1; l < lists.size(); ++l)
      ops.push_back({&(*lists[l].first)[k], lists[l].second});
    check_operands(op, ops, written + 1);
    EMBER_CHECK(params[k].device() == device, DeviceError, op, ": param ", k, " is on ",
                params[k].device(), ", param 0 on ", device);
    kernels::OptimizerTensor& t = out[k];
    t.param = params[k].data_ptr();
    t.grad = grads[k].data_ptr();
    t.n = params[k].numel();
    t.step = static_cast<int64_t*>(steps.data_ptr()) + index[k];
  }
  return out;
}

// Runs `update` once per dtype among the params, on that dtype's tensors.
template <class Update>
void per_dtype(const std::vector<Tensor>& params, std::vector<kernels::OptimizerTensor>& tensors,
               Update&& update) {
  for (DType dt : {kFloat32, kFloat64}) {
    std::vector<kernels::OptimizerTensor> of;
    for (size_t k = 0; k < params.size(); ++k) {
      if (params[k].dtype() == dt && tensors[k].n > 0) of.push_back(tensors[k]);
    }
    if (!of.empty()) update(dt, of);
  }
}

void bump_all(const std::vector<Tensor>& ts) {
  for (const Tensor& t : ts) bump(t);
}

}  // namespace

void sgd_multi_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                     const std::vector<Tensor>& momentum_bufs, const Tensor& lr, Tensor& steps,
                     const std::vector<int64_t>& step_index, double momentum, double dampening,
                     double weight_decay, bool nesterov) {
  constexpr const char* kOp = "sgd_multi_step_";
  const bool use_buf = momentum != 0.0;
  EMBER_CHECK(!use_buf || momentum_bufs.size() == params.size(), ValueError, kOp, ": momentum ",
              momentum, " needs a momentum buffer per param");
  std::vector<std::pair<const std::vector<Tensor>*, const char*>> lists{{&params, "param"}};
  if (use_buf) lists.push_back({&momentum_bufs, "momentum_buf"});
  std::vector<kernels::OptimizerTensor> tensors =
      check_group(kOp, lists, grads, lr, steps, step_index);
  if (tensors.empty()) return;
  for (size_t k = 0; k < params.size(); ++k) {
    if (use_buf) {
      tensors[k].state[0] = momentum_bufs[k].data_ptr();
    } else {
      // Counted only with momentum: a buffer made when momentum is switched on later must see
      // its first update as the first (it is not zeroed).
      tensors[k].step = nullptr;
    }
  }
  const kernels::SgdHyper hyper{momentum, dampening, weight_decay, nesterov};
  Backend& be = backend(params[0].device());
  per_dtype(params, tensors, [&](DType dt, const std::vector<kernels::OptimizerTensor>& of) {
    be.sgd_multi_step(dt, of.data(), static_cast<int>(of.size()),
                      static_cast<const double*>(lr.data_ptr()), hyper);
  });
  bump_all(params);
  if (use_buf) bump_all(momentum_bufs);
  bump(steps);
}

void adam_multi_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                      const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
                      const std::vector<Tensor>& max_exp_avg_sqs, const Tensor& lr, Tensor& steps,
                      const std::vector<int64_t>& step_index, double beta1, double beta2,
                      double eps, double weight_decay, bool decoupled) {
  constexpr const char* kOp = "adam_multi_step_";
  const bool amsgrad = !max_exp_avg_sqs.empty();
  std::vector<std::pair<const std::vector<Tensor>*, const char*>> lists{
      {&params, "param"}, {&exp_avgs, "exp_avg"}, {&exp_avg_sqs, "exp_avg_sq"}};
  if (amsgrad) lists.push_back({&max_exp_avg_sqs, "max_exp_avg_sq"});
  std::vector<kernels::OptimizerTensor> tensors =
      check_group(kOp, lists, grads, lr, steps, step_index);
  if (tensors.empty()) return;
  for (size_t k = 0; k < params.size(); ++k) {
    tensors[k].state[0] = exp_avgs[k].data_ptr();
    tensors[k].state[1] = exp_avg_sqs[k].data_ptr();
    if (amsgrad) tensors[k].state[2] = max_exp_avg_sqs[k].data_ptr();
  }
  const kernels::AdamHyper hyper{beta1, beta2, eps, weight_decay, decoupled, amsgrad};
  Backend& be = backend(params[0].device());
  per_dtype(params, tensors, [&](DType dt, const std::vector<kernels::OptimizerTensor>& of) {
    be.adam_multi_step(dt, of.data(), static_cast<int>(of.size()),
                       static_cast<const double*>(lr.data_ptr()), hyper);
  });
  bump_all(params);
  bump_all(exp_avgs);
  bump_all(exp_avg_sqs);
  if (amsgrad) bump_all(max_exp_avg_sqs);
  bump(steps);
}

}  // namespace ember::fused
