// DataLoader (dataloader.h).
#include <ember/data/dataloader.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <span>

#include <ember/core/generator.h>
#include <ember/data/permutation.h>

namespace ember::data {

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  EMBER_CHECK(dataset_ != nullptr, ValueError, "DataLoader: dataset is null");
  EMBER_CHECK(options_.batch_size() > 0, ValueError,
              "DataLoader: batch_size must be positive, got ", options_.batch_size());
  if (options_.seed()) {
    seed_ = *options_.seed();
  } else if (options_.shuffle()) {
    // One draw from the default generator, so manual_seed() fixes the data order too.
    // Only when shuffling: an in-order loader leaves the global random stream alone.
    seed_ =
        static_cast<uint64_t>(randint(0, std::numeric_limits<int64_t>::max(), {1}).item<int64_t>());
  }
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size(), b = options_.batch_size();
  return options_.drop_last() ? n / b : (n + b - 1) / b;
}

void DataLoader::set_epoch(int64_t epoch) {
  EMBER_CHECK(epoch >= 0, ValueError, "DataLoader::set_epoch: epoch must be >= 0, got ", epoch);
  epoch_ = epoch;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  const int64_t n = dataset_->size();
  if (options_.shuffle()) return randperm(n, seed_, static_cast<uint64_t>(epoch));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  return order;
}

DataLoader::Iterator DataLoader::begin() {
  auto order = std::make_shared<const std::vector<int64_t>>(epoch_order(epoch_));
  ++epoch_;
  return Iterator(this, std::move(order), 0);
}

const Batch& DataLoader::Iterator::operator*() const {
  EMBER_CHECK(order_ != nullptr && batch_ < loader_->size(), IndexError,
              "DataLoader: dereferencing an iterator past the last batch");
  if (!loaded_) {
    const int64_t bs = loader_->options_.batch_size();
    const int64_t begin = batch_ * bs;
    const int64_t end = std::min<int64_t>(begin + bs, static_cast<int64_t>(order_->size()));
    current_ = loader_->dataset_->get_batch(
        std::span<const int64_t>(order_->data() + begin, static_cast<size_t>(end - begin)));
    loaded_ = true;
  }
  return current_;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++batch_;
  loaded_ = false;
  current_ = Batch();
  return *this;
}

}  // namespace ember::data
