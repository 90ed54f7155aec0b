// CUDA graphs, in the spirit of torch.cuda.CUDAGraph: the work a piece of code queues on a
// device is recorded once and then replayed with a single launch, which takes the host out of
// a small model's training step (each kernel of an MLP step is a few microseconds of GPU work,
// its launch about as long).
//
//   ember::cuda::Graph graph;                       // cuda:0
//   Tensor x = zeros({256, 784}, Device::cuda()), y = ...;  // static inputs the graph reads
//   graph.capture([&] { step(x, y); });             // records; nothing runs
//   for (auto& batch : loader) {
//     x.copy_(batch.data); y.copy_(batch.target);   // new inputs, into the same memory
//     graph.replay();                               // the whole step, one launch
//   }
//
// A replay runs exactly the captured kernels, with the captured arguments and addresses:
//   - inputs change only through their memory (copy_ into the tensors the capture read);
//     a tensor the captured code created (the loss, new gradients) is rewritten in place by
//     every replay, so read it after replay() (loss.item()) and keep it alive;
//   - host values are frozen: a learning rate or step count passed to a kernel as a number
//     would repeat on every replay (ember's optimizers keep theirs on the device for that;
//     see optim/optimizer.h);
//   - memory allocated during the capture comes from a pool private to the graph (Note
//     [Capture pools] in core/allocator.h), so eager work never overwrites it; it is given
//     back when the graph is reset or destroyed.
// What cannot be recorded throws ember::CudaError naming it and leaves nothing captured:
// waiting for the device (item(), to(cpu), printing, cuda::synchronize()), copies from host
// memory, copies between devices and random numbers (dropout, rand*). While a capture runs,
// no other host thread may use the device. Without a CUDA device (a CPU-only build, no GPU)
// the constructor throws DeviceError.
#pragma once

#include <functional>
#include <memory>

namespace ember::cuda {

class Graph {
 public:
  explicit Graph(int device = 0);
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Records what `work` queues on the device. Waits for the device's earlier work first
  // (so an error it recorded is thrown now, not folded into the graph). If `work` or the
  // capture fails, nothing is kept and the error is rethrown. Throws ValueError if a graph
  // is already captured (reset() first).
  void capture(const std::function<void()>& work);
  // The same as two calls, for code that cannot be wrapped in one callable.
  void capture_begin();
  void capture_end();
  // One replay, queued on the device's stream (no host wait). Throws ValueError before a
  // capture.
  void replay();
  // Drops the graph and gives its memory back; the graph may then capture again.
  void reset();
  bool captured() const;
  int device() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether a graph is being captured on `device` now (torch.cuda.is_current_stream_capturing):
// code that must not run during a capture (a host read, a data-dependent branch) can ask.
// false for a device nothing has used, and without CUDA.
bool is_current_stream_capturing(int device = 0);

}  // namespace ember::cuda
