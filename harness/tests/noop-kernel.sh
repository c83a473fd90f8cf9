#!/bin/bash
# The feature's functional selftest (tools/testing/selftests/mm/pt_reclaim)
# on a kernel that accepts MADV_PT_RECLAIM and frees nothing: the x86_64
# test kernel, with harness/tests/no-pt-reclaim --succeed around the test
# (madvise() and process_madvise() with the advice answer 0 and do
# nothing). A case that passes there asserts nothing of what the advice
# does. Every case must fail, but those harness/selftests/noop-passes.txt
# lists with the outcome they must have instead and why (they check what
# is kept, or what MADV_DONTNEED's own reclaim does). On the unpatched
# kernel, which answers the advice with EINVAL, the test fails at its
# first call with PT_RECLAIM_REQUIRED=1 (see init.c) and skips without:
# that proves less than this. About 30 s.
. "$(dirname "$0")/../lib.sh"

load_arch x86_64
[ -f "$KBUILD/$KERNEL_IMAGE" ] || die "x86_64 kernel not built; run 'make build'"
test_bin=$BUILD/x86_64/selftests/pt_reclaim
[ -f "$test_bin" ] || die "$test_bin not built; run 'make selftests'"
list=$HARNESS/selftests/noop-passes.txt
[ -f "$list" ] || die "$list not found"
scratch_dir
gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/no-pt-reclaim" \
	"$HARNESS/tests/no-pt-reclaim.c" || fail "harness/tests/no-pt-reclaim.c does not build"

rc=0
FILES="/t/pt_reclaim=$test_bin" RUN_TIMEOUT=900 \
	"$HARNESS/run.sh" x86_64 "$tmp/no-pt-reclaim" --succeed /t/pt_reclaim \
	> "$tmp/out" 2>&1 || rc=$?
[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$tmp/out" >&2
grep -q 'the kernel reported a problem' "$tmp/out" &&
	fail "the kernel reported a problem (console: $BUILD/x86_64/run/console.log)"
grep -q '^# Totals: ' "$tmp/out" ||
	fail "pt_reclaim did not finish (status $rc; console: $BUILD/x86_64/run/console.log)"

# The outcome of each case: pass, fail or skip.
awk '
/^ok [0-9]+ [^ ]+ # SKIP/ { print $3, "skip"; next }
/^ok [0-9]+ /             { print $3, "pass"; next }
/^not ok [0-9]+ /         { print $4, "fail" }
' "$tmp/out" > "$tmp/results"
[ -s "$tmp/results" ] || fail "no case results in the output"

bad=0 n=0 listed=0
while read -r name got; do
	n=$((n + 1))
	want=$(awk -v n="$name" '$1 == n { print $2 }' "$list")
	if [ -n "$want" ]; then
		listed=$((listed + 1))
	else
		want=fail
	fi
	if [ "$got" != "$want" ]; then
		echo "$me: $name: $got on a kernel that frees nothing; want $want ($list)" >&2
		bad=1
	fi
done < "$tmp/results"
# A listed case that did not run is a stale line.
while read -r name _; do
	case $name in '#'*|'') continue ;; esac
	grep -q "^$name " "$tmp/results" || { echo "$me: $list: $name did not run" >&2; bad=1; }
done < "$list"
[ "$bad" = 0 ] || fail "pt_reclaim on a kernel that frees nothing: see above"
echo "$me: $n cases: $((n - listed)) failed on a kernel that frees nothing, as they must; $listed as $list says"
