// randperm: Fisher-Yates driven by one batch of Philox uniforms.
#include <ember/data/permutation.h>

#include <algorithm>
#include <numeric>

#include <ember/core/generator.h>
#include <ember/core/tensor.h>

namespace ember::data {

std::vector<int64_t> randperm(int64_t n, uint64_t seed, uint64_t stream) {
  EMBER_CHECK(n >= 0 && n < (int64_t{1} << 40), ValueError, "randperm: invalid n ", n);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  if (n < 2) return perm;
  // Stream s first skips s draws of 2^42 elements: more than any stream uses (n < 2^40),
  // so streams never share Philox counters.
  Generator gen(seed);
  if (stream > 0) gen.reserve(stream << 42);
  const std::vector<double> u = rand({n}, kFloat64, &gen).to_vector<double>();
  for (int64_t i = n - 1; i > 0; --i) {
    // u in [0, 1), so j in [0, i]; the min guards against u * (i + 1) rounding up to i + 1.
    const auto j =
        std::min(i, static_cast<int64_t>(u[static_cast<size_t>(i)] * static_cast<double>(i + 1)));
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
  }
  return perm;
}

}  // namespace ember::data
