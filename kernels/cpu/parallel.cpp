// Thread-count control for the shared OpenMP pool. oneDNN (built with the OpenMP runtime)
// reads the same omp_get_max_threads(), so one call here sizes BLAS and our loops alike.
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {

int get_num_threads() {
  return omp_get_max_threads();
}

void set_num_threads(int n) {
  omp_set_num_threads(n < 1 ? 1 : n);
}

}  // namespace ember::kernels::cpu
