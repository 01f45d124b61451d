#!/usr/bin/env bash
# Installs what is missing, runs every Bazel test, and ends with the line
# "N passed, N failed" (one per test target). Exits non-zero on any failure.
# Extra arguments go to `bazel test` (default target pattern: //...).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

(($#)) || set -- //...
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --keep_going: a test that fails to build is reported, the others still run.
bazel test --keep_going --color=no --curses=no "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# CI owns no long-lived processes: stop this workspace's Bazel server.
[[ -n ${CI:-} ]] && bazel shutdown 2>/dev/null

# Bazel's summary: "//pkg:target   [(cached)] PASSED in 0.1s", "... FAILED in",
# "... FAILED TO BUILD", "... NO STATUS", "... TIMEOUT", "... FLAKY, ...".
summary=$(grep -E '^//[^ ]+ +.*(PASSED|FAILED|FLAKY|TIMEOUT|NO STATUS|INCOMPLETE|SKIPPED)' "$log")
passed=$(grep -cE ' (PASSED|FLAKY)' <<<"$summary")
failed=$(grep -cvE ' (PASSED|FLAKY)|^$' <<<"$summary")
# A build or analysis error can stop Bazel before it lists any test.
((rc != 0 && failed == 0)) && failed=1
echo "$passed passed, $failed failed"
((rc == 0 && failed == 0))
