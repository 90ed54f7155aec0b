// libFuzzer harness: nn::Module::load, a checkpoint file read into a model (ember::load, then
// a strict load_state_dict: names, shapes, dtype conversion). A load that fails must leave
// the model as it was (nn/module.h); one that succeeds leaves a model that runs forward.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ember_fuzz::ScratchDir::get().write("model.ckpt", data, size);
  const auto model = ember_fuzz::small_model();
  ember::StateDict before = model->state_dict();
  for (auto& entry : before) entry.second = entry.second.clone();
  try {
    model->load(path);
  } catch (const ember::Error&) {
    if (!ember_fuzz::same_bits(model->state_dict(), before))
      ember_fuzz::fail("a failed Module::load changed the model");
    return 0;
  }
  const ember::Tensor y = model->forward(ember::ones({2, 3}));
  if (y.sizes() != ember::Shape{2, 2})
    ember_fuzz::fail("the loaded model's output has the wrong shape");
  return 0;
}
