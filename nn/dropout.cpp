// nn::Dropout: the module form of ember::dropout (core/fused.h), switched by train()/eval().
#include <ember/nn/dropout.h>

#include <ember/core/fused.h>

namespace ember::nn {

DropoutImpl::DropoutImpl(double prob, Generator* gen) : p(prob), gen_(gen) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, ValueError,
              "Dropout: probability has to be between 0 and 1, but got ", p);
}

Tensor DropoutImpl::forward(const Tensor& x) {
  return dropout(x, p, is_training(), gen_);
}

std::string DropoutImpl::extra_repr() const {
  return detail::str_cat("p=", p);
}

}  // namespace ember::nn
