// named_parameters(), named_buffers() and state_dict() as ordered dicts (libtorch's
// OrderedDict): insertion order, lookup by key, by position and structured bindings, and the
// errors for absent and repeated keys.
#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"

using namespace ember;
using ember_test::expect_error;

namespace {

struct NetImpl : nn::Module {
  nn::Linear fc1{nullptr}, fc2{nullptr};
  Tensor steps;
  NetImpl() {
    fc1 = register_module("fc1", nn::Linear(3, 4));
    fc2 = register_module("fc2", nn::Linear(4, 2, /*bias=*/false));
    steps = register_buffer("steps", zeros({1}, kInt64));
  }
  Tensor forward(const Tensor& x) override { return fc2(relu(fc1(x))); }
};
EMBER_MODULE(Net);

}  // namespace

TEST(NamedTensors, ParametersAreAnOrderedDictByKeyAndPosition) {
  Net net;
  auto params = net->named_parameters();
  EXPECT_EQ(params.keys(), (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight"}));
  EXPECT_TRUE(params["fc1.bias"].is_same(net->fc1->bias));
  EXPECT_TRUE(params[2].value().is_same(net->fc2->weight));
  EXPECT_EQ(params[0].key(), "fc1.weight");
  EXPECT_TRUE(params.contains("fc2.weight"));
  EXPECT_FALSE(params.contains("fc2.bias"));
  EXPECT_EQ(params.find("fc2.bias"), nullptr);
  ASSERT_NE(params.find("fc1.weight"), nullptr);
  EXPECT_EQ(params.find("fc1.weight")->sizes(), (Shape{4, 3}));
  expect_error<ValueError>([&] { params["fc2.bias"]; }, {"'fc2.bias'", "3 keys"});
  int count = 0;
  for (const auto& [name, tensor] : params) count += tensor.requires_grad() && !name.empty();
  EXPECT_EQ(count, 3);
  const std::vector<Tensor> values = params.values();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_TRUE(values[1].is_same(net->fc1->bias));

  auto buffers = net->named_buffers();
  EXPECT_EQ(buffers.keys(), (std::vector<std::string>{"steps"}));
  EXPECT_EQ(buffers["steps"].dtype(), kInt64);
  // state_dict: the same dict type, own entries first.
  StateDict state = net->state_dict();
  EXPECT_EQ(state.keys(),
            (std::vector<std::string>{"steps", "fc1.weight", "fc1.bias", "fc2.weight"}));
  state["fc1.bias"] = ones({4});  // replaces the entry's tensor, not the module's
  EXPECT_NE(net->fc1->bias.to_vector<float>(), std::vector<float>(4, 1.f));
  net->load_state_dict(state);
  EXPECT_EQ(net->fc1->bias.to_vector<float>(), std::vector<float>(4, 1.f));
}

TEST(NamedTensors, InsertRefusesARepeatedKey) {
  StateDict d;
  d.insert("a", zeros({1}));
  d.emplace_back("b", ones({2}));  // still a vector of items
  EXPECT_EQ(d.insert("c", ones({3})).numel(), 3);
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"a", "b", "c"}));
  expect_error<ValueError>([&] { d.insert("b", zeros({1})); }, {"OrderedDict", "'b'", "already"});
  const StateDict& view = d;
  EXPECT_EQ(view["b"].numel(), 2);
  EXPECT_EQ(view.find("z"), nullptr);
}
