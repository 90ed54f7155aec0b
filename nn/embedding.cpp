// nn::Embedding.
#include <ember/nn/embedding.h>

#include <ember/nn/functional.h>
#include <ember/nn/init.h>

namespace ember::nn {

EmbeddingImpl::EmbeddingImpl(int64_t count, int64_t dim, Generator* gen)
    : num_embeddings(count), embedding_dim(dim) {
  EMBER_CHECK(count > 0 && dim > 0, ValueError, "Embedding: num_embeddings (", count,
              ") and embedding_dim (", dim, ") must be positive");
  weight = register_parameter("weight", empty({count, dim}));
  reset_parameters(gen);
}

void EmbeddingImpl::reset_parameters(Generator* gen) {
  init::normal_(weight, 0.0, 1.0, gen);
}

Tensor EmbeddingImpl::forward(const Tensor& indices) {
  return functional::embedding(indices, weight);
}

std::string EmbeddingImpl::extra_repr() const {
  return detail::str_cat(num_embeddings, ", ", embedding_dim);
}

}  // namespace ember::nn
