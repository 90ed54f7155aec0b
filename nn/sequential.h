// nn::Sequential: a chain of modules, each fed the previous one's output.
//
//   nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
//   model->push_back(nn::Dropout(0.1));
//   Tensor logits = model(x);
//   nn::LinearImpl& first = model->at<nn::Linear>(0);
//
// Children are named "0", "1", ... so parameters read "0.weight", "2.bias", as in PyTorch.
// Everything but forward (push_back, extend, indexing, typed access) is ModuleList's.
#pragma once

#include <utility>

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>
#include <ember/nn/module_item.h>
#include <ember/nn/module_list.h>

namespace ember::nn {

class SequentialImpl : public ModuleListImpl {
 public:
  SequentialImpl() = default;
  template <internal::ModuleItem... Ms>
  requires(sizeof...(Ms) > 0) explicit SequentialImpl(Ms&&... modules)
      : ModuleListImpl(std::forward<Ms>(modules)...) {}

  // Feeds input through every module in order (the input itself when empty).
  Tensor forward(const Tensor& input) override;
};
EMBER_MODULE(Sequential);

}  // namespace ember::nn
