// nn::ModuleList and nn::ModuleDict.
#include <ember/nn/module_list.h>

#include <algorithm>
#include <sstream>

namespace ember::nn {

// ---- ModuleList ----------------------------------------------------------------------------

void ModuleListImpl::append(std::shared_ptr<Module> module) {
  EMBER_CHECK(module != nullptr, ValueError, name(), "::push_back: null module");
  add_child(std::to_string(items_.size()), module);
  items_.push_back(std::move(module));
}

void ModuleListImpl::extend(const ModuleListImpl& other) {
  // Copied first: `other` may be this list.
  const std::vector<std::shared_ptr<Module>> more = other.items_;
  for (const auto& m : more) append(m);
}

std::shared_ptr<Module> ModuleListImpl::ptr(size_t index) const {
  EMBER_CHECK(index < items_.size(), IndexError, name(), ": index ", index,
              " is out of range for a ", name(), " of ", items_.size(), " modules");
  return items_[index];
}

void ModuleListImpl::throw_wrong_type(size_t index) const {
  throw ValueError(detail::str_cat(name(), ": module ", index, " is a ", items_[index]->name(),
                                   ", not the requested type"));
}

// ---- ModuleDict ----------------------------------------------------------------------------

namespace {
auto find_item(const std::vector<ModuleDictImpl::Item>& items, const std::string& key) {
  return std::find_if(items.begin(), items.end(), [&](const auto& i) { return i.first == key; });
}
}  // namespace

void ModuleDictImpl::put(const std::string& key, std::shared_ptr<Module> module) {
  EMBER_CHECK(module != nullptr, ValueError, "ModuleDict: module '", key, "' is null");
  const auto it = find_item(items_, key);
  if (it == items_.end()) {
    add_child(key, module);  // checks the key
    items_.emplace_back(key, std::move(module));
    return;
  }
  replace_child(key, module);
  items_[static_cast<size_t>(it - items_.begin())].second = std::move(module);
}

void ModuleDictImpl::update(const std::vector<Item>& items) {
  for (const auto& [key, module] : items) put(key, module);
}

std::shared_ptr<Module> ModuleDictImpl::pop(const std::string& key) {
  std::shared_ptr<Module> module = ptr(key);
  remove_child(key);
  items_.erase(find_item(items_, key));
  return module;
}

void ModuleDictImpl::clear() {
  for (const auto& [key, module] : items_) remove_child(key);
  items_.clear();
}

bool ModuleDictImpl::contains(const std::string& key) const {
  return find_item(items_, key) != items_.end();
}

std::shared_ptr<Module> ModuleDictImpl::ptr(const std::string& key) const {
  const auto it = find_item(items_, key);
  if (it == items_.end()) {
    std::ostringstream known;
    for (const auto& [k, m] : items_) known << (known.tellp() > 0 ? ", " : "") << "'" << k << "'";
    throw ValueError(detail::str_cat("ModuleDict: no module under key '", key,
                                     "' (keys: ", items_.empty() ? "none" : known.str(), ")"));
  }
  return it->second;
}

std::vector<std::string> ModuleDictImpl::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, module] : items_) out.push_back(key);
  return out;
}

std::vector<std::shared_ptr<Module>> ModuleDictImpl::values() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [key, module] : items_) out.push_back(module);
  return out;
}

void ModuleDictImpl::throw_wrong_type(const std::string& key) const {
  throw ValueError(detail::str_cat("ModuleDict: module '", key, "' is a ", ptr(key)->name(),
                                   ", not the requested type"));
}

}  // namespace ember::nn
