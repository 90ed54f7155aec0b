// kfold_indices (kfold.h).
#include <ember/data/kfold.h>

#include <algorithm>
#include <numeric>

#include <ember/core/error.h>
#include <ember/data/permutation.h>

namespace ember::data {

std::pair<std::vector<int64_t>, std::vector<int64_t>> kfold_indices(int64_t n, int64_t k,
                                                                    int64_t fold, bool shuffle,
                                                                    uint64_t seed) {
  EMBER_CHECK(k >= 2, ValueError, "kfold_indices: k must be at least 2, got ", k);
  EMBER_CHECK(n >= k, ValueError, "kfold_indices: cannot split ", n, " examples into ", k,
              " folds");
  EMBER_CHECK(fold >= 0 && fold < k, IndexError, "kfold_indices: fold ", fold,
              " is out of range for k = ", k);
  std::vector<int64_t> order;
  if (shuffle) {
    order = randperm(n, seed);
  } else {
    order.resize(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  const int64_t base = n / k, extra = n % k;
  const int64_t begin = fold * base + std::min(fold, extra);
  const int64_t end = begin + base + (fold < extra ? 1 : 0);
  std::vector<int64_t> train, val(order.begin() + begin, order.begin() + end);
  train.reserve(static_cast<size_t>(n - (end - begin)));
  train.insert(train.end(), order.begin(), order.begin() + begin);
  train.insert(train.end(), order.begin() + end, order.end());
  return {std::move(train), std::move(val)};
}

}  // namespace ember::data
