// Binary elementwise ops with NumPy broadcasting and PyTorch's type promotion, their
// scalar forms, comparisons, where, and the operators.
#include <cmath>

#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

bool float_only(BinaryOp op) {
  return !kernels::binary_supports_int(op);
}

DType compute_dtype(BinaryOp op, DType a, DType b) {
  DType dt = promote_types(a, b);
  if (kernels::is_comparison(op)) return dt;
  if (float_only(op) && !is_floating(dt)) return kFloat32;
  if (dt == kBool) return kInt64;  // arithmetic on bools counts in integers
  return dt;
}

// Runs the kernel; no autograd.
Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Shape out_shape =
      a.sizes() == b.sizes()
          ? a.sizes()
          : detail::broadcast_shapes(kernels::is_comparison(op) ? "compare" : "binary op",
                                     a.sizes(), b.sizes());
  const DType dt = a.dtype();
  Tensor out = detail::make_tensor(out_shape, kernels::is_comparison(op) ? kBool : dt, a.device());
  if (out.numel() == 0) return out;
  backend_of(a).binary(op, dt, detail::broadcast_layout(a, out_shape), a.data_ptr(),
                       detail::broadcast_layout(b, out_shape), b.data_ptr(), out.data_ptr());
  return out;
}

class BinaryBackward final : public Node {
 public:
  BinaryBackward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out)
      : op_(op), a_sizes_(a.sizes()), b_sizes_(b.sizes()) {
    if (op != BinaryOp::Add && op != BinaryOp::Sub) {
      a_ = SavedTensor(a);
      b_ = SavedTensor(b);
    }
    if (op == BinaryOp::Div || op == BinaryOp::Pow) out_ = SavedTensor(out, true);
  }

  std::vector<Tensor> apply(const Tensor& g) override {
    const bool need_a = next_edges[0].valid(), need_b = next_edges[1].valid();
    Tensor ga, gb;
    switch (op_) {
      case BinaryOp::Add:
        ga = g;
        gb = g;
        break;
      case BinaryOp::Sub:
        ga = g;
        if (need_b) gb = -g;
        break;
      case BinaryOp::Mul:
        if (need_a) ga = g * b_.unpack(*this);
        if (need_b) gb = g * a_.unpack(*this);
        break;
      case BinaryOp::Div: {
        Tensor b = b_.unpack(*this);
        if (need_a) ga = g / b;
        if (need_b) gb = -g * out_.unpack(*this) / b;
        break;
      }
      case BinaryOp::Pow: {
        Tensor a = a_.unpack(*this), b = b_.unpack(*this);
        // b * a^(b-1) is 0 * inf at a = b = 0; PyTorch (and PowScalar) define it as 0.
        if (need_a) ga = g * where(eq(b, 0.0), zeros_like(b), b * pow(a, b - 1.0));
        if (need_b) {
          // d(a^b)/db = a^b ln a; defined as 0 where a == 0 (PyTorch's convention).
          Tensor la = where(eq(a, 0.0), zeros_like(a), log(a));
          gb = g * out_.unpack(*this) * la;
        }
        break;
      }
      case BinaryOp::Maximum:
      case BinaryOp::Minimum: {
        // Ties split the gradient evenly, as in PyTorch.
        Tensor a = a_.unpack(*this), b = b_.unpack(*this);
        Tensor a_wins = op_ == BinaryOp::Maximum ? gt(a, b) : lt(a, b);
        Tensor tie = eq(a, b);
        Tensor zero = zeros_like(g), half = g * 0.5;
        if (need_a) ga = where(tie, half, where(a_wins, g, zero));
        if (need_b) gb = where(tie, half, where(a_wins, zero, g));
        break;
      }
      default:
        break;
    }
    return {need_a && ga.defined() ? detail::sum_to(ga, a_sizes_) : Tensor(),
            need_b && gb.defined() ? detail::sum_to(gb, b_sizes_) : Tensor()};
  }
  std::string name() const override {
    static const char* names[] = {"AddBackward", "SubBackward",     "MulBackward",    "DivBackward",
                                  "PowBackward", "MaximumBackward", "MinimumBackward"};
    return names[static_cast<int>(op_)];
  }
  void release_saved() override {
    a_.reset();
    b_.reset();
    out_.reset();
  }

 private:
  BinaryOp op_;
  Shape a_sizes_, b_sizes_;
  SavedTensor a_, b_, out_;
};

Tensor binary_op(const char* name, BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
  detail::check_defined(name, a_in, "first operand");
  detail::check_defined(name, b_in, "second operand");
  detail::check_same_device(name, a_in, b_in);
  const DType dt = compute_dtype(op, a_in.dtype(), b_in.dtype());
  const Tensor a = a_in.dtype() == dt ? a_in : a_in.to(dt);
  const Tensor b = b_in.dtype() == dt ? b_in : b_in.to(dt);
  if (a.sizes() != b.sizes()) detail::broadcast_shapes(name, a.sizes(), b.sizes());
  Tensor out = binary_raw(op, a, b);
  if (!kernels::is_comparison(op) && autograd::needs_grad(a, b))
    autograd::attach(std::make_shared<BinaryBackward>(op, a, b, out), {&a, &b}, out);
  return out;
}

class ScalarBackward final : public Node {
 public:
  ScalarBackward(BinaryOp op, double s, bool scalar_first, const Tensor& x, const Tensor& out)
      : op_(op), s_(s), scalar_first_(scalar_first) {
    if (op == BinaryOp::Div && scalar_first) {
      x_ = SavedTensor(x);
      out_ = SavedTensor(out, true);
    }
  }
  std::vector<Tensor> apply(const Tensor& g) override {
    switch (op_) {
      case BinaryOp::Add:
        return {g};
      case BinaryOp::Sub:
        return {scalar_first_ ? -g : g};
      case BinaryOp::Mul:
        return {g * s_};
      case BinaryOp::Div:
        if (!scalar_first_) return {g * (1.0 / s_)};
        return {-g * out_.unpack(*this) / x_.unpack(*this)};  // d(s/x)/dx = -(s/x)/x
      default:
        return {Tensor()};
    }
  }
  std::string name() const override { return "ScalarOpBackward"; }
  void release_saved() override {
    x_.reset();
    out_.reset();
  }

 private:
  BinaryOp op_;
  double s_;
  bool scalar_first_;
  SavedTensor x_, out_;
};

Tensor scalar_op(const char* name, BinaryOp op, const Tensor& x_in, double s, bool scalar_first) {
  detail::check_defined(name, x_in);
  DType dt = x_in.dtype();
  // The scalar is converted to the compute dtype, so a non-integral scalar needs a float
  // computation (lt(arange(5), 2.5) compares with 2.5, not 2), comparisons included.
  const bool integral_scalar = std::nearbyint(s) == s;
  if (!is_floating(dt) && ((float_only(op) && !kernels::is_comparison(op)) || !integral_scalar))
    dt = kFloat32;
  if (dt == kBool) dt = kInt64;
  detail::check_scalar_fits(name, "scalar", s, dt);
  const Tensor x = x_in.dtype() == dt ? x_in : x_in.to(dt);
  Tensor xc = detail::contiguous_data(x);
  Tensor out = detail::make_tensor(x.sizes(), kernels::is_comparison(op) ? kBool : dt, x.device());
  if (out.numel() > 0)
    backend_of(x).binary_scalar(op, dt, xc.data_ptr(), s, scalar_first, out.data_ptr(),
                                out.numel());
  if (!kernels::is_comparison(op) && autograd::needs_grad(x))
    autograd::attach(std::make_shared<ScalarBackward>(op, s, scalar_first, xc, out), {&x}, out);
  return out;
}

class WhereBackward final : public Node {
 public:
  WhereBackward(const Tensor& cond, const Tensor& a, const Tensor& b)
      : cond_(cond), a_sizes_(a.sizes()), b_sizes_(b.sizes()) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor cond = cond_.unpack(*this);
    Tensor zero = zeros_like(g);
    Tensor ga, gb;
    if (next_edges[0].valid()) ga = detail::sum_to(where(cond, g, zero), a_sizes_);
    if (next_edges[1].valid()) gb = detail::sum_to(where(cond, zero, g), b_sizes_);
    return {ga, gb};
  }
  std::string name() const override { return "WhereBackward"; }
  void release_saved() override { cond_.reset(); }

 private:
  SavedTensor cond_;
  Shape a_sizes_, b_sizes_;
};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return binary_op("add", BinaryOp::Add, a, b);
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return binary_op("sub", BinaryOp::Sub, a, b);
}
namespace {
// alpha * b, for add/sub with alpha: PyTorch refuses a fractional alpha when neither input is
// floating (the result would silently become float).
Tensor scaled_by_alpha(const char* op, const Tensor& a, const Tensor& b, double alpha) {
  detail::check_defined(op, a);
  detail::check_defined(op, b, "other");
  EMBER_CHECK(is_floating(a.dtype()) || is_floating(b.dtype()) || std::nearbyint(alpha) == alpha,
              DTypeError, op, ": alpha ", alpha, " must be a whole number for ", a.dtype(), " and ",
              b.dtype(), " inputs");
  return alpha == 1.0 ? b : mul(b, alpha);
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  return add(a, scaled_by_alpha("add", a, b, alpha));
}
Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  return sub(a, scaled_by_alpha("sub", a, b, alpha));
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_op("mul", BinaryOp::Mul, a, b);
}
Tensor div(const Tensor& a, const Tensor& b) {
  return binary_op("div", BinaryOp::Div, a, b);
}
Tensor pow(const Tensor& a, const Tensor& e) {
  return binary_op("pow", BinaryOp::Pow, a, e);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op("maximum", BinaryOp::Maximum, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op("minimum", BinaryOp::Minimum, a, b);
}
Tensor add(const Tensor& a, double b) {
  return scalar_op("add", BinaryOp::Add, a, b, false);
}
Tensor sub(const Tensor& a, double b) {
  return scalar_op("sub", BinaryOp::Sub, a, b, false);
}
Tensor sub(double a, const Tensor& b) {
  return scalar_op("sub", BinaryOp::Sub, b, a, true);
}
Tensor mul(const Tensor& a, double b) {
  return scalar_op("mul", BinaryOp::Mul, a, b, false);
}
Tensor div(const Tensor& a, double b) {
  return scalar_op("div", BinaryOp::Div, a, b, false);
}
Tensor div(double a, const Tensor& b) {
  return scalar_op("div", BinaryOp::Div, b, a, true);
}
Tensor pow(double base, const Tensor& e) {
  EMBER_CHECK(base > 0, ValueError, "pow: a scalar base must be positive, got ", base);
  return exp(e * std::log(base));
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator+(const Tensor& a, double b) {
  return add(a, b);
}
Tensor operator+(double a, const Tensor& b) {
  return add(b, a);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator-(const Tensor& a, double b) {
  return sub(a, b);
}
Tensor operator-(double a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator*(const Tensor& a, double b) {
  return mul(a, b);
}
Tensor operator*(double a, const Tensor& b) {
  return mul(b, a);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator/(const Tensor& a, double b) {
  return div(a, b);
}
Tensor operator/(double a, const Tensor& b) {
  return div(a, b);
}
Tensor operator-(const Tensor& x) {
  return neg(x);
}

#define EMBER_COMPARISON(fn, OP)                      \
  Tensor fn(const Tensor& a, const Tensor& b) {       \
    return binary_op(#fn, BinaryOp::OP, a, b);        \
  }                                                   \
  Tensor fn(const Tensor& a, double b) {              \
    return scalar_op(#fn, BinaryOp::OP, a, b, false); \
  }
EMBER_COMPARISON(eq, Eq)
EMBER_COMPARISON(ne, Ne)
EMBER_COMPARISON(lt, Lt)
EMBER_COMPARISON(le, Le)
EMBER_COMPARISON(gt, Gt)
EMBER_COMPARISON(ge, Ge)
#undef EMBER_COMPARISON

Tensor where(const Tensor& cond, const Tensor& a_in, const Tensor& b_in) {
  detail::check_defined("where", cond, "condition");
  detail::check_dtype("where", cond, kBool, "condition");
  detail::check_same_device("where", cond, a_in);
  detail::check_same_device("where", a_in, b_in);
  const DType dt = promote_types(a_in.dtype(), b_in.dtype());
  const Tensor a = a_in.dtype() == dt ? a_in : a_in.to(dt);
  const Tensor b = b_in.dtype() == dt ? b_in : b_in.to(dt);
  const Shape shape = detail::broadcast_shapes(
      "where", cond.sizes(), detail::broadcast_shapes("where", a.sizes(), b.sizes()));
  Tensor out = detail::make_tensor(shape, dt, a.device());
  if (out.numel() > 0)
    backend_of(a).where(dt, detail::broadcast_layout(cond, shape),
                        static_cast<const bool*>(cond.data_ptr()),
                        detail::broadcast_layout(a, shape), a.data_ptr(),
                        detail::broadcast_layout(b, shape), b.data_ptr(), out.data_ptr());
  if (autograd::needs_grad(a, b))
    autograd::attach(std::make_shared<WhereBackward>(cond, a, b), {&a, &b}, out);
  return out;
}

}  // namespace ember
