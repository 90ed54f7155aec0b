// Trains an MLP on Fashion-MNIST and reports accuracy and time: ember's main job.
//   ./train_mlp                       # defaults: Adam, 784-256-128-10, 10 epochs (>= 87%)
//   ./train_mlp --optimizer sgd --lr 0.1 --hidden 256 --batch-size 256   # the classic recipe
//   ./train_mlp --help
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <ember/ember.h>

using namespace ember;

namespace {

struct Config {
  std::string device = "auto";
  int epochs = 10;
  int64_t batch_size = 128;
  std::optional<double> lr;  // per-optimizer default
  std::vector<int64_t> hidden = {256, 128};
  std::string activation = "relu";
  std::string optimizer = "adam";
  double dropout = 0.0;
  double weight_decay = 0.0;
  uint64_t seed = 0;
  std::string data;
  std::string save, load;
  bool cuda_graph = true;
};

const char* kUsage =
    "usage: train_mlp [options]\n"
    "  --device D               cpu, cuda, cuda:N or auto (cuda when present)  [auto]\n"
    "  --epochs N               passes over the 60000 training images          [10]\n"
    "  --batch-size N           images per step                                [128]\n"
    "  --lr X                   learning rate             [adam: 0.001, sgd: 0.1]\n"
    "  --hidden A[,B...]        hidden layer widths                            [256,128]\n"
    "  --activation NAME        relu|gelu|tanh|sigmoid|leaky_relu|softplus     [relu]\n"
    "  --optimizer sgd|adam                                                    [adam]\n"
    "  --dropout P              dropout after each hidden activation           [0]\n"
    "  --weight-decay X                                                        [0]\n"
    "  --seed N                 initial weights and data order                 [0]\n"
    "  --data DIR               Fashion-MNIST IDX files            [$EMBER_FASHION_MNIST_DIR\n"
    "                           or /usr/share/datasets/fashion-mnist]\n"
    "  --no-cuda-graph          on cuda, run every step eagerly instead of replaying\n"
    "                           one captured CUDA graph per full batch\n"
    "  --save PATH              write the trained model's state_dict: safetensors when\n"
    "                           PATH ends in .safetensors, else an ember checkpoint\n"
    "  --load PATH              start from a saved state_dict, in either format by the same\n"
    "                           rule (--epochs 0: evaluate only)\n"
    "  --help                   this text\n";

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "train_mlp: " << msg << "\n\n" << kUsage;
  std::exit(2);
}

template <typename T>
T parse_number(const std::string& flag, const std::string& v) {
  // A stream reads "-1" into an unsigned as 2^64 - 1; a sign is no unsigned value.
  if (std::is_unsigned_v<T> && v.find('-') != std::string::npos)
    usage_error(flag + " must not be negative, got '" + v + "'");
  T out{};
  if constexpr (std::is_floating_point_v<T>) {
    // strtod, unlike a stream, reads "nan" and "inf", so they can be named as such.
    char* end = nullptr;
    out = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') usage_error("bad value '" + v + "' for " + flag);
    if (!std::isfinite(out)) usage_error(flag + " must be a finite number, got '" + v + "'");
  } else {
    std::istringstream is(v);
    if (!(is >> out) || !is.eof()) usage_error("bad value '" + v + "' for " + flag);
  }
  return out;
}

// The folder `path` would be written into exists and is writable, checked before a whole
// run is spent training a model that could not be saved.
void check_writable(const std::string& flag, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) usage_error(flag + " " + path + " is a folder, not a file");
  const fs::path parent =
      fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!fs::is_directory(parent, ec))
    usage_error(flag + " " + path + ": the folder " + parent.string() + " does not exist");
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    usage_error(flag + " " + path + ": cannot write into " + parent.string() + ": " +
                std::strerror(errno));
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    if (flag == "--no-cuda-graph") {
      c.cuda_graph = false;
      continue;
    }
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else {
      if (flag.rfind("--", 0) != 0) usage_error("unexpected argument '" + flag + "'");
      if (i + 1 >= argc) usage_error(flag + " needs a value");
      value = argv[++i];
    }
    if (flag == "--device")
      c.device = value;
    else if (flag == "--epochs")
      c.epochs = parse_number<int>(flag, value);
    else if (flag == "--batch-size")
      c.batch_size = parse_number<int64_t>(flag, value);
    else if (flag == "--lr")
      c.lr = parse_number<double>(flag, value);
    else if (flag == "--activation")
      c.activation = value;
    else if (flag == "--optimizer")
      c.optimizer = value;
    else if (flag == "--dropout")
      c.dropout = parse_number<double>(flag, value);
    else if (flag == "--weight-decay")
      c.weight_decay = parse_number<double>(flag, value);
    else if (flag == "--seed")
      c.seed = parse_number<uint64_t>(flag, value);
    else if (flag == "--data")
      c.data = value;
    else if (flag == "--save")
      c.save = value;
    else if (flag == "--load")
      c.load = value;
    else if (flag == "--hidden") {
      c.hidden.clear();
      std::istringstream is(value);
      for (std::string part; std::getline(is, part, ',');) {
        if (part.empty()) continue;
        c.hidden.push_back(parse_number<int64_t>(flag, part));
      }
    } else {
      usage_error("unknown option " + flag);
    }
  }
  if (c.device != "auto") {
    try {
      (void)Device(c.device);
    } catch (const Error&) {
      usage_error("--device must be auto, cpu, cuda or cuda:N, got '" + c.device + "'");
    }
  }
  if (c.epochs < 0) usage_error("--epochs must be >= 0");
  if (c.batch_size <= 0) usage_error("--batch-size must be positive");
  if (c.optimizer != "sgd" && c.optimizer != "adam") usage_error("--optimizer must be sgd or adam");
  if (!(c.dropout >= 0 && c.dropout < 1)) usage_error("--dropout must be in [0, 1)");
  if (c.lr && !(*c.lr >= 0)) usage_error("--lr must be >= 0");
  if (!(c.weight_decay >= 0)) usage_error("--weight-decay must be >= 0");
  for (int64_t h : c.hidden)
    if (h <= 0) usage_error("--hidden widths must be positive");
  if (!c.lr) c.lr = c.optimizer == "sgd" ? 0.1 : 1e-3;
  if (!c.save.empty()) check_writable("--save", c.save);
  return c;
}

std::shared_ptr<nn::Module> activation(const std::string& name) {
  if (name == "relu") return nn::ReLU();
  if (name == "gelu") return nn::GELU();
  if (name == "tanh") return nn::Tanh();
  if (name == "sigmoid") return nn::Sigmoid();
  if (name == "leaky_relu") return nn::LeakyReLU();
  if (name == "softplus") return nn::Softplus();
  usage_error("unknown activation '" + name + "'");
}

// A progress bar on a terminal; nothing when output goes to a file or pipe.
class Progress {
 public:
  Progress(int epoch, int epochs, int64_t total)
      : epoch_(epoch), epochs_(epochs), total_(total), tty_(isatty(STDOUT_FILENO)) {}
  bool shown() const { return tty_; }
  void update(int64_t done, double loss) const {
    if (!tty_) return;
    const int width = 30, filled = static_cast<int>(width * done / total_);
    std::printf("\repoch %d/%d [%s%s] %3d%%  loss %.4f", epoch_, epochs_,
                std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                static_cast<int>(100 * done / total_), loss);
    std::fflush(stdout);
  }
  void finish() const {
    if (tty_) std::printf("\r%*s\r", 80, "");
  }

 private:
  int epoch_, epochs_;
  int64_t total_;
  bool tty_;
};

// One training step per batch, adding the batch's summed loss and correct predictions to
// running totals that stay on the device (no host sync per step). On CUDA, with `graph`, the
// step of a full batch is captured into a CUDA graph once (after one eager warm-up step, which
// also gives the optimizer its device copies of the learning rate and step counts) and then
// replayed with a single launch: each batch is copied into the same input tensors first. A
// short last batch runs eagerly. The replay computes exactly what the eager step would.
class Trainer {
 public:
  Trainer(nn::Module& model, optim::Optimizer& opt, Device device, int64_t batch_size, bool graph)
      : model_(model),
        opt_(opt),
        device_(device),
        batch_size_(batch_size),
        graph_(graph && device.is_cuda()),
        loss_sum_(zeros({}, TensorOptions().device(device))),
        correct_(zeros({}, TensorOptions().dtype(kInt64).device(device))) {}

  bool uses_graph() const { return graph_; }

  // In place: a captured graph keeps adding into these tensors.
  void reset_totals() {
    loss_sum_.zero_();
    correct_.zero_();
  }
  double loss_sum() const { return loss_sum_.item<double>(); }
  int64_t correct() const { return correct_.item<int64_t>(); }

  void step(const data::Batch& b) {
    if (!graph_ || b.data.size(0) != batch_size_) {
      run(b.data.to(device_), b.target.to(device_));
      return;
    }
    if (!x_.defined()) {
      x_ = empty(b.data.sizes(), TensorOptions(b.data.dtype()).device(device_));
      y_ = empty(b.target.sizes(), TensorOptions(b.target.dtype()).device(device_));
    }
    x_.copy_(b.data);
    y_.copy_(b.target);
    if (!warmed_up_) {
      run(x_, y_);
      warmed_up_ = true;
      return;
    }
    if (!cuda_graph_) {
      cuda_graph_.emplace(device_.index);
      cuda_graph_->capture([&] { run(x_, y_); });
    }
    cuda_graph_->replay();
  }

 private:
  void run(const Tensor& x, const Tensor& y) {
    Tensor logits = model_.forward(x);
    Tensor loss = cross_entropy(logits, y);
    opt_.zero_grad();
    loss.backward();
    opt_.step();
    NoGradGuard no_grad;
    loss_sum_.add_(loss.detach(), static_cast<double>(x.size(0)));
    correct_.add_(eq(argmax(logits.detach(), 1), y).sum());
  }

  nn::Module& model_;
  optim::Optimizer& opt_;
  const Device device_;
  const int64_t batch_size_;
  const bool graph_;
  Tensor loss_sum_, correct_;
  Tensor x_, y_;  // a full batch's inputs, where the graph reads them
  bool warmed_up_ = false;
  std::optional<cuda::Graph> cuda_graph_;
};

double evaluate(nn::Module& model, const data::MNIST& set, Device device) {
  NoGradGuard no_grad;
  model.eval();
  data::DataLoader loader(set, data::DataLoaderOptions(1000));
  Tensor correct = zeros({}, TensorOptions().dtype(kInt64).device(device));
  for (const data::Batch& b : loader) {
    Tensor logits = model.forward(b.data.to(device));
    correct = correct + eq(argmax(logits, 1), b.target.to(device)).sum();
  }
  return 100.0 * static_cast<double>(correct.item<int64_t>()) / static_cast<double>(set.size());
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse(argc, argv);
  Device device = cfg.device == "auto" ? (cuda::is_available() ? kCUDA : kCPU) : cfg.device;
  if (device.is_cuda() && device.index >= cuda::device_count()) {
    std::cerr << "train_mlp: --device " << device << ", but "
              << (cuda::is_available() ? "that CUDA device does not exist"
                                       : "no CUDA device is available (this build has no CUDA "
                                         "backend, or no GPU is present)")
              << "\n";
    return 1;
  }
  try {
    manual_seed(cfg.seed);
    // Fashion-MNIST's pixel mean and std, so inputs are roughly standardised.
    data::FashionMNIST train_set(cfg.data, /*train=*/true, 0.2860, 0.3530);
    data::FashionMNIST test_set(cfg.data, /*train=*/false, 0.2860, 0.3530);

    nn::Sequential model;
    model->push_back(nn::Flatten());
    int64_t in = 28 * 28;
    for (int64_t h : cfg.hidden) {
      model->push_back(nn::Linear(in, h));
      model->push_back(activation(cfg.activation));
      if (cfg.dropout > 0) model->push_back(nn::Dropout(cfg.dropout));
      in = h;
    }
    model->push_back(nn::Linear(in, 10));
    if (!cfg.load.empty()) model->load(cfg.load);
    model->to(device);

    std::unique_ptr<optim::Optimizer> opt;
    if (cfg.optimizer == "sgd")
      opt = std::make_unique<optim::SGD>(model->parameters(),
                                         optim::SGDOptions(*cfg.lr).weight_decay(cfg.weight_decay));
    else
      opt = std::make_unique<optim::Adam>(
          model->parameters(), optim::AdamOptions(*cfg.lr).weight_decay(cfg.weight_decay));

    // Dropout draws new random numbers every step, which a replayed graph cannot.
    Trainer trainer(*model, *opt, device, cfg.batch_size, cfg.cuda_graph && cfg.dropout == 0);
    std::cout << "ember: training on " << device << ", " << train_set.size() << " train / "
              << test_set.size() << " test images";
    if (device.is_cuda()) {
      std::cout << (trainer.uses_graph() ? ", one CUDA graph replay per step"
                    : cfg.dropout > 0    ? ", eager steps (dropout cannot be replayed)"
                                         : ", eager steps");
    }
    std::cout << "\n" << model << "\n";
    // On a GPU the training images live there (188 MB) and batches are gathered on it. Not on
    // cudasim, whose launches slow down with that much simulated device memory.
    data::DataLoaderOptions loader_options =
        data::DataLoaderOptions(cfg.batch_size).shuffle(true).seed(cfg.seed);
    if (device.is_cuda() && !cuda::is_simulated()) loader_options.device(device);
    data::DataLoader loader(train_set, loader_options);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    double test_acc = cfg.epochs == 0 ? evaluate(*model, test_set, device) : 0;
    for (int epoch = 1; epoch <= cfg.epochs; ++epoch) {
      const auto t0 = Clock::now();
      model->train();
      Progress bar(epoch, cfg.epochs, loader.size());
      trainer.reset_totals();
      int64_t step = 0, seen = 0;
      for (const data::Batch& b : loader) {
        trainer.step(b);
        seen += b.data.size(0);
        if (++step % 20 == 0 && bar.shown())
          bar.update(step, trainer.loss_sum() / static_cast<double>(seen));
      }
      bar.finish();
      const double train_loss = trainer.loss_sum() / static_cast<double>(seen);
      const double train_acc = 100.0 * static_cast<double>(trainer.correct()) / seen;
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      test_acc = evaluate(*model, test_set, device);
      std::printf(
          "epoch %2d/%d  loss %.4f  train acc %.2f%%  test acc %.2f%%  %.1f s  %.0f img/s\n", epoch,
          cfg.epochs, train_loss, train_acc, test_acc, secs, static_cast<double>(seen) / secs);
      std::fflush(stdout);
    }
    const double total = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("done: test accuracy %.2f%% after %d epochs on %s in %.1f s\n", test_acc,
                cfg.epochs, device.str().c_str(), total);
    if (!cfg.save.empty()) {
      model->to(kCPU);
      model->save(cfg.save);
      std::printf("saved the model to %s\n", cfg.save.c_str());
    }
  } catch (const Error& e) {
    std::cerr << "train_mlp: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
