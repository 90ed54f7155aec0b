// Tensor basics: factories, metadata, views (aliasing and strides), conversion, printing.
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "test_device.h"

using namespace ember;

TEST(Factories, ZerosOnesFullArangeEye) {
  EXPECT_EQ(zeros({2, 3}).to_vector<float>(), std::vector<float>(6, 0.f));
  EXPECT_EQ(ones({4}, kInt64).to_vector<int64_t>(), std::vector<int64_t>(4, 1));
  EXPECT_EQ(full({2}, 2.5, kFloat64).to_vector<double>(), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(arange(5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(1, 2, 0.25, kFloat32).to_vector<float>(),
            (std::vector<float>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  Tensor t = zeros({2, 3}, TensorOptions().dtype(kFloat64).requires_grad(true));
  EXPECT_TRUE(t.requires_grad());
  EXPECT_TRUE(t.is_leaf());
  EXPECT_EQ(t.dtype(), kFloat64);
}

TEST(Factories, FromVectorAndItem) {
  Tensor t = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  EXPECT_EQ(t.sizes(), (Shape{2, 3}));
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  EXPECT_FLOAT_EQ(t[1][2].item<float>(), 6.f);
  EXPECT_EQ(tensor({1, 2}).dtype(), kFloat32);
  // from_vector keeps its element type unless the options name a dtype (a device alone
  // must not turn doubles into floats).
  EXPECT_EQ(from_vector<double>({0.1}, std::nullopt, kCPU).dtype(), kFloat64);
  EXPECT_EQ(from_vector<double>({0.1}, std::nullopt, kCPU).item<double>(), 0.1);
  EXPECT_EQ(from_vector<int64_t>({7}, std::nullopt, TensorOptions().requires_grad(false)).dtype(),
            kInt64);
  EXPECT_EQ(from_vector<double>({0.5}, std::nullopt, kFloat32).dtype(), kFloat32);
  EXPECT_THROW(from_vector<float>({1, 2, 3}, Shape{2, 2}), ShapeError);
  EXPECT_THROW(t.item<float>(), ValueError);
}

TEST(Factories, RandomIsSeededAndInRange) {
  Generator g1(42), g2(42);
  Tensor a = rand({1000}, kFloat32, &g1), b = rand({1000}, kFloat32, &g2);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_GE(a.min().item<float>(), 0.f);
  EXPECT_LT(a.max().item<float>(), 1.f);
  EXPECT_NEAR(a.mean().item<double>(), 0.5, 0.05);
  Tensor c = rand({1000}, kFloat32, &g1);  // the generator advanced: new numbers
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
  Tensor n = randn({20000}, kFloat64, &g1);
  EXPECT_NEAR(n.mean().item<double>(), 0.0, 0.03);
  EXPECT_NEAR(((n * n).mean()).item<double>(), 1.0, 0.05);
  Tensor r = randint(3, 7, {1000}, kInt64, &g1);
  EXPECT_EQ(r.min().item<int64_t>(), 3);
  EXPECT_EQ(r.max().item<int64_t>(), 6);
  manual_seed(7);
  Tensor d = rand({5});
  manual_seed(7);
  EXPECT_EQ(d.to_vector<float>(), rand({5}).to_vector<float>());
}

TEST(Views, ShareStorageAndReportStrides) {
  Tensor t = arange(0, 12, 1, kFloat32).view({3, 4});
  Tensor tt = t.t();
  EXPECT_EQ(tt.sizes(), (Shape{4, 3}));
  EXPECT_EQ(tt.strides(), (Shape{1, 4}));
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_TRUE(tt.shares_storage(t));
  tt[1][2].fill_(100);  // element (2, 1) of t
  EXPECT_FLOAT_EQ(t[2][1].item<float>(), 100.f);

  Tensor s = t.slice(1, 1, 4, 2);  // columns 1 and 3
  EXPECT_EQ(s.sizes(), (Shape{3, 2}));
  EXPECT_EQ(s.strides(), (Shape{4, 2}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 3, 5, 7, 100, 11}));

  Tensor n = t.narrow(0, 1, 2);
  EXPECT_EQ(n.sizes(), (Shape{2, 4}));
  EXPECT_EQ(n.storage_offset(), 4);
  Tensor sel = t.select(1, -1);
  EXPECT_EQ(sel.to_vector<float>(), (std::vector<float>{3, 7, 11}));

  Tensor u = t.unsqueeze(1);
  EXPECT_EQ(u.sizes(), (Shape{3, 1, 4}));
  EXPECT_EQ(u.squeeze().sizes(), (Shape{3, 4}));
  EXPECT_EQ(u.squeeze(1).sizes(), (Shape{3, 4}));
  EXPECT_EQ(u.squeeze(0).sizes(), (Shape{3, 1, 4}));

  Tensor e = tensor({1, 2, 3}).expand({2, 3});
  EXPECT_EQ(e.strides(), (Shape{0, 1}));
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));

  Tensor p = arange(0, 24, 1, kFloat32).view({2, 3, 4}).permute({2, 0, 1});
  EXPECT_EQ(p.sizes(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_FLOAT_EQ(p[3][1][2].item<float>(), 1 * 12 + 2 * 4 + 3);
}

TEST(Views, ViewVersusReshape) {
  Tensor t = arange(0, 6, 1, kFloat32).view({2, 3});
  Tensor v = t.view({3, -1});
  EXPECT_EQ(v.sizes(), (Shape{3, 2}));
  EXPECT_TRUE(v.shares_storage(t));
  // A transpose can't be flattened without a copy: view refuses, reshape copies.
  EXPECT_THROW(t.t().view({6}), ShapeError);
  Tensor r = t.t().reshape({6});
  EXPECT_FALSE(r.shares_storage(t));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  // Splitting a dim of a sliced tensor stays a view.
  Tensor s = arange(0, 24, 1, kFloat32).view({4, 6}).slice(0, 0, 4, 2);  // rows 0, 2
  Tensor sv = s.view({2, 2, 3});
  EXPECT_TRUE(sv.shares_storage(s));
  EXPECT_EQ(sv.strides(), (Shape{12, 3, 1}));
  EXPECT_EQ(t.flatten().sizes(), (Shape{6}));
  EXPECT_THROW(t.view({4, -1}), ShapeError);
  EXPECT_THROW(t.view({-1, -1}), ShapeError);
}

TEST(Tensor, ContiguousAndClone) {
  Tensor t = arange(0, 6, 1, kFloat32).view({2, 3});
  Tensor c = t.t().contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(t.contiguous().is_same(t));
  Tensor k = t.clone();
  k.fill_(1);
  EXPECT_FLOAT_EQ(t[0][0].item<float>(), 0.f);
}

TEST(Tensor, DtypeConversion) {
  Tensor f = tensor({1.7, -2.2, 0.0});
  EXPECT_EQ(f.to(kInt64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 0}));
  EXPECT_EQ(f.to(kBool).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(f.to(kFloat64).dtype(), kFloat64);
  EXPECT_TRUE(f.to(kFloat32).is_same(f));
  EXPECT_THROW(f.to(Device::cuda(63)), DeviceError);  // no such device in any build
}

TEST(Tensor, InPlaceOpsBumpVersion) {
  Tensor t = zeros({3});
  const uint32_t v0 = t.version();
  t.add_(1.0);
  t.mul_(tensor({1, 2, 3}));
  t.add_(tensor({1, 1, 1}), 0.5);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1.5, 2.5, 3.5}));
  EXPECT_EQ(t.version(), v0 + 3);
  Tensor view = t.slice(0, 1, 3);
  view.zero_();
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1.5, 0, 0}));
  EXPECT_EQ(t.version(), v0 + 4);  // views share the counter
  Tensor m = zeros({2, 3});
  m.copy_(tensor({1, 2, 3}));  // broadcasts
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  m.t().copy_(ones({3, 2}, kInt64));  // strided destination, converted dtype
  EXPECT_EQ(m.to_vector<float>(), std::vector<float>(6, 1.f));
}

TEST(Printing, LooksLikePyTorch) {
  std::ostringstream os;
  // PyTorch names the device of a tensor that is not on the CPU.
  const std::string dev = ember_test::on_cuda() ? ", device='cuda:0'" : "";
  os << from_vector<float>({1.5, -2, 3, 4}, Shape{2, 2});
  EXPECT_EQ(os.str(), "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.0000]]" + dev + ")");
  os.str("");
  os << tensor({1, 2, 3});
  EXPECT_EQ(os.str(), "tensor([1., 2., 3.]" + dev + ")");
  os.str("");
  os << arange(3);
  EXPECT_EQ(os.str(), "tensor([0, 1, 2]" + dev + ")");
  os.str("");
  os << scalar_tensor(2.5, kFloat64);
  EXPECT_EQ(os.str(), "tensor(2.5000, dtype=float64" + dev + ")");
  os.str("");
  Tensor x = ones({2}, TensorOptions().requires_grad(true));
  os << x;
  EXPECT_EQ(os.str(), "tensor([1., 1.]" + dev + ", requires_grad=True)");
  os.str("");
  os << x * 2.0;
  EXPECT_EQ(os.str(), "tensor([2., 2.]" + dev + ", grad_fn=<ScalarOpBackward>)");
  os.str("");
  os << arange(2000);
  EXPECT_NE(os.str().find("..."), std::string::npos);
}

TEST(Device, Parsing) {
  EXPECT_EQ(Device("cpu"), kCPU);
  EXPECT_EQ(Device("cuda:1"), Device::cuda(1));
  EXPECT_EQ(Device("cuda"), Device::cuda(0));
  EXPECT_THROW(Device("gpu"), ValueError);
  EXPECT_THROW(Device("cuda:x"), ValueError);
  for (const char* bad : {"", "CUDA", "cuda:", "cuda: 1", "cuda:+1", "cuda:-1", "cuda:1x"}) {
    try {
      (void)Device(bad);
      ADD_FAILURE() << "Device(\"" << bad << "\") parsed";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Device, StringsAndConstantsConvertAsInLibtorch) {
  EXPECT_EQ(kCUDA, Device::cuda(0));
  const Device from_literal = "cuda:2";  // implicit, from a literal and from a std::string
  const std::string spec = "cpu";
  const Device from_string = spec;
  EXPECT_EQ(from_literal, Device::cuda(2));
  EXPECT_EQ(from_string, kCPU);
  Tensor x = ones({2}, TensorOptions().device("cpu"));
  EXPECT_EQ(x.to("cpu").device(), kCPU);
  EXPECT_EQ(x.to(std::string("cpu"), kFloat64).dtype(), kFloat64);
  if (cuda::is_available()) {
    EXPECT_EQ(x.to(kCUDA).device(), Device::cuda(0));
  }
}

TEST(DefaultDevice, FactoriesUseItAndTheSuiteRunsWhereAsked) {
  // ctest runs this suite once per device (tests/test_main.cpp): make sure the CUDA run
  // really creates CUDA tensors, and the CPU run CPU ones.
  const char* spec = std::getenv("EMBER_TEST_DEVICE");
  const Device asked = spec != nullptr && *spec != '\0' ? Device(std::string(spec)) : kCPU;
  EXPECT_EQ(default_device(), asked);
  EXPECT_EQ(ones({2}).device(), asked);
  EXPECT_EQ(arange(3).device(), asked);
  EXPECT_EQ(from_vector<double>({1, 2}).device(), asked);
  EXPECT_EQ(randn({2}).device(), asked);
  EXPECT_EQ(ones({2}, kCPU).device(), kCPU) << "an explicit device wins";
  EXPECT_THROW(set_default_device(Device::cuda(63)), DeviceError);
  EXPECT_EQ(default_device(), asked) << "a failed set changes nothing";
  set_default_device(kCPU);
  EXPECT_EQ(zeros({1}).device(), kCPU);
  set_default_device(asked);
}
