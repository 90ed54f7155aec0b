// The IDX reader: gzip and raw files written here byte by byte, read back; every kind of
// corruption is an IOError naming the file, and random damage never crashes the reader.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
using namespace ember::data;
using Bytes = std::vector<uint8_t>;
namespace fs = std::filesystem;

namespace {

// An IDX file image: magic, big-endian dims, payload.
Bytes idx_bytes(const std::vector<uint32_t>& dims, const Bytes& payload, uint8_t type = 0x08) {
  Bytes b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    b.push_back(static_cast<uint8_t>(d >> 24));
    b.push_back(static_cast<uint8_t>(d >> 16));
    b.push_back(static_cast<uint8_t>(d >> 8));
    b.push_back(static_cast<uint8_t>(d));
  }
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes counting(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
  return b;
}

void write_raw(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  gzclose(f);
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ember_idx_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Reading must fail with an IOError whose message names the file and contains `what`.
  void expect_io_error(const std::string& file, const std::string& what) {
    try {
      read_idx(file);
      ADD_FAILURE() << "read " << file << " without error; expected: " << what;
    } catch (const IOError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(file), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << "expected '" << what << "' in: " << msg;
    }
  }

  fs::path dir_;
};

}  // namespace

TEST_F(IdxTest, ReadsRawAndGzip) {
  const Bytes payload = counting(4 * 3 * 2);
  const Bytes file = idx_bytes({4, 3, 2}, payload);
  write_raw(path("a.idx"), file);
  write_gz(path("a.idx.gz"), file);
  for (const std::string name : {"a.idx", "a.idx.gz"}) {
    const IdxArray a = read_idx(path(name));
    EXPECT_EQ(a.dims, (std::vector<int64_t>{4, 3, 2})) << name;
    EXPECT_EQ(a.data, payload) << name;
    EXPECT_EQ(a.shape(), (Shape{4, 3, 2}));
  }
  // The gzip header decides, not the name: a gzip file without .gz reads too.
  write_gz(path("b.idx"), file);
  EXPECT_EQ(read_idx(path("b.idx")).data, payload);
}

TEST_F(IdxTest, ReadsALargeGzipFile) {
  const Bytes payload = counting(300 * 28 * 28);  // several zlib buffers
  write_gz(path("big.gz"), idx_bytes({300, 28, 28}, payload));
  EXPECT_EQ(read_idx(path("big.gz")).data, payload);
}

TEST_F(IdxTest, ConvertsToTensors) {
  IdxArray a;
  a.dims = {2, 2};
  a.data = {0, 51, 255, 7};
  Tensor f = idx_to_tensor(a, kFloat32, 1.0 / 255);
  EXPECT_EQ(f.sizes(), (Shape{2, 2}));
  EXPECT_EQ(f.dtype(), kFloat32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{0.f, 0.2f, 1.f, 7.f / 255}));
  Tensor l = idx_to_tensor(a, kInt64);
  EXPECT_EQ(l.to_vector<int64_t>(), (std::vector<int64_t>{0, 51, 255, 7}));
  Tensor n = idx_to_tensor(a, kFloat64, 2.0, -1.0);
  EXPECT_EQ(n.to_vector<double>(), (std::vector<double>{-1, 101, 509, 13}));
  EXPECT_THROW(idx_to_tensor(a, kInt64, 2.0), ValueError);
  EXPECT_THROW(idx_to_tensor(a, kBool), DTypeError);
}

TEST_F(IdxTest, CorruptFilesAreIOErrors) {
  const Bytes good = idx_bytes({3, 2}, counting(6));
  struct Case {
    const char* name;
    Bytes bytes;
    const char* what;
  };
  Bytes trailing = good;
  trailing.push_back(0);
  Bytes truncated(good.begin(), good.end() - 1);
  const std::vector<Case> cases = {
      {"empty", {}, "truncated header"},
      {"short_magic", {0, 0, 8}, "truncated header"},
      {"short_dims", {0, 0, 8, 2, 0, 0, 0, 3, 0, 0}, "truncated header"},
      {"bad_magic", idx_bytes({3, 2}, counting(6)), "bad magic"},
      {"float_type", idx_bytes({3, 2}, counting(24), 0x0D), "unsupported element type 0x0D"},
      {"unknown_type", idx_bytes({3, 2}, counting(6), 0x42), "bad element type byte 0x42"},
      {"zero_ndim", idx_bytes({}, {}), "number of dims 0"},
      {"many_dims", idx_bytes({1, 1, 1, 1, 1, 1, 1, 1, 1}, {1}), "number of dims 9"},
      {"zero_dim", idx_bytes({3, 0}, {}), "dim 1 is zero"},
      {"absurd_dims", idx_bytes({0xFFFFFFFFu, 0xFFFFFFFFu}, counting(16)), "absurd dims"},
      {"truncated_payload", truncated, "truncated payload"},
      {"trailing_garbage", trailing, "trailing garbage"},
  };
  for (const Case& c : cases) {
    Bytes bytes = c.bytes;
    if (std::string(c.name) == "bad_magic") bytes[1] = 0x01;
    write_raw(path(std::string(c.name) + ".raw"), bytes);
    write_gz(path(std::string(c.name) + ".gz"), bytes);
    SCOPED_TRACE(c.name);
    expect_io_error(path(std::string(c.name) + ".raw"), c.what);
    expect_io_error(path(std::string(c.name) + ".gz"), c.what);
  }
}

TEST_F(IdxTest, DamagedGzipStreamsAreIOErrors) {
  const Bytes file = idx_bytes({50, 40}, counting(2000));
  write_gz(path("ok.gz"), file);
  const Bytes gz = read_file(path("ok.gz"));
  ASSERT_GT(gz.size(), 40u);
  // Cut inside the compressed stream.
  write_raw(path("cut.gz"), Bytes(gz.begin(), gz.begin() + static_cast<long>(gz.size() / 2)));
  expect_io_error(path("cut.gz"), "");
  // Damage the compressed bytes (the CRC or the inflate step catches it).
  Bytes flipped = gz;
  for (size_t i = 12; i < flipped.size() - 8; i += 5) flipped[i] ^= 0x5A;
  write_raw(path("flipped.gz"), flipped);
  expect_io_error(path("flipped.gz"), "");
  // A damaged CRC trailer alone.
  Bytes crc = gz;
  crc[crc.size() - 6] ^= 0xFF;
  write_raw(path("crc.gz"), crc);
  expect_io_error(path("crc.gz"), "gzip");
}

TEST_F(IdxTest, MissingFilesAndDirectories) {
  expect_io_error(path("nope.idx"), "no such file");
  expect_io_error(dir_.string(), "directory");
}

TEST_F(IdxTest, RandomDamageNeverCrashes) {
  const Bytes file = idx_bytes({20, 5, 5}, counting(500));
  write_gz(path("src.gz"), file);
  const Bytes gz = read_file(path("src.gz"));
  std::mt19937 rng(1234);
  int errors = 0, reads = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const bool compressed = trial % 2 == 0;
    Bytes b = compressed ? gz : file;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0:
          b[at] = static_cast<uint8_t>(rng());
          break;
        case 1:
          b.resize(at);
          break;
        default:
          b.insert(b.begin() + static_cast<long>(at), static_cast<uint8_t>(rng()));
      }
      if (b.empty()) break;
    }
    const std::string p = path("fuzz");
    write_raw(p, b);
    try {
      const IdxArray a = read_idx(p);
      // Accepted only if self-consistent.
      EXPECT_EQ(static_cast<int64_t>(a.data.size()), a.numel());
      ++reads;
    } catch (const IOError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 150);  // most damage is detected
  EXPECT_EQ(errors + reads, 300);
}
