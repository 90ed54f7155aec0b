// k-fold cross-validation splits (as scikit-learn's KFold): the n indices are cut into k
// consecutive folds, the first n % k of them one larger; fold `fold` is the validation
// set and the rest the training set. With shuffle, the indices are permuted first
// (randperm with `seed`), so folds are random but reproducible.
//
//   auto [train_idx, val_idx] = ember::data::kfold_indices(dataset.size(), 5, fold);
//   ember::data::Subset train(dataset, train_idx), val(dataset, val_idx);
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ember::data {

// Returns (train_indices, val_indices). Needs 2 <= k <= n and 0 <= fold < k.
std::pair<std::vector<int64_t>, std::vector<int64_t>> kfold_indices(int64_t n, int64_t k,
                                                                    int64_t fold,
                                                                    bool shuffle = false,
                                                                    uint64_t seed = 0);

}  // namespace ember::data
