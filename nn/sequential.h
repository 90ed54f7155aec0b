// nn::Sequential: a chain of modules, each fed the previous one's output.
//
//   nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
//   model.push_back(std::make_shared<nn::Dropout>(0.1));   // or a module value
//   Tensor logits = model(x);
//   auto& first = model.at<nn::Linear>(0);
//
// Children are named "0", "1", ... so parameters read "0.weight", "2.bias", as in PyTorch.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <ember/nn/module.h>
#include <ember/nn/module_item.h>

namespace ember::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  // A single Sequential argument moves (the move constructor wins); to nest a lone
  // Sequential, pass it as a shared_ptr.
  template <internal::ModuleItem... Ms>
  requires(sizeof...(Ms) > 0) explicit Sequential(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  template <internal::ModuleItem M>
  void push_back(M&& module) {
    append(internal::module_ptr(std::forward<M>(module)));
  }

  size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }

  // The i-th module; IndexError when out of range.
  std::shared_ptr<Module> operator[](size_t index) const { return ptr(index); }
  std::shared_ptr<Module> ptr(size_t index) const;
  // The i-th module as T; ValueError when it is not a T.
  template <class T>
  std::shared_ptr<T> ptr(size_t index) const {
    auto typed = std::dynamic_pointer_cast<T>(ptr(index));
    if (!typed) throw_wrong_type(index);
    return typed;
  }
  template <class T>
  T& at(size_t index) const {
    return *ptr<T>(index);
  }

  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

  // Feeds input through every module in order (the input itself when empty).
  Tensor forward(const Tensor& input) override;

 private:
  void append(std::shared_ptr<Module> module);
  [[noreturn]] void throw_wrong_type(size_t index) const;
  std::vector<std::shared_ptr<Module>> items_;
};

}  // namespace ember::nn
