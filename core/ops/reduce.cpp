// Reductions: sum and mean over any set of dims, max/min (all, or along one dim with
// indices), argmax/argmin. Kernels reduce the middle axis of a contiguous (outer, r,
// inner) view; runs of adjacent reduced dims collapse into one such axis.
#include <algorithm>

#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

// Normalised, sorted, de-duplicated dims; empty `dims` means all.
Shape normalize_dims(const char* op, const Tensor& x, const Shape& dims) {
  bool mark[kMaxDims] = {};
  if (dims.empty()) {
    for (int d = 0; d < x.dim(); ++d) mark[d] = true;
  }
  for (int64_t d : dims) mark[detail::normalize_dim(op, static_cast<int>(d), x.dim())] = true;
  Shape out;
  for (int d = 0; d < std::max(1, x.dim()); ++d)
    if (mark[d] && d < x.dim()) out.push_back(d);
  return out;
}

Shape kept_shape(const Shape& sizes, const Shape& dims) {
  Shape out = sizes;
  for (int64_t d : dims) out[static_cast<int>(d)] = 1;
  return out;
}

// Reduces contiguous `x` over `dims` (sorted) keeping them as size-1 dims.
Tensor reduce_keepdim(ReduceOp op, const Tensor& x_in, const Shape& dims, DType out_dt) {
  Tensor x = detail::contiguous_data(x_in);
  if (x.dtype() != out_dt) x = x.to(out_dt);
  Shape cur = x.sizes();
  int i = dims.size() - 1;
  bool first = true;
  while (i >= 0) {
    // Collapse a run of adjacent reduced dims [lo, hi].
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
    Tensor out = detail::make_tensor(cur, out_dt, x.device());
    // A multi-step Mean sums each step and divides once at the end.
    const ReduceOp step_op = (op == ReduceOp::Mean && !(first && i < 0)) ? ReduceOp::Sum : op;
    if (out.numel() > 0)
      backend_of(x).reduce(step_op, out_dt, x.data_ptr(), out.data_ptr(), outer, r, inner);
    x = out;
    first = false;
  }
  return x;
}

Tensor finish_dims(Tensor t, const Shape& dims, bool keepdim, const Shape& in_sizes) {
  if (keepdim) return t;
  Shape out;
  int j = 0;
  for (int d = 0; d < in_sizes.size(); ++d) {
    if (j < dims.size() && dims[j] == d) {
      ++j;
      continue;
    }
    out.push_back(in_sizes[d]);
  }
  return t.reshape(out);
}

class SumBackward final : public Node {
 public:
  SumBackward(Shape in_sizes, Shape dims, bool keepdim, double scale)
      : in_sizes_(in_sizes), dims_(dims), keepdim_(keepdim), scale_(scale) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gk = keepdim_ ? g : g.reshape(kept_shape(in_sizes_, dims_));
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
  const Shape dims = normalize_dims(name, x, dims_in);
  const DType out_dt = is_floating(x.dtype()) ? x.dtype() : kInt64;
  int64_t count = 1;
  for (int64_t d : dims) count *= x.size(static_cast<int>(d));
  Tensor out;
  {
    NoGradGuard no_grad;  // the node below is the op's whole backward
    out = dims.empty() ? x.to(out_dt).clone()
                       : reduce_keepdim(mean ? ReduceOp::Mean : ReduceOp::Sum, x, dims, out_dt);
    // reduce_keepdim applies Mean itself only when the dims form one adjacent run.
    bool single_run = true;
    for (int i = 1; i < dims.size(); ++i) single_run &= dims[i] == dims[i - 1] + 1;
    if (mean && !dims.empty() && !single_run) out = out * (1.0 / static_cast<double>(count));
    out = finish_dims(out, dims, keepdim, x.sizes());
  }
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<SumBackward>(x.sizes(), dims, keepdim,
                                                   mean ? 1.0 / static_cast<double>(count) : 1.0),
                     {&x}, out);
  return out;
}

// Gradient of max/min: the incoming gradient lands on the chosen element.
class IndexSelectBackward final : public Node {
 public:
  IndexSelectBackward(Shape in_sizes, int dim, bool keepdim, const Tensor& indices)
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
      autograd::attach(std::make_shared<IndexSelectBackward>(x.sizes(), dim, keepdim, indices),
                       {&x}, values);
  }
  return {values, indices};
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

}  // namespace ember
