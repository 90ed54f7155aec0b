// nn::ModuleList and nn::ModuleDict: children by position and by name, their parameters'
// dotted names as PyTorch gives them, replacement, removal and the errors for bad keys.
#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"

using namespace ember;
using ember_test::expect_error;

namespace {

std::vector<std::string> names(const StateDict& d) {
  std::vector<std::string> out;
  for (const auto& [n, t] : d) out.push_back(n);
  return out;
}

struct NetImpl : nn::Module {
  nn::ModuleList layers =
      register_module("layers", nn::ModuleList(nn::Linear(3, 4), nn::Linear(4, 2)));
  nn::ModuleDict heads =
      register_module("heads", nn::ModuleDict(std::vector<nn::ModuleDict::Impl::Item>{
                                   {"age", nn::Linear(2, 1)}, {"class", nn::Linear(2, 5)}}));
  Tensor forward(const Tensor& x) override {
    Tensor h = x;
    for (const auto& layer : *layers) h = relu(layer->forward(h));
    return heads["class"]->forward(h);
  }
};
EMBER_MODULE(Net);

}  // namespace

TEST(ModuleList, ChildrenByPositionAndTheirParameterNames) {
  Net net;
  EXPECT_EQ(net->layers->size(), 2u);
  EXPECT_EQ(net->layers->at<nn::Linear>(1).out_features, 2);
  EXPECT_EQ(names(net->named_parameters()),
            (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight",
                                      "layers.1.bias", "heads.age.weight", "heads.age.bias",
                                      "heads.class.weight", "heads.class.bias"}));
  EXPECT_EQ(net(ones({6, 3})).sizes(), Shape({6, 5}));
  net->layers->push_back(nn::ReLU());
  net->layers->extend(*net->layers);  // itself: 3 + 3, sharing the modules
  EXPECT_EQ(net->layers->size(), 6u);
  EXPECT_EQ(net->layers->ptr(4), net->layers->ptr(1));
  EXPECT_EQ(net->parameters().size(), 8u);  // shared modules count once
  expect_error<IndexError>([&] { net->layers[6]; }, {"ModuleList", "index 6", "6 modules"});
  expect_error<ValueError>([&] { net->layers->at<nn::ReLU>(0); }, {"ModuleList", "Linear"});
}

TEST(ModuleDict, ChildrenByNameReplacedAndRemovedInPlace) {
  Net net;
  nn::ModuleDictImpl& heads = *net->heads;
  EXPECT_EQ(heads.keys(), (std::vector<std::string>{"age", "class"}));
  EXPECT_TRUE(heads.contains("age"));
  EXPECT_FALSE(heads.contains("size"));
  // Replacing keeps the position; the old module's parameters are gone from the owner.
  heads.insert("age", nn::Linear(2, 3));
  EXPECT_EQ(heads.at<nn::Linear>("age").out_features, 3);
  EXPECT_EQ(heads.keys(), (std::vector<std::string>{"age", "class"}));
  EXPECT_EQ(net->state_dict()[4].first, "heads.age.weight");
  EXPECT_EQ(net->state_dict()[4].second.size(0), 3);
  heads.insert("size", nn::Linear(2, 2));
  const std::shared_ptr<nn::Module> popped = heads.pop("age");
  EXPECT_EQ(popped->name(), "Linear");
  EXPECT_EQ(heads.keys(), (std::vector<std::string>{"class", "size"}));
  EXPECT_EQ(names(net->named_parameters()).size(), 4u + 4u);
  expect_error<ValueError>([&] { heads["age"]; }, {"ModuleDict", "'age'", "'class', 'size'"});
  expect_error<ValueError>([&] { heads.pop("age"); }, {"'age'"});
  expect_error<ValueError>([&] { heads.insert("a.b", nn::ReLU()); }, {"a.b"});
  heads.clear();
  EXPECT_TRUE(heads.is_empty());
  EXPECT_EQ(names(net->named_parameters()).size(), 4u);
}
