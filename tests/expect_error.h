// expect_error<E>(fn, {fragments}): fn must throw E (an ember::Error subclass) whose message
// holds every fragment: the op, the shapes, the values a user needs to find the fault.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <initializer_list>
#include <string>

#include "test_device.h"

namespace ember_test {

template <typename E, typename F>
void expect_error(F&& f, std::initializer_list<const char*> fragments) {
  try {
    f();
    wait_for_device();  // a CUDA kernel's index check surfaces at the next wait
    FAIL() << "expected an exception";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const char* frag : fragments)
      EXPECT_NE(msg.find(frag), std::string::npos) << "'" << frag << "' missing from: " << msg;
  } catch (const std::exception& e) {
    FAIL() << "wrong exception type: " << e.what();
  }
}

}  // namespace ember_test
