// DataLoader (dataloader.h).
#include <ember/data/dataloader.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <span>
#include <thread>

#include <ember/core/generator.h>
#include <ember/core/threads.h>
#include <ember/data/permutation.h>

namespace ember::data {

namespace detail {

// The batches of one epoch, assembled ahead by `workers` threads: each thread claims the next
// batch not yet claimed, at most `workers` batches beyond the last one taken, and files it
// (or the exception get_batch threw) by number; take(k) waits for batch k. A batch taken a
// second time (a copied iterator dereferenced again) is assembled on the caller's thread.
class BatchPrefetcher {
 public:
  BatchPrefetcher(const DataLoader& loader, std::shared_ptr<const std::vector<int64_t>> order,
                  int workers)
      : loader_(loader), order_(std::move(order)), batches_(loader.size()), workers_(workers) {
    threads_.reserve(static_cast<size_t>(workers));
    for (int t = 0; t < workers; ++t) threads_.emplace_back([this] { work(); });
  }
  ~BatchPrefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wanted_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  Batch take(int64_t k) {
    std::unique_lock<std::mutex> lock(mu_);
    if (k < wanted_from_) {  // handed out before: assemble it again here
      lock.unlock();
      return loader_.load_batch(*order_, k);
    }
    // Batches skipped over (an iterator advanced without dereferencing) are dropped.
    wanted_from_ = k;
    for (auto it = done_.begin(); it != done_.end() && it->first < k;) it = done_.erase(it);
    wanted_.notify_all();  // the window moved on
    ready_.wait(lock, [&] { return done_.count(k) > 0; });
    Done d = std::move(done_.at(k));
    done_.erase(k);
    wanted_from_ = k + 1;
    wanted_.notify_all();
    lock.unlock();
    if (d.error) std::rethrow_exception(d.error);
    return std::move(d.batch);
  }

 private:
  struct Done {
    Batch batch;
    std::exception_ptr error;
  };

  // The next batch to claim: past every claimed one and every one no longer wanted.
  int64_t next_batch() const { return std::max(next_claim_, wanted_from_); }

  void work() {
    // The copies run on this thread alone: taking the pool would leave the training loop's
    // next op to run single-threaded.
    SingleThreadGuard single_thread;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wanted_.wait(lock, [&] {
        return stop_ || next_batch() < std::min(batches_, wanted_from_ + workers_);
      });
      if (stop_) return;
      const int64_t k = next_batch();
      next_claim_ = k + 1;
      lock.unlock();
      Done d;
      try {
        d.batch = loader_.load_batch(*order_, k);
      } catch (...) {
        d.error = std::current_exception();
      }
      lock.lock();
      if (k >= wanted_from_) done_.emplace(k, std::move(d));
      ready_.notify_all();
    }
  }

  const DataLoader& loader_;
  const std::shared_ptr<const std::vector<int64_t>> order_;
  const int64_t batches_;
  const int workers_;
  std::mutex mu_;
  std::condition_variable wanted_, ready_;
  int64_t next_claim_ = 0;   // one past the last batch a thread claimed
  int64_t wanted_from_ = 0;  // the first batch that may still be taken
  std::map<int64_t, Done> done_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace detail

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  EMBER_CHECK(dataset_ != nullptr, ValueError, "DataLoader: dataset is null");
  EMBER_CHECK(options_.batch_size() > 0, ValueError,
              "DataLoader: batch_size must be positive, got ", options_.batch_size());
  EMBER_CHECK(options_.workers() >= 0, ValueError, "DataLoader: workers must be 0 or more, got ",
              options_.workers());
  if (options_.device()) {
    // Once: every example, in index order, then moved (a tensor dataset's rows are copied
    // whole, in one index_select per tensor).
    std::vector<int64_t> all(static_cast<size_t>(dataset_->size()));
    std::iota(all.begin(), all.end(), int64_t{0});
    const Batch everything = dataset_->get_batch(all);
    on_device_.data = everything.data.to(*options_.device());
    if (everything.target.defined()) on_device_.target = everything.target.to(*options_.device());
  }
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
  if (options_.device()) {
    Tensor device_order =
        from_vector<int64_t>(*order, std::nullopt, TensorOptions(kInt64).device(kCPU))
            .to(*options_.device());
    return Iterator(this, std::move(order), 0, nullptr, std::move(device_order));
  }
  std::shared_ptr<detail::BatchPrefetcher> prefetcher;
  if (options_.workers() > 0 && size() > 0)
    prefetcher = std::make_shared<detail::BatchPrefetcher>(*this, order, options_.workers());
  return Iterator(this, std::move(order), 0, std::move(prefetcher));
}

Batch DataLoader::load_batch(const std::vector<int64_t>& order, int64_t batch) const {
  const int64_t bs = options_.batch_size();
  const int64_t begin = batch * bs;
  const int64_t end = std::min<int64_t>(begin + bs, static_cast<int64_t>(order.size()));
  return dataset_->get_batch(
      std::span<const int64_t>(order.data() + begin, static_cast<size_t>(end - begin)));
}

Batch DataLoader::load_device_batch(const Tensor& order, int64_t batch) const {
  const int64_t bs = options_.batch_size();
  const int64_t begin = batch * bs;
  const int64_t len = std::min<int64_t>(bs, order.numel() - begin);
  const Tensor index = order.narrow(0, begin, len);
  Batch b;
  b.data = on_device_.data.index_select(0, index);
  if (on_device_.target.defined()) b.target = on_device_.target.index_select(0, index);
  return b;
}

const Batch& DataLoader::Iterator::operator*() const {
  EMBER_CHECK(order_ != nullptr && batch_ < loader_->size(), IndexError,
              "DataLoader: dereferencing an iterator past the last batch");
  if (!loaded_) {
    current_ = device_order_.defined() ? loader_->load_device_batch(device_order_, batch_)
               : prefetcher_           ? prefetcher_->take(batch_)
                                       : loader_->load_batch(*order_, batch_);
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
