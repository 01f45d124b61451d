#!/usr/bin/env bash
# graft-opt as a user runs it: rewriting, flags, errors and exit codes, and
# the guarantee that a failed run leaves no output file behind.
set -uo pipefail
opt=tools/graft_opt/graft-opt
fixture=tests/fixtures/whisper_logits.graft
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# The whisper logits become one linear of the same type, and stats say so.
out=$("$opt" "$fixture" --stats 2>"$tmp/stats")
check "rewrites the fixture to linear" grep -q 'aten::linear.default(%x, %p_token_embedding_weight) : f32\[1, 128, 51864\]' <<<"$out"
check "no mm left" bash -c "! grep -q 'aten::mm' <<<'$out'"
check "stats name the rule" grep -qE '^view_mm_view_to_linear +1 +1 +1 +0' "$tmp/stats"
check "stats report convergence" grep -q '^converged after' "$tmp/stats"

# --stats=json: the same figures as one line of JSON on standard error.
"$opt" "$fixture" --stats=json >/dev/null 2>"$tmp/stats.json"; rc=$?
check "--stats=json: exit 0" test $rc -eq 0
check "--stats=json: one line of JSON" test "$(wc -l <"$tmp/stats.json")" -eq 1
check "--stats=json: figures per rule, totals, convergence" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
r = {rule["name"]: rule for rule in s["rules"]}["view_mm_view_to_linear"]
assert (r["tried"], r["matched"], r["applied"], r["refused"]) == (1, 1, 1, 0), r
assert r["refusals"] == {} and r["time_ns"] > 0, r
t = s["totals"]
assert t["applied"] == sum(x["applied"] for x in s["rules"]) == s["rewrites"] >= 1, s
assert t["tried"] == sum(x["tried"] for x in s["rules"]), s
assert s["converged"] is True and s["stopped_by"] is None and s["stop_reason"] is None, s
assert s["iterations"] >= 1 and s["still_firing"] == [], s
' "$tmp/stats.json"
printf 'rule relu_rank3:\n  relu(x) -> gelu(x)\n  where rank(x) == 3\n' >"$tmp/rank3.rules"
printf 'graph @g(%%x: f32[4]) {\n  %%y = aten::relu.default(%%x)\n  return %%y\n}\n' >"$tmp/one_relu.graft"
"$opt" "$tmp/one_relu.graft" --rules "$tmp/rank3.rules" --stats=json >/dev/null 2>"$tmp/refused.json"
check "--stats=json: refusals with their reasons" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
[r] = s["rules"]
assert (r["name"], r["matched"], r["applied"], r["refused"]) == ("relu_rank3", 1, 0, 1), r
assert r["refusals"] == {"constraint '"'rank(x) == 3'"' fails": 1}, r
assert s["totals"]["refused"] == 1 and s["rewrites"] == 0, s
' "$tmp/refused.json"
"$opt" "$fixture" --stats=xml >/dev/null 2>"$tmp/err"; rc=$?
check "--stats=xml: usage error naming the choices" bash -c "test $rc -eq 2 && grep -q -- \"--stats takes text or json, not 'xml'\" '$tmp/err'"

# -o writes a file that parses back and verifies (--check).
"$opt" "$fixture" -o "$tmp/out.graft"
check "-o writes the result" grep -q 'aten::linear.default' "$tmp/out.graft"
check "--check accepts the result" "$opt" "$tmp/out.graft" --check

# --only / --disable select rules; unknown names are usage errors.
out=$("$opt" "$fixture" --disable view_mm_view_to_linear)
check "--disable falls back to the 2-D rule" grep -q 'aten::linear.default(%view, %p_token_embedding_weight)' <<<"$out"
out=$("$opt" "$fixture" --only identity_view)
check "--only leaves the mm" grep -q 'aten::mm.default' <<<"$out"
"$opt" "$fixture" --only no_such_rule >/dev/null 2>"$tmp/err"; rc=$?
check "unknown rule: exit 2" test $rc -eq 2
check "unknown rule: message" grep -q "no rule named 'no_such_rule'" "$tmp/err"

# --explain says where the pattern failed.
"$opt" "$fixture" --only mm_transposed_weight_to_linear --explain view_mm_view_to_linear >/dev/null 2>"$tmp/explain"
check "--explain names the failure" grep -q '%logits = aten::view_copy.default: operand 0: expected mm, got linear' "$tmp/explain"

# --dot marks rewritten nodes.
"$opt" "$fixture" --dot "$tmp/g.dot" >/dev/null
check "--dot highlights new nodes" grep -q 'aten::linear.default.*fillcolor=orange' "$tmp/g.dot"

# Bad input: clear message with location, exit 1, no output file.
printf 'graph @g(%%x: f32[2, 3]) {\n  %%y = aten::mm.default(%%x, %%x)\n  return %%y\n}\n' >"$tmp/bad.graft"
"$opt" "$tmp/bad.graft" -o "$tmp/bad_out.graft" 2>"$tmp/err"; rc=$?
check "malformed graph: exit 1" test $rc -eq 1
check "malformed graph: located message" grep -q 'bad.graft:2:8: mm: operand shapes f32\[2, 3\] and f32\[2, 3\] do not chain' "$tmp/err"
check "malformed graph: no output file" test ! -e "$tmp/bad_out.graft"
check "no temporary file left" bash -c "! ls -A '$tmp' | grep -q '^\.bad_out'"

printf 'rule r:\n  mm(x, y) -> nope(x)\n' >"$tmp/bad.rules"
"$opt" "$fixture" --rules "$tmp/bad.rules" -o "$tmp/never.graft" 2>"$tmp/err"; rc=$?
check "malformed rules: exit 1" test $rc -eq 1
check "malformed rules: located message" grep -q "bad.rules:2:15: unknown op 'nope'" "$tmp/err"
check "malformed rules: no output file" test ! -e "$tmp/never.graft"

"$opt" "$tmp/missing.graft" 2>"$tmp/err"; rc=$?
check "missing input: exit 1" test $rc -eq 1
check "missing input: message" grep -q 'missing.graft: cannot open file' "$tmp/err"
"$opt" --frobnicate "$fixture" 2>"$tmp/err"; rc=$?
check "unknown flag: exit 2" test $rc -eq 2
check "unknown flag: message" grep -qx 'graft-opt: unknown flag --frobnicate; see --help' "$tmp/err"
"$opt" "$fixture" --dot 2>"$tmp/err"; rc=$?
check "flag without its value: exit 2 and a message" bash -c "test $rc -eq 2 && grep -q -- '--dot needs a value' '$tmp/err'"
"$opt" --help >"$tmp/help"
check "--help documents every flag" bash -c "for f in --output --rules --only --disable --stats --explain --verify-each --dot --check --print-before --list-rules --max-iterations --max-rewrites --max-growth --max-work --max-input-bytes --from --input-types --to --help; do grep -q -- \"\$f\" '$tmp/help' || exit 1; done"
check "--help documents the exit statuses" grep -q '^  3  an input past one of graft.s limits' "$tmp/help"

# -o replaces only regular files: a symbolic link stays a link (its target
# is written), a FIFO is written through, an existing file keeps its mode.
printf 'old\n' >"$tmp/target.graft"; chmod 640 "$tmp/target.graft"
ln -s target.graft "$tmp/link.graft"
"$opt" "$fixture" -o "$tmp/link.graft"
check "-o through a symlink keeps the link" test -L "$tmp/link.graft"
check "-o through a symlink writes its target" grep -q 'aten::linear.default' "$tmp/target.graft"
check "-o keeps the replaced file's mode" test "$(stat -c %a "$tmp/target.graft")" = 640
mkfifo "$tmp/pipe.graft"
cat "$tmp/pipe.graft" >"$tmp/from_pipe" &
"$opt" "$fixture" -o "$tmp/pipe.graft"; wait
check "-o into a FIFO writes through it" grep -q 'aten::linear.default' "$tmp/from_pipe"
check "-o into a FIFO leaves the FIFO" test -p "$tmp/pipe.graft"
mkdir "$tmp/outdir"
"$opt" "$fixture" -o "$tmp/outdir" 2>"$tmp/err"; rc=$?
check "-o a directory: exit 1 and a message" bash -c "test $rc -eq 1 && grep -q 'outdir: is a directory' '$tmp/err'"

# A rule that grows the graph forever is stopped by a cap the warning names.
printf 'rule grow:\n  relu(x) -> relu(relu(x))\n' >"$tmp/grow.rules"
"$opt" "$tmp/one_relu.graft" --rules "$tmp/grow.rules" --max-rewrites 100000 --max-growth 0 -o "$tmp/grown.graft" 2>"$tmp/err"; rc=$?
check "--max-growth stops a growing rule" grep -q 'did not converge (stopped by max_growth: the graph grew' "$tmp/err"
check "--max-growth: the graph is still written" bash -c "test $rc -eq 0 && grep -q 'aten::relu.default' '$tmp/grown.graft'"
"$opt" "$tmp/one_relu.graft" --rules "$tmp/grow.rules" --max-rewrites 100000 --max-growth 0 --stats=json -o "$tmp/grown.graft" 2>"$tmp/err"
check "--stats=json: the cap that stopped the driver" python3 -c '
import json, sys
s = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("{")))
assert s["converged"] is False and s["stopped_by"] == "max_growth", s
assert s["stop_reason"].startswith("max_growth: the graph grew") and s["still_firing"] == ["grow"], s
' "$tmp/err"
"$opt" "$tmp/one_relu.graft" --max-work x 2>"$tmp/err"; rc=$?
check "--max-work x: usage error" bash -c "test $rc -eq 2 && grep -q -- \"--max-work takes a non-negative integer, or -1 for no cap, not 'x'\" '$tmp/err'"

# A user's own rule file, from standard input.
printf 'rule relu_to_gelu:\n  relu(x) -> gelu(x)\n' >"$tmp/mine.rules"
out=$(printf 'graph @g(%%x: f32[4]) {\n  %%y = aten::relu.default(%%x)\n  return %%y\n}\n' | "$opt" - --rules "$tmp/mine.rules")
check "stdin + custom rules" grep -q 'aten::gelu.default(%x) : f32\[4\]' <<<"$out"

# Inputs are bounded regular files (docs/robustness.md): a device, a FIFO
# or an include of a device is refused before a byte is read (/dev/zero
# used to be read forever), as is an input larger than --max-input-bytes
# (default kMaxInputFileBytes); standard input, maybe a pipe, is read up to
# the same cap. An input past a limit exits 3, not 1.
timeout 60 "$opt" /dev/zero 2>"$tmp/err"; rc=$?
check "device input: exit 1" test $rc -eq 1
check "device input: message" grep -q '^graft-opt: /dev/zero: not a regular file (a character device)' "$tmp/err"
mkfifo "$tmp/in.graft"
timeout 60 "$opt" "$tmp/in.graft" 2>"$tmp/err"; rc=$?
check "FIFO input: exit 1, no wait for a writer" test $rc -eq 1
check "FIFO input: message" grep -q 'in.graft: not a regular file (a FIFO)' "$tmp/err"
printf 'include "/dev/zero"\n' >"$tmp/zero.rules"
timeout 60 "$opt" "$fixture" --rules "$tmp/zero.rules" 2>"$tmp/err"; rc=$?
check "include of a device: exit 1" test $rc -eq 1
check "include of a device: message" grep -q 'zero.rules:1:1: in include "/dev/zero": /dev/zero: not a regular file' "$tmp/err"
# A limit keeps its exit status through the include that reached it.
python3 -c 'print("rule deep:\n  " + "relu(" * 300 + "x" + ")" * 300 + " -> x")' >"$tmp/deep.rules"
printf 'include "deep.rules"\n' >"$tmp/includes_deep.rules"
"$opt" "$fixture" --rules "$tmp/includes_deep.rules" 2>"$tmp/err"; rc=$?
check "a limit in an included file: exit 3" test $rc -eq 3
check "a limit in an included file: message" grep -q 'includes_deep.rules:1:1: in include "deep.rules": .*deep.rules:2:.*nested deeper than kMaxRuleNestingDepth' "$tmp/err"
size=$(stat -L -c %s "$fixture")  # -L: runfiles are symlinks
"$opt" "$fixture" --max-input-bytes $((size - 1)) 2>"$tmp/err"; rc=$?
check "input over --max-input-bytes: exit 3" test $rc -eq 3
check "input over --max-input-bytes: message" grep -qF "whisper_logits.graft: $size bytes, larger than --max-input-bytes ($((size - 1)) bytes)" "$tmp/err"
check "input over --max-input-bytes: hint" grep -q 'docs/robustness.md lists them' "$tmp/err"
check "input of exactly --max-input-bytes reads" "$opt" "$fixture" --max-input-bytes "$size" --check
head -c 100000 /dev/zero | "$opt" - --max-input-bytes 1000 2>"$tmp/err"; rc=${PIPESTATUS[1]}
check "stdin over --max-input-bytes: exit 3" test "$rc" -eq 3
check "stdin over --max-input-bytes: message" grep -qF '<stdin>: larger than --max-input-bytes (1000 bytes)' "$tmp/err"
yes | timeout 60 "$opt" - --max-input-bytes 1000000 2>"$tmp/err"; rc=${PIPESTATUS[1]}
check "an endless pipe stops at the cap" test "$rc" -eq 3
"$opt" "$fixture" --max-input-bytes lots 2>/dev/null; rc=$?
check "--max-input-bytes takes a number" test $rc -eq 2

# Hostile exir JSON: a located error, not an abort (nlohmann's out_of_range)
# or a stack overflow.
printf '{"a": 1e400}' >"$tmp/huge.json"
"$opt" "$tmp/huge.json" 2>"$tmp/err"; rc=$?
check "1e400 in exir JSON: exit 1" test $rc -eq 1
check "1e400 in exir JSON: located message" grep -q 'huge.json:1:7: number 1e400 is outside the range of a double' "$tmp/err"
head -c 1000000 /dev/zero | tr '\0' '[' >"$tmp/deep.json"
"$opt" "$tmp/deep.json" 2>"$tmp/err"; rc=$?
check "deep exir JSON: exit 3" test $rc -eq 3
check "deep exir JSON: message names the limit" grep -q 'deep.json:1:513: JSON nested deeper than kMaxJsonNestingDepth (512' "$tmp/err"

total=$(grep -c '^check "' "$0")
echo "$((total - fails)) passed, $fails failed"
exit $((fails > 0))
