#!/bin/bash
# harness/skips.sh on made-up consoles of the x86_64 kernel (its .config
# from the build make check did before): a skip that
# harness/selftests/feature-skips.txt allows passes; one it does not
# allow, one whose condition does not hold here, a skipped feature run,
# a skipped feature KUnit case, and a base selftest skipping more than on
# the unpatched kernel each fail.
. "$(dirname "$0")/../lib.sh"

load_arch x86_64
[ -f "$KBUILD/.config" ] || die "no $KBUILD/.config: build the x86_64 kernel first (make build)"
scratch_dir

console() {
	cat <<LOG
KTAP version 1
1..1
    KTAP version 1
    # Subtest: pt_reclaim
    1..2
    ok 1 pt_reclaim_empty_table_freed
    ${1:-ok 2 pt_reclaim_notifier_flush_per_batch}
ok 1 pt_reclaim
init: start
KTAP version 1
1..3
    TAP version 13
    # Subtest: pt_reclaim
    1..2
    ok 1 reclaim.fault_injection_slab # SKIP no failslab
    ${2:-ok 2 reclaim.reclaim_frees}
ok 1 pt_reclaim
    TAP version 13
    # Subtest: madv_populate
    1..2
    ok 1 a
    ${3:-ok 2 b}
ok 2 madv_populate
${4:-ok 3 pt_reclaim_fuzz}
init: done: 3 runs, 0 failed, last status 0
LOG
}

# expect NAME STATUS: harness/skips.sh on $tmp/NAME.log exits STATUS.
expect() {
	local rc=0
	"$HARNESS/skips.sh" x86_64 "$tmp/$1.log" > "$tmp/$1.out" 2>&1 || rc=$?
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$tmp/$1.out" >&2
	[ "$rc" = "$2" ] || fail "$1: exit status $rc, want $2: $(cat "$tmp/$1.out")"
}

console > "$tmp/allowed.log"
expect allowed 0
console "" "ok 2 reclaim.reclaim_frees # SKIP no reason" > "$tmp/unlisted.log"
expect unlisted 1
console "" "ok 2 reclaim.hugetlb_untouched # SKIP not s390" > "$tmp/elsewhere.log"
expect elsewhere 1
console "ok 2 pt_reclaim_notifier_flush_per_batch # SKIP s390 only" > "$tmp/kunit.log"
expect kunit 1
console "" "" "" "ok 3 pt_reclaim_fuzz # SKIP setup" > "$tmp/run.log"
expect run 1
console "" "" "ok 2 b # SKIP lost" > "$tmp/base.log"
expect base 1
# Every run of the feature's lists is one of the feature's runs (else its
# skips would pass unchecked, and baseline.sh would judge it as a base run).
for l in $FEATURE_LISTS; do
	f=$HARNESS/selftests/$l.tests
	[ -f "$f" ] || fail "FEATURE_LISTS (lib.sh) names $l, but there is no $f"
	for r in $(sed 's/^\[[^]]*\] //' "$f" | awk '$1 == "run" { print $2 }'); do
		[[ $r =~ $FEATURE_RUNS ]] ||
			fail "$f runs $r, which FEATURE_RUNS (lib.sh) does not match"
	done
done
# Every list is run by some conf (harness/arch/*.conf TEST_LISTS): a list
# no conf names is a test nobody runs.
for f in "$HARNESS"/selftests/*.tests; do
	l=$(basename "$f" .tests)
	grep -qE "^TEST_LISTS=\"([^\"]* )?$l( [^\"]*)?\"" "$HARNESS"/arch/*.conf ||
		fail "no harness/arch/*.conf runs harness/selftests/$l.tests (TEST_LISTS)"
done
echo "$me: allowed feature skips pass; unlisted, off-condition, KUnit, run and base selftest skips fail; every run of FEATURE_LISTS matches FEATURE_RUNS; every list is run by a conf"
