// Datasets: an indexable collection of (data, target) examples, as torch.utils.data.
// Dataset is the interface; TensorDataset serves rows of two tensors; Subset views a
// dataset through a list of indices (k-fold splits, hold-out sets).
//
// get_batch() is the DataLoader's entry point. The default stacks get(i) one example at a
// time; datasets backed by whole tensors override it to copy all rows of a batch in one go,
// so the loader never bottlenecks a training loop.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <ember/core/tensor.h>

namespace ember::data {

struct Example {
  Tensor data;
  Tensor target;
};

// Examples stacked along a new dim 0.
struct Batch {
  Tensor data;
  Tensor target;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual Example get(int64_t index) const = 0;
  virtual int64_t size() const = 0;
  // The examples at `indices`, stacked along a new dim 0 (fresh tensors, not views). All
  // examples must have the same shapes and dtypes; an undefined target stays undefined.
  virtual Batch get_batch(std::span<const int64_t> indices) const;
};

// Example i is (data[i], targets[i]) (views of row i). Stores contiguous tensors; batches
// are gathered row by row with memcpy on the CPU.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor data, Tensor targets);

  Example get(int64_t index) const override;
  int64_t size() const override { return data_.size(0); }
  Batch get_batch(std::span<const int64_t> indices) const override;

  const Tensor& data() const { return data_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor data_;
  Tensor targets_;
};

// Example i of a Subset is example indices[i] of the underlying dataset.
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices);
  // Keeps a copy of `dataset` (cheap for tensor-backed datasets: tensors are handles).
  template <class D>
  requires std::derived_from<D, Dataset> Subset(D dataset, std::vector<int64_t> indices)
      : Subset(std::make_shared<const D>(std::move(dataset)), std::move(indices)) {}

  Example get(int64_t index) const override;
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Batch get_batch(std::span<const int64_t> indices) const override;

  const Dataset& dataset() const { return *dataset_; }
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<int64_t> indices_;
};

}  // namespace ember::data
