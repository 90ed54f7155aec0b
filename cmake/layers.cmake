# ember's layers, and the include paths that keep them apart.
#
# Dependencies point one way: nn, optim, data -> core -> kernels (common, cpu, cuda). Each part
# is an OBJECT library compiled against an include root that holds only the headers it may use,
# so a kernel that includes a core header, or an nn file that includes a kernel header, is a
# compile error ("No such file"). The objects are combined into the one libember users link.
#
# Every root is a folder of symbolic links under the build tree, spelling headers the way
# users do (<ember/core/tensor.h>):
#   public/        exactly EMBER_PUBLIC_HEADERS below: what is installed, and all that nn,
#                  optim, data, the examples and a consumer see
#   kernels-common ember/kernels/common   (the bottom layer: functors, dtypes, errors)
#   kernels-cpu    ember/kernels/cpu
#   kernels-cuda   ember/kernels/cuda
#   core           ember/core             (core sees core and all of kernels)
#   all            ember -> the source root (tests and benchmarks, which test internals)

# The public API: installed as is, and nothing else is. Public headers include only these.
set(EMBER_PUBLIC_HEADERS
  ember.h
  core/allocator.h core/cuda.h core/cuda_graph.h core/device.h core/dtype.h core/error.h core/fused.h
  core/generator.h core/indexing.h core/ordered_dict.h core/precision.h core/safetensors.h
  core/serialize.h core/shape.h core/storage.h core/tensor.h core/tensor_options.h core/threads.h
  core/autograd/engine.h core/autograd/grad_mode.h core/autograd/node.h
  # The base types core re-exports (DType, Layout, the exceptions, RawAllocator), owned by kernels/common
  # so that the kernels can use them without including core.
  kernels/common/dtype.h kernels/common/error.h kernels/common/layout.h kernels/common/macros.h
  kernels/common/raw_allocator.h
  nn/activation.h nn/dropout.h nn/embedding.h nn/flatten.h nn/functional.h nn/identity.h nn/init.h
  nn/clip_grad.h nn/linear.h nn/loss.h nn/module.h nn/module_holder.h nn/module_item.h
  nn/module_list.h nn/nn.h nn/normalization.h nn/sequential.h
  optim/adam.h optim/adamw.h optim/lr_scheduler.h optim/optim.h optim/optimizer.h optim/sgd.h
  data/data.h data/dataloader.h data/dataset.h data/idx.h data/kfold.h data/mnist.h
  data/permutation.h)

set(EMBER_INCLUDE_ROOTS ${PROJECT_BINARY_DIR}/include)
set(EMBER_PUBLIC_INCLUDE ${EMBER_INCLUDE_ROOTS}/public)
set(EMBER_KERNELS_COMMON_INCLUDE ${EMBER_INCLUDE_ROOTS}/kernels-common)
set(EMBER_KERNELS_CPU_INCLUDE ${EMBER_INCLUDE_ROOTS}/kernels-cpu)
set(EMBER_KERNELS_CUDA_INCLUDE ${EMBER_INCLUDE_ROOTS}/kernels-cuda)
set(EMBER_CORE_INCLUDE ${EMBER_INCLUDE_ROOTS}/core)
set(EMBER_ALL_INCLUDE ${EMBER_INCLUDE_ROOTS}/all)

# <root>/ember/<path> -> <source root>/<path> (a file or a folder).
function(ember_include_link root path)
  set(link ${root}/ember/${path})
  if(path STREQUAL "")
    set(link ${root}/ember)
  endif()
  if(NOT IS_SYMLINK ${link})
    get_filename_component(parent ${link} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${path} ${link} SYMBOLIC)
  endif()
endfunction()

foreach(header ${EMBER_PUBLIC_HEADERS})
  if(NOT EXISTS ${PROJECT_SOURCE_DIR}/${header})
    message(FATAL_ERROR "EMBER_PUBLIC_HEADERS names ${header}, which does not exist")
  endif()
  ember_include_link(${EMBER_PUBLIC_INCLUDE} ${header})
endforeach()
# A header taken off the list leaves the public root at the next configure. (The root holds
# only links to files, which GLOB lists without following them into the source tree.)
file(GLOB_RECURSE linked RELATIVE ${EMBER_PUBLIC_INCLUDE}/ember ${EMBER_PUBLIC_INCLUDE}/ember/*)
foreach(header ${linked})
  if(NOT header IN_LIST EMBER_PUBLIC_HEADERS)
    file(REMOVE ${EMBER_PUBLIC_INCLUDE}/ember/${header})
  endif()
endforeach()
ember_include_link(${EMBER_KERNELS_COMMON_INCLUDE} kernels/common)
ember_include_link(${EMBER_KERNELS_CPU_INCLUDE} kernels/cpu)
ember_include_link(${EMBER_KERNELS_CUDA_INCLUDE} kernels/cuda)
ember_include_link(${EMBER_CORE_INCLUDE} core)
ember_include_link(${EMBER_ALL_INCLUDE} "")

# ember_add_layer(<target> SOURCES <files>... INCLUDES <roots>... [LINK <targets>...])
# An OBJECT library of ember's, seeing only INCLUDES (and what LINK brings), whose objects join
# libember.
function(ember_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;INCLUDES;LINK" ${ARGN})
  add_library(${name} OBJECT ${ARG_SOURCES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  target_include_directories(${name} PRIVATE ${ARG_INCLUDES})
  target_link_libraries(${name} PRIVATE ember_warnings OpenMP::OpenMP_CXX Threads::Threads
                                        ${ARG_LINK})
  target_sources(ember PRIVATE $<TARGET_OBJECTS:${name}>)
  if(EMBER_BUILD_FUZZERS)
    # Coverage for libFuzzer to steer by (cmake/sanitizers.cmake).
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
