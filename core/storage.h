// Storage: one allocation that tensors (and their views) share. Holds the bytes, the device
// they live on, and the version counter that views share (Note [Version counter]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <ember/core/device.h>

namespace ember {

// Note [Version counter]: every in-place op on a tensor bumps its storage's version. A
// tensor saved for backward remembers the version it saw; if the counter moved by the
// time backward runs, the saved value is stale and backward throws instead of computing
// a wrong gradient. Views share storage, hence share the counter, as in PyTorch.
class Storage {
 public:
  using Deleter = void (*)(void* ctx, void* data);

  // Allocates nbytes on `device` from that device's caching allocator.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);
  // Wraps memory the caller owns; `deleter` (may be null) runs when the storage dies.
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, Device device,
                                       Deleter deleter = nullptr, void* ctx = nullptr);

  Storage(void* data, size_t nbytes, Device device, Deleter deleter, void* ctx)
      : data_(data), nbytes_(nbytes), device_(device), deleter_(deleter), ctx_(ctx) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint32_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
  Deleter deleter_;
  void* ctx_;
  uint32_t version_ = 0;
};

}  // namespace ember
