// The process-wide default generator.
#include <ember/core/generator.h>

namespace ember {

Generator& default_generator() {
  static Generator gen;
  return gen;
}

void manual_seed(uint64_t seed) {
  default_generator().manual_seed(seed);
}

}  // namespace ember
