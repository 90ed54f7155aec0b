// Dataset, TensorDataset and Subset (dataset.h).
#include <ember/data/dataset.h>

#include <ember/core/autograd/grad_mode.h>

namespace ember::data {
namespace {

void check_index(const char* op, int64_t index, int64_t size) {
  EMBER_CHECK(index >= 0 && index < size, IndexError, op, ": index ", index,
              " is out of range for a dataset of size ", size);
}

// Rows of `src` (dim 0) at `indices`, as a new contiguous tensor: index_select's row copy
// (a memcpy per run of consecutive rows on the CPU, one launch on a GPU).
Tensor index_rows(const Tensor& src, std::span<const int64_t> indices) {
  EMBER_CHECK(src.defined() && src.dim() >= 1, ShapeError,
              "index_rows: source needs at least one dim");
  const int64_t rows = src.size(0);
  for (int64_t i : indices) check_index("index_rows", i, rows);
  NoGradGuard no_grad;
  const auto n = static_cast<int64_t>(indices.size());
  if (n == 0) {
    Shape shape = src.sizes();
    shape[0] = 0;
    return empty(shape, TensorOptions(src.dtype()).device(src.device()));
  }
  // The caller's indices, viewed without a copy (index_select only reads them).
  Tensor index = from_blob(const_cast<int64_t*>(indices.data()), {n}, kInt64);
  if (!src.device().is_cpu()) index = index.to(src.device());
  return index_select(src, 0, index);
}

}  // namespace

Batch Dataset::get_batch(std::span<const int64_t> indices) const {
  std::vector<Tensor> data, targets;
  data.reserve(indices.size());
  targets.reserve(indices.size());
  for (int64_t i : indices) {
    Example e = get(i);
    data.push_back(std::move(e.data));
    targets.push_back(std::move(e.target));
  }
  Batch b;
  if (indices.empty()) return b;
  NoGradGuard no_grad;  // a batch is data, not part of a graph
  b.data = ember::stack(data);
  bool any_target = false, all_targets = true;
  for (const Tensor& t : targets) {
    any_target |= t.defined();
    all_targets &= t.defined();
  }
  EMBER_CHECK(any_target == all_targets, ValueError,
              "Dataset::get_batch: some examples have a target and some don't");
  if (all_targets) b.target = ember::stack(targets);
  return b;
}

// ---- TensorDataset ----------------------------------------------------------------------

TensorDataset::TensorDataset(Tensor data, Tensor targets) {
  EMBER_CHECK(data.defined() && targets.defined(), ValueError,
              "TensorDataset: data and targets must both be defined");
  EMBER_CHECK(data.dim() >= 1 && targets.dim() >= 1, ShapeError,
              "TensorDataset: data and targets need a leading example dim (got shapes ",
              data.sizes(), " and ", targets.sizes(), ")");
  EMBER_CHECK(data.size(0) == targets.size(0), ShapeError, "TensorDataset: ", data.size(0),
              " data rows but ", targets.size(0), " targets");
  data_ = data.detach().contiguous();
  targets_ = targets.detach().contiguous();
}

Example TensorDataset::get(int64_t index) const {
  check_index("TensorDataset::get", index, size());
  return {data_.select(0, index), targets_.select(0, index)};
}

Batch TensorDataset::get_batch(std::span<const int64_t> indices) const {
  return {index_rows(data_, indices), index_rows(targets_, indices)};
}

// ---- Subset -----------------------------------------------------------------------------

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  EMBER_CHECK(dataset_ != nullptr, ValueError, "Subset: dataset is null");
  const int64_t n = dataset_->size();
  for (int64_t i : indices_) check_index("Subset", i, n);
}

Example Subset::get(int64_t index) const {
  check_index("Subset::get", index, size());
  return dataset_->get(indices_[index]);
}

Batch Subset::get_batch(std::span<const int64_t> indices) const {
  std::vector<int64_t> mapped;
  mapped.reserve(indices.size());
  for (int64_t i : indices) {
    check_index("Subset::get_batch", i, size());
    mapped.push_back(indices_[i]);
  }
  return dataset_->get_batch(mapped);
}

}  // namespace ember::data
