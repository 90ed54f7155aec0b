// main() of every ember test executable. EMBER_TEST_DEVICE=<device> ("cpu", "cuda", "cuda:1")
// makes that device the default (ember::set_default_device), so the factories in a test body
// create their tensors there and one test checks either backend. ctest runs the core, nn and
// optim suites once per device (ember_add_test_suite's PER_DEVICE in tests/CMakeLists.txt).
// `--setenv=NAME=VALUE` arguments set environment variables first (cudasim's modes).
#include <cstdlib>
#include <iostream>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "setenv_args.h"

namespace {

// The exit status of a run whose device is missing (a CUDA build on a machine without a GPU):
// ctest shows its tests as skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt), not passed.
constexpr int kSkipReturnCode = 77;

}  // namespace

int main(int argc, char** argv) {
  ember_test::apply_setenv_args(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  const char* spec = std::getenv("EMBER_TEST_DEVICE");
  if (spec != nullptr && *spec != '\0') {
    const ember::Device device{std::string(spec)};
    if (device.is_cuda() && device.index >= ember::cuda::device_count()) {
      if (!GTEST_FLAG_GET(list_tests)) {
        std::cout << "[  SKIPPED ] EMBER_TEST_DEVICE=" << spec
                  << " but that CUDA device is not present (" << ember::cuda::device_count()
                  << " found)\n";
        return kSkipReturnCode;
      }
    } else {
      ember::set_default_device(device);
      std::cout << "[ ember    ] default device: " << device << "\n";
    }
  }
  return RUN_ALL_TESTS();
}
