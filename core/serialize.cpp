// Checkpoint files (core/serialize.h). Layout, all integers little-endian:
//
//   "EMBERCKP"                 8-byte magic
//   u32 version                kFormatVersion
//   u64 record count
//   per record:
//     u32 name length, name bytes (UTF-8, no terminator)
//     u8 dtype                 0 float32, 1 float64, 2 int64, 3 bool
//     u8 ndim                  <= 8
//     i64 sizes[ndim]
//     data                     numel * element size bytes, row-major
//   u32 CRC-32 (zlib) of every byte before it
//
// Loading never trusts a length field: each one is checked against the bytes that remain
// in the file before anything is allocated, so a corrupt or hostile file costs at most its
// own size in memory and always ends in an IOError, never a crash or a huge allocation.
#include <ember/core/serialize.h>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>

#include <ember/core/atomic_file.h>
#include <ember/core/autograd/grad_mode.h>

namespace ember {
namespace {

// Tensor data is written as the host's bytes; the format is little-endian.
static_assert(std::endian::native == std::endian::little,
              "ember checkpoints assume a little-endian host");

constexpr char kMagic[8] = {'E', 'M', 'B', 'E', 'R', 'C', 'K', 'P'};
constexpr uint32_t kFormatVersion = 1;
constexpr int kMaxNdim = 8;
constexpr uint64_t kHeaderBytes = sizeof(kMagic) + 4 + 8;
constexpr uint64_t kTrailerBytes = 4;
constexpr uint64_t kMinRecordBytes = 4 + 1 + 1;  // empty name, 0-dim, no data

// The on-disk dtype codes are fixed here rather than taken from the enum, so reordering
// DType can never silently change the meaning of old files.
uint8_t dtype_code(DType dt) {
  switch (dt) {
    case DType::Float32:
      return 0;
    case DType::Float64:
      return 1;
    case DType::Int64:
      return 2;
    case DType::Bool:
      return 3;
  }
  return 255;
}

bool dtype_from_code(uint8_t code, DType* dt) {
  switch (code) {
    case 0:
      *dt = DType::Float32;
      return true;
    case 1:
      *dt = DType::Float64;
      return true;
    case 2:
      *dt = DType::Int64;
      return true;
    case 3:
      *dt = DType::Bool;
      return true;
    default:
      return false;
  }
}

// zlib's crc32 takes a uInt length; feed large buffers in pieces.
uLong crc_update(uLong crc, const void* data, uint64_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<uint64_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return crc;
}

// ---- writing ---------------------------------------------------------------------------

// Buffered writer into the atomic file that checksums as it goes.
class Writer {
 public:
  explicit Writer(detail::AtomicFile& file) : file_(file) { buf_.reserve(kBuf); }

  void bytes(const void* data, uint64_t n) {
    crc_ = crc_update(crc_, data, n);
    raw(data, n);
  }
  template <typename T>
  void pod(T v) {
    bytes(&v, sizeof(T));
  }
  void finish() {
    const uint32_t crc = static_cast<uint32_t>(crc_);
    raw(&crc, sizeof(crc));
    flush();
  }

 private:
  static constexpr size_t kBuf = 1 << 16;

  void raw(const void* data, uint64_t n) {
    const char* p = static_cast<const char*>(data);
    if (buf_.size() + n > kBuf) flush();
    if (n >= kBuf) {
      file_.write(p, n);
      return;
    }
    buf_.insert(buf_.end(), p, p + n);
  }
  void flush() {
    file_.write(buf_.data(), buf_.size());
    buf_.clear();
  }

  detail::AtomicFile& file_;
  std::vector<char> buf_;
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

// ---- reading ---------------------------------------------------------------------------

class Reader {
 public:
  Reader(std::FILE* f, const std::string& path, uint64_t size)
      : f_(f), path_(path), remaining_(size) {}

  uint64_t remaining() const { return remaining_; }

  void bytes(void* out, uint64_t n, const char* what) {
    if (n > remaining_)
      fail("truncated: ", what, " needs ", n, " bytes but only ", remaining_, " remain");
    if (n > 0 && std::fread(out, 1, n, f_) != n)
      fail("read error while reading ", what, ": ", std::strerror(errno));
    crc_ = crc_update(crc_, out, n);
    remaining_ -= n;
  }
  template <typename T>
  T pod(const char* what) {
    T v;
    bytes(&v, sizeof(T), what);
    return v;
  }
  uint32_t crc() const { return static_cast<uint32_t>(crc_); }

  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    throw IOError(
        detail::str_cat("load: '", path_, "' is not a valid ember checkpoint: ", args...));
  }

 private:
  std::FILE* f_;
  const std::string& path_;
  uint64_t remaining_;
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

std::string hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

void save(const StateDict& state, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& [name, t] : state) {
    EMBER_CHECK(t.defined(), ValueError, "save: entry '", name, "' is an undefined tensor");
    EMBER_CHECK(seen.insert(name).second, ValueError, "save: duplicate entry name '", name, "'");
    EMBER_CHECK(name.size() <= std::numeric_limits<uint32_t>::max(), ValueError,
                "save: entry name too long");
  }

  detail::AtomicFile file("save", path);
  Writer w(file);
  w.bytes(kMagic, sizeof(kMagic));
  w.pod<uint32_t>(kFormatVersion);
  w.pod<uint64_t>(state.size());
  for (const auto& [name, t] : state) {
    Tensor host;
    {
      // Serialising is not part of any computation the user differentiates.
      NoGradGuard no_grad;
      host = t.detach().to(kCPU).contiguous();
    }
    w.pod<uint32_t>(static_cast<uint32_t>(name.size()));
    w.bytes(name.data(), name.size());
    w.pod<uint8_t>(dtype_code(host.dtype()));
    w.pod<uint8_t>(static_cast<uint8_t>(host.dim()));
    for (int d = 0; d < host.dim(); ++d) w.pod<int64_t>(host.size(d));
    if (host.numel() > 0) w.bytes(host.data_ptr(), static_cast<uint64_t>(host.nbytes()));
  }
  w.finish();
  file.commit();
}

StateDict load(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  EMBER_CHECK(f != nullptr, IOError, "load: cannot open '", path, "': ", std::strerror(errno));
  struct stat st {};
  EMBER_CHECK(::fstat(::fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode), IOError, "load: '", path,
              "' is not a regular file");
  const auto size = static_cast<uint64_t>(st.st_size);

  Reader r(f.get(), path, size);
  if (size < kHeaderBytes + kTrailerBytes)
    r.fail("file is ", size, " bytes, smaller than the ", kHeaderBytes + kTrailerBytes,
           "-byte header and checksum");
  char magic[sizeof(kMagic)];
  r.bytes(magic, sizeof(magic), "magic");
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) != 0)
    r.fail("wrong magic (expected \"EMBERCKP\")");
  const auto version = r.pod<uint32_t>("version");
  if (version > kFormatVersion)
    r.fail("format version ", version, " is newer than this ember supports (version ",
           kFormatVersion, "); upgrade ember to read it");
  if (version == 0) r.fail("invalid format version 0");
  const auto count = r.pod<uint64_t>("record count");
  if (count > (r.remaining() - kTrailerBytes) / kMinRecordBytes)
    r.fail("record count ", count, " cannot fit in the ", r.remaining(), " bytes that remain");

  StateDict state;
  state.reserve(count);
  std::set<std::string> seen;
  for (uint64_t i = 0; i < count; ++i) {
    const auto name_len = r.pod<uint32_t>("name length");
    if (name_len > r.remaining() - std::min(r.remaining(), kTrailerBytes))
      r.fail("record ", i, ": name length ", name_len, " exceeds the ", r.remaining(),
             " bytes that remain");
    std::string name(name_len, '\0');
    r.bytes(name.data(), name_len, "name");
    if (!seen.insert(name).second) r.fail("record ", i, ": duplicate name '", name, "'");

    const auto code = r.pod<uint8_t>("dtype");
    DType dt{};
    if (!dtype_from_code(code, &dt))
      r.fail("record ", i, " ('", name, "'): unknown dtype code ", int(code));
    const auto ndim = r.pod<uint8_t>("ndim");
    if (ndim > kMaxNdim)
      r.fail("record ", i, " ('", name, "'): ndim ", int(ndim), " exceeds the maximum of ",
             kMaxNdim);
    std::vector<int64_t> sizes(ndim);
    // numel * element size must fit in what remains; checking the running product against
    // that bound at each step also rules out int64 overflow.
    uint64_t numel = 1;
    const uint64_t elem = static_cast<uint64_t>(dtype_size(dt));
    for (int d = 0; d < ndim; ++d) {
      sizes[d] = r.pod<int64_t>("size");
      if (sizes[d] < 0) r.fail("record ", i, " ('", name, "'): negative size ", sizes[d]);
    }
    // A zero dim beside huge ones has no data to read, but no tensor can have that shape.
    if (const std::string problem = shape_problem(Shape(sizes), dtype_size(dt)); !problem.empty())
      r.fail("record ", i, " ('", name, "'): ", problem);
    const uint64_t budget = r.remaining() - std::min(r.remaining(), kTrailerBytes);
    bool fits = true;
    for (int d = 0; d < ndim && numel != 0; ++d) {
      const auto s = static_cast<uint64_t>(sizes[d]);
      if (s != 0 && numel > budget / elem / s) fits = false;
      numel *= s;
      if (!fits) break;
    }
    if (!fits || numel * elem > budget)
      r.fail("record ", i, " ('", name, "'): shape ", Shape(sizes), " of ", dtype_name(dt),
             " needs more data than the ", budget, " bytes that remain (truncated or corrupt)");

    Tensor t =
        empty(Shape(sizes), TensorOptions().dtype(dt).device(kCPU));  // read into host memory
    r.bytes(t.data_ptr(), numel * elem, "tensor data");
    if (dt == DType::Bool) {
      // Any byte other than 0/1 in a bool is undefined behaviour to read.
      const auto* b = static_cast<const unsigned char*>(t.data_ptr());
      for (uint64_t k = 0; k < numel; ++k)
        if (b[k] > 1) r.fail("record ", i, " ('", name, "'): invalid bool byte ", int(b[k]));
    }
    state.emplace_back(std::move(name), std::move(t));
  }

  const uint32_t computed = r.crc();
  if (r.remaining() < kTrailerBytes) r.fail("truncated: the checksum is missing");
  if (r.remaining() > kTrailerBytes)
    r.fail(r.remaining() - kTrailerBytes, " unexpected bytes after the last record");
  const auto stored = r.pod<uint32_t>("checksum");
  if (stored != computed)
    r.fail("checksum mismatch (stored ", hex32(stored), ", computed ", hex32(computed),
           "): the file is corrupted");
  return state;
}

void save(const Tensor& tensor, const std::string& path) {
  save(std::vector<Tensor>{tensor}, path);
}

void save(const std::vector<Tensor>& tensors, const std::string& path) {
  StateDict state;
  state.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) state.emplace_back(std::to_string(i), tensors[i]);
  save(state, path);
}

void load(std::vector<Tensor>& tensors, const std::string& path) {
  StateDict state = load(path);
  std::vector<Tensor> out;
  out.reserve(state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    EMBER_CHECK(state[i].first == std::to_string(i), IOError, "load: '", path,
                "' holds named tensors (a state_dict: record ", i, " is '", state[i].first,
                "'), not a list of tensors; load it with ember::load(path)");
    out.push_back(std::move(state[i].second));
  }
  tensors = std::move(out);
}

void load(Tensor& tensor, const std::string& path) {
  std::vector<Tensor> tensors;
  load(tensors, path);
  EMBER_CHECK(tensors.size() == 1, IOError, "load: '", path, "' holds ", tensors.size(),
              " tensors, not one; load it into a std::vector<Tensor>");
  tensor = std::move(tensors[0]);
}

}  // namespace ember
