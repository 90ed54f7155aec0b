// Checkpoint files (core/serialize.h) and Module::save/load: round trips, strict
// load_state_dict errors, every kind of damaged file (each must be an IOError, never a crash
// or a huge allocation), and the atomic write.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
namespace fs = std::filesystem;

namespace {

// A scratch directory per test, removed afterwards.
class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("ember_ckpt_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> listing() const {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
};

std::vector<unsigned char> read_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& p, const std::vector<unsigned char>& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Reference CRC-32 (IEEE 802.3, reflected, as zlib computes it), bit by bit.
uint32_t crc32_ref(const unsigned char* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// Builds raw checkpoint bytes field by field (little-endian host).
struct Bytes {
  std::vector<unsigned char> b;
  template <class T>
  Bytes& pod(T v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& header(uint64_t count, uint32_t version = 1) {
    return str("EMBERCKP").pod<uint32_t>(version).pod<uint64_t>(count);
  }
  Bytes& seal() { return pod<uint32_t>(crc32_ref(b.data(), b.size())); }
};

template <class Fn>
std::string io_error_of(Fn fn) {
  try {
    fn();
  } catch (const IOError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("WRONG EXCEPTION TYPE: ") + e.what();
  }
  return "NO ERROR";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

StateDict sample_state() {
  return {{"w", from_vector<float>({1.5f, -2.f, 3.25f, 0.f, 7.f, -1e-3f}, Shape{2, 3})},
          {"scalar", scalar_tensor(2.5, kFloat64)},
          {"steps", from_vector<int64_t>({1, -5, 1LL << 40})},
          {"mask", from_vector<bool>({true, false, true})},
          {"empty", zeros({0, 4})}};
}

}  // namespace

TEST_F(Checkpoint, RoundTripsEveryDtypeAndShape) {
  StateDict state = sample_state();
  // A non-contiguous view is saved as its logical (row-major) contents.
  Tensor base = arange(0, 6, 1, kFloat32).view({2, 3});
  state.emplace_back("transposed", base.t());
  state.emplace_back("grad_tensor", ones({2}).requires_grad_());
  save(state, path("a.ckpt"));
  StateDict back = load(path("a.ckpt"));
  ASSERT_EQ(back.size(), state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    SCOPED_TRACE(state[i].first);
    EXPECT_EQ(back[i].first, state[i].first);
    EXPECT_EQ(back[i].second.dtype(), state[i].second.dtype());
    EXPECT_EQ(back[i].second.sizes(), state[i].second.sizes());
    EXPECT_TRUE(back[i].second.is_contiguous());
    EXPECT_FALSE(back[i].second.requires_grad());
    EXPECT_EQ(back[i].second.to_vector<double>(), state[i].second.to_vector<double>());
  }
  EXPECT_EQ(back[2].second.to_vector<int64_t>()[2], 1LL << 40);
  // The file is exactly the documented layout, with a standard CRC-32 trailer.
  auto bytes = read_bytes(path("a.ckpt"));
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "EMBERCKP");
  uint32_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  EXPECT_EQ(stored, crc32_ref(bytes.data(), bytes.size() - 4));
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.ckpt"}));  // no temporary left behind
}

TEST_F(Checkpoint, ModuleStateDictRoundTrip) {
  manual_seed(1);
  auto make = [] { return nn::Sequential(nn::Linear(5, 4), nn::Tanh(), nn::Linear(4, 2)); };
  auto a = make();
  auto b = make();  // different initial weights
  Tensor x = rand({3, 5});
  ASSERT_NE((*a)(x).to_vector<float>(), (*b)(x).to_vector<float>());
  a->save(path("model.ckpt"));
  Tensor b_weight = b->at<nn::Linear>(0).weight;
  b->load(path("model.ckpt"));
  EXPECT_EQ((*a)(x).to_vector<float>(), (*b)(x).to_vector<float>());
  EXPECT_TRUE(b->at<nn::Linear>(0).weight.is_same(b_weight));  // loaded in place
  EXPECT_TRUE(b_weight.requires_grad());
  // Loading a float64 checkpoint into a float32 model converts.
  StateDict sd = a->state_dict();
  for (auto& [n, t] : sd) t = t.to(kFloat64);
  auto c = make();
  c->load_state_dict(sd);
  EXPECT_EQ(c->at<nn::Linear>(2).bias.dtype(), kFloat32);
  EXPECT_EQ((*a)(x).to_vector<float>(), (*c)(x).to_vector<float>());
}

TEST_F(Checkpoint, StrictLoadReportsEveryMismatchAndChangesNothing) {
  nn::Sequential model(nn::Linear(3, 2), nn::ReLU(), nn::Linear(2, 1));
  StateDict sd = model->state_dict();
  const auto before = model->at<nn::Linear>(0).weight.to_vector<float>();
  StateDict bad;
  bad.emplace_back("0.weight", zeros({2, 3}));  // fine
  bad.emplace_back("0.bias", zeros({5}));       // wrong shape
  bad.emplace_back("2.weight", zeros({1, 2}));  // fine
  bad.emplace_back("extra.thing", zeros({1}));  // unexpected
  // "2.bias" is missing
  std::string msg;
  try {
    model->load_state_dict(bad);
  } catch (const ValueError& e) {
    msg = e.what();
  }
  EXPECT_TRUE(contains(msg, "3 problems")) << msg;
  EXPECT_TRUE(contains(msg, "'0.bias'") && contains(msg, "[5]") && contains(msg, "[2]")) << msg;
  EXPECT_TRUE(contains(msg, "missing key '2.bias'")) << msg;
  EXPECT_TRUE(contains(msg, "unexpected key 'extra.thing'")) << msg;
  EXPECT_EQ(model->at<nn::Linear>(0).weight.to_vector<float>(), before);  // untouched

  // Non-strict: keys may be missing or extra (reported back), shapes still must match.
  bad[1].second = ones({2});
  nn::LoadResult r = model->load_state_dict(bad, /*strict=*/false);
  EXPECT_EQ(r.missing_keys, (std::vector<std::string>{"2.bias"}));
  EXPECT_EQ(r.unexpected_keys, (std::vector<std::string>{"extra.thing"}));
  EXPECT_EQ(model->at<nn::Linear>(0).bias.to_vector<float>(), (std::vector<float>{1, 1}));
  bad[1].second = ones({3});
  EXPECT_THROW(model->load_state_dict(bad, false), ValueError);
  // A checkpoint of another architecture fails loudly through Module::load.
  nn::Linear other(3, 3);
  other->save(path("other->ckpt"));
  EXPECT_THROW(model->load(path("other->ckpt")), ValueError);
}

TEST_F(Checkpoint, EveryTruncationIsAnIOError) {
  save(sample_state(), path("full.ckpt"));
  const auto bytes = read_bytes(path("full.ckpt"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    write_bytes(path("cut.ckpt"), std::vector<unsigned char>(bytes.begin(), bytes.begin() + n));
    const std::string msg = io_error_of([&] { load(path("cut.ckpt")); });
    ASSERT_TRUE(contains(msg, path("cut.ckpt"))) << "prefix of " << n << " bytes: " << msg;
  }
}

TEST_F(Checkpoint, EveryFlippedByteIsAnIOError) {
  save(sample_state(), path("full.ckpt"));
  const auto bytes = read_bytes(path("full.ckpt"));
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] ^= 0x10;
    write_bytes(path("bad.ckpt"), damaged);
    const std::string msg = io_error_of([&] { load(path("bad.ckpt")); });
    ASSERT_TRUE(contains(msg, path("bad.ckpt"))) << "byte " << i << ": " << msg;
  }
  // A flip in tensor data passes every structural check; only the checksum catches it.
  auto damaged = bytes;
  damaged[bytes.size() - 10] ^= 0x01;
  write_bytes(path("bad.ckpt"), damaged);
  EXPECT_TRUE(contains(io_error_of([&] { load(path("bad.ckpt")); }), "checksum"));
}

TEST_F(Checkpoint, HeaderErrorsAreNamed) {
  write_bytes(path("magic.ckpt"),
              Bytes().str("NOTEMBER").pod<uint32_t>(1).pod<uint64_t>(0).seal().b);
  EXPECT_TRUE(contains(io_error_of([&] { load(path("magic.ckpt")); }), "magic"));

  write_bytes(path("v9.ckpt"), Bytes().header(0, 9).seal().b);
  const std::string v = io_error_of([&] { load(path("v9.ckpt")); });
  EXPECT_TRUE(contains(v, "version 9") && contains(v, "version 1")) << v;

  const std::string missing = io_error_of([&] { load(path("nope.ckpt")); });
  EXPECT_TRUE(contains(missing, path("nope.ckpt")) && contains(missing, "cannot open")) << missing;
  EXPECT_TRUE(contains(io_error_of([&] { load(dir_.string()); }), "not a regular file"));

  // A well-formed empty checkpoint loads.
  write_bytes(path("empty.ckpt"), Bytes().header(0).seal().b);
  EXPECT_TRUE(load(path("empty.ckpt")).empty());
}

TEST_F(Checkpoint, AbsurdSizeFieldsFailBeforeAllocating) {
  // Each file has a valid checksum, so only the size validation can reject it; a missing
  // check would try to allocate terabytes (or overflow) instead of throwing.
  auto record = [](Bytes& b, const std::string& name, uint8_t dtype, std::vector<int64_t> sizes) {
    b.pod<uint32_t>(static_cast<uint32_t>(name.size())).str(name).pod<uint8_t>(dtype);
    b.pod<uint8_t>(static_cast<uint8_t>(sizes.size()));
    for (int64_t s : sizes) b.pod<int64_t>(s);
  };
  struct Case {
    const char* what;
    Bytes bytes;
    const char* expect;
  };
  std::vector<Case> cases;
  {
    Bytes b;
    b.header(1);
    record(b, "w", 0, {1LL << 40, 1LL << 20});
    cases.push_back({"huge shape", b.seal(), "needs more data"});
  }
  {
    Bytes b;
    b.header(1);
    record(b, "w", 1, {1LL << 62, 1LL << 62, 16});  // the byte count wraps to 0 mod 2^64
    b.str(std::string(64, 'x'));
    cases.push_back({"overflowing shape", b.seal(), "overflow int64"});
  }
  {
    Bytes b;
    b.header(1);
    record(b, "w", 0, {0, 1LL << 40, 1LL << 40});  // no data, but the strides pass int64
    cases.push_back({"zero dim beside huge dims", b.seal(), "strides overflow int64"});
  }
  {
    Bytes b;
    b.header(1);
    record(b, "w", 0, {(1LL << 62) + 1, 4});  // the count wraps to exactly 4 mod 2^64
    b.str(std::string(16, 'x'));
    cases.push_back({"wrapping count", b.seal(), "more elements than int64"});
  }
  {
    Bytes b;
    b.header(1);
    record(b, "w", 0, {-4});
    cases.push_back({"negative size", b.seal(), "negative size"});
  }
  {
    Bytes b;
    b.header(1ULL << 60);
    cases.push_back({"huge record count", b.seal(), "record count"});
  }
  {
    Bytes b;
    b.header(1).pod<uint32_t>(0xfffffff0u).str("0123456789");
    cases.push_back({"huge name length", b.seal(), "name length"});
  }
  {
    Bytes b;
    b.header(1);
    record(b, "w", 7, {});
    cases.push_back({"unknown dtype", b.seal(), "dtype"});
  }
  {
    Bytes b;
    b.header(1);
    record(b, "w", 0, std::vector<int64_t>(9, 1));
    cases.push_back({"too many dims", b.seal(), "ndim 9"});
  }
  {
    Bytes b;
    b.header(1);
    record(b, "m", 3, {1});
    b.pod<uint8_t>(5);  // a bool byte that is neither 0 nor 1
    cases.push_back({"invalid bool", b.seal(), "bool"});
  }
  {
    Bytes b;
    b.header(0).pod<uint32_t>(0);  // four stray bytes before the checksum
    cases.push_back({"trailing bytes", b.seal(), "unexpected bytes"});
  }
  for (auto& c : cases) {
    write_bytes(path("crafted.ckpt"), c.bytes.b);
    const std::string msg = io_error_of([&] { load(path("crafted.ckpt")); });
    EXPECT_TRUE(contains(msg, c.expect) && contains(msg, path("crafted.ckpt")))
        << c.what << ": " << msg;
  }
}

TEST_F(Checkpoint, FailedSaveKeepsTheOldCheckpointAndLeavesNoTemporary) {
  StateDict old_state = {{"w", full({4}, 3.0)}};
  save(old_state, path("model.ckpt"));

  // A path in a directory that does not exist.
  const std::string nowhere = path("missing_dir/model.ckpt");
  EXPECT_TRUE(contains(io_error_of([&] { save(old_state, nowhere); }), nowhere));

  // A write that fails halfway: cap the file size this process may write (EFBIG instead of
  // the default SIGXFSZ), then save something bigger over the existing checkpoint.
  StateDict big = {{"w", zeros({1 << 18})}};
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit cap = old_limit;
  cap.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &cap), 0);
  const std::string msg = io_error_of([&] { save(big, path("model.ckpt")); });
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(contains(msg, "model.ckpt")) << msg;

  StateDict back = load(path("model.ckpt"));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].second.to_vector<float>(), std::vector<float>(4, 3.f));
  EXPECT_EQ(listing(), (std::vector<std::string>{"model.ckpt"}));

  // Invalid input is rejected before any file is touched.
  EXPECT_THROW(save({{"a", Tensor()}}, path("model.ckpt")), ValueError);
  EXPECT_THROW(save({{"a", ones({1})}, {"a", ones({1})}}, path("model.ckpt")), ValueError);
  EXPECT_EQ(load(path("model.ckpt")).size(), 1u);
}

namespace {

// Two states of the same names and sizes, told apart by their values.
StateDict numbered_state(float v) {
  return {{"w", full({64, 64}, v)}, {"b", full({64}, v)}};
}

// The value of a loaded numbered_state, or -1 when it is not one whole state.
float state_value(const StateDict& s) {
  if (s.size() != 2 || s[0].second.numel() != 64 * 64 || s[1].second.numel() != 64) return -1;
  const float v = s[1].second.to_vector<float>()[0];
  for (const auto& [name, t] : s)
    for (float x : t.to_vector<float>())
      if (x != v) return -1;
  return v;
}

}  // namespace

TEST_F(Checkpoint, ConcurrentSavesToOnePathEachLandWhole) {
  // An asynchronous checkpoint thread beside the training loop: two threads save to the same
  // path while a third loads it. Every save succeeds, every load sees one whole state.
  const std::string p = path("model.ckpt");
  save(numbered_state(0), p);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, loads{0};
  auto saver = [&](float v) {
    for (int i = 0; i < 40; ++i) {
      try {
        save(numbered_state(v), p);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "save " << v << ": " << e.what();
        ++failures;
      }
    }
  };
  std::thread loader([&] {
    while (!stop) {
      const float v = state_value(load(p));
      if (v != 0 && v != 1 && v != 2) ++failures;
      ++loads;
    }
  });
  std::thread a(saver, 1.f), b(saver, 2.f);
  a.join();
  b.join();
  stop = true;
  loader.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(loads, 0);
  const float last = state_value(load(p));
  EXPECT_TRUE(last == 1 || last == 2) << last;
  EXPECT_EQ(listing(), (std::vector<std::string>{"model.ckpt"}));
}

// Not a test of its own: the child process of KilledSavesLeaveNoTemporaryBehind saves in a
// loop until it is killed. Skipped when run by hand or by ctest.
TEST_F(Checkpoint, SaveLoopUntilKilled) {
  const char* p = std::getenv("EMBER_TEST_SAVE_LOOP_PATH");
  if (p == nullptr) GTEST_SKIP() << "the child process of KilledSavesLeaveNoTemporaryBehind";
  for (int i = 0;; ++i) save(numbered_state(static_cast<float>(1 + i % 2)), p);
}

TEST_F(Checkpoint, KilledSavesLeaveNoTemporaryBehind) {
  const std::string p = path("model.ckpt");
  std::mt19937 rng(7);
  int loaded = 0;
  auto inode = [&] {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : ino_t{0};
  };
  for (int kill = 0; kill < 12; ++kill) {
    const ino_t before = inode();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // A fresh process (exec) rather than a fork of this multi-threaded one.
      ::setenv("EMBER_TEST_SAVE_LOOP_PATH", p.c_str(), 1);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      const char* argv[] = {"/proc/self/exe", "--gtest_filter=Checkpoint.SaveLoopUntilKilled",
                            nullptr};
      ::execv("/proc/self/exe", const_cast<char* const*>(argv));
      ::_exit(127);
    }
    // Kill it at a random moment of its loop, once it has replaced the file at least once
    // (each save is a new inode): then the kill lands in a save.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (inode() == before && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child ended by itself, status " << status;
    // The path always holds one whole checkpoint, the old or the new.
    const float v = state_value(load(p));
    EXPECT_TRUE(v == 1 || v == 2) << "after kill " << kill << ": " << v;
    ++loaded;
  }
  EXPECT_EQ(loaded, 12);
  // A killed save leaves nothing (its file had no name yet) or, killed between naming and
  // renaming, a temporary of a dead process, which the next save removes.
  save(numbered_state(1), p);
  EXPECT_EQ(listing(), (std::vector<std::string>{"model.ckpt"}));
}

TEST_F(Checkpoint, SaveRemovesOnlyTheTemporariesOfDeadProcesses) {
  const std::string p = path("model.ckpt");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // a pid that no longer runs
  const std::string dead = "model.ckpt.tmp." + std::to_string(child) + ".0123456789abcdef";
  const std::string alive = "model.ckpt.tmp." + std::to_string(::getpid()) + ".0123456789abcdef";
  for (const std::string& name : {dead, alive, std::string("model.ckpt.tmp.notes"),
                                  std::string("other.ckpt.tmp.1.0123456789abcdef")})
    write_bytes(path(name), {1, 2, 3});
  save(numbered_state(1), p);
  EXPECT_EQ(listing(), (std::vector<std::string>{"model.ckpt", alive, "model.ckpt.tmp.notes",
                                                 "other.ckpt.tmp.1.0123456789abcdef"}));
}

TEST_F(Checkpoint, OneTensorAndListsOfTensors) {
  const Tensor t = from_vector<float>({1.5f, -2.f, 3.f}, Shape{3, 1});
  save(t, path("t.ckpt"));
  Tensor back;
  load(back, path("t.ckpt"));
  EXPECT_EQ(back.sizes(), Shape({3, 1}));
  EXPECT_EQ(back.to_vector<float>(), (std::vector<float>{1.5f, -2.f, 3.f}));

  save(std::vector<Tensor>{t, arange(4), zeros({0})}, path("list.ckpt"));
  std::vector<Tensor> list;
  load(list, path("list.ckpt"));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(list[2].numel(), 0);
  // A list is a state_dict with the names "0", "1", ...
  EXPECT_EQ(load(path("list.ckpt"))[2].first, "2");

  EXPECT_TRUE(contains(io_error_of([&] { load(back, path("list.ckpt")); }), "holds 3 tensors"));
  save(sample_state(), path("state.ckpt"));
  EXPECT_TRUE(contains(io_error_of([&] { load(list, path("state.ckpt")); }), "state_dict"));
  EXPECT_EQ(list.size(), 3u);  // a failed load leaves the list as it was
}
