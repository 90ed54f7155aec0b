// The op harness, in the spirit of ggml's test-backend-ops: every case of
// tests/core/tutorial_ops_cases.h (one table: every public op and form, with hand-computed
// results) on every device present, in three modes:
//   values     tests/integration/op_harness_test.cpp: the hand-computed result in float32 and
//              float64 on every device, and on a GPU the CPU's result as well;
//   gradients  the same file: float64 gradcheck on every device, and a GPU's input gradients
//              against the CPU's;
//   perf       ember-bench --ops: the time per call of every case on every device.
// The devices: the CPU always, and CUDA device 0 where one is present (cudasim in a SIM build,
// the GPU in an nvcc build). No GoogleTest here, so ember-bench can include it.
#pragma once

#include <cctype>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <ember/ember.h>

#include "core/tutorial_ops_cases.h"

namespace ember::testing::harness {

using tutorial::In;
using tutorial::OpCase;

// The devices present: the CPU, then CUDA device 0 when this build and machine have one.
inline std::vector<Device> devices() {
  std::vector<Device> out = {kCPU};
  if (cuda::is_available()) out.push_back(Device::cuda(0));
  return out;
}

// A fresh copy of the case's inputs (floating ones in `dtype`) on `device`.
inline In inputs_on(const OpCase& c, DType dtype, Device device) {
  In out;
  for (const Tensor& t : c.inputs(dtype)) out.push_back(t.to(device));
  return out;
}

// "<index>_<op>_<form>", every character that is not a letter or digit made '_': a name for
// test listings and benchmark tables that stays unique and stable while cases are appended.
inline std::string case_name(size_t index, const OpCase& c) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%03zu_", index);
  std::string name = prefix + c.op + (c.form.empty() ? "" : "_" + c.form);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

// Perf mode: the case's call on `device` over float32 inputs made once, for a timer to repeat.
inline std::function<void()> timed_call(const OpCase& c, Device device) {
  In inputs = inputs_on(c, kFloat32, device);
  return [&c, inputs] { (void)c.fn(inputs); };
}

}  // namespace ember::testing::harness
