// Tensor: a strided view (sizes, strides, offset) over a shared Storage, plus autograd
// state. Copying a Tensor copies a handle: both refer to the same data, as in libtorch.
// Every op lives in the ember:: namespace (ember::matmul(a, b)); the common ones are also
// methods (a.matmul(b)) and operators (a + b).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <ember/core/device.h>
#include <ember/core/dtype.h>
#include <ember/core/error.h>
#include <ember/core/shape.h>
#include <ember/core/storage.h>
#include <ember/core/tensor_options.h>

namespace ember {

class Tensor;
class Generator;
namespace autograd {
class Node;
}
namespace indexing {
class TensorIndex;  // core/indexing.h, included at the end of this header
}

// Autograd state, allocated only for tensors that take part in autograd.
struct AutogradMeta;

class TensorImpl {
 public:
  TensorImpl(std::shared_ptr<Storage> storage, const Shape& sizes, const Shape& strides,
             int64_t offset, DType dtype);
  ~TensorImpl();

  std::shared_ptr<Storage> storage;
  Shape sizes;
  Shape strides;
  int64_t offset;  // in elements
  DType dtype;
  Device device;
  std::unique_ptr<AutogradMeta> autograd;

  AutogradMeta& autograd_meta();  // creates it on first use
};

enum class Reduction { None, Mean, Sum };

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- metadata -----------------------------------------------------------------------
  const Shape& sizes() const { return checked()->sizes; }
  const Shape& shape() const { return sizes(); }
  const Shape& strides() const { return checked()->strides; }
  int64_t size(int dim) const;
  int64_t stride(int dim) const;
  int dim() const { return sizes().size(); }
  int64_t numel() const { return sizes().numel(); }
  DType dtype() const { return checked()->dtype; }
  Device device() const { return checked()->device; }
  bool is_cuda() const { return device().is_cuda(); }
  int64_t storage_offset() const { return checked()->offset; }
  int64_t element_size() const { return dtype_size(dtype()); }
  int64_t nbytes() const { return numel() * element_size(); }
  bool is_contiguous() const;
  // Whether two tensors share memory (same storage).
  bool shares_storage(const Tensor& o) const;

  // Raw pointer to the first element. data_ptr<T>() checks that T matches the dtype.
  void* data_ptr() const;
  template <typename T>
  T* data_ptr() const {
    EMBER_CHECK(dtype() == dtype_of_v<T>, DTypeError, "data_ptr: tensor is ", dtype(),
                ", requested ", dtype_of_v<T>);
    return static_cast<T*>(data_ptr());
  }

  // ---- conversion ---------------------------------------------------------------------
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor to(Device device, DType dtype) const;
  Tensor cpu() const { return to(kCPU); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }
  Tensor clone() const;
  Tensor contiguous() const;  // self when already contiguous
  // The single value of a one-element tensor, converted to T (synchronises with the GPU).
  template <typename T = double>
  T item() const;
  // All elements in row-major order, converted to T.
  template <typename T>
  std::vector<T> to_vector() const;

  // ---- views (share storage) ----------------------------------------------------------
  Tensor view(const Shape& shape) const;     // one size may be -1; needs compatible strides
  Tensor reshape(const Shape& shape) const;  // view when possible, else a copy
  Tensor flatten(int start_dim = 0, int end_dim = -1) const;
  Tensor transpose(int dim0, int dim1) const;
  Tensor permute(const Shape& dims) const;
  Tensor t() const;  // transpose of a <= 2-D tensor
  Tensor slice(int dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int dim, int64_t start, int64_t length) const;
  Tensor select(int dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor squeeze() const;
  Tensor squeeze(int dim) const;
  Tensor unsqueeze(int dim) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a size; new dims on the left
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
  Tensor view_as(const Tensor& other) const { return view(other.sizes()); }

  // ---- indexing (core/indexing.h) -----------------------------------------------------
  // libtorch's x.index({Slice(), 0}): a view for Slice / integer / None / Ellipsis indices,
  // a copy when an index is a tensor (int64 positions, bool mask) or a bool.
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
  // x.index_put_({...}, v): writes v (broadcast to the indexed shape) into x, or adds it when
  // `accumulate`. Differentiable in v and in a non-leaf x (see core/ops/tensor_index.cpp).
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values,
                     bool accumulate = false);
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& values,
                     bool accumulate = false);
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, double value);
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, double value);
  // The out-of-place form (torch.Tensor.index_put): a copy of x with v put at the indices.
  Tensor index_put(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values,
                   bool accumulate = false) const;
  Tensor index_put(const std::vector<indexing::TensorIndex>& indices, const Tensor& values,
                   bool accumulate = false) const;

  // ---- autograd -----------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool enabled = true);
  bool is_leaf() const;
  // Gradient accumulated by backward() (undefined until the first backward).
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  // Keep .grad for this non-leaf tensor too.
  void retain_grad() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // Back-propagates from this tensor. A non-scalar tensor needs `gradient` (same shape).
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  // The same data, cut from the graph.
  Tensor detach() const;
  uint32_t version() const { return checked()->storage->version(); }

  // ---- in-place (bump the version counter) --------------------------------------------
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& add_(double value);
  Tensor& sub_(const Tensor& other, double alpha = 1.0);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(double value);
  Tensor& div_(double value);
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);  // broadcasts src, converts dtype, crosses devices
  Tensor& clamp_(std::optional<double> min, std::optional<double> max);

  // ---- method forms of common ops ------------------------------------------------------
  Tensor add(const Tensor& o) const;
  Tensor sub(const Tensor& o) const;
  Tensor add(const Tensor& o, double alpha) const;
  Tensor sub(const Tensor& o, double alpha) const;
  Tensor mul(const Tensor& o) const;
  Tensor div(const Tensor& o) const;
  Tensor pow(double e) const;
  Tensor pow(const Tensor& e) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor clamp(std::optional<double> min, std::optional<double> max) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor max() const;
  std::tuple<Tensor, Tensor> max(int dim, bool keepdim = false) const;
  Tensor min() const;
  std::tuple<Tensor, Tensor> min(int dim, bool keepdim = false) const;
  Tensor argmax() const;
  Tensor argmax(int dim, bool keepdim = false) const;
  Tensor argmin() const;
  Tensor argmin(int dim, bool keepdim = false) const;
  Tensor matmul(const Tensor& o) const;
  Tensor mm(const Tensor& o) const;
  Tensor softmax(int dim) const;
  Tensor log_softmax(int dim) const;
  Tensor gather(int dim, const Tensor& index) const;
  // method forms of the combine/split, statistics and selection functions at the end
  std::vector<Tensor> split(int64_t split_size, int dim = 0) const;
  std::vector<Tensor> split(const std::vector<int64_t>& split_sizes, int dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int dim = 0) const;
  std::vector<Tensor> unbind(int dim = 0) const;
  Tensor norm(double p = 2) const;
  Tensor norm(double p, const Shape& dims, bool keepdim = false) const;
  Tensor prod() const;
  Tensor prod(int dim, bool keepdim = false) const;
  Tensor var(const Shape& dims = {}, double correction = 1, bool keepdim = false) const;
  Tensor std(const Shape& dims = {}, double correction = 1, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> topk(int64_t k, int dim = -1, bool largest = true,
                                  bool sorted = true) const;
  std::tuple<Tensor, Tensor> kthvalue(int64_t k, int dim = -1, bool keepdim = false) const;
  Tensor all() const;
  Tensor all(int dim, bool keepdim = false) const;
  Tensor any() const;
  Tensor any(int dim, bool keepdim = false) const;
  Tensor masked_fill(const Tensor& mask, double value) const;
  Tensor index_select(int dim, const Tensor& index) const;
  std::tuple<Tensor, Tensor> sort(int dim = -1, bool descending = false, bool stable = false) const;
  Tensor argsort(int dim = -1, bool descending = false, bool stable = false) const;

 private:
  TensorImpl* checked() const {
    EMBER_CHECK(impl_ != nullptr, Error, "operation on an undefined tensor");
    return impl_.get();
  }
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- factories -----------------------------------------------------------------------
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// [start, end) in steps of `step`; int64 unless options say otherwise.
Tensor arange(double end, TensorOptions options = kInt64);
Tensor arange(double start, double end, double step = 1, TensorOptions options = kInt64);
Tensor eye(int64_t n, TensorOptions options = {});
// Uniform in [0, 1), standard normal, integers in [low, high): from `gen` or the default
// generator (Philox; same seed -> same values on every device).
Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = kInt64,
               Generator* gen = nullptr);
// Copies `values` (row-major) into a new tensor of `shape` (default: 1-D).
template <typename T>
Tensor from_vector(const std::vector<T>& values, std::optional<Shape> shape = std::nullopt,
                   TensorOptions options = dtype_of_v<T>);
// A float32 1-D tensor: ember::tensor({1.f, 2.f}); or any dtype through options.
Tensor tensor(std::initializer_list<double> values, TensorOptions options = {});
// A 0-dim tensor holding `value`.
Tensor scalar_tensor(double value, TensorOptions options = {});
// Wraps caller-owned memory without copying (CPU); the caller keeps it alive.
Tensor from_blob(void* data, const Shape& shape, DType dtype, Device device = kCPU);
Tensor from_blob(void* data, const Shape& shape, const Shape& strides, DType dtype,
                 Device device = kCPU);

// ---- elementwise -----------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
// a + alpha * b and a - alpha * b, as torch.add/sub with alpha (integral alpha for integer
// tensors); differentiable in both.
Tensor add(const Tensor& a, const Tensor& b, double alpha);
Tensor sub(const Tensor& a, const Tensor& b, double alpha);
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, double b);
Tensor sub(double a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, double b);
Tensor div(double a, const Tensor& b);
Tensor pow(const Tensor& a, double exponent);
Tensor pow(const Tensor& a, const Tensor& exponent);
Tensor pow(double base, const Tensor& exponent);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);
Tensor trunc(const Tensor& x);
Tensor frac(const Tensor& x);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor clamp_min(const Tensor& x, double min);
Tensor clamp_max(const Tensor& x, double max);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, double b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, double b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, double b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& x);

// ---- comparison and selection (no gradient through the mask) ---------------------------
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- activations -----------------------------------------------------------------------
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
// approximate: "none" (erf) or "tanh", as torch.nn.functional.gelu.
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor softmax(const Tensor& x, int dim);
Tensor log_softmax(const Tensor& x, int dim);

// ---- reductions ------------------------------------------------------------------------
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const Shape& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const Shape& dims, bool keepdim = false);
Tensor max(const Tensor& x);
std::tuple<Tensor, Tensor> max(const Tensor& x, int dim, bool keepdim = false);
Tensor min(const Tensor& x);
std::tuple<Tensor, Tensor> min(const Tensor& x, int dim, bool keepdim = false);
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, int dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, int dim, bool keepdim = false);

// ---- linear algebra --------------------------------------------------------------------
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
// torch.matmul semantics: 1-D dot/matrix-vector, 2-D mm, N-D batched with broadcasting.
Tensor matmul(const Tensor& a, const Tensor& b);
// x · weightᵀ + bias in one call (bias optional); x (..., in), weight (out, in).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- indexing --------------------------------------------------------------------------
Tensor gather(const Tensor& x, int dim, const Tensor& index);
// A copy of x with src added at the positions index names along dim.
Tensor scatter_add(const Tensor& x, int dim, const Tensor& index, const Tensor& src);

// ---- losses ----------------------------------------------------------------------------
// Fused log-softmax + NLL over (N, C) logits (or (C) with a 0-dim target) with int64
// class targets; rows whose target == ignore_index contribute nothing. label_smoothing ε in
// [0, 1] mixes the target with the uniform distribution, as in PyTorch: a row's loss is
// (1 - ε) nll + ε mean_c(-log_softmax), and Mean still divides by the rows not ignored.
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                Reduction reduction = Reduction::Mean, int64_t ignore_index = -100);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// ---- normalization (core/ops/norm.cpp) -------------------------------------------------
// As torch.nn.functional's. layer_norm normalises over the trailing dims `normalized_shape`
// (the input must end in them); weight and bias, when defined, have that shape. batch_norm
// takes (N, C, ...) and per-channel (C) tensors: in training (or without running statistics)
// it uses the batch's statistics and, when given, updates running_mean and running_var in
// place (running = (1 - momentum) running + momentum batch, the variance unbiased); in
// evaluation it uses the running statistics. Both gradients flow to x, weight and bias.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  bool training = false, double momentum = 0.1, double eps = 1e-5);

// ---- combine and split, statistics, selection ------------------------------------------
// Combine and split (core/ops/combine.cpp). cat joins along an existing dim (dtypes promote;
// a 1-D tensor of size 0 is skipped, as in PyTorch), stack along a new one. split, chunk and
// unbind return views; each piece routes its gradient back to its slice.
Tensor cat(const std::vector<Tensor>& tensors, int dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int dim = 0);
Tensor stack(std::initializer_list<Tensor> tensors, int dim = 0);
// Pieces of split_size along dim (the last may be smaller).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int dim = 0);
// Pieces of the given lengths, which must sum to x.size(dim). A one-element braced list
// ({3}) picks the split_size overload above; name split_with_sizes to be explicit.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& split_sizes, int dim = 0);
std::vector<Tensor> split_with_sizes(const Tensor& x, const std::vector<int64_t>& split_sizes,
                                     int dim = 0);
// `chunks` pieces of ceil(size / chunks) (fewer when the size runs out, as torch.chunk).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int dim = 0);
std::vector<Tensor> unbind(const Tensor& x, int dim = 0);

// Statistics (core/ops/statistics.cpp). norm is the vector p-norm (torch.norm /
// torch.linalg.vector_norm) for any real p: 0 counts nonzeros, +-INFINITY are max/min |x|.
// Empty dims means all elements.
Tensor norm(const Tensor& x, double p = 2);
Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim = false);
// Product (int64 for integer and bool inputs). The gradient is right with zeros: one zero in a
// slice gets the product of the others, several zeros give zero gradient.
Tensor prod(const Tensor& x);
Tensor prod(const Tensor& x, int dim, bool keepdim = false);
// Variance and standard deviation over `dims` (empty: all), dividing by N - correction:
// correction 1 (the default, torch's unbiased=True) or 0 (population); a bool converts to
// exactly those. std's gradient is 0 where std is 0, as PyTorch's.
Tensor var(const Tensor& x, const Shape& dims = {}, double correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Shape& dims = {}, double correction = 1, bool keepdim = false);
// Whether all / any elements are nonzero (NaN counts as nonzero); bool results.
Tensor all(const Tensor& x);
Tensor all(const Tensor& x, int dim, bool keepdim = false);
Tensor any(const Tensor& x);
Tensor any(const Tensor& x, int dim, bool keepdim = false);

// Sorting (core/ops/sorting.cpp): values and int64 indices along dim. The order is always
// stable (so `stable` and topk's `sorted` = false give the same, valid, result) and NaN sorts
// as larger than every number. Gradients scatter back to the indices.
std::tuple<Tensor, Tensor> sort(const Tensor& x, int dim = -1, bool descending = false,
                                bool stable = false);
Tensor argsort(const Tensor& x, int dim = -1, bool descending = false, bool stable = false);
// The k largest (or smallest) along dim, 0 <= k <= x.size(dim).
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int dim = -1, bool largest = true,
                                bool sorted = true);
// The k-th smallest along dim, 1 <= k <= x.size(dim).
std::tuple<Tensor, Tensor> kthvalue(const Tensor& x, int64_t k, int dim = -1, bool keepdim = false);

// Selection (core/ops/indexing.cpp). masked_fill: `value` where the bool mask (broadcast with
// x) is true; no gradient flows to filled positions. index_select: the slices of x along dim
// named by a 0-D or 1-D int64 index (repeats allowed; their gradients add up).
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
Tensor index_select(const Tensor& x, int dim, const Tensor& index);

}  // namespace ember

// Tensor::index needs the index types complete at every call.
#include <ember/core/indexing.h>
