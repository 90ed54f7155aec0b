// Storage allocation from the device's caching allocator (core/backend.h).
#include <ember/core/object_pool.h>
#include <ember/core/storage.h>

#include <ember/core/backend.h>

namespace ember {
namespace {

void free_on_device(void* ctx, void* data) {
  // ctx carries the device; every device's allocator lives as long as the process.
  const auto type = static_cast<DeviceType>(reinterpret_cast<uintptr_t>(ctx) & 0xff);
  const int index = static_cast<int>(reinterpret_cast<uintptr_t>(ctx) >> 8);
  device_deallocate(Device(type, index), data);
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  void* data = device_allocate(device, nbytes);
  void* ctx = reinterpret_cast<void*>(static_cast<uintptr_t>(device.type) |
                                      (static_cast<uintptr_t>(device.index) << 8));
  return detail::make_pooled<Storage>(data, nbytes, device, &free_on_device, ctx);
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, Device device, Deleter deleter,
                                       void* ctx) {
  return detail::make_pooled<Storage>(data, nbytes, device, deleter, ctx);
}

Storage::~Storage() {
  if (deleter_ != nullptr) deleter_(ctx_, data_);
}

}  // namespace ember
