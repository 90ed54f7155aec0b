// MNIST / Fashion-MNIST: small fake data sets written here (directory lookup, environment
// overrides, conversion, validation), and the real Fashion-MNIST when it is installed.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
using namespace ember::data;
using Bytes = std::vector<uint8_t>;
namespace fs = std::filesystem;

namespace {

Bytes idx_bytes(const std::vector<uint32_t>& dims, const Bytes& payload) {
  Bytes b = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<uint8_t>(d >> shift));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

void write_file(const fs::path& path, const Bytes& bytes, bool gzip) {
  gzFile f = gzopen(path.c_str(), gzip ? "wb" : "wbT");  // T: no compression
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(f);
}

// Restores an environment variable when the test ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }

 private:
  const char* name_;
  std::string old_;
};

class MnistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ember_mnist_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A split of n images (pixel k of image i is (i * 31 + k) % 256) and labels i % 10.
  void write_split(const std::string& prefix, uint32_t n, bool gzip = true,
                   uint8_t label_offset = 0, uint32_t label_count = 0) {
    Bytes pixels(n * 28 * 28), labels(label_count ? label_count : n);
    for (size_t i = 0; i < pixels.size(); ++i)
      pixels[i] = static_cast<uint8_t>(((i / 784) * 31 + i % 784) % 256);
    for (size_t i = 0; i < labels.size(); ++i)
      labels[i] = static_cast<uint8_t>(i % 10 + label_offset);
    const std::string ext = gzip ? ".gz" : "";
    write_file(dir_ / (prefix + "-images-idx3-ubyte" + ext), idx_bytes({n, 28, 28}, pixels), gzip);
    write_file(dir_ / (prefix + "-labels-idx1-ubyte" + ext),
               idx_bytes({static_cast<uint32_t>(labels.size())}, labels), gzip);
  }

  fs::path dir_;
};

}  // namespace

TEST_F(MnistTest, LoadsAFakeDataSet) {
  write_split("train", 12);
  write_split("t10k", 5, /*gzip=*/false);  // raw files work too
  FashionMNIST train(dir_.string());
  FashionMNIST test(dir_.string(), /*train=*/false);
  EXPECT_EQ(train.size(), 12);
  EXPECT_EQ(test.size(), 5);
  EXPECT_TRUE(train.train());
  EXPECT_FALSE(test.train());
  EXPECT_EQ(train.images().sizes(), (Shape{12, 1, 28, 28}));
  EXPECT_EQ(train.images().dtype(), kFloat32);
  EXPECT_EQ(train.labels().sizes(), (Shape{12}));
  EXPECT_EQ(train.labels().dtype(), kInt64);
  Example e = train.get(3);
  EXPECT_EQ(e.data.sizes(), (Shape{1, 28, 28}));
  EXPECT_EQ(e.target.item<int64_t>(), 3);
  const std::vector<float> px = e.data.flatten().to_vector<float>();
  for (int k : {0, 1, 100, 783})
    EXPECT_FLOAT_EQ(px[k], static_cast<float>((3 * 31 + k) % 256) / 255.f) << k;
  EXPECT_EQ(FashionMNIST::class_names()[9], std::string("Ankle boot"));
}

TEST_F(MnistTest, Normalizes) {
  write_split("train", 2);
  FashionMNIST plain(dir_.string());
  FashionMNIST norm(dir_.string(), true, 0.2860, 0.3530);
  const std::vector<float> a = plain.images().flatten().to_vector<float>();
  const std::vector<float> b = norm.images().flatten().to_vector<float>();
  for (size_t i = 0; i < a.size(); i += 97) EXPECT_NEAR(b[i], (a[i] - 0.2860) / 0.3530, 1e-5);
  EXPECT_THROW(FashionMNIST(dir_.string(), true, 0.0, 0.0), ValueError);
}

TEST_F(MnistTest, EnvironmentVariablesOverrideTheDefault) {
  write_split("train", 4);
  {
    ScopedEnv env("EMBER_FASHION_MNIST_DIR", dir_.string());
    FashionMNIST ds;
    EXPECT_EQ(ds.size(), 4);
    EXPECT_EQ(ds.root(), dir_.string());
  }
  {
    ScopedEnv env("EMBER_MNIST_DIR", dir_.string());
    EXPECT_EQ(MNIST().size(), 4);
  }
  // An explicit root wins over the environment.
  ScopedEnv env("EMBER_FASHION_MNIST_DIR", (dir_ / "nowhere").string());
  EXPECT_EQ(FashionMNIST(dir_.string()).size(), 4);
}

TEST_F(MnistTest, MissingDataSetExplainsWhatToDo) {
  const std::string missing = (dir_ / "absent").string();
  try {
    FashionMNIST ds(missing);
    FAIL() << "loaded a missing data set";
  } catch (const IOError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("train-images-idx3-ubyte"), std::string::npos) << msg;
    EXPECT_NE(msg.find(missing), std::string::npos) << msg;
    EXPECT_NE(msg.find("apt-get install dataset-fashion-mnist"), std::string::npos) << msg;
    EXPECT_NE(msg.find("EMBER_FASHION_MNIST_DIR"), std::string::npos) << msg;
  }
  try {
    MNIST ds(missing);
    FAIL() << "loaded a missing data set";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("EMBER_MNIST_DIR"), std::string::npos);
  }
}

TEST_F(MnistTest, InconsistentFilesAreIOErrors) {
  write_split("train", 10, true, /*label_offset=*/1);  // label 10 appears
  EXPECT_THROW(FashionMNIST(dir_.string()), IOError);
  write_split("train", 6, true, 0, /*label_count=*/5);
  EXPECT_THROW(FashionMNIST(dir_.string()), IOError);
  write_split("train", 6);
  write_file(dir_ / "train-images-idx3-ubyte.gz", idx_bytes({6, 784}, Bytes(6 * 784)), true);
  EXPECT_THROW(FashionMNIST(dir_.string()), IOError);  // not (N, rows, cols)
}

TEST(FashionMnistReal, SizesAndRanges) {
  const char* env = std::getenv("EMBER_FASHION_MNIST_DIR");
  const fs::path dir = env && *env ? env : "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(dir / "train-images-idx3-ubyte.gz") &&
      !fs::exists(dir / "train-images-idx3-ubyte"))
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << dir
                 << " (apt-get install dataset-fashion-mnist)";
  FashionMNIST train, test(dir.string(), false);
  ASSERT_EQ(train.size(), 60000);
  ASSERT_EQ(test.size(), 10000);
  EXPECT_EQ(train.images().sizes(), (Shape{60000, 1, 28, 28}));
  for (const FashionMNIST* ds : {&train, &test}) {
    EXPECT_FLOAT_EQ(ds->images().min().item<float>(), 0.f);
    EXPECT_FLOAT_EQ(ds->images().max().item<float>(), 1.f);
    const double mean = ds->images().mean().item();
    EXPECT_NEAR(mean, 0.286, 0.01);  // the published pixel mean
    std::vector<int64_t> counts(10, 0);
    for (int64_t y : ds->labels().to_vector<int64_t>()) {
      ASSERT_GE(y, 0);
      ASSERT_LT(y, 10);
      ++counts[y];
    }
    for (int64_t c : counts) EXPECT_EQ(c, ds->size() / 10);  // balanced classes
  }
}

TEST_F(MnistTest, UnreadableFolderIsAPermissionErrorNotAMissingPackage) {
  write_split("train", 2);
  const fs::path locked = dir_ / "locked";
  fs::create_directories(locked);
  fs::rename(dir_ / "train-images-idx3-ubyte.gz", locked / "train-images-idx3-ubyte.gz");
  ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  // The message the loader gives, or "" when it loads.
  auto message = [&] {
    try {
      FashionMNIST ds(locked.string());
    } catch (const IOError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  auto check = [&](const std::string& msg) {
    return msg.find("cannot read the folder") != std::string::npos &&
           msg.find(locked.string()) != std::string::npos &&
           msg.find("apt-get install") == std::string::npos;
  };
  if (::geteuid() != 0) {
    const std::string msg = message();
    EXPECT_TRUE(check(msg)) << msg;
  } else {
    // Root reads any folder: ask as an unprivileged user, in a child process.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(::setuid(65534) == 0 && check(message()) ? 0 : 1);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "as uid 65534 the loader did not report the permission problem";
  }
  ::chmod(locked.c_str(), 0700);
  // A file where the folder should be says so.
  const std::string file = (dir_ / "train-labels-idx1-ubyte.gz").string();
  try {
    FashionMNIST ds(file);
    FAIL() << "loaded a file as a folder";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a folder"), std::string::npos) << e.what();
  }
}
