// Kernels the simulator's tests run, each behind a host function that launches it through
// ember's launcher (kernels/cuda/launch.h). They live in .cu files compiled as C++ against
// cudasim, exactly as kernels/cuda/*.cu are. Pointers are device pointers unless noted.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace cudasim_test {

// ---- execution (exec_kernels.cu) ---------------------------------------------------------
// out[b] = sum of in[b*256, b*256+256) ∩ [0, n), by a shared-memory tree with __syncthreads.
void block_sum(const float* in, float* out, int n);
// out[w] = sum of the 32 values of warp w, by __shfl_down_sync (lane 0) and by
// __shfl_xor_sync (every lane; out_all[i] is lane i's butterfly result).
void warp_sum_down(const float* in, float* out, int n_warps);
void warp_sum_xor(const float* in, float* out_all, int n_warps);
// out[w] = __ballot_sync over warp w of (in[i] != 0); one block of 64 threads.
void warp_ballot(const int* in, unsigned* out);
// out[i] = __shfl_up_sync(v, 1, width 8) and __shfl_sync(v, 3, width 8) for v = i (one warp).
void warp_shfl_up_idx(int* up, int* idx);
// x[i] = a * x[i] + i over a grid-stride loop with the given geometry.
void grid_stride_axpi(float* x, int64_t n, float a, int blocks, int threads);
// For a 3D grid and block, out[global linear id] = its linear id, and coords[id] packs
// (blockIdx, threadIdx) so the test can check every thread saw its own indices.
void record_indices(int* out, int* coords, dim3 grid, dim3 block);
// out = in reversed within each block of `threads`, through dynamic shared memory.
void reverse_in_smem(const float* in, float* out, int n, int threads);
// bins[in[i]] += 1 with atomicAdd, plus atomicMax/atomicMin/atomicCAS/atomicExch on stats[4].
void atomic_histogram(const int* in, int n, int* bins, int* stats);
// Writes p[index] (the test plants an out-of-bounds index).
void write_at(float* p, int64_t index, float value);
// Fills p[0, n) and then writes `extra` elements past n in a second launch named
// "planted_overrun".
void planted_overrun(float* p, int n, int extra);
// Thread 0 returns early; the rest reach a __syncthreads().
void exit_before_barrier(float* p);
// Even and odd threads wait at two different __syncthreads() calls.
void two_barriers(float* p);
// Lane 31 returns; the rest of the warp shuffles with a full mask.
void shuffle_after_exit(float* p);
// Half a warp shuffles (mask 0x0000ffff) reading from lanes 16..31.
void shuffle_outside_mask(float* p);
// A trivial kernel launched with any configuration (for the validation tests).
void launch_noop(dim3 grid, dim3 block, size_t smem);
// Writes `bytes` bytes of dynamic shared memory (one past the launch's `smem`).
void smem_overrun(size_t smem);
// Blocks that each write a NaN-checked read of fresh dynamic shared memory: out[b] = 1 if
// the block's shared memory started as NaN.
void smem_starts_nan(float* out, int blocks);
// A kernel that throws a C++ exception in thread 5.
void throwing_kernel();
// Reads p[0] on the device into out[0] (p may be a freed or host pointer).
void copy_first(const float* p, float* out);

// ---- CUB (cub_kernels.cu) ----------------------------------------------------------------
// out[b] = BlockReduce<float, 128>::Sum over block b of in (n items, the last block partial:
// uses the num_valid overload), and Reduce(max) in out_max[b].
void cub_block_reduce(const float* in, float* out_sum, float* out_max, int n);
// The same with a 2D block (16 x 4) and a 3-item-per-thread array overload.
void cub_block_reduce_2d(const int* in, int* out_sum);
// out[w] = WarpReduce<float, LOGICAL>::Sum of each logical warp (valid lanes only when
// valid < LOGICAL), blocks of 64 threads.
void cub_warp_reduce(const float* in, float* out, int n_threads, int logical, int valid);
// BlockReduce<float, 128> launched with 64 threads per block.
void cub_block_reduce_wrong_size(const float* in, float* out);

// ---- modes (modes_kernels.cu) -------------------------------------------------------------
// x[i] = value for i < n, on `stream`.
void fill_on(float* x, int n, float value, cudaStream_t stream);
// x[i] = a * x[i] + b for i < n, on `stream`.
void axpb_on(float* x, int n, float a, float b, cudaStream_t stream);
// A planted bug: block b writes out[b] = out[b - 1] + 1 (out[0] = 1), assuming the blocks
// before it have run. Right only when blocks run in index order. One thread per block.
void chained_blocks(int* out, int blocks);
// order[k] = the index of the k-th block to run (`counter` is one int, zero on entry).
void record_block_order(int* order, int* counter, int blocks);

}  // namespace cudasim_test
