// What the module containers (Sequential, ModuleList, ModuleDict) accept: a shared_ptr to a
// module, or a module by value (moved in), turned into the shared_ptr a container holds.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include <ember/nn/module.h>

namespace ember::nn::internal {

template <class T>
struct is_module_ptr : std::false_type {};
template <class M>
struct is_module_ptr<std::shared_ptr<M>> : std::is_base_of<Module, M> {};

template <class T>
concept ModuleItem = is_module_ptr<std::remove_cvref_t<T>>::value ||
    std::is_base_of_v<Module, std::remove_cvref_t<T>>;

template <ModuleItem M>
std::shared_ptr<Module> module_ptr(M&& module) {
  using T = std::remove_cvref_t<M>;
  if constexpr (is_module_ptr<T>::value) {
    return std::forward<M>(module);
  } else {
    // Modules are move-only: a named module must be passed with std::move or as a shared_ptr.
    static_assert(!std::is_lvalue_reference_v<M>,
                  "pass a module by std::move(...) or as a std::shared_ptr");
    return std::make_shared<T>(std::forward<M>(module));
  }
}

}  // namespace ember::nn::internal
