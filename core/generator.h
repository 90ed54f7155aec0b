// Generator: the seeded source of randomness. Counter-based (Philox): state is just
// (seed, offset), so the same seed gives the same numbers on the CPU and the GPU, and a
// draw of n values reserves counters [offset, offset + n) without producing them serially.
#pragma once

#include <cstdint>
#include <mutex>

namespace ember {

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL) : seed_(seed) {}

  void manual_seed(uint64_t seed) {
    std::lock_guard<std::mutex> lock(mu_);
    seed_ = seed;
    offset_ = 0;
  }
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }

  // Reserves the Philox counters a draw of n elements uses (element i reads counter
  // offset + i / 4, lane i % 4; kernels/common/philox.h) and returns that offset.
  uint64_t reserve(uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t start = offset_;
    offset_ += (n + 3) / 4;
    return start;
  }

 private:
  std::mutex mu_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The generator factories use when none is given.
Generator& default_generator();
// Seeds the default generator (torch::manual_seed).
void manual_seed(uint64_t seed);

}  // namespace ember
