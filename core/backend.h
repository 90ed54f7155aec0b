// The op layer's view of the devices: backend(device), whose entry points are the kernel API
// (kernels/common/backend.h, declared in backend_kernels.inc), and each device's memory,
// which core keeps in a caching allocator over the raw allocator the device's kernels supply.
#pragma once

#include <cstddef>

#include <ember/core/allocator.h>
#include <ember/core/device.h>
#include <ember/core/error.h>
#include <ember/kernels/common/backend.h>

namespace ember {

using kernels::Backend;
using kernels::bad_index_error;
using kernels::bad_target_error;
using kernels::BinaryOp;
using kernels::Layout;
using kernels::LossReduction;
using kernels::ReduceOp;
using kernels::UnaryOp;
using kernels::UnaryParams;

// The backend of `device`, made on its first use; throws DeviceError if that device is not
// available.
Backend& backend(Device device);
// The backend of `device` if something has used the device already, else nullptr (creates
// nothing: cuda::synchronize() waits only for devices in use).
Backend* backend_if_used(Device device);

// The caching allocator of `device`'s memory (throws as backend() does).
CachingAllocator& device_allocator(Device device);
// The same if something has used the device already, else nullptr (creates nothing).
CachingAllocator* device_allocator_if_used(Device device);
// A block of `device`'s memory for its backend's stream, and its release.
void* device_allocate(Device device, size_t nbytes);
void device_deallocate(Device device, void* ptr);
// The tag device_allocate gives `device`'s blocks: its stream's (0 on the CPU).
StreamId device_stream_tag(Device device);

}  // namespace ember
