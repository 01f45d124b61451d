// TorchScript interop: torch::jit graphs and modules into graft Graphs and
// back, so a scripted, traced or frozen model can be rewritten by graft and
// run (or saved with torch.jit.save) by libtorch again. One header per job:
//
//   torchscript/types.h       graft <-> libtorch types, tensors, literals
//   torchscript/errors.h      the one exception boundary (CatchTorch)
//   torchscript/importer.h    ImportTorchScript, ImportTorchScriptModule
//   torchscript/exporter.h    ExportTorchScript, ExportTorchScriptModule
//   torchscript/write_back.h  TorchScriptInPlace: rewrite a graph in place
//   torchscript/archive.h     LoadTorchScript(ForRewrite), SaveTorchScript(Rewrite)
//   torchscript/run.h         RunTorchScript, RunGraph
//   torchscript/reference_kernels.h  quantized_decomposed ops for libtorch
//
// Every entry point returns absl::Status (libtorch's exceptions are caught
// at the boundary), and imported nodes carry the `<node> @ <file>:<line>`
// locations the exir interop gives its nodes too (graft/interop/provenance.h).
//
// These headers, alone in graft, need libtorch (C++20); include this one.
#ifndef GRAFT_INTEROP_TORCHSCRIPT_H_
#define GRAFT_INTEROP_TORCHSCRIPT_H_

#include "graft/interop/torchscript/archive.h"
#include "graft/interop/torchscript/errors.h"
#include "graft/interop/torchscript/exporter.h"
#include "graft/interop/torchscript/importer.h"
#include "graft/interop/torchscript/reference_kernels.h"
#include "graft/interop/torchscript/run.h"
#include "graft/interop/torchscript/types.h"
#include "graft/interop/torchscript/write_back.h"

#endif  // GRAFT_INTEROP_TORCHSCRIPT_H_
