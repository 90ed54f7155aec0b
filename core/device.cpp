// Device parsing and printing.
#include <ember/core/device.h>

#include <ember/core/error.h>

namespace ember {

Device::Device(const std::string& spec) {
  if (spec == "cpu") {
    *this = cpu();
    return;
  }
  if (spec.rfind("cuda", 0) == 0) {
    int index = 0;
    if (spec.size() > 4) {
      EMBER_CHECK(spec[4] == ':' && spec.size() > 5, ValueError, "Device: cannot parse '", spec,
                  "' (expected cpu, cuda or cuda:N)");
      try {
        size_t used = 0;
        index = std::stoi(spec.substr(5), &used);
        EMBER_CHECK(used == spec.size() - 5 && index >= 0, ValueError, "Device: bad index in '",
                    spec, "'");
      } catch (const std::logic_error&) {
        throw ValueError("Device: bad index in '" + spec + "'");
      }
    }
    *this = cuda(index);
    return;
  }
  throw ValueError("Device: cannot parse '" + spec + "' (expected cpu, cuda or cuda:N)");
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

std::ostream& operator<<(std::ostream& os, const Device& d) {
  return os << d.str();
}

}  // namespace ember
