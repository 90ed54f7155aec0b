// libFuzzer harness: data::read_idx on a file holding the input's bytes as they are. (The
// reader goes by the gzip magic, not the name, so a gzip stream the fuzzer makes is read as
// one; idx_gzip_fuzzer aims at that path.)
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ember_fuzz::read_idx_file(ember_fuzz::ScratchDir::get().write("input.idx", data, size));
  return 0;
}
