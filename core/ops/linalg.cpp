// Matrix products: mm, bmm, matmul (torch.matmul's rules) and linear. All go to one GEMM
// call per product; transposed operands are passed as transpose flags, not copied.
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  detail::check_defined(op, a, "first operand");
  detail::check_defined(op, b, "second operand");
  detail::check_same_device(op, a, b);
  EMBER_CHECK(a.dtype() == b.dtype(), DTypeError, op,
              ": expected both operands to have the same dtype, got ", a.dtype(), " and ",
              b.dtype());
  detail::check_floating(op, a);
}

// (..., k) as (rows, k), all leading dims folded into the rows. Spelled out rather than
// reshape({-1, k}), which cannot infer the rows when k or a leading dim is 0.
Tensor fold_leading_dims(const Tensor& t) {
  const int64_t k = t.size(-1);
  int64_t rows = 1;
  for (int d = 0; d + 1 < t.dim(); ++d) rows *= t.size(d);
  return t.reshape({rows, k});
}

// A matrix (the last two dims) as a GEMM operand: row-major as is, or a transposed
// row-major view; anything else is copied to contiguous.
struct GemmOperand {
  Tensor t;
  bool trans = false;
  int64_t ld = 0;
};

GemmOperand as_operand(const Tensor& x) {
  const int r = x.dim() - 2, c = x.dim() - 1;
  const int64_t rows = x.size(r), cols = x.size(c);
  if (x.stride(c) == 1 && x.stride(r) >= std::max<int64_t>(cols, 1)) return {x, false, x.stride(r)};
  if (x.stride(r) == 1 && x.stride(c) >= std::max<int64_t>(rows, 1)) return {x, true, x.stride(c)};
  Tensor xc = detail::contiguous_data(x);
  return {xc, false, std::max<int64_t>(cols, 1)};
}

// out (m, n) = a (m, k) · b (k, n), no autograd.
Tensor mm_raw(const Tensor& a, const Tensor& b) {
  Tensor out = detail::make_tensor({a.size(0), b.size(1)}, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  GemmOperand A = as_operand(a), B = as_operand(b);
  backend_of(a).gemm(a.dtype(), A.trans, B.trans, a.size(0), b.size(1), a.size(1), 1.0,
                     A.t.data_ptr(), A.ld, B.t.data_ptr(), B.ld, 0.0, out.data_ptr(),
                     std::max<int64_t>(b.size(1), 1));
  return out;
}

// A 3-D batch operand. Any batch stride works (0 reuses one matrix): GEMM only reads it.
GemmOperand as_batched_operand(const Tensor& x) {
  return as_operand(x);
}

Tensor bmm_raw(const Tensor& a, const Tensor& b) {
  const int64_t batch = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
  Tensor out = detail::make_tensor({batch, m, n}, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  GemmOperand A = as_batched_operand(a), B = as_batched_operand(b);
  backend_of(a).gemm_batched(a.dtype(), A.trans, B.trans, m, n, k, 1.0, A.t.data_ptr(), A.ld,
                             A.t.stride(0), B.t.data_ptr(), B.ld, B.t.stride(0), 0.0,
                             out.data_ptr(), std::max<int64_t>(n, 1), m * n, batch);
  return out;
}

class MmBackward final : public Node {
 public:
  MmBackward(const Tensor& a, const Tensor& b, bool batched) : a_(a), b_(b), batched_(batched) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor a = a_.unpack(*this), b = b_.unpack(*this);
    Tensor ga, gb;
    if (batched_) {
      if (next_edges[0].valid()) ga = bmm_raw(g, b.transpose(1, 2));
      if (next_edges[1].valid()) gb = bmm_raw(a.transpose(1, 2), g);
    } else {
      if (next_edges[0].valid()) ga = mm_raw(g, b.t());
      if (next_edges[1].valid()) gb = mm_raw(a.t(), g);
    }
    return {ga, gb};
  }
  std::string name() const override { return batched_ ? "BmmBackward" : "MmBackward"; }
  void release_saved() override {
    a_.reset();
    b_.reset();
  }

 private:
  SavedTensor a_, b_;
  bool batched_;
};

class LinearBackward final : public Node {
 public:
  LinearBackward(const Tensor& x2d, const Tensor& w, Shape x_sizes)
      : x_(x2d), w_(w), x_sizes_(x_sizes) {}
  std::vector<Tensor> apply(const Tensor& g_in) override {
    Tensor g = fold_leading_dims(g_in);
    Tensor gx, gw, gb;
    if (next_edges[0].valid()) gx = mm_raw(g, w_.unpack(*this)).reshape(x_sizes_);
    if (next_edges[1].valid()) gw = mm_raw(g.t(), x_.unpack(*this));
    if (next_edges.size() > 2 && next_edges[2].valid()) gb = sum(g, {0});
    return {gx, gw, gb};
  }
  std::string name() const override { return "LinearBackward"; }
  void release_saved() override {
    x_.reset();
    w_.reset();
  }

 private:
  SavedTensor x_, w_;
  Shape x_sizes_;
};

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  check_pair("mm", a, b);
  EMBER_CHECK(a.dim() == 2 && b.dim() == 2, ShapeError, "mm: expected 2-D operands, got shapes ",
              a.sizes(), " and ", b.sizes());
  EMBER_CHECK(a.size(1) == b.size(0), ShapeError, "mm: shapes ", a.sizes(), " and ", b.sizes(),
              " cannot be multiplied (", a.size(0), "x", a.size(1), " and ", b.size(0), "x",
              b.size(1), ")");
  Tensor out = mm_raw(a, b);
  if (autograd::needs_grad(a, b))
    autograd::attach(std::make_shared<MmBackward>(a, b, false), {&a, &b}, out);
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_pair("bmm", a, b);
  EMBER_CHECK(a.dim() == 3 && b.dim() == 3, ShapeError, "bmm: expected 3-D operands, got shapes ",
              a.sizes(), " and ", b.sizes());
  EMBER_CHECK(a.size(0) == b.size(0) && a.size(2) == b.size(1), ShapeError, "bmm: shapes ",
              a.sizes(), " and ", b.sizes(), " cannot be multiplied (batch ", a.size(0), " vs ",
              b.size(0), ", inner ", a.size(2), " vs ", b.size(1), ")");
  Tensor out = bmm_raw(a, b);
  if (autograd::needs_grad(a, b))
    autograd::attach(std::make_shared<MmBackward>(a, b, true), {&a, &b}, out);
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_pair("matmul", a, b);
  EMBER_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError,
              "matmul: both operands need at least 1 dim, got shapes ", a.sizes(), " and ",
              b.sizes());
  const int64_t k_a = a.size(-1), k_b = b.dim() == 1 ? b.size(0) : b.size(-2);
  EMBER_CHECK(k_a == k_b, ShapeError, "matmul: shapes ", a.sizes(), " and ", b.sizes(),
              " cannot be multiplied (inner dims ", k_a, " vs ", k_b, ")");
  if (a.dim() == 1 && b.dim() == 1) return mm(a.unsqueeze(0), b.unsqueeze(1)).reshape(Shape{});
  if (a.dim() == 2 && b.dim() == 1) return mm(a, b.unsqueeze(1)).squeeze(-1);
  if (a.dim() == 1 && b.dim() == 2) return mm(a.unsqueeze(0), b).squeeze(0);
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  if (b.dim() <= 2 && a.dim() >= 3) {
    // (..., m, k) · (k, n): fold the batch into the rows, one GEMM.
    Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    Shape out_sizes = a.sizes();
    out_sizes[out_sizes.size() - 1] = b2.size(1);
    Tensor out = mm(fold_leading_dims(a), b2).reshape(out_sizes);
    return b.dim() == 1 ? out.squeeze(-1) : out;
  }
  // General case: broadcast the batch dims, then one batched GEMM.
  Tensor a3 = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor b3 = b.dim() == 1 ? b.unsqueeze(1) : b;
  Shape a_batch(a3.sizes().begin(), a3.sizes().end() - 2);
  Shape b_batch(b3.sizes().begin(), b3.sizes().end() - 2);
  Shape batch = detail::broadcast_shapes("matmul", a_batch, b_batch);
  const int64_t m = a3.size(-2), n = b3.size(-1), nb = batch.numel();
  Shape ae = batch, be = batch;
  ae.push_back(m);
  ae.push_back(k_a);
  be.push_back(k_a);
  be.push_back(n);
  Tensor out = bmm(a3.expand(ae).reshape({nb, m, k_a}), b3.expand(be).reshape({nb, k_a, n}));
  Shape out_sizes = batch;
  if (a.dim() > 1) out_sizes.push_back(m);
  if (b.dim() > 1) out_sizes.push_back(n);
  return out.reshape(out_sizes);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_pair("linear", x, weight);
  EMBER_CHECK(weight.dim() == 2, ShapeError, "linear: weight must be 2-D (out, in), got shape ",
              weight.sizes());
  EMBER_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), ShapeError, "linear: input of shape ",
              x.sizes(), " does not match weight of shape ", weight.sizes(), " (expected last dim ",
              weight.size(1), ")");
  const int64_t in = weight.size(1), out_f = weight.size(0);
  if (bias.defined()) {
    check_pair("linear", x, bias);
    EMBER_CHECK(bias.dim() == 1 && bias.size(0) == out_f, ShapeError, "linear: bias of shape ",
                bias.sizes(), " does not match weight of shape ", weight.sizes());
  }
  Tensor x2d = fold_leading_dims(detail::contiguous_data(x)).detach();
  const int64_t rows = x2d.size(0);
  Shape out_sizes = x.sizes();
  out_sizes[out_sizes.size() - 1] = out_f;
  Tensor out = detail::make_tensor({rows, out_f}, x.dtype(), x.device());
  if (out.numel() > 0) {
    Backend& be = backend_of(x);
    GemmOperand W = as_operand(weight);
    if (bias.defined()) {
      // One call: on CUDA the bias is the GEMM's epilogue; no extra pass either way.
      const Tensor b = detail::contiguous_data(bias);
      be.gemm_bias(x.dtype(), false, !W.trans, rows, out_f, in, x2d.data_ptr(),
                   std::max<int64_t>(in, 1), W.t.data_ptr(), W.ld, b.data_ptr(), out.data_ptr(),
                   out_f);
    } else {
      be.gemm(x.dtype(), false, !W.trans, rows, out_f, in, 1.0, x2d.data_ptr(),
              std::max<int64_t>(in, 1), W.t.data_ptr(), W.ld, 0.0, out.data_ptr(), out_f);
    }
  }
  out = out.reshape(out_sizes);
  if (autograd::needs_grad(x, weight, bias)) {
    auto node = std::make_shared<LinearBackward>(x2d, weight, x.sizes());
    if (bias.defined())
      autograd::attach(node, {&x, &weight, &bias}, out);
    else
      autograd::attach(node, {&x, &weight}, out);
  }
  return out;
}

}  // namespace ember
