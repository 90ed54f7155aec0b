// Module holders (nn::Linear for nn::LinearImpl, EMBER_MODULE for a user's module): the
// program a libtorch user writes first, shared ownership, empty holders, the conversions,
// and containers taking holders, impls and values alike.
#include <sstream>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"

using namespace ember;
using ember_test::expect_error;

namespace {

// Written exactly as in libtorch, forward's signature included. A forward that takes the
// tensor by value hides Module::forward(const Tensor&), which clang's -Wall reports; the
// holder calls this one, so the hiding is what the user meant.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Woverloaded-virtual"
#endif
struct NetImpl : nn::Module {
  nn::Linear fc1{nullptr}, fc2{nullptr};
  NetImpl() {
    fc1 = register_module("fc1", nn::Linear(4, 16));
    fc2 = register_module("fc2", nn::Linear(16, 3));
  }
  Tensor forward(Tensor x) { return fc2(relu(fc1(x))); }
};
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
EMBER_MODULE(Net);

std::vector<std::string> names(const StateDict& d) {
  std::vector<std::string> out;
  for (const auto& [n, t] : d) out.push_back(n);
  return out;
}

}  // namespace

TEST(ModuleHolder, TheLibtorchFormCompilesAndTrains) {
  manual_seed(2);
  Net net;
  EXPECT_EQ(names(net->named_parameters()),
            (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(net->name(), "Net");            // not "NetImpl"
  net->to(Device(default_device().str()));  // "cpu" or "cuda:0", by name
  // Three separable classes: the class is which coordinate of the first three is largest.
  Tensor x = randn({64, 4});
  Tensor y = argmax(x.narrow(1, 0, 3), 1);
  optim::SGD opt(net->parameters(), optim::SGDOptions(0.5));
  nn::CrossEntropyLoss loss_fn;
  double first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {
    Tensor loss = loss_fn(net(x), y);
    (step == 0 ? first : last) = loss.item<double>();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, first / 4) << "first " << first << ", last " << last;
  std::ostringstream os;
  os << net;
  EXPECT_EQ(os.str(),
            "Net(\n"
            "  (fc1): Linear(in_features=4, out_features=16, bias=true)\n"
            "  (fc2): Linear(in_features=16, out_features=3, bias=true)\n"
            ")");
}

TEST(ModuleHolder, CopiesShareOneModuleAndEmptyHoldersSaySo) {
  nn::Linear a(2, 3);
  nn::Linear b = a;
  EXPECT_EQ(a.ptr(), b.ptr());
  EXPECT_TRUE(b->weight.is_same(a->weight));
  EXPECT_EQ((*a).out_features, 3);
  EXPECT_EQ(a.get(), a.ptr().get());
  // Converts to a shared_ptr of the impl or of a base, and back.
  std::shared_ptr<nn::LinearImpl> impl = a;
  std::shared_ptr<nn::Module> module = a;
  EXPECT_EQ(impl.get(), module.get());
  nn::Linear from_ptr(std::make_shared<nn::LinearImpl>(5, 1));
  EXPECT_EQ(from_ptr->in_features, 5);
  nn::Linear from_impl = impl;
  EXPECT_EQ(from_impl.ptr(), a.ptr());

  nn::ReLU relu_layer;  // default-constructible impls are made by the default constructor
  EXPECT_FALSE(relu_layer.is_empty());
  nn::Linear empty{nullptr};
  EXPECT_TRUE(empty.is_empty());
  expect_error<ValueError>([&] { (void)empty->weight; }, {"Linear", "holder is empty"});
  expect_error<ValueError>([&] { empty(ones({1, 2})); }, {"Linear", "holder is empty"});
  struct Owner : nn::Module {
  } owner;
  expect_error<ValueError>([&] { owner.register_module("fc", empty); },
                           {"Linear", "holder is empty"});
  empty = a;
  EXPECT_EQ(empty->out_features, 3);
}

TEST(ModuleHolder, ContainersTakeHoldersImplsAndValues) {
  nn::Linear first(2, 3);
  nn::Sequential seq(first, std::make_shared<nn::ReLUImpl>(), nn::LinearImpl(3, 1));
  EXPECT_EQ(seq->size(), 3u);
  EXPECT_EQ(seq[0], first.ptr());
  EXPECT_EQ(seq[1]->name(), "ReLU");
  // Typed access by holder or impl type reaches the impl; a holder is rebuilt from it.
  nn::Linear last = seq->ptr<nn::Linear>(2);
  EXPECT_EQ(last->out_features, 1);
  EXPECT_EQ(&seq->at<nn::LinearImpl>(2), last.get());
  EXPECT_EQ(seq(ones({4, 2})).sizes(), (Shape{4, 1}));
  // Nesting a holder shares the module.
  nn::Sequential outer(seq, nn::Sigmoid());
  EXPECT_EQ(outer[0], seq.ptr());
  EXPECT_EQ(names(outer->named_parameters()),
            (std::vector<std::string>{"0.0.weight", "0.0.bias", "0.2.weight", "0.2.bias"}));
  // Losses are holders too; their call takes input and target.
  nn::MSELoss mse;
  EXPECT_DOUBLE_EQ(mse(tensor({1.0, 3.0}), tensor({0.0, 0.0})).item<double>(), 5.0);
}
