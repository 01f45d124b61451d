#!/usr/bin/env bash
# Installs what building and testing graft needs on a Debian 12/13 machine.
# Idempotent and silent when everything is already there. The Python used is
# $GRAFT_PYTHON or python3, the same one @libtorch asks for torch.
set -euo pipefail

APT_PACKAGES=(
  bazel-bootstrap   # Bazel 4.2.3; the WORKSPACE keeps it offline
  g++ pkgconf
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  graphviz
  clang libclang-rt-dev  # libFuzzer + ASan/UBSan runtimes: tools/fuzz/
)
TORCH_VERSION=2.13.0      # a CPU wheel of this version is on the machines' disk
EXECUTORCH_VERSION=1.5.1  # needs no particular torch, so it keeps ours

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed' \
    || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

py=${GRAFT_PYTHON:-python3}
if ! command -v "$py" >/dev/null; then
  echo "setup: $py not found (set GRAFT_PYTHON to a Python 3.11 with pip)" >&2
  exit 1
fi
# Prints the installed version of a distribution, or nothing.
version_of() {
  "$py" -c 'import importlib.metadata as m, sys
try: print(m.version(sys.argv[1]))
except m.PackageNotFoundError: pass' "$1"
}
pip_install() {
  echo "setup: pip install $*"
  # Harmless for pyenv/venv Pythons; lets root use Debian's own python3.
  PIP_BREAK_SYSTEM_PACKAGES=1 "$py" -m pip install -qq --no-input \
    --disable-pip-version-check "$@"
}

# One at a time: with torch already installed, executorch keeps it; asked for
# together with a loose torch, pip could pick a multi-GB CUDA build.
torch=$(version_of torch)
if [[ -z $torch ]]; then
  pip_install "torch==$TORCH_VERSION"
elif [[ $torch != "$TORCH_VERSION"* ]]; then
  echo "setup: warning: torch $torch installed, graft is tested with $TORCH_VERSION" >&2
fi
if [[ -z $(version_of executorch) ]]; then
  pip_install "executorch==$EXECUTORCH_VERSION"
fi

# graft's Python package (graft.executorch) from this checkout, by a .pth
# file: no build step, and edits take effect at once. It runs the graft-opt
# that `bazel build //tools/graft_opt:graft-opt` leaves in bazel-bin/ (or
# $GRAFT_OPT).
graft_python="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/python"
site_dir=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [[ ! -w $site_dir ]]; then
  site_dir=$("$py" -m site --user-site)
  mkdir -p "$site_dir"
fi
if [[ $(cat "$site_dir/graft.pth" 2>/dev/null) != "$graft_python" ]]; then
  echo "setup: $site_dir/graft.pth -> $graft_python"
  echo "$graft_python" >"$site_dir/graft.pth"
fi
