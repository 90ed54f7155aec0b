// AtomicFile: writes a file that replaces `path` all at once, so a reader of `path` sees the
// old file or the new one, never part of either, and concurrent writers (threads or processes)
// each land whole, the last rename winning.
//
// The bytes go to an unnamed file in the target's folder (O_TMPFILE), which a killed writer
// cannot leave behind; commit() fsyncs it, links it under a name unique to this write
// ("<path>.tmp.<pid>.<random>") and renames that over `path`. Where the filesystem has no
// O_TMPFILE (or /proc is not mounted) the file is named from the start. A writer killed in
// between leaves its named temporary; each AtomicFile removes the ones of `path` whose process
// is gone (a pid that no longer runs on this machine) before it writes.
#pragma once

#include <cstddef>
#include <string>

namespace ember::detail {

class AtomicFile {
 public:
  // Opens the temporary for writing; IOError naming `op` and `path` when it cannot.
  AtomicFile(const char* op, std::string path);
  ~AtomicFile();  // discards the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  // Appends all `n` bytes, retrying short and interrupted writes; IOError naming op and path.
  void write(const void* data, size_t n);
  // Makes the written bytes durable and visible under `path`; IOError when any step fails.
  void commit();

 private:
  const char* op_;
  std::string path_;
  std::string named_;  // the temporary's name, once it has one
  int fd_ = -1;
  bool committed_ = false;
};

// Removes "<path>.tmp.<pid>.*" files whose process no longer runs; returns how many.
int remove_stale_temporaries(const std::string& path);

}  // namespace ember::detail
