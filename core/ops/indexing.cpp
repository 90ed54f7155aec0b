// Indexing along one dim: gather, scatter_add and index_select (torch semantics), and
// masked_fill composed from where. index_select copies whole rows (the backend's index_select
// entry point, a memcpy per row on the CPU); its backward, like gather's, is a scatter_add, so
// the gradients of repeated indices add up. where's backward gives filled positions zero
// gradient.
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

// Validates index against `t` (gather: t = input; scatter: t = self) and returns the
// layout of t's strides over the index's sizes.
Layout index_layout(const char* op, const Tensor& t, int dim, const Tensor& index) {
  detail::check_defined(op, index, "index");
  detail::check_dtype(op, index, kInt64, "index");
  detail::check_same_device(op, t, index);
  EMBER_CHECK(index.dim() == t.dim(), ShapeError, op, ": index has ", index.dim(),
              " dims but the tensor has ", t.dim(), " (shapes ", index.sizes(), " and ", t.sizes(),
              ")");
  for (int d = 0; d < t.dim(); ++d) {
    EMBER_CHECK(d == dim || index.size(d) <= t.size(d), ShapeError, op, ": index of shape ",
                index.sizes(), " is larger than the tensor of shape ", t.sizes(), " at dim ", d);
  }
  Layout l = detail::layout_of(index);
  for (int d = 0; d < t.dim(); ++d) l.strides[d] = t.stride(d);
  return l;
}

// index_select's gradient: each incoming row added back at its index, so repeated indices
// add up (scatter_add with the 1-D index broadcast over the row).
class IndexSelectBackward final : public Node {
 public:
  IndexSelectBackward(Shape in_sizes, int dim, const Tensor& index)
      : in_sizes_(in_sizes), dim_(dim), index_(index) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Shape line;
    line.resize(g.dim(), 1);
    line[dim_] = g.size(dim_);
    const Tensor index = index_.unpack(*this).reshape(line).expand(g.sizes());
    Tensor gi = zeros(in_sizes_, TensorOptions().dtype(g.dtype()).device(g.device()));
    return {scatter_add(gi, dim_, index, g)};
  }
  std::string name() const override { return "IndexSelectBackward"; }
  void release_saved() override { index_.reset(); }

 private:
  Shape in_sizes_;
  int dim_;
  SavedTensor index_;
};

class GatherBackward final : public Node {
 public:
  GatherBackward(Shape in_sizes, int dim, const Tensor& index)
      : in_sizes_(in_sizes), dim_(dim), index_(index) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gi = zeros(in_sizes_, TensorOptions().dtype(g.dtype()).device(g.device()));
    return {scatter_add(gi, dim_, index_.unpack(*this), g)};
  }
  std::string name() const override { return "GatherBackward"; }
  void release_saved() override { index_.reset(); }

 private:
  Shape in_sizes_;
  int dim_;
  SavedTensor index_;
};

class ScatterAddBackward final : public Node {
 public:
  ScatterAddBackward(int dim, const Tensor& index, Shape src_sizes)
      : dim_(dim), index_(index), src_sizes_(src_sizes) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gsrc;
    if (next_edges[1].valid()) {
      Tensor picked = gather(g, dim_, index_.unpack(*this));
      if (picked.sizes() == src_sizes_) {
        gsrc = picked;
      } else {  // src larger than index: the unused part gets zero gradient
        gsrc = zeros(src_sizes_, TensorOptions().dtype(g.dtype()).device(g.device()));
        Tensor region = gsrc;
        for (int d = 0; d < picked.dim(); ++d) region = region.narrow(d, 0, picked.size(d));
        region.copy_(picked);
      }
    }
    return {g, gsrc};
  }
  std::string name() const override { return "ScatterAddBackward"; }
  void release_saved() override { index_.reset(); }

 private:
  int dim_;
  SavedTensor index_;
  Shape src_sizes_;
};

// The 1-D index along `dim` when `index` repeats it over every other dim and covers x whole
// there (idx.unsqueeze(1).expand_as(x) along dim 0, say): gather then picks whole rows, as
// index_select does. Undefined otherwise.
Tensor expanded_line(const Tensor& x, int dim, const Tensor& index) {
  if (x.dim() == 0 || index.dim() != x.dim() || index.size(dim) == 0) return {};
  for (int d = 0; d < x.dim(); ++d) {
    if (d == dim) continue;
    if (index.size(d) != x.size(d) || (index.stride(d) != 0 && index.size(d) != 1)) return {};
  }
  Tensor line = index;
  for (int d = x.dim() - 1; d >= 0; --d)
    if (d != dim) line = line.select(d, 0);
  return line;
}

}  // namespace

Tensor gather(const Tensor& x, int dim_in, const Tensor& index_in) {
  detail::check_defined("gather", x);
  const int dim = detail::normalize_dim("gather", dim_in, x.dim());
  if (x.device().is_cpu() && index_in.defined() && index_in.dtype() == kInt64 &&
      index_in.device() == x.device()) {
    // A broadcast row index on the CPU: copy whole rows instead of materialising the index
    // (x.numel() int64s) and walking it. Checked here so a bad index names gather, at the
    // position the general path would report (row i, first element: i * inner). A GPU runs
    // the general kernel, whose device-side check names gather too.
    if (const Tensor line = expanded_line(x, dim, index_in); line.defined()) {
      const detail::ReduceGeometry g = detail::reduce_geometry(x.sizes(), dim);
      const Tensor idx = detail::contiguous_data(line);
      const auto* k = static_cast<const int64_t*>(idx.data_ptr());
      for (int64_t i = 0; i < idx.numel(); ++i)
        if (static_cast<uint64_t>(k[i]) >= static_cast<uint64_t>(g.r))
          throw bad_index_error("gather", k[i], i * g.inner, dim, g.r);
      return index_select(x, dim, idx);
    }
  }
  Tensor index = detail::contiguous_data(index_in);
  Layout xl = index_layout("gather", x, dim, index);
  const int64_t dim_size = x.dim() == 0 ? 1 : x.size(dim);
  Tensor out = detail::make_tensor(index.sizes(), x.dtype(), x.device());
  // A bad index is an IndexError from the backend (at once on the CPU, at the next wait on
  // CUDA: Note [Host-device synchronisation] in kernels/cuda/backend.h).
  if (out.numel() > 0)
    backend_of(x).gather(x.dtype(), dim, xl, dim_size, x.data_ptr(),
                         static_cast<const int64_t*>(index.data_ptr()), out.data_ptr());
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<GatherBackward>(x.sizes(), dim, index), {&x}, out);
  return out;
}

Tensor scatter_add(const Tensor& x, int dim_in, const Tensor& index_in, const Tensor& src_in) {
  detail::check_defined("scatter_add", x);
  detail::check_defined("scatter_add", src_in, "src");
  detail::check_same_device("scatter_add", x, src_in);
  const int dim = detail::normalize_dim("scatter_add", dim_in, x.dim());
  Tensor index = detail::contiguous_data(index_in);
  EMBER_CHECK(src_in.dim() == index.dim(), ShapeError, "scatter_add: src of shape ", src_in.sizes(),
              " and index of shape ", index.sizes(), " differ in dims");
  Tensor src = src_in.dtype() == x.dtype() ? src_in : src_in.to(x.dtype());
  Tensor src_region = src;
  for (int d = 0; d < index.dim(); ++d) {
    EMBER_CHECK(index.size(d) <= src.size(d), ShapeError, "scatter_add: index of shape ",
                index.sizes(), " is larger than src of shape ", src.sizes(), " at dim ", d);
    src_region = src_region.narrow(d, 0, index.size(d));
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x.clone();
    Tensor src_c = detail::contiguous_data(src_region);
    Layout ol = index_layout("scatter_add", out, dim, index);
    const int64_t dim_size = out.dim() == 0 ? 1 : out.size(dim);
    if (index.numel() > 0)
      backend_of(out).scatter_add(out.dtype(), dim, ol, dim_size, out.data_ptr(),
                                  static_cast<const int64_t*>(index.data_ptr()), src_c.data_ptr());
  }
  if (autograd::needs_grad(x, src))
    autograd::attach(std::make_shared<ScatterAddBackward>(dim, index, src.sizes()), {&x, &src},
                     out);
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  detail::check_defined("masked_fill", x);
  detail::check_defined("masked_fill", mask, "mask");
  detail::check_dtype("masked_fill", mask, kBool, "mask");
  detail::check_same_device("masked_fill", x, mask);
  detail::broadcast_shapes("masked_fill", x.sizes(), mask.sizes());  // names the op on mismatch
  detail::check_scalar_fits("masked_fill", "value", value, x.dtype());
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
  if (x.dim() == 0) {  // torch: a scalar input takes exactly one index and stays 0-dim
    EMBER_CHECK(n == 1, IndexError, "index_select: a 0-dim input takes exactly one index, got ", n);
    // Checked here, not by gather, so the message names this op (a rare path: one item()).
    const int64_t k = index.reshape({}).item<int64_t>();
    EMBER_CHECK(k >= 0 && k < size, IndexError, "index_select: index ", k,
                " is out of range for a 0-dim input (size 1)");
    return gather(x.reshape({1}), 0, index.reshape({1})).reshape({});
  }
  // Whole rows of the contiguous (outer, size, inner) view: one row copy per index.
  const Tensor xc = detail::contiguous_data(x);
  const Tensor idx = detail::contiguous_data(index).reshape({n});
  const detail::ReduceGeometry g = detail::reduce_geometry(x.sizes(), dim);
  Shape out_sizes = x.sizes();
  out_sizes[dim] = n;
  Tensor out = detail::make_tensor(out_sizes, x.dtype(), x.device());
  if (out.numel() > 0)
    // The backend checks the indices (on a GPU without a host wait, like gather).
    backend_of(x).index_select(x.dtype(), dim, xc.data_ptr(), g.outer, g.r, g.inner,
                               static_cast<const int64_t*>(idx.data_ptr()), n, out.data_ptr());
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<IndexSelectBackward>(x.sizes(), dim, idx), {&x}, out);
  return out;
}

Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
  return ember::masked_fill(*this, mask, value);
}
Tensor Tensor::index_select(int dim, const Tensor& index) const {
  return ember::index_select(*this, dim, index);
}

}  // namespace ember
