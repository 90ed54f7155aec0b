// Method forms (x.relu(), x.sum(...)) of the free-function ops, for libtorch familiarity.
#include <ember/core/tensor.h>

namespace ember {

Tensor Tensor::add(const Tensor& o) const {
  return ember::add(*this, o);
}
Tensor Tensor::sub(const Tensor& o) const {
  return ember::sub(*this, o);
}
Tensor Tensor::add(const Tensor& o, double alpha) const {
  return ember::add(*this, o, alpha);
}
Tensor Tensor::sub(const Tensor& o, double alpha) const {
  return ember::sub(*this, o, alpha);
}
Tensor Tensor::mul(const Tensor& o) const {
  return ember::mul(*this, o);
}
Tensor Tensor::div(const Tensor& o) const {
  return ember::div(*this, o);
}
Tensor Tensor::pow(double e) const {
  return ember::pow(*this, e);
}
Tensor Tensor::pow(const Tensor& e) const {
  return ember::pow(*this, e);
}
Tensor Tensor::neg() const {
  return ember::neg(*this);
}
Tensor Tensor::exp() const {
  return ember::exp(*this);
}
Tensor Tensor::log() const {
  return ember::log(*this);
}
Tensor Tensor::sqrt() const {
  return ember::sqrt(*this);
}
Tensor Tensor::abs() const {
  return ember::abs(*this);
}
Tensor Tensor::clamp(std::optional<double> min, std::optional<double> max) const {
  return ember::clamp(*this, min, max);
}
Tensor Tensor::relu() const {
  return ember::relu(*this);
}
Tensor Tensor::sigmoid() const {
  return ember::sigmoid(*this);
}
Tensor Tensor::tanh() const {
  return ember::tanh(*this);
}
Tensor Tensor::sum() const {
  return ember::sum(*this);
}
Tensor Tensor::sum(const Shape& dims, bool keepdim) const {
  return ember::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const {
  return ember::mean(*this);
}
Tensor Tensor::mean(const Shape& dims, bool keepdim) const {
  return ember::mean(*this, dims, keepdim);
}
Tensor Tensor::max() const {
  return ember::max(*this);
}
std::tuple<Tensor, Tensor> Tensor::max(int dim, bool keepdim) const {
  return ember::max(*this, dim, keepdim);
}
Tensor Tensor::min() const {
  return ember::min(*this);
}
std::tuple<Tensor, Tensor> Tensor::min(int dim, bool keepdim) const {
  return ember::min(*this, dim, keepdim);
}
Tensor Tensor::argmax() const {
  return ember::argmax(*this);
}
Tensor Tensor::argmax(int dim, bool keepdim) const {
  return ember::argmax(*this, dim, keepdim);
}
Tensor Tensor::argmin() const {
  return ember::argmin(*this);
}
Tensor Tensor::argmin(int dim, bool keepdim) const {
  return ember::argmin(*this, dim, keepdim);
}
Tensor Tensor::matmul(const Tensor& o) const {
  return ember::matmul(*this, o);
}
Tensor Tensor::mm(const Tensor& o) const {
  return ember::mm(*this, o);
}
Tensor Tensor::softmax(int dim) const {
  return ember::softmax(*this, dim);
}
Tensor Tensor::log_softmax(int dim) const {
  return ember::log_softmax(*this, dim);
}
Tensor Tensor::gather(int dim, const Tensor& index) const {
  return ember::gather(*this, dim, index);
}

}  // namespace ember
