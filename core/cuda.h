// CUDA device queries. Without a CUDA build (or without a GPU) is_available() is false and
// device_count() is 0, so programs can pick the best device with one call.
#pragma once

namespace ember::cuda {

bool is_available();
int device_count();
// Waits for all queued GPU work (a no-op without CUDA).
void synchronize();

}  // namespace ember::cuda
