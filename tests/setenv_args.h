// `--setenv=NAME=VALUE` arguments of a test executable: each sets an environment variable
// before anything reads it, and is removed from argv. ctest passes cudasim's modes this way
// (tests/CMakeLists.txt): gtest_discover_tests cannot give one test two ENVIRONMENT entries.
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>

namespace ember_test {

inline void apply_setenv_args(int& argc, char** argv) {
  constexpr const char* kFlag = "--setenv=";
  const size_t flag_len = std::strlen(kFlag);
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* eq =
        std::strncmp(arg, kFlag, flag_len) == 0 ? std::strchr(arg + flag_len, '=') : nullptr;
    if (eq == nullptr) {
      argv[out++] = argv[i];
      continue;
    }
    const std::string name(arg + flag_len, eq);
    setenv(name.c_str(), eq + 1, 1);
  }
  argc = out;
  argv[argc] = nullptr;
}

}  // namespace ember_test
