// What the module containers (Sequential, ModuleList, ModuleDict) accept: a holder
// (nn::Linear), a shared_ptr to a module, or a module by value (moved in), turned into the
// shared_ptr a container holds; and impl_of_t, which maps a holder type to its module type
// for typed access (seq->at<nn::Linear>(0) is the LinearImpl).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn::internal {

template <class T>
struct is_module_ptr : std::false_type {};
template <class M>
struct is_module_ptr<std::shared_ptr<M>> : std::is_base_of<Module, M> {};

template <class T>
concept ModuleItem = ModuleHolderType<T> || is_module_ptr<std::remove_cvref_t<T>>::value ||
    std::is_base_of_v<Module, std::remove_cvref_t<T>>;

template <ModuleItem M>
std::shared_ptr<Module> module_ptr(M&& module) {
  using T = std::remove_cvref_t<M>;
  if constexpr (ModuleHolderType<T>) {
    return module.ptr();
  } else if constexpr (is_module_ptr<T>::value) {
    return std::forward<M>(module);
  } else {
    // Modules are move-only: a named module must be passed with std::move, as a holder or
    // as a shared_ptr.
    static_assert(!std::is_lvalue_reference_v<M>,
                  "pass a module by std::move(...), as a holder or as a std::shared_ptr");
    return std::make_shared<T>(std::forward<M>(module));
  }
}

template <class T>
struct impl_of {
  using type = T;
};
template <ModuleHolderType T>
struct impl_of<T> {
  using type = typename T::ContainedType;
};
template <class T>
using impl_of_t = typename impl_of<T>::type;

}  // namespace ember::nn::internal
