// main() of every ember test executable. EMBER_TEST_DEVICE=<device> ("cpu", "cuda", "cuda:1")
// makes that device the default (ember::set_default_device), so the factories in a test body
// create their tensors there and one test checks either backend. ctest runs the core, nn and
// optim suites once per device (ember_add_test_suite's PER_DEVICE in tests/CMakeLists.txt).
#include <cstdlib>
#include <iostream>

#include <gtest/gtest.h>

#include <ember/ember.h>

namespace {

// Skips every test of the run: the requested device is not present (a CUDA build on a
// machine without a GPU).
class MissingDevice final : public testing::Environment {
 public:
  explicit MissingDevice(std::string why) : why_(std::move(why)) {}
  void SetUp() override { GTEST_SKIP() << why_; }

 private:
  std::string why_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const char* spec = std::getenv("EMBER_TEST_DEVICE");
  if (spec != nullptr && *spec != '\0') {
    const ember::Device device{std::string(spec)};
    if (device.is_cuda() && device.index >= ember::cuda::device_count()) {
      testing::AddGlobalTestEnvironment(new MissingDevice("EMBER_TEST_DEVICE=" + std::string(spec) +
                                                          " but that CUDA device is not present"));
    } else {
      ember::set_default_device(device);
      std::cout << "[ ember    ] default device: " << device << "\n";
    }
  }
  return RUN_ALL_TESTS();
}
