// cudasim's modes: ways of running that make the simulator show what a GPU would, and that the
// default (everything runs inside the call that asks for it, blocks in order, one device)
// hides. Each starts from an environment variable, read once, so any test binary runs under
// it; tests may also switch a mode for a while with the setters here.
//
//   CUDASIM_DEFERRED=1        work queued on a stream runs only when the host would wait
//   CUDASIM_SHUFFLE_SEED=<n>  the blocks of each launch run in a seeded, shuffled order
//   CUDASIM_DEVICES=<n>       n simulated devices (1..8, default 1)
#pragma once

#include <cstdint>

namespace cudasim {

// Deferred streams. Kernels, asynchronous copies and sets, and cuBLAS calls are validated
// when they are made (a bad configuration or pointer fails the call, as on a GPU) but run
// only at the next point where CUDA makes the host wait for them: cudaStreamSynchronize,
// cudaEventSynchronize, cudaDeviceSynchronize, a synchronous cudaMemcpy/cudaMemset, an
// asynchronous copy into pageable memory, cudaFree/cudaFreeHost, or a cudaStreamQuery /
// cudaEventQuery that answers "done". So host code that reads a copy's destination, or
// rewrites a copy's pinned source, before waiting sees what a GPU may show it: the old bytes.
// A failure of deferred work (a kernel fault, a damaged guard) is returned by that waiting
// call. Waiting runs every piece of work queued before the awaited one, on every stream (a GPU
// may have finished more; never less). Turning the mode off runs what is queued.
bool deferred();
void set_deferred(bool on);

// Shuffled blocks: with a seed, every launch runs its blocks in an order drawn from the seed
// and the launch's number, so a kernel that assumes block 0 runs first (or that blocks run in
// index order) fails. Without one (the default), blocks run in x, then y, then z order.
bool block_shuffle(uint64_t* seed = nullptr);
void set_block_shuffle(bool on, uint64_t seed = 0);

// Simulated devices. Each has its own memory (and its own limit), streams, cuBLAS handles and
// memory-protection key: a kernel launched on device d may touch only device d's memory (no
// peer access is simulated; touching another device's memory faults and is explained), a
// launch on another device's stream fails with cudaErrorInvalidResourceHandle, as CUDA's does.
// The count may only grow while a program runs.
int device_count();
void set_device_count(int n);

// Whether the program has created a context on `device`: cudaSetDevice makes one (as CUDA 12
// and later do), and so does the first allocation, stream, event or launch on the current
// device. Each context costs a real GPU hundreds of MiB; tests use this to prove that code
// working on one device never touches another. forget_contexts() clears the record.
bool has_context(int device);
void forget_contexts();

}  // namespace cudasim
