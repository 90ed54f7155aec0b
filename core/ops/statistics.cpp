// Statistics: norm, var, std (torch semantics), reductions composed with elementwise math.
//
// Forward passes reduce with detail::reduce_over (core/ops/reduction.h). Each op records one
// node whose backward is PyTorch's formula (norm and std at 0), composed of existing ops so it
// runs on every device.
#include <cmath>
#include <limits>

#include <ember/core/ops/reduction.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::reduce_over;
using detail::reduced_count;
using detail::reduced_shape;
using detail::reduction_dims;

Tensor zeros_where(const Tensor& cond, const Tensor& t) {
  return where(cond, zeros_like(t), t);
}

// --- norm -------------------------------------------------------------------------------

class NormBackward final : public Node {
 public:
  NormBackward(double p, Shape dims, const Tensor& x, const Tensor& norm_keepdim)
      : p_(p), dims_(dims), x_(x), norm_(norm_keepdim, /*is_output=*/true) {}
  std::vector<Tensor> apply(const Tensor& g_in) override {
    Tensor x = x_.unpack(*this), n = norm_.unpack(*this);
    Tensor g = g_in.reshape(n.sizes());
    if (p_ == 0) return {zeros_like(x)};
    if (p_ == 1) return {sign(x) * g};
    if (p_ == 2) return {x * zeros_where(eq(n, 0.0), g / n)};
    if (std::isinf(p_)) {
      // Ties share the gradient evenly (PyTorch's amax/amin convention).
      Tensor mask = eq(abs(x), n).to(x.dtype());
      return {sign(x) * mask * (g / detail::sum_keepdim(mask, dims_))};
    }
    if (p_ < 1) {
      Tensor scaled = sign(x) * zeros_where(eq(x, 0.0), pow(abs(x), p_ - 1));
      return {scaled * g * pow(n, 1 - p_)};
    }
    Tensor scale = zeros_where(eq(n, 0.0), g / pow(n, p_ - 1));
    Tensor scaled = p_ < 2 ? sign(x) * pow(abs(x), p_ - 1) : x * pow(abs(x), p_ - 2);
    return {scaled * scale};
  }
  std::string name() const override { return "NormBackward"; }
  void release_saved() override {
    x_.reset();
    norm_.reset();
  }

 private:
  double p_;
  Shape dims_;
  SavedTensor x_, norm_;
};

Tensor norm_impl(const Tensor& x, double p, const Shape& dims_in, bool keepdim, bool all) {
  detail::check_defined("norm", x);
  detail::check_floating("norm", x);
  EMBER_CHECK(!std::isnan(p), ValueError, "norm: p must be a number, got NaN");
  const Shape dims = reduction_dims("norm", x, all ? Shape{} : dims_in);
  const DType dt = x.dtype();
  Tensor n;  // keepdim shape
  {
    NoGradGuard no_grad;
    if (std::isinf(p)) {
      EMBER_CHECK(reduced_count(x.sizes(), dims) > 0, ValueError, "norm: the ", p,
                  "-norm of an empty reduction (input shape ", x.sizes(), ") is undefined");
      n = reduce_over(p > 0 ? ReduceOp::Max : ReduceOp::Min, abs(x), dims, dt);
    } else if (p == 0) {
      n = reduce_over(ReduceOp::Sum, ne(x, 0.0), dims, dt);
    } else if (p == 1) {
      n = reduce_over(ReduceOp::Sum, abs(x), dims, dt);
    } else if (p == 2) {
      n = sqrt(reduce_over(ReduceOp::Sum, x * x, dims, dt));
    } else {
      n = pow(reduce_over(ReduceOp::Sum, pow(abs(x), p), dims, dt), 1.0 / p);
    }
  }
  Tensor out = keepdim ? n : n.reshape(reduced_shape(x.sizes(), dims, false));
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<NormBackward>(p, dims, x, n), {&x}, out);
  return out;
}

// --- var / std --------------------------------------------------------------------------

class VarStdBackward final : public Node {
 public:
  VarStdBackward(Shape dims, Shape keep_shape, double denom, const Tensor& x, const Tensor& std)
      : dims_(dims), keep_shape_(keep_shape), denom_(denom), x_(x) {
    if (std.defined()) std_ = SavedTensor(std, /*is_output=*/true);
  }
  std::vector<Tensor> apply(const Tensor& g_in) override {
    Tensor x = x_.unpack(*this);
    Tensor g = g_in.reshape(keep_shape_);
    if (std_.defined()) {  // d std = d var / (2 std); 0 where std is 0, as PyTorch
      Tensor s = std_.unpack(*this).reshape(keep_shape_);
      g = zeros_where(eq(s, 0.0), g / (2.0 * s));
    }
    Tensor centered = dims_.empty() ? zeros_like(x) : x - mean(x, dims_, /*keepdim=*/true);
    return {g * centered * (2.0 / denom_)};
  }
  std::string name() const override { return std_.defined() ? "StdBackward" : "VarBackward"; }
  void release_saved() override {
    x_.reset();
    if (std_.defined()) std_.reset();
  }

 private:
  Shape dims_, keep_shape_;
  double denom_;
  SavedTensor x_, std_;
};

Tensor var_impl(const char* name, const Tensor& x, const Shape& dims_in, double correction,
                bool keepdim, bool take_sqrt) {
  detail::check_defined(name, x);
  detail::check_floating(name, x);
  EMBER_CHECK(std::isfinite(correction), ValueError, name, ": correction must be finite, got ",
              correction);
  const Shape dims = reduction_dims(name, x, dims_in);
  const int64_t n = reduced_count(x.sizes(), dims);
  // N - correction <= 0 divides by zero (inf or NaN), as torch does.
  const double denom = std::max(0.0, static_cast<double>(n) - correction);
  const Shape keep_shape = reduced_shape(x.sizes(), dims, true);
  Tensor result;
  {
    NoGradGuard no_grad;
    Tensor centered = dims.empty() ? zeros_like(x) : x - mean(x, dims, /*keepdim=*/true);
    result = reduce_over(ReduceOp::Sum, centered * centered, dims, x.dtype()) / denom;
    if (take_sqrt) result = sqrt(result);
  }
  Tensor out = keepdim ? result : result.reshape(reduced_shape(x.sizes(), dims, false));
  if (autograd::needs_grad(x))
    autograd::attach(
        std::make_shared<VarStdBackward>(dims, keep_shape, denom, x, take_sqrt ? result : Tensor()),
        {&x}, out);
  return out;
}

}  // namespace

Tensor norm(const Tensor& x, double p) {
  return norm_impl(x, p, {}, false, true);
}
Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim) {
  return norm_impl(x, p, dims, keepdim, false);
}
Tensor var(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  return var_impl("var", x, dims, correction, keepdim, false);
}
Tensor std(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  return var_impl("std", x, dims, correction, keepdim, true);
}

Tensor Tensor::norm(double p) const {
  return ember::norm(*this, p);
}
Tensor Tensor::norm(double p, const Shape& dims, bool keepdim) const {
  return ember::norm(*this, p, dims, keepdim);
}
Tensor Tensor::var(const Shape& dims, double correction, bool keepdim) const {
  return ember::var(*this, dims, correction, keepdim);
}
Tensor Tensor::std(const Shape& dims, double correction, bool keepdim) const {
  return ember::std(*this, dims, correction, keepdim);
}

}  // namespace ember
