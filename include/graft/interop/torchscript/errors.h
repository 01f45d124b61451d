// The TorchScript interop's one exception boundary: libtorch reports errors
// by throwing (c10::Error, std::runtime_error), graft by absl::Status. Every
// public entry point runs its libtorch calls inside CatchTorch, so none lets
// an exception escape and all report one the same way: the line of the
// error that says what went wrong, after what graft was doing.
// Also the errors naming a TorchScript node (`%y = aten::add_ (model.py:4)`).
#ifndef GRAFT_INTEROP_TORCHSCRIPT_ERRORS_H_
#define GRAFT_INTEROP_TORCHSCRIPT_ERRORS_H_

#include <torch/csrc/jit/ir/ir.h>

#include <concepts>
#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graft/interop/provenance.h"

namespace graft {
namespace torchscript_internal {

namespace jit = ::torch::jit;

// The first non-empty line of a libtorch error (the rest is a C++ trace).
inline std::string FirstLine(absl::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.remove_prefix(1);
  return std::string(s.substr(0, s.find('\n')));
}

// The last non-empty line: where the interpreter puts the actual error,
// after the TorchScript traceback.
inline std::string LastLine(absl::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  size_t nl = s.find_last_of('\n');
  return std::string(nl == absl::string_view::npos ? s : s.substr(nl + 1));
}

// The line of a libtorch error message that says what went wrong: the first,
// except after the interpreter's traceback header, where it is the last.
inline std::string ErrorLine(absl::string_view what) {
  std::string first = FirstLine(what);
  if (absl::StartsWith(first, "The following operation failed in the TorchScript interpreter"))
    return LastLine(what);
  return first;
}

// Runs `fn`, which returns absl::Status or absl::StatusOr<T>; an exception
// it throws becomes `on_error(line)`, with `line` as ErrorLine says.
template <typename Fn, typename OnError>
  requires std::invocable<OnError&, absl::string_view>
auto CatchTorch(Fn&& fn, OnError&& on_error) -> decltype(fn()) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const c10::Error& e) {
    // Without the C++ backtrace libtorch appends in its own builds.
    return on_error(ErrorLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return on_error(ErrorLine(e.what()));
  }
}

// The usual form: an exception becomes `<doing>: <line>` with `code`
// (Internal: libtorch failing on what graft built is graft's bug; callers
// pass InvalidArgument where the input is to blame).
template <typename Fn>
auto CatchTorch(Fn&& fn, absl::string_view doing,
                absl::StatusCode code = absl::StatusCode::kInternal) -> decltype(fn()) {
  return CatchTorch(std::forward<Fn>(fn), [doing, code](absl::string_view line) {
    return absl::Status(code, absl::StrCat(doing, ": ", line));
  });
}

// A TorchScript node in an error message: its results, its kind and the
// user's source line (`%y = aten::add_ (model.py:4)`).
inline std::string Where(const jit::Node* n) {
  std::string out;
  for (size_t i = 0; i < n->outputs().size(); ++i)
    absl::StrAppend(&out, i ? ", " : "", "%", n->outputs()[i]->debugName());
  if (!out.empty()) out += " = ";
  absl::StrAppend(&out, n->kind().toQualString());
  if (auto flc = n->sourceRange().file_line_col()) {
    const auto& [file, line, col] = *flc;
    (void)col;
    absl::StrAppend(&out, " (", Provenance::BaseName(file), ":", line, ")");
  }
  return out;
}

inline absl::Status NodeError(const jit::Node* n, absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat("TorchScript node ", Where(n), ": ", msg));
}

}  // namespace torchscript_internal
}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_ERRORS_H_
