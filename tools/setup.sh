#!/usr/bin/env bash
# Installs what building and testing graft needs on a Debian 12/13 machine.
# Idempotent and silent when everything is already there. The Python used is
# $GRAFT_PYTHON or python3, the same one @libtorch asks for torch.
set -euo pipefail

APT_PACKAGES=(
  bazel-bootstrap   # Bazel 4.2.3; the WORKSPACE keeps it offline
  g++ pkgconf
  cmake ninja-build # pip install . (scikit-build-core) and the CMake package
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

# graft's Python package, built from this checkout by pip: pyproject.toml has
# scikit-build-core run CMake, which builds the C++ module graft._graft against
# the Abseil and nlohmann-json installed above. The build tools come first and
# pip is told not to fetch them again (--no-build-isolation), so the build
# needs no network. The build directory (.build/python/) makes a rebuild
# incremental; the install is redone only when the sources it is made of
# change (a stamp there records their hash and the Python they went to) or
# the installed graft is not this checkout's (pip records where it came from).
for dist in scikit-build-core nanobind; do
  [[ -n $(version_of "$dist") ]] || pip_install "$dist"
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
site_dir=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# The .pth file earlier versions of this script left: the package replaces it.
rm -f "$site_dir/graft.pth" "$("$py" -m site --user-site)/graft.pth"
sources=$(cd "$root" && find pyproject.toml CMakeLists.txt cmake python include patterns \
            -type f ! -name '*.pyc' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-32)
stamp="$root/.build/python/installed"
want="$(command -v "$py") $sources"
installed_from() {
  (cd / && "$py" -c 'import graft._graft, importlib.metadata as m, json
print(json.loads(m.distribution("graft").read_text("direct_url.json"))["url"])' 2>/dev/null)
}
if [[ $(cat "$stamp" 2>/dev/null) != "$want" || $(installed_from) != "file://$root" ]]; then
  pip_install --no-build-isolation --no-deps "$root"
  mkdir -p "$(dirname "$stamp")"
  echo "$want" >"$stamp"
fi
