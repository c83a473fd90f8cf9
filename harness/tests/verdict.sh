#!/bin/bash
# harness/verdict.sh on made-up console logs: it must count KUnit and
# init's KTAP with kunit.py parse, and fail a log with a kernel report
# (even when every test passed), a log that never reached "init: done",
# a run that failed without a "not ok" line, and a log without results.
. "$(dirname "$0")/../lib.sh"

scratch_dir

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

# expect NAME "P F S" STATUS: verdict.sh on $tmp/NAME.log.
expect() {
	local out rc=0
	out=$("$HARNESS/verdict.sh" "$1" "$tmp/$1.log" 2>"$tmp/$1.err") || rc=$?
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$tmp/$1.err" >&2
	[ "$(printf '%s\n' "$out" | sed -n 's/^verdict //p')" = "$2" ] ||
		fail "$1: want 'verdict $2', got: $out $(cat "$tmp/$1.err")"
	[ "$rc" = "$3" ] || fail "$1: exit status $rc, want $3"
}

{ good; echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/good.log"
expect good "4 0 3" 0

{ good; echo "[   12.000000] WARNING: CPU: 1 PID: 57 at mm/memory.c:1 zap_pte_range+0x1/0x2";
  echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/warning.log"
expect warning "4 1 3" 1

{ good; echo "BUG: KASAN: slab-use-after-free in pte_offset_map_lock";
  echo "init: done: 3 runs, 0 failed, last status 4"; } > "$tmp/kasan.log"
expect kasan "4 1 3" 1

good > "$tmp/hang.log"
expect hang "4 1 3" 1

{ good; echo "init: done: 3 runs, 1 failed, last status 1"; } > "$tmp/status.log"
expect status "4 1 3" 1

printf 'init: start\nKTAP version 1\n1..1\ninit: done: 0 runs, 0 failed, last status 0\n' > "$tmp/empty.log"
expect empty "0 2 0" 1
echo "$me: counts, kernel reports, hangs and silent failures judged right"
