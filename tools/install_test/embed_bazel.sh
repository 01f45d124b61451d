#!/usr/bin/env bash
# examples/embed built with Bazel from its own WORKSPACE, graft coming in as a
# local_repository with graft_deps(); its output must be
# examples/embed/expected.txt. Its Bazel server is stopped afterwards (it is a
# second server beside the checkout's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root/examples/embed"
trap 'bazel shutdown 2>/dev/null' EXIT
bazel build --color=no --curses=no //:embed
"$(bazel info bazel-bin 2>/dev/null)/embed" "$PWD/transpose.rules" "$PWD/model.graft" \
  | diff -u expected.txt -
echo "embed (Bazel, local_repository): OK"
