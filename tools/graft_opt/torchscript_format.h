// graft-opt's TorchScript format: a module saved by torch.jit.save in, the
// same module with its forward rewritten in place out
// (graft/interop/torchscript.h does the work). A loaded module's graph has
// lost its input shapes: they come from --input-types (`i64[1, 128],
// f32[1, 1500, 384]`), else from the archive's `graft_input_types` extra
// file; the output records the ones used.
#ifndef GRAFT_TOOLS_GRAFT_OPT_TORCHSCRIPT_FORMAT_H_
#define GRAFT_TOOLS_GRAFT_OPT_TORCHSCRIPT_FORMAT_H_

#include <memory>
#include <string>

#include "graft/interop/torchscript.h"
#include "tools/graft_opt/formats.h"

namespace graft {
namespace opt {

// The module read, imported for rewriting in place: writing commits the
// rewrite into the module (only what changed; the rest of the module, its
// other methods and attributes stay) and saves it.
class TorchScriptDocument : public GraphDocument {
 public:
  explicit TorchScriptDocument(TorchScriptModuleRewrite r) : r_(std::move(r)) {}
  Graph& graph() override { return r_.rewrite->graph(); }
  TorchScriptModuleRewrite& rewrite() { return r_; }

 private:
  TorchScriptModuleRewrite r_;
};

inline Format TorchScriptFormat() {
  return {"torchscript",
          {".pt", ".pth", ".ts", ".torchscript"},
          "a TorchScript module (torch.jit.save), rewritten in place; input shapes from "
          "--input-types, else its graft_input_types extra file",
          [](const std::string& bytes, const ReadOptions& read)
              -> absl::StatusOr<std::unique_ptr<GraphDocument>> {
            TorchScriptImportOptions options;
            if (!read.input_types.empty()) {
              GRAFT_ASSIGN_OR_RETURN(options.input_types,
                                     ParseTypeList(read.input_types, "--input-types"));
            }
            // An error without input types carries ErrorKind::kMissingInputTypes,
            // from which graft-opt's Main says how to give them.
            GRAFT_ASSIGN_OR_RETURN(TorchScriptModuleRewrite r,
                                   LoadTorchScriptForRewrite(bytes, options, read.path));
            return std::unique_ptr<GraphDocument>(new TorchScriptDocument(std::move(r)));
          },
          [](GraphDocument& doc) -> absl::StatusOr<std::string> {
            if (auto* ts = dynamic_cast<TorchScriptDocument*>(&doc))
              return SaveTorchScriptRewrite(ts->rewrite());
            // From another format: a new module, if the graph has no
            // parameters (their tensors would be missing).
            return SaveTorchScript(doc.graph(), {});
          },
          /*takes_input_types=*/true,
          /*binary=*/true};
}

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_TORCHSCRIPT_FORMAT_H_
