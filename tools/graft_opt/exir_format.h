// graft-opt's ExecuTorch formats (graft/interop/exir_json.h):
//   exir      serialized_exported_program.json; reading also accepts the zip
//             executorch.exir.save writes (the program is taken from it)
//   exir-zip  the executorch.exir.save zip itself: weights, constants and
//             example inputs copied through, the program rewritten; written
//             only for a program read from such a zip
// Both write only documents they read: the rest of an ExecuTorch program
// (signature, metadata, weights) is not in a graph read from text.
#ifndef GRAFT_TOOLS_GRAFT_OPT_EXIR_FORMAT_H_
#define GRAFT_TOOLS_GRAFT_OPT_EXIR_FORMAT_H_

#include <memory>
#include <optional>
#include <string>

#include "graft/interop/exir_json.h"
#include "graft/interop/exir_zip.h"
#include "tools/graft_opt/formats.h"

namespace graft {
namespace opt {

class ExirDocument : public GraphDocument {
 public:
  ExirDocument(exir::Program p, std::optional<exir::Archive> archive)
      : program_(std::move(p)), archive_(std::move(archive)) {}
  Graph& graph() override { return program_.graph(); }
  const exir::Program& program() const { return program_; }
  const std::optional<exir::Archive>& archive() const { return archive_; }

 private:
  exir::Program program_;
  std::optional<exir::Archive> archive_;  // when read from a zip
};

inline absl::StatusOr<std::unique_ptr<GraphDocument>> ReadExir(const std::string& bytes,
                                                              const ReadOptions& options) {
  const std::string& path = options.path;
  std::optional<exir::Archive> archive;
  absl::string_view json = bytes;
  if (zip::LooksLikeZip(bytes)) {
    GRAFT_ASSIGN_OR_RETURN(exir::Archive a, exir::Archive::Parse(bytes, path));
    archive = std::move(a);
    json = archive->program_json();
  }
  std::string where = archive ? absl::StrCat(path, ":", exir::kProgramEntry) : path;
  GRAFT_ASSIGN_OR_RETURN(exir::Program p, exir::Program::Parse(json, where));
  return std::unique_ptr<GraphDocument>(new ExirDocument(std::move(p), std::move(archive)));
}

inline absl::StatusOr<const ExirDocument*> AsExir(GraphDocument& doc) {
  auto* e = dynamic_cast<const ExirDocument*>(&doc);
  if (!e)
    return absl::FailedPreconditionError(
        "an ExecuTorch program can only be written from one read as exir (--from exir): the "
        "signature, metadata and weights are not in a graph read from another format");
  return e;
}

inline Format ExirFormat() {
  return {"exir",
          {".json"},
          "ExecuTorch's serialized_exported_program.json (executorch.exir.save's zip also read)",
          ReadExir,
          [](GraphDocument& doc) -> absl::StatusOr<std::string> {
            GRAFT_ASSIGN_OR_RETURN(const ExirDocument* e, AsExir(doc));
            return e->program().Write();
          }};
}

inline Format ExirZipFormat() {
  return {"exir-zip",
          {".zip"},
          "the zip executorch.exir.save writes (load it with executorch.exir.load)",
          ReadExir,
          [](GraphDocument& doc) -> absl::StatusOr<std::string> {
            GRAFT_ASSIGN_OR_RETURN(const ExirDocument* e, AsExir(doc));
            if (!e->archive())
              return absl::FailedPreconditionError(
                  "exir-zip output needs a program read from an executorch.exir.save zip (its "
                  "weights are not in the JSON); write --to exir instead");
            GRAFT_ASSIGN_OR_RETURN(std::string json, e->program().Write());
            return e->archive()->WriteWithProgram(json);
          },
          /*takes_input_types=*/false,
          /*binary=*/true};
}

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_EXIR_FORMAT_H_
