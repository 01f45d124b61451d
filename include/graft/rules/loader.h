// Loading rule files: from text, from files (with `include "x.rules"`
// resolved against the including file, cycles refused), and from
// directories (every *.rules file, in name order). Loading is all or
// nothing: a file with an error yields an error and no rules.
#ifndef GRAFT_RULES_LOADER_H_
#define GRAFT_RULES_LOADER_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/rules/compiler.h"
#include "graft/rules/parser.h"

namespace graft {
namespace rules {

// Reads a whole file, or explains why not.
inline absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ss.str();
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
  absl::StatusOr<RuleSet> Finish() const {
    std::vector<const RuleFile*> files;
    for (const auto& f : files_) files.push_back(f.get());
    return Compile(files);
  }

 private:
  absl::Status AddFile(const std::string& path, std::vector<std::string> stack) {
    std::string canonical = std::filesystem::weakly_canonical(path).string();
    if (std::find(stack.begin(), stack.end(), canonical) != stack.end())
      return absl::InvalidArgumentError(absl::StrCat("include cycle: ", path, " includes itself"));
    if (!loaded_.insert(canonical).second) return absl::OkStatus();  // included twice: once
    GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    GRAFT_ASSIGN_OR_RETURN(RuleFile f, ParseRuleFile(text, path));
    stack.push_back(canonical);
    for (const auto& [pos, name] : f.includes) {
      std::filesystem::path inc = std::filesystem::path(path).parent_path() / name;
      absl::Status s = AddFile(inc.string(), stack);
      if (!s.ok())
        return absl::Status(s.code(), absl::StrCat(pos.ToString(), ": in include \"", name,
                                                   "\": ", s.message()));
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
