#!/usr/bin/env bash
# The fuzzers' smoke test, for tools/test.sh: builds every target
# (tools/fuzz/build.sh), and for each replays its seed corpus
# (tools/fuzz/seeds/<target>) and fuzzes for a short time
# ($GRAFT_FUZZ_SMOKE_TIME, default 25 s) from the seeds, stopping at the
# first finding. Ends with the line "fuzz-smoke: N passed, N failed" (one per
# target) and exits non-zero on any finding or build failure.
#
#   tools/fuzz/smoke.sh [TARGET...]
#
# Findings land in $GRAFT_FUZZ_DIR/smoke-findings/<target>/ (default
# .cache/fuzz); the corpus a smoke run grows is thrown away.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
secs=${GRAFT_FUZZ_SMOKE_TIME:-25}
all=(text_graph rules exir_json exir_zip torchscript)
(($#)) || set -- "${all[@]}"
dir=${GRAFT_FUZZ_DIR:-$root/.cache/fuzz}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

passed=0
failed=0
if ! tools/fuzz/build.sh "$@"; then
  echo "fuzz-smoke: a target failed to build"
fi
for t in "$@"; do
  bin="$dir/bin/${t}_fuzzer"
  findings="$dir/smoke-findings/$t"
  mkdir -p "$findings" "$scratch/$t"
  if [[ ! -x $bin ]]; then
    echo "fuzz-smoke: $t FAILED (not built)"
    failed=$((failed + 1))
    continue
  fi
  dict=()
  [[ -f tools/fuzz/dicts/$t.dict ]] && dict=(-dict="tools/fuzz/dicts/$t.dict")
  opts=(-timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=2048 -artifact_prefix="$findings/")
  log="$scratch/$t.log"
  # -runs=0: execute every seed once, then stop.
  if ! "$bin" "${opts[@]}" -runs=0 "tools/fuzz/seeds/$t" >"$log" 2>&1; then
    echo "fuzz-smoke: $t FAILED replaying its seeds (finding in $findings/):"
    grep -E 'what\(\):|^SUMMARY:|invariant broken|ERROR:' "$log" | head -3 | sed 's/^/  /'
    failed=$((failed + 1))
    continue
  fi
  if ! "$bin" "${opts[@]}" "${dict[@]}" -max_total_time="$secs" -print_final_stats=1 \
      "$scratch/$t" "tools/fuzz/seeds/$t" >"$log" 2>&1; then
    echo "fuzz-smoke: $t FAILED fuzzing (finding in $findings/):"
    grep -E 'what\(\):|^SUMMARY:|invariant broken|ERROR:' "$log" | head -3 | sed 's/^/  /'
    failed=$((failed + 1))
    continue
  fi
  execs=$(grep -m1 -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}')
  cov=$(grep -E 'DONE +cov: ' "$log" | tail -1 | sed -E 's/.* cov: ([0-9]+).*/\1/')
  echo "fuzz-smoke: $t ok (${execs:-?} executions in $secs s, cov ${cov:-?})"
  passed=$((passed + 1))
done
echo "fuzz-smoke: $passed passed, $failed failed"
((failed == 0))
