// ember's exceptions. Every failure a user can cause (bad shapes, dtypes, devices, indices,
// labels, files, autograd misuse) throws one of these, with a message that names the op and
// the offending values. They live in kernels/common, the bottom layer, so that the kernels of
// both backends throw the same types as the op layer; core/error.h re-exports them.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ember {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ShapeError : public Error {
  using Error::Error;
};
class DTypeError : public Error {
  using Error::Error;
};
class DeviceError : public Error {
  using Error::Error;
};
class IndexError : public Error {
  using Error::Error;
};
class ValueError : public Error {
  using Error::Error;
};
class AutogradError : public Error {
  using Error::Error;
};
class IOError : public Error {
  using Error::Error;
};
class OutOfMemoryError : public Error {
  using Error::Error;
};
class CudaError : public Error {
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace ember

// EMBER_CHECK(cond, ErrorType, "op: ", x, " vs ", y): throws ErrorType with the streamed
// message when cond is false. The message is only built on failure.
#define EMBER_CHECK(cond, ErrorType, ...)                     \
  do {                                                        \
    if (!(cond)) [[unlikely]] {                               \
      throw ErrorType(::ember::detail::str_cat(__VA_ARGS__)); \
    }                                                         \
  } while (0)
