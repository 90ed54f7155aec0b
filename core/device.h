// Where a tensor's memory lives: the host CPU or CUDA device N.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace ember {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  constexpr Device() = default;
  constexpr Device(DeviceType t, int i = 0) : type(t), index(i) {}
  // Parses "cpu", "cuda" (cuda:0) and "cuda:N", implicitly as in libtorch, so x.to("cuda:1")
  // and TensorOptions().device("cpu") read as they do there. Any other string is a ValueError
  // naming it.
  Device(const std::string& spec);                         // NOLINT(google-explicit-constructor)
  Device(const char* spec) : Device(std::string(spec)) {}  // NOLINT(google-explicit-constructor)

  static constexpr Device cpu() { return Device(DeviceType::CPU, 0); }
  static constexpr Device cuda(int i = 0) { return Device(DeviceType::CUDA, i); }

  constexpr bool is_cpu() const { return type == DeviceType::CPU; }
  constexpr bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;

  constexpr bool operator==(const Device&) const = default;
};

inline constexpr Device kCPU = Device::cpu();
inline constexpr Device kCUDA = Device::cuda();  // cuda:0

std::ostream& operator<<(std::ostream& os, const Device& d);

// The device factories (zeros, tensor, arange, randn, ...) and modules' parameters use when
// TensorOptions names none; kCPU unless set. Like torch.set_default_device: set it once, at
// the start of a program (it is one process-wide value, not synchronised between threads).
// Setting a CUDA device that does not exist throws DeviceError.
Device default_device();
void set_default_device(Device device);

}  // namespace ember
