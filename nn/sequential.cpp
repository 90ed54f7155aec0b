// nn::Sequential.
#include <ember/nn/sequential.h>

namespace ember::nn {

Tensor SequentialImpl::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& m : *this) x = m->forward(x);
  return x;
}

}  // namespace ember::nn
