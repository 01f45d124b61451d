// Graph file formats for graft-opt. A format reads bytes into a
// GraphDocument (the graph plus whatever the format must keep to write the
// program back, such as the rest of an ExecuTorch program) and writes a
// document back to bytes. The text form is built in; the interop formats
// (exir JSON, TorchScript) register themselves in main.cc.
#ifndef GRAFT_TOOLS_GRAFT_OPT_FORMATS_H_
#define GRAFT_TOOLS_GRAFT_OPT_FORMATS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graft/ir/graph.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace opt {

class GraphDocument {
 public:
  virtual ~GraphDocument() = default;
  virtual Graph& graph() = 0;
};

// What the command line tells a format's reader.
struct ReadOptions {
  std::string path;         // where the bytes came from, for messages
  std::string input_types;  // --input-types as written; empty when not given
};

struct Format {
  std::string name;                     // --from / --to value
  std::vector<std::string> extensions;  // ".graft"; matched at the end of a path
  std::string description;              // for --help
  // Reads `bytes`.
  std::function<absl::StatusOr<std::unique_ptr<GraphDocument>>(const std::string& bytes,
                                                               const ReadOptions& options)>
      read;
  // Writes `doc` (which may come from another format) to bytes.
  std::function<absl::StatusOr<std::string>(GraphDocument& doc)> write;
  // Whether `read` uses ReadOptions::input_types (formats whose files do
  // not record the shapes of the graph's inputs).
  bool takes_input_types = false;
  // Whether the output is an archive, not text: graft-opt writes it to a
  // terminal only when told to (`-o -`).
  bool binary = false;
};

// The text form (graft/ir/printer.h).
class TextDocument : public GraphDocument {
 public:
  explicit TextDocument(std::unique_ptr<Graph> g) : g_(std::move(g)) {}
  Graph& graph() override { return *g_; }

 private:
  std::unique_ptr<Graph> g_;
};

inline Format TextFormat() {
  return {"text",
          {".graft", ".txt"},
          "graft's text form (graft/ir/printer.h)",
          [](const std::string& bytes, const ReadOptions& options)
              -> absl::StatusOr<std::unique_ptr<GraphDocument>> {
            GRAFT_ASSIGN_OR_RETURN(auto g, ParseGraph(bytes, Ops(), options.path));
            return std::unique_ptr<GraphDocument>(new TextDocument(std::move(g)));
          },
          [](GraphDocument& doc) -> absl::StatusOr<std::string> { return Print(doc.graph()); }};
}

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_FORMATS_H_
