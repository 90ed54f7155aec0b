// libFuzzer harness: ember::load, the checkpoint reader (core/serialize.h), into a state_dict,
// a list of tensors and one tensor. Every record is parsed before the trailing CRC-32 is
// compared, so damage in a record is reached whatever the checksum; but a mutant with a stale
// checksum never loads, so the custom mutator writes the right CRC into most mutants (one in
// eight keeps the mutated one, so the checksum's own check is fuzzed too). What loads must save
// back to exactly the input's bytes: the format has one way to write each state.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_util.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (size >= 4 && seed % 8 != 0) {
    // Little-endian, over every byte before it (core/serialize.cpp).
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, data, static_cast<uInt>(size - 4)));
    for (int i = 0; i < 4; ++i) data[size - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  return size;
}

namespace {

// What ember::save writes for `loaded` must be the input again.
template <class Loaded>
void expect_saves_back(const Loaded& loaded, const uint8_t* data, size_t size, const char* what) {
  const std::string again = ember_fuzz::ScratchDir::get().path() + "/again.ckpt";
  ember::save(loaded, again);
  std::ifstream in(again, std::ios::binary);
  const ember_fuzz::Bytes saved{std::istreambuf_iterator<char>(in), {}};
  if (saved.size() != size || std::memcmp(saved.data(), data, size) != 0) ember_fuzz::fail(what);
}

}  // namespace

// The three readers of the format: a state_dict, a list of tensors, one tensor.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ember_fuzz::ScratchDir::get().write("input.ckpt", data, size);
  try {
    expect_saves_back(ember::load(path), data, size,
                      "a checkpoint that loads does not save back to the same bytes");
  } catch (const ember::Error&) {
  }
  try {
    std::vector<ember::Tensor> tensors;
    ember::load(tensors, path);
    expect_saves_back(tensors, data, size,
                      "a list of tensors that loads does not save back to the same bytes");
  } catch (const ember::Error&) {
  }
  try {
    ember::Tensor tensor;
    ember::load(tensor, path);
    expect_saves_back(tensor, data, size,
                      "a tensor that loads does not save back to the same bytes");
  } catch (const ember::Error&) {
  }
  return 0;
}
