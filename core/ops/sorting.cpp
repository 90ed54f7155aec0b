// Sorting: sort, argsort, topk, kthvalue (torch semantics).
//
// All four run one backend kernel that writes the first k entries of each row's stable order
// (k = the row length for sort). The values' gradient is scattered back to the positions the
// indices name: sort permutes, topk and kthvalue select, so every input element receives at
// most one output's gradient.
#include <cstdint>
#include <limits>

#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

struct Sorted {
  Tensor values, indices;
};

// The first k of x's order along `dim` (no autograd): values (unless !want_values) and
// indices shaped like x with size k at `dim`.
Sorted sort_kernel(const Tensor& x, int dim, int64_t k, bool descending, bool want_values) {
  if (!x.device().is_cpu() && x.numel() > std::numeric_limits<int32_t>::max()) {
    // Beyond CUB's 32-bit item count: sort on the host and move the results back (a round
    // trip and a host wait, for tensors of over 2^31 elements only).
    NoGradGuard no_grad;
    Sorted host = sort_kernel(x.cpu(), dim, k, descending, want_values);
    return {want_values ? host.values.to(x.device()) : Tensor(), host.indices.to(x.device())};
  }
  Tensor xc = detail::contiguous_data(x);
  detail::ReduceGeometry g;
  Shape out_sizes = x.sizes();
  if (x.dim() > 0) {
    g = detail::reduce_geometry(x.sizes(), dim);
    out_sizes[dim] = k;
  }
  Sorted s;
  if (want_values) s.values = detail::make_tensor(out_sizes, x.dtype(), x.device());
  s.indices = detail::make_tensor(out_sizes, kInt64, x.device());
  if (s.indices.numel() > 0)
    backend_of(x).sort(x.dtype(), xc.data_ptr(), want_values ? s.values.data_ptr() : nullptr,
                       static_cast<int64_t*>(s.indices.data_ptr()), g.outer, g.r, g.inner, k,
                       descending);
  return s;
}

class SortBackward final : public Node {
 public:
  SortBackward(const char* name, Shape in_sizes, int dim, bool squeezed, const Tensor& indices)
      : name_(name), in_sizes_(in_sizes), dim_(dim), squeezed_(squeezed), indices_(indices) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor idx = indices_.unpack(*this);
    Tensor gk = squeezed_ ? g.unsqueeze(dim_) : g;
    if (squeezed_) idx = idx.unsqueeze(dim_);
    Tensor gi = zeros(in_sizes_, TensorOptions().dtype(g.dtype()).device(g.device()));
    return {scatter_add(gi, dim_, idx, gk)};
  }
  std::string name() const override { return name_; }
  void release_saved() override { indices_.reset(); }

 private:
  std::string name_;
  Shape in_sizes_;
  int dim_;
  bool squeezed_;
  SavedTensor indices_;
};

// Checks shared by the four ops; returns the normalised dim and the row length.
std::pair<int, int64_t> check_sort_args(const char* op, const Tensor& x, int dim_in) {
  detail::check_defined(op, x);
  const int dim = detail::normalize_dim(op, dim_in, x.dim());
  return {dim, x.dim() == 0 ? 1 : x.size(dim)};
}

std::tuple<Tensor, Tensor> record(const char* node_name, const Tensor& x, int dim, Sorted s,
                                  bool squeezed) {
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<SortBackward>(node_name, x.sizes(), dim, squeezed, s.indices),
                     {&x}, s.values);
  return {s.values, s.indices};
}

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& x, int dim_in, bool descending, bool /*stable*/) {
  // The kernel's order is always stable, which is one valid answer for stable = false too.
  auto [dim, n] = check_sort_args("sort", x, dim_in);
  return record("SortBackward", x, dim, sort_kernel(x, dim, n, descending, true), false);
}

Tensor argsort(const Tensor& x, int dim_in, bool descending, bool /*stable*/) {
  auto [dim, n] = check_sort_args("argsort", x, dim_in);
  return sort_kernel(x, dim, n, descending, false).indices;
}

std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int dim_in, bool largest,
                                bool /*sorted*/) {
  // Results always come sorted, a valid answer for sorted = false too.
  auto [dim, n] = check_sort_args("topk", x, dim_in);
  EMBER_CHECK(k >= 0 && k <= n, IndexError, "topk: k ", k, " is out of range for dim ", dim,
              " of size ", n, " (input shape ", x.sizes(), ")");
  return record("TopkBackward", x, dim, sort_kernel(x, dim, k, largest, true), false);
}

std::tuple<Tensor, Tensor> kthvalue(const Tensor& x, int64_t k, int dim_in, bool keepdim) {
  auto [dim, n] = check_sort_args("kthvalue", x, dim_in);
  EMBER_CHECK(k >= 1 && k <= n, IndexError, "kthvalue: k ", k, " is out of range for dim ", dim,
              " of size ", n, " (expected 1 <= k <= ", n, "; input shape ", x.sizes(), ")");
  Sorted s = sort_kernel(x, dim, k, /*descending=*/false, true);
  if (x.dim() > 0) {
    s.values = s.values.narrow(dim, k - 1, 1);
    s.indices = s.indices.narrow(dim, k - 1, 1);
    if (!keepdim) {
      s.values = s.values.squeeze(dim);
      s.indices = s.indices.squeeze(dim);
    }
    // Own, compact storage (the views above would keep all k sorted entries alive).
    s.values = s.values.clone();
    s.indices = s.indices.clone();
  }
  return record("KthvalueBackward", x, dim, s, x.dim() > 0 && !keepdim);
}

std::tuple<Tensor, Tensor> Tensor::sort(int dim, bool descending, bool stable) const {
  return ember::sort(*this, dim, descending, stable);
}
Tensor Tensor::argsort(int dim, bool descending, bool stable) const {
  return ember::argsort(*this, dim, descending, stable);
}
std::tuple<Tensor, Tensor> Tensor::topk(int64_t k, int dim, bool largest, bool sorted) const {
  return ember::topk(*this, k, dim, largest, sorted);
}
std::tuple<Tensor, Tensor> Tensor::kthvalue(int64_t k, int dim, bool keepdim) const {
  return ember::kthvalue(*this, k, dim, keepdim);
}

}  // namespace ember
