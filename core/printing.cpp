// operator<< for tensors, in the format PyTorch users know:
//   tensor([[ 1.5000, -2.0000],
//           [ 3.0000,  4.0000]], requires_grad=True)
// Large tensors are summarised with "..." (first and last 3 entries per dim).
#include <cmath>
#include <iomanip>
#include <sstream>

#include <ember/core/autograd/node.h>
#include <ember/core/tensor.h>

namespace ember {
namespace {

constexpr int64_t kSummarizeThreshold = 1000;
constexpr int64_t kEdgeItems = 3;

struct Formatter {
  enum Kind { Int, Bool, IntegralFloat, Fixed, Scientific } kind = Fixed;
  int width = 1;

  std::string format(double v) const {
    std::ostringstream os;
    if (kind == Bool) return v != 0 ? "True" : "False";
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    switch (kind) {
      case Int:
        os << static_cast<int64_t>(v);
        break;
      case IntegralFloat:
        os << std::fixed << std::setprecision(0) << v << '.';
        break;
      case Fixed:
        os << std::fixed << std::setprecision(4) << v;
        break;
      case Scientific:
        os << std::scientific << std::setprecision(4) << v;
        break;
      default:
        break;
    }
    return os.str();
  }
};

Formatter make_formatter(const std::vector<double>& values, DType dt) {
  Formatter f;
  if (dt == kBool)
    f.kind = Formatter::Bool;
  else if (dt == kInt64)
    f.kind = Formatter::Int;
  else {
    bool integral = true;
    double max_abs = 0, min_abs = INFINITY;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      integral &= std::nearbyint(v) == v;
      max_abs = std::max(max_abs, std::fabs(v));
      if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
    }
    if (max_abs >= 1e8 || (min_abs < 1e-4 && !integral) || (max_abs / min_abs > 1e5 && !integral))
      f.kind = Formatter::Scientific;
    else if (integral)
      f.kind = Formatter::IntegralFloat;
    else
      f.kind = Formatter::Fixed;
  }
  for (double v : values) f.width = std::max<int>(f.width, static_cast<int>(f.format(v).size()));
  return f;
}

void print_rec(std::ostream& os, const Tensor& t, const Formatter& f, int indent, bool summarize) {
  if (t.dim() == 0) {
    os << std::setw(f.width) << f.format(t.item<double>());
    return;
  }
  const int64_t n = t.size(0);
  const bool cut = summarize && n > 2 * kEdgeItems;
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == kEdgeItems) {
      os << (t.dim() == 1 ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - kEdgeItems;
    }
    print_rec(os, t.select(0, i), f, indent + 1, summarize);
    if (i + 1 < n) {
      if (t.dim() == 1)
        os << ", ";
      else
        os << ',' << std::string(t.dim() - 1, '\n') << std::string(indent + 1, ' ');
    }
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t_in) {
  if (!t_in.defined()) return os << "tensor(undefined)";
  Tensor t = t_in.detach().to(kCPU);
  const bool summarize = t.numel() > kSummarizeThreshold;
  std::vector<double> values = t.to(kFloat64).to_vector<double>();
  Formatter f = make_formatter(values, t.dtype());
  os << "tensor(";
  if (t.numel() == 0) {
    os << "[]";
    if (t.dim() != 1) os << ", size=" << t.sizes();
  } else {
    print_rec(os, t, f, 7, summarize);
  }
  if (t.dtype() != kFloat32 && t.dtype() != kInt64 && t.dtype() != kBool)
    os << ", dtype=" << t.dtype();
  if (t_in.device().is_cuda()) os << ", device='" << t_in.device() << "'";
  if (t_in.grad_fn())
    os << ", grad_fn=<" << t_in.grad_fn()->name() << '>';
  else if (t_in.requires_grad())
    os << ", requires_grad=True";
  return os << ')';
}

}  // namespace ember
