// graft-opt's TorchScript format: a module saved by torch.jit.save in, the
// rewritten module out (graft/interop/torchscript.h does the work). Input
// shapes come from the archive's `graft_input_types` extra file, or from
// $GRAFT_INPUT_TYPES (`i64[1, 128], f32[1, 1500, 384]`), which wins.
#ifndef GRAFT_TOOLS_GRAFT_OPT_TORCHSCRIPT_FORMAT_H_
#define GRAFT_TOOLS_GRAFT_OPT_TORCHSCRIPT_FORMAT_H_

#include <cstdlib>
#include <memory>
#include <string>

#include "graft/interop/torchscript.h"
#include "tools/graft_opt/formats.h"

namespace graft {
namespace opt {

class TorchScriptDocument : public GraphDocument {
 public:
  explicit TorchScriptDocument(TorchScriptProgram p) : p_(std::move(p)) {}
  Graph& graph() override { return *p_.graph; }
  const TensorMap& tensors() const { return p_.tensors; }

 private:
  TorchScriptProgram p_;
};

inline Format TorchScriptFormat() {
  return {"torchscript",
          {".pt", ".pth", ".ts", ".torchscript"},
          "a TorchScript module (torch.jit.save); input shapes from its graft_input_types "
          "extra file or $GRAFT_INPUT_TYPES",
          [](const std::string& bytes, const std::string& path)
              -> absl::StatusOr<std::unique_ptr<GraphDocument>> {
            TorchScriptImportOptions options;
            if (const char* env = std::getenv("GRAFT_INPUT_TYPES"); env && *env) {
              GRAFT_ASSIGN_OR_RETURN(options.input_types, ParseTypeList(env, "$GRAFT_INPUT_TYPES"));
            }
            GRAFT_ASSIGN_OR_RETURN(TorchScriptProgram p, LoadTorchScript(bytes, options, path));
            return std::unique_ptr<GraphDocument>(new TorchScriptDocument(std::move(p)));
          },
          [](GraphDocument& doc) -> absl::StatusOr<std::string> {
            static const TensorMap kNone;
            auto* ts = dynamic_cast<TorchScriptDocument*>(&doc);
            return SaveTorchScript(doc.graph(), ts ? ts->tensors() : kNone);
          }};
}

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_TORCHSCRIPT_FORMAT_H_
