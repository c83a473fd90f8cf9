#!/bin/bash
# harness/lib-results.sh's checker_start ... checker_end and ktap_start, ktap_add,
# ktap_write, with which every host-side checker writes the KTAP that
# make check counts: the kernel's parser (ktap_count) must count a
# made-up checker's passed, failed and skipped checks as they were made
# (one made in a subshell, one whose text holds a '#', which KTAP would
# read as a directive, one with a tab, one of two lines); checker_end must print
# "NAME: N problems" last and be false on a failure, true without; a
# checker that dies before its end must leave no document. A few
# seconds (the parser's start).
. "$(dirname "$0")/../lib.sh"

scratch_dir
export KTAP_DIR=$tmp/ktap

# A checker with 2 passed checks (one in a subshell), 1 failed (in a
# pipeline), 1 skipped and one of two lines: 3 passed in all.
rc=0
(
	checker_start made-up
	checker_ok "first # SKIP, a hash in the text"
	(checker_ok "in a subshell")
	checker_fail "failed in a pipeline" | cat
	checker_skip "not$(printf '\t')here, a tab in the text"
	checker_ok "two
lines"
	checker_end
) > "$tmp/out" || rc=$?
[ "$rc" = 1 ] || fail "checker_end with a failed check: status $rc, want 1"
[ "$(tail -n 1 "$tmp/out")" = "made-up: 1 problems" ] ||
	fail "checker_end's last line: '$(tail -n 1 "$tmp/out")', want 'made-up: 1 problems'"
grep -qx 'made-up: FAIL: failed in a pipeline' "$tmp/out" ||
	fail "checker_fail printed no 'made-up: FAIL: ...' line: $(cat "$tmp/out")"
[ -f "$KTAP_DIR/made-up.ktap" ] || fail "no $KTAP_DIR/made-up.ktap"
[ ! -e "$KTAP_DIR/made-up.ktap.part" ] || fail "ktap_write left made-up.ktap.part behind"
got=$(ktap_count "$KTAP_DIR/made-up.ktap" 2>/dev/null) ||
	fail "kunit.py parse found no results in: $(cat "$KTAP_DIR/made-up.ktap")"
[ "$got" = "3 1 1" ] ||
	fail "kunit.py parse counts '$got' (passed failed skipped), want '3 1 1', of: $(cat "$KTAP_DIR/made-up.ktap")"

# All passed: true, and counted so.
(
	checker_start all-good
	checker_ok "one"
	checker_end
) > "$tmp/out" || fail "checker_end with no failed check: false"
[ "$(ktap_count "$KTAP_DIR/all-good.ktap" 2>/dev/null)" = "1 0 0" ] ||
	fail "all-good.ktap: not 1 passed: $(cat "$KTAP_DIR/all-good.ktap")"

# A checker that dies before checker_end leaves no document, not even
# one of an earlier run.
cp "$KTAP_DIR/all-good.ktap" "$KTAP_DIR/dies.ktap"
(
	checker_start dies
	checker_ok "one"
	exit 3
) > /dev/null || true
[ ! -e "$KTAP_DIR/dies.ktap" ] || fail "a checker that died left $KTAP_DIR/dies.ktap"

# ktap_add refuses a result it does not know.
(ktap_start bad; ktap_add maybe "x") > /dev/null 2>&1 &&
	fail "ktap_add maybe: accepted"
echo "$me: checker results as KTAP, counted by the kernel's parser as made"
