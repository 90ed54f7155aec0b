// Bad input: one test per error class. Each asserts the ember::Error subclass and that the
// message names the op and the offending shapes or values.
#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"
#include "test_device.h"

using namespace ember;

using ember_test::expect_error;

TEST(Errors, ShapeMismatchAdd) {
  expect_error<ShapeError>([] { add(ones({2, 3}), ones({4})); }, {"add", "[2, 3]", "[4]"});
}

TEST(Errors, ShapeMismatchMatmul) {
  expect_error<ShapeError>(
      [] {
        matmul(ones({2, 3}), ones({4, 5}));
      },
      {"matmul", "[2, 3]", "[4, 5]"});
  expect_error<ShapeError>([] { mm(ones({2}), ones({2, 2})); }, {"mm", "2-D"});
  expect_error<ShapeError>([] { linear(ones({2, 3}), ones({4, 5})); }, {"linear", "[4, 5]"});
}

TEST(Errors, DtypeMismatch) {
  expect_error<DTypeError>(
      [] {
        matmul(ones({2, 2}), ones({2, 2}, kFloat64));
      },
      {"matmul", "float32", "float64"});
  expect_error<DTypeError>(
      [] {
        cross_entropy(ones({2, 3}), ones({2}));
      },
      {"cross_entropy", "int64", "float32"});
  expect_error<DTypeError>([] { exp(arange(3)); }, {"exp", "int64"});
}

TEST(Errors, DeviceMismatch) {
  // A device that does not exist is named in the error, with or without a CUDA build.
  expect_error<DeviceError>([] { ones({2}, kCPU).to(Device::cuda(63)); }, {"cuda:63"});
  if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device (cudasim or GPU) for a real mismatch";
  Tensor gpu = ones({2}, kCPU).to(Device::cuda());
  expect_error<DeviceError>([&] { add(ones({2}, kCPU), gpu); }, {"add", "cpu", "cuda:0"});
  expect_error<DeviceError>(
      [&] {
        matmul(ones({2, 2}, kCPU), ones({2, 2}, kCPU).to(Device::cuda()));
      },
      {"matmul", "cpu", "cuda:0"});
}

TEST(Errors, GatherIndexOutOfRange) {
  expect_error<IndexError>(
      [] {
        gather(ones({2, 3}), 1, from_vector<int64_t>({0, 3, 1, 1}, Shape{2, 2}));
      },
      {"gather", "index 3", "size 3"});
  expect_error<IndexError>(
      [] {
        gather(ones({2, 3}), 1, from_vector<int64_t>({0, -1, 1, 1}, Shape{2, 2}));
      },
      {"gather", "index -1"});
  // A broadcast row index (the whole-row path) names gather and the first bad position of
  // the full index, as the general path does.
  for (const bool materialised : {false, true}) {
    Tensor rows = from_vector<int64_t>({1, 5}).unsqueeze(1).expand({2, 3});
    if (materialised) rows = rows.contiguous();
    expect_error<IndexError>(
        [&] {
          gather(ones({4, 3}), 0, rows);
        },
        {"gather", "index 5", "position 3", "dim 0", "size 4"});
  }
  expect_error<IndexError>([] { ones({2, 3}).select(0, 2); }, {"select", "index 2", "size 2"});
  expect_error<IndexError>([] { sum(ones({2, 3}), {2}); }, {"sum", "dim 2"});
}

TEST(Errors, CrossEntropyLabelOutOfRange) {
  expect_error<IndexError>(
      [] {
        cross_entropy(zeros({3, 10}), from_vector<int64_t>({1, 10, 2}));
      },
      {"cross_entropy", "target 10", "position 1", "10 classes"});
  expect_error<IndexError>(
      [] {
        cross_entropy(zeros({2, 4}), from_vector<int64_t>({-3, 0}));
      },
      {"cross_entropy", "target -3"});
  expect_error<ShapeError>(
      [] {
        cross_entropy(zeros({3, 10}), from_vector<int64_t>({1, 2}));
      },
      {"cross_entropy", "[3, 10]", "[2]"});
}

TEST(Errors, BackwardTwice) {
  Tensor x = ones({2}, TensorOptions().requires_grad(true));
  Tensor y = (x * x).sum();
  y.backward();
  expect_error<AutogradError>([&] { y.backward(); }, {"second time", "retain_graph"});
}

TEST(Errors, InPlaceChangeOfSavedTensor) {
  Tensor w = ones({3}, TensorOptions().requires_grad(true));
  Tensor x = ones({3});
  Tensor y = (w * x).sum();
  x.mul_(2.0);
  expect_error<AutogradError>([&] { y.backward(); },
                              {"MulBackward", "in-place", "version 0", "version 1"});
}

TEST(Errors, FractionalAlphaForIntegerInputs) {
  expect_error<DTypeError>([] { add(arange(3), arange(3), 0.5); }, {"add", "alpha 0.5", "int64"});
  expect_error<DTypeError>([] { arange(3).sub(arange(3), 1.5); }, {"sub", "alpha 1.5"});
  EXPECT_EQ(add(arange(3), arange(3), 2.0).to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 6}));
}

TEST(Errors, UndefinedAndMisc) {
  expect_error<Error>([] { Tensor().sizes(); }, {"undefined"});
  expect_error<ValueError>([] { arange(0, 5, 0); }, {"arange", "step"});
  expect_error<ShapeError>([] { ones({2, 3}).view({7}); }, {"view", "[7]", "6"});
  expect_error<ShapeError>([] { ones({2, 3}).expand({4, 3}); }, {"expand", "4"});
}
