// Tensor factories: empty/zeros/ones/full, ranges, eye, random draws, and wrapping host
// data.
#include <cmath>
#include <cstring>

#include <ember/core/object_pool.h>
#include <ember/core/generator.h>
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using detail::backend_of;
using detail::make_tensor;

Tensor finish(Tensor t, const TensorOptions& o) {
  if (o.requires_grad()) t.requires_grad_(true);
  return t;
}

void fill_all(Tensor& t, double value) {
  if (t.numel() > 0)
    backend_of(t).fill(t.dtype(), detail::contiguous_layout(t.sizes()), t.data_ptr(), value);
}

}  // namespace

Tensor empty(const Shape& shape, TensorOptions o) {
  return finish(make_tensor(shape, o.dtype(), o.device()), o);
}

Tensor full(const Shape& shape, double value, TensorOptions o) {
  detail::check_scalar_fits("full", "fill value", value, o.dtype());
  Tensor t = make_tensor(shape, o.dtype(), o.device());
  fill_all(t, value);
  return finish(t, o);
}

Tensor zeros(const Shape& shape, TensorOptions o) {
  return full(shape, 0.0, o);
}
Tensor ones(const Shape& shape, TensorOptions o) {
  return full(shape, 1.0, o);
}

static TensorOptions like(const Tensor& t) {
  return TensorOptions().dtype(t.dtype()).device(t.device());
}
Tensor zeros_like(const Tensor& t) {
  return zeros(t.sizes(), like(t));
}
Tensor ones_like(const Tensor& t) {
  return ones(t.sizes(), like(t));
}
Tensor empty_like(const Tensor& t) {
  return empty(t.sizes(), like(t));
}
Tensor full_like(const Tensor& t, double value) {
  return full(t.sizes(), value, like(t));
}

Tensor arange(double end, TensorOptions o) {
  return arange(0, end, 1, o);
}

Tensor arange(double start, double end, double step, TensorOptions o) {
  EMBER_CHECK(step != 0, ValueError, "arange: step must be nonzero");
  EMBER_CHECK(std::isfinite(start) && std::isfinite(end), ValueError,
              "arange: start and end must be finite (got ", start, ", ", end, ")");
  EMBER_CHECK((end - start) / step >= 0, ValueError, "arange: upper bound ", end,
              " and lower bound ", start, " inconsistent with step sign ", step);
  const double length = std::ceil((end - start) / step);
  EMBER_CHECK(length < 0x1p63, ShapeError, "arange: [", start, ", ", end, ") in steps of ", step,
              " has ", length, " elements, more than int64 can count");
  detail::check_scalar_fits("arange", "start", start, o.dtype());
  detail::check_scalar_fits("arange", "end", end, o.dtype());
  const auto n = static_cast<int64_t>(length);
  Tensor t = make_tensor({n}, o.dtype(), o.device());
  if (n > 0) backend_of(t).arange(t.dtype(), t.data_ptr(), n, start, step);
  return finish(t, o);
}

Tensor eye(int64_t n, TensorOptions o) {
  EMBER_CHECK(n >= 0, ValueError, "eye: n must be non-negative, got ", n);
  Tensor t = zeros({n, n}, TensorOptions().dtype(o.dtype()).device(o.device()));
  if (n > 0) {
    Layout diag;  // the diagonal as a strided view: stride n + 1
    diag.ndim = 1;
    diag.sizes[0] = n;
    diag.strides[0] = n + 1;
    backend_of(t).fill(t.dtype(), diag, t.data_ptr(), 1.0);
  }
  return finish(t, o);
}

Tensor rand(const Shape& shape, TensorOptions o, Generator* gen) {
  EMBER_CHECK(is_floating(o.dtype()), DTypeError, "rand: dtype must be floating, got ", o.dtype());
  Generator& g = gen ? *gen : default_generator();
  Tensor t = make_tensor(shape, o.dtype(), o.device());
  const uint64_t offset = g.reserve(static_cast<uint64_t>(t.numel()));
  if (t.numel() > 0)
    backend_of(t).uniform(t.dtype(), t.data_ptr(), t.numel(), g.seed(), offset, 0, 1);
  return finish(t, o);
}

Tensor randn(const Shape& shape, TensorOptions o, Generator* gen) {
  EMBER_CHECK(is_floating(o.dtype()), DTypeError, "randn: dtype must be floating, got ", o.dtype());
  Generator& g = gen ? *gen : default_generator();
  Tensor t = make_tensor(shape, o.dtype(), o.device());
  const uint64_t offset = g.reserve(static_cast<uint64_t>(t.numel()));
  if (t.numel() > 0)
    backend_of(t).normal(t.dtype(), t.data_ptr(), t.numel(), g.seed(), offset, 0, 1);
  return finish(t, o);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions o, Generator* gen) {
  EMBER_CHECK(low < high, ValueError, "randint: low (", low, ") must be less than high (", high,
              ")");
  Generator& g = gen ? *gen : default_generator();
  Tensor t = make_tensor(shape, kInt64, o.device());
  const uint64_t offset = g.reserve(static_cast<uint64_t>(t.numel()));
  if (t.numel() > 0)
    backend_of(t).randint(static_cast<int64_t*>(t.data_ptr()), t.numel(), g.seed(), offset, low,
                          high);
  return o.dtype() == kInt64 ? t : t.to(o.dtype());
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, std::optional<Shape> shape, TensorOptions o) {
  Shape sz = shape ? *shape : Shape{static_cast<int64_t>(values.size())};
  EMBER_CHECK(sz.numel() == static_cast<int64_t>(values.size()), ShapeError,
              "from_vector: ", values.size(), " values cannot fill shape ", sz, " (", sz.numel(),
              " elements)");
  Tensor host = make_tensor(sz, dtype_of_v<T>, kCPU);
  if constexpr (std::is_same_v<T, bool>) {
    bool* p = static_cast<bool*>(host.data_ptr());
    for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  } else {
    if (!values.empty()) std::memcpy(host.data_ptr(), values.data(), values.size() * sizeof(T));
  }
  Tensor t = host.to(o.device(), o.has_dtype() ? o.dtype() : dtype_of_v<T>);
  return finish(t, o);
}

template Tensor from_vector<float>(const std::vector<float>&, std::optional<Shape>, TensorOptions);
template Tensor from_vector<double>(const std::vector<double>&, std::optional<Shape>,
                                    TensorOptions);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, std::optional<Shape>,
                                     TensorOptions);
template Tensor from_vector<bool>(const std::vector<bool>&, std::optional<Shape>, TensorOptions);

Tensor tensor(std::initializer_list<double> values, TensorOptions o) {
  // float32 unless the options say otherwise (the values are doubles only to carry them).
  return from_vector(std::vector<double>(values), std::nullopt,
                     o.has_dtype() ? o : o.dtype(kFloat32));
}

Tensor scalar_tensor(double value, TensorOptions o) {
  return full(Shape{}, value, o);
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, Device device) {
  return from_blob(data, shape, contiguous_strides(shape), dtype, device);
}

Tensor from_blob(void* data, const Shape& shape, const Shape& strides, DType dtype, Device device) {
  // shape.numel() throws ShapeError when the element count passes int64.
  EMBER_CHECK(data != nullptr || shape.numel() == 0, ValueError, "from_blob: null data pointer");
  EMBER_CHECK(strides.size() == shape.size(), ShapeError, "from_blob: ", strides.size(),
              " strides for a shape of ", shape.size(), " dims");
  // The elements reach offset sum((size - 1) * stride); that, the count and the bytes are
  // checked against int64, so a wrapped extent can never claim a small buffer.
  int64_t extent = 1, bytes = 0;
  bool overflow = false;
  for (int d = 0; d < shape.size(); ++d) {
    EMBER_CHECK(shape[d] >= 0 && strides[d] >= 0, ShapeError, "from_blob: negative size or stride",
                " (shape ", shape, ", strides ", strides, ")");
    int64_t reach = 0;
    if (shape[d] > 0) {
      overflow |= __builtin_mul_overflow(shape[d] - 1, strides[d], &reach);
      overflow |= __builtin_add_overflow(extent, reach, &extent);
    }
  }
  overflow |= __builtin_mul_overflow(extent, dtype_size(dtype), &bytes);
  EMBER_CHECK(!overflow, ShapeError, "from_blob: shape ", shape, " with strides ", strides, " of ",
              dtype, " reaches past int64 bytes");
  auto storage = Storage::wrap(data, static_cast<size_t>(bytes), device);
  return Tensor(detail::make_pooled<TensorImpl>(std::move(storage), shape, strides, 0, dtype));
}

}  // namespace ember
