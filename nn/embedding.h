// nn::Embedding: a lookup table of num_embeddings vectors of embedding_dim, as PyTorch's.
// forward maps int64 indices of any shape to (..., embedding_dim); the rows are gathered by
// index_select's kernels and their gradients summed back into the table by scatter_add's,
// on every device. An index outside [0, num_embeddings) is an IndexError naming it (at the
// call on the CPU, at the next wait on a GPU).
#pragma once

#include <cstdint>
#include <string>

#include <ember/core/generator.h>
#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

class EmbeddingImpl : public Module {
 public:
  // weight (num_embeddings, embedding_dim), float32, initialised from N(0, 1) as in PyTorch.
  EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim, Generator* gen = nullptr);
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;
  void reset_parameters(Generator* gen = nullptr);

  int64_t num_embeddings, embedding_dim;
  Tensor weight;
};
EMBER_MODULE(Embedding);

}  // namespace ember::nn
