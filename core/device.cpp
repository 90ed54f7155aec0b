// Device parsing and printing.
#include <ember/core/device.h>

#include <ember/core/cuda.h>
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
      EMBER_CHECK(spec[5] >= '0' && spec[5] <= '9', ValueError, "Device: bad index in '", spec,
                  "' (expected cpu, cuda or cuda:N)");  // stoi would take " 1" or "+1"
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

namespace {
Device& default_device_slot() {
  static Device device = kCPU;
  return device;
}
}  // namespace

Device default_device() {
  return default_device_slot();
}

void set_default_device(Device device) {
  if (device.is_cuda()) {
    const int count = cuda::device_count();
    EMBER_CHECK(device.index < count, DeviceError, "set_default_device: ", device,
                " does not exist (", count, " CUDA device", count == 1 ? "" : "s", " available)");
  }
  default_device_slot() = device;
}

}  // namespace ember
