#!/usr/bin/env bash
# Fuzzes graft's targets (tools/fuzz/build.sh builds them), one after the
# other, each for a bounded time, and prints per target the executions,
# coverage (libFuzzer's cov = edges, ft = features) and findings.
#
#   tools/fuzz/run.sh [-t SECONDS] [TARGET...]     (default: every target, 300 s each)
#
# Everything grows under $GRAFT_FUZZ_DIR (default .cache/fuzz, gitignored):
#   corpus/<target>/     the corpus the runs grow (seeded from tools/fuzz/seeds/<target>)
#   findings/<target>/   crash-*, timeout-*, oom-*, leak-* inputs: each is a finding
#   logs/<target>.log    libFuzzer's output
# Fuzzing goes on after a finding (libFuzzer's fork mode, one process:
# -fork=1 -ignore_crashes=1 ...), so one bug does not end the run. Per
# input: -timeout=$GRAFT_FUZZ_TIMEOUT (10 s) and -rss_limit_mb=$GRAFT_FUZZ_RSS
# (2048). Replay a finding: .cache/fuzz/bin/<target>_fuzzer FILE.
# Exits 1 if any target had a finding, 2 on a usage or build error.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
secs=${GRAFT_FUZZ_TIME:-300}
if [[ ${1:-} == -t ]]; then secs=$2; shift 2; fi
all=(text_graph rules exir_json exir_zip torchscript)
(($#)) || set -- "${all[@]}"
dir=${GRAFT_FUZZ_DIR:-$root/.cache/fuzz}
timeout_s=${GRAFT_FUZZ_TIMEOUT:-10}
rss=${GRAFT_FUZZ_RSS:-2048}

# GRAFT_FUZZ_NO_BUILD=1: run the binaries as they are.
[[ -n ${GRAFT_FUZZ_NO_BUILD:-} ]] || tools/fuzz/build.sh "$@" || exit 2

# The first stack frame in graft's code (or the sanitizer's summary) of a
# finding, replayed once.
stack_top() {
  local bin=$1 input=$2 out frame
  out=$(timeout $((timeout_s * 3)) "$bin" -timeout="$timeout_s" -rss_limit_mb="$rss" "$input" 2>&1)
  frame=$(grep -m1 -E '^ +#[0-9]+ 0x[0-9a-f]+ in .*(graft|tools/fuzz)' <<<"$out" |
          sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in //')
  local summary
  # An uncaught exception's what() says more than "deadly signal".
  summary=$(grep -m1 -E 'what\(\):|^SUMMARY:|invariant broken' <<<"$out" | cut -c1-160)
  [[ -z $summary ]] && summary=$(grep -m1 -E 'ERROR: libFuzzer' <<<"$out")
  echo "${summary:-no report on replay} | ${frame:-?}"
}

any=0
report=()
for t in "$@"; do
  bin="$dir/bin/${t}_fuzzer"
  mkdir -p "$dir/corpus/$t" "$dir/findings/$t" "$dir/logs"
  log="$dir/logs/$t.log"
  dict=()
  [[ -f tools/fuzz/dicts/$t.dict ]] && dict=(-dict="tools/fuzz/dicts/$t.dict")
  before=$(ls "$dir/findings/$t" | wc -l)
  echo "fuzz: $t for $secs s (log: $log)"
  start=$SECONDS
  # Fork mode writes its jobs' scratch files to TMPDIR: keep them with ours.
  mkdir -p "$dir/tmp"
  TMPDIR="$dir/tmp" "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$secs" -timeout="$timeout_s" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" \
    -artifact_prefix="$dir/findings/$t/" -print_final_stats=1 "${dict[@]}" \
    "$dir/corpus/$t" "tools/fuzz/seeds/$t" >"$log" 2>&1
  rc=$?
  elapsed=$((SECONDS - start))
  # Fork mode's status lines: "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c time: Ts ..."
  last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1)
  execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$last")
  ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$last")
  corp=$(sed -E 's/.* corp: ([0-9]+).*/\1/' <<<"$last")
  new=$(( $(ls "$dir/findings/$t" | wc -l) - before ))
  line="$t: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, ${elapsed} s, $new finding(s)"
  ((rc != 0 && new == 0)) && line+=" (libFuzzer exited $rc: see $log)"
  echo "fuzz: $line"
  report+=("$line")
  if ((new > 0)); then
    any=1
    for f in $(ls -t "$dir/findings/$t" | head -n "$new"); do
      echo "fuzz:   $dir/findings/$t/$f: $(stack_top "$bin" "$dir/findings/$t/$f")"
    done
  fi
done
echo "fuzz: summary"
for l in "${report[@]}"; do echo "  $l"; done
exit $any
