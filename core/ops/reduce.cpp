// Reductions: sum and mean over any set of dims, prod, all and any (everything, or one dim),
// max/min (everything, or along one dim with indices), argmax/argmin. The forward passes are
// detail::reduce_over or, with indices, one reduce_with_index call. The machinery every
// reduction shares (core/ops/reduction.h, statistics.cpp uses it too) is defined first.
#include <ember/core/ops/reduction.h>

namespace ember::detail {

Shape reduction_dims(const char* op, const Tensor& x, const Shape& dims) {
  bool mark[kMaxDims] = {};
  if (dims.empty()) {
    for (int d = 0; d < x.dim(); ++d) mark[d] = true;
  }
  for (int64_t d_in : dims) {
    const int d = normalize_dim(op, static_cast<int>(d_in), x.dim());
    EMBER_CHECK(!mark[d] || x.dim() == 0, ValueError, op, ": dim ", d,
                " appears more than once in ", dims);
    mark[d] = true;
  }
  Shape out;
  for (int d = 0; d < x.dim(); ++d)
    if (mark[d]) out.push_back(d);
  return out;
}

Shape reduced_shape(const Shape& sizes, const Shape& dims, bool keepdim) {
  Shape out;
  int j = 0;
  for (int d = 0; d < sizes.size(); ++d) {
    if (j < dims.size() && dims[j] == d) {
      ++j;
      if (keepdim) out.push_back(1);
      continue;
    }
    out.push_back(sizes[d]);
  }
  return out;
}

int64_t reduced_count(const Shape& sizes, const Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= sizes[static_cast<int>(d)];
  return n;
}

Tensor reduce_over(ReduceOp op, const Tensor& x_in, const Shape& dims, DType dt) {
  NoGradGuard no_grad;
  Tensor x = contiguous_data(x_in);
  if (x.dtype() != dt) x = x.to(dt);
  if (dims.empty()) return x.is_same(x_in) ? x.clone() : x;
  // Runs of adjacent dims, last first, so each step leaves the earlier dims' strides intact.
  bool one_run = true;
  for (int i = 1; i < dims.size(); ++i) one_run &= dims[i] == dims[i - 1] + 1;
  const ReduceOp step_op = op == ReduceOp::Mean && !one_run ? ReduceOp::Sum : op;
  Shape cur = x.sizes();
  for (int i = dims.size() - 1; i >= 0;) {
    const int hi = static_cast<int>(dims[i]);
    int lo = hi;
    while (i > 0 && dims[i - 1] == lo - 1) {
      --i;
      --lo;
    }
    --i;
    int64_t outer = 1, r = 1, inner = 1;
    for (int d = 0; d < cur.size(); ++d) {
      if (d < lo)
        outer *= cur[d];
      else if (d <= hi)
        r *= cur[d];
      else
        inner *= cur[d];
    }
    for (int d = lo; d <= hi; ++d) cur[d] = 1;
    Tensor out = make_tensor(cur, dt, x.device());
    if (out.numel() > 0)
      backend_of(x).reduce(step_op, dt, x.data_ptr(), out.data_ptr(), outer, r, inner);
    x = out;
  }
  if (step_op != op) x = x * (1.0 / static_cast<double>(reduced_count(x_in.sizes(), dims)));
  return x;
}

Tensor sum_keepdim(const Tensor& t, const Shape& dims) {
  return dims.empty() ? t : sum(t, dims, /*keepdim=*/true);
}

}  // namespace ember::detail

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

class SumBackward final : public Node {
 public:
  SumBackward(Shape in_sizes, Shape dims, bool keepdim, double scale)
      : in_sizes_(in_sizes), dims_(dims), keepdim_(keepdim), scale_(scale) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gk = keepdim_ ? g : g.reshape(detail::reduced_shape(in_sizes_, dims_, true));
    if (scale_ != 1.0) gk = gk * scale_;
    return {gk.expand(in_sizes_)};
  }
  std::string name() const override { return scale_ == 1.0 ? "SumBackward" : "MeanBackward"; }

 private:
  Shape in_sizes_, dims_;
  bool keepdim_;
  double scale_;
};

Tensor sum_impl(const char* name, const Tensor& x, const Shape& dims_in, bool keepdim, bool mean) {
  detail::check_defined(name, x);
  if (mean) detail::check_floating(name, x);
  const Shape dims = detail::reduction_dims(name, x, dims_in);
  const DType out_dt = is_floating(x.dtype()) ? x.dtype() : kInt64;
  const int64_t count = detail::reduced_count(x.sizes(), dims);
  // The node below is the op's whole backward.
  Tensor out = detail::reduce_over(mean ? ReduceOp::Mean : ReduceOp::Sum, x, dims, out_dt);
  if (!keepdim) out = out.reshape(detail::reduced_shape(x.sizes(), dims, false));
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<SumBackward>(x.sizes(), dims, keepdim,
                                                   mean ? 1.0 / static_cast<double>(count) : 1.0),
                     {&x}, out);
  return out;
}

// Gradient of max/min: the incoming gradient lands on the chosen element.
class MaxMinDimBackward final : public Node {
 public:
  MaxMinDimBackward(Shape in_sizes, int dim, bool keepdim, const Tensor& indices)
      : in_sizes_(in_sizes), dim_(dim), keepdim_(keepdim), indices_(indices) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor idx = indices_.unpack(*this);
    Tensor gk = keepdim_ ? g : g.unsqueeze(dim_);
    Tensor ik = keepdim_ ? idx : idx.unsqueeze(dim_);
    Tensor gi = zeros(in_sizes_, TensorOptions().dtype(g.dtype()).device(g.device()));
    return {scatter_add(gi, dim_, ik, gk)};
  }
  std::string name() const override { return "MaxMinBackward"; }
  void release_saved() override { indices_.reset(); }

 private:
  Shape in_sizes_;
  int dim_;
  bool keepdim_;
  SavedTensor indices_;
};

// Gradient of the full max()/min(): shared evenly among every element equal to the result,
// as PyTorch does (max(dim) instead sends it to the selected index).
class ExtremumBackward final : public Node {
 public:
  ExtremumBackward(const Tensor& x, const Tensor& result) : x_(x), result_(result, true) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor x = x_.unpack(*this);
    Tensor hit = eq(x, result_.unpack(*this)).to(g.dtype());
    return {hit * (g / sum(hit))};
  }
  std::string name() const override { return "MaxMinBackward"; }
  void release_saved() override {
    x_.reset();
    result_.reset();
  }

 private:
  SavedTensor x_, result_;
};

std::tuple<Tensor, Tensor> arg_reduce(const char* name, ReduceOp op, const Tensor& x,
                                      std::optional<int> dim_opt, bool keepdim, bool want_values) {
  detail::check_defined(name, x);
  EMBER_CHECK(x.dtype() != kBool, DTypeError, name, ": not supported for bool tensors");
  Tensor xc = detail::contiguous_data(x);
  int64_t outer = 1, r = x.numel(), inner = 1;
  Shape out_sizes;
  int dim = 0;
  if (dim_opt) {
    dim = detail::normalize_dim(name, *dim_opt, x.dim());
    if (x.dim() > 0) {
      auto g = detail::reduce_geometry(x.sizes(), dim);
      outer = g.outer;
      r = g.r;
      inner = g.inner;
      out_sizes = x.sizes();
      if (keepdim)
        out_sizes[dim] = 1;
      else
        out_sizes.erase(dim);
    }
  }
  EMBER_CHECK(r > 0, IndexError, name, ": cannot reduce an empty dimension (input shape ",
              x.sizes(), ")");
  Tensor values = want_values ? detail::make_tensor(out_sizes, x.dtype(), x.device()) : Tensor();
  Tensor indices = detail::make_tensor(out_sizes, kInt64, x.device());
  if (indices.numel() > 0)
    backend_of(x).reduce_with_index(op, x.dtype(), xc.data_ptr(),
                                    want_values ? values.data_ptr() : nullptr,
                                    static_cast<int64_t*>(indices.data_ptr()), outer, r, inner);
  if (want_values && autograd::needs_grad(x)) {
    if (!dim_opt.has_value() || x.dim() == 0)
      autograd::attach(std::make_shared<ExtremumBackward>(x, values), {&x}, values);
    else
      autograd::attach(std::make_shared<MaxMinDimBackward>(x.sizes(), dim, keepdim, indices), {&x},
                       values);
  }
  return {values, indices};
}

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
    Tensor prod_nonzero = detail::reduce_over(ReduceOp::Prod, x_safe, dims_, x.dtype());
    Tensor zero_count = detail::sum_keepdim(is_zero.to(x.dtype()), dims_);
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
    dims = detail::reduction_dims("prod", x, {});
  }
  const DType dt = is_floating(x.dtype()) ? x.dtype() : kInt64;
  Tensor p = detail::reduce_over(ReduceOp::Prod, x, dims, dt);
  Tensor out = keepdim ? p : p.reshape(detail::reduced_shape(x.sizes(), dims, false));
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<ProdBackward>(dims, p.sizes(), x), {&x}, out);
  return out;
}

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

Tensor sum(const Tensor& x) {
  return sum_impl("sum", x, {}, false, false);
}
Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  EMBER_CHECK(!dims.empty(), ValueError, "sum: dims must not be empty (use sum(x) for all)");
  return sum_impl("sum", x, dims, keepdim, false);
}
Tensor mean(const Tensor& x) {
  return sum_impl("mean", x, {}, false, true);
}
Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  EMBER_CHECK(!dims.empty(), ValueError, "mean: dims must not be empty (use mean(x) for all)");
  return sum_impl("mean", x, dims, keepdim, true);
}

Tensor max(const Tensor& x) {
  return std::get<0>(arg_reduce("max", ReduceOp::Max, x, std::nullopt, false, true));
}
Tensor min(const Tensor& x) {
  return std::get<0>(arg_reduce("min", ReduceOp::Min, x, std::nullopt, false, true));
}
std::tuple<Tensor, Tensor> max(const Tensor& x, int dim, bool keepdim) {
  return arg_reduce("max", ReduceOp::Max, x, dim, keepdim, true);
}
std::tuple<Tensor, Tensor> min(const Tensor& x, int dim, bool keepdim) {
  return arg_reduce("min", ReduceOp::Min, x, dim, keepdim, true);
}
Tensor argmax(const Tensor& x) {
  return std::get<1>(arg_reduce("argmax", ReduceOp::Max, x, std::nullopt, false, false));
}
Tensor argmin(const Tensor& x) {
  return std::get<1>(arg_reduce("argmin", ReduceOp::Min, x, std::nullopt, false, false));
}
Tensor argmax(const Tensor& x, int dim, bool keepdim) {
  return std::get<1>(arg_reduce("argmax", ReduceOp::Max, x, dim, keepdim, false));
}
Tensor argmin(const Tensor& x, int dim, bool keepdim) {
  return std::get<1>(arg_reduce("argmin", ReduceOp::Min, x, dim, keepdim, false));
}

Tensor prod(const Tensor& x) {
  return prod_impl(x, std::nullopt, false);
}
Tensor prod(const Tensor& x, int dim, bool keepdim) {
  return prod_impl(x, dim, keepdim);
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

Tensor Tensor::prod() const {
  return ember::prod(*this);
}
Tensor Tensor::prod(int dim, bool keepdim) const {
  return ember::prod(*this, dim, keepdim);
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
