// The math of every BinaryOp, one functor per op, shared by the CPU loops and the CUDA
// kernels (see unary_functors.h for why: one source of truth, EMBER_HD, no std:: math).
// Arithmetic functors return T; comparisons return bool. Forward only: the op layer builds
// binary gradients out of other ops.
#pragma once

#include <type_traits>

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

// BinaryOp <-> functor, made from the op list (Note [Op lists] in op_kinds.h), for the
// compile-time dispatch in the backends' loops.
template <BinaryOp op>
struct BinaryFunctor;
template <class F>
struct BinaryOpOf;
#define EMBER_BINARY_MAP(Enum, name, Functor, ...)    \
  template <>                                         \
  struct BinaryFunctor<BinaryOp::Enum> {              \
    using type = Functor;                             \
  };                                                  \
  template <>                                         \
  struct BinaryOpOf<Functor> {                        \
    static constexpr BinaryOp value = BinaryOp::Enum; \
  };
EMBER_BINARY_OPS(EMBER_BINARY_MAP)
#undef EMBER_BINARY_MAP

// Whether functor F's op runs on element type T: comparisons on every type, the other ops on
// numbers, Div and Pow on floating types only. Both backends instantiate only these pairs.
template <class F, class T>
constexpr bool binary_supports() {
  constexpr BinaryOp op = BinaryOpOf<F>::value;
  if constexpr (std::is_same_v<T, bool>) return binary_supports_bool(op);
  if constexpr (std::is_integral_v<T>) return binary_supports_int(op);
  return true;
}

// Calls fn.template operator()<F>() with F the functor of `op`: the compile-time dispatch
// both backends' launchers use (host code). Returns false for a value outside the enum, so
// each backend raises its own error.
template <class Fn>
bool dispatch_binary(BinaryOp op, Fn&& fn) {
  switch (op) {
#define EMBER_CASE(Enum, name, Functor, ...) \
  case BinaryOp::Enum:                       \
    fn.template operator()<Functor>();       \
    return true;
    EMBER_BINARY_OPS(EMBER_CASE)
#undef EMBER_CASE
  }
  return false;
}

}  // namespace ember::kernels
