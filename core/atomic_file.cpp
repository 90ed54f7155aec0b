// AtomicFile (core/atomic_file.h).
#include <ember/core/atomic_file.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>

#include <ember/core/error.h>

namespace ember::detail {
namespace {

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "<path>.tmp.<pid>.": every temporary of this process for `path` starts so.
std::string temporary_prefix(const std::string& path, long pid) {
  return path + ".tmp." + std::to_string(pid) + ".";
}

// A name no other write can pick: the pid keeps processes apart, 64 random bits threads.
std::string unique_temporary(const std::string& path) {
  uint64_t bits = 0;
  if (::getrandom(&bits, sizeof(bits), 0) != static_cast<ssize_t>(sizeof(bits)))
    bits = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           reinterpret_cast<uintptr_t>(&bits);  // this thread's stack tells threads apart
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(bits));
  return temporary_prefix(path, ::getpid()) + hex;
}

bool process_is_gone(long pid) {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

int remove_stale_temporaries(const std::string& path) {
  const std::string dir = parent_dir(path), prefix = base_name(path) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;  // the write itself reports an unreadable folder
  int removed = 0;
  while (const dirent* e = ::readdir(d)) {
    const char* name = e->d_name;
    if (std::strncmp(name, prefix.c_str(), prefix.size()) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name + prefix.size(), &end, 10);
    // Only our own pattern "<pid>.<16 hex>", and never a process that still runs: its
    // temporary may be a write in flight.
    if (end == name + prefix.size() || *end != '.' || std::strlen(end + 1) != 16) continue;
    if (!process_is_gone(pid)) continue;
    if (::unlinkat(::dirfd(d), name, 0) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

AtomicFile::AtomicFile(const char* op, std::string path) : op_(op), path_(std::move(path)) {
  remove_stale_temporaries(path_);
  const std::string dir = parent_dir(path_);
  fd_ = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd_ >= 0 && ::access(("/proc/self/fd/" + std::to_string(fd_)).c_str(), F_OK) != 0) {
    ::close(fd_);  // no /proc: commit() could not link it
    fd_ = -1;
  }
  if (fd_ >= 0) return;
  const int tmpfile_errno = errno;
  EMBER_CHECK(tmpfile_errno != ENOENT && tmpfile_errno != ENOTDIR, IOError, op_, ": cannot write '",
              path_, "': its folder '", dir, "' does not exist");
  named_ = unique_temporary(path_);
  fd_ = ::open(named_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  EMBER_CHECK(fd_ >= 0, IOError, op_, ": cannot create '", named_, "' (for '", path_,
              "'): ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !named_.empty()) ::unlink(named_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0 && errno == EINTR) continue;
    EMBER_CHECK(w > 0, IOError, op_, ": writing '", path_, "' failed: ", std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  // The data must be on disk before the rename makes it visible under `path`; otherwise a
  // crash right after the rename could leave a complete-looking name over empty blocks.
  EMBER_CHECK(::fsync(fd_) == 0, IOError, op_, ": fsync of the temporary for '", path_,
              "' failed: ", std::strerror(errno));
  if (named_.empty()) {
    const std::string name = unique_temporary(path_);
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    EMBER_CHECK(::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0,
                IOError, op_, ": cannot link the temporary for '", path_, "' as '", name,
                "': ", std::strerror(errno));
    named_ = name;
  }
  const int fd = fd_;
  fd_ = -1;
  EMBER_CHECK(::close(fd) == 0, IOError, op_, ": closing '", named_,
              "' failed: ", std::strerror(errno));
  EMBER_CHECK(std::rename(named_.c_str(), path_.c_str()) == 0, IOError, op_, ": cannot rename '",
              named_, "' to '", path_, "': ", std::strerror(errno));
  committed_ = true;
  // Persist the directory entry too (best effort: some filesystems refuse fsync on a dir).
  const int dir = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
}

}  // namespace ember::detail
