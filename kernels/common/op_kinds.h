// The elementwise and reduction operations the backends implement. One enum shared by
// kernels/cpu and kernels/cuda, so the op layer dispatches the same value to either.
#pragma once

#include <cstdint>
#include <iterator>

namespace ember::kernels {

// Note [Op lists]
// Each elementwise family is one list below, a row per op. Everything that enumerates a family
// is made from its list: the enum and the names here, the enum -> functor map and dispatch
// (unary_functors.h, binary_functors.h), which dtypes each op supports and the CPU loops'
// grain (both backends and the op layer ask the same functions), and the tests' op lists
// (kUnaryOps, kBinaryOps). So a new unary op is its row, its functor, its public function
// (core/ops/unary.cpp) and its test case.
//
// Columns of both lists:
//   Enum      the enumerator
//   name      the PyTorch name, for error messages
//   Functor   the functor of its math (kernels/common/*_functors.h)
//   cost      Cheap (a few instructions an element) or Costly (exp, log, erf, pow...): how many
//             elements a CPU thread takes per chunk
//   dtypes    unary: Float (floating types only) or Signed (also int64);
//             binary: Float (floating only), Numeric (also integers) or Compare (every dtype,
//             bool included; the result is bool)
// and of the unary list:
//   gradient  Smooth, or Zero where the derivative is 0 almost everywhere (PyTorch gives
//             zeros, as for floor)
// Parameters (a, b) of the unary ops, where used:
//   PowScalar x^a.  Clamp min(max(x, a), b); a = -inf / b = +inf disable a side, gradient 1
//   inside [a, b].  Relu max(x, 0), gradient 0 at x <= 0 (PyTorch's convention).
//   Softplus (1/a) log(1 + e^(a x)), a = beta; linear (= x) where a x > b, b = threshold.
//   LeakyRelu x > 0 ? x : a x, a = negative_slope.  Elu x > 0 ? x : a (e^x - 1), a = alpha.
//   Gelu exact x/2 (1 + erf(x / sqrt 2)) when a == 0; the tanh approximation when a == 1.
//   Round is half to even, as PyTorch; Frac is x - trunc x.
#define EMBER_UNARY_OPS(X)                                     \
  X(Neg, "neg", NegF, Cheap, Signed, Smooth)                   \
  X(Abs, "abs", AbsF, Cheap, Signed, Smooth)                   \
  X(Sign, "sign", SignF, Cheap, Signed, Zero)                  \
  X(Exp, "exp", ExpF, Costly, Float, Smooth)                   \
  X(Log, "log", LogF, Costly, Float, Smooth)                   \
  X(Log2, "log2", Log2F, Costly, Float, Smooth)                \
  X(Log10, "log10", Log10F, Costly, Float, Smooth)             \
  X(Sqrt, "sqrt", SqrtF, Costly, Float, Smooth)                \
  X(Rsqrt, "rsqrt", RsqrtF, Costly, Float, Smooth)             \
  X(Floor, "floor", FloorF, Cheap, Float, Zero)                \
  X(Ceil, "ceil", CeilF, Cheap, Float, Zero)                   \
  X(Round, "round", RoundF, Cheap, Float, Zero)                \
  X(Trunc, "trunc", TruncF, Cheap, Float, Zero)                \
  X(Frac, "frac", FracF, Cheap, Float, Smooth)                 \
  X(PowScalar, "pow", PowScalarF, Costly, Float, Smooth)       \
  X(Clamp, "clamp", ClampF, Cheap, Signed, Smooth)             \
  X(Relu, "relu", ReluF, Cheap, Float, Smooth)                 \
  X(Sigmoid, "sigmoid", SigmoidF, Costly, Float, Smooth)       \
  X(Tanh, "tanh", TanhF, Costly, Float, Smooth)                \
  X(Softplus, "softplus", SoftplusF, Costly, Float, Smooth)    \
  X(LeakyRelu, "leaky_relu", LeakyReluF, Cheap, Float, Smooth) \
  X(Elu, "elu", EluF, Costly, Float, Smooth)                   \
  X(Gelu, "gelu", GeluF, Costly, Float, Smooth)

#define EMBER_BINARY_OPS(X)                                            \
  X(Add, "add", AddF, Cheap, Numeric)                                  \
  X(Sub, "sub", SubF, Cheap, Numeric)                                  \
  X(Mul, "mul", MulF, Cheap, Numeric)                                  \
  X(Div, "div", DivF, Cheap, Float) /* true division */                \
  X(Pow, "pow", PowF, Costly, Float)                                   \
  X(Maximum, "maximum", MaximumF, Cheap, Numeric) /* NaN propagates */ \
  X(Minimum, "minimum", MinimumF, Cheap, Numeric)                      \
  X(Eq, "eq", EqF, Cheap, Compare)                                     \
  X(Ne, "ne", NeF, Cheap, Compare)                                     \
  X(Lt, "lt", LtF, Cheap, Compare)                                     \
  X(Le, "le", LeF, Cheap, Compare)                                     \
  X(Gt, "gt", GtF, Cheap, Compare)                                     \
  X(Ge, "ge", GeF, Cheap, Compare)

#define EMBER_OP_ENUMERATOR(Enum, ...) Enum,

// y = f(x) elementwise.
enum class UnaryOp : uint8_t { EMBER_UNARY_OPS(EMBER_OP_ENUMERATOR) };

struct UnaryParams {
  double a = 0;
  double b = 0;
};

// out = a op b elementwise over a broadcast iteration space.
enum class BinaryOp : uint8_t { EMBER_BINARY_OPS(EMBER_OP_ENUMERATOR) };

#undef EMBER_OP_ENUMERATOR

// Every op of each family, in enum order (the tests iterate these).
#define EMBER_UNARY_ENTRY(Enum, ...) UnaryOp::Enum,
#define EMBER_BINARY_ENTRY(Enum, ...) BinaryOp::Enum,
inline constexpr UnaryOp kUnaryOps[] = {EMBER_UNARY_OPS(EMBER_UNARY_ENTRY)};
inline constexpr BinaryOp kBinaryOps[] = {EMBER_BINARY_OPS(EMBER_BINARY_ENTRY)};
#undef EMBER_UNARY_ENTRY
#undef EMBER_BINARY_ENTRY

enum class OpCost : uint8_t { Cheap, Costly };
enum class OpDTypes : uint8_t { Float, Signed, Numeric, Compare };
enum class OpGradient : uint8_t { Smooth, Zero };

enum class ReduceOp : uint8_t { Sum, Mean, Prod, Max, Min };

// What a class-index loss kernel (cross_entropy, nll_loss) makes of its per-sample losses:
// nothing more, their sum, or their sum over the number of non-ignored targets (the mean).
enum class LossReduction : uint8_t { None, Sum, Mean };

// The rows of the lists as data, indexed by the enum (Note [Op lists]).
struct UnaryOpRow {
  const char* name;
  OpCost cost;
  OpDTypes dtypes;
  OpGradient gradient;
};
struct BinaryOpRow {
  const char* name;
  OpCost cost;
  OpDTypes dtypes;
};
#define EMBER_UNARY_ROW(Enum, name, Functor, cost, dtypes, gradient) \
  UnaryOpRow{name, OpCost::cost, OpDTypes::dtypes, OpGradient::gradient},
#define EMBER_BINARY_ROW(Enum, name, Functor, cost, dtypes) \
  BinaryOpRow{name, OpCost::cost, OpDTypes::dtypes},
inline constexpr UnaryOpRow kUnaryRows[] = {EMBER_UNARY_OPS(EMBER_UNARY_ROW)};
inline constexpr BinaryOpRow kBinaryRows[] = {EMBER_BINARY_OPS(EMBER_BINARY_ROW)};
#undef EMBER_UNARY_ROW
#undef EMBER_BINARY_ROW

// A value outside the enum (a corrupt argument) gets a row that supports nothing.
constexpr UnaryOpRow unary_row(UnaryOp op) {
  const auto i = static_cast<unsigned>(op);
  return i < std::size(kUnaryRows)
             ? kUnaryRows[i]
             : UnaryOpRow{"unary?", OpCost::Costly, OpDTypes::Float, OpGradient::Smooth};
}
constexpr BinaryOpRow binary_row(BinaryOp op) {
  const auto i = static_cast<unsigned>(op);
  return i < std::size(kBinaryRows) ? kBinaryRows[i]
                                    : BinaryOpRow{"binary?", OpCost::Costly, OpDTypes::Float};
}

// Names for error messages of both backends.
constexpr const char* unary_name(UnaryOp op) {
  return unary_row(op).name;
}
constexpr const char* binary_name(BinaryOp op) {
  return binary_row(op).name;
}

// How many elements a CPU thread takes per chunk follows the cost.
constexpr OpCost unary_cost(UnaryOp op) {
  return unary_row(op).cost;
}
constexpr OpCost binary_cost(BinaryOp op) {
  return binary_row(op).cost;
}

// Ops that also run on int64 (the rest are floating point only).
constexpr bool unary_supports_int(UnaryOp op) {
  return unary_row(op).dtypes == OpDTypes::Signed;
}

// Ops whose derivative is 0 almost everywhere.
constexpr bool unary_has_zero_gradient(UnaryOp op) {
  return unary_row(op).gradient == OpGradient::Zero;
}

// Comparisons run on every dtype, bool included, and produce bool.
constexpr bool is_comparison(BinaryOp op) {
  return binary_row(op).dtypes == OpDTypes::Compare;
}

// Div and Pow are floating point only; everything else also runs on integers. (A value outside
// the enum supports nothing.)
constexpr bool binary_supports_int(BinaryOp op) {
  return static_cast<unsigned>(op) < std::size(kBinaryRows) &&
         binary_row(op).dtypes != OpDTypes::Float;
}

// Only comparisons are defined on bool operands.
constexpr bool binary_supports_bool(BinaryOp op) {
  return is_comparison(op);
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
