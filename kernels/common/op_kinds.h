// The elementwise and reduction operations the backends implement. One enum shared by
// kernels/cpu and kernels/cuda, so the op layer dispatches the same value to either.
#pragma once

#include <cstdint>

namespace ember::kernels {

// y = f(x) elementwise. Parameters (a, b) are documented per op; unused ones are ignored.
enum class UnaryOp : uint8_t {
  Neg,        // -x                          (float, int64)
  Abs,        // |x|                         (float, int64)
  Sign,       // -1, 0, 1                    (float, int64)
  Exp,        // e^x
  Log,        // ln x
  Log2,       // log2 x
  Log10,      // log10 x
  Sqrt,       // sqrt x
  Rsqrt,      // 1 / sqrt x
  Floor,      // floor x (gradient 0)
  Ceil,       // ceil x  (gradient 0)
  Round,      // round half to even, as PyTorch (gradient 0)
  Trunc,      // trunc x (gradient 0)
  Frac,       // x - trunc x (gradient 1)
  PowScalar,  // x^a
  Clamp,      // min(max(x, a), b); a = -inf / b = +inf disable a side. Gradient 1 inside [a, b].
  Relu,       // max(x, 0); gradient 0 at x <= 0 (PyTorch's convention)
  Sigmoid,    // 1 / (1 + e^-x)
  Tanh,       // tanh x
  Softplus,   // (1/a) log(1 + e^(a x)), a = beta; linear (= x) where a x > b, b = threshold
  LeakyRelu,  // x > 0 ? x : a x, a = negative_slope
  Elu,        // x > 0 ? x : a (e^x - 1), a = alpha
  Gelu,       // exact: x/2 (1 + erf(x / sqrt 2)) when a == 0; tanh approximation when a == 1
};

struct UnaryParams {
  double a = 0;
  double b = 0;
};

// out = a op b elementwise over a broadcast iteration space.
enum class BinaryOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,      // true division (float only)
  Pow,      // a^b (float only)
  Maximum,  // elementwise max; NaN propagates
  Minimum,  // elementwise min; NaN propagates
  // Comparisons produce bool output.
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
};

constexpr bool is_comparison(BinaryOp op) {
  return op >= BinaryOp::Eq;
}

enum class ReduceOp : uint8_t { Sum, Mean, Prod, Max, Min };

// What a class-index loss kernel (cross_entropy, nll_loss) makes of its per-sample losses:
// nothing more, their sum, or their sum over the number of non-ignored targets (the mean).
enum class LossReduction : uint8_t { None, Sum, Mean };

// Names for error messages of both backends.
constexpr const char* unary_name(UnaryOp op) {
  constexpr const char* kNames[] = {"neg",   "abs",      "sign",       "exp",   "log",  "log2",
                                    "log10", "sqrt",     "rsqrt",      "floor", "ceil", "round",
                                    "trunc", "frac",     "pow",        "clamp", "relu", "sigmoid",
                                    "tanh",  "softplus", "leaky_relu", "elu",   "gelu"};
  const auto i = static_cast<unsigned>(op);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "unary?";
}

constexpr const char* binary_name(BinaryOp op) {
  constexpr const char* kNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                    "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
  const auto i = static_cast<unsigned>(op);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "binary?";
}

constexpr const char* reduce_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
      return "sum";
    case ReduceOp::Mean:
      return "mean";
    case ReduceOp::Prod:
      return "prod";
    case ReduceOp::Max:
      return "max";
    case ReduceOp::Min:
      return "min";
  }
  return "reduce?";
}

}  // namespace ember::kernels
