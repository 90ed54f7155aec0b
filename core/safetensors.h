// safetensors files: the weights format PyTorch and Hugging Face users exchange
// (safetensors.torch.save_file / load_file). A file is an 8-byte little-endian header length
// N, N bytes of JSON naming each tensor's dtype, shape and byte range, then the tensors'
// bytes, row-major and little-endian.
//
// save_safetensors writes the entries in the StateDict's order, their bytes back to back in
// that order, with `metadata` as the header's "__metadata__" (omitted when empty); CUDA tensors
// are copied to the host, views are made contiguous. The write is atomic, as ember::save's
// (core/atomic_file.h).
//
// load_safetensors returns CPU tensors in the order their bytes lie in the file (by
// data_offsets; empty tensors at one offset by name), which for files written by ember or by
// the safetensors library is also the header's order. Files are untrusted: every field is checked,
// the tensors must cover the data exactly (no overlap, no hole, nothing after the last), and any
// damage is an ember::IOError naming the tensor and the field, never a crash or a read past the
// file.
//
// ember's dtypes and their safetensors names: float32 F32, float64 F64, int64 I64, bool BOOL.
// A file holding another safetensors dtype (F16, BF16, I32, U8, ...) is an IOError naming it.
#pragma once

#include <map>
#include <string>

#include <ember/core/serialize.h>

namespace ember {

void save_safetensors(const StateDict& state, const std::string& path,
                      const std::map<std::string, std::string>& metadata = {});
StateDict load_safetensors(const std::string& path);

// The header's "__metadata__" (empty when it has none), after the same checks as
// load_safetensors, without reading the tensors' bytes.
std::map<std::string, std::string> load_safetensors_metadata(const std::string& path);

}  // namespace ember
