// The operations of the PyTorch tutorials, the losses, linear, scatter_add, dropout,
// conversions and the fused optimizer steps, as data: the op harness's table
// (tests/op_harness.h). Each case is one op in one form on small hand-chosen inputs with a
// hand-computed result. What runs them:
//   tests/integration/op_harness_test.cpp  on every device: the value in float32 and float64
//                                against `expected`, gradcheck in float64 for the cases with
//                                `grad`, and on CUDA value and gradients against the CPU;
//   ember-bench --ops            the time per call of every case on every device;
//   tutorial_ops_readme_test.cpp the README's "## Operations" table against coverage() below,
//                                so the table cannot claim what these cases do not check.
// Inputs are CPU tensors; a case's fn must make any tensor of its own on its inputs' device.
// Inputs avoid kinks (ties, zeros of |x|) in the gradient cases unless the case is about
// them (maximum's even split at a tie, prod with zeros).
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace ember::testing::tutorial {

using In = std::vector<Tensor>;
using Inputs = std::function<In(DType)>;

struct OpCase {
  std::string op;    // the function's name, as in the README table
  std::string form;  // which overload or property this case checks
  Inputs inputs;     // fresh CPU inputs; the floating ones in the given dtype
  std::function<Tensor(const In&)> fn;
  Shape shape;                   // expected output shape
  std::vector<double> expected;  // hand-computed, row-major (bool/int outputs as 0/1/ints)
  bool grad = true;              // gradcheck it (PyTorch defines a gradient here)
  double tol = 1e-5;             // relative to max(1, |expected|)
};

inline Tensor v(std::vector<double> values, Shape shape, DType dt) {
  return from_vector<double>(values, shape).to(dt);
}
inline Tensor iv(std::vector<int64_t> values, Shape shape) {
  return from_vector<int64_t>(values, shape);
}
inline Tensor bv(std::vector<int64_t> values, Shape shape) {
  return from_vector<int64_t>(values, shape).to(kBool);
}
// Inputs: one 1-D tensor of `values`.
inline Inputs in1(std::vector<double> values) {
  return [values](DType d) { return In{v(values, {static_cast<int64_t>(values.size())}, d)}; };
}
// Inputs: tensors of the given values and shapes.
inline Inputs in(std::vector<std::pair<std::vector<double>, Shape>> tensors) {
  return [tensors](DType d) {
    In out;
    for (const auto& [values, shape] : tensors) out.push_back(v(values, shape, d));
    return out;
  };
}

// Inputs: a floating tensor, an int64 index and a floating source (scatter_add).
inline Inputs with_index(std::vector<double> x, Shape xs, std::vector<int64_t> index, Shape is,
                         std::vector<double> src) {
  return [=](DType d) { return In{v(x, xs, d), iv(index, is), v(src, is, d)}; };
}
// Inputs: (n, c) scores and n int64 class targets (the losses).
inline Inputs with_targets(std::vector<double> scores, Shape shape, std::vector<int64_t> targets) {
  return [=](DType d) {
    return In{v(scores, shape, d), iv(targets, {static_cast<int64_t>(targets.size())})};
  };
}
// One fused optimizer step of lr 0.1 on a copy of x[0] with gradient x[1]; returns the copy.
inline Tensor sgd_once(const In& x, double momentum, double weight_decay, bool nesterov) {
  NoGradGuard no_grad;
  Tensor p = x[0].clone();
  Tensor buf = zeros_like(p);
  fused::sgd_step_(p, x[1], momentum != 0 ? &buf : nullptr, 0.1, momentum, 0.0, weight_decay,
                   nesterov, /*first_step=*/true);
  return p;
}
inline Tensor adam_once(const In& x, double weight_decay, bool decoupled) {
  NoGradGuard no_grad;
  Tensor p = x[0].clone();
  Tensor m = zeros_like(p), v2 = zeros_like(p);
  fused::adam_step_(p, x[1], m, v2, nullptr, 0.1, 0.9, 0.999, 1e-8, weight_decay, decoupled,
                    /*step=*/1);
  return p;
}

// Ops (by name) whose CUDA parity is not checked yet; the README shows them as CPU only.
inline const std::set<std::string>& no_cuda_parity() {
  static const std::set<std::string> ops = {};
  return ops;
}

inline const std::vector<OpCase>& cases() {
  const double ln2 = std::log(2.0), ln3 = std::log(3.0), ln4 = std::log(4.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> a6 = {1, 2, 3, 4, 5, 6};  // A = [[1, 2, 3], [4, 5, 6]]
  const Inputs A = in({{a6, {2, 3}}});
  const Inputs A_row = in({{a6, {2, 3}}, {{10, 20, 30}, {3}}});  // A and a broadcast row
  const Inputs M = in({{{1, 5, 2, 7, 3, 0}, {2, 3}}});           // for max / min / arg*
  const Inputs T = in({{{1, 5, 3, 4, 8, 2, 7, 6}, {2, 4}}});     // for topk / kthvalue
  const Inputs P = in({{{1, 2, 3}, {3}}, {{3, 2, 1}, {3}}});     // for comparisons
  const Inputs C = in1({-2, -0.5, 0.5, 2});                      // for clamp
  const Inputs S = in({{{3, 1, 2, 9, 7, 8}, {2, 3}}});           // for sort
  using X = const In&;
  // clang-format off
  static const std::vector<OpCase> kCases = {
    // ---- combine and split (pieces are scaled by 1, 2, 3 to show where each element went)
    {"cat", "dim 0", in({{{1, 2, 3, 4}, {2, 2}}, {{5, 6}, {1, 2}}}),
     [](X x) { return cat({x[0], x[1]}, 0); }, {3, 2}, {1, 2, 3, 4, 5, 6}},
    {"cat", "dim -1", in({{{1, 2, 3, 4}, {2, 2}}, {{7, 8}, {2, 1}}}),
     [](X x) { return cat({x[0], x[1]}, -1); }, {2, 3}, {1, 2, 7, 3, 4, 8}},
    {"stack", "dim 0", in({{{1, 2}, {2}}, {{3, 4}, {2}}}),
     [](X x) { return stack({x[0], x[1]}); }, {2, 2}, {1, 2, 3, 4}},
    {"stack", "dim 1", in({{{1, 2}, {2}}, {{3, 4}, {2}}}),
     [](X x) { return stack({x[0], x[1]}, 1); }, {2, 2}, {1, 3, 2, 4}},
    {"split", "split_size 2", in1({1, 2, 3, 4, 5}),
     [](X x) { auto p = split(x[0], 2); return cat({p[0], p[1] * 2.0, p[2] * 3.0}); },
     {5}, {1, 2, 6, 8, 15}},
    {"split", "sizes {1, 2} on dim 1", A,
     [](X x) {
       auto p = split(x[0], std::vector<int64_t>{1, 2}, 1);
       return cat({p[0].flatten(), p[1].flatten() * 2.0});
     }, {6}, {1, 4, 4, 6, 10, 12}},
    {"chunk", "2 chunks on dim 1", A,
     [](X x) { auto p = chunk(x[0], 2, 1); return cat({p[0].flatten(), p[1].flatten() * 2.0}); },
     {6}, {1, 2, 4, 5, 6, 12}},
    {"unbind", "dim 1", A,
     [](X x) { auto p = unbind(x[0], 1); return cat({p[0], p[1] * 2.0, p[2] * 3.0}); },
     {6}, {1, 4, 4, 10, 9, 18}},
    // ---- math
    {"matmul", "4-D x 3-D, batch dims broadcast",
     in({{{1, 2, 3, 4}, {2, 1, 1, 2}}, {{1, 0, 0, 1}, {2, 2, 1}}}),
     [](X x) { return matmul(x[0], x[1]); }, {2, 2, 1, 1}, {1, 2, 3, 4}},
    {"matmul", "1-D . 1-D", in({{{1, 2, 3}, {3}}, {{4, 5, 6}, {3}}}),
     [](X x) { return matmul(x[0], x[1]); }, {}, {32}},
    {"matmul", "2-D x 1-D", in({{{1, 2, 3, 4}, {2, 2}}, {{1, 1}, {2}}}),
     [](X x) { return x[0].matmul(x[1]); }, {2}, {3, 7}},
    {"mm", "2x2", in({{{1, 2, 3, 4}, {2, 2}}, {{5, 6, 7, 8}, {2, 2}}}),
     [](X x) { return mm(x[0], x[1]); }, {2, 2}, {19, 22, 43, 50}},
    {"bmm", "batch 2", in({{{1, 2, 3, 4}, {2, 1, 2}}, {{5, 6, 7, 8}, {2, 2, 1}}}),
     [](X x) { return bmm(x[0], x[1]); }, {2, 1, 1}, {17, 53}},
    {"add", "a + row", A_row, [](X x) { return x[0] + x[1]; }, {2, 3}, {11, 22, 33, 14, 25, 36}},
    {"add", "add(a, 0.5)", A, [](X x) { return add(x[0], 0.5); }, {2, 3},
     {1.5, 2.5, 3.5, 4.5, 5.5, 6.5}},
    {"sub", "sub(a, row)", A_row, [](X x) { return sub(x[0], x[1]); }, {2, 3},
     {-9, -18, -27, -6, -15, -24}},
    {"sub", "1 - a", A, [](X x) { return 1.0 - x[0]; }, {2, 3}, {0, -1, -2, -3, -4, -5}},
    {"add", "add(a, row, alpha 2)", A_row, [](X x) { return add(x[0], x[1], 2.0); }, {2, 3},
     {21, 42, 63, 24, 45, 66}},
    {"sub", "a.sub(row, alpha 0.5)", A_row, [](X x) { return x[0].sub(x[1], 0.5); }, {2, 3},
     {-4, -8, -12, -1, -5, -9}},
    {"mul", "mul(a, row)", A_row, [](X x) { return mul(x[0], x[1]); }, {2, 3},
     {10, 40, 90, 40, 100, 180}},
    {"mul", "a * 2", A, [](X x) { return x[0] * 2.0; }, {2, 3}, {2, 4, 6, 8, 10, 12}},
    {"div", "div(a, row)", A_row, [](X x) { return div(x[0], x[1]); }, {2, 3},
     {0.1, 0.1, 0.1, 0.4, 0.25, 0.2}},
    {"div", "6 / a", A, [](X x) { return 6.0 / x[0]; }, {2, 3}, {6, 3, 2, 1.5, 1.2, 1}},
    {"pow", "tensor ^ scalar", in1({1, 2, 3}), [](X x) { return pow(x[0], 2.0); }, {3},
     {1, 4, 9}},
    {"pow", "tensor ^ tensor", in({{{1, 2, 3}, {3}}, {{2, 0.5, 3}, {3}}}),
     [](X x) { return x[0].pow(x[1]); }, {3}, {1, std::sqrt(2.0), 27}},
    {"pow", "scalar ^ tensor", in1({1, 2, 3}), [](X x) { return pow(2.0, x[0]); }, {3},
     {2, 4, 8}},
    {"exp", "", in1({0, 1, -1}), [](X x) { return exp(x[0]); }, {3},
     {1, 2.718281828459045, 0.36787944117144233}},
    {"log", "", in1({1, 2, 0.5}), [](X x) { return log(x[0]); }, {3},
     {0, 0.6931471805599453, -0.6931471805599453}},
    {"log2", "", in1({1, 8, 0.25}), [](X x) { return log2(x[0]); }, {3}, {0, 3, -2}},
    {"log10", "", in1({1, 100, 0.001}), [](X x) { return log10(x[0]); }, {3}, {0, 2, -3}},
    {"sqrt", "", in1({4, 9, 0.25}), [](X x) { return sqrt(x[0]); }, {3}, {2, 3, 0.5}},
    {"rsqrt", "", in1({4, 0.25, 16}), [](X x) { return rsqrt(x[0]); }, {3}, {0.5, 2, 0.25}},
    // sign, floor, ceil, round, trunc: zero gradient (PyTorch's), checked away from the jumps.
    {"sign", "with 0", in1({-2.5, 0, 3}), [](X x) { return sign(x[0]); }, {3}, {-1, 0, 1},
     false},
    {"sign", "zero gradient", in1({-2.5, -0.3, 0.7}), [](X x) { return sign(x[0]); }, {3},
     {-1, -1, 1}},
    {"floor", "", in1({-1.5, 0.3, 2.7}), [](X x) { return floor(x[0]); }, {3}, {-2, 0, 2}},
    {"ceil", "", in1({-1.5, 0.3, 2.7}), [](X x) { return ceil(x[0]); }, {3}, {-1, 1, 3}},
    {"round", "half to even", in1({-1.5, 0.5, 2.5, 2.7}), [](X x) { return round(x[0]); },
     {4}, {-2, 0, 2, 3}, false},
    {"round", "zero gradient", in1({-1.3, 0.2, 2.7}), [](X x) { return round(x[0]); }, {3},
     {-1, 0, 3}},
    {"trunc", "", in1({-1.7, 0.3, 2.7}), [](X x) { return trunc(x[0]); }, {3}, {-1, 0, 2}},
    {"frac", "", in1({-1.75, 0.25, 2.5}), [](X x) { return frac(x[0]); }, {3},
     {-0.75, 0.25, 0.5}},
    {"clamp", "min only", C, [](X x) { return clamp(x[0], -1.0, std::nullopt); }, {4},
     {-1, -0.5, 0.5, 2}},
    {"clamp", "max only", C, [](X x) { return clamp(x[0], std::nullopt, 1.0); }, {4},
     {-2, -0.5, 0.5, 1}},
    {"clamp", "min and max", C, [](X x) { return x[0].clamp(-1.0, 1.0); }, {4},
     {-1, -0.5, 0.5, 1}},
    // At the tie (-2, -2) the gradient splits evenly, which the central difference sees too.
    {"maximum", "with a tie", in({{{1, 5, -2}, {3}}, {{3, 2, -2}, {3}}}),
     [](X x) { return maximum(x[0], x[1]); }, {3}, {3, 5, -2}},
    {"minimum", "with a tie", in({{{1, 5, -2}, {3}}, {{3, 2, -2}, {3}}}),
     [](X x) { return minimum(x[0], x[1]); }, {3}, {1, 2, -2}},
    // ---- statistics
    {"norm", "p = 2", in1({3, -4}), [](X x) { return norm(x[0]); }, {}, {5}},
    {"norm", "p = 1", in1({3, -4}), [](X x) { return norm(x[0], 1); }, {}, {7}},
    {"norm", "p = inf", in1({3, -4}), [inf](X x) { return norm(x[0], inf); }, {}, {4}},
    {"norm", "p = -inf", in1({3, -4}), [inf](X x) { return norm(x[0], -inf); }, {}, {3}},
    {"norm", "p = 3", in1({3, -4}), [](X x) { return x[0].norm(3); }, {}, {4.497941445275415}},
    {"norm", "p = 0.5", in1({3, -4}), [](X x) { return norm(x[0], 0.5); }, {},
     {13.928203230275509}},  // (sqrt 3 + sqrt 4)^2
    {"norm", "p = 0 counts nonzeros", in1({3, 0, -4}), [](X x) { return norm(x[0], 0); }, {},
     {2}},
    {"norm", "dim 1, keepdim", in({{{3, -4, 0.6, 0.8}, {2, 2}}}),
     [](X x) { return norm(x[0], 2, {1}, true); }, {2, 1}, {5, 1}},
    {"prod", "all", in1({2, 3, 4}), [](X x) { return prod(x[0]); }, {}, {24}},
    {"prod", "dim 1", A, [](X x) { return x[0].prod(1); }, {2}, {6, 120}},
    {"prod", "one zero", in1({2, 0, 4}), [](X x) { return prod(x[0]); }, {}, {0}},
    {"prod", "two zeros", in1({0, 3, 0}), [](X x) { return prod(x[0]); }, {}, {0}},
    {"prod", "dim 1 with zeros", in({{{1, 0, 3, 0, 0, 2, 2, 3, 4}, {3, 3}}}),
     [](X x) { return prod(x[0], 1, true); }, {3, 1}, {0, 0, 24}},
    {"sum", "all", A, [](X x) { return sum(x[0]); }, {}, {21}},
    {"sum", "dim 1", A, [](X x) { return sum(x[0], {1}); }, {2}, {6, 15}},
    {"mean", "all", A, [](X x) { return mean(x[0]); }, {}, {3.5}},
    {"mean", "dim 0", A, [](X x) { return x[0].mean({0}); }, {3}, {2.5, 3.5, 4.5}},
    {"max", "all", M, [](X x) { return max(x[0]); }, {}, {7}},
    {"max", "dim 1 values", M, [](X x) { return std::get<0>(max(x[0], 1)); }, {2}, {5, 7}},
    {"max", "dim 1 indices", M, [](X x) { return std::get<1>(max(x[0], 1)); }, {2}, {1, 0},
     false},
    {"min", "all", M, [](X x) { return min(x[0]); }, {}, {0}},
    {"min", "dim 1 keepdim values", M, [](X x) { return std::get<0>(min(x[0], 1, true)); },
     {2, 1}, {1, 0}},
    {"min", "dim 1 indices", M, [](X x) { return std::get<1>(min(x[0], 1)); }, {2}, {0, 2},
     false},
    {"argmax", "all", M, [](X x) { return argmax(x[0]); }, {}, {3}, false},
    {"argmax", "dim 0", M, [](X x) { return argmax(x[0], 0); }, {3}, {1, 0, 0}, false},
    {"argmin", "all", M, [](X x) { return argmin(x[0]); }, {}, {5}, false},
    {"argmin", "dim 1", M, [](X x) { return x[0].argmin(1); }, {2}, {0, 2}, false},
    {"topk", "k 2 values", T, [](X x) { return std::get<0>(topk(x[0], 2)); }, {2, 2},
     {5, 4, 8, 7}},
    {"topk", "k 2 indices", T, [](X x) { return std::get<1>(topk(x[0], 2)); }, {2, 2},
     {1, 3, 0, 2}, false},
    {"topk", "smallest, dim 0", T,
     [](X x) { return std::get<0>(x[0].topk(1, 0, /*largest=*/false)); }, {1, 4},
     {1, 2, 3, 4}},
    {"kthvalue", "k 2 values", T, [](X x) { return std::get<0>(kthvalue(x[0], 2)); }, {2},
     {3, 6}},
    {"kthvalue", "k 2 indices keepdim", T,
     [](X x) { return std::get<1>(x[0].kthvalue(2, 1, true)); }, {2, 1}, {2, 3}, false},
    {"var", "all, unbiased", in1({1, 2, 3, 4}), [](X x) { return var(x[0]); }, {}, {5.0 / 3}},
    {"var", "all, correction 0", in1({1, 2, 3, 4}), [](X x) { return var(x[0], {}, 0); }, {},
     {1.25}},
    {"var", "dim 1", in({{{1, 2, 3, 2, 4, 6}, {2, 3}}}), [](X x) { return x[0].var({1}); },
     {2}, {1, 4}},
    {"std", "all, unbiased", in1({1, 2, 3, 4}), [](X x) { return ember::std(x[0]); }, {},
     {1.2909944487358056}},  // sqrt(5 / 3)
    {"std", "all, unbiased = false", in1({1, 2, 3, 4}),
     [](X x) { return ember::std(x[0], {}, false); }, {}, {1.118033988749895}},  // sqrt 1.25
    {"std", "dim 1 keepdim", in({{{1, 2, 3, 2, 4, 6}, {2, 3}}}),
     [](X x) { return x[0].std({1}, 1, true); }, {2, 1}, {1, 2}},
    // ---- compare and select
    {"eq", "tensor", P, [](X x) { return eq(x[0], x[1]); }, {3}, {0, 1, 0}, false},
    {"eq", "scalar", P, [](X x) { return eq(x[0], 2.0); }, {3}, {0, 1, 0}, false},
    {"ne", "tensor", P, [](X x) { return ne(x[0], x[1]); }, {3}, {1, 0, 1}, false},
    {"ne", "scalar", P, [](X x) { return ne(x[0], 2.0); }, {3}, {1, 0, 1}, false},
    {"lt", "tensor", P, [](X x) { return lt(x[0], x[1]); }, {3}, {1, 0, 0}, false},
    {"lt", "scalar", P, [](X x) { return lt(x[0], 2.0); }, {3}, {1, 0, 0}, false},
    {"le", "tensor", P, [](X x) { return le(x[0], x[1]); }, {3}, {1, 1, 0}, false},
    {"le", "scalar", P, [](X x) { return le(x[0], 2.0); }, {3}, {1, 1, 0}, false},
    {"gt", "tensor", P, [](X x) { return gt(x[0], x[1]); }, {3}, {0, 0, 1}, false},
    {"gt", "scalar", P, [](X x) { return gt(x[0], 2.0); }, {3}, {0, 0, 1}, false},
    {"ge", "tensor", P, [](X x) { return ge(x[0], x[1]); }, {3}, {0, 1, 1}, false},
    {"ge", "scalar", P, [](X x) { return ge(x[0], 2.0); }, {3}, {0, 1, 1}, false},
    {"all", "all", in({{{1, 0, 2, 3, 4, 5}, {2, 3}}}), [](X x) { return all(x[0]); }, {}, {0},
     false},
    {"all", "dim 1, NaN is nonzero", in({{{1, 0, 2, 3, nan, 5}, {2, 3}}}),
     [](X x) { return x[0].all(1); }, {2}, {0, 1}, false},
    {"any", "all", in({{{0, 0, 1, 0, 0, 0}, {2, 3}}}), [](X x) { return any(x[0]); }, {}, {1},
     false},
    {"any", "dim 1 keepdim", in({{{0, 0, 1, 0, 0, 0}, {2, 3}}}),
     [](X x) { return any(x[0], 1, true); }, {2, 1}, {1, 0}, false},
    {"where", "cond, a, b",
     [](DType d) { return In{bv({1, 0, 1}, {3}), v({1, 2, 3}, {3}, d), v({10, 20, 30}, {3}, d)}; },
     [](X x) { return where(x[0], x[1], x[2]); }, {3}, {1, 20, 3}},
    {"masked_fill", "same-shape mask",
     [](DType d) { return In{v({1, 2, 3, 4}, {2, 2}, d), bv({1, 0, 0, 1}, {2, 2})}; },
     [](X x) { return masked_fill(x[0], x[1], -1); }, {2, 2}, {-1, 2, 3, -1}},
    {"masked_fill", "broadcast mask",
     [](DType d) { return In{v({1, 2, 3, 4}, {2, 2}, d), bv({1, 0}, {2})}; },
     [](X x) { return x[0].masked_fill(x[1], 9); }, {2, 2}, {9, 2, 9, 4}},
    {"gather", "dim 1", [A](DType d) { return In{A(d)[0], iv({2, 0, 1, 1}, {2, 2})}; },
     [](X x) { return gather(x[0], 1, x[1]); }, {2, 2}, {3, 1, 5, 5}},
    {"gather", "dim 0", [A](DType d) { return In{A(d)[0], iv({1, 0, 1}, {1, 3})}; },
     [](X x) { return x[0].gather(0, x[1]); }, {1, 3}, {4, 2, 6}},
    {"index_select", "dim 1 with a repeat",
     [A](DType d) { return In{A(d)[0], iv({2, 0, 2}, {3})}; },
     [](X x) { return index_select(x[0], 1, x[1]); }, {2, 3}, {3, 1, 3, 6, 4, 6}},
    {"index_select", "dim 0", [A](DType d) { return In{A(d)[0], iv({1}, {1})}; },
     [](X x) { return x[0].index_select(0, x[1]); }, {1, 3}, {4, 5, 6}},
    {"sort", "values", S, [](X x) { return std::get<0>(sort(x[0])); }, {2, 3},
     {1, 2, 3, 7, 8, 9}},
    {"sort", "indices", S, [](X x) { return std::get<1>(sort(x[0])); }, {2, 3},
     {1, 2, 0, 1, 2, 0}, false},
    {"sort", "descending dim 0 values", in({{{1, 4, 3, 2}, {2, 2}}}),
     [](X x) { return std::get<0>(x[0].sort(0, true)); }, {2, 2}, {3, 4, 1, 2}},
    {"sort", "stable ties, indices", in1({2, 1, 2, 1}),
     [](X x) { return std::get<1>(sort(x[0], 0, false, true)); }, {4}, {1, 3, 0, 2}, false},
    {"sort", "stable ties descending, indices", in1({2, 1, 2, 1}),
     [](X x) { return std::get<1>(sort(x[0], 0, true, true)); }, {4}, {0, 2, 1, 3}, false},
    {"sort", "NaN last", in1({nan, 1, -inf}), [](X x) { return std::get<0>(sort(x[0])); }, {3},
     {-inf, 1, nan}, false},
    {"argsort", "ascending", in1({3, 1, 2}), [](X x) { return argsort(x[0]); }, {3},
     {1, 2, 0}, false},
    {"argsort", "descending", in1({3, 1, 2}), [](X x) { return x[0].argsort(-1, true); }, {3},
     {0, 2, 1}, false},
    // ---- activations and probabilities
    {"softmax", "dim 1", in({{{0, ln2, ln4}, {1, 3}}}), [](X x) { return softmax(x[0], 1); },
     {1, 3}, {1.0 / 7, 2.0 / 7, 4.0 / 7}},
    {"log_softmax", "dim -1", in({{{0, ln2, ln4}, {1, 3}}}),
     [](X x) { return log_softmax(x[0], -1); }, {1, 3},
     {-1.9459101090932196, -1.252762968495368, -0.5596157879354227}},  // ln(k / 7)
    {"sigmoid", "", in1({0, ln3, -ln3}), [](X x) { return sigmoid(x[0]); }, {3},
     {0.5, 0.75, 0.25}},
    // tanh(ln 3 / 2) = (3 - 1) / (3 + 1).
    {"tanh", "", in1({0, ln3 / 2, -ln3 / 2}), [](X x) { return tanh(x[0]); }, {3},
     {0, 0.5, -0.5}},
    {"tanh", "= 2 sigmoid(2x) - 1", in1({-6, -3, -1, -0.5, 0, 0.3, 1, 2.5, 6}),
     [](X x) { return tanh(x[0]) - (2.0 * sigmoid(2.0 * x[0]) - 1.0); }, {9},
     {0, 0, 0, 0, 0, 0, 0, 0, 0}, true, 1e-6},
    {"relu", "", in1({-1, 0.5, 2}), [](X x) { return relu(x[0]); }, {3}, {0, 0.5, 2}},
    // softplus(ln 3) = ln 4; above the threshold (20) it is the identity.
    {"softplus", "", in1({0, ln3, -ln3, 30}), [](X x) { return softplus(x[0]); }, {4},
     {ln2, ln4, std::log(4.0 / 3), 30}},
    {"softplus", "beta 2", in1({ln3 / 2}), [](X x) { return softplus(x[0], 2.0); }, {1},
     {ln2}},
    {"leaky_relu", "slope 0.1", in1({-2, 3}), [](X x) { return leaky_relu(x[0], 0.1); }, {2},
     {-0.2, 3}},
    {"elu", "alpha 1", in1({-ln2, 1}), [](X x) { return elu(x[0]); }, {2}, {-0.5, 1}},
    {"elu", "alpha 2", in1({-ln2, 1}), [](X x) { return elu(x[0], 2.0); }, {2}, {-1, 1}},
    // Phi(1) = 0.8413..., the standard normal CDF; the tanh form: 0.5 (1 + tanh(0.79788 ...)).
    {"gelu", "exact", in1({-1, 0, 1}), [](X x) { return gelu(x[0]); }, {3},
     {-0.15865525393145707, 0, 0.8413447460685429}},
    {"gelu", "tanh", in1({-1, 0, 1}), [](X x) { return gelu(x[0], "tanh"); }, {3},
     {-0.15880800939172324, 0, 0.8411919906082768}},
    {"dropout", "eval mode is the identity", in1({1, -2, 3}),
     [](X x) { return dropout(x[0], 0.5, /*training=*/false); }, {3}, {1, -2, 3}},
    {"dropout", "p = 1 drops everything", in1({1, -2, 3}),
     [](X x) { return dropout(x[0], 1.0); }, {3}, {0, 0, 0}},
    // Each output is 0 or x / (1 - p) = 4x, so out (out - 4x) is 0 whichever the seed keeps;
    // its gradient is 0 only if dropout's backward reuses the mask and the scale.
    {"dropout", "kept elements scale by 1/(1-p)", in1({1, -2, 3, 0.5, 4, -1, 2, 7}),
     [](X x) {
       Generator gen(7);
       Tensor out = dropout(x[0], 0.75, true, &gen);
       return out * (out - 4.0 * x[0]);
     }, {8}, {0, 0, 0, 0, 0, 0, 0, 0}},
    // The seeded mask is the documented rule: element i is kept when the float32 uniform draw
    // (seed, offset, i) -- rand() with the same seed -- is >= p. So dropout minus that rule's
    // output is 0 on every device, and so is its gradient only if dropout's backward applies
    // that same mask and scale.
    {"dropout", "seeded mask = rand(seed) >= p", in1({1, -2, 3, 0.5, 4, -1, 2, 7, -3, 5}),
     [](X x) {
       Generator g1(11), g2(11);
       const Tensor u = rand(x[0].sizes(), TensorOptions().device(x[0].device()), &g2);
       return dropout(x[0], 0.5, true, &g1) - where(ge(u, 0.5), x[0] * 2.0, zeros_like(x[0]));
     }, {10}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    // linear: x (2, 3) = A, W = [[1, 0, -1], [0.5, 0.5, 0.5]], b = [0.1, -0.2].
    {"linear", "with bias", in({{a6, {2, 3}}, {{1, 0, -1, 0.5, 0.5, 0.5}, {2, 3}}, {{0.1, -0.2}, {2}}}),
     [](X x) { return linear(x[0], x[1], x[2]); }, {2, 2}, {-1.9, 2.8, -1.9, 7.3}},
    {"linear", "no bias", in({{a6, {2, 3}}, {{1, 0, -1, 0.5, 0.5, 0.5}, {2, 3}}}),
     [](X x) { return linear(x[0], x[1]); }, {2, 2}, {-2, 3, -2, 7.5}},
    // scatter_add along dim 1: row 0 adds 10 at 0 and 20 at 2, row 1 adds 30 at 1 and 40 at 0.
    {"scatter_add", "dim 1", with_index(a6, {2, 3}, {0, 2, 1, 0}, {2, 2}, {10, 20, 30, 40}),
     [](X x) { return scatter_add(x[0], 1, x[1], x[2]); }, {2, 3}, {11, 2, 23, 44, 35, 6}},
    // dim 0 with repeated targets: (1, 0) gets 1 + 4, (0, 2) gets 3 + 6.
    {"scatter_add", "dim 0, repeated positions add up",
     with_index(a6, {2, 3}, {1, 1, 0, 1, 0, 0}, {2, 3}, {1, 2, 3, 4, 5, 6}),
     [](X x) { return scatter_add(x[0], 0, x[1], x[2]); }, {2, 3}, {1, 7, 12, 9, 7, 6}},
    // Row 0 [0, 0, 0] costs ln 3 for any target; row 1 [ln 3, 0, 0] with target 0 costs
    // ln 5 - ln 3.
    {"cross_entropy", "mean", with_targets({0, 0, 0, ln3, 0, 0}, {2, 3}, {1, 0}),
     [](X x) { return cross_entropy(x[0], x[1]); }, {}, {std::log(5.0) / 2}},
    {"cross_entropy", "sum", with_targets({0, 0, 0, ln3, 0, 0}, {2, 3}, {1, 0}),
     [](X x) { return cross_entropy(x[0], x[1], Reduction::Sum); }, {}, {std::log(5.0)}},
    {"cross_entropy", "none", with_targets({0, 0, 0, ln3, 0, 0}, {2, 3}, {1, 0}),
     [](X x) { return cross_entropy(x[0], x[1], Reduction::None); }, {2},
     {ln3, std::log(5.0) - ln3}},
    {"cross_entropy", "ignore_index row left out of the mean",
     with_targets({0, 0, 0, ln3, 0, 0}, {2, 3}, {1, -100}),
     [](X x) { return cross_entropy(x[0], x[1]); }, {}, {ln3}},
    // Row 0 has logits 0: every -log p is ln 3. Row 1 is [ln 3, 0, 0]: p = [3/5, 1/5, 1/5].
    {"cross_entropy", "label_smoothing 0.2", with_targets({0, 0, 0, ln3, 0, 0}, {2, 3}, {1, 0}),
     [](X x) { return cross_entropy(x[0], x[1], Reduction::Mean, -100, 0.2); }, {},
     {(ln3 + 0.8 * std::log(5.0 / 3) + 0.2 * (std::log(5.0 / 3) + 2 * std::log(5.0)) / 3) / 2}},
    // nll_loss picks -log_probs[i, t_i]: targets 2 and 0 of A.
    {"nll_loss", "mean", with_targets(a6, {2, 3}, {2, 0}),
     [](X x) { return nll_loss(x[0], x[1]); }, {}, {-3.5}},
    {"nll_loss", "sum", with_targets(a6, {2, 3}, {2, 0}),
     [](X x) { return nll_loss(x[0], x[1], Reduction::Sum); }, {}, {-7}},
    {"nll_loss", "none, ignore_index 0", with_targets(a6, {2, 3}, {2, 0}),
     [](X x) { return nll_loss(x[0], x[1], Reduction::None, 0); }, {2}, {-3, 0}},
    // layer_norm, eps 0: row [1, 2, 3] has mean 2, variance 2/3, so x̂ = [-1, 0, 1] sqrt(3/2);
    // row [0, 0, 3] has mean 1, variance 2, so x̂ = [-1, -1, 2] / sqrt 2. Then x̂ w + b with
    // w = [1, 2, 0.5], b = [0, 1, -1].
    {"layer_norm", "last dim, weight and bias",
     in({{{1, 2, 3, 0, 0, 3}, {2, 3}}, {{1, 2, 0.5}, {3}}, {{0, 1, -1}, {3}}}),
     [](X x) { return layer_norm(x[0], {3}, x[1], x[2], 0.0); }, {2, 3},
     {-std::sqrt(1.5), 1, -1 + std::sqrt(1.5) / 2, -1 / std::sqrt(2.0), 1 - std::sqrt(2.0),
      -1 + std::sqrt(2.0) / 2}},
    {"layer_norm", "two trailing dims, no affine", in({{{1, 2, 3, 0, 0, 3}, {1, 2, 3}}}),
     [](X x) { return layer_norm(x[0], {2, 3}, Tensor(), Tensor(), 0.0); }, {1, 2, 3},
     // all six: mean 1.5, variance (0.25 + 0.25 + 2.25 + 2.25 + 2.25 + 2.25) / 6 = 1.5833...
     {-0.5 / std::sqrt(9.5 / 6), 0.5 / std::sqrt(9.5 / 6), 1.5 / std::sqrt(9.5 / 6),
      -1.5 / std::sqrt(9.5 / 6), -1.5 / std::sqrt(9.5 / 6), 1.5 / std::sqrt(9.5 / 6)}},
    // batch_norm in training, eps 0, over (3, 2): channel 0 is [1, 2, 3] (x̂ = [-1, 0, 1]
    // sqrt(3/2)), channel 1 is [0, 0, 3] (x̂ = [-1, -1, 2] / sqrt 2); weight [2, 1], bias [0, 1].
    {"batch_norm", "training, batch statistics",
     in({{{1, 0, 2, 0, 3, 3}, {3, 2}}, {{2, 1}, {2}}, {{0, 1}, {2}}}),
     [](X x) { return batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true, 0.1, 0.0); }, {3, 2},
     {-2 * std::sqrt(1.5), 1 - 1 / std::sqrt(2.0), 0, 1 - 1 / std::sqrt(2.0), 2 * std::sqrt(1.5),
      1 + std::sqrt(2.0)}},
    // (N, C, L) = (2, 1, 2): the one channel is [1, 3, 5, 7], mean 4, variance 5.
    {"batch_norm", "training, (N, C, L)", in({{{1, 3, 5, 7}, {2, 1, 2}}}),
     [](X x) { return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.0); },
     {2, 1, 2}, {-3 / std::sqrt(5.0), -1 / std::sqrt(5.0), 1 / std::sqrt(5.0), 3 / std::sqrt(5.0)}},
    // Evaluation: (x - running_mean) / sqrt(running_var) with mean [1, 2] and variance [4, 1].
    {"batch_norm", "eval, running statistics", in({{{1, 2, 3, 4}, {2, 2}}}),
     [](X x) {
       const Tensor mean = from_vector<double>({1, 2}).to(x[0].dtype()).to(x[0].device());
       const Tensor var = from_vector<double>({4, 1}).to(x[0].dtype()).to(x[0].device());
       return batch_norm(x[0], mean, var, Tensor(), Tensor(), false, 0.1, 0.0);
     },
     {2, 2}, {0, 0, 1, 2}},
    // embedding: rows 2, 0, 2 of a (3, 2) table; gradients of the repeated row add up.
    {"embedding", "rows by index",
     [](DType d) { return In{iv({2, 0, 2}, {3}), v({1, 2, 3, 4, 5, 6}, {3, 2}, d)}; },
     [](X x) { return nn::functional::embedding(x[0], x[1]); }, {3, 2}, {5, 6, 1, 2, 5, 6}},
    // mse_loss of [1, 2, 3] against [0, 2, 5]: squared errors [1, 0, 4].
    {"mse_loss", "mean", in({{{1, 2, 3}, {3}}, {{0, 2, 5}, {3}}}),
     [](X x) { return mse_loss(x[0], x[1]); }, {}, {5.0 / 3}},
    {"mse_loss", "sum", in({{{1, 2, 3}, {3}}, {{0, 2, 5}, {3}}}),
     [](X x) { return mse_loss(x[0], x[1], Reduction::Sum); }, {}, {5}},
    {"mse_loss", "none", in({{{1, 2, 3}, {3}}, {{0, 2, 5}, {3}}}),
     [](X x) { return mse_loss(x[0], x[1], Reduction::None); }, {3}, {1, 0, 4}},
    // Conversions: float to int64 truncates toward zero; a float64 copy keeps the values and
    // passes the gradient through.
    {"to", "int64 truncates", in1({1.5, -2.7, 3}),
     [](X x) { return x[0].to(kInt64); }, {3}, {1, -2, 3}, false},
    {"to", "float64", in1({1.5, -2.7, 3}),
     [](X x) { return x[0].to(kFloat64) * 2.0; }, {3}, {3, -5.4, 6}},
    {"to", "bool is != 0", in1({0, -2.7, 3}),
     [](X x) { return x[0].to(kBool); }, {3}, {0, 1, 1}, false},
    {"copy_", "broadcast row into a (2, 3) tensor", in({{{10, 20, 30}, {3}}}),
     [](X x) {
       Tensor y = zeros({2, 3}, TensorOptions().dtype(x[0].dtype()).device(x[0].device()));
       y.copy_(x[0]);
       return y;
     }, {2, 3}, {10, 20, 30, 10, 20, 30}, false},
    {"copy_", "into a transposed view, converting to int64", in({{a6, {2, 3}}}),
     [](X x) {
       Tensor y = zeros({3, 2}, TensorOptions().dtype(kInt64).device(x[0].device()));
       y.t().copy_(x[0] * 1.5);
       return y;
     }, {3, 2}, {1, 6, 3, 7, 4, 9}, false},
    // One fused update of p = [1, 2, 3] with g = [0.5, -1, 2], lr 0.1.
    {"fused::sgd_step_", "plain", in({{{1, 2, 3}, {3}}, {{0.5, -1, 2}, {3}}}),
     [](X x) { return sgd_once(x, 0.0, 0.0, false); }, {3}, {0.95, 2.1, 2.8}, false},
    // weight decay 0.1: g = [0.6, -0.8, 2.3]; the first step's buffer is g.
    {"fused::sgd_step_", "momentum 0.9, weight decay 0.1", in({{{1, 2, 3}, {3}}, {{0.5, -1, 2}, {3}}}),
     [](X x) { return sgd_once(x, 0.9, 0.1, false); }, {3}, {0.94, 2.08, 2.77}, false},
    {"fused::sgd_step_", "nesterov: g + 0.9 buf = 1.9 g", in({{{1, 2, 3}, {3}}, {{0.5, -1, 2}, {3}}}),
     [](X x) { return sgd_once(x, 0.9, 0.1, true); }, {3}, {0.886, 2.152, 2.563}, false},
    // Step 1 of Adam: the bias corrections make m_hat = g, v_hat = g^2, so p -= lr * sign(g).
    {"fused::adam_step_", "adam, step 1", in({{{1, 2, 3}, {3}}, {{0.5, -1, 2}, {3}}}),
     [](X x) { return adam_once(x, 0.0, false); }, {3}, {0.9, 2.1, 2.9}, false},
    // AdamW first scales p by 1 - lr * wd = 0.99.
    {"fused::adam_step_", "adamw, weight decay 0.1", in({{{1, 2, 3}, {3}}, {{0.5, -1, 2}, {3}}}),
     [](X x) { return adam_once(x, 0.1, true); }, {3}, {0.89, 2.08, 2.87}, false},
    {"index", "Slice, None, negative integer", A,
     [](X x) {
       using namespace indexing;
       return x[0].index({Slice(), None, -1});
     },
     {2, 1}, {3, 6}},
    {"index", "Ellipsis, Slice with a step", A,
     [](X x) {
       using namespace indexing;
       return x[0].index({"...", Slice(None, None, 2)});
     },
     {2, 2}, {1, 3, 4, 6}},
    {"index", "int64 tensors broadcast",
     [A](DType d) { return In{A(d)[0], iv({1, 0}, {2}), iv({-1}, {1})}; },
     [](X x) { return x[0].index({x[1], x[2]}); }, {2}, {6, 3}},
    {"index", "bool mask", [A](DType d) { return In{A(d)[0], bv({1, 0, 1, 0, 1, 1}, {2, 3})}; },
     [](X x) { return x[0].index({x[1]}); }, {4}, {1, 3, 5, 6}},
    {"index_put_", "int64 tensor, broadcast values",
     [A](DType d) { return In{A(d)[0], iv({1}, {1}), v({10, 20, 30}, {3}, d)}; },
     [](X x) {
       Tensor y = x[0] * 1.0;
       return y.index_put_({x[1]}, x[2]);
     },
     {2, 3}, {1, 2, 3, 10, 20, 30}},
    {"index_put_", "bool mask, accumulate",
     [A](DType d) { return In{A(d)[0], bv({1, 0, 0, 0, 0, 1}, {2, 3}), v({10, 20}, {2}, d)}; },
     [](X x) {
       Tensor y = x[0] * 1.0;
       return y.index_put_({x[1]}, x[2], /*accumulate=*/true);
     },
     {2, 3}, {11, 2, 3, 4, 5, 26}},
    {"index_put_", "Slice and integer, a number", A,
     [](X x) {
       Tensor y = x[0] * 1.0;
       return y.index_put_({indexing::Slice(), 1}, -1.0);
     },
     {2, 3}, {1, -1, 3, 4, -1, 6}},
  };
  // clang-format on
  return kCases;
}

// What the cases establish per op: checked on the CPU, on CUDA (the CUDA suite runs every
// case of an op not in no_cuda_parity()), and with gradients (some case is gradchecked).
struct Coverage {
  bool cpu = false, cuda = false, grad = false;
};

inline std::map<std::string, Coverage> coverage() {
  std::map<std::string, Coverage> out;
  for (const OpCase& c : cases()) {
    Coverage& cov = out[c.op];
    cov.cpu = true;
    cov.cuda = !no_cuda_parity().contains(c.op);
    cov.grad |= c.grad;
  }
  return out;
}

}  // namespace ember::testing::tutorial
