// TorchScript archives (the bytes torch.jit.save writes): loading a module
// for import or for rewriting in place, and saving one. A loaded module's
// graph has lost its input types, so they travel in an extra file of the
// archive.
#ifndef GRAFT_INTEROP_TORCHSCRIPT_ARCHIVE_H_
#define GRAFT_INTEROP_TORCHSCRIPT_ARCHIVE_H_

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "graft/interop/torchscript/errors.h"
#include "graft/interop/torchscript/exporter.h"
#include "graft/interop/torchscript/importer.h"
#include "graft/interop/torchscript/types.h"
#include "graft/interop/torchscript/write_back.h"
#include "graft/ir/graph.h"
#include "graft/ir/parser.h"
#include "graft/ir/status.h"

namespace graft {

// A saved module's input types travel in this extra file of its archive
// (torch.jit.save(m, f, _extra_files={"graft_input_types": "i64[1, 128],
// f32[1, 1500, 384]"})), in ParseTypeList's syntax.
inline constexpr char kInputTypesExtraFile[] = "graft_input_types";

// The types of `g`'s non-constant inputs, as kInputTypesExtraFile holds them;
// "" when one is partial (a module imported without input types has none
// to record, and ParseTypeList takes known types only).
inline std::string TypeListString(const Graph& g) {
  std::vector<std::string> types;
  for (Value* in : g.inputs()) {
    if (g.is_constant(in)) continue;
    if (!in->type().known()) return "";
    types.push_back(in->type().ToString());
  }
  return absl::StrJoin(types, ", ");
}

namespace torchscript_internal {

// `status` with its message prefixed by the archive's name.
inline absl::Status InArchive(absl::string_view where, const absl::Status& status) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(where, ": ", status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

// Loads the module in `bytes` (evaluation mode). Unless `options` has input
// types or example inputs, takes them from the archive's extra file, whose
// text goes to `saved_types` ("" when the caller's types are used).
inline absl::StatusOr<torch::jit::Module> ReadArchive(const std::string& bytes,
                                                      absl::string_view where,
                                                      TorchScriptImportOptions& options,
                                                      std::string& saved_types) {
  torch::jit::ExtraFilesMap extra = {{kInputTypesExtraFile, ""}};
  GRAFT_ASSIGN_OR_RETURN(torch::jit::Module module,
                         CatchTorch(
                             [&]() -> absl::StatusOr<torch::jit::Module> {
                               std::istringstream stream(bytes);
                               return torch::jit::load(stream, c10::kCPU, extra);
                             },
                             absl::StrCat(where, ": not a TorchScript archive (torch.jit.save)"),
                             absl::StatusCode::kInvalidArgument));
  module.eval();
  saved_types.clear();
  if (options.input_types.empty() && options.example_inputs.empty()) {
    saved_types = extra[kInputTypesExtraFile];
    if (!saved_types.empty()) {
      GRAFT_ASSIGN_OR_RETURN(
          options.input_types,
          ParseTypeList(saved_types, absl::StrCat(where, ":", kInputTypesExtraFile)));
    }
  }
  return module;
}

// The bytes of `module` saved with `input_types` as kInputTypesExtraFile.
inline absl::StatusOr<std::string> WriteArchive(const torch::jit::Module& module,
                                                const std::string& input_types) {
  return CatchTorch(
      [&]() -> absl::StatusOr<std::string> {
        std::ostringstream out;
        module.save(out, {{kInputTypesExtraFile, input_types}});
        return out.str();
      },
      "saving the TorchScript module");
}

}  // namespace torchscript_internal

// Reads a module saved by torch.jit.save (bytes of the archive) and imports
// its forward. Input types: `options` if given, else the archive's
// graft_input_types extra file.
inline absl::StatusOr<TorchScriptProgram> LoadTorchScript(const std::string& bytes,
                                                          TorchScriptImportOptions options = {},
                                                          absl::string_view where = "<module>") {
  std::string saved_types;
  GRAFT_ASSIGN_OR_RETURN(torch::jit::Module module,
                         torchscript_internal::ReadArchive(bytes, where, options, saved_types));
  auto program = ImportTorchScriptModule(module, options);
  if (!program.ok()) return torchscript_internal::InArchive(where, program.status());
  return program;
}

// Reads a module saved by torch.jit.save for rewriting in place (see
// LoadTorchScript for the input types). Keeps the module.
struct TorchScriptModuleRewrite {
  torch::jit::Module module;
  std::unique_ptr<TorchScriptInPlace> rewrite;
  std::string input_types;  // as saved, for saving again
};

inline absl::StatusOr<TorchScriptModuleRewrite> LoadTorchScriptForRewrite(
    const std::string& bytes, TorchScriptImportOptions options = {},
    absl::string_view where = "<module>") {
  TorchScriptModuleRewrite out;
  GRAFT_ASSIGN_OR_RETURN(out.module,
                         torchscript_internal::ReadArchive(bytes, where, options, out.input_types));
  auto rewrite = TorchScriptInPlace::ForModule(out.module, options);
  if (!rewrite.ok()) return torchscript_internal::InArchive(where, rewrite.status());
  out.rewrite = std::move(*rewrite);
  // Types given by the caller are saved with the module.
  if (out.input_types.empty()) out.input_types = TypeListString(out.rewrite->graph());
  return out;
}

// Exports `g` as a module (ExportTorchScriptModule) and returns the bytes of
// its torch.jit.save archive, with the input types as an extra file.
inline absl::StatusOr<std::string> SaveTorchScript(const Graph& g, const TensorMap& tensors,
                                                   const TorchScriptExportOptions& options = {}) {
  GRAFT_ASSIGN_OR_RETURN(torch::jit::Module m,
                         ExportTorchScriptModule(g, tensors, options,
                                                 g.name().empty() ? "GraftModule" : g.name()));
  return torchscript_internal::WriteArchive(m, TypeListString(g));
}

// Commits the rewrite into the module and returns its torch.jit.save bytes;
// when the graph cannot be patched in place, exports it as a new module.
inline absl::StatusOr<std::string> SaveTorchScriptRewrite(
    TorchScriptModuleRewrite& r, const TorchScriptExportOptions& options = {}) {
  absl::Status committed = r.rewrite->Commit(options);
  if (absl::IsFailedPrecondition(committed))
    return SaveTorchScript(r.rewrite->graph(), r.rewrite->tensors(), options);
  GRAFT_RETURN_IF_ERROR(committed);
  return torchscript_internal::WriteArchive(r.module, r.input_types);
}

}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_ARCHIVE_H_
