// nn::Module: the registry, traversal (dedup, dotted names), train/eval, to(), zero_grad and
// printing.
#include <sstream>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;

namespace {

// A parent with its own parameter and buffer plus two children, one of them shared.
struct Leaf : nn::Module {
  Leaf() {
    w = register_parameter("w", ones({2}));
    stat = register_buffer("stat", zeros({2}));
  }
  Tensor w, stat;
};

struct Tree : nn::Module {
  Tree() {
    scale = register_parameter("scale", full({1}, 2.0));
    a = register_module("a", std::make_shared<Leaf>());
    b = register_module("b", std::make_shared<Leaf>());
  }
  std::shared_ptr<Leaf> a, b;
  Tensor scale;
};

std::vector<std::string> names(const StateDict& d) {
  std::vector<std::string> out;
  for (auto& [n, t] : d) out.push_back(n);
  return out;
}

}  // namespace

TEST(Module, RegistryAndDottedNames) {
  Tree tree;
  EXPECT_EQ(names(tree.named_parameters()), (std::vector<std::string>{"scale", "a.w", "b.w"}));
  EXPECT_EQ(names(tree.named_buffers()), (std::vector<std::string>{"a.stat", "b.stat"}));
  EXPECT_EQ(tree.parameters().size(), 3u);
  EXPECT_EQ(tree.parameters(/*recurse=*/false).size(), 1u);
  EXPECT_TRUE(tree.parameters()[1].is_same(tree.a->w));
  EXPECT_TRUE(tree.a->w.requires_grad());
  EXPECT_FALSE(tree.a->stat.requires_grad());
  auto kids = tree.named_children();
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(kids[0].first, "a");
  EXPECT_EQ(kids[1].second.get(), tree.b.get());
  auto mods = tree.named_modules();
  ASSERT_EQ(mods.size(), 3u);
  EXPECT_EQ(mods[0].first, "");
  EXPECT_EQ(mods[0].second.get(), &tree);  // a non-owning handle to a stack module
  EXPECT_EQ(mods[2].first, "b");
  EXPECT_EQ(names(tree.state_dict()),
            (std::vector<std::string>{"scale", "a.w", "a.stat", "b.w", "b.stat"}));
}

TEST(Module, SharedTensorsAndModulesAppearOnce) {
  auto shared = std::make_shared<Leaf>();
  struct Twice : nn::Module {
    explicit Twice(std::shared_ptr<Leaf> l) {
      register_module("first", l);
      register_module("second", l);
      tied = register_parameter("tied", l->w, true);  // the same tensor again
    }
    Tensor tied;
  };
  Twice m(shared);
  auto params = m.named_parameters();
  ASSERT_EQ(params.size(), 1u);  // first.w == second.w == tied
  EXPECT_EQ(params[0].first, "tied");
  EXPECT_EQ(m.buffers().size(), 1u);
  EXPECT_EQ(m.children().size(), 1u);
  EXPECT_EQ(m.modules().size(), 2u);
  // state_dict keeps every name, like PyTorch.
  EXPECT_EQ(m.state_dict().size(), 5u);
}

TEST(Module, RegistrationErrors) {
  nn::Module m;
  m.register_parameter("x", zeros({1}));
  EXPECT_THROW(m.register_parameter("x", zeros({1})), ValueError);
  EXPECT_THROW(m.register_buffer("x", zeros({1})), ValueError);
  EXPECT_THROW(m.register_parameter("a.b", zeros({1})), ValueError);
  EXPECT_THROW(m.register_parameter("", zeros({1})), ValueError);
  EXPECT_THROW(m.register_parameter("u", Tensor()), ValueError);
  Tensor leaf = ones({2}).requires_grad_();
  EXPECT_THROW(m.register_parameter("nonleaf", leaf * 2.0), AutogradError);
  EXPECT_THROW(m.register_parameter("int", arange(3)), DTypeError);  // int cannot require grad
  m.register_parameter("frozen_int", arange(3), /*requires_grad=*/false);
  EXPECT_THROW(m.register_module("null", std::shared_ptr<nn::LinearImpl>()), ValueError);
  // A module that does not take one tensor says so.
  try {
    m.forward(zeros({1}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Module"), std::string::npos) << e.what();
  }
}

TEST(Module, TrainEvalRecursesAndControlsDropout) {
  nn::Sequential inner(nn::Dropout(0.5));
  nn::Sequential model(nn::Linear(4, 4), inner);
  EXPECT_TRUE(model->is_training());
  Tensor x = ones({64, 4});
  model->eval();
  for (auto& m : model->modules()) EXPECT_FALSE(m->is_training());
  Tensor y_eval = model->forward(x);
  Tensor y_ref = model->at<nn::Linear>(0).forward(x);
  EXPECT_TRUE(ember::eq(y_eval, y_ref).to_vector<bool>() == std::vector<bool>(y_ref.numel(), true));
  model->train();
  for (auto& m : model->modules()) EXPECT_TRUE(m->is_training());
  // In training about half of the outputs are dropped.
  const double zero_frac = ember::eq(model->forward(x), 0.0).to(kFloat64).mean().item<double>();
  EXPECT_GT(zero_frac, 0.3);
  EXPECT_LT(zero_frac, 0.7);
}

TEST(Module, ToDtypeKeepsIdentityAndGrad) {
  nn::Linear lin(3, 2);
  Tensor w = lin->weight;  // a handle held elsewhere, as an optimizer would
  lin->forward(ones({1, 3})).sum().backward();
  ASSERT_TRUE(w.grad().defined());
  const std::vector<float> before = w.to_vector<float>();
  struct WithIntBuffer : nn::Module {
    WithIntBuffer() { count = register_buffer("count", arange(2)); }
    Tensor count;
  } counter;
  lin->to(kFloat64);
  counter.to(kFloat64);
  EXPECT_EQ(w.dtype(), kFloat64);
  EXPECT_EQ(lin->bias.dtype(), kFloat64);
  EXPECT_EQ(w.grad().dtype(), kFloat64);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  EXPECT_EQ(counter.count.dtype(), kInt64);  // integer buffers keep their dtype
  const std::vector<double> after = w.to_vector<double>();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], static_cast<double>(before[i]));
  // Training still flows into the same handle.
  w.set_grad(Tensor());
  lin->forward(ones({2, 3}, kFloat64)).sum().backward();
  EXPECT_EQ(w.grad().to_vector<double>(), std::vector<double>(6, 2.0));
  lin->to(kCPU);  // no-op, no error
}

TEST(Module, ZeroGrad) {
  nn::Linear lin(2, 2);
  lin->forward(ones({1, 2})).sum().backward();
  lin->zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(lin->weight.grad().defined());
  EXPECT_EQ(lin->weight.grad().abs().sum().item<float>(), 0.f);
  lin->zero_grad();
  EXPECT_FALSE(lin->weight.grad().defined());
  EXPECT_FALSE(lin->bias.grad().defined());
}

TEST(Module, ApplyVisitsChildrenFirst) {
  Tree tree;
  std::vector<std::string> order;
  tree.apply([&](nn::Module& m) { order.push_back(m.name()); });
  EXPECT_EQ(order, (std::vector<std::string>{"Leaf", "Leaf", "Tree"}));
}

TEST(Module, PrintsLikePyTorch) {
  nn::Sequential model(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(),
                       nn::Sequential(nn::Dropout(0.25), nn::LeakyReLU(0.1)),
                       nn::Linear(256, 10, false));
  std::ostringstream os;
  os << model;
  EXPECT_EQ(os.str(),
            "Sequential(\n"
            "  (0): Flatten(start_dim=1, end_dim=-1)\n"
            "  (1): Linear(in_features=784, out_features=256, bias=true)\n"
            "  (2): ReLU()\n"
            "  (3): Sequential(\n"
            "    (0): Dropout(p=0.25)\n"
            "    (1): LeakyReLU(negative_slope=0.1)\n"
            "  )\n"
            "  (4): Linear(in_features=256, out_features=10, bias=false)\n"
            ")");
  std::ostringstream act;
  act << nn::GELU("tanh") << " " << nn::Softplus(2, 10) << " " << nn::Identity() << " "
      << nn::CrossEntropyLoss();
  EXPECT_EQ(act.str(),
            "GELU(approximate='tanh') Softplus(beta=2, threshold=10) Identity() "
            "CrossEntropyLoss()");
}

TEST(Module, ParametersLiveOnTheDefaultDevice) {
  nn::Linear layer(3, 2);
  for (const auto& [name, p] : layer->named_parameters())
    EXPECT_EQ(p.device(), default_device()) << name;
}
