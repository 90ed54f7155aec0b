// set_float32_matmul_precision: PyTorch's three names round-trip, anything else is a
// ValueError naming it, and on the CPU a matmul is the same at every precision.
#include <gtest/gtest.h>

#include <string>

#include <ember/ember.h>

namespace ember {
namespace {

TEST(MatmulPrecision, NamesRoundTripAndBadOnesAreErrors) {
  EXPECT_EQ(get_float32_matmul_precision(), "highest");
  for (const char* p : {"high", "medium", "highest"}) {
    set_float32_matmul_precision(p);
    EXPECT_EQ(get_float32_matmul_precision(), p);
  }
  try {
    set_float32_matmul_precision("fast");
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'fast'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(get_float32_matmul_precision(), "highest") << "a bad name changes nothing";
}

TEST(MatmulPrecision, TheCpuComputesInFp32AtEveryPrecision) {
  Generator gen(2);
  const Tensor a = randn({9, 7}, TensorOptions(kFloat32).device(kCPU), &gen);
  const Tensor b = randn({7, 5}, TensorOptions(kFloat32).device(kCPU), &gen);
  const std::vector<float> full = mm(a, b).to_vector<float>();
  set_float32_matmul_precision("high");
  const std::vector<float> high = mm(a, b).to_vector<float>();
  set_float32_matmul_precision("highest");
  EXPECT_EQ(high, full);
}

}  // namespace
}  // namespace ember
