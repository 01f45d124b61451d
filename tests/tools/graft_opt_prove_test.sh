#!/usr/bin/env bash
# graft-opt --prove as a user runs it: the catalogue is proven, wrong rules
# get counterexamples, rules that cannot be checked are unprovable (never
# passed), the output's form, determinism, and exit statuses.
set -uo pipefail
opt=tools/graft_opt/graft-opt
dir=tests/tools/prove
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# Every rule of the catalogue is proven, each on 20 instances.
"$opt" --prove patterns >"$tmp/catalogue" 2>&1; rc=$?
cat "$tmp/catalogue"
rules=$(cat patterns/*.rules | grep -c '^rule ')
check "catalogue: exit 0" test $rc -eq 0
check "catalogue: one proven line per rule ($rules)" \
  test "$(grep -c '): proven on 20 instances (inputs .*; ranks [0-9]' "$tmp/catalogue")" -eq "$rules"
check "catalogue: the summary counts them" \
  grep -qx "prove: $rules rule(s): $rules proven, 0 with a counterexample, 0 unprovable" "$tmp/catalogue"
check "catalogue: f16 and bf16 instances too" grep -q 'view_mm_view_to_linear .*f16 in [1-9].*bf16 in [1-9]' "$tmp/catalogue"
check "catalogue: the quantized rule on int8 or uint8 inputs" grep -qE 'requantize_same_params .*u?i8 in [1-9]' "$tmp/catalogue"

# Without rule files, the built-in catalogue.
"$opt" --prove --only relu_of_relu >"$tmp/builtin" 2>&1; rc=$?
check "no rule files: the built-in catalogue" \
  bash -c "test $rc -eq 0 && grep -q '^relu_of_relu (patterns/activations.rules:[0-9]*:1): proven' '$tmp/builtin'"

# Each deliberately wrong rule yields a counterexample: the instance as
# graft text, its inputs, the worst error with its index and values.
"$opt" --prove "$dir/wrong.rules" >"$tmp/wrong" 2>&1; rc=$?
cat "$tmp/wrong"
check "wrong rules: exit 1" test $rc -eq 1
for r in swapped_sub missing_transpose bias_on_wrong_axis permute_rank_only mul_one_for_any_types; do
  check "wrong rules: $r has a counterexample" grep -q "^$r ($dir/wrong.rules:[0-9]*:1): counterexample: instance" "$tmp/wrong"
done
check "wrong rules: the worst error, where, and both values" \
  grep -qE '^  worst error [0-9.e+-]+ at output 0 \[[0-9, ]+\]: after -?[0-9.e+-]+, before -?[0-9.e+-]+ \(allowed' "$tmp/wrong"
check "wrong rules: the inputs' shapes and kinds" grep -qE '^  inputs: %x: (f32|f16|bf16)\[[0-9]+, [0-9]+\] \(input\), %W' "$tmp/wrong"
check "wrong rules: the graphs before and after in text form" \
  bash -c "grep -q '^  before:' '$tmp/wrong' && grep -q '^  after:' '$tmp/wrong' && grep -q 'aten::linear.default' '$tmp/wrong'"
check "wrong rules: a claim for any types is run, not saved by the type check" \
  grep -qE '^  output 0: after gives i(64|8)\[[0-9, ]+\], before f32\[' "$tmp/wrong"
check "wrong rules: the summary" grep -qx 'prove: 5 rule(s): 0 proven, 5 with a counterexample, 0 unprovable' "$tmp/wrong"

# Same seed, same output; --only selects.
"$opt" --prove "$dir/wrong.rules" >"$tmp/wrong2" 2>&1
check "deterministic for a seed" cmp -s "$tmp/wrong" "$tmp/wrong2"
"$opt" --prove "$dir/wrong.rules" --only swapped_sub --seed 7 >"$tmp/one" 2>&1; rc=$?
check "--only: one rule, exit 1" bash -c "test $rc -eq 1 && test \$(grep -c counterexample: '$tmp/one') -eq 1"

# Rules that cannot be checked are unprovable, with the reason; exit 1
# unless --allow-unprovable.
"$opt" --prove "$dir/unprovable.rules" --prove-tries 300 >"$tmp/unprovable" 2>&1; rc=$?
cat "$tmp/unprovable"
check "unprovable: exit 1" test $rc -eq 1
check "unprovable: an op without a shape function" \
  grep -q '^no_shape_function (.*): unprovable: graft has no shape function for aten::cumsum.default$' "$tmp/unprovable"
check "unprovable: an op libtorch has no kernel for" \
  grep -q '^no_kernel (.*): unprovable: libtorch cannot run the graph before at f32 (20 instances, none ran; first: libtorch has no operator dim_order_ops::_clone_dim_order.default' "$tmp/unprovable"
check "unprovable: constraints no instance meets, within the tries" \
  grep -q "^unsatisfiable (.*): unprovable: only 0 of 20 instances in 300 tries (--prove-tries); most tries failed as: constraint fails (300x, first: constraint 'rank(x) == 9' fails)" "$tmp/unprovable"
"$opt" --prove "$dir/unprovable.rules" --prove-tries 300 --allow-unprovable >/dev/null 2>&1; rc=$?
check "--allow-unprovable: exit 0" test $rc -eq 0

# A rule file that does not load: its error at file:line:col, exit 1.
printf 'rule bad:\n  relu(x) -> frobnicate(x)\n' >"$tmp/bad.rules"
"$opt" --prove "$tmp/bad.rules" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "bad rules: exit 1 with file:line:col" bash -c "test $rc -eq 1 && grep -q 'bad.rules:2:' '$tmp/err'"
"$opt" --prove "$tmp/missing.rules" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "missing file: exit 1" bash -c "test $rc -eq 1 && grep -q 'missing.rules' '$tmp/err'"

# Usage errors: exit 2.
"$opt" --prove "$dir/wrong.rules" --prove-instances 0 >/dev/null 2>"$tmp/err"; rc=$?
check "--prove-instances 0: usage error" bash -c "test $rc -eq 2 && grep -q 'takes a positive integer' '$tmp/err'"
"$opt" --prove "$dir/wrong.rules" --only no_such_rule >/dev/null 2>"$tmp/err"; rc=$?
check "--only an unknown rule: usage error" bash -c "test $rc -eq 2 && grep -q \"no rule named 'no_such_rule'\" '$tmp/err'"
"$opt" --prove "$dir/wrong.rules" -o "$tmp/x.graft" >/dev/null 2>"$tmp/err"; rc=$?
check "--prove with -o: usage error" bash -c "test $rc -eq 2 && grep -q 'writes no graph' '$tmp/err' && test ! -e '$tmp/x.graft'"
check "--help documents --prove" bash -c "'$opt' --help | grep -q -- '--prove-instances N'"

echo "$fails failure(s)"
test "$fails" -eq 0
