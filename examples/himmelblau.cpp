// Minimises Himmelblau's function f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2 with Adam
// from several starting points, and prints the four minima it finds (all with f = 0):
// (3, 2), (-2.805, 3.131), (-3.779, -3.283), (3.584, -1.848).
//   ./himmelblau
#include <cmath>
#include <cstdio>
#include <vector>

#include <ember/ember.h>

using namespace ember;

static Tensor himmelblau(const Tensor& p) {
  Tensor x = p.select(0, 0), y = p.select(0, 1);
  return pow(x * x + y - 11.0, 2.0) + pow(x + y * y - 7.0, 2.0);
}

int main() {
  const std::vector<std::pair<double, double>> starts = {{0, 0}, {-1, 1}, {-4, -4}, {4, -4}};
  std::vector<std::pair<double, double>> minima;
  for (auto [x0, y0] : starts) {
    Tensor p = tensor({x0, y0}, kFloat64).requires_grad_(true);
    optim::Adam opt({p}, optim::AdamOptions(0.05));
    double f = 0;
    int step = 0;
    for (; step < 20000; ++step) {
      Tensor loss = himmelblau(p);
      f = loss.item<double>();
      if (f < 1e-12) break;
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    const auto v = p.to_vector<double>();
    std::printf("start (%5.1f, %5.1f) -> minimum (%7.3f, %7.3f), f = %.2e after %d steps\n", x0, y0,
                v[0], v[1], f, step);
    if (f >= 1e-6) {
      std::fprintf(stderr, "did not converge from (%g, %g)\n", x0, y0);
      return 1;
    }
    bool seen = false;
    for (auto [a, b] : minima) seen |= std::hypot(a - v[0], b - v[1]) < 1e-3;
    if (!seen) minima.emplace_back(v[0], v[1]);
  }
  std::printf("%zu distinct minima found\n", minima.size());
  return minima.size() == 4 ? 0 : 1;
}
