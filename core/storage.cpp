// Storage allocation through the device's backend (and so its caching allocator).
#include <ember/core/object_pool.h>
#include <ember/core/storage.h>

#include <ember/core/backend.h>

namespace ember {
namespace {

void free_via_backend(void* ctx, void* data) {
  // ctx carries the device type; both backends are process-lifetime singletons.
  const auto type = static_cast<DeviceType>(reinterpret_cast<uintptr_t>(ctx) & 0xff);
  const int index = static_cast<int>(reinterpret_cast<uintptr_t>(ctx) >> 8);
  backend(Device(type, index)).deallocate(data);
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  void* data = backend(device).allocate(nbytes);
  void* ctx = reinterpret_cast<void*>(static_cast<uintptr_t>(device.type) |
                                      (static_cast<uintptr_t>(device.index) << 8));
  return detail::make_pooled<Storage>(data, nbytes, device, &free_via_backend, ctx);
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, Device device, Deleter deleter,
                                       void* ctx) {
  return detail::make_pooled<Storage>(data, nbytes, device, deleter, ctx);
}

Storage::~Storage() {
  if (deleter_ != nullptr) deleter_(ctx_, data_);
}

}  // namespace ember
