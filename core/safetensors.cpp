// safetensors files (core/safetensors.h). The layout, as the format's reference (the Rust
// `safetensors` crate) reads and writes it:
//
//   u64 N              little-endian header length, at most kMaxHeaderBytes
//   N bytes of JSON    one object: per tensor "<name>": {"dtype": "F32", "shape": [2, 3],
//                      "data_offsets": [begin, end]}, and optionally "__metadata__":
//                      {"<key>": "<value>", ...}; padded with spaces so that 8 + N is a
//                      multiple of 8, which keeps the data buffer 8-byte aligned in a mapping
//   data buffer        the rest of the file; offsets are relative to its start, and every
//                      byte belongs to exactly one tensor
//
// Loading checks the whole header against the file's size before reading a byte of tensor
// data, so a hostile file always ends in an IOError, never a read past the file. Memory is
// bounded by the header limit: the JSON is parsed into a document before its schema is
// checked, so a header of many small values can take some tens of bytes per value.
#include <ember/core/safetensors.h>

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include <ember/core/atomic_file.h>
#include <ember/core/autograd/grad_mode.h>

namespace ember {
namespace {

// Tensor data is written as the host's bytes; the format is little-endian.
static_assert(std::endian::native == std::endian::little,
              "safetensors support assumes a little-endian host");

// The reference reader's limit: a header past it is refused before it is read.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kLengthBytes = 8;
constexpr const char* kMetadataKey = "__metadata__";
// A header's containers open at depth 0 (the header), 1 (a tensor's entry, __metadata__) and
// 2 (shape, data_offsets); anything deeper is not a header, and refusing it while parsing
// keeps a file of nested brackets from costing memory out of proportion to its size.
constexpr int kMaxContainerDepth = 2;

// A header is read into sorted maps (a key's insertion costs log n, so a header of millions
// of keys parses in n log n, never quadratically) and written from an ordered one, so that the
// tensors appear in the StateDict's order and each entry's fields in the reference writer's
// (dtype, shape, data_offsets).
using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

const char* safetensors_dtype(DType dt) {
  switch (dt) {
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
    case DType::Int64:
      return "I64";
    case DType::Bool:
      return "BOOL";
  }
  return nullptr;
}

bool dtype_from_safetensors(const std::string& name, DType* dt) {
  for (DType candidate : {DType::Float32, DType::Float64, DType::Int64, DType::Bool}) {
    if (name == safetensors_dtype(candidate)) {
      *dt = candidate;
      return true;
    }
  }
  return false;
}

// Dtypes of the format that ember has no tensor type for: a valid file ember cannot hold,
// which deserves a different message from a damaged dtype field.
bool is_other_safetensors_dtype(const std::string& name) {
  static const std::set<std::string> kOthers = {"F16", "BF16", "F8_E4M3", "F8_E5M2", "I32", "I16",
                                                "I8",  "U64",  "U32",     "U16",     "U8"};
  return kOthers.count(name) != 0;
}

// How a JSON value the header should not hold reads in an error message.
std::string kind(const Json& v) {
  if (v.is_number_float()) return "the number " + v.dump();
  if (v.is_number()) return "the integer " + v.dump();
  if (v.is_null()) return "null";
  const std::string type = v.type_name();
  return (type == "array" || type == "object" ? "an " : "a ") + type;
}

// Why `v` is not a size or an offset (a JSON integer in [0, int64 max]), or "".
std::string count_problem(const Json& v) {
  if (!v.is_number_integer()) return "is " + kind(v) + ", not an integer";
  if (!v.is_number_unsigned()) return "is negative (" + v.dump() + ")";
  if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return "is " + v.dump() + ", past int64";
  return "";
}

struct Entry {
  std::string name;
  DType dtype{};
  Shape shape;
  uint64_t begin = 0, end = 0;
};

struct Header {
  std::vector<Entry> entries;  // by data_offsets
  std::map<std::string, std::string> metadata;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The file being loaded: its size, its reads, and the error every check throws.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "rb")) {
    EMBER_CHECK(f_ != nullptr, IOError, "load_safetensors: cannot open '", path,
                "': ", std::strerror(errno));
    struct stat st {};
    EMBER_CHECK(::fstat(::fileno(f_.get()), &st) == 0 && S_ISREG(st.st_mode), IOError,
                "load_safetensors: '", path, "' is not a regular file");
    size_ = static_cast<uint64_t>(st.st_size);
  }

  uint64_t size() const { return size_; }

  void read(void* out, uint64_t n, const std::string& what) {
    if (n > 0 && std::fread(out, 1, n, f_.get()) != n)
      fail("truncated while reading ", what, " (the file shrank while it was read?)");
  }

  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    throw IOError(detail::str_cat("load_safetensors: '", path_,
                                  "' is not a valid safetensors file: ", args...));
  }

 private:
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> f_;
  uint64_t size_ = 0;
};

// The header's JSON, refusing duplicate top-level keys (two entries for one tensor name would
// otherwise silently keep one) and nesting no header has.
Json parse_json(const Source& src, const std::string& text) {
  std::set<std::string> keys;
  const Json::parser_callback_t check = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth > kMaxContainerDepth)
      src.fail("header: JSON nested ", depth + 1, " levels deep; a safetensors header has at most ",
               kMaxContainerDepth + 1);
    if (event == Json::parse_event_t::key && depth == 1 &&
        !keys.insert(parsed.get<std::string>()).second)
      src.fail("header: duplicate key '", parsed.get<std::string>(), "'");
    return true;
  };
  try {
    return Json::parse(text, check);
  } catch (const Json::exception& e) {
    src.fail("header: invalid JSON: ", e.what());
  }
}

std::map<std::string, std::string> parse_metadata(const Source& src, const Json& value) {
  if (!value.is_object())
    src.fail("field '", kMetadataKey, "' is ", kind(value), ", not an object of strings");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string())
      src.fail("field '", kMetadataKey, "': the value of '", key, "' is ", kind(v),
               ", not a string");
    metadata.emplace(key, v.get<std::string>());
  }
  return metadata;
}

// One tensor's entry; its byte range is checked against its shape and the data buffer.
Entry parse_entry(const Source& src, const std::string& name, const Json& info, uint64_t buffer) {
  const auto fail = [&](const auto&... args) { src.fail("tensor '", name, "': ", args...); };
  if (!info.is_object())
    fail("its entry is ", kind(info), ", not an object with dtype, shape and data_offsets");
  const auto field = [&](const char* key) -> const Json& {
    const auto it = info.find(key);
    if (it == info.end()) fail("field '", key, "' is missing");
    return *it;
  };
  Entry e;
  e.name = name;

  const Json& dtype = field("dtype");
  if (!dtype.is_string()) fail("field 'dtype' is ", kind(dtype), ", not a string");
  const std::string dtype_str = dtype.get<std::string>();
  if (!dtype_from_safetensors(dtype_str, &e.dtype)) {
    if (is_other_safetensors_dtype(dtype_str))
      fail("field 'dtype': ", dtype_str,
           " has no ember tensor type (ember reads F32, F64, I64 and BOOL)");
    fail("field 'dtype': unknown dtype '", dtype_str, "'");
  }

  const Json& shape = field("shape");
  if (!shape.is_array()) fail("field 'shape' is ", kind(shape), ", not an array");
  if (shape.size() > static_cast<size_t>(kMaxDims))
    fail("field 'shape' has ", shape.size(), " dims; ember tensors have at most ", kMaxDims);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (const std::string problem = count_problem(shape[d]); !problem.empty())
      fail("field 'shape': size ", d, " ", problem);
    e.shape.push_back(shape[d].get<int64_t>());
  }
  const int64_t itemsize = dtype_size(e.dtype);
  if (const std::string problem = shape_problem(e.shape, itemsize); !problem.empty())
    fail("field 'shape' ", e.shape, ": ", problem);

  const Json& offsets = field("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2)
    fail("field 'data_offsets' is ", kind(offsets), ", not an array [begin, end]");
  for (const Json& o : offsets)
    if (const std::string problem = count_problem(o); !problem.empty())
      fail("field 'data_offsets': ", o.dump(), " ", problem);
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  if (e.end < e.begin) fail("field 'data_offsets' ", offsets.dump(), " ends before it begins");
  // shape_problem has ruled out a byte count past int64.
  const auto nbytes = static_cast<uint64_t>(e.shape.numel() * itemsize);
  if (e.end - e.begin != nbytes)
    fail("field 'data_offsets' ", offsets.dump(), " spans ", e.end - e.begin, " bytes, but shape ",
         e.shape, " of ", dtype_str, " is ", nbytes, " bytes");
  if (e.end > buffer)
    fail("field 'data_offsets' ", offsets.dump(), " ends past the ", buffer,
         "-byte data buffer (truncated file?)");
  return e;
}

// The format leaves no byte of the buffer unaccounted for: sorted by offset, each tensor
// starts where the one before it ended, and the last ends where the file does.
void check_coverage(const Source& src, std::vector<Entry>& entries, uint64_t buffer) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      src.fail("tensor '", e.name, "': field 'data_offsets' [", e.begin, ", ", e.end,
               "] overlaps tensor '", prev->name, "' [", prev->begin, ", ", prev->end, "]");
    if (e.begin > covered)
      src.fail("tensor '", e.name, "': field 'data_offsets' [", e.begin, ", ", e.end,
               "] leaves bytes [", covered, ", ", e.begin, ") of the data buffer to no tensor",
               prev != nullptr ? " (after tensor '" + prev->name + "')" : std::string());
    covered = e.end;
    prev = &e;
  }
  if (covered != buffer)
    src.fail(buffer - covered, " bytes of trailing data after the last tensor",
             prev != nullptr ? " ('" + prev->name + "')" : std::string(), " (the data buffer is ",
             buffer, " bytes, the tensors cover ", covered, ")");
}

// Reads and checks the length and the header, leaving `src` at the data buffer's start.
Header read_header(Source& src) {
  if (src.size() < kLengthBytes)
    src.fail("the file is ", src.size(), " bytes, too short for the ", kLengthBytes,
             "-byte header length");
  uint64_t length = 0;
  src.read(&length, kLengthBytes, "the header length");
  if (length > kMaxHeaderBytes)
    src.fail("header length ", length, " exceeds the limit of ", kMaxHeaderBytes, " bytes");
  if (length > src.size() - kLengthBytes)
    src.fail("header length ", length, " exceeds the ", src.size() - kLengthBytes,
             " bytes after the length field (truncated file?)");
  std::string text(length, '\0');
  src.read(text.data(), length, "the header");
  // As the reference reader: a header is an object, not any JSON value.
  if (text.empty() || text[0] != '{')
    src.fail("header: not a JSON object (it must start with '{')");
  const Json json = parse_json(src, text);

  Header header;
  const uint64_t buffer = src.size() - kLengthBytes - length;
  for (const auto& [key, value] : json.items()) {
    if (key == kMetadataKey)
      header.metadata = parse_metadata(src, value);
    else
      header.entries.push_back(parse_entry(src, key, value, buffer));
  }
  check_coverage(src, header.entries, buffer);
  return header;
}

// nlohmann's dump refuses invalid UTF-8; say which string it is.
void check_utf8(const char* what, const std::string& s) {
  try {
    (void)OrderedJson(s).dump();
  } catch (const OrderedJson::type_error&) {
    throw ValueError(detail::str_cat("save_safetensors: ", what, " '", s, "' is not valid UTF-8"));
  }
}

}  // namespace

void save_safetensors(const StateDict& state, const std::string& path,
                      const std::map<std::string, std::string>& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson m = OrderedJson::object();
    for (const auto& [key, value] : metadata) {
      check_utf8("metadata key", key);
      check_utf8("metadata value", value);
      m[key] = value;
    }
    header[kMetadataKey] = std::move(m);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : state) {
    EMBER_CHECK(t.defined(), ValueError, "save_safetensors: entry '", name,
                "' is an undefined tensor");
    EMBER_CHECK(name != kMetadataKey, ValueError, "save_safetensors: '", kMetadataKey,
                "' is the format's metadata key, not a tensor name");
    EMBER_CHECK(names.insert(name).second, ValueError, "save_safetensors: duplicate entry name '",
                name, "'");
    const char* dtype = safetensors_dtype(t.dtype());
    EMBER_CHECK(dtype != nullptr, ValueError, "save_safetensors: entry '", name, "' is ",
                dtype_name(t.dtype()), ", which safetensors has no name for");
    check_utf8("tensor name", name);
    const auto nbytes = static_cast<uint64_t>(t.nbytes());
    header[name] = OrderedJson{{"dtype", dtype},
                               {"shape", t.sizes().vec()},
                               {"data_offsets", OrderedJson::array({offset, offset + nbytes})}};
    offset += nbytes;
  }
  std::string text = header.dump();
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');

  detail::AtomicFile file("save_safetensors", path);
  const uint64_t length = text.size();
  file.write(&length, sizeof(length));
  file.write(text.data(), text.size());
  for (const auto& [name, t] : state) {
    Tensor host;
    {
      // Serialising is not part of any computation the user differentiates.
      NoGradGuard no_grad;
      host = t.detach().to(kCPU).contiguous();
    }
    if (host.numel() > 0) file.write(host.data_ptr(), static_cast<size_t>(host.nbytes()));
  }
  file.commit();
}

StateDict load_safetensors(const std::string& path) {
  Source src(path);
  Header header = read_header(src);
  StateDict state;
  state.reserve(header.entries.size());
  for (Entry& e : header.entries) {
    Tensor t = empty(e.shape, TensorOptions().dtype(e.dtype).device(kCPU));
    const uint64_t nbytes = e.end - e.begin;
    src.read(t.data_ptr(), nbytes, "tensor '" + e.name + "'");
    if (e.dtype == DType::Bool) {
      // Any byte other than 0/1 in a bool is undefined behaviour to read.
      const auto* b = static_cast<const unsigned char*>(t.data_ptr());
      for (uint64_t k = 0; k < nbytes; ++k)
        if (b[k] > 1) src.fail("tensor '", e.name, "': invalid BOOL byte ", int(b[k]));
    }
    state.emplace_back(std::move(e.name), std::move(t));
  }
  return state;
}

std::map<std::string, std::string> load_safetensors_metadata(const std::string& path) {
  Source src(path);
  return read_header(src).metadata;
}

}  // namespace ember
