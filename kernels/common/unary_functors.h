// The math of every UnaryOp: forward value and derivative, one functor per op. This file is
// the single source of truth for activation math: the CPU loops (kernels/cpu/elementwise.cpp)
// and the CUDA kernels instantiate the same functors, so CPU results are the reference for
// CUDA results. Hence: EMBER_HD everywhere, no std:: math (device code cannot call it), no
// exceptions.
//
// Each functor has
//   template <class T> static T forward(T x, const UnaryParams& p);
//   template <class T> static T backward(T x, T y, T gy, const UnaryParams& p);  // gy * f'(x)
//   static constexpr bool kUsesOutput;  // backward reads y (the forward output)
// Parameters arrive as double (UnaryParams) and are narrowed to T once per element: a GPU
// must not do float32 activations in double.
#pragma once

#include <math.h>  // NOLINT: the global-namespace C functions are what CUDA device code has
#include <stdint.h>

#include <type_traits>

#include <ember/kernels/common/macros.h>
#include <ember/kernels/common/op_kinds.h>

namespace ember::kernels {

// Thin float/double overloads over the C math library. Spelling out expf/exp keeps float32
// in single precision on every compiler (plain `::exp(float)` would silently promote under
// some headers) and these names exist identically in CUDA device code.
namespace math {
#define EMBER_MATH_1(name)                      \
  EMBER_HD EMBER_INLINE float name(float x) {   \
    return ::name##f(x);                        \
  }                                             \
  EMBER_HD EMBER_INLINE double name(double x) { \
    return ::name(x);                           \
  }
EMBER_MATH_1(exp)
EMBER_MATH_1(expm1)
EMBER_MATH_1(log)
EMBER_MATH_1(log1p)
EMBER_MATH_1(log2)
EMBER_MATH_1(log10)
EMBER_MATH_1(sqrt)
EMBER_MATH_1(tanh)
EMBER_MATH_1(erf)
EMBER_MATH_1(floor)
EMBER_MATH_1(ceil)
EMBER_MATH_1(trunc)
EMBER_MATH_1(nearbyint)
EMBER_MATH_1(fabs)
EMBER_MATH_1(cos)  // Box-Muller (philox.h)
EMBER_MATH_1(sin)
#undef EMBER_MATH_1
EMBER_HD EMBER_INLINE float pow(float x, float y) {
  return ::powf(x, y);
}
EMBER_HD EMBER_INLINE double pow(double x, double y) {
  return ::pow(x, y);
}

template <class T>
EMBER_HD EMBER_INLINE bool isnan(T x) {
  return x != x;  // integers are never NaN; avoids ::isnan's macro/overload differences
}
}  // namespace math

// ---------------------------------------------------------------------------------------
// Sign family (also int64)

struct NegF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return -x;
  }
  template <class T>
  EMBER_HD static T backward(T, T, T gy, const UnaryParams&) {
    return -gy;
  }
};

struct AbsF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return x < T(0) ? -x : x;
  }
  // d|x|/dx = sign(x), 0 at 0 (PyTorch).
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams&) {
    return x > T(0) ? gy : (x < T(0) ? -gy : T(0));
  }
};

struct SignF {
  static constexpr bool kUsesOutput = false;
  // NaN propagates (NumPy's choice; the comparisons below would otherwise turn it into 0).
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return x > T(0) ? T(1) : (x < T(0) ? T(-1) : (math::isnan(x) ? x : T(0)));
  }
  template <class T>
  EMBER_HD static T backward(T, T, T, const UnaryParams&) {
    return T(0);
  }
};

// min(max(x, a), b). Loops vectorise only if both sides of a select are computed
// unconditionally (-ftrapping-math forbids speculating a conversion), so floats narrow the
// bounds first and select. Integers compare in double instead: narrowing a disabled bound
// (+-inf) to int64 would be undefined.
struct ClampF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams& p) {
    if constexpr (std::is_integral_v<T>) {
      const double v = static_cast<double>(x);
      if (v < p.a) return static_cast<T>(p.a);
      if (v > p.b) return static_cast<T>(p.b);
      return x;
    } else {
      const T lo = static_cast<T>(p.a), hi = static_cast<T>(p.b);
      const T r = x < lo ? lo : x;  // NaN fails both tests and propagates
      return r > hi ? hi : r;
    }
  }
  // Gradient 1 where a <= x <= b (both ends included, as PyTorch), else 0 (NaN too).
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams& p) {
    using C = std::conditional_t<std::is_integral_v<T>, double, T>;
    const C v = static_cast<C>(x), lo = static_cast<C>(p.a), hi = static_cast<C>(p.b);
    return (v >= lo && v <= hi) ? gy : T(0);
  }
};

// ---------------------------------------------------------------------------------------
// Exponentials and logarithms

struct ExpF {
  static constexpr bool kUsesOutput = true;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return math::exp(x);
  }
  template <class T>
  EMBER_HD static T backward(T, T y, T gy, const UnaryParams&) {
    return gy * y;
  }
};

struct LogF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return math::log(x);
  }
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams&) {
    return gy / x;
  }
};

struct Log2F {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return math::log2(x);
  }
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams&) {
    return gy / (x * T(0.69314718055994530942));  // ln 2
  }
};

struct Log10F {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return math::log10(x);
  }
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams&) {
    return gy / (x * T(2.30258509299404568402));  // ln 10
  }
};

struct SqrtF {
  static constexpr bool kUsesOutput = true;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return math::sqrt(x);
  }
  template <class T>
  EMBER_HD static T backward(T, T y, T gy, const UnaryParams&) {
    return gy / (T(2) * y);
  }
};

struct RsqrtF {
  static constexpr bool kUsesOutput = true;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return T(1) / math::sqrt(x);
  }
  // d/dx x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3
  template <class T>
  EMBER_HD static T backward(T, T y, T gy, const UnaryParams&) {
    return T(-0.5) * gy * y * y * y;
  }
};

struct PowScalarF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams& p) {
    return math::pow(x, static_cast<T>(p.a));
  }
  // a x^(a-1); exponent 0 gives exactly 0 (not 0 * inf = NaN at x = 0), as PyTorch.
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams& p) {
    const T a = static_cast<T>(p.a);
    if (a == T(0)) return T(0);
    return gy * a * math::pow(x, a - T(1));
  }
};

// ---------------------------------------------------------------------------------------
// Rounding (piecewise constant: gradient 0, except frac whose slope is 1)

#define EMBER_ROUNDING_FUNCTOR(Name, fn)                      \
  struct Name {                                               \
    static constexpr bool kUsesOutput = false;                \
    template <class T>                                        \
    EMBER_HD static T forward(T x, const UnaryParams&) {      \
      return math::fn(x);                                     \
    }                                                         \
    template <class T>                                        \
    EMBER_HD static T backward(T, T, T, const UnaryParams&) { \
      return T(0);                                            \
    }                                                         \
  };
EMBER_ROUNDING_FUNCTOR(FloorF, floor)
EMBER_ROUNDING_FUNCTOR(CeilF, ceil)
// nearbyint rounds half to even in the default rounding mode (round(2.5) = 2, as PyTorch).
EMBER_ROUNDING_FUNCTOR(RoundF, nearbyint)
EMBER_ROUNDING_FUNCTOR(TruncF, trunc)
#undef EMBER_ROUNDING_FUNCTOR

struct FracF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return x - math::trunc(x);
  }
  template <class T>
  EMBER_HD static T backward(T, T, T gy, const UnaryParams&) {
    return gy;
  }
};

// ---------------------------------------------------------------------------------------
// Activations

struct ReluF {
  static constexpr bool kUsesOutput = false;
  // NaN propagates (PyTorch), and relu(-0) is +0.
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return (x > T(0) || math::isnan(x)) ? x : T(0);
  }
  // 0 at x <= 0 (PyTorch); a NaN input passes the gradient through, as PyTorch's
  // threshold_backward does.
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams&) {
    return x <= T(0) ? T(0) : gy;
  }
};

struct SigmoidF {
  static constexpr bool kUsesOutput = true;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return T(1) / (T(1) + math::exp(-x));
  }
  template <class T>
  EMBER_HD static T backward(T, T y, T gy, const UnaryParams&) {
    return gy * y * (T(1) - y);
  }
};

struct TanhF {
  static constexpr bool kUsesOutput = true;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams&) {
    return math::tanh(x);
  }
  template <class T>
  EMBER_HD static T backward(T, T y, T gy, const UnaryParams&) {
    return gy * (T(1) - y * y);
  }
};

// a = beta, b = threshold. Linear where beta x > threshold, as PyTorch. Evaluated as
// max(bx, 0) + log1p(e^-|bx|) so a large threshold cannot overflow exp.
struct SoftplusF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams& p) {
    const T beta = static_cast<T>(p.a);
    const T bx = beta * x;
    if (bx > static_cast<T>(p.b)) return x;
    const T pos = bx > T(0) ? bx : T(0);
    return (pos + math::log1p(math::exp(-math::fabs(bx)))) / beta;
  }
  // sigmoid(beta x), written as 1 / (1 + e^-bx) so no inf / inf appears.
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams& p) {
    const T bx = static_cast<T>(p.a) * x;
    if (bx > static_cast<T>(p.b)) return gy;
    return gy / (T(1) + math::exp(-bx));
  }
};

struct LeakyReluF {
  static constexpr bool kUsesOutput = false;
  // Written as pos + a * neg (two selects against 0, one unconditional multiply) rather
  // than x > 0 ? x : a x: GCC turns the latter into a branch around the multiply, which it
  // may not if-convert under -ftrapping-math, and the loop stops vectorising. NaN still
  // propagates through neg.
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams& p) {
    const T pos = x > T(0) ? x : T(0);
    const T neg = x > T(0) ? T(0) : x;
    return pos + static_cast<T>(p.a) * neg;
  }
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams& p) {
    const T pos = x > T(0) ? gy : T(0);
    const T neg = x > T(0) ? T(0) : gy;
    return pos + static_cast<T>(p.a) * neg;
  }
};

struct EluF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams& p) {
    return x > T(0) ? x : static_cast<T>(p.a) * math::expm1(x);
  }
  // a e^x for x <= 0 (so the slope at 0 is a, as PyTorch's elu_backward).
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams& p) {
    return x > T(0) ? gy : gy * static_cast<T>(p.a) * math::exp(x);
  }
};

// a == 0: exact, x/2 (1 + erf(x / sqrt 2)). a == 1: tanh approximation
// x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
struct GeluF {
  static constexpr bool kUsesOutput = false;
  template <class T>
  EMBER_HD static T forward(T x, const UnaryParams& p) {
    if (p.a == 0) return T(0.5) * x * (T(1) + math::erf(x * T(0.70710678118654752440)));
    const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
    return T(0.5) * x * (T(1) + math::tanh(inner));
  }
  template <class T>
  EMBER_HD static T backward(T x, T, T gy, const UnaryParams& p) {
    if (p.a == 0) {
      const T cdf = T(0.5) * (T(1) + math::erf(x * T(0.70710678118654752440)));
      const T pdf = T(0.39894228040143267794) * math::exp(T(-0.5) * x * x);  // 1/sqrt(2 pi)
      return gy * (cdf + x * pdf);
    }
    const T k = T(0.79788456080286535588);  // sqrt(2 / pi)
    const T x2 = x * x;
    const T t = math::tanh(k * (x + T(0.044715) * x2 * x));
    const T dinner = k * (T(1) + T(3 * 0.044715) * x2);
    return gy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * dinner);
  }
};

// ---------------------------------------------------------------------------------------
// UnaryOp <-> functor, made from the op list (Note [Op lists] in op_kinds.h), for the
// compile-time dispatch in the backends' loops.

template <UnaryOp op>
struct UnaryFunctor;
template <class F>
struct UnaryOpOf;
#define EMBER_UNARY_MAP(Enum, name, Functor, ...)   \
  template <>                                       \
  struct UnaryFunctor<UnaryOp::Enum> {              \
    using type = Functor;                           \
  };                                                \
  template <>                                       \
  struct UnaryOpOf<Functor> {                       \
    static constexpr UnaryOp value = UnaryOp::Enum; \
  };
EMBER_UNARY_OPS(EMBER_UNARY_MAP)
#undef EMBER_UNARY_MAP

// Whether functor F's op runs on element type T: every op on floating types, the Signed ones
// on int64 too. Both backends instantiate only the pairs this allows.
template <class F, class T>
constexpr bool unary_supports() {
  return std::is_floating_point_v<T> ||
         (std::is_same_v<T, int64_t> && unary_supports_int(UnaryOpOf<F>::value));
}

// Ops whose backward reads the forward output y (the functor's kUsesOutput); the op layer may
// save only x for the rest.
constexpr bool unary_backward_uses_output(UnaryOp op) {
  switch (op) {
#define EMBER_USES_OUTPUT_CASE(Enum, name, Functor, ...) \
  case UnaryOp::Enum:                                    \
    return Functor::kUsesOutput;
    EMBER_UNARY_OPS(EMBER_USES_OUTPUT_CASE)
#undef EMBER_USES_OUTPUT_CASE
  }
  return false;
}

// Calls fn.template operator()<F>() with F the functor of `op`: the compile-time dispatch
// both backends' launchers use (host code). Returns false for a value outside the enum, so
// each backend raises its own error.
template <class Fn>
bool dispatch_unary(UnaryOp op, Fn&& fn) {
  switch (op) {
#define EMBER_CASE(Enum, name, Functor, ...) \
  case UnaryOp::Enum:                        \
    fn.template operator()<Functor>();       \
    return true;
    EMBER_UNARY_OPS(EMBER_CASE)
#undef EMBER_CASE
  }
  return false;
}

}  // namespace ember::kernels
