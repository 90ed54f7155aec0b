// Combine and split: cat, stack, split, chunk, unbind (torch semantics).
//
// cat allocates the output once and copies each input into its slice (one strided copy
// kernel per input, converting dtype on the way); its backward hands every input the matching
// slice of the gradient. stack is cat of unsqueezed inputs. split, chunk and unbind are views
// (narrow / select), so they copy nothing and each piece's own view node routes its gradient
// back to its slice.
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using detail::backend_of;

// PyTorch still accepts (and skips) 1-D tensors of size 0 in cat, whatever the other shapes.
bool legacy_empty(const Tensor& t) {
  return t.dim() == 1 && t.size(0) == 0;
}

class CatBackward final : public Node {
 public:
  struct Piece {
    int64_t offset, length;
    Shape sizes;
    DType dtype;
    bool skipped;
  };
  CatBackward(int dim, std::vector<Piece> pieces) : dim_(dim), pieces_(std::move(pieces)) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    std::vector<Tensor> grads;
    grads.reserve(pieces_.size());
    for (size_t i = 0; i < pieces_.size(); ++i) {
      const Piece& p = pieces_[i];
      if (!next_edges[i].valid()) {
        grads.emplace_back();
      } else if (p.skipped) {
        grads.push_back(zeros(p.sizes, TensorOptions().dtype(p.dtype).device(g.device())));
      } else {
        // The input may have been promoted to the output's dtype: its gradient goes back.
        Tensor gi = g.narrow(dim_, p.offset, p.length);
        grads.push_back(gi.dtype() == p.dtype ? gi : gi.to(p.dtype));
      }
    }
    return grads;
  }
  std::string name() const override { return "CatBackward"; }

 private:
  int dim_;
  std::vector<Piece> pieces_;
};

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int dim_in) {
  EMBER_CHECK(!tensors.empty(), ValueError, "cat: expected a non-empty list of tensors");
  int ref = -1;  // the tensor whose shape the others must match
  for (size_t i = 0; i < tensors.size(); ++i) {
    EMBER_CHECK(tensors[i].defined(), ValueError, "cat: tensor ", i, " is undefined");
    EMBER_CHECK(tensors[i].dim() > 0, ShapeError, "cat: zero-dimensional tensor (at position ", i,
                ") cannot be concatenated");
    if (ref < 0 && !legacy_empty(tensors[i])) ref = static_cast<int>(i);
  }
  if (ref < 0) ref = 0;
  const Tensor& r = tensors[ref];
  const int dim = detail::normalize_dim("cat", dim_in, r.dim());
  DType dt = r.dtype();
  Shape out_sizes = r.sizes();
  out_sizes[dim] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    detail::check_same_device("cat", r, t);
    dt = promote_types(dt, t.dtype());
    if (legacy_empty(t) && static_cast<int>(i) != ref) continue;
    EMBER_CHECK(t.dim() == r.dim(), ShapeError,
                "cat: tensors must have the same number of dims: tensor ", ref, " has shape ",
                r.sizes(), ", tensor ", i, " has shape ", t.sizes());
    for (int d = 0; d < r.dim(); ++d) {
      EMBER_CHECK(d == dim || t.size(d) == r.size(d), ShapeError,
                  "cat: sizes of tensors must match except in dim ", dim, ": tensor ", ref,
                  " has shape ", r.sizes(), ", tensor ", i, " has shape ", t.sizes());
    }
    out_sizes[dim] += t.size(dim);
  }

  Tensor out = detail::make_tensor(out_sizes, dt, r.device());
  std::vector<CatBackward::Piece> pieces;
  pieces.reserve(tensors.size());
  int64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    const bool skipped = legacy_empty(t) && static_cast<int>(i) != ref;
    const int64_t len = skipped ? 0 : t.size(dim);
    pieces.push_back({offset, len, t.sizes(), t.dtype(), skipped});
    if (len > 0 && t.numel() > 0) {
      Tensor region = out.narrow(dim, offset, len);  // out needs no grad: a plain view
      backend_of(out).copy(t.dtype(), detail::layout_of(t), t.data_ptr(), dt,
                           detail::layout_of(region), region.data_ptr());
    }
    offset += len;
  }

  bool any_grad = false;
  for (const Tensor& t : tensors) any_grad |= autograd::needs_grad(t);
  if (any_grad) {
    auto node = std::make_shared<CatBackward>(dim, std::move(pieces));
    node->next_edges.reserve(tensors.size());
    for (const Tensor& t : tensors) node->next_edges.push_back(autograd::gradient_edge(t));
    autograd::attach(node, {}, out);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int dim_in) {
  EMBER_CHECK(!tensors.empty(), ValueError, "stack: expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    EMBER_CHECK(tensors[i].defined(), ValueError, "stack: tensor ", i, " is undefined");
    EMBER_CHECK(tensors[i].sizes() == tensors[0].sizes(), ShapeError,
                "stack: expects each tensor to be equal size, but got ", tensors[0].sizes(),
                " at entry 0 and ", tensors[i].sizes(), " at entry ", i);
  }
  const int dim = detail::normalize_dim("stack", dim_in, tensors[0].dim() + 1);
  std::vector<Tensor> expanded;
  expanded.reserve(tensors.size());
  for (const Tensor& t : tensors) expanded.push_back(t.unsqueeze(dim));
  return cat(expanded, dim);
}

Tensor stack(std::initializer_list<Tensor> tensors, int dim) {
  return stack(std::vector<Tensor>(tensors), dim);
}

std::vector<Tensor> split_with_sizes(const Tensor& x, const std::vector<int64_t>& split_sizes,
                                     int dim_in) {
  detail::check_defined("split", x);
  EMBER_CHECK(x.dim() > 0, ShapeError, "split: cannot split a 0-dim tensor");
  const int dim = detail::normalize_dim("split", dim_in, x.dim());
  int64_t total = 0;
  for (int64_t s : split_sizes) {
    EMBER_CHECK(s >= 0, ValueError, "split: split sizes must be non-negative, got ", s);
    total += s;
  }
  EMBER_CHECK(total == x.size(dim), ValueError, "split: split sizes sum to ", total, " but dim ",
              dim, " of the tensor of shape ", x.sizes(), " has size ", x.size(dim));
  std::vector<Tensor> out;
  out.reserve(split_sizes.size());
  int64_t start = 0;
  for (int64_t s : split_sizes) {
    out.push_back(x.narrow(dim, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& split_sizes, int dim) {
  return split_with_sizes(x, split_sizes, dim);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int dim_in) {
  detail::check_defined("split", x);
  EMBER_CHECK(x.dim() > 0, ShapeError, "split: cannot split a 0-dim tensor");
  const int dim = detail::normalize_dim("split", dim_in, x.dim());
  const int64_t n = x.size(dim);
  EMBER_CHECK(split_size > 0 || (split_size == 0 && n == 0), ValueError,
              "split: split_size must be positive, got ", split_size, " for dim ", dim, " of size ",
              n);
  if (n == 0) return {x.narrow(dim, 0, 0)};
  std::vector<Tensor> out;
  for (int64_t start = 0; start < n; start += split_size)
    out.push_back(x.narrow(dim, start, std::min(split_size, n - start)));
  return out;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int dim_in) {
  detail::check_defined("chunk", x);
  EMBER_CHECK(chunks > 0, ValueError, "chunk: chunks must be positive, got ", chunks);
  EMBER_CHECK(x.dim() > 0, ShapeError, "chunk: cannot chunk a 0-dim tensor");
  const int dim = detail::normalize_dim("chunk", dim_in, x.dim());
  const int64_t n = x.size(dim);
  // An empty dim gives `chunks` empty pieces (torch.chunk does the same).
  if (n == 0) return split_with_sizes(x, std::vector<int64_t>(chunks, 0), dim);
  return split(x, (n + chunks - 1) / chunks, dim);
}

std::vector<Tensor> unbind(const Tensor& x, int dim_in) {
  detail::check_defined("unbind", x);
  EMBER_CHECK(x.dim() > 0, ShapeError, "unbind: cannot unbind a 0-dim tensor");
  const int dim = detail::normalize_dim("unbind", dim_in, x.dim());
  std::vector<Tensor> out;
  out.reserve(x.size(dim));
  for (int64_t i = 0; i < x.size(dim); ++i) out.push_back(x.select(dim, i));
  return out;
}

std::vector<Tensor> Tensor::split(int64_t split_size, int dim) const {
  return ember::split(*this, split_size, dim);
}
std::vector<Tensor> Tensor::split(const std::vector<int64_t>& split_sizes, int dim) const {
  return ember::split(*this, split_sizes, dim);
}
std::vector<Tensor> Tensor::chunk(int64_t chunks, int dim) const {
  return ember::chunk(*this, chunks, dim);
}
std::vector<Tensor> Tensor::unbind(int dim) const {
  return ember::unbind(*this, dim);
}

}  // namespace ember
