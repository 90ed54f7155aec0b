// Selection: masked_fill and index_select (torch semantics), composed from where and gather,
// whose kernels and backward nodes exist on every backend: where's backward already gives
// filled positions zero gradient, and gather's scatter-add backward adds up the gradients of
// repeated indices, exactly index_select's gradient.
#include <ember/core/ops/op_utils.h>

namespace ember {

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  detail::check_defined("masked_fill", x);
  detail::check_defined("masked_fill", mask, "mask");
  detail::check_dtype("masked_fill", mask, kBool, "mask");
  detail::check_same_device("masked_fill", x, mask);
  detail::broadcast_shapes("masked_fill", x.sizes(), mask.sizes());  // names the op on mismatch
  Tensor fill = scalar_tensor(value, TensorOptions().dtype(x.dtype()).device(x.device()));
  return where(mask, fill, x);
}

Tensor index_select(const Tensor& x, int dim_in, const Tensor& index) {
  detail::check_defined("index_select", x);
  detail::check_defined("index_select", index, "index");
  detail::check_dtype("index_select", index, kInt64, "index");
  detail::check_same_device("index_select", x, index);
  EMBER_CHECK(index.dim() <= 1, ShapeError, "index_select: index must be 0-D or 1-D, got shape ",
              index.sizes());
  const int dim = detail::normalize_dim("index_select", dim_in, x.dim());
  const int64_t size = x.dim() == 0 ? 1 : x.size(dim);
  const int64_t n = index.numel();
  if (n > 0) {
    // Checked here, not by gather, so the message names this op and the bad value.
    NoGradGuard no_grad;
    const int64_t lo = min(index).item<int64_t>(), hi = max(index).item<int64_t>();
    EMBER_CHECK(lo >= 0 && hi < size, IndexError, "index_select: index ", lo < 0 ? lo : hi,
                " is out of range for dim ", dim, " with size ", size, " (input shape ", x.sizes(),
                ")");
  }
  if (x.dim() == 0) {  // torch: a scalar input takes exactly one index and stays 0-dim
    EMBER_CHECK(n == 1, IndexError, "index_select: a 0-dim input takes exactly one index, got ", n);
    return gather(x.reshape({1}), 0, index.reshape({1})).reshape({});
  }
  // gather wants the index in the output's shape: the 1-D index along `dim`, broadcast.
  Shape out_sizes = x.sizes(), line;
  out_sizes[dim] = n;
  line.resize(x.dim(), 1);
  line[dim] = n;
  return gather(x, dim, index.reshape(line).expand(out_sizes));
}

Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
  return ember::masked_fill(*this, mask, value);
}
Tensor Tensor::index_select(int dim, const Tensor& index) const {
  return ember::index_select(*this, dim, index);
}

}  // namespace ember
