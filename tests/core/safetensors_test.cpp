// safetensors files (core/safetensors.h): round trips of every dtype and shape, the bytes the
// format specifies, Module::save/load by extension, and one test per kind of damaged or
// hostile file, each an IOError naming the tensor and the field.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"

using namespace ember;
using ember_test::expect_error;
namespace fs = std::filesystem;

namespace {

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("ember_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A file of `header` (its length prefixed, as the format has it) and `data`.
  std::string file_of(const std::string& header, const std::string& data = "") const {
    std::string bytes(8, '\0');
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(n >> (8 * i));
    return write(bytes + header + data);
  }
  std::string write(const std::string& bytes) const {
    const std::string p = path("hand.safetensors");
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  // load_safetensors of `header` + `data` must be an IOError naming the file and `fragments`.
  void expect_bad(const std::string& header, const std::string& data,
                  std::initializer_list<const char*> fragments) {
    const std::string p = file_of(header, data);
    expect_error<IOError>([&] { load_safetensors(p); }, fragments);
    expect_error<IOError>([&] { load_safetensors(p); }, {p.c_str()});
  }

  fs::path dir_;
};

std::string read_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// One 4-byte F32 tensor "w" with `fields` as its entry's JSON.
std::string one_tensor(const std::string& fields) {
  return "{\"w\":{" + fields + "}}";
}

const std::string kFourBytes(4, '\0');

// Every dtype, a 0-D and an empty tensor of each, extreme values, and a non-contiguous view.
StateDict every_dtype() {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  StateDict s = {
      {"f32", tensor({-1.5, 0, 3.25, 1e-30, -7, 1e30}).view({2, 3})},
      {"f64", tensor({0.1, -2.5e300, 1.0 / 3}, kFloat64)},
      {"i64", from_vector<int64_t>({kMin, -1, 0, kMax}, Shape{2, 2})},
      {"bool", tensor({1, 0, 0, 1, 1}).to(kBool)},
      {"transposed", arange(6, kFloat32).view({2, 3}).t()},
  };
  for (DType dt : {kFloat32, kFloat64, kInt64, kBool}) {
    s.emplace_back(std::string("scalar_") + dtype_name(dt), full({}, 1, TensorOptions(dt)));
    s.emplace_back(std::string("empty_") + dtype_name(dt), zeros({0, 3}, TensorOptions(dt)));
  }
  return s;
}

TEST_F(Safetensors, RoundTripsEveryDtypeAndShape) {
  const StateDict saved = every_dtype();
  save_safetensors(saved, path("all.safetensors"));
  const StateDict loaded = load_safetensors(path("all.safetensors"));
  ASSERT_EQ(loaded.size(), saved.size());
  for (size_t i = 0; i < saved.size(); ++i) {
    const auto& [name, want] = saved[i];
    const auto& [got_name, got] = loaded[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(got_name, name);  // insertion order, which is also the data's order
    EXPECT_EQ(got.device(), kCPU);
    EXPECT_EQ(got.dtype(), want.dtype());
    EXPECT_EQ(got.sizes(), want.sizes());
    if (want.dtype() == kInt64 || want.dtype() == kBool)
      EXPECT_EQ(got.to_vector<int64_t>(), want.to_vector<int64_t>());
    else
      EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>());
  }
}

TEST_F(Safetensors, MetadataRoundTrips) {
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "ünïcode \"q\""}};
  save_safetensors({{"w", ones({2})}}, path("m.safetensors"), meta);
  EXPECT_EQ(load_safetensors_metadata(path("m.safetensors")), meta);
  EXPECT_EQ(load_safetensors(path("m.safetensors")).size(), 1u);
  // No metadata: no "__metadata__" key at all, as the reference writer does.
  save_safetensors({{"w", ones({2})}}, path("none.safetensors"));
  EXPECT_TRUE(load_safetensors_metadata(path("none.safetensors")).empty());
  EXPECT_EQ(read_bytes(path("none.safetensors")).find("__metadata__"), std::string::npos);
}

// The bytes the format specifies: a little-endian u64 header length, the JSON (compact,
// fields in the reference writer's order), spaces up to 8-byte alignment, then the data.
TEST_F(Safetensors, TinyFileIsByteExact) {
  save_safetensors({{"a", tensor({1.0, -2.0})}, {"flag", tensor({1}).to(kBool)}},
                   path("tiny.safetensors"), {{"k", "vv"}});
  const std::string json =
      R"({"__metadata__":{"k":"vv"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("flag":{"dtype":"BOOL","shape":[1],"data_offsets":[8,9]}})";
  ASSERT_EQ(json.size(), 137u);
  const std::string header = json + std::string(7, ' ');  // 8 + 144 is a multiple of 8
  std::string want = {static_cast<char>(144), 0, 0, 0, 0, 0, 0, 0};
  want += header;
  want += std::string("\x00\x00\x80\x3f", 4) + std::string("\x00\x00\x00\xc0", 4);  // 1, -2
  want += '\x01';
  EXPECT_EQ(read_bytes(path("tiny.safetensors")), want);
}

TEST_F(Safetensors, LoadsInDataOrderWhateverTheHeaderOrder) {
  const std::string p =
      file_of(R"({"second":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},)"
              R"("first":{"data_offsets":[0,8],"shape":[],"dtype":"F64"},"skipped_field_ok":)"
              R"({"dtype":"BOOL","shape":[0],"data_offsets":[16,16],"extra":1}})",
              std::string("\0\0\0\0\0\0\xf0\x3f", 8) + std::string("\x07\0\0\0\0\0\0\0", 8));
  const StateDict s = load_safetensors(p);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].first, "first");
  EXPECT_EQ(s[0].second.item<double>(), 1.0);
  EXPECT_EQ(s[1].first, "second");
  EXPECT_EQ(s[1].second.to_vector<int64_t>(), std::vector<int64_t>{7});
  EXPECT_EQ(s[2].first, "skipped_field_ok");
  EXPECT_EQ(s[2].second.numel(), 0);
}

TEST_F(Safetensors, ModuleSaveAndLoadGoByTheExtension) {
  manual_seed(0);
  nn::Sequential model(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2));
  model->save(path("model.safetensors"));
  model->save(path("model.ckpt"));
  const StateDict st = load_safetensors(path("model.safetensors"));
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].first, "0.weight");
  expect_error<IOError>([&] { ember::load(path("model.safetensors")); }, {"magic"});
  EXPECT_EQ(ember::load(path("model.ckpt")).size(), 4u);

  manual_seed(1);
  nn::Sequential other(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2));
  other->load(path("model.safetensors"));
  const StateDict a = model->state_dict(), b = other->state_dict();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].second.to_vector<float>(), b[i].second.to_vector<float>()) << a[i].first;
  expect_error<ValueError>([&] { nn::Linear(3, 3)->load(path("model.safetensors")); },
                           {"load_state_dict"});
}

TEST_F(Safetensors, SaveRefusesWhatTheFormatCannotHold) {
  expect_error<ValueError>(
      [&] {
        save_safetensors({{"w", ones({1})}, {"w", ones({1})}}, path("x"));
      },
      {"duplicate", "'w'"});
  expect_error<ValueError>(
      [&] {
        save_safetensors({{"__metadata__", ones({1})}}, path("x"));
      },
      {"__metadata__"});
  expect_error<ValueError>(
      [&] {
        save_safetensors({{"w", Tensor()}}, path("x"));
      },
      {"'w'", "undefined"});
  expect_error<ValueError>(
      [&] {
        save_safetensors({{"bad\xff", ones({1})}}, path("x"));
      },
      {"UTF-8"});
  expect_error<IOError>(
      [&] {
        save_safetensors({{"w", ones({1})}}, path("no/such/dir/x"));
      },
      {"does not exist"});
  EXPECT_FALSE(fs::exists(path("x")));
}

// ---- damaged and hostile files -----------------------------------------------------------

TEST_F(Safetensors, TruncatedFilesAreIOErrors) {
  expect_error<IOError>([&] { load_safetensors(write("abc")); }, {"3 bytes", "header length"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[0,4])"), "",
             {"tensor 'w'", "field 'data_offsets'", "truncated"});
  // The length field promises more header than the file has.
  expect_error<IOError>([&] { load_safetensors(write(std::string("\x40\0\0\0\0\0\0\0{}", 10))); },
                        {"header length 64", "truncated"});
  // Every prefix of a valid file.
  save_safetensors(every_dtype(), path("full.safetensors"), {{"k", "v"}});
  const std::string bytes = read_bytes(path("full.safetensors"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string p = write(bytes.substr(0, n));
    expect_error<IOError>([&] { load_safetensors(p); }, {p.c_str()});
    if (::testing::Test::HasFailure()) FAIL() << "prefix of " << n << " bytes";
  }
  expect_error<IOError>([&] { load_safetensors(path("missing.safetensors")); }, {"cannot open"});
  expect_error<IOError>([&] { load_safetensors(dir_.string()); }, {"not a regular file"});
}

TEST_F(Safetensors, HeaderLengthPastTheLimitIsRefusedBeforeReading) {
  const std::string p = write(std::string("\x01\xe1\xf5\x05\0\0\0\0", 8) + "{}");  // 100000001
  expect_error<IOError>([&] { load_safetensors(p); }, {"header length 100000001", "limit"});
  const std::string huge = write(std::string(8, '\xff') + "{}");
  expect_error<IOError>([&] { load_safetensors(huge); }, {"limit"});
}

TEST_F(Safetensors, InvalidJsonIsAnIOError) {
  expect_bad(R"({"w":{"dtype":"F32",)", "", {"header", "invalid JSON"});
  expect_bad(R"({"w":{"dtype":"F32"}} junk)", "", {"invalid JSON"});
  expect_bad("{\"w\xff\":{}}", "", {"invalid JSON"});  // not UTF-8
  expect_bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{}})", kFourBytes,
             {"duplicate key 'w'"});
  expect_bad(R"({"w":{"shape":[[[1]]]}})", "", {"nested"});
}

TEST_F(Safetensors, HeaderThatIsNotAnObjectIsAnIOError) {
  expect_bad("[1, 2]", "", {"not a JSON object"});
  expect_bad(" {}", "", {"not a JSON object"});
  expect_bad("", "", {"not a JSON object"});
  expect_bad(R"({"w":3})", "", {"tensor 'w'", "the integer 3", "not an object"});
  expect_bad(R"({"w":[]})", "", {"tensor 'w'", "an array", "not an object"});
}

TEST_F(Safetensors, MissingFieldsAreNamed) {
  expect_bad(one_tensor(R"("shape":[1],"data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'dtype' is missing"});
  expect_bad(one_tensor(R"("dtype":"F32","data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'shape' is missing"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1])"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets' is missing"});
}

TEST_F(Safetensors, WrongTypedFieldsAreNamed) {
  expect_bad(one_tensor(R"("dtype":32,"shape":[1],"data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'dtype'", "not a string"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":"1","data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'shape'", "a string, not an array"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1.0],"data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'shape'", "the number 1.0", "not an integer"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[4])"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets'", "not an array [begin, end]"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":{"a":0})"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets'", "an object"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[0,null])"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets'", "null"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[4,0])"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets'", "ends before it begins"});
}

TEST_F(Safetensors, UnknownDtypesAreNamed) {
  expect_bad(one_tensor(R"("dtype":"F17","shape":[1],"data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'dtype'", "unknown dtype 'F17'"});
  expect_bad(one_tensor(R"("dtype":"F16","shape":[2],"data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'dtype'", "F16 has no ember tensor type"});
}

TEST_F(Safetensors, NegativeAndOversizedShapesAreNamed) {
  expect_bad(one_tensor(R"("dtype":"F32","shape":[-1],"data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'shape'", "negative (-1)"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4])"),
             kFourBytes, {"tensor 'w'", "field 'shape'", "past int64"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4])"),
             kFourBytes, {"tensor 'w'", "field 'shape'", "9 dims"});
  // The element count wraps in 64 bits: 2^62 + 1 rows of 4 would be 4 elements.
  expect_bad(one_tensor(R"("dtype":"F32","shape":[4611686018427387905,4],"data_offsets":[0,16])"),
             std::string(16, '\0'), {"tensor 'w'", "field 'shape'"});
  // No elements, but a row-major stride of 2^80.
  expect_bad(one_tensor(R"("dtype":"F32","shape":[0,1099511627776,1099511627776],)"
                        R"("data_offsets":[0,0])"),
             "", {"tensor 'w'", "field 'shape'"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[0,-4])"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets'", "negative"});
}

TEST_F(Safetensors, ByteCountMustMatchTheShape) {
  expect_bad(one_tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0,4])"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets'", "spans 4 bytes", "[2] of F32 is 8 bytes"});
}

TEST_F(Safetensors, OffsetsPastTheBufferAreNamed) {
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[4,8])"), kFourBytes,
             {"tensor 'w'", "field 'data_offsets'", "ends past the 4-byte data buffer"});
  expect_bad(one_tensor(R"("dtype":"BOOL","shape":[1],)"
                        R"("data_offsets":[9223372036854775807,9223372036854775808])"),
             kFourBytes, {"tensor 'w'", "field 'data_offsets'", "past int64"});
}

TEST_F(Safetensors, OverlapsHolesAndTrailingBytesAreNamed) {
  expect_bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
             std::string(8, '\0'), {"tensor 'b'", "field 'data_offsets'", "overlaps tensor 'a'"});
  expect_bad(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
             std::string(12, '\0'),
             {"tensor 'b'", "field 'data_offsets'", "leaves bytes [4, 8)", "after tensor 'a'"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[4,8])"), std::string(8, '\0'),
             {"tensor 'w'", "leaves bytes [0, 4)"});
  expect_bad(one_tensor(R"("dtype":"F32","shape":[1],"data_offsets":[0,4])"), std::string(7, '\0'),
             {"3 bytes of trailing data", "'w'"});
  expect_bad("{}", "x", {"1 bytes of trailing data"});
}

TEST_F(Safetensors, MetadataMustMapStringsToStrings) {
  expect_bad(R"({"__metadata__":["a"]})", "", {"field '__metadata__'", "an array"});
  expect_bad(R"({"__metadata__":{"k":1}})", "", {"field '__metadata__'", "'k'", "not a string"});
  expect_bad(R"({"__metadata__":{"k":{}}})", "", {"field '__metadata__'", "'k'", "an object"});
}

TEST_F(Safetensors, BoolBytesOtherThanZeroOrOneAreNamed) {
  expect_bad(one_tensor(R"("dtype":"BOOL","shape":[2],"data_offsets":[0,2])"),
             std::string("\x01\x02", 2), {"tensor 'w'", "invalid BOOL byte 2"});
}

TEST_F(Safetensors, EveryFlippedByteLoadsOrIsAnIOError) {
  save_safetensors(every_dtype(), path("full.safetensors"), {{"k", "v"}});
  const std::string bytes = read_bytes(path("full.safetensors"));
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (const char flip : {'\x01', '\x10', '\x80'}) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ flip);
      const std::string p = write(damaged);
      try {
        load_safetensors(p);  // a flip in a value's bytes still loads
      } catch (const IOError& e) {
        ASSERT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      }
    }
  }
}

}  // namespace
