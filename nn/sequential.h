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

namespace ember::nn {

namespace internal {
template <class T>
struct is_module_ptr : std::false_type {};
template <class M>
struct is_module_ptr<std::shared_ptr<M>> : std::is_base_of<Module, M> {};

// What Sequential accepts: a shared_ptr to a module, or a module by value (moved in).
template <class T>
concept SequentialItem = is_module_ptr<std::remove_cvref_t<T>>::value ||
    std::is_base_of_v<Module, std::remove_cvref_t<T>>;
}  // namespace internal

class Sequential : public Module {
 public:
  Sequential() = default;
  // A single Sequential argument moves (the move constructor wins); to nest a lone
  // Sequential, pass it as a shared_ptr.
  template <internal::SequentialItem... Ms>
  requires(sizeof...(Ms) > 0) explicit Sequential(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  template <internal::SequentialItem M>
  void push_back(M&& module) {
    using T = std::remove_cvref_t<M>;
    if constexpr (internal::is_module_ptr<T>::value) {
      append(std::forward<M>(module));
    } else {
      // Modules are move-only: a named module must be passed with std::move or as a
      // shared_ptr.
      static_assert(!std::is_lvalue_reference_v<M>,
                    "Sequential: pass a module by std::move(...) or as a std::shared_ptr");
      append(std::make_shared<T>(std::forward<M>(module)));
    }
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
