// main() of cudasim's own tests: GoogleTest's, after the `--setenv=` arguments that select
// cudasim's modes (tests/setenv_args.h).
#include <gtest/gtest.h>

#include "setenv_args.h"

int main(int argc, char** argv) {
  ember_test::apply_setenv_args(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
