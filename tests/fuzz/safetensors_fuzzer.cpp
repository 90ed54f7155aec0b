// libFuzzer harness: ember::load_safetensors and load_safetensors_metadata (core/safetensors.h)
// on a file holding the input's bytes. A file that loads must have readable metadata, and
// what loads must survive save_safetensors and another load unchanged (the input's own bytes
// need not come back: its JSON may be spaced or ordered differently).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ember_fuzz::ScratchDir::get().write("input.safetensors", data, size);
  ember::StateDict state;
  try {
    state = ember::load_safetensors(path);
  } catch (const ember::Error&) {
    return 0;
  }
  const auto metadata = ember::load_safetensors_metadata(path);
  const std::string again = ember_fuzz::ScratchDir::get().path() + "/again.safetensors";
  ember::save_safetensors(state, again, metadata);
  if (!ember_fuzz::same_bits(ember::load_safetensors(again), state))
    ember_fuzz::fail("a loaded safetensors file does not load back the same after saving");
  if (ember::load_safetensors_metadata(again) != metadata)
    ember_fuzz::fail("a loaded safetensors file's metadata does not survive saving");
  return 0;
}
