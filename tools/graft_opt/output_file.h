// Output files that never clobber what they should not. WriteOutputFile
// decides by what is at the path, after following symbolic links:
//
//   nothing             a new regular file, mode 0666 & ~umask, written to a
//                       temporary file beside it and renamed into place
//   a regular file      replaced the same way, keeping its mode and owner; a
//                       file with several hard links is rewritten in place
//                       instead, so every link sees the new content
//   a device or a FIFO  written directly (`-o /dev/null`, `-o /dev/stdout`,
//                       a pipe): never replaced by a regular file
//   a directory, a      refused with a message
//   socket
//
// A symbolic link stays a link: its target is what gets written. The
// temporary file is removed if the process is interrupted (SIGINT, SIGTERM,
// SIGHUP) while it exists, so a killed run leaves no `.NAME.XXXXXX` behind.
// Bytes are written only once they are complete (the caller builds them in
// memory first), so a failed run never leaves a partial output.
#ifndef GRAFT_TOOLS_GRAFT_OPT_OUTPUT_FILE_H_
#define GRAFT_TOOLS_GRAFT_OPT_OUTPUT_FILE_H_

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace graft {
namespace opt {
namespace output_internal {

// The temporary file a signal handler must remove; one at a time per
// process (graft-opt writes its outputs one after another).
inline char temp_path[PATH_MAX + 1];
inline volatile sig_atomic_t temp_live = 0;
inline constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};
inline struct sigaction previous_actions[std::size(kCleanupSignals)];

inline void RemoveTempAndReraise(int sig) {
  if (temp_live) ::unlink(temp_path);  // async-signal-safe
  temp_live = 0;
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Blocks the cleanup signals for its lifetime, so the temporary file and
// `temp_live` change together.
class SignalBlock {
 public:
  SignalBlock() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kCleanupSignals) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalBlock() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;

 private:
  sigset_t old_;
};

inline std::string Errno(absl::string_view what, const std::string& path, int err) {
  return absl::StrCat(path, ": ", what, ": ", std::strerror(err));
}

inline mode_t CurrentUmask() {
  mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

inline absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  for (size_t off = 0; off < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::DataLossError(Errno("write failed", path, n < 0 ? errno : EIO));
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// The path a chain of symbolic links ends at (which may not exist yet).
inline absl::StatusOr<std::string> FollowLinks(std::string path) {
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    if (hops == 40) return absl::FailedPreconditionError(absl::StrCat(path, ": too many symbolic links"));
    char buf[PATH_MAX + 1];
    ssize_t n = ::readlink(path.c_str(), buf, PATH_MAX);
    if (n < 0) return absl::PermissionDeniedError(Errno("cannot read the symbolic link", path, errno));
    std::string target(buf, static_cast<size_t>(n));
    if (target.empty() || target[0] != '/') {
      size_t slash = path.rfind('/');
      target = slash == std::string::npos ? target : path.substr(0, slash + 1) + target;
    }
    path = std::move(target);
  }
}

// Writes straight into an existing file (device, FIFO, multiply linked file).
inline absl::Status WriteInPlace(const std::string& path, absl::string_view bytes, bool truncate) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | (truncate ? O_TRUNC : 0));
  if (fd < 0) return absl::PermissionDeniedError(Errno("cannot open for writing", path, errno));
  absl::Status s = WriteAll(fd, bytes, path);
  if (::close(fd) != 0 && s.ok()) s = absl::DataLossError(Errno("write failed", path, errno));
  return s;
}

}  // namespace output_internal

// A temporary file beside `target` that becomes `target` on Commit() and is
// removed otherwise (destructor, or a cleanup signal). Exposed for tests;
// graft-opt uses WriteOutputFile.
class TempOutput {
 public:
  TempOutput() = default;
  TempOutput(const TempOutput&) = delete;
  TempOutput& operator=(const TempOutput&) = delete;
  ~TempOutput() { Discard(); }

  // Creates the temporary file for `target` (whose symbolic links are
  // already followed); `mode` is what the final file gets.
  absl::Status Open(const std::string& target, mode_t mode, const struct stat* owner = nullptr) {
    namespace oi = output_internal;
    if (oi::temp_live) return absl::FailedPreconditionError("another output is being written");
    size_t slash = target.rfind('/');
    std::string dir = slash == std::string::npos ? "." : target.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
    std::string tmpl = absl::StrCat(slash == std::string::npos ? "" : dir, ".", base, ".XXXXXX");
    if (tmpl.size() > PATH_MAX) return absl::InvalidArgumentError(absl::StrCat(target, ": path too long"));
    target_ = target;
    oi::SignalBlock block;
    std::memcpy(oi::temp_path, tmpl.c_str(), tmpl.size() + 1);
    fd_ = ::mkstemp(oi::temp_path);
    if (fd_ < 0) return absl::PermissionDeniedError(oi::Errno("cannot create a file in", dir, errno));
    oi::temp_live = 1;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = oi::RemoveTempAndReraise;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(oi::kCleanupSignals); ++i)
      ::sigaction(oi::kCleanupSignals[i], &sa, &oi::previous_actions[i]);
    if (owner && ::fchown(fd_, owner->st_uid, owner->st_gid) != 0) {
      // Not ours to give away (not root): the file keeps our ownership.
    }
    if (::fchmod(fd_, mode) != 0) return absl::PermissionDeniedError(oi::Errno("cannot set the mode of", target, errno));
    return absl::OkStatus();
  }

  absl::Status Write(absl::string_view bytes) { return output_internal::WriteAll(fd_, bytes, target_); }

  // Flushes the file to disk and renames it over the target.
  absl::Status Commit() {
    namespace oi = output_internal;
    if (fd_ < 0) return absl::FailedPreconditionError("no output open");
    bool ok = ::fsync(fd_) == 0;
    int err = errno;
    ok = ::close(fd_) == 0 && ok;
    fd_ = -1;
    if (ok && ::rename(oi::temp_path, target_.c_str()) == 0) {
      oi::SignalBlock block;
      oi::temp_live = 0;
      Restore();
      return absl::OkStatus();
    }
    if (!ok) return absl::DataLossError(oi::Errno("write failed", target_, err));
    return absl::PermissionDeniedError(oi::Errno("cannot replace", target_, errno));
  }

  // The temporary file's name while it exists (for tests).
  std::string temp_name() const { return output_internal::temp_live ? output_internal::temp_path : ""; }

 private:
  void Discard() {
    namespace oi = output_internal;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    oi::SignalBlock block;
    if (oi::temp_live) {
      ::unlink(oi::temp_path);
      oi::temp_live = 0;
      Restore();
    }
  }
  void Restore() {
    for (size_t i = 0; i < std::size(output_internal::kCleanupSignals); ++i)
      ::sigaction(output_internal::kCleanupSignals[i], &output_internal::previous_actions[i], nullptr);
  }

  std::string target_;
  int fd_ = -1;
};

// Writes `bytes` to `path` as the header describes: complete or not at all
// for regular files, directly for devices and FIFOs, links followed.
inline absl::Status WriteOutputFile(const std::string& path, absl::string_view bytes) {
  namespace oi = output_internal;
  if (path.empty()) return absl::InvalidArgumentError("empty output path");
  absl::StatusOr<std::string> target_or = oi::FollowLinks(path);
  if (!target_or.ok()) return target_or.status();
  const std::string& target = *target_or;
  struct stat st;
  if (::stat(target.c_str(), &st) != 0) {
    if (errno != ENOENT) return absl::PermissionDeniedError(oi::Errno("cannot inspect", path, errno));
    TempOutput out;
    absl::Status s = out.Open(target, 0666 & ~oi::CurrentUmask());
    if (s.ok()) s = out.Write(bytes);
    return s.ok() ? out.Commit() : s;
  }
  if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
    return oi::WriteInPlace(target, bytes, /*truncate=*/false);
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file, device or FIFO"));
  if (st.st_nlink > 1) return oi::WriteInPlace(target, bytes, /*truncate=*/true);
  TempOutput out;
  absl::Status s = out.Open(target, st.st_mode & 07777, &st);
  if (s.ok()) s = out.Write(bytes);
  return s.ok() ? out.Commit() : s;
}

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_OUTPUT_FILE_H_
