#!/usr/bin/env bash
# Installs what is missing, then runs every test and ends with the line
# "N passed, N failed" (one per test target and stage). Exits non-zero on any
# failure. Stages:
#   1. every Bazel test (release build, //...)
#   2. the C++ tests again under AddressSanitizer + UBSan (--config=asan)
#   3. the fuzz targets: seed corpora replayed, then a short fuzzing period
#      each (tools/fuzz/smoke.sh; long runs: tools/fuzz/run.sh)
#   4. the front door, one test each (tools/install_test/): `pip install` of
#      the checkout into a fresh virtualenv lowering a small model with
#      GraftPass; examples/embed built with CMake against the installed CMake
#      package, and with Bazel from its own WORKSPACE
# Arguments, if any, replace the target pattern of stages 1 and 2 and skip
# stages 3 and 4 (e.g. `tools/test.sh //tests/ir/...`).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

targets=("$@")
((${#targets[@]})) || targets=(//...)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0

# Runs `bazel test` with the given flags and counts its summary lines:
# "//pkg:target   [(cached)] PASSED in 0.1s", "... FAILED in", "... FAILED TO
# BUILD", "... NO STATUS", "... TIMEOUT", "... FLAKY, ...".
bazel_stage() {
  local name=$1; shift
  echo "==== $name"
  # --keep_going: a test that fails to build is reported, the others still run.
  bazel test --keep_going --color=no --curses=no "$@" "${targets[@]}" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local summary p f
  summary=$(grep -E '^//[^ ]+ +.*(PASSED|FAILED|FLAKY|TIMEOUT|NO STATUS|INCOMPLETE|SKIPPED)' "$log")
  p=$(grep -cE ' (PASSED|FLAKY)' <<<"$summary")
  f=$(grep -cvE ' (PASSED|FLAKY)|^$' <<<"$summary")
  # A build or analysis error can stop Bazel before it lists any test.
  ((rc != 0 && f == 0)) && f=1
  echo "$name: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
}

# Runs a command as one test: passed when it exits 0.
script_stage() {
  local name=$1; shift
  echo "==== $name"
  if "$@"; then
    echo "$name: 1 passed, 0 failed"
    passed=$((passed + 1))
  else
    echo "$name: 0 passed, 1 failed"
    failed=$((failed + 1))
  fi
}

bazel_stage "tests"
bazel_stage "C++ tests under ASan+UBSan" --config=asan --test_lang_filters=cc --build_tests_only

if (($# == 0)); then
  echo "==== fuzz targets: seed replay and a short run each"
  # Nothing else runs now: the five fuzz builds two at a time.
  GRAFT_FUZZ_JOBS=${GRAFT_FUZZ_JOBS:-2} tools/fuzz/smoke.sh 2>&1 | tee "$log"
  # Its last line: "fuzz-smoke: N passed, N failed" (one per target).
  read -r p f < <(sed -nE 's/^fuzz-smoke: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -1)
  [[ -n ${p:-} ]] || { p=0; f=1; }
  passed=$((passed + p))
  failed=$((failed + f))

  script_stage "pip install into a virtualenv, GraftPass lowering" tools/install_test/venv_lower.sh
  script_stage "examples/embed with CMake (installed package)" tools/install_test/embed_cmake.sh
  script_stage "examples/embed with Bazel (local_repository)" tools/install_test/embed_bazel.sh
fi

# CI owns no long-lived processes: stop this workspace's Bazel server.
[[ -n ${CI:-} ]] && bazel shutdown 2>/dev/null

echo "$passed passed, $failed failed"
((failed == 0))
