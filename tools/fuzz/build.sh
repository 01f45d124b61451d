#!/usr/bin/env bash
# Builds graft's libFuzzer targets with clang (Debian's clang and its
# libFuzzer/sanitizer runtimes, libclang-rt-dev: tools/setup.sh installs
# them), under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   tools/fuzz/build.sh [TARGET...]     (default: every target)
#
# Targets: text_graph rules exir_json exir_zip torchscript. Binaries go to
# $GRAFT_FUZZ_DIR/bin (default .cache/fuzz/bin, gitignored), named
# <target>_fuzzer. A target is rebuilt only when a source or header it may
# include is newer than its binary. -j: $GRAFT_FUZZ_JOBS (default 1)
# targets compile at once; the torchscript one alone takes a few minutes.
#
# No Bazel: each target is one translation unit (graft is header-only), and
# libFuzzer needs -fsanitize=fuzzer on the target only, which Bazel 4's
# toolchain (GCC here) cannot give; clang++ and pkg-config are enough.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=${GRAFT_FUZZ_DIR:-$root/.cache/fuzz}/bin
mkdir -p "$out"
all=(text_graph rules exir_json exir_zip torchscript)
(($#)) || set -- "${all[@]}"

# The first clang++ that has its libFuzzer runtime installed.
cxx=${GRAFT_FUZZ_CXX:-}
if [[ -z $cxx ]]; then
  for c in clang++ clang++-14 clang++-16 clang++-19; do
    command -v "$c" >/dev/null || continue
    [[ -f $("$c" -print-runtime-dir)/libclang_rt.fuzzer-x86_64.a ]] && { cxx=$c; break; }
  done
fi
[[ -n $cxx ]] || { echo "fuzz/build: no clang++ with libFuzzer (run tools/setup.sh)" >&2; exit 1; }

absl_modules=(absl_flat_hash_map absl_flat_hash_set absl_inlined_vector absl_span absl_status
              absl_statusor absl_str_format absl_strings absl_synchronization absl_time absl_hash
              absl_cord)
read -r -a absl_cflags <<<"$(pkg-config --cflags "${absl_modules[@]}")"
read -r -a absl_libs <<<"$(pkg-config --libs "${absl_modules[@]}")"

common=(-g -O1 -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -I"$root" -I"$root/include" -DGRAFT_FUZZ_PATTERNS_DIR="\"$root/patterns\""
        -Wno-unused-command-line-argument)

# Rebuild when the binary is older than the target's source or any header.
stale() {
  local bin=$1 src=$2
  [[ ! -x $bin ]] && return 0
  [[ -n $(find "$src" tools/fuzz/fuzz_common.h include -newer "$bin" -print -quit) ]]
}

build_one() {
  local t=$1 src="tools/fuzz/${1}_fuzzer.cc" bin="$out/${1}_fuzzer"
  [[ -f $src ]] || { echo "fuzz/build: unknown target '$t' (targets: ${all[*]})" >&2; return 2; }
  if ! stale "$bin" "$src"; then echo "fuzz/build: $t up to date"; return 0; fi
  local flags=(-std=c++17)
  local libs=()
  if [[ $t == torchscript ]]; then
    local py=${GRAFT_PYTHON:-python3} torch abi
    torch=$("$py" -c 'import torch, os; print(os.path.dirname(torch.__file__))') ||
      { echo "fuzz/build: no torch in $py (run tools/setup.sh)" >&2; return 1; }
    abi=$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
    # ATen needs C++20; libtorch is not built with RTTI-checking UBSan.
    flags=(-std=c++20 -fno-sanitize=vptr -D_GLIBCXX_USE_CXX11_ABI="$abi"
           -isystem "$torch/include" -isystem "$torch/include/torch/csrc/api/include")
    libs=(-L"$torch/lib" -Wl,-rpath,"$torch/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10
          -Wl,--as-needed -pthread)
  fi
  echo "fuzz/build: $t"
  local start=$SECONDS stamp
  stamp=$(date +%s)
  # Target flags after the common ones: -fno-sanitize=vptr must follow
  # -fsanitize=undefined to take effect.
  "$cxx" "${common[@]}" "${flags[@]}" "${absl_cflags[@]}" "$src" -o "$bin.tmp" \
    "${absl_libs[@]}" "${libs[@]}" || { rm -f "$bin.tmp"; echo "fuzz/build: $t FAILED" >&2; return 1; }
  # The binary is as old as the sources it was compiled from: an edit made
  # during the compile makes it stale.
  touch -d "@$stamp" "$bin.tmp" && mv "$bin.tmp" "$bin" || return 1
  echo "fuzz/build: $t built in $((SECONDS - start)) s -> $bin"
}

jobs=${GRAFT_FUZZ_JOBS:-1}
pids=()
rc=0
for t in "$@"; do
  if ((jobs > 1)); then
    build_one "$t" & pids+=($!)
    # At most $jobs at once: wait for any one to finish.
    if ((${#pids[@]} >= jobs)); then
      wait -n "${pids[@]}" || rc=1
      alive=()
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
      pids=("${alive[@]}")
    fi
  else
    build_one "$t" || rc=1
  fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
