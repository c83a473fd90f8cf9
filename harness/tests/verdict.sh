#!/bin/bash
# harness/verdict.sh on made-up console logs: it must count KUnit and
# init's KTAP with kunit.py parse, and fail a log with a kernel report
# (even when every test passed), a log that never reached "init: done",
# a run that failed without a "not ok" line, and a log without results.
# Its own checks of the console are KTAP results as well: the counts
# below hold the parser's count of the logs' results plus one a check
# (the guest finished; no kernel report; each required suite, each
# CONSOLE_MUST line and each kind of KCSAN report).
. "$(dirname "$0")/../lib.sh"

scratch_dir
# What load_arch exports in make check is not these made-up logs' kernel;
# their frames are matched by function name (no vmlinux resolves them).
unset VMLINUX CONSOLE_MUST
export VERDICT_KCSAN_NAMES=1

good() {
	cat <<'LOG'
[    0.500000] KTAP version 1
[    0.500001] 1..1
[    0.500002]     KTAP version 1
[    0.500003]     # Subtest: demo_suite
[    0.500004]     1..2
[    0.500005]     ok 1 case_a
[    0.500006]     ok 2 case_b # SKIP no reason
[    0.500007] ok 1 demo_suite
init: start
KTAP version 1
1..3
    TAP version 13
    # Subtest: prog
    1..3
    ok 1 one
    not ok 2 two # SKIP not here
    ok 3 three
ok 1 prog
# plain: some output
ok 2 plain
ok 3 skipped # SKIP needs a shell
LOG
}

# expect NAME "P F S" STATUS [SUITE..]: verdict.sh on $tmp/NAME.log,
# requiring the KUnit SUITEs.
expect() {
	local out rc=0 name=$1 want=$2 status=$3
	shift 3
	out=$("$HARNESS/verdict.sh" "$name" "$tmp/$name.log" "$@" 2>"$tmp/$name.err") || rc=$?
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$tmp/$name.err" >&2
	[ "$(printf '%s\n' "$out" | sed -n 's/^verdict //p')" = "$want" ] ||
		fail "$name: want 'verdict $want', got: $out $(cat "$tmp/$name.err")"
	[ "$rc" = "$status" ] || fail "$name: exit status $rc, want $status"
}

{ good; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/good.log"
expect good "6 0 3" 0

{ good; echo "[   12.000000] WARNING: CPU: 1 PID: 57 at mm/memory.c:1 zap_pte_range+0x1/0x2";
  echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/warning.log"
expect warning "5 1 3" 1

{ good; echo "BUG: KASAN: slab-use-after-free in pte_offset_map_lock";
  echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kasan.log"
expect kasan "5 1 3" 1

good > "$tmp/hang.log"
expect hang "5 1 3" 1

{ good; echo "init: done: 3 runs, 1 failed, last status 1"; } > "$tmp/status.log"
expect status "5 1 3" 1

printf 'init: start\nKTAP version 1\n1..1\ninit: done: 0 runs, 0 failed, last status 0\n' > "$tmp/empty.log"
expect empty "2 2 0" 1
# Required KUnit suites: present with a plan passes; absent, or with an
# empty plan, or no KUnit at all fails, once per missing suite.
{ good; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/suite.log"
expect suite "7 0 3" 0 demo_suite
cp "$tmp/suite.log" "$tmp/nosuite.log"
expect nosuite "7 2 3" 1 demo_suite other_suite pgste_suite
sed -e 's/    1\.\.2$/    1..0/' -e '/case_[ab]/d' "$tmp/suite.log" > "$tmp/emptyplan.log"
expect emptyplan "5 3 2" 1 demo_suite
sed -n '/^init: start$/,$p' "$tmp/suite.log" > "$tmp/nokunit.log"
expect nokunit "5 1 2" 1 demo_suite

# Reports that do not start a line: after a test's half-written line,
# after the soft-lockup watchdog's prefix, and the hung-task detector.
for r in 'half a line of outputWARNING: CPU: 1 PID: 57 at mm/memory.c:1 zap_pte_range+0x1/0x2' \
	 '[   40.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [pt_reclaim:57]' \
	 'INFO: task pt_reclaim:57 blocked for more than 61 seconds.' \
	 '    # pt_reclaim: doneOops: 0000 [#1] SMP' \
	 'Oops - illegal instruction [#1]' \
	 'Internal error: Oops - Undefined instruction: 0000000002000000 [#1] SMP'; do
	{ good; echo "$r"; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/glued.log"
	expect glued "6 1 3" 1 demo_suite
done
# The Xen hypervisor's own warnings are not the kernel's.
{ good; echo "(XEN) WARNING: SILO mode is not enabled"; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/xen.log"
expect xen "7 0 3" 0 demo_suite

# KCSAN: a report with a function of the series (harness/series-funcs.sh)
# in a stack fails even when listed; one in base code passes when
# KCSAN_BASE lists its title, fails when it does not.
kcsan() {
	cat <<LOG
[   20.000000] ==================================================================
[   20.000001] BUG: KCSAN: data-race in $1 / $2
[   20.000002]
[   20.000003] write to 0xffff888003c1a000 of 8 bytes by task 70 on cpu 1:
[   20.000004]  $1+0x1a/0x40
[   20.000005]  $3+0x2b/0x90
[   20.000006]
[   20.000007] read to 0xffff888003c1a000 of 8 bytes by task 71 on cpu 0:
[   20.000008]  $2+0x11/0x30
[   20.000009]  do_syscall_64+0x3c/0x80
[   20.000010]
[   20.000011] Reported by Kernel Concurrency Sanitizer on:
[   20.000012] CPU: 0 PID: 71 Comm: pt_reclaim_tort Not tainted 6.12.0 #1
[   20.000013] ==================================================================
LOG
}
printf '%s\n' 'data-race in base_a / base_b -- a made-up base race -- two dashes in the reason' \
	'data-race in base_c / base_d -- listed, but the series is in its stack' > "$tmp/kcsan-base.txt"
export KCSAN_BASE=$tmp/kcsan-base.txt
{ good; kcsan base_a base_b vfs_read; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kcsan-known.log"
expect kcsan-known "8 0 3" 0 demo_suite
{ good; kcsan base_a base_e vfs_read; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kcsan-unknown.log"
expect kcsan-unknown "7 1 3" 1 demo_suite
{ good; kcsan base_c base_d pt_reclaim_range.constprop.0; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kcsan-ours.log"
expect kcsan-ours "7 1 3" 1 demo_suite
# Two kinds, one of them ours: one failure, the known one passes.
{ good; kcsan base_a base_b vfs_read; kcsan base_c zap_pte_range vfs_read; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kcsan-two.log"
expect kcsan-two "8 1 3" 1 demo_suite
# A frame after half a line a test wrote is still a frame.
{ good; kcsan base_a base_b vfs_read | sed 's/^\[   20.000005\]  vfs_read/step 3[   20.000005]  pt_reclaim_zap_unlink/'
  echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kcsan-glued.log"
grep -q 'step 3\[   20.000005\]  pt_reclaim_zap_unlink+' "$tmp/kcsan-glued.log" || fail "kcsan-glued: the made-up log is not what the test means"
expect kcsan-glued "7 1 3" 1 demo_suite
# A kernel whose frames cannot be resolved (VMLINUX missing), or none
# named and no leave to match names: fails.
VMLINUX=$tmp/no-vmlinux expect kcsan-known "7 1 3" 1 demo_suite
VERDICT_KCSAN_NAMES=0 expect kcsan-known "7 1 3" 1 demo_suite
# A general report next to a known KCSAN one is still a failure.
{ good; kcsan base_a base_b vfs_read; echo "BUG: Bad page map in process x"; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kcsan-other.log"
expect kcsan-other "7 1 3" 1 demo_suite
unset KCSAN_BASE

# CONSOLE_MUST: a line the kernel must have printed before init.
sed '1i [    0.100000] kcsan: selftest: 3/3 tests passed' "$tmp/suite.log" > "$tmp/must.log"
CONSOLE_MUST='kcsan: selftest: ([0-9]+)/\1 tests passed' expect must "8 0 3" 0 demo_suite
sed '1i [    0.100000] kcsan: selftest: 2/3 tests passed' "$tmp/suite.log" > "$tmp/mustnot.log"
CONSOLE_MUST='kcsan: selftest: ([0-9]+)/\1 tests passed' expect mustnot "7 1 3" 1 demo_suite
echo "$me: counts, required KUnit suites, kernel reports anywhere in a line, KCSAN's reports, hangs and silent failures judged right"
