// IDX reader. All reads go through zlib's gz* API, which reads gzip and plain files alike.
// The payload buffer grows with the data actually read, so a corrupt header claiming
// gigabytes cannot make us allocate them up front.
#include <ember/data/idx.h>

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

namespace ember::data {
namespace {

// The largest payload we accept (16 GiB): far beyond any IDX data set, small enough that
// the size arithmetic cannot overflow.
constexpr uint64_t kMaxPayload = uint64_t{1} << 34;
constexpr int kMaxIdxDims = 8;

const char* type_name(uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "short";
    case 0x0C:
      return "int";
    case 0x0D:
      return "float";
    case 0x0E:
      return "double";
    default:
      return nullptr;
  }
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) fail("no such file");
    if (std::filesystem::is_directory(status)) fail("is a directory, not an IDX file");
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) fail("cannot open the file");
    gzbuffer(file_.get(), 1 << 18);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw IOError("read_idx: " + path_ + ": " + what);
  }

  // Reads up to n bytes; returns how many were read (less only at the end of the data).
  // A zlib error (corrupt or truncated gzip stream) throws.
  uint64_t read(uint8_t* dst, uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
      const auto chunk = static_cast<unsigned>(std::min<uint64_t>(n - done, 1u << 30));
      const int got = gzread(file_.get(), dst + done, chunk);
      if (got < 0) zlib_fail();
      if (got == 0) break;
      done += static_cast<uint64_t>(got);
    }
    int errnum = Z_OK;
    gzerror(file_.get(), &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) zlib_fail();
    return done;
  }

 private:
  [[noreturn]] void zlib_fail() {
    int errnum = Z_OK;
    const char* msg = gzerror(file_.get(), &errnum);
    fail(std::string("corrupt or truncated gzip data (zlib: ") + (msg ? msg : "?") + ")");
  }

  std::string path_;
  GzFile file_;
};

// A byte has 256 values: convert through a table computed in double, so each element is
// one lookup and e.g. 255 * (1 / 255) lands exactly on 1.
template <class T>
void fill_from_bytes(T* dst, const uint8_t* src, int64_t n, double scale, double shift) {
  T table[256];
  for (int b = 0; b < 256; ++b) table[b] = static_cast<T>(b * scale + shift);
  for (int64_t i = 0; i < n; ++i) dst[i] = table[src[i]];
}

}  // namespace

int64_t IdxArray::numel() const {
  // The reader bounds what it reads; an array filled by hand is checked here.
  return Shape(dims).numel();
}

IdxArray read_idx(const std::string& path) {
  Reader in(path);
  uint8_t magic[4];
  const uint64_t got = in.read(magic, 4);
  if (got < 4) in.fail("truncated header (" + std::to_string(got) + " of 4 magic bytes)");
  if (magic[0] != 0 || magic[1] != 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "bad magic 0x%02X%02X%02X%02X (expected 0x0000 + type + ndim)",
                  magic[0], magic[1], magic[2], magic[3]);
    in.fail(buf);
  }
  if (magic[2] != 0x08) {
    char buf[160];
    const char* name = type_name(magic[2]);
    if (name) {
      std::snprintf(buf, sizeof buf,
                    "unsupported element type 0x%02X (%s); ember reads unsigned-byte (0x08) "
                    "IDX files",
                    magic[2], name);
    } else {
      std::snprintf(buf, sizeof buf, "bad element type byte 0x%02X", magic[2]);
    }
    in.fail(buf);
  }
  const int ndim = magic[3];
  if (ndim < 1 || ndim > kMaxIdxDims)
    in.fail("unsupported number of dims " + std::to_string(ndim) + " (1 to " +
            std::to_string(kMaxIdxDims) + ")");

  IdxArray out;
  uint64_t total = 1;
  for (int d = 0; d < ndim; ++d) {
    uint8_t b[4];
    if (in.read(b, 4) < 4)
      in.fail("truncated header (dims end after " + std::to_string(d) + " of " +
              std::to_string(ndim) + ")");
    const uint64_t size =
        (uint64_t{b[0]} << 24) | (uint64_t{b[1]} << 16) | (uint64_t{b[2]} << 8) | uint64_t{b[3]};
    if (size == 0) in.fail("dim " + std::to_string(d) + " is zero");
    // Same as total * size > kMaxPayload, without the overflow.
    if (size > kMaxPayload / total)
      in.fail("absurd dims: the payload would exceed " + std::to_string(kMaxPayload) +
              " bytes (corrupt header?)");
    total *= size;
    out.dims.push_back(static_cast<int64_t>(size));
  }

  // Grow the buffer as data arrives (doubling), never beyond what the header promises.
  uint64_t have = 0;
  uint64_t cap = std::min<uint64_t>(total, uint64_t{1} << 24);
  out.data.resize(cap);
  while (have < total) {
    if (have == cap) {
      cap = std::min(total, cap * 2);
      out.data.resize(cap);
    }
    const uint64_t n = in.read(out.data.data() + have, cap - have);
    have += n;
    if (n == 0) break;
  }
  if (have < total)
    in.fail("truncated payload: the dims promise " + std::to_string(total) +
            " bytes, the file has " + std::to_string(have));
  uint8_t extra;
  if (in.read(&extra, 1) != 0)
    in.fail("trailing garbage: more than the " + std::to_string(total) +
            " payload bytes the dims promise");
  return out;
}

Tensor idx_to_tensor(const IdxArray& array, DType dtype, double scale, double shift) {
  EMBER_CHECK(static_cast<int64_t>(array.data.size()) == array.numel(), ValueError,
              "idx_to_tensor: ", array.data.size(), " bytes for dims of ", array.numel(),
              " elements");
  Tensor t = empty(array.shape(), TensorOptions(dtype).device(kCPU));  // filled on the host
  const uint8_t* src = array.data.data();
  const int64_t n = array.numel();
  switch (dtype) {
    case DType::Float32:
      fill_from_bytes(t.data_ptr<float>(), src, n, scale, shift);
      break;
    case DType::Float64:
      fill_from_bytes(t.data_ptr<double>(), src, n, scale, shift);
      break;
    case DType::Int64: {
      EMBER_CHECK(scale == 1.0 && shift == 0.0, ValueError,
                  "idx_to_tensor: scale / shift apply to floating dtypes only");
      int64_t* dst = t.data_ptr<int64_t>();
      for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
      break;
    }
    default:
      throw DTypeError(detail::str_cat("idx_to_tensor: unsupported dtype ", dtype,
                                       " (float32, float64 or int64)"));
  }
  return t;
}

}  // namespace ember::data
