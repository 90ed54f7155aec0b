// The whole public API of ember: #include <ember/ember.h>
#pragma once

#include <ember/core/allocator.h>
#include <ember/core/autograd/engine.h>
#include <ember/core/cuda.h>
#include <ember/core/cuda_graph.h>
#include <ember/core/precision.h>
#include <ember/core/fused.h>
#include <ember/core/safetensors.h>
#include <ember/core/serialize.h>
#include <ember/core/autograd/grad_mode.h>
#include <ember/core/autograd/node.h>
#include <ember/core/device.h>
#include <ember/core/dtype.h>
#include <ember/core/error.h>
#include <ember/core/generator.h>
#include <ember/core/indexing.h>
#include <ember/core/shape.h>
#include <ember/core/tensor.h>
#include <ember/core/tensor_options.h>
#include <ember/core/threads.h>
#include <ember/nn/nn.h>
#include <ember/optim/optim.h>
#include <ember/data/data.h>
