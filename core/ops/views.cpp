// View ops: new sizes/strides/offset over the same storage, no copy. Each records a node
// whose backward maps the gradient back to the input's geometry.
#include <algorithm>

#include <ember/core/object_pool.h>
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;

Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset) {
  return Tensor(
      detail::make_pooled<TensorImpl>(base.impl()->storage, sizes, strides, offset, base.dtype()));
}

class ReshapeBackward final : public Node {
 public:
  explicit ReshapeBackward(Shape s) : input_sizes_(s) {}
  std::vector<Tensor> apply(const Tensor& g) override { return {g.reshape(input_sizes_)}; }
  std::string name() const override { return "ReshapeBackward"; }

 private:
  Shape input_sizes_;
};

class PermuteBackward final : public Node {
 public:
  explicit PermuteBackward(Shape inverse) : inverse_(inverse) {}
  std::vector<Tensor> apply(const Tensor& g) override { return {g.permute(inverse_)}; }
  std::string name() const override { return "PermuteBackward"; }

 private:
  Shape inverse_;
};

class ExpandBackward final : public Node {
 public:
  explicit ExpandBackward(Shape s) : input_sizes_(s) {}
  std::vector<Tensor> apply(const Tensor& g) override { return {detail::sum_to(g, input_sizes_)}; }
  std::string name() const override { return "ExpandBackward"; }

 private:
  Shape input_sizes_;
};

// Slice and select: scatter the gradient into zeros of the input's shape.
class SliceBackward final : public Node {
 public:
  SliceBackward(Shape sizes, DType dt, Device dev, int dim, int64_t start, int64_t end,
                int64_t step, bool select)
      : sizes_(sizes),
        dtype_(dt),
        device_(dev),
        dim_(dim),
        start_(start),
        end_(end),
        step_(step),
        select_(select) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gi = zeros(sizes_, TensorOptions().dtype(dtype_).device(device_));
    Tensor region = select_ ? gi.select(dim_, start_) : gi.slice(dim_, start_, end_, step_);
    region.copy_(g);
    return {gi};
  }
  std::string name() const override { return select_ ? "SelectBackward" : "SliceBackward"; }

 private:
  Shape sizes_;
  DType dtype_;
  Device device_;
  int dim_;
  int64_t start_, end_, step_;
  bool select_;
};

// Strides for viewing `t` as `shape` without copying, or nullopt when its memory layout
// does not allow it (then reshape copies). Works chunk by chunk: dims of t that are laid
// out contiguously relative to each other can be re-split freely.
std::optional<Shape> view_strides(const Tensor& t, const Shape& shape) {
  if (t.is_contiguous()) return contiguous_strides(shape);
  const Shape& old_sizes = t.sizes();
  const Shape& old_strides = t.strides();
  Shape new_strides;
  new_strides.resize(shape.size());
  if (t.numel() == 0) return contiguous_strides(shape);
  int view_d = shape.size() - 1;
  int64_t chunk_base_stride = old_strides.size() ? old_strides.back() : 1;
  int64_t tensor_numel = 1, view_numel = 1;
  for (int d = old_sizes.size() - 1; d >= 0; --d) {
    tensor_numel *= old_sizes[d];
    if (d == 0 ||
        (old_sizes[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

Shape infer_shape(const char* op, const Shape& shape, int64_t numel) {
  Shape out = shape;
  int infer = -1;
  int64_t known = 1;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      EMBER_CHECK(infer < 0, ShapeError, op, ": only one dimension can be -1 in ", shape);
      infer = d;
    } else {
      EMBER_CHECK(shape[d] >= 0, ShapeError, op, ": invalid size ", shape[d], " in ", shape);
      EMBER_CHECK(!__builtin_mul_overflow(known, shape[d], &known), ShapeError, op, ": shape ",
                  shape, " has more elements than int64 can count");
    }
  }
  if (infer >= 0) {
    EMBER_CHECK(known != 0 && numel % known == 0, ShapeError, op, ": shape ", shape,
                " is invalid for input of size ", numel);
    out[infer] = numel / known;
  }
  check_shape(op, out, 1);
  EMBER_CHECK(out.numel() == numel, ShapeError, op, ": shape ", shape,
              " is invalid for input of size ", numel);
  return out;
}

Tensor record_reshape(const Tensor& in, Tensor out) {
  if (autograd::needs_grad(in))
    autograd::attach(std::make_shared<ReshapeBackward>(in.sizes()), {&in}, out);
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  Shape sz = infer_shape("view", shape, numel());
  auto strides = view_strides(*this, sz);
  EMBER_CHECK(strides.has_value(), ShapeError, "view: shape ", sz,
              " is not compatible with the input's size ", sizes(), " and strides ",
              this->strides(),
              " (at least one dimension spans two contiguous subspaces); use reshape()");
  return record_reshape(*this, make_view(*this, sz, *strides, storage_offset()));
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape sz = infer_shape("reshape", shape, numel());
  if (auto strides = view_strides(*this, sz))
    return record_reshape(*this, make_view(*this, sz, *strides, storage_offset()));
  return contiguous().view(sz);
}

Tensor Tensor::flatten(int start_dim, int end_dim) const {
  if (dim() == 0) return reshape({1});
  const int s = detail::normalize_dim("flatten", start_dim, dim());
  const int e = detail::normalize_dim("flatten", end_dim, dim());
  EMBER_CHECK(s <= e, ValueError, "flatten: start_dim ", start_dim, " comes after end_dim ",
              end_dim);
  Shape out;
  for (int d = 0; d < s; ++d) out.push_back(size(d));
  int64_t merged = 1;
  for (int d = s; d <= e; ++d) merged *= size(d);
  out.push_back(merged);
  for (int d = e + 1; d < dim(); ++d) out.push_back(size(d));
  return reshape(out);
}

Tensor Tensor::permute(const Shape& dims) const {
  EMBER_CHECK(dims.size() == dim(), ShapeError, "permute: got ", dims.size(), " dims ", dims,
              " for a tensor of ", dim(), " dims");
  Shape sz, st, inverse;
  inverse.resize(dim());
  bool seen[kMaxDims] = {};
  for (int i = 0; i < dim(); ++i) {
    const int d = detail::normalize_dim("permute", static_cast<int>(dims[i]), dim());
    EMBER_CHECK(!seen[d], ValueError, "permute: dim ", d, " repeats in ", dims);
    seen[d] = true;
    sz.push_back(size(d));
    st.push_back(stride(d));
    inverse[d] = i;
  }
  Tensor out = make_view(*this, sz, st, storage_offset());
  if (autograd::needs_grad(*this))
    autograd::attach(std::make_shared<PermuteBackward>(inverse), {this}, out);
  return out;
}

Tensor Tensor::transpose(int dim0, int dim1) const {
  if (dim() == 0) return *this;
  const int a = detail::normalize_dim("transpose", dim0, dim());
  const int b = detail::normalize_dim("transpose", dim1, dim());
  Shape perm;
  for (int d = 0; d < dim(); ++d) perm.push_back(d);
  std::swap(perm[a], perm[b]);
  return permute(perm);
}

Tensor Tensor::t() const {
  EMBER_CHECK(dim() <= 2, ShapeError, "t: expects a tensor with <= 2 dims, got shape ", sizes());
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int dim_, int64_t start, int64_t end, int64_t step) const {
  const int d = detail::normalize_dim("slice", dim_, dim());
  EMBER_CHECK(dim() > 0, IndexError, "slice: cannot slice a 0-dim tensor");
  EMBER_CHECK(step > 0, ValueError, "slice: step must be positive, got ", step);
  const int64_t n = size(d);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape sz = sizes(), st = strides();
  sz[d] = end == start ? 0 : (end - start - 1) / step + 1;  // no overflow for a huge step
  st[d] = stride(d) * step;
  Tensor out = make_view(*this, sz, st, storage_offset() + start * stride(d));
  if (autograd::needs_grad(*this))
    autograd::attach(
        std::make_shared<SliceBackward>(sizes(), dtype(), device(), d, start, end, step, false),
        {this}, out);
  return out;
}

Tensor Tensor::narrow(int dim_, int64_t start, int64_t length) const {
  const int d = detail::normalize_dim("narrow", dim_, dim());
  const int64_t n = size(d);
  if (start < 0) start += n;
  EMBER_CHECK(start >= 0 && length >= 0 && start + length <= n, IndexError, "narrow: start ", start,
              " + length ", length, " exceeds dim ", d, " of size ", n);
  return slice(d, start, start + length);
}

Tensor Tensor::select(int dim_, int64_t index) const {
  EMBER_CHECK(dim() > 0, IndexError, "select: cannot index a 0-dim tensor");
  const int d = detail::normalize_dim("select", dim_, dim());
  const int64_t n = size(d);
  EMBER_CHECK(index >= -n && index < n, IndexError, "select: index ", index,
              " is out of bounds for dim ", d, " with size ", n);
  if (index < 0) index += n;
  Shape sz = sizes(), st = strides();
  sz.erase(d);
  st.erase(d);
  Tensor out = make_view(*this, sz, st, storage_offset() + index * stride(d));
  if (autograd::needs_grad(*this))
    autograd::attach(
        std::make_shared<SliceBackward>(sizes(), dtype(), device(), d, index, index + 1, 1, true),
        {this}, out);
  return out;
}

Tensor Tensor::squeeze() const {
  Shape sz, st;
  for (int d = 0; d < dim(); ++d) {
    if (size(d) != 1) {
      sz.push_back(size(d));
      st.push_back(stride(d));
    }
  }
  return record_reshape(*this, make_view(*this, sz, st, storage_offset()));
}

Tensor Tensor::squeeze(int dim_) const {
  const int d = detail::normalize_dim("squeeze", dim_, dim());
  if (dim() == 0 || size(d) != 1) return *this;
  Shape sz = sizes(), st = strides();
  sz.erase(d);
  st.erase(d);
  return record_reshape(*this, make_view(*this, sz, st, storage_offset()));
}

Tensor Tensor::unsqueeze(int dim_) const {
  const int d = detail::normalize_dim("unsqueeze", dim_, dim() + 1);
  Shape sz = sizes(), st = strides();
  const int64_t new_stride = d < dim() ? stride(d) * size(d) : 1;
  sz.insert(d, 1);
  st.insert(d, new_stride);
  return record_reshape(*this, make_view(*this, sz, st, storage_offset()));
}

Tensor Tensor::expand(const Shape& shape) const {
  EMBER_CHECK(shape.size() >= dim(), ShapeError, "expand: the target shape ", shape,
              " has fewer dims than the tensor's shape ", sizes());
  const int lead = shape.size() - dim();
  Shape sz, st;
  for (int d = 0; d < shape.size(); ++d) {
    const int src = d - lead;
    int64_t target = shape[d];
    if (src < 0) {
      EMBER_CHECK(target >= 0, ShapeError, "expand: size -1 not allowed in a new leading dim (",
                  shape, ")");
      sz.push_back(target);
      st.push_back(0);
      continue;
    }
    const int64_t have = size(src);
    if (target == -1) target = have;
    EMBER_CHECK(target >= 0, ShapeError, "expand: invalid size ", shape[d], " at dim ", d,
                " (target ", shape, ")");
    EMBER_CHECK(have == target || have == 1, ShapeError, "expand: the expanded size ", target,
                " must match the existing size ", have, " at dim ", d, " (tensor shape ", sizes(),
                ", target ", shape, ")");
    sz.push_back(target);
    st.push_back(have == target ? stride(src) : 0);
  }
  check_shape("expand", sz, element_size());
  Tensor out = make_view(*this, sz, st, storage_offset());
  if (autograd::needs_grad(*this))
    autograd::attach(std::make_shared<ExpandBackward>(sizes()), {this}, out);
  return out;
}

}  // namespace ember
