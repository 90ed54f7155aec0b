// TensorOptions: dtype, device and requires_grad for factories, in libtorch's builder style:
//   ember::zeros({2, 3}, ember::TensorOptions().dtype(ember::kFloat64).requires_grad(true))
// A bare DType or Device converts implicitly: ember::ones({3}, ember::kInt64). The device
// defaults to default_device() (core/device.h), the dtype to float32 -- except where a factory
// takes its dtype from its data (from_vector<T>: T unless the options name a dtype, so
// from_vector<double>(v, std::nullopt, kCPU) stays float64, as in libtorch).
#pragma once

#include <ember/core/device.h>
#include <ember/core/dtype.h>

namespace ember {

struct TensorOptions {
  DType dtype_ = kFloat32;
  bool has_dtype_ = false;            // whether dtype_ was given, not defaulted
  Device device_ = default_device();  // kCPU unless set_default_device was called
  bool requires_grad_ = false;

  TensorOptions() = default;
  TensorOptions(DType dt) : dtype_(dt), has_dtype_(true) {}  // NOLINT(google-explicit-constructor)
  TensorOptions(Device dev) : device_(dev) {}                // NOLINT(google-explicit-constructor)

  TensorOptions dtype(DType dt) const {
    TensorOptions o = *this;
    o.dtype_ = dt;
    o.has_dtype_ = true;
    return o;
  }
  TensorOptions device(Device dev) const {
    TensorOptions o = *this;
    o.device_ = dev;
    return o;
  }
  TensorOptions requires_grad(bool r) const {
    TensorOptions o = *this;
    o.requires_grad_ = r;
    return o;
  }
  DType dtype() const { return dtype_; }
  bool has_dtype() const { return has_dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }
};

}  // namespace ember
