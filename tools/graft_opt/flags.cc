#include "tools/graft_opt/flags.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace graft {
namespace opt {

namespace {

// --help's layout: a flag's help starts at this column and ends before the
// last.
constexpr size_t kHelpColumn = 22;
constexpr size_t kLastColumn = 80;

template <typename Int>
FlagTarget SetIntOf(Int* target, int min) {
  std::string takes = min > 0    ? "a positive integer"
                      : min == 0 ? "a non-negative integer"
                                 : "a non-negative integer, or -1 for no cap";
  return {[target, min](absl::string_view v) {
            Int n;
            if (!absl::SimpleAtoi(v, &n) || n < min) return false;
            *target = n;
            return true;
          },
          std::move(takes)};
}

// How the flag reads in --help: "-o, --output FILE", "--stats[=FORMAT]".
std::string Spelling(const Flag& f) {
  std::string s = f.alias.empty() ? f.name : absl::StrCat(f.alias, ", ", f.name);
  switch (f.value) {
    case FlagValue::kNone:
      return s;
    case FlagValue::kRequired:
      return absl::StrCat(s, " ", f.metavar);
    case FlagValue::kOptional:
      return absl::StrCat(s, "[=", f.metavar, "]");
  }
  return s;
}

}  // namespace

FlagTarget SetTrue(bool* target) {
  return {[target](absl::string_view) {
            *target = true;
            return true;
          },
          ""};
}

FlagTarget SetString(std::string* target) {
  return {[target](absl::string_view v) {
            *target = std::string(v);
            return true;
          },
          ""};
}

FlagTarget Append(std::vector<std::string>* target) {
  return {[target](absl::string_view v) {
            target->emplace_back(v);
            return true;
          },
          ""};
}

FlagTarget AppendList(std::vector<std::string>* target) {
  return {[target](absl::string_view v) {
            for (absl::string_view e : absl::StrSplit(v, ',', absl::SkipEmpty()))
              target->emplace_back(e);
            return true;
          },
          ""};
}

FlagTarget SetInt(int* target, int min) { return SetIntOf(target, min); }
FlagTarget SetInt(int64_t* target, int min) { return SetIntOf(target, min); }

absl::StatusOr<std::vector<std::string>> ParseFlags(absl::Span<const Flag> flags,
                                                    absl::Span<char* const> args) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {  // '-' is standard input
      rest.emplace_back(arg);
      continue;
    }
    size_t eq = arg.find('=');
    absl::string_view name = arg.substr(0, eq);
    auto flag = std::find_if(flags.begin(), flags.end(), [name](const Flag& f) {
      return name == f.name || (!f.alias.empty() && name == f.alias);
    });
    if (flag == flags.end()) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    // A view of the flag's own string: `cond ? bare_value : ""` would be a
    // std::string temporary, dead by the time the value is stored.
    absl::string_view value;
    if (flag->value == FlagValue::kOptional) value = flag->bare_value;
    if (eq != absl::string_view::npos) {
      if (flag->value == FlagValue::kNone)
        return absl::InvalidArgumentError(absl::StrCat(name, " takes no value"));
      value = arg.substr(eq + 1);
    } else if (flag->value == FlagValue::kRequired) {
      if (i + 1 == args.size())
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      value = args[++i];
    }
    if (!flag->target.store(value))
      return absl::InvalidArgumentError(
          absl::StrCat(name, " takes ", flag->target.takes, ", not '", value, "'"));
  }
  return rest;
}

std::string FlagHelp(absl::Span<const Flag> flags) {
  std::string out;
  for (const Flag& f : flags) {
    std::string line = absl::StrCat("  ", Spelling(f));
    if (line.size() < kHelpColumn) {
      line.resize(kHelpColumn, ' ');
    } else {
      absl::StrAppend(&out, line, "\n");
      line = std::string(kHelpColumn, ' ');
    }
    std::string text = f.help;
    if (!f.default_help.empty()) absl::StrAppend(&text, " (default: ", f.default_help, ")");
    bool first_word = true;
    for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
      if (!first_word && line.size() + 1 + word.size() > kLastColumn) {
        absl::StrAppend(&out, line, "\n");
        line = std::string(kHelpColumn, ' ');
        first_word = true;
      }
      absl::StrAppend(&line, first_word ? "" : " ", word);
      first_word = false;
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace opt
}  // namespace graft
