// make_pooled<T>(...): std::make_shared over a thread-local free list. Every op creates a
// TensorImpl and a Storage; with malloc/free those two objects cost more than the rest of a
// small op put together (measured with callgrind: ~500 of ~900 instructions per 1-element
// relu). Blocks go back to the free list of the thread that frees them, capped per size.
// The free lists are never destroyed (trivially destructible thread_locals), so objects
// released during static destruction still find a valid list; at most the capped blocks of
// an exiting thread are left to the OS.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace ember::detail {

template <size_t Size>
struct FreeList {
  struct Node {
    Node* next;
  };
  Node* head;
  size_t count;
};

template <size_t Size>
inline FreeList<Size>& free_list() {
  static thread_local FreeList<Size> list{nullptr, 0};  // zero-initialised, no destructor
  return list;
}

template <typename T>
struct PoolAllocator {
  using value_type = T;
  static constexpr size_t kMaxCached = 1024;

  PoolAllocator() = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) {}  // NOLINT(google-explicit-constructor)

  T* allocate(size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    if (n == 1) {
      auto& list = free_list<sizeof(T)>();
      if (auto* node = list.head) {
        list.head = node->next;
        --list.count;
        return reinterpret_cast<T*>(node);
      }
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n == 1) {
      auto& list = free_list<sizeof(T)>();
      if (list.count < kMaxCached) {
        auto* node = reinterpret_cast<typename FreeList<sizeof(T)>::Node*>(p);
        node->next = list.head;
        list.head = node;
        ++list.count;
        return;
      }
    }
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

template <typename T, typename... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace ember::detail
