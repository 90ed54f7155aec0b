// DataLoader: iterates a Dataset in batches, as torch.utils.data.DataLoader.
//
//   ember::data::DataLoader loader(train_set,
//       ember::data::DataLoaderOptions().batch_size(256).shuffle(true).seed(42));
//   for (const ember::data::Batch& b : loader) { ... b.data, b.target ... }
//
// Each range-for (each begin()) is one epoch. With shuffle, epoch e visits the dataset in
// the order randperm(size, seed, e) (permutation.h): a new order every epoch, the same
// sequence of orders for the same seed on every platform. Without a seed a shuffling loader
// takes one from ember's default generator when it is constructed, so ember::manual_seed()
// makes a whole program reproducible, as torch.manual_seed does.
//
// Batches come from Dataset::get_batch, so tensor-backed datasets (TensorDataset, MNIST,
// Subsets of them) copy whole rows with memcpy instead of stacking single examples.
//
// workers(n), as in libtorch's DataLoaderOptions: n background threads assemble the next n
// batches while the caller trains on the current one. Batches still arrive in order and are
// the same tensors as with workers(0) (the default: each batch assembled when dereferenced),
// so results stay bit-identical for a seed. An error in get_batch is thrown where the batch
// is dereferenced. With workers, get_batch runs on those threads, concurrently with the
// caller: the built-in datasets allow it; a Dataset of your own must too.
//
// device(d): the dataset is copied to device d once, when the loader is made (Fashion-MNIST's
// 60000 images are 188 MB in float32), and every batch is gathered there: each epoch's order
// goes to the device once, and a batch is two index_select launches on it, with nothing copied
// from the host per step. The batches are the same values as without it, on d. workers() are
// not used then (the gathering is queued on the device).
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <ember/data/dataset.h>

namespace ember::data {

class DataLoaderOptions {
 public:
  DataLoaderOptions() = default;
  explicit DataLoaderOptions(int64_t batch_size) : batch_size_(batch_size) {}

  DataLoaderOptions& batch_size(int64_t v) {
    batch_size_ = v;
    return *this;
  }
  DataLoaderOptions& shuffle(bool v) {
    shuffle_ = v;
    return *this;
  }
  DataLoaderOptions& drop_last(bool v) {
    drop_last_ = v;
    return *this;
  }
  DataLoaderOptions& seed(uint64_t v) {
    seed_ = v;
    return *this;
  }
  DataLoaderOptions& workers(int v) {
    workers_ = v;
    return *this;
  }
  DataLoaderOptions& device(Device v) {
    device_ = v;
    return *this;
  }

  int64_t batch_size() const { return batch_size_; }
  bool shuffle() const { return shuffle_; }
  bool drop_last() const { return drop_last_; }
  const std::optional<uint64_t>& seed() const { return seed_; }
  int workers() const { return workers_; }
  const std::optional<Device>& device() const { return device_; }

 private:
  int64_t batch_size_ = 64;
  bool shuffle_ = false;
  bool drop_last_ = false;  // drop the last batch when it is smaller than batch_size
  std::optional<uint64_t> seed_;
  int workers_ = 0;               // background threads assembling the next batches; 0: none
  std::optional<Device> device_;  // where the dataset lives and batches are gathered
};

namespace detail {
class BatchPrefetcher;
}

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
  // Keeps a copy of `dataset` (cheap for tensor-backed datasets: tensors are handles).
  template <class D>
  requires std::derived_from<D, Dataset> DataLoader(D dataset, DataLoaderOptions options = {})
      : DataLoader(std::make_shared<const D>(std::move(dataset)), options) {}

  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;

    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return batch_ == o.batch_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::shared_ptr<const std::vector<int64_t>> order,
             int64_t batch, std::shared_ptr<detail::BatchPrefetcher> prefetcher = nullptr,
             Tensor device_order = Tensor())
        : loader_(loader),
          order_(std::move(order)),
          batch_(batch),
          prefetcher_(std::move(prefetcher)),
          device_order_(std::move(device_order)) {}

    const DataLoader* loader_ = nullptr;
    std::shared_ptr<const std::vector<int64_t>> order_;  // this epoch's index order
    int64_t batch_ = 0;
    // The epoch's worker threads (workers > 0), shared by copies of this iterator.
    std::shared_ptr<detail::BatchPrefetcher> prefetcher_;
    Tensor device_order_;  // with DataLoaderOptions::device: the order, on that device
    mutable bool loaded_ = false;
    mutable Batch current_;
  };

  // Starts the next epoch (its own order when shuffling).
  Iterator begin();
  Iterator end() const { return Iterator(this, nullptr, size()); }

  // Batches per epoch: ceil(n / batch_size), or floor with drop_last.
  int64_t size() const;
  // Batch `batch` of an epoch visiting `order`, assembled on the calling thread.
  Batch load_batch(const std::vector<int64_t>& order, int64_t batch) const;
  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }
  uint64_t seed() const { return seed_; }
  // The epoch the next begin() starts (0 for the first); set_epoch replays or skips ahead.
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch);
  // The order in which epoch `epoch` visits the dataset's indices.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

 private:
  // Batch `batch` of the epoch whose order is `order` on the device (device mode).
  Batch load_device_batch(const Tensor& order, int64_t batch) const;

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  Batch on_device_;  // device mode: every example, in index order, on the device
  uint64_t seed_ = 0;
  int64_t epoch_ = 0;
};

}  // namespace ember::data
