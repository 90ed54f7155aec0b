// Shared op-layer helpers (see op_utils.h).
#include <ember/core/object_pool.h>
#include <ember/core/ops/op_utils.h>

namespace ember::detail {

Tensor make_tensor(const Shape& sizes, DType dtype, Device device) {
  for (int64_t s : sizes) EMBER_CHECK(s >= 0, ShapeError, "negative size in shape ", sizes);
  // Each of the three throws ShapeError naming the shape when its count passes int64.
  Shape strides = contiguous_strides(sizes);
  int64_t bytes = 0;
  EMBER_CHECK(!__builtin_mul_overflow(sizes.numel(), dtype_size(dtype), &bytes), ShapeError,
              "shape ", sizes, " of ", dtype, " needs more bytes than int64 can count");
  auto storage = Storage::allocate(static_cast<size_t>(bytes), device);
  return Tensor(detail::make_pooled<TensorImpl>(std::move(storage), sizes, strides, 0, dtype));
}

void check_scalar_fits(const char* op, const char* what, double value, DType dt) {
  if (dt != kInt64) return;
  EMBER_CHECK(value >= -0x1p63 && value < 0x1p63, ValueError, op, ": ", what, " ", value,
              " does not fit in int64");  // NaN fails both compares
}

Layout layout_of(const Tensor& t) {
  Layout l;
  const Shape& sz = t.sizes();
  const Shape& st = t.strides();
  l.ndim = sz.size();
  for (int d = 0; d < l.ndim; ++d) {
    l.sizes[d] = sz[d];
    l.strides[d] = st[d];
  }
  return l;
}

Layout broadcast_layout(const Tensor& t, const Shape& out) {
  Layout l;
  l.ndim = out.size();
  const Shape& sz = t.sizes();
  const Shape& st = t.strides();
  const int lead = out.size() - sz.size();
  for (int d = 0; d < l.ndim; ++d) {
    l.sizes[d] = out[d];
    const int src = d - lead;
    l.strides[d] = (src < 0 || sz[src] == 1) ? 0 : st[src];
  }
  return l;
}

Layout contiguous_layout(const Shape& sizes) {
  Layout l;
  l.ndim = sizes.size();
  int64_t stride = 1;
  for (int d = l.ndim - 1; d >= 0; --d) {
    l.sizes[d] = sizes[d];
    l.strides[d] = stride;
    stride *= sizes[d];
  }
  return l;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  if (a == b) return a;
  const int n = std::max(a.size(), b.size());
  Shape out;
  out.resize(n);
  for (int i = 0; i < n; ++i) {
    const int ia = i - (n - a.size());
    const int ib = i - (n - b.size());
    const int64_t sa = ia >= 0 ? a[ia] : 1;
    const int64_t sb = ib >= 0 ? b[ib] : 1;
    EMBER_CHECK(sa == sb || sa == 1 || sb == 1, ShapeError, op, ": shapes ", a, " and ", b,
                " cannot be broadcast together (dim ", i, ": ", sa, " vs ", sb, ")");
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

int normalize_dim(const char* op, int dim, int ndim) {
  const int n = ndim == 0 ? 1 : ndim;
  EMBER_CHECK(dim >= -n && dim < n, IndexError, op, ": dim ", dim,
              " is out of range for a tensor of ", ndim, " dims (expected [", -n, ", ", n - 1,
              "])");
  return dim < 0 ? dim + n : dim;
}

void check_floating(const char* op, const Tensor& t) {
  EMBER_CHECK(is_floating(t.dtype()), DTypeError, op,
              ": expected a floating point tensor (float32 or float64), got ", t.dtype());
}

void check_dtype(const char* op, const Tensor& t, DType expected, const char* what) {
  EMBER_CHECK(t.dtype() == expected, DTypeError, op, ": expected ", what, " of dtype ", expected,
              ", got ", t.dtype());
}

Tensor contiguous_data(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = make_tensor(t.sizes(), t.dtype(), t.device());
  backend_of(t).copy(t.dtype(), layout_of(t), t.data_ptr(), t.dtype(), layout_of(out),
                     out.data_ptr());
  return out;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.sizes() == shape) return grad;
  Shape dims;
  const int lead = grad.dim() - shape.size();
  for (int d = 0; d < grad.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && grad.size(d) != 1)) dims.push_back(d);
  }
  Tensor s = dims.empty() ? grad : ember::sum(grad, dims, /*keepdim=*/true);
  return s.reshape(shape);
}

ReduceGeometry reduce_geometry(const Shape& sizes, int dim) {
  ReduceGeometry g;
  for (int d = 0; d < sizes.size(); ++d) {
    if (d < dim)
      g.outer *= sizes[d];
    else if (d == dim)
      g.r = sizes[d];
    else
      g.inner *= sizes[d];
  }
  return g;
}

}  // namespace ember::detail
