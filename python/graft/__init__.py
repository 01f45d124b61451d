"""graft: graph rewrite rules for PyTorch/ExecuTorch programs.

The rewriting happens in graft's C++ (the graft-opt tool); this package is
the thin Python side. See graft.executorch for the ExecuTorch pass.
"""
