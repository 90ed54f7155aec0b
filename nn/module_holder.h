// nn::ModuleHolder and EMBER_MODULE: libtorch's module holders. Every built-in module is a
// class FooImpl (the nn::Module) and a holder Foo that shares ownership of one FooImpl:
//
//   nn::Linear fc(784, 256);        // makes a LinearImpl(784, 256)
//   Tensor y = fc(x);               // fc->forward(x)
//   fc->weight;                     // -> reaches the impl
//   nn::Linear alias = fc;          // the same module, not a copy of it
//   nn::Linear later{nullptr};      // empty, for members assigned in a constructor
//
// A user's module works the same way: write NetImpl and EMBER_MODULE(Net) makes the holder.
// A holder converts to std::shared_ptr<Impl> (and to a shared_ptr of any base), so code
// written against shared_ptrs keeps working.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <ember/core/error.h>
#include <ember/nn/module.h>

namespace ember::nn {

template <class Impl>
class ModuleHolder;

namespace internal {
template <class T>
struct is_module_holder_of : std::false_type {};
template <class Impl>
struct is_module_holder_of<ModuleHolder<Impl>> : std::true_type {};
[[noreturn]] void throw_empty_holder(const std::type_info& impl);
}  // namespace internal

template <class Impl>
class ModuleHolder {
  static_assert(std::is_base_of_v<Module, Impl>, "ModuleHolder: Impl must derive from nn::Module");

  // True for the holder types (a holder's copy must not reach the forwarding constructor).
  template <class T>
  static constexpr bool is_holder = std::is_base_of_v<ModuleHolder<Impl>, std::remove_cvref_t<T>> ||
                                    std::is_same_v<std::remove_cvref_t<T>, std::nullptr_t> ||
                                    std::is_same_v<std::remove_cvref_t<T>, std::shared_ptr<Impl>>;

 public:
  using ContainedType = Impl;

  // A new Impl() where Impl has a default constructor (nn::ReLU relu;), as in libtorch.
  ModuleHolder() requires std::is_default_constructible_v<Impl> : impl_(std::make_shared<Impl>()) {}
  // Empty: every access throws until a module is assigned.
  ModuleHolder(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): nn::Linear fc{nullptr}
  // Takes part in ownership of an existing module.
  ModuleHolder(std::shared_ptr<Impl> module)  // NOLINT(google-explicit-constructor)
      : impl_(std::move(module)) {}
  // A new Impl(args...).
  template <class Head, class... Tail>
  requires(!(sizeof...(Tail) == 0 && is_holder<Head>)&&std::is_constructible_v<
           Impl, Head, Tail...>) explicit ModuleHolder(Head&& head, Tail&&... tail)
      : impl_(std::make_shared<Impl>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}

  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  Impl* get() const {
    if (!impl_) internal::throw_empty_holder(typeid(Impl));
    return impl_.get();
  }
  const std::shared_ptr<Impl>& ptr() const {
    get();
    return impl_;
  }
  bool is_empty() const { return impl_ == nullptr; }

  // To std::shared_ptr<Impl>, or to a shared_ptr of one of its bases (nn::Module).
  template <class T>
  requires std::is_convertible_v<Impl*, T*>
  operator std::shared_ptr<T>() const {  // NOLINT(google-explicit-constructor)
    return ptr();
  }

  // Calls the module's forward with these arguments (a loss takes two).
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    return get()->forward(std::forward<Args>(args)...);
  }
  // Indexes the module (a Sequential, ModuleList or ModuleDict): list[0], dict["head"].
  template <class Key>
  decltype(auto) operator[](Key&& key) const {
    return (*get())[std::forward<Key>(key)];
  }

 private:
  std::shared_ptr<Impl> impl_;
};

namespace internal {
// ModuleHolder<Impl> or a class derived from one (what EMBER_MODULE makes).
template <class T>
concept ModuleHolderType = requires {
  typename std::remove_cvref_t<T>::ContainedType;
}
&&std::is_base_of_v<ModuleHolder<typename std::remove_cvref_t<T>::ContainedType>,
                    std::remove_cvref_t<T>>;
}  // namespace internal

template <class Impl>
std::ostream& operator<<(std::ostream& os, const ModuleHolder<Impl>& holder) {
  return os << *holder;
}

}  // namespace ember::nn

// Makes the holder `Name` for a module class `NameImpl` (libtorch's TORCH_MODULE).
#define EMBER_MODULE(Name)                                     \
  class Name : public ::ember::nn::ModuleHolder<Name##Impl> {  \
   public:                                                     \
    using ::ember::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
    using Impl = Name##Impl;                                   \
  }
