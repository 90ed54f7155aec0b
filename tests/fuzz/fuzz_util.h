// What the libFuzzer harnesses and their seed generator share: a scratch folder for the files
// ember's readers take (they read paths, not buffers), the file formats' builders, and the
// model whose checkpoint the module_load seeds are.
#pragma once

#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace ember_fuzz {

using Bytes = std::vector<uint8_t>;

// A broken promise of the API under test that is not a crash (a failed load that changed the
// model, a round trip that differs), or a harness that cannot do its work: abort, so libFuzzer
// keeps the input.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "ember fuzz harness: %s\n", what.c_str());
  std::abort();
}

// A folder of this process's own under $TMPDIR (or /tmp), removed at exit: harnesses running
// side by side (ctest -j, libFuzzer -jobs) never write each other's files.
class ScratchDir {
 public:
  static ScratchDir& get() {
    static ScratchDir dir;
    return dir;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }

  // Writes `data` to <dir>/<name>, replacing the file, and returns its path.
  std::string write(const std::string& name, const uint8_t* data, size_t size) const {
    const std::string file = path_ + "/" + name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) fail("cannot write " + file);
    return file;
  }

 private:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ember_fuzz_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) fail("cannot make a scratch folder " + pattern);
    path_ = pattern;
  }
  std::string path_;
};

// An IDX file: magic (0, 0, type, ndim), big-endian dims, payload.
inline Bytes idx_file(const std::vector<uint32_t>& dims, const Bytes& payload,
                      uint8_t type = 0x08) {
  Bytes b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(d >> shift));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// `plain` as one gzip member (what gzopen(..., "wb") writes).
inline Bytes gzip(const uint8_t* plain, size_t size, int level = Z_DEFAULT_COMPRESSION) {
  z_stream s{};
  if (deflateInit2(&s, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    fail("deflateInit2 failed");
  Bytes out(deflateBound(&s, static_cast<uLong>(size)));
  s.next_in = const_cast<Bytef*>(plain);
  s.avail_in = static_cast<uInt>(size);
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  if (rc != Z_STREAM_END) fail("deflate failed");
  return out;
}
inline Bytes gzip(const Bytes& plain) {
  return gzip(plain.data(), plain.size());
}

// Reads the IDX file at `path` as the MNIST loader does: the array, then a tensor of it. Bad
// bytes must end in an ember::Error (IOError); anything else escapes and is a finding.
inline void read_idx_file(const std::string& path) {
  try {
    const ember::data::IdxArray a = ember::data::read_idx(path);
    const ember::Tensor t = ember::data::idx_to_tensor(a, ember::kFloat32, 1.0 / 255);
    if (t.numel() != static_cast<int64_t>(a.data.size())) fail("idx_to_tensor lost elements");
  } catch (const ember::Error&) {
  }
}

// The same names, dtypes, shapes and bytes, in the same order.
inline bool same_bits(const ember::StateDict& a, const ember::StateDict& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const ember::Tensor &x = a[i].second, &y = b[i].second;
    if (a[i].first != b[i].first || x.dtype() != y.dtype() || x.sizes() != y.sizes() ||
        std::memcmp(x.contiguous().data_ptr(), y.contiguous().data_ptr(),
                    static_cast<size_t>(x.nbytes())) != 0)
      return false;
  }
  return true;
}

// The model the module_load harness loads into: small enough that its checkpoint is a couple
// of hundred bytes, with the names ("0.weight", ...) and shapes a real model's have.
inline ember::nn::Sequential small_model() {
  ember::manual_seed(0);  // the same initial weights in every run
  return ember::nn::Sequential(ember::nn::Linear(3, 4), ember::nn::ReLU(), ember::nn::Linear(4, 2));
}

}  // namespace ember_fuzz
