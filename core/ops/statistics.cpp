// Statistics: norm, prod, var, std, all, any (torch semantics).
//
// Forward passes reduce with the backend's reduce kernel in one call: the reduced dims are
// permuted to the end, so they form one contiguous axis of a (kept, reduced, 1) view. Each
// differentiable op records one node whose backward is PyTorch's formula (norm and std at 0,
// prod with zeros), composed of existing ops so it runs on every device.
#include <cmath>
#include <limits>

#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Sorted dims to reduce; empty `dims` means all of x's dims. Repeats are an error (torch).
Shape reduction_dims(const char* op, const Tensor& x, const Shape& dims) {
  bool mark[kMaxDims] = {};
  if (dims.empty()) {
    for (int d = 0; d < x.dim(); ++d) mark[d] = true;
  }
  for (int64_t d_in : dims) {
    const int d = detail::normalize_dim(op, static_cast<int>(d_in), x.dim());
    EMBER_CHECK(!mark[d] || x.dim() == 0, ValueError, op, ": dim ", d,
                " appears more than once in ", dims);
    mark[d] = true;
  }
  Shape out;
  for (int d = 0; d < x.dim(); ++d)
    if (mark[d]) out.push_back(d);
  return out;
}

bool contains(const Shape& dims, int d) {
  for (int64_t v : dims)
    if (v == d) return true;
  return false;
}

// x's sizes with the reduced dims set to 1 (keepdim) or removed.
Shape reduced_shape(const Shape& sizes, const Shape& dims, bool keepdim) {
  Shape out;
  for (int d = 0; d < sizes.size(); ++d) {
    if (!contains(dims, d))
      out.push_back(sizes[d]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

int64_t reduced_count(const Shape& sizes, const Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= sizes[static_cast<int>(d)];
  return n;
}

// Reduces x (no autograd) over sorted `dims` in dtype `dt`; the result has keepdim shape.
Tensor reduce_over(ReduceOp op, const Tensor& x_in, const Shape& dims, DType dt) {
  NoGradGuard no_grad;
  Tensor x = x_in.dtype() == dt ? x_in : x_in.to(dt);
  Shape perm;
  for (int d = 0; d < x.dim(); ++d)
    if (!contains(dims, d)) perm.push_back(d);
  for (int64_t d : dims) perm.push_back(d);
  Tensor xc = detail::contiguous_data(x.permute(perm));
  const int64_t r = reduced_count(x.sizes(), dims);
  Tensor out = detail::make_tensor(reduced_shape(x.sizes(), dims, true), dt, x.device());
  if (out.numel() > 0)
    backend_of(x).reduce(op, dt, xc.data_ptr(), out.data_ptr(), out.numel(), r, 1);
  return out;
}

// Sum over `dims` keeping them; a 0-dim tensor (no dims) is its own sum.
Tensor sum_keep(const Tensor& t, const Shape& dims) {
  return dims.empty() ? t : sum(t, dims, /*keepdim=*/true);
}

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
      return {sign(x) * mask * (g / sum_keep(mask, dims_))};
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

// --- prod -------------------------------------------------------------------------------

class ProdBackward final : public Node {
 public:
  ProdBackward(Shape dims, Shape keep_shape, const Tensor& x)
      : dims_(dims), keep_shape_(keep_shape), x_(x) {}
  std::vector<Tensor> apply(const Tensor& g_in) override {
    // d prod / d x_i is the product of the other elements of x_i's slice. Dividing the full
    // product by x_i breaks on zeros, so: slices without zeros divide the product of the
    // nonzero elements by x_i; with exactly one zero, only the zero gets a gradient (the
    // product of the rest); with more, every product of "the others" contains a zero.
    Tensor x = x_.unpack(*this);
    Tensor g = g_in.reshape(keep_shape_);
    Tensor is_zero = eq(x, 0.0);
    Tensor x_safe = where(is_zero, ones_like(x), x);
    Tensor prod_nonzero = reduce_over(ReduceOp::Prod, x_safe, dims_, x.dtype());
    Tensor zero_count = sum_keep(is_zero.to(x.dtype()), dims_);
    Tensor zero = zeros_like(prod_nonzero);
    Tensor others = where(is_zero, where(eq(zero_count, 1.0), prod_nonzero, zero),
                          where(eq(zero_count, 0.0), prod_nonzero / x_safe, zeros_like(x)));
    return {g * others};
  }
  std::string name() const override { return "ProdBackward"; }
  void release_saved() override { x_.reset(); }

 private:
  Shape dims_, keep_shape_;
  SavedTensor x_;
};

Tensor prod_impl(const Tensor& x, std::optional<int> dim, bool keepdim) {
  detail::check_defined("prod", x);
  Shape dims;
  if (dim) {
    const int d = detail::normalize_dim("prod", *dim, x.dim());
    if (x.dim() > 0) dims.push_back(d);
  } else {
    dims = reduction_dims("prod", x, {});
  }
  const DType dt = is_floating(x.dtype()) ? x.dtype() : kInt64;
  Tensor p = reduce_over(ReduceOp::Prod, x, dims, dt);
  Tensor out = keepdim ? p : p.reshape(reduced_shape(x.sizes(), dims, false));
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<ProdBackward>(dims, p.sizes(), x), {&x}, out);
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

// --- all / any --------------------------------------------------------------------------

// Counts zero (all) or nonzero (any) elements; int64 keeps bool inputs countable.
Tensor logical_reduce(const char* name, const Tensor& x, std::optional<int> dim, bool keepdim,
                      bool want_all) {
  detail::check_defined(name, x);
  NoGradGuard no_grad;  // bool results carry no gradient
  Tensor xv = x.dtype() == kBool ? x.to(kInt64) : x;
  Tensor hits = (want_all ? eq(xv, 0.0) : ne(xv, 0.0)).to(kInt64);
  Tensor count;
  if (dim) {
    const int d = detail::normalize_dim(name, *dim, x.dim());
    count = x.dim() == 0 ? hits : sum(hits, {d}, keepdim);
  } else {
    count = sum(hits);
  }
  return want_all ? eq(count, 0.0) : gt(count, 0.0);
}

}  // namespace

Tensor norm(const Tensor& x, double p) {
  return norm_impl(x, p, {}, false, true);
}
Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim) {
  return norm_impl(x, p, dims, keepdim, false);
}
Tensor prod(const Tensor& x) {
  return prod_impl(x, std::nullopt, false);
}
Tensor prod(const Tensor& x, int dim, bool keepdim) {
  return prod_impl(x, dim, keepdim);
}
Tensor var(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  return var_impl("var", x, dims, correction, keepdim, false);
}
Tensor std(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  return var_impl("std", x, dims, correction, keepdim, true);
}
Tensor all(const Tensor& x) {
  return logical_reduce("all", x, std::nullopt, false, true);
}
Tensor all(const Tensor& x, int dim, bool keepdim) {
  return logical_reduce("all", x, dim, keepdim, true);
}
Tensor any(const Tensor& x) {
  return logical_reduce("any", x, std::nullopt, false, false);
}
Tensor any(const Tensor& x, int dim, bool keepdim) {
  return logical_reduce("any", x, dim, keepdim, false);
}

Tensor Tensor::norm(double p) const {
  return ember::norm(*this, p);
}
Tensor Tensor::norm(double p, const Shape& dims, bool keepdim) const {
  return ember::norm(*this, p, dims, keepdim);
}
Tensor Tensor::prod() const {
  return ember::prod(*this);
}
Tensor Tensor::prod(int dim, bool keepdim) const {
  return ember::prod(*this, dim, keepdim);
}
Tensor Tensor::var(const Shape& dims, double correction, bool keepdim) const {
  return ember::var(*this, dims, correction, keepdim);
}
Tensor Tensor::std(const Shape& dims, double correction, bool keepdim) const {
  return ember::std(*this, dims, correction, keepdim);
}
Tensor Tensor::all() const {
  return ember::all(*this);
}
Tensor Tensor::all(int dim, bool keepdim) const {
  return ember::all(*this, dim, keepdim);
}
Tensor Tensor::any() const {
  return ember::any(*this);
}
Tensor Tensor::any(int dim, bool keepdim) const {
  return ember::any(*this, dim, keepdim);
}

}  // namespace ember
