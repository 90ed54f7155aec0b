// MNIST / Fashion-MNIST loading: find the directory, read and cross-check the IDX files.
#include <ember/data/mnist.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include <ember/data/idx.h>

namespace ember::data {
namespace {

std::string resolve_root(const std::string& root, const char* env_var, const char* fallback) {
  if (!root.empty()) return root;
  const char* env = std::getenv(env_var);
  if (env != nullptr && env[0] != '\0') return env;
  return fallback;
}

// `<dir>/<stem>.gz` if present, else `<dir>/<stem>`; an IOError explaining where we looked
// and how to get the data when neither exists.
std::string find_file(const MNIST::Source& src, const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const fs::path gz = fs::path(dir) / (stem + ".gz");
  const fs::path raw = fs::path(dir) / stem;
  std::error_code ec;
  if (fs::is_regular_file(gz, ec)) return gz.string();
  if (fs::is_regular_file(raw, ec)) return raw.string();
  // A folder that is there but cannot be read is a permission problem, not a missing package.
  const fs::file_status folder = fs::status(dir, ec);
  if (ec == std::errc::permission_denied ||
      (fs::is_directory(folder) && ::access(dir.c_str(), R_OK | X_OK) != 0))
    throw IOError(detail::str_cat(src.name, ": cannot read the folder ", dir, " (",
                                  std::strerror(ec ? ec.value() : errno),
                                  "): it exists, but this user may not list or open its files"));
  if (fs::exists(folder) && !fs::is_directory(folder))
    throw IOError(detail::str_cat(src.name, ": ", dir, " is not a folder (pass the folder that ",
                                  "holds the IDX files)"));
  throw IOError(detail::str_cat(src.name, ": cannot find ", stem, "(.gz) in ", dir, " (looked for ",
                                gz.string(), " and ", raw.string(), "). ", src.install_hint,
                                ", or pass the directory that holds the files (the dataset's ",
                                "root; train_mlp --data DIR) or set ", src.env_var, "."));
}

TensorDataset load(const MNIST::Source& src, const std::string& dir, bool train, double mean,
                   double std) {
  EMBER_CHECK(std > 0, ValueError, src.name, ": std must be positive, got ", std);
  const std::string prefix = train ? "train" : "t10k";
  const std::string images_path = find_file(src, dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(src, dir, prefix + "-labels-idx1-ubyte");
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  EMBER_CHECK(images.dims.size() == 3, IOError, src.name, ": ", images_path,
              ": expected 3 dims (count, rows, cols), got ", images.dims.size());
  EMBER_CHECK(labels.dims.size() == 1, IOError, src.name, ": ", labels_path,
              ": expected 1 dim (count), got ", labels.dims.size());
  EMBER_CHECK(images.dims[0] == labels.dims[0], IOError, src.name, ": ", images_path, " has ",
              images.dims[0], " images but ", labels_path, " has ", labels.dims[0], " labels");
  for (size_t i = 0; i < labels.data.size(); ++i)
    EMBER_CHECK(labels.data[i] < MNIST::kNumClasses, IOError, src.name, ": ", labels_path,
                ": label ", int{labels.data[i]}, " at index ", i, " is outside 0..9");
  // (b / 255 - mean) / std, as one multiply-add per pixel.
  Tensor x = idx_to_tensor(images, kFloat32, 1.0 / (255.0 * std), -mean / std);
  x = x.view({images.dims[0], 1, images.dims[1], images.dims[2]});
  return TensorDataset(x, idx_to_tensor(labels, kInt64));
}

constexpr MNIST::Source kMnist{
    "MNIST", "EMBER_MNIST_DIR", "/usr/share/datasets/mnist",
    "Download the four files from http://yann.lecun.com/exdb/mnist/ (or a mirror)"};

constexpr MNIST::Source kFashion{
    "FashionMNIST", "EMBER_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist",
    "On Debian or Ubuntu install it with `apt-get install dataset-fashion-mnist`"};

}  // namespace

MNIST::MNIST(TensorDataset loaded, std::string root, bool train)
    : TensorDataset(std::move(loaded)), root_(std::move(root)), train_(train) {}

MNIST::MNIST(const MNIST::Source& src, const std::string& root, bool train, double mean, double std)
    : MNIST(load(src, resolve_root(root, src.env_var, src.default_root), train, mean, std),
            resolve_root(root, src.env_var, src.default_root), train) {}

MNIST::MNIST(const std::string& root, bool train, double mean, double std)
    : MNIST(kMnist, root, train, mean, std) {}

FashionMNIST::FashionMNIST(const std::string& root, bool train, double mean, double std)
    : MNIST(kFashion, root, train, mean, std) {}

const std::array<const char*, 10>& FashionMNIST::class_names() {
  static const std::array<const char*, 10> names = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace ember::data
