// ember::OrderedDict: a list of (key, value) items in insertion order that is also looked up
// by key, as libtorch's torch::OrderedDict (what named_parameters() and state_dict() return)
// and Python's OrderedDict:
//
//   auto params = model->named_parameters();
//   Tensor w = params["fc1.weight"];                  // ValueError naming the key if absent
//   if (Tensor* b = params.find("fc1.bias")) ...      // nullptr if absent
//   for (auto& [name, tensor] : params) ...           // or item.key(), item.value()
//
// It is a std::vector of items, so code that builds one with emplace_back or walks it by
// position keeps working. Lookups by key are linear: these dicts hold a model's tensors
// (tens to thousands), and a list stays a list when an item's key is edited in place.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <ember/core/error.h>

namespace ember {

template <class Key, class Value>
struct OrderedDictItem : std::pair<Key, Value> {
  using std::pair<Key, Value>::pair;
  const Key& key() const { return this->first; }
  Value& value() { return this->second; }
  const Value& value() const { return this->second; }
};

template <class Key, class Value>
class OrderedDict : public std::vector<OrderedDictItem<Key, Value>> {
 public:
  using Item = OrderedDictItem<Key, Value>;
  using Base = std::vector<Item>;
  using Base::Base;
  using Base::insert;      // by position, as a vector's
  using Base::operator[];  // by position
  OrderedDict() = default;
  // From a plain list of pairs (what a StateDict was before it was a dict).
  OrderedDict(const std::vector<std::pair<Key, Value>>& items)  // NOLINT(google-explicit-*)
      : Base(items.begin(), items.end()) {}

  // The value under `key`; ValueError naming it when absent.
  Value& operator[](const Key& key) { return *checked(find(key), key); }
  const Value& operator[](const Key& key) const { return *checked(find(key), key); }

  // A pointer to the value under `key`, or nullptr.
  Value* find(const Key& key) {
    auto it =
        std::find_if(this->begin(), this->end(), [&](const Item& i) { return i.first == key; });
    return it == this->end() ? nullptr : &it->second;
  }
  const Value* find(const Key& key) const { return const_cast<OrderedDict*>(this)->find(key); }
  bool contains(const Key& key) const { return find(key) != nullptr; }

  // Appends (key, value) and returns the stored value; ValueError if the key is taken.
  Value& insert(Key key, Value value) {
    EMBER_CHECK(!contains(key), ValueError, "OrderedDict::insert: key '", key,
                "' is already present");
    this->emplace_back(std::move(key), std::move(value));
    return this->back().second;
  }

  std::vector<Key> keys() const {
    std::vector<Key> out;
    out.reserve(this->size());
    for (const Item& i : *this) out.push_back(i.first);
    return out;
  }
  std::vector<Value> values() const {
    std::vector<Value> out;
    out.reserve(this->size());
    for (const Item& i : *this) out.push_back(i.second);
    return out;
  }
  const Base& items() const { return *this; }

 private:
  template <class V>
  V* checked(V* value, const Key& key) const {
    EMBER_CHECK(value != nullptr, ValueError, "OrderedDict: no key '", key, "' among ",
                this->size(), " keys");
    return value;
  }
};

}  // namespace ember
