// TensorDataset, Subset, DataLoader (batching, drop_last, seeded shuffling, the stacking
// and gathering paths agreeing, background workers), randperm and k-fold splits.
#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
using namespace ember::data;
using Idx = std::vector<int64_t>;

namespace {

// n examples; row i of the data is (i, i + 0.5, i + 0.25), target i.
TensorDataset make_dataset(int64_t n) {
  Tensor base = arange(0, static_cast<double>(n), 1, kFloat32).view({n, 1});
  Tensor data = base + from_vector<float>({0.f, 0.5f, 0.25f}).view({1, 3});
  return TensorDataset(data, arange(static_cast<double>(n)));
}

// The same examples served one at a time, so the loader must stack them.
class SlowDataset : public Dataset {
 public:
  explicit SlowDataset(int64_t n) : inner_(make_dataset(n)) {}
  Example get(int64_t i) const override {
    Example e = inner_.get(i);
    return {e.data.clone(), e.target.clone()};
  }
  int64_t size() const override { return inner_.size(); }

 private:
  TensorDataset inner_;
};

// The targets of every batch of one epoch, in order; checks data rows match targets.
Idx epoch_targets(DataLoader& loader) {
  Idx out;
  for (const Batch& b : loader) {
    const Idx t = b.target.to_vector<int64_t>();
    const std::vector<float> d = b.data.to_vector<float>();
    EXPECT_EQ(b.data.size(0), b.target.size(0));
    for (size_t r = 0; r < t.size(); ++r) {
      EXPECT_FLOAT_EQ(d[3 * r], static_cast<float>(t[r]));
      EXPECT_FLOAT_EQ(d[3 * r + 1], static_cast<float>(t[r]) + 0.5f);
    }
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

Idx iota(int64_t n) {
  Idx v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

bool is_permutation_of_iota(Idx v) {
  std::sort(v.begin(), v.end());
  return v == iota(static_cast<int64_t>(v.size()));
}

}  // namespace

TEST(TensorDataset, GetAndErrors) {
  TensorDataset ds = make_dataset(5);
  EXPECT_EQ(ds.size(), 5);
  Example e = ds.get(2);
  EXPECT_EQ(e.data.sizes(), (Shape{3}));
  EXPECT_EQ(e.data.to_vector<float>(), (std::vector<float>{2.f, 2.5f, 2.25f}));
  EXPECT_EQ(e.target.item<int64_t>(), 2);
  EXPECT_THROW(ds.get(5), IndexError);
  EXPECT_THROW(ds.get(-1), IndexError);
  EXPECT_THROW(TensorDataset(zeros({4, 2}), zeros({5})), ShapeError);
  EXPECT_THROW(TensorDataset(zeros({4, 2}), Tensor()), ValueError);
  const Idx bad = {0, 7};
  EXPECT_THROW(ds.get_batch(bad), IndexError);
}

TEST(DataLoader, BatchCountsAndShapes) {
  TensorDataset ds = make_dataset(10);
  DataLoader loader(ds, DataLoaderOptions(4));
  EXPECT_EQ(loader.size(), 3);
  std::vector<int64_t> sizes;
  for (const Batch& b : loader) {
    EXPECT_EQ(b.data.dim(), 2);
    EXPECT_EQ(b.data.size(1), 3);
    EXPECT_EQ(b.target.dim(), 1);
    EXPECT_EQ(b.target.dtype(), kInt64);
    sizes.push_back(b.data.size(0));
  }
  EXPECT_EQ(sizes, (Idx{4, 4, 2}));
  EXPECT_EQ(epoch_targets(loader), iota(10));  // no shuffle: in order

  DataLoader dropping(ds, DataLoaderOptions(4).drop_last(true));
  EXPECT_EQ(dropping.size(), 2);
  EXPECT_EQ(epoch_targets(dropping), iota(8));
  DataLoader exact(ds, DataLoaderOptions(5).drop_last(true));
  EXPECT_EQ(exact.size(), 2);
  DataLoader big(ds, DataLoaderOptions(64));
  EXPECT_EQ(big.size(), 1);
  DataLoader none(ds, DataLoaderOptions(64).drop_last(true));
  EXPECT_EQ(none.size(), 0);
  EXPECT_TRUE(epoch_targets(none).empty());
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions(0)), ValueError);
  EXPECT_EQ(DataLoaderOptions().batch_size(), 64);
}

TEST(DataLoader, ShuffleIsSeededAndChangesPerEpoch) {
  auto ds = std::make_shared<TensorDataset>(make_dataset(50));
  DataLoader a(ds, DataLoaderOptions(8).shuffle(true).seed(42));
  DataLoader b(ds, DataLoaderOptions(8).shuffle(true).seed(42));
  DataLoader c(ds, DataLoaderOptions(8).shuffle(true).seed(43));
  const Idx a0 = epoch_targets(a), a1 = epoch_targets(a), a2 = epoch_targets(a);
  for (const Idx* e : {&a0, &a1, &a2}) EXPECT_TRUE(is_permutation_of_iota(*e));  // once each
  EXPECT_NE(a0, iota(50));
  EXPECT_NE(a0, a1);
  EXPECT_NE(a1, a2);
  EXPECT_EQ(epoch_targets(b), a0);  // same seed, same sequence of epochs
  EXPECT_EQ(epoch_targets(b), a1);
  EXPECT_NE(epoch_targets(c), a0);
  EXPECT_EQ(a.epoch(), 3);
  a.set_epoch(1);  // replay
  EXPECT_EQ(epoch_targets(a), a1);
  EXPECT_EQ(a.epoch_order(2), a2);
}

TEST(DataLoader, ShuffleWithDropLastVisitsEachIndexAtMostOnce) {
  DataLoader loader(make_dataset(23), DataLoaderOptions(5).shuffle(true).drop_last(true).seed(1));
  const Idx t = epoch_targets(loader);
  EXPECT_EQ(t.size(), 20u);
  EXPECT_EQ(std::set<int64_t>(t.begin(), t.end()).size(), 20u);
}

TEST(DataLoader, UnseededLoaderFollowsManualSeed) {
  TensorDataset ds = make_dataset(40);
  manual_seed(7);
  DataLoader a(ds, DataLoaderOptions(10).shuffle(true));
  manual_seed(7);
  DataLoader b(ds, DataLoaderOptions(10).shuffle(true));
  EXPECT_EQ(a.seed(), b.seed());
  EXPECT_EQ(epoch_targets(a), epoch_targets(b));
}

TEST(DataLoader, StackingPathMatchesGatherPath) {
  DataLoader fast(make_dataset(17), DataLoaderOptions(6).shuffle(true).seed(3));
  DataLoader slow(SlowDataset(17), DataLoaderOptions(6).shuffle(true).seed(3));
  auto f = fast.begin();
  auto s = slow.begin();
  for (; f != fast.end(); ++f, ++s) {
    ASSERT_TRUE(s != slow.end());
    EXPECT_EQ(f->data.sizes(), s->data.sizes());
    EXPECT_EQ(f->data.to_vector<float>(), s->data.to_vector<float>());
    EXPECT_EQ(f->target.to_vector<int64_t>(), s->target.to_vector<int64_t>());
  }
  EXPECT_TRUE(s == slow.end());
}

TEST(DataLoader, BatchesAreCopies) {
  TensorDataset ds = make_dataset(4);
  DataLoader loader(ds, DataLoaderOptions(4));
  for (const Batch& b : loader) {
    Tensor d = b.data;
    d.fill_(-1.0);
  }
  EXPECT_EQ(ds.get(0).data.to_vector<float>(), (std::vector<float>{0.f, 0.5f, 0.25f}));
}

// Background workers hand out the same batches, in the same order, as the inline loader:
// every batch of two shuffled epochs, through the row-copy path and the stacking path.
TEST(DataLoader, WorkersGiveTheSameBatches) {
  for (const int workers : {1, 3}) {
    DataLoader inline_loader(make_dataset(53), DataLoaderOptions(8).shuffle(true).seed(5));
    DataLoader ahead(make_dataset(53), DataLoaderOptions(8).shuffle(true).seed(5).workers(workers));
    DataLoader stacked(SlowDataset(53),
                       DataLoaderOptions(8).shuffle(true).seed(5).workers(workers));
    for (int epoch = 0; epoch < 2; ++epoch) {
      const Idx expected = epoch_targets(inline_loader);
      EXPECT_EQ(epoch_targets(ahead), expected) << workers << " workers, epoch " << epoch;
      EXPECT_EQ(epoch_targets(stacked), expected) << workers << " workers, epoch " << epoch;
    }
  }
  EXPECT_THROW(DataLoader(make_dataset(4), DataLoaderOptions(2).workers(-1)), ValueError);
}

// Skipping batches without reading them, reading a copied iterator's batch again, and
// leaving an epoch early all work with workers.
TEST(DataLoader, WorkersFollowTheIterator) {
  DataLoader loader(make_dataset(40), DataLoaderOptions(4).workers(2));
  auto it = loader.begin();
  EXPECT_EQ(it->target.to_vector<int64_t>(), (Idx{0, 1, 2, 3}));
  auto first = it;
  ++it;
  ++it;
  ++it;  // batches 1 and 2 never read
  EXPECT_EQ(it->target.to_vector<int64_t>(), (Idx{12, 13, 14, 15}));
  ++first;  // batch 1, already passed: assembled again
  EXPECT_EQ(first->target.to_vector<int64_t>(), (Idx{4, 5, 6, 7}));
  ++it;
  EXPECT_EQ(it->target.to_vector<int64_t>(), (Idx{16, 17, 18, 19}));
  for (const Batch& b : loader) {  // a new epoch, left after one batch
    EXPECT_EQ(b.target.size(0), 4);
    break;
  }
}

// A Dataset whose batch 2 fails: the error reaches the caller where that batch is read.
TEST(DataLoader, WorkerErrorsAreThrownAtTheBatch) {
  class Failing : public Dataset {
   public:
    Example get(int64_t i) const override {
      EMBER_CHECK(i != 9, IOError, "Failing: example ", i, " is unreadable");
      return {full({2}, static_cast<double>(i)), Tensor()};
    }
    int64_t size() const override { return 16; }
  };
  DataLoader loader(Failing(), DataLoaderOptions(4).workers(2));
  auto it = loader.begin();
  EXPECT_EQ(it->data.size(0), 4);
  ++it;
  EXPECT_EQ(it->data.size(0), 4);
  ++it;
  try {
    (void)*it;
    ADD_FAILURE() << "no error for the unreadable example";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("example 9 is unreadable"), std::string::npos);
  }
  ++it;
  EXPECT_EQ(it->data.to_vector<float>()[0], 12.0f);
}

TEST(Subset, MapsIndices) {
  TensorDataset ds = make_dataset(10);
  Subset sub(ds, {7, 2, 9});
  EXPECT_EQ(sub.size(), 3);
  EXPECT_EQ(sub.get(1).target.item<int64_t>(), 2);
  const Idx pick = {2, 0};
  EXPECT_EQ(sub.get_batch(pick).target.to_vector<int64_t>(), (Idx{9, 7}));
  EXPECT_THROW(sub.get(3), IndexError);
  EXPECT_THROW(Subset(ds, {10}), IndexError);
  DataLoader loader(sub, DataLoaderOptions(2));
  EXPECT_EQ(epoch_targets(loader), (Idx{7, 2, 9}));
}

TEST(Randperm, IsADeterministicPermutation) {
  const Idx p = randperm(1000, 5);
  EXPECT_TRUE(is_permutation_of_iota(p));
  EXPECT_EQ(p, randperm(1000, 5));
  EXPECT_NE(p, randperm(1000, 6));
  EXPECT_NE(p, randperm(1000, 5, 1));
  EXPECT_NE(p, iota(1000));
  EXPECT_TRUE(randperm(0, 1).empty());
  EXPECT_EQ(randperm(1, 1), (Idx{0}));
  // Roughly uniform: each of the 3! orders of 3 elements shows up.
  std::set<Idx> orders;
  for (uint64_t s = 0; s < 60; ++s) orders.insert(randperm(3, s));
  EXPECT_EQ(orders.size(), 6u);
}

TEST(KFold, PartitionsTheIndices) {
  const int64_t n = 23, k = 5;
  for (bool shuffle : {false, true}) {
    std::vector<int64_t> seen(n, 0);
    Idx val_sizes;
    for (int64_t fold = 0; fold < k; ++fold) {
      auto [train, val] = kfold_indices(n, k, fold, shuffle, 9);
      val_sizes.push_back(static_cast<int64_t>(val.size()));
      EXPECT_EQ(train.size() + val.size(), static_cast<size_t>(n));
      Idx all = train;
      all.insert(all.end(), val.begin(), val.end());
      EXPECT_TRUE(is_permutation_of_iota(all)) << "train and val overlap or miss an index";
      for (int64_t i : val) ++seen[i];
      if (!shuffle && fold == 1) {
        EXPECT_EQ(val, (Idx{5, 6, 7, 8, 9}));
      }
    }
    EXPECT_EQ(val_sizes, (Idx{5, 5, 5, 4, 4}));
    for (int64_t c : seen) EXPECT_EQ(c, 1);  // every index validates exactly once
  }
  EXPECT_EQ(kfold_indices(n, k, 2, true, 9), kfold_indices(n, k, 2, true, 9));
  EXPECT_NE(kfold_indices(n, k, 2, true, 9).second, kfold_indices(n, k, 2, false).second);
  EXPECT_THROW(kfold_indices(n, 1, 0), ValueError);
  EXPECT_THROW(kfold_indices(3, 4, 0), ValueError);
  EXPECT_THROW(kfold_indices(n, k, 5), IndexError);
  EXPECT_THROW(kfold_indices(n, k, -1), IndexError);
}

TEST(KFold, DrivesSubsets) {
  TensorDataset ds = make_dataset(12);
  auto [train_idx, val_idx] = kfold_indices(ds.size(), 3, 0, true, 4);
  Subset train(ds, train_idx), val(ds, val_idx);
  DataLoader loader(train, DataLoaderOptions(3).shuffle(true).seed(2));
  Idx t = epoch_targets(loader);
  std::sort(t.begin(), t.end());
  Idx expected = train_idx;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(t, expected);
  EXPECT_EQ(val.size(), 4);
}

namespace {

// device(d): the same batches, gathered on d; on a GPU no host copy per batch.
void expect_device_batches_match(Device device) {
  const TensorDataset ds = make_dataset(23);
  const auto opts = DataLoaderOptions(5).shuffle(true).seed(3);
  DataLoader host(ds, opts);
  DataLoader on_device(ds, DataLoaderOptions(opts).device(device));
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto h = host.begin();
    auto d = on_device.begin();
    const cuda::Counters before = cuda::counters();
    int64_t batches = 0;
    for (; d != on_device.end(); ++d, ++h, ++batches) {
      EXPECT_EQ(d->data.device(), device);
      EXPECT_EQ(d->target.device(), device);
      EXPECT_EQ(d->data.to_vector<float>(), h->data.to_vector<float>()) << "batch " << batches;
      EXPECT_EQ(d->target.to_vector<float>(), h->target.to_vector<float>());
    }
    EXPECT_EQ(batches, 5);
    // begin() sends the epoch's order (23 int64) once; the batches themselves cost nothing.
    if (device.is_cuda()) {
      EXPECT_EQ((cuda::counters() - before).h2d_bytes, 0);
    }
  }
}

}  // namespace

TEST(DataLoader, DeviceModeGathersTheSameBatchesOnTheDevice) {
  expect_device_batches_match(kCPU);
  if (cuda::is_available()) expect_device_batches_match(Device::cuda());
}
