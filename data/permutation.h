// Seeded random permutations for shuffling and k-fold splits. Built on ember's Philox
// generator, so the order depends only on (seed, stream) and is the same on every
// platform and compiler (std::shuffle's algorithm is implementation-defined, Philox and
// the Fisher-Yates below are not).
#pragma once

#include <cstdint>
#include <vector>

namespace ember::data {

// A permutation of 0..n-1. Different streams (e.g. epoch numbers) draw from disjoint
// Philox counter ranges, so they give independent permutations for the same seed.
std::vector<int64_t> randperm(int64_t n, uint64_t seed, uint64_t stream = 0);

}  // namespace ember::data
