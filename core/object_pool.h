// make_pooled<T>(...): std::make_shared over a thread-local free list. Every op creates a
// TensorImpl and a Storage; with malloc/free those two objects cost more than the rest of a
// small op put together (measured with callgrind: ~500 of ~900 instructions per 1-element
// relu). Blocks go back to the free list of the thread that frees them, capped per size.
//
// A thread's lists go back to the heap when it exits: the first block a list caches registers
// a thread_local reaper, whose destructor frees the list and closes it. The lists themselves
// stay trivially destructible thread_locals (no guard on the hot path), so an object released
// after the reaper ran (by another thread_local's destructor, or during static destruction)
// still finds a valid, closed list and goes straight to the heap.
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
  bool reaped;   // the thread is exiting: nothing more is cached
  bool watched;  // a reaper will free the list when the thread exits
};

template <size_t Size>
inline FreeList<Size>& free_list() {
  static thread_local FreeList<Size> list{nullptr, 0, false, false};  // no destructor
  return list;
}

// Frees a thread's list of one block size when the thread exits.
template <size_t Size>
struct FreeListReaper {
  ~FreeListReaper() {
    auto& list = free_list<Size>();
    list.reaped = true;
    while (auto* node = list.head) {
      list.head = node->next;
      ::operator delete(node);
    }
    list.count = 0;
  }
};

template <size_t Size>
void watch_free_list(FreeList<Size>& list) {
  static thread_local FreeListReaper<Size> reaper;  // constructed here, once per thread
  (void)reaper;
  list.watched = true;
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
      if (list.count < kMaxCached && !list.reaped) {
        if (!list.watched) [[unlikely]]
          watch_free_list(list);
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
