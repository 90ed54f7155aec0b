// libFuzzer harness: data::MNIST, which reads a folder of two IDX files (images and labels)
// and cross-checks them. The input is both files: a 4-byte little-endian length n, then the
// images file (its first n bytes), then the labels file (the rest). The seed generator
// (fuzz_seeds.cpp) writes inputs in this layout.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint32_t n = 0;
  for (size_t i = 0; i < std::min<size_t>(size, 4); ++i) n |= uint32_t{data[i]} << (8 * i);
  const size_t head = std::min<size_t>(size, 4);
  const size_t images = std::min<size_t>(n, size - head);
  const auto& dir = ember_fuzz::ScratchDir::get();
  dir.write("train-images-idx3-ubyte", data + head, images);
  dir.write("train-labels-idx1-ubyte", data + head + images, size - head - images);
  try {
    const ember::data::MNIST set(dir.path(), /*train=*/true, /*mean=*/0.25, /*std=*/0.5);
    // What the loader accepts, a DataLoader can batch: the first and the last example.
    if (set.size() > 0) {
      const std::vector<int64_t> rows = {0, set.size() - 1};
      const ember::data::Batch batch = set.get_batch(rows);
      if (batch.data.size(0) != 2 || batch.target.size(0) != 2)
        ember_fuzz::fail("MNIST::get_batch returned the wrong number of rows");
    }
  } catch (const ember::Error&) {
  }
  return 0;
}
