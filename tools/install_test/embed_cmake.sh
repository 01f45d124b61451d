#!/usr/bin/env bash
# examples/embed built with CMake against graft installed with CMake:
# `cmake --install` into a fresh prefix, then embed's own CMakeLists.txt finds
# it with find_package(graft CONFIG REQUIRED); its output must be
# examples/embed/expected.txt. Build directories are kept between runs in
# $GRAFT_CMAKE_CACHE (default: under /tmp, one per checkout); the prefix is
# made anew each time, so a header removed from the checkout is gone from it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache=${GRAFT_CMAKE_CACHE:-/tmp/graft-cmake-$(echo "$root" | sha256sum | cut -c1-12)}
prefix="$cache/prefix"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)

cmake -S "$root" -B "$cache/graft" "${gen[@]}" -DGRAFT_TORCHSCRIPT=OFF >/dev/null
rm -rf "$prefix"
cmake --install "$cache/graft" --prefix "$prefix" >/dev/null
cmake -S "$root/examples/embed" -B "$cache/embed" "${gen[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$cache/embed"
"$cache/embed/embed" "$root/examples/embed/transpose.rules" "$root/examples/embed/model.graft" \
  | diff -u "$root/examples/embed/expected.txt" -
echo "embed (CMake, installed graft): OK"
