// Tensor indexing as libtorch's torch::indexing: the index kinds x.index({...}) and
// x.index_put_({...}, v) take, spelled as in libtorch.
//
//   using namespace ember::indexing;
//   x.index({Slice(), 0})                  // x[:, 0]        (a view)
//   x.index({Slice(1, None, 2), "..."})    // x[1::2, ...]   (a view)
//   x.index({Ellipsis, None})              // x[..., None]   (a view)
//   x.index({idx})                         // x[idx]         (int64 idx: a copy)
//   x.index({mask})                        // x[mask]        (bool mask: a copy)
//   x.index_put_({mask}, 0.0)              // x[mask] = 0
//
// Slice / int / None / Ellipsis give a view sharing x's storage; an index tensor (int64 or
// bool) or a bool scalar makes the result a copy, as in PyTorch. Several index tensors
// broadcast together (advanced indexing as PyTorch's, where an integer counts as a select
// before the tensors are placed): when they are adjacent the broadcast dims take their place,
// otherwise they go first.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <type_traits>
#include <vector>

#include <ember/core/tensor.h>

// X11's <X11/X.h> defines None as a macro; keep it from breaking this header. Code that
// includes X11 after ember can still spell None as std::nullopt.
#pragma push_macro("None")
#undef None

namespace ember::indexing {

// None: a new axis of size 1 (libtorch's None, which is c10::nullopt). Being std::nullopt_t,
// it is also "no bound" in Slice(1, None, 2).
using NoneType = std::nullopt_t;
inline constexpr NoneType None = std::nullopt;

// Ellipsis (or "..."): as many full slices as the dims the other indices leave.
struct EllipsisIndexType {
  explicit EllipsisIndexType() = default;
};
inline constexpr EllipsisIndexType Ellipsis{};

// Python's start:stop:step. A missing start is 0, a missing stop the dim's size; negative
// bounds count from the end and both clamp to the dim, as in Python. step must be > 0.
class Slice {
 public:
  Slice(std::optional<int64_t> start = std::nullopt, std::optional<int64_t> stop = std::nullopt,
        std::optional<int64_t> step = std::nullopt)
      : start_(start), stop_(stop), step_(step.value_or(1)) {}
  std::optional<int64_t> start() const { return start_; }
  std::optional<int64_t> stop() const { return stop_; }
  int64_t step() const { return step_; }

 private:
  std::optional<int64_t> start_, stop_;
  int64_t step_;
};

std::ostream& operator<<(std::ostream& os, const Slice& s);

// One index of x.index({...}). The constructors take exactly the spellings libtorch takes;
// integers and bools go through templates so that 0 means the integer (not a null
// `const char*`) and nothing else converts to bool.
class TensorIndex {
 public:
  enum class Kind { None, Ellipsis, Integer, Boolean, Slice, Tensor };

  TensorIndex(NoneType) : kind_(Kind::None) {}
  TensorIndex(EllipsisIndexType) : kind_(Kind::Ellipsis) {}
  // Only "..." (a ValueError otherwise).
  TensorIndex(const char* str);
  TensorIndex(std::nullptr_t) = delete;
  template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  TensorIndex(T value)
      : kind_(std::is_same_v<T, bool> ? Kind::Boolean : Kind::Integer),
        integer_(static_cast<int64_t>(value)) {}
  TensorIndex(Slice slice) : kind_(Kind::Slice), slice_(slice) {}
  // int64 (positions) or bool (a mask over the dims it covers).
  TensorIndex(Tensor tensor) : kind_(Kind::Tensor), tensor_(std::move(tensor)) {}

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_ellipsis() const { return kind_ == Kind::Ellipsis; }
  bool is_integer() const { return kind_ == Kind::Integer; }
  bool is_boolean() const { return kind_ == Kind::Boolean; }
  bool is_slice() const { return kind_ == Kind::Slice; }
  bool is_tensor() const { return kind_ == Kind::Tensor; }
  int64_t integer() const { return integer_; }
  bool boolean() const { return integer_ != 0; }
  const Slice& slice() const { return slice_; }
  const Tensor& tensor() const { return tensor_; }

 private:
  Kind kind_;
  int64_t integer_ = 0;
  Slice slice_;
  Tensor tensor_;
};

std::ostream& operator<<(std::ostream& os, const TensorIndex& index);

}  // namespace ember::indexing

namespace ember {

// Out-of-place index_put (torch.index_put): a copy of x with `values` (broadcast to the
// indexed shape) written at `indices`, or added there when `accumulate`. Differentiable in
// both x and values.
Tensor index_put(const Tensor& x, const std::vector<indexing::TensorIndex>& indices,
                 const Tensor& values, bool accumulate = false);

}  // namespace ember

#pragma pop_macro("None")
