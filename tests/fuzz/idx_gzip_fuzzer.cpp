// libFuzzer harness: data::read_idx on a gzip-compressed IDX file. The input is the .gz file
// itself; the custom mutator (libFuzzer's structure-aware recipe for compressed formats) mostly
// mutates the decompressed IDX bytes and compresses them again, so mutants reach the parser
// through zlib instead of all dying at the deflate stream's checksum, and sometimes mutates the
// compressed bytes, so zlib's own errors (corrupt or truncated streams) are fuzzed too.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>

#include "fuzz_util.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

// The decompressed bytes of a gzip stream, at most `limit` of them; false when it is not one.
bool gunzip(const uint8_t* data, size_t size, size_t limit, ember_fuzz::Bytes* plain) {
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) return false;
  plain->resize(limit);
  s.next_in = const_cast<Bytef*>(data);
  s.avail_in = static_cast<uInt>(size);
  s.next_out = plain->data();
  s.avail_out = static_cast<uInt>(limit);
  const int rc = inflate(&s, Z_FINISH);
  plain->resize(s.total_out);
  inflateEnd(&s);
  return rc == Z_STREAM_END;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::minstd_rand rng(seed);
  ember_fuzz::Bytes plain;
  // A gzip bomb among the mutants must not cost the mutator more than a few MiB.
  constexpr size_t kMaxPlain = size_t{1} << 22;
  if (rng() % 8 == 0 || !gunzip(data, size, kMaxPlain, &plain))
    return LLVMFuzzerMutate(data, size, max_size);
  const size_t plain_size = plain.size();
  plain.resize(std::max<size_t>(2 * plain_size, 64));
  plain.resize(LLVMFuzzerMutate(plain.data(), plain_size, plain.size()));
  const ember_fuzz::Bytes packed = ember_fuzz::gzip(plain);
  if (packed.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, packed.data(), packed.size());
  return packed.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ember_fuzz::read_idx_file(ember_fuzz::ScratchDir::get().write("input.idx.gz", data, size));
  return 0;
}
