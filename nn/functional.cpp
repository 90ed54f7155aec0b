// nn::functional ops that are compositions rather than single ember:: ops.
#include <ember/nn/functional.h>

#include <limits>

namespace ember::nn::functional {

Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, Reduction reduction,
                                        const Tensor& weight, const Tensor& pos_weight) {
  constexpr const char* op = "binary_cross_entropy_with_logits";
  EMBER_CHECK(x.defined() && y.defined(), ValueError, op, ": undefined input or target");
  EMBER_CHECK(is_floating(x.dtype()) && is_floating(y.dtype()), DTypeError, op,
              ": input and target must be floating point, got ", x.dtype(), " and ", y.dtype());
  EMBER_CHECK(x.sizes() == y.sizes(), ShapeError, op, ": target size ", y.sizes(),
              " must be the same as input size ", x.sizes());
  // softplus(z) with an infinite threshold is exactly max(z, 0) + log1p(exp(-|z|)) (see
  // SoftplusF), and its derivative is sigmoid(z) everywhere, including z = 0 where a
  // composition of relu and abs would get the subgradient wrong.
  constexpr double kNoThreshold = std::numeric_limits<double>::infinity();
  Tensor loss;
  if (pos_weight.defined()) {
    // (1 - y) x + (1 + (pw - 1) y) softplus(-x): the positive term log(1 + e^-x) scaled.
    Tensor log_weight = 1.0 + (pos_weight - 1.0) * y;
    loss = (1.0 - y) * x + log_weight * ember::softplus(-x, 1.0, kNoThreshold);
  } else {
    loss = ember::softplus(x, 1.0, kNoThreshold) - x * y;
  }
  if (weight.defined()) loss = loss * weight;
  switch (reduction) {
    case Reduction::None:
      return loss;
    case Reduction::Sum:
      return ember::sum(loss);
    case Reduction::Mean:
      return ember::mean(loss);
  }
  return loss;
}

Tensor embedding(const Tensor& input, const Tensor& weight) {
  EMBER_CHECK(input.defined() && weight.defined(), ValueError,
              "embedding: undefined input or weight");
  EMBER_CHECK(weight.dim() == 2, ShapeError,
              "embedding: weight must be 2-D (num_embeddings, "
              "embedding_dim), got shape ",
              weight.sizes());
  EMBER_CHECK(input.dtype() == kInt64, DTypeError, "embedding: indices must be int64, got ",
              dtype_name(input.dtype()));
  EMBER_CHECK(input.device() == weight.device(), DeviceError, "embedding: indices on ",
              input.device(), " but the weight on ", weight.device());
  const Tensor flat = input.reshape({input.numel()});
  if (flat.device().is_cpu()) {
    // On the CPU the indices can be read at no cost, so a bad one names this op; on a GPU
    // index_select's kernel finds it without a host wait (reported at the next wait).
    const Tensor c = flat.contiguous();
    const auto* idx = static_cast<const int64_t*>(c.data_ptr());
    const int64_t rows = weight.size(0);
    for (int64_t i = 0; i < c.numel(); ++i)
      EMBER_CHECK(idx[i] >= 0 && idx[i] < rows, IndexError, "embedding: index ", idx[i],
                  " at position ", i, " is out of range for ", rows, " embeddings");
  }
  Shape out = input.sizes();
  out.push_back(weight.size(1));
  return index_select(weight, 0, flat).view(out);
}

}  // namespace ember::nn::functional
