#!/usr/bin/env bash
# The main example: graft-opt rewrites the whisper-tiny.en decoder's logits
# projection (edge dialect: permute_copy, view_copy, mm, view_copy) into one
# aten::linear whose weight is the parameter itself, printing the graph
# before, the statistics, and the graph after. Installs what is missing first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools/setup.sh
bazel build --color=no --curses=no -c opt //tools/graft_opt:graft-opt 2>/dev/null ||
  bazel build -c opt //tools/graft_opt:graft-opt
bazel-bin/tools/graft_opt/graft-opt tests/fixtures/whisper_logits.graft \
  --print-before --stats "$@"
