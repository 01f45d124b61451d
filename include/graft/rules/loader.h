// Loading rule files: from text, from files (with `include "x.rules"`
// resolved against the including file, cycles refused), and from
// directories (every *.rules file, in name order). Loading is all or
// nothing: a file with an error yields an error and no rules.
#ifndef GRAFT_RULES_LOADER_H_
#define GRAFT_RULES_LOADER_H_

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/limits.h"
#include "graft/rules/compiler.h"
#include "graft/rules/parser.h"

namespace graft {
namespace rules {

namespace loader_internal {

inline absl::string_view FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace loader_internal

// Reads `fd` to its end, or fails once it has given more than `max_bytes`
// (a pipe or a growing file has no size to check first). `name` and
// `limit_name` appear in the errors; `expected` (a regular file's size)
// saves the string's regrowth.
inline absl::StatusOr<std::string> ReadBounded(int fd, absl::string_view name, int64_t max_bytes,
                                               absl::string_view limit_name, int64_t expected = 0) {
  std::string out;
  if (expected > 0 && expected <= max_bytes) out.reserve(static_cast<size_t>(expected) + 1);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return absl::DataLossError(absl::StrCat(name, ": read error (", std::strerror(errno), ")"));
    if (n == 0) return out;
    if (static_cast<int64_t>(out.size()) + n > max_bytes)
      return WithErrorKind(absl::ResourceExhaustedError(absl::StrCat(
                               name, ": larger than ", limit_name, " (", max_bytes, " bytes)")),
                           ErrorKind::kLimitExceeded);
    out.append(buf, static_cast<size_t>(n));
  }
}

// Reads a whole regular file of at most `max_bytes`, or explains why not.
// Devices, FIFOs and directories are refused before a byte is read
// (`include "/dev/zero"` would never end; opening a FIFO without a writer
// would block, hence O_NONBLOCK, which changes nothing for a regular file).
inline absl::StatusOr<std::string> ReadFile(const std::string& path,
                                            int64_t max_bytes = kMaxRuleFileBytes,
                                            absl::string_view limit_name = "kMaxRuleFileBytes") {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return absl::NotFoundError(absl::StrCat(path, ": cannot open file (", std::strerror(errno), ")"));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return absl::NotFoundError(absl::StrCat(path, ": cannot open file (", std::strerror(errno), ")"));
  if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file (",
                                                   loader_internal::FileTypeName(st.st_mode),
                                                   "); graft reads only regular files"));
  if (st.st_size > max_bytes)
    return WithErrorKind(
        absl::ResourceExhaustedError(absl::StrCat(path, ": ", st.st_size, " bytes, larger than ",
                                                  limit_name, " (", max_bytes, " bytes)")),
        ErrorKind::kLimitExceeded);
  return ReadBounded(fd, path, max_bytes, limit_name, st.st_size);
}

class RuleLoader {
 public:
  // Adds rules given as text; `name` appears in error locations.
  absl::Status AddText(absl::string_view text, absl::string_view name) {
    GRAFT_ASSIGN_OR_RETURN(RuleFile f, ParseRuleFile(text, name));
    if (!f.includes.empty())
      return absl::InvalidArgumentError(absl::StrCat(
          f.includes[0].first.ToString(), ": 'include' needs a rule file on disk, not text"));
    files_.push_back(std::make_unique<RuleFile>(std::move(f)));
    return absl::OkStatus();
  }

  // Adds a rule file, or every *.rules file of a directory.
  absl::Status AddPath(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
        if (e.path().extension() == ".rules") files.push_back(e.path().string());
      }
      if (ec) return absl::NotFoundError(absl::StrCat(path, ": ", ec.message()));
      std::sort(files.begin(), files.end());
      if (files.empty())
        return absl::NotFoundError(absl::StrCat(path, ": no *.rules files in this directory"));
      for (const std::string& f : files) GRAFT_RETURN_IF_ERROR(AddFile(f, {}));
      return absl::OkStatus();
    }
    return AddFile(path, {});
  }

  // Compiles everything added so far.
  absl::StatusOr<RuleSet> Finish() const { return Compile(files()); }

  // The parsed files added so far, includes before their includers (what
  // Finish compiles; tools that walk rules' syntax read them).
  std::vector<const RuleFile*> files() const {
    std::vector<const RuleFile*> out;
    for (const auto& f : files_) out.push_back(f.get());
    return out;
  }

 private:
  absl::Status AddFile(const std::string& path, std::vector<std::string> stack) {
    std::error_code ec;  // the throwing overload would escape as an exception
    std::string canonical = std::filesystem::weakly_canonical(path, ec).string();
    if (ec) canonical = path;  // ReadFile says what is wrong with it
    if (std::find(stack.begin(), stack.end(), canonical) != stack.end())
      return absl::InvalidArgumentError(absl::StrCat("include cycle: ", path, " includes itself"));
    // Each level of includes is a level of recursion here.
    if (static_cast<int>(stack.size()) >= kMaxIncludeDepth)
      return WithErrorKind(absl::InvalidArgumentError(absl::StrCat(
                               path, ": includes nested deeper than kMaxIncludeDepth (",
                               kMaxIncludeDepth, ")")),
                           ErrorKind::kLimitExceeded);
    if (!loaded_.insert(canonical).second) return absl::OkStatus();  // included twice: once
    GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    GRAFT_ASSIGN_OR_RETURN(RuleFile f, ParseRuleFile(text, path));
    stack.push_back(canonical);
    for (const auto& [pos, name] : f.includes) {
      std::filesystem::path inc = std::filesystem::path(path).parent_path() / name;
      absl::Status s = AddFile(inc.string(), stack);
      if (!s.ok())
        return WithContext(s, absl::StrCat(pos.ToString(), ": in include \"", name, "\""));
    }
    files_.push_back(std::make_unique<RuleFile>(std::move(f)));
    return absl::OkStatus();
  }

  std::vector<std::unique_ptr<RuleFile>> files_;
  std::set<std::string> loaded_;
};

// Loads rules from files or directories.
inline absl::StatusOr<RuleSet> LoadRules(const std::vector<std::string>& paths) {
  RuleLoader loader;
  for (const std::string& p : paths) GRAFT_RETURN_IF_ERROR(loader.AddPath(p));
  return loader.Finish();
}

// Loads rules from text (tests, embedded catalogues).
inline absl::StatusOr<RuleSet> ParseRules(absl::string_view text, absl::string_view name = "<rules>") {
  RuleLoader loader;
  GRAFT_RETURN_IF_ERROR(loader.AddText(text, name));
  return loader.Finish();
}

}  // namespace rules
}  // namespace graft

#endif  // GRAFT_RULES_LOADER_H_
