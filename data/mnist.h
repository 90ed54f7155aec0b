// MNIST and Fashion-MNIST: 28x28 grey-scale images in 10 classes, read from the four IDX
// files of the original distribution (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; each .gz or raw).
//
// Images are float32 (N, 1, 28, 28) with pixels scaled to [0, 1], then normalised as
// (x - mean) / std when mean / std are given; labels are int64 (N) in 0..9.
//
// The directory is, in order: the `root` argument; the environment variable
// EMBER_FASHION_MNIST_DIR (EMBER_MNIST_DIR for MNIST); /usr/share/datasets/fashion-mnist
// (Debian's dataset-fashion-mnist package; /usr/share/datasets/mnist for MNIST).
#pragma once

#include <array>
#include <string>

#include <ember/data/dataset.h>

namespace ember::data {

class MNIST : public TensorDataset {
 public:
  static constexpr int64_t kNumClasses = 10;

  explicit MNIST(const std::string& root = "", bool train = true, double mean = 0.0,
                 double std = 1.0);

  // Where a data set in the MNIST format lives and how to get it, for the directory lookup
  // and its error messages. Other MNIST-format sets (KMNIST, ...) can be loaded with it.
  struct Source {
    const char* name;          // "FashionMNIST"
    const char* env_var;       // "EMBER_FASHION_MNIST_DIR"
    const char* default_root;  // "/usr/share/datasets/fashion-mnist"
    const char* install_hint;  // how to get the files
  };
  MNIST(const Source& source, const std::string& root, bool train, double mean, double std);

  const std::string& root() const { return root_; }
  bool train() const { return train_; }
  const Tensor& images() const { return data(); }
  const Tensor& labels() const { return targets(); }

 private:
  MNIST(TensorDataset loaded, std::string root, bool train);
  std::string root_;
  bool train_;
};

class FashionMNIST : public MNIST {
 public:
  explicit FashionMNIST(const std::string& root = "", bool train = true, double mean = 0.0,
                        double std = 1.0);

  // "T-shirt/top", "Trouser", ..., "Ankle boot", indexed by label.
  static const std::array<const char*, 10>& class_names();
};

}  // namespace ember::data
