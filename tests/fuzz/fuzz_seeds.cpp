// Writes the fuzzers' starting inputs, made by ember itself so they follow the formats as
// ember writes them today:
//   ember_fuzz_seeds seeds DIR        valid files, DIR/<harness>/... (ctest's fuzz/seeds
//                                     fixture, into the build tree)
//   ember_fuzz_seeds regression DIR   the hostile inputs tests/fuzz/regression began with:
//                                     well-formed files (right magic, right CRC) whose shapes
//                                     no tensor can have
// A new finding is added to tests/fuzz/regression/<harness>/ as the file libFuzzer left, not
// through this program.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_util.h"

using namespace ember;
using ember_fuzz::Bytes;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const Bytes& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw IOError("ember_fuzz_seeds: cannot write " + file.string());
}

Bytes counting(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
  return b;
}

// mnist_fuzzer's input: the images file's length (4 bytes, little-endian), images, labels.
Bytes mnist_input(const Bytes& images, const Bytes& labels) {
  Bytes b;
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(images.size() >> (8 * i)));
  b.insert(b.end(), images.begin(), images.end());
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// A checkpoint written field by field (the layout in core/serialize.cpp), for shapes that
// ember::save cannot write because no tensor has them.
class Checkpoint {
 public:
  Checkpoint& record(const std::string& name, uint8_t dtype_code, const std::vector<int64_t>& sizes,
                     const Bytes& data = {}) {
    ++count_;
    pod(static_cast<uint32_t>(name.size()));
    body_.insert(body_.end(), name.begin(), name.end());
    pod(dtype_code);
    pod(static_cast<uint8_t>(sizes.size()));
    for (int64_t s : sizes) pod(s);
    body_.insert(body_.end(), data.begin(), data.end());
    return *this;
  }
  Bytes bytes() const {
    Bytes b = {'E', 'M', 'B', 'E', 'R', 'C', 'K', 'P'};
    append(b, uint32_t{1});  // the format version
    append(b, count_);
    b.insert(b.end(), body_.begin(), body_.end());
    append(b, static_cast<uint32_t>(crc32(0L, b.data(), static_cast<uInt>(b.size()))));
    return b;
  }

 private:
  template <class T>
  static void append(Bytes& b, T v) {
    for (size_t i = 0; i < sizeof(T); ++i)
      b.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
  }
  template <class T>
  void pod(T v) {
    append(body_, v);
  }
  uint64_t count_ = 0;
  Bytes body_;
};

constexpr uint8_t kFloat32Code = 0;

// A safetensors file of `header` as it is (its length prefixed), for headers that
// save_safetensors cannot write.
Bytes safetensors_file(const std::string& header, const Bytes& data = {}) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write_seeds(const fs::path& dir) {
  for (const char* harness :
       {"idx_raw", "idx_gzip", "mnist", "checkpoint", "module_load", "safetensors"})
    fs::remove_all(dir / harness);

  const Bytes vector_idx = ember_fuzz::idx_file({5}, counting(5));
  const Bytes cube_idx = ember_fuzz::idx_file({2, 3, 4}, counting(24));
  write(dir / "idx_raw/vector.idx", vector_idx);
  write(dir / "idx_raw/cube.idx", cube_idx);
  write(dir / "idx_gzip/vector.idx.gz", ember_fuzz::gzip(vector_idx));
  write(dir / "idx_gzip/cube.idx.gz", ember_fuzz::gzip(cube_idx));

  // Three 4x4 images and their labels, raw and with the images gzip-compressed.
  const Bytes images = ember_fuzz::idx_file({3, 4, 4}, counting(48));
  const Bytes labels = ember_fuzz::idx_file({3}, {0, 9, 4});
  write(dir / "mnist/three.bin", mnist_input(images, labels));
  write(dir / "mnist/three_gz_images.bin", mnist_input(ember_fuzz::gzip(images), labels));

  // Every dtype, a 0-dim tensor and an empty one, through ember::save itself.
  const StateDict state = {{"weight", arange(6, kFloat32).view({2, 3})},
                           {"bias", full({2}, 0.5, TensorOptions(kFloat64))},
                           {"steps", arange(3)},
                           {"mask", tensor({1, 0, 1, 1}).to(kBool)},
                           {"scale", full({}, 2.0)},
                           {"empty", zeros({0, 3})}};
  fs::create_directories(dir / "checkpoint");
  save(state, (dir / "checkpoint/every_dtype.ckpt").string());
  save(StateDict{}, (dir / "checkpoint/no_records.ckpt").string());
  save(std::vector<Tensor>{arange(4), ones({2, 2})},
       (dir / "checkpoint/tensor_list.ckpt").string());
  save(full({3}, -1.5), (dir / "checkpoint/one_tensor.ckpt").string());

  fs::create_directories(dir / "module_load");
  ember_fuzz::small_model()->save((dir / "module_load/small_model.ckpt").string());

  fs::create_directories(dir / "safetensors");
  save_safetensors(state, (dir / "safetensors/every_dtype.safetensors").string(),
                   {{"format", "pt"}});
  save_safetensors(StateDict{}, (dir / "safetensors/no_tensors.safetensors").string());
  ember_fuzz::small_model()->save((dir / "safetensors/small_model.safetensors").string());
}

void write_regression(const fs::path& dir) {
  const int64_t huge = int64_t{1} << 40;
  // No elements, so no data to read, but the first row-major stride would be 2^80.
  const Bytes zero_beside_huge = Checkpoint().record("w", kFloat32Code, {0, huge, huge}).bytes();
  write(dir / "checkpoint/zero_dim_beside_huge_dims.ckpt", zero_beside_huge);
  // 2^62 + 1 rows of 4: the element count wraps to 4 in 64 bits; the file holds no data.
  write(dir / "checkpoint/numel_wraps_to_4.ckpt",
        Checkpoint().record("w", kFloat32Code, {(int64_t{1} << 62) + 1, 4}).bytes());
  // The same shapes under the names of small_model's first weight.
  write(dir / "module_load/zero_dim_beside_huge_dims.ckpt",
        Checkpoint().record("0.weight", kFloat32Code, {0, huge, huge}).bytes());
  write(dir / "module_load/numel_wraps_to_4.ckpt",
        Checkpoint().record("0.weight", kFloat32Code, {(int64_t{1} << 62) + 1, 4}).bytes());

  // IDX dims are uint32: a zero dim before and after the largest ones.
  const Bytes idx_zero_first = ember_fuzz::idx_file({0, 0xFFFFFFFFu, 0xFFFFFFFFu}, {});
  const Bytes idx_zero_last = ember_fuzz::idx_file({0xFFFFFFFFu, 0xFFFFFFFFu, 0}, {});
  write(dir / "idx_raw/zero_dim_beside_huge_dims.idx", idx_zero_first);
  write(dir / "idx_raw/huge_dims_then_zero_dim.idx", idx_zero_last);
  write(dir / "idx_gzip/zero_dim_beside_huge_dims.idx.gz", ember_fuzz::gzip(idx_zero_first));
  write(dir / "idx_gzip/huge_dims_then_zero_dim.idx.gz", ember_fuzz::gzip(idx_zero_last));
  write(dir / "mnist/zero_dim_beside_huge_dims.bin",
        mnist_input(idx_zero_first, ember_fuzz::idx_file({0}, {})));

  // The same shapes in a safetensors header, and byte ranges that overlap or leave a hole.
  write(dir / "safetensors/zero_dim_beside_huge_dims.safetensors",
        safetensors_file(R"({"w":{"dtype":"F32","shape":[0,1099511627776,1099511627776],)"
                         R"("data_offsets":[0,0]}})"));
  write(dir / "safetensors/numel_wraps_to_4.safetensors",
        safetensors_file(R"({"w":{"dtype":"F32","shape":[4611686018427387905,4],)"
                         R"("data_offsets":[0,16]}})",
                         Bytes(16)));
  write(dir / "safetensors/overlap.safetensors",
        safetensors_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                         Bytes(8)));
  write(dir / "safetensors/hole.safetensors",
        safetensors_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                         Bytes(12)));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "seeds" && mode != "regression") {
    std::fprintf(stderr, "usage: %s seeds|regression DIR\n", argv[0]);
    return 2;
  }
  if (mode == "seeds") {
    write_seeds(argv[2]);
  } else {
    write_regression(argv[2]);
  }
  return 0;
}
