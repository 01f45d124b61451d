// graft-opt's command-line flags as one table: each entry names a flag, the
// value it takes, its default and help, and what it sets. Parsing and
// --help both read the table, so they cannot disagree.
//
// Not Abseil's flags library, though it is installed: ABSL_FLAG defines
// process-global flags, so the tool's entry point could not run twice in
// one process (a test, an embedding) without state leaking between runs;
// absl::ParseCommandLine reports a bad flag and exits by itself, where
// graft-opt's usage errors have their own wording and exit status (2); and
// graft-opt's spelling needs a short alias (-o), flags that accumulate when
// repeated (--rules), '-' as an argument (standard input) and a value given
// only after '=' (--stats, --stats=json).
#ifndef GRAFT_TOOLS_GRAFT_OPT_FLAGS_H_
#define GRAFT_TOOLS_GRAFT_OPT_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace graft {
namespace opt {

// What a flag sets, and how its value is read.
struct FlagTarget {
  // Stores `value`; false if it is not one `takes` allows.
  std::function<bool(absl::string_view value)> store;
  // The values allowed, for the error: "a positive integer". Empty for
  // targets that take any value.
  std::string takes;
};

FlagTarget SetTrue(bool* target);
FlagTarget SetString(std::string* target);
// Repeatable: each value is one more element.
FlagTarget Append(std::vector<std::string>* target);
// Repeatable: each value is a comma-separated list of elements.
FlagTarget AppendList(std::vector<std::string>* target);
// An integer of at least `min`; a `min` of -1 reads as "-1 for no cap".
FlagTarget SetInt(int* target, int min);
FlagTarget SetInt(int64_t* target, int min);
// One of `choices`, each a spelling and the value it stores.
template <typename T>
FlagTarget SetChoice(T* target, std::vector<std::pair<std::string, T>> choices);

enum class FlagValue {
  kNone,      // --check
  kRequired,  // --rules PATH or --rules=PATH
  kOptional,  // --stats or --stats=json: a value only after '=', so that a
              // bare flag never takes the next argument (the input) as its value
};

struct Flag {
  std::string name;   // "--output"
  std::string alias;  // "-o"; empty if none
  FlagValue value = FlagValue::kNone;
  std::string metavar;       // the value in --help: "FILE"
  std::string help;          // one paragraph; FlagHelp wraps it
  std::string default_help;  // shown as "(default: ...)"; empty if none
  FlagTarget target;         // given "" for kNone
  std::string bare_value;    // kOptional: the value of the flag given bare
};

// Parses `args` (argv without the program name) against `flags`, storing
// each flag's value in order; returns the other arguments ('-' among them).
// A usage error names the flag as written: "unknown flag --foo", "-o needs
// a value", "--max-work takes a non-negative integer, or -1 for no cap, not
// 'x'".
absl::StatusOr<std::vector<std::string>> ParseFlags(absl::Span<const Flag> flags,
                                                    absl::Span<char* const> args);

// The flags' part of --help: each flag's spellings, its help wrapped beside
// them, then its default.
std::string FlagHelp(absl::Span<const Flag> flags);

template <typename T>
FlagTarget SetChoice(T* target, std::vector<std::pair<std::string, T>> choices) {
  std::vector<std::string> spellings;
  for (const auto& c : choices) spellings.push_back(c.first);
  return {[target, choices = std::move(choices)](absl::string_view v) {
            for (const auto& [spelling, value] : choices) {
              if (v != spelling) continue;
              *target = value;
              return true;
            }
            return false;
          },
          absl::StrJoin(spellings, " or ")};
}

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_FLAGS_H_
