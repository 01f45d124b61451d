#!/usr/bin/env bash
# `pip install` of the checkout into a fresh virtual environment, then graft
# imported there from outside the checkout lowers a small model with
# GraftPass (tools/install_test/lower_small_model.py). The environment sees
# the system's packages (--system-site-packages: torch, executorch, and the
# build tools tools/setup.sh installed), so nothing is downloaded.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
py=${GRAFT_PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$py" -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --no-input --disable-pip-version-check \
  --no-build-isolation --no-deps "$root"
cp "$root/tools/install_test/lower_small_model.py" "$tmp/"
cd "$tmp"
"$tmp/venv/bin/python" lower_small_model.py "$tmp/venv"
