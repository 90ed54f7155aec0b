// Tensor::index and index_put_ (libtorch's torch::indexing), composed from ember's views and
// ops -- slice, select, unsqueeze, permute, reshape, index_select, scatter_add, where, sort --
// so that every backend runs them and no kernel of their own is needed.
//
// Note [Indexing plan]
// An index list is applied in two steps. The basic indices (Slice, integer, None, Ellipsis)
// become views of x. What remains are the advanced indices: per dim of that view, an int64
// tensor (a bool mask over k dims is k of them, its nonzero() coordinates; a bool scalar is a
// new size-1 dim indexed by [0] for true or [] for false, as PyTorch does). They broadcast
// together to a shape B. The result has B in place of the indexed dims when those are
// adjacent, and first otherwise (NumPy's rule). Both reading and writing flatten the indexed
// dims into one (permuted to the front), so that one linear index,
// sum_j idx_j * stride_j, picks rows of the (indexed, rest) matrix: index_select reads them,
// scatter_add writes them.
//
// Note [index_put_ and autograd]
// ember records no in-place op (core/ops/inplace_check.h), with this one exception, because
// writing into a buffer that is then used (`y.index_put_({mask}, v)`) is how indexing code is
// written. The write is recorded as PyTorch does it: x's grad_fn becomes an IndexPutBackward
// whose edges lead to x's old history and to the values. That is only right when no other
// tensor views x's memory -- ember keeps no record of views, so their history would silently
// miss the write -- so recording requires x to be the only tensor on its storage, and a leaf
// that requires grad may not be written at all (its .grad would belong to values it no longer
// holds). Without grad mode, or with nothing requiring grad, index_put_ is a plain write.
#include <algorithm>
#include <cstring>
#include <optional>
#include <limits>
#include <span>

#include <ember/core/indexing.h>
#include <ember/core/ops/op_utils.h>

namespace ember {

// ---- the index types ---------------------------------------------------------------------

namespace indexing {

TensorIndex::TensorIndex(const char* str) : kind_(Kind::Ellipsis) {
  EMBER_CHECK(str != nullptr && std::strcmp(str, "...") == 0, ValueError,
              "index: the only string index is \"...\" (Ellipsis), got \"", str ? str : "(null)",
              "\"");
}

std::ostream& operator<<(std::ostream& os, const Slice& s) {
  if (s.start()) os << *s.start();
  os << ':';
  if (s.stop()) os << *s.stop();
  if (s.step() != 1) os << ':' << s.step();
  return os;
}

std::ostream& operator<<(std::ostream& os, const TensorIndex& index) {
  switch (index.kind()) {
    case TensorIndex::Kind::None:
      return os << "None";
    case TensorIndex::Kind::Ellipsis:
      return os << "...";
    case TensorIndex::Kind::Integer:
      return os << index.integer();
    case TensorIndex::Kind::Boolean:
      return os << (index.boolean() ? "true" : "false");
    case TensorIndex::Kind::Slice:
      return os << index.slice();
    case TensorIndex::Kind::Tensor:
      if (!index.tensor().defined()) return os << "(undefined tensor)";
      return os << index.tensor().dtype() << " tensor of shape " << index.tensor().sizes();
  }
  return os;
}

}  // namespace indexing

namespace {

using indexing::TensorIndex;
using IndexList = std::span<const TensorIndex>;

struct PrintList {
  IndexList list;
};
std::ostream& operator<<(std::ostream& os, const PrintList& p) {
  os << '{';
  for (size_t i = 0; i < p.list.size(); ++i) os << (i ? ", " : "") << p.list[i];
  return os << '}';
}

// An advanced index of the basic view: an int64 tensor over view dim `dim`, which was dim
// `x_dim` of the indexed tensor (for messages).
struct Advanced {
  int dim;
  int x_dim;
  Tensor index;
};

// Note [Indexing plan]
struct Plan {
  Tensor view;                     // x after the basic indices; shares x's storage
  std::vector<Advanced> advanced;  // ascending dims
  // The index list with every bool mask replaced by its int64 coordinates (and 0-dim bool
  // tensors by bools), so that a backward applies the same indices without reading the mask
  // again.
  std::vector<TensorIndex> resolved;
};

Tensor bool_scalar_index(bool value, Device device) {
  const Shape n = value ? Shape{1} : Shape{0};
  return zeros(n, TensorOptions().dtype(kInt64).device(device));
}

// The coordinates of a mask's true elements, one int64 tensor per mask dim (nonzero()).
// Their count decides the result's shape, so the mask is read on the host: on a GPU this
// waits for the device, as PyTorch's x[mask] does.
std::vector<Tensor> mask_coordinates(const Tensor& mask, Device device) {
  const Tensor m = detail::contiguous_data(mask.to(kCPU));
  const bool* p = m.data_ptr<bool>();
  const int k = m.dim();
  std::vector<std::vector<int64_t>> coords(k);
  std::vector<int64_t> at(k, 0);
  for (int64_t i = 0; i < m.numel(); ++i) {
    if (p[i])
      for (int d = 0; d < k; ++d) coords[d].push_back(at[d]);
    for (int d = k - 1; d >= 0 && ++at[d] == m.size(d); --d) at[d] = 0;
  }
  std::vector<Tensor> out;
  for (int d = 0; d < k; ++d)
    out.push_back(
        from_vector<int64_t>(coords[d], std::nullopt, TensorOptions(kInt64).device(device)));
  return out;
}

// How many dims of the indexed tensor an index uses up.
int consumed_dims(const TensorIndex& i) {
  if (i.is_integer() || i.is_slice()) return 1;
  if (i.is_tensor() && i.tensor().defined())
    return i.tensor().dtype() == kBool ? i.tensor().dim() : 1;
  return 0;
}

Plan make_plan(const char* op, const Tensor& x, IndexList indices) {
  detail::check_defined(op, x);
  int consumed = 0, ellipses = 0;
  for (const TensorIndex& i : indices) {
    consumed += consumed_dims(i);
    ellipses += i.is_ellipsis();
  }
  EMBER_CHECK(ellipses <= 1, IndexError, op, ": an index can only have a single ellipsis ('...'), ",
              "got ", PrintList{indices});
  EMBER_CHECK(consumed <= x.dim(), IndexError, op, ": too many indices for a tensor of ", x.dim(),
              " dims (shape ", x.sizes(), "): ", PrintList{indices}, " indexes ", consumed);
  Plan p;
  Tensor r = x;
  int d = 0, xd = 0;  // the dim of r, and of x, the next index applies to
  bool viewed = false;
  auto add_advanced = [&](const Tensor& index) { p.advanced.push_back({d++, xd++, index}); };
  for (const TensorIndex& i : indices) {
    switch (i.kind()) {
      case TensorIndex::Kind::None:
        r = r.unsqueeze(d++);
        break;
      case TensorIndex::Kind::Ellipsis:
        d += x.dim() - consumed;
        xd += x.dim() - consumed;
        break;
      case TensorIndex::Kind::Integer: {
        const int64_t n = r.size(d), k = i.integer();
        EMBER_CHECK(k >= -n && k < n, IndexError, op, ": index ", k, " is out of bounds for dim ",
                    xd, " with size ", n, " (tensor shape ", x.sizes(), ")");
        r = r.select(d, k);
        ++xd;
        break;
      }
      case TensorIndex::Kind::Slice: {
        const indexing::Slice& s = i.slice();
        EMBER_CHECK(s.step() > 0, ValueError, op, ": slice step must be positive, got ", s.step(),
                    " at dim ", xd);
        r = r.slice(d++, s.start().value_or(0),
                    s.stop().value_or(std::numeric_limits<int64_t>::max()), s.step());
        ++xd;
        break;
      }
      case TensorIndex::Kind::Boolean:
        r = r.unsqueeze(d);
        p.advanced.push_back({d++, xd, bool_scalar_index(i.boolean(), x.device())});
        p.resolved.push_back(i);
        continue;
      case TensorIndex::Kind::Tensor: {
        const Tensor& t = i.tensor();
        detail::check_defined(op, t, "index tensor");
        if (t.dtype() == kInt64) {
          add_advanced(t.to(x.device()));
        } else if (t.dtype() == kBool && t.dim() == 0) {
          const bool value = t.item<bool>();  // a host read, as for any mask below
          r = r.unsqueeze(d);
          p.advanced.push_back({d++, xd, bool_scalar_index(value, x.device())});
          p.resolved.emplace_back(value);
          continue;
        } else if (t.dtype() == kBool) {
          for (int k = 0; k < t.dim(); ++k)
            EMBER_CHECK(t.size(k) == r.size(d + k), IndexError, op, ": the shape of the mask ",
                        t.sizes(), " does not match the shape of the indexed tensor ", x.sizes(),
                        " at dim ", xd + k, " (", t.size(k), " vs ", r.size(d + k), ")");
          for (const Tensor& c : mask_coordinates(t, x.device())) {
            p.resolved.emplace_back(c);
            add_advanced(c);
          }
          continue;
        } else {
          throw IndexError(detail::str_cat(op, ": tensors used as indices must be int64 or bool, ",
                                           "got ", t.dtype(), " at dim ", xd));
        }
        break;
      }
    }
    viewed = viewed || !i.is_ellipsis();
    p.resolved.push_back(i);
  }
  // A fresh view even when nothing narrowed x (x.index({"..."})), as PyTorch returns an alias.
  p.view = viewed ? r : r.unsqueeze(0).squeeze(0);
  return p;
}

// idx with negative entries wrapped, checked against `size`: on the CPU here, naming the op;
// on a GPU by an index_select of arange(size), whose kernel checks without a host wait (the
// IndexError then names index_select, at the next wait for the device).
Tensor checked_index(const char* op, const Advanced& a, int64_t size, bool device_check) {
  Tensor idx = a.index;
  bool negative = true;
  if (idx.device().is_cpu()) {
    const Tensor c = detail::contiguous_data(idx);
    const auto* k = static_cast<const int64_t*>(c.data_ptr());
    negative = false;
    for (int64_t i = 0; i < c.numel(); ++i) {
      EMBER_CHECK(k[i] >= -size && k[i] < size, IndexError, op, ": index ", k[i],
                  " is out of bounds for dim ", a.x_dim, " with size ", size);
      negative = negative || k[i] < 0;
    }
  }
  if (negative) idx = where(lt(idx, 0.0), idx + static_cast<double>(size), idx);
  if (!idx.device().is_cpu() && device_check)
    idx =
        index_select(arange(size, TensorOptions(kInt64).device(idx.device())), 0, idx.reshape({-1}))
            .reshape(idx.sizes());
  return idx;
}

// The geometry both reading and writing use (Note [Indexing plan]).
struct Geometry {
  Shape broadcast;  // B
  Shape perm;       // indexed dims of the view first, then the rest in order
  Shape inverse;    // perm's inverse
  int64_t rows = 1;
  Shape rest;     // the sizes of the view's other dims
  int first = 0;  // where B goes in the result: the first indexed dim, or 0
  Shape result;   // the indexed shape
  Tensor linear;  // (N) int64: the row of each element of B, N = numel(B)
};

Geometry geometry(const char* op, const Plan& p) {
  const Tensor& r = p.view;
  const std::vector<Advanced>& adv = p.advanced;
  Geometry g;
  g.broadcast = adv[0].index.sizes();
  for (size_t j = 1; j < adv.size(); ++j)
    g.broadcast = detail::broadcast_shapes(op, g.broadcast, adv[j].index.sizes());
  const bool adjacent = adv.back().dim - adv.front().dim == static_cast<int>(adv.size()) - 1;
  g.first = adjacent ? adv.front().dim : 0;
  std::vector<bool> indexed(r.dim(), false);
  for (const Advanced& a : adv) {
    indexed[a.dim] = true;
    g.perm.push_back(a.dim);
    g.rows *= r.size(a.dim);
  }
  for (int d = 0; d < r.dim(); ++d) {
    if (indexed[d]) continue;
    g.perm.push_back(d);
    g.rest.push_back(r.size(d));
  }
  g.inverse.resize(r.dim());
  for (int d = 0; d < r.dim(); ++d) g.inverse[g.perm[d]] = d;
  for (int d = 0; d < g.first; ++d) g.result.push_back(g.rest[d]);
  for (int64_t s : g.broadcast) g.result.push_back(s);
  for (int d = g.first; d < g.rest.size(); ++d) g.result.push_back(g.rest[d]);
  // One index on a GPU: the index_select that reads (or scatter_add that writes) checks it.
  // Several: each one on its own, since a bad one can still give a linear index in range.
  const bool device_check = adv.size() > 1;
  Tensor lin = checked_index(op, adv[0], r.size(adv[0].dim), device_check);
  for (size_t j = 1; j < adv.size(); ++j) {
    const int64_t n = r.size(adv[j].dim);
    lin = lin * static_cast<double>(n) + checked_index(op, adv[j], n, device_check);
  }
  g.linear = lin.expand(g.broadcast).reshape({-1});
  return g;
}

// Moves dims [from, from + count) of t to start at `to`, keeping the order of the others.
Tensor move_dims(const Tensor& t, int from, int count, int to) {
  if (from == to || count == 0) return t;
  Shape others, perm;
  for (int d = 0; d < t.dim(); ++d)
    if (d < from || d >= from + count) others.push_back(d);
  for (int d = 0; d < to; ++d) perm.push_back(others[d]);
  for (int d = 0; d < count; ++d) perm.push_back(from + d);
  for (int d = to; d < others.size(); ++d) perm.push_back(others[d]);
  return t.permute(perm);
}

// The view's indexed dims flattened into rows: (rows, rest...) and the rest into one: (rows,
// R). A view when the strides allow, else a copy.
Tensor as_rows(const Tensor& view, const Geometry& g) {
  return view.permute(g.perm).reshape({g.rows, g.rest.numel()});
}

Tensor gather_advanced(const char* op, const Plan& p) {
  const Geometry g = geometry(op, p);
  Shape picked_sizes = g.broadcast;
  for (int64_t s : g.rest) picked_sizes.push_back(s);
  Tensor picked = index_select(as_rows(p.view, g), 0, g.linear).reshape(picked_sizes);
  if (g.first == 0) return picked;
  return move_dims(picked, 0, g.broadcast.size(), g.first).contiguous();
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (int d = 0; d < from.size(); ++d) {
    const int64_t s = from[d], t = to[d + to.size() - from.size()];
    if (s != t && s != 1) return false;
  }
  return true;
}

// The view with `values` (already broadcastable to the indexed shape, x's dtype) put at the
// advanced indices: a new tensor of the view's shape.
Tensor put_advanced(const Plan& p, const Geometry& g, const Tensor& values, bool accumulate) {
  const int64_t n = g.linear.numel(), width = g.rest.numel();
  Tensor rows = as_rows(p.view, g);
  // Values as rows of the (B, rest) order: (N, R).
  Tensor v = move_dims(values.expand(g.result), g.first, g.broadcast.size(), 0).reshape({n, width});
  Tensor out;
  if (accumulate) {
    out = scatter_add(rows, 0, g.linear.reshape({n, 1}).expand({n, width}), v);
  } else {
    // Each row takes the value of the last index naming it, as a loop over the indices would
    // leave it (PyTorch leaves the winner of repeats unspecified). A stable sort groups the
    // repeats in order; all but the last of each group add zero.
    auto [sorted, order] = sort(g.linear, 0, false, true);
    Tensor repeated = zeros({n}, TensorOptions(kBool).device(sorted.device()));
    if (n > 1)
      repeated.narrow(0, 0, n - 1)
          .copy_(eq(sorted.narrow(0, 0, n - 1), sorted.narrow(0, 1, n - 1)));
    Tensor last = masked_fill(index_select(v, 0, order), repeated.reshape({n, 1}), 0.0);
    Tensor written =
        scatter_add(zeros_like(rows), 0, sorted.reshape({n, 1}).expand({n, width}), last);
    Tensor hits = scatter_add(zeros({g.rows}, TensorOptions(kInt64).device(rows.device())), 0,
                              g.linear, ones({n}, TensorOptions(kInt64).device(rows.device())));
    out = where(gt(hits, 0.0).reshape({g.rows, 1}), written, rows);
  }
  Shape permuted;
  for (int64_t s : g.perm) permuted.push_back(p.view.size(s));
  return out.reshape(permuted).permute(g.inverse);
}

// Writes `values` at the plan's indices of dst's storage. No autograd (the caller records).
void write(const char* op, const Plan& p, const Tensor& values, bool accumulate) {
  Tensor view = p.view;
  std::optional<Geometry> g;
  if (!p.advanced.empty()) g = geometry(op, p);
  const Shape& target = g ? g->result : view.sizes();
  EMBER_CHECK(broadcasts_to(values.sizes(), target), ShapeError, op, ": values of shape ",
              values.sizes(), " cannot be broadcast to the indexed shape ", target);
  if (!g) {
    if (accumulate)
      view.add_(values);
    else
      view.copy_(values);
    return;
  }
  // A bool tensor goes through the scatter in int64 (no bool arithmetic).
  const bool as_int = view.dtype() == kBool;
  Plan q = p;
  if (as_int) q.view = view.to(kInt64);
  Tensor put = put_advanced(q, *g, as_int ? values.to(kInt64) : values, accumulate);
  view.copy_(put);  // the whole view: a cost of its numel, not of the indices'
}

// The gradient of index_put / index_put_ (Note [index_put_ and autograd]): the output's
// gradient where x's values survived, and at the indices for the values (summed over
// broadcast, repeats included, as PyTorch's).
class IndexPutBackward final : public autograd::Node {
 public:
  IndexPutBackward(std::vector<TensorIndex> indices, Shape values_sizes, bool accumulate)
      : indices_(std::move(indices)), values_sizes_(values_sizes), accumulate_(accumulate) {
    // Own copies of the index tensors: the caller may change theirs before backward().
    for (TensorIndex& i : indices_)
      if (i.is_tensor()) i = TensorIndex(i.tensor().clone());
  }
  std::vector<Tensor> apply(const Tensor& g) override {
    EMBER_CHECK(!freed_, AutogradError, name(),
                ": trying to backward through the graph a second time; pass retain_graph=true "
                "to the first backward");
    Tensor gx, gv;
    if (next_edges[0].valid()) {
      gx = accumulate_ ? g : g.clone();
      if (!accumulate_) gx.index_put_(indices_, 0.0);
    }
    if (next_edges[1].valid()) gv = detail::sum_to(g.index(indices_), values_sizes_);
    return {gx, gv};
  }
  std::string name() const override { return "IndexPutBackward"; }
  void release_saved() override {
    indices_.clear();
    freed_ = true;
  }

 private:
  std::vector<TensorIndex> indices_;
  Shape values_sizes_;
  bool accumulate_;
  bool freed_ = false;
};

// Puts values_in into dst (which holds src's values), and records the write as dst's history
// when src or the values need gradients.
void put(const char* op, Tensor& dst, const Tensor& src, IndexList indices, const Tensor& values_in,
         bool accumulate) {
  detail::check_defined(op, values_in, "values");
  const bool record = autograd::needs_grad(src, values_in);
  const Tensor values = values_in.to(dst.device(), dst.dtype());
  Plan p;
  {
    NoGradGuard no_grad;
    p = make_plan(op, dst, indices);
    write(op, p, values, accumulate);
  }
  if (record) {
    auto node =
        std::make_shared<IndexPutBackward>(std::move(p.resolved), values.sizes(), accumulate);
    autograd::attach(node, {&src, &values}, dst);
  }
}

void check_recordable(const char* op, const Tensor& x, const Tensor& values) {
  detail::check_defined(op, x);
  if (!autograd::needs_grad(x, values)) return;
  EMBER_CHECK(!(x.is_leaf() && x.requires_grad()), AutogradError, op,
              ": in-place write to a leaf tensor of shape ", x.sizes(),
              " that requires grad; write into a copy (clone(), or the out-of-place index_put), "
              "or under NoGradGuard");
  EMBER_CHECK(x.impl()->storage.use_count() == 1, AutogradError, op,
              ": in-place write, with autograd, to a tensor of shape ", x.sizes(),
              " whose memory other tensors share (views of it, or the tensor it views); ember "
              "does not track views, so their gradients would miss "
              "the write. Write into a clone(), or use the out-of-place index_put");
}

Tensor index_impl(IndexList indices, const Tensor& x) {
  Plan p = make_plan("index", x, indices);
  return p.advanced.empty() ? p.view : gather_advanced("index", p);
}

Tensor& index_put_impl(Tensor& x, IndexList indices, const Tensor& values, bool accumulate) {
  check_recordable("index_put_", x, values);
  put("index_put_", x, x, indices, values, accumulate);
  return x;
}

Tensor index_put_out(const Tensor& x, IndexList indices, const Tensor& values, bool accumulate) {
  detail::check_defined("index_put", x);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x.clone();
  }
  put("index_put", out, x, indices, values, accumulate);
  return out;
}

Tensor scalar_values(const Tensor& x, double value) {
  detail::check_defined("index_put_", x);
  detail::check_scalar_fits("index_put_", "value", value, x.dtype());
  return scalar_tensor(value, TensorOptions(x.dtype()).device(x.device()));
}

}  // namespace

Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return index_impl(IndexList(indices.begin(), indices.size()), *this);
}
Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const {
  return index_impl(indices, *this);
}

Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices,
                           const Tensor& values, bool accumulate) {
  return index_put_impl(*this, IndexList(indices.begin(), indices.size()), values, accumulate);
}
Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& values,
                           bool accumulate) {
  return index_put_impl(*this, indices, values, accumulate);
}
Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices, double value) {
  return index_put_impl(*this, IndexList(indices.begin(), indices.size()),
                        scalar_values(*this, value), false);
}
Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices, double value) {
  return index_put_impl(*this, indices, scalar_values(*this, value), false);
}

Tensor Tensor::index_put(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values,
                         bool accumulate) const {
  return index_put_out(*this, IndexList(indices.begin(), indices.size()), values, accumulate);
}
Tensor Tensor::index_put(const std::vector<indexing::TensorIndex>& indices, const Tensor& values,
                         bool accumulate) const {
  return index_put_out(*this, indices, values, accumulate);
}
Tensor index_put(const Tensor& x, const std::vector<indexing::TensorIndex>& indices,
                 const Tensor& values, bool accumulate) {
  return index_put_out(x, indices, values, accumulate);
}

}  // namespace ember
