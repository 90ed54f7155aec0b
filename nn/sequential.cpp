// nn::Sequential.
#include <ember/nn/sequential.h>

#include <string>

namespace ember::nn {

void Sequential::append(std::shared_ptr<Module> module) {
  EMBER_CHECK(module != nullptr, ValueError, "Sequential::push_back: null module");
  add_child(std::to_string(items_.size()), module);
  items_.push_back(std::move(module));
}

std::shared_ptr<Module> Sequential::ptr(size_t index) const {
  EMBER_CHECK(index < items_.size(), IndexError, "Sequential: index ", index,
              " is out of range for a Sequential of ", items_.size(), " modules");
  return items_[index];
}

void Sequential::throw_wrong_type(size_t index) const {
  throw ValueError(detail::str_cat("Sequential: module ", index, " is a ", items_[index]->name(),
                                   ", not the requested type"));
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& m : items_) x = m->forward(x);
  return x;
}

}  // namespace ember::nn
