// Checkpoint files: an ordered list of named tensors (a module's or optimizer's
// state_dict) in a versioned binary format. Writes are atomic (core/atomic_file.h: a
// temporary unique to the write, renamed over the path), so a crash never leaves a
// half-written checkpoint in place, concurrent saves to one path from threads or processes
// each land whole, and a concurrent load sees the old file or the new one; a killed save
// leaves no temporary behind (or one that the next save to that path removes). Loads validate
// the magic, version, every record and a checksum, and throw ember::IOError on any damage.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ember/core/ordered_dict.h>
#include <ember/core/tensor.h>

namespace ember {

// Insertion-ordered and looked up by name, like Python's OrderedDict (core/ordered_dict.h).
using StateDict = OrderedDict<std::string, Tensor>;

void save(const StateDict& state, const std::string& path);
StateDict load(const std::string& path);

// One tensor or a list of them, in the same format (records named "0", "1", ...), as
// torch::save(tensor, path) / torch::load(tensor, path). Loading a file whose records are not
// that (a state_dict, or a list into one tensor) is an IOError saying what the file holds.
void save(const Tensor& tensor, const std::string& path);
void save(const std::vector<Tensor>& tensors, const std::string& path);
void load(Tensor& tensor, const std::string& path);
void load(std::vector<Tensor>& tensors, const std::string& path);

}  // namespace ember
