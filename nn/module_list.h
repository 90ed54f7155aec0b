// nn::ModuleList and nn::ModuleDict: modules held by position or by name, registered as
// children (so their parameters are the owner's, named "layers.0.weight" or
// "heads.age.weight" as in PyTorch), with no forward of their own: the owner decides how to
// call them.
//
//   struct NetImpl : nn::Module {
//     nn::ModuleList layers =
//         register_module("layers", nn::ModuleList(nn::Linear(784, 256), nn::Linear(256, 10)));
//     Tensor forward(const Tensor& x) override {
//       Tensor h = x;
//       for (const auto& layer : *layers) h = relu(layer->forward(h));
//       return h;
//     }
//   };
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>
#include <ember/nn/module_item.h>

namespace ember::nn {

// Also the base of Sequential, which adds forward. Errors name the container's type.
class ModuleListImpl : public Module {
 public:
  ModuleListImpl() = default;
  template <internal::ModuleItem... Ms>
  requires(sizeof...(Ms) > 0) explicit ModuleListImpl(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  // Appends as child "<size()>": a holder, a shared_ptr or a module value (moved in).
  template <internal::ModuleItem M>
  void push_back(M&& module) {
    append(internal::module_ptr(std::forward<M>(module)));
  }
  // Appends every module of `other` (shared, not copied).
  void extend(const ModuleListImpl& other);

  size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }

  // The i-th module; IndexError when out of range.
  std::shared_ptr<Module> operator[](size_t index) const { return ptr(index); }
  std::shared_ptr<Module> ptr(size_t index) const;
  // The i-th module as T (an impl, or a holder such as nn::Linear for its LinearImpl);
  // ValueError naming both types when it is not one.
  template <class T>
  std::shared_ptr<internal::impl_of_t<T>> ptr(size_t index) const {
    auto typed = std::dynamic_pointer_cast<internal::impl_of_t<T>>(ptr(index));
    if (!typed) throw_wrong_type(index);
    return typed;
  }
  template <class T>
  internal::impl_of_t<T>& at(size_t index) const {
    return *ptr<T>(index);
  }

  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  void append(std::shared_ptr<Module> module);
  [[noreturn]] void throw_wrong_type(size_t index) const;
  std::vector<std::shared_ptr<Module>> items_;
};
EMBER_MODULE(ModuleList);

class ModuleDictImpl : public Module {
 public:
  using Item = std::pair<std::string, std::shared_ptr<Module>>;

  ModuleDictImpl() = default;
  explicit ModuleDictImpl(const std::vector<Item>& items) { update(items); }

  // Adds `module` under `key`, or replaces the module there (keeping its position), as
  // PyTorch's __setitem__. Keys follow register_module's rules (non-empty, no '.').
  template <internal::ModuleItem M>
  void insert(const std::string& key, M&& module) {
    put(key, internal::module_ptr(std::forward<M>(module)));
  }
  void update(const std::vector<Item>& items);
  // Removes and returns the module under `key`; ValueError naming the key when absent.
  std::shared_ptr<Module> pop(const std::string& key);
  void clear();

  size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }
  bool contains(const std::string& key) const;
  // The module under `key`; ValueError naming the key and the keys there are when absent.
  std::shared_ptr<Module> operator[](const std::string& key) const { return ptr(key); }
  std::shared_ptr<Module> ptr(const std::string& key) const;
  template <class T>
  std::shared_ptr<internal::impl_of_t<T>> ptr(const std::string& key) const {
    auto typed = std::dynamic_pointer_cast<internal::impl_of_t<T>>(ptr(key));
    if (!typed) throw_wrong_type(key);
    return typed;
  }
  template <class T>
  internal::impl_of_t<T>& at(const std::string& key) const {
    return *ptr<T>(key);
  }

  // In insertion order.
  std::vector<std::string> keys() const;
  std::vector<std::shared_ptr<Module>> values() const;
  const std::vector<Item>& items() const { return items_; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  void put(const std::string& key, std::shared_ptr<Module> module);
  [[noreturn]] void throw_wrong_type(const std::string& key) const;
  std::vector<Item> items_;
};
EMBER_MODULE(ModuleDict);

}  // namespace ember::nn
