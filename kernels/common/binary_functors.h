// The math of every BinaryOp, one functor per op, shared by the CPU loops and the CUDA
// kernels (see unary_functors.h for why: one source of truth, EMBER_HD, no std:: math).
// Arithmetic functors return T; comparisons return bool. Forward only: the op layer builds
// binary gradients out of other ops.
#pragma once

#include <ember/kernels/common/macros.h>
#include <ember/kernels/common/op_kinds.h>
#include <ember/kernels/common/unary_functors.h>

namespace ember::kernels {

struct AddF {
  template <class T>
  EMBER_HD static T apply(T a, T b) {
    return a + b;
  }
};
struct SubF {
  template <class T>
  EMBER_HD static T apply(T a, T b) {
    return a - b;
  }
};
struct MulF {
  template <class T>
  EMBER_HD static T apply(T a, T b) {
    return a * b;
  }
};
struct DivF {
  template <class T>
  EMBER_HD static T apply(T a, T b) {
    return a / b;
  }
};
struct PowF {
  template <class T>
  EMBER_HD static T apply(T a, T b) {
    return math::pow(a, b);
  }
};
// NaN propagates from either side (PyTorch's maximum/minimum); written as selects so loops
// vectorise to compare + blend.
struct MaximumF {
  template <class T>
  EMBER_HD static T apply(T a, T b) {
    return (a > b || math::isnan(a)) ? a : b;
  }
};
struct MinimumF {
  template <class T>
  EMBER_HD static T apply(T a, T b) {
    return (a < b || math::isnan(a)) ? a : b;
  }
};

#define EMBER_COMPARISON_FUNCTOR(Name, expr) \
  struct Name {                              \
    template <class T>                       \
    EMBER_HD static bool apply(T a, T b) {   \
      return expr;                           \
    }                                        \
  };
EMBER_COMPARISON_FUNCTOR(EqF, a == b)
EMBER_COMPARISON_FUNCTOR(NeF, a != b)
EMBER_COMPARISON_FUNCTOR(LtF, a < b)
EMBER_COMPARISON_FUNCTOR(LeF, a <= b)
EMBER_COMPARISON_FUNCTOR(GtF, a > b)
EMBER_COMPARISON_FUNCTOR(GeF, a >= b)
#undef EMBER_COMPARISON_FUNCTOR

// BinaryOp -> functor, for compile-time dispatch in the backends' loops.
template <BinaryOp op>
struct BinaryFunctor;
#define EMBER_BINARY_MAP(Op, F)        \
  template <>                          \
  struct BinaryFunctor<BinaryOp::Op> { \
    using type = F;                    \
  };
EMBER_BINARY_MAP(Add, AddF)
EMBER_BINARY_MAP(Sub, SubF)
EMBER_BINARY_MAP(Mul, MulF)
EMBER_BINARY_MAP(Div, DivF)
EMBER_BINARY_MAP(Pow, PowF)
EMBER_BINARY_MAP(Maximum, MaximumF)
EMBER_BINARY_MAP(Minimum, MinimumF)
EMBER_BINARY_MAP(Eq, EqF)
EMBER_BINARY_MAP(Ne, NeF)
EMBER_BINARY_MAP(Lt, LtF)
EMBER_BINARY_MAP(Le, LeF)
EMBER_BINARY_MAP(Gt, GtF)
EMBER_BINARY_MAP(Ge, GeF)
#undef EMBER_BINARY_MAP

// Div and Pow are floating point only; everything else also runs on int64.
constexpr bool binary_supports_int(BinaryOp op) {
  return op != BinaryOp::Div && op != BinaryOp::Pow;
}

// Only comparisons are defined on bool operands.
constexpr bool binary_supports_bool(BinaryOp op) {
  return is_comparison(op);
}

// Calls fn.template operator()<F>() with F the functor of `op`: the compile-time dispatch
// both backends' launchers use (host code). Returns false for a value outside the enum, so
// each backend raises its own error.
template <class Fn>
bool dispatch_binary(BinaryOp op, Fn&& fn) {
  switch (op) {
#define EMBER_CASE(Op)                                                    \
  case BinaryOp::Op:                                                      \
    fn.template operator()<typename BinaryFunctor<BinaryOp::Op>::type>(); \
    return true;
    EMBER_CASE(Add)
    EMBER_CASE(Sub)
    EMBER_CASE(Mul)
    EMBER_CASE(Div)
    EMBER_CASE(Pow)
    EMBER_CASE(Maximum)
    EMBER_CASE(Minimum)
    EMBER_CASE(Eq)
    EMBER_CASE(Ne)
    EMBER_CASE(Lt)
    EMBER_CASE(Le)
    EMBER_CASE(Gt)
    EMBER_CASE(Ge)
#undef EMBER_CASE
  }
  return false;
}

}  // namespace ember::kernels
