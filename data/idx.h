// IDX files (the MNIST / Fashion-MNIST format): a 4-byte magic (0x00 0x00, element type,
// number of dims), the dims as big-endian uint32, then the elements row-major. ember reads
// unsigned-byte files (type 0x08), gzip-compressed (.gz) or raw. Every defect (missing
// file, bad magic, unsupported type, zero or absurd dims, truncated or oversized payload,
// corrupt gzip stream) is an ember::IOError naming the path and the problem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ember/core/tensor.h>

namespace ember::data {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // row-major, product(dims) bytes

  int64_t numel() const;
  Shape shape() const { return Shape(dims); }
};

// Reads `path` (gzip or raw: the gzip header decides, not the file name).
IdxArray read_idx(const std::string& path);

// The array as a CPU tensor of `dtype` shaped like its dims, each byte b becoming
// b * scale + shift (so scale = 1/255 maps pixels to [0, 1]); for int64 the bytes are
// copied as they are and scale / shift must keep their defaults.
Tensor idx_to_tensor(const IdxArray& array, DType dtype = kFloat32, double scale = 1.0,
                     double shift = 0.0);

}  // namespace ember::data
