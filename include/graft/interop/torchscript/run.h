// Running graphs in libtorch: a TorchScript graph in the interpreter, or a
// graft graph exported to one (how tests and tools check a rewrite's numbers).
#ifndef GRAFT_INTEROP_TORCHSCRIPT_RUN_H_
#define GRAFT_INTEROP_TORCHSCRIPT_RUN_H_

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/interpreter.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/interop/torchscript/errors.h"
#include "graft/interop/torchscript/exporter.h"
#include "graft/interop/torchscript/types.h"
#include "graft/ir/graph.h"
#include "graft/ir/status.h"

namespace graft {

// Runs a TorchScript graph in libtorch's interpreter (no graph-executor
// optimizations, so numbers are those of the ops as written).
inline absl::StatusOr<std::vector<at::Tensor>> RunTorchScript(
    const std::shared_ptr<torch::jit::Graph>& graph, const std::vector<at::Tensor>& inputs) {
  return torchscript_internal::CatchTorch([&]() -> absl::StatusOr<std::vector<at::Tensor>> {
    torch::jit::Code code(graph, "graft");
    torch::jit::InterpreterState state(code);
    torch::jit::Stack stack(inputs.begin(), inputs.end());
    state.run(stack);
    std::vector<at::Tensor> out;
    for (const c10::IValue& v : stack) {
      if (v.isTuple()) {
        for (const c10::IValue& e : v.toTupleRef().elements()) out.push_back(e.toTensor());
      } else {
        out.push_back(v.toTensor());
      }
    }
    return out;
  }, "running the TorchScript graph");
}

// Runs a graft graph through libtorch: exports it and feeds `user_inputs` to
// its user inputs and `tensors` (by original name) to the others.
inline absl::StatusOr<std::vector<at::Tensor>> RunGraph(const Graph& g,
                                                        const std::vector<at::Tensor>& user_inputs,
                                                        const TensorMap& tensors = {}) {
  GRAFT_ASSIGN_OR_RETURN(auto jg, ExportTorchScript(g));
  std::vector<at::Tensor> inputs;
  size_t next = 0;
  for (Value* in : g.inputs()) {
    if (g.is_constant(in)) {
      std::string name(g.original_name(in));
      if (name.empty()) name = std::string(g.name(in));
      auto it = tensors.find(name);
      if (it == tensors.end())
        return absl::NotFoundError(absl::StrCat("no tensor given for %", g.name(in), " (\"", name, "\")"));
      inputs.push_back(it->second);
    } else {
      if (next >= user_inputs.size())
        return absl::InvalidArgumentError(absl::StrCat("the graph has more than ", user_inputs.size(), " user inputs"));
      inputs.push_back(user_inputs[next++]);
    }
  }
  if (next != user_inputs.size())
    return absl::InvalidArgumentError(absl::StrCat("given ", user_inputs.size(), " inputs for ", next, " user inputs"));
  return RunTorchScript(jg, inputs);
}

}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_RUN_H_
