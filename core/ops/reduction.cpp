// The reductions' shared machinery (core/ops/reduction.h).
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
