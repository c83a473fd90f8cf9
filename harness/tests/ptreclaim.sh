#!/bin/bash
# tools/mm/ptreclaim on a kernel without MADV_PT_RECLAIM: this machine's
# (the guest test, harness/guest/ptreclaim-test.c, has the rest). Every
# way in says so and exits 3, a dry run still lists what it would scan,
# --self does not start the command, and --all makes no pass.
. "$(dirname "$0")/../lib.sh"

scratch_dir
src=$SRC/tools/mm/ptreclaim.c
[ -f "$src" ] || die "$src not found; run 'make base'"
gcc -O2 -Wall -Wextra -Werror -o "$tmp/ptreclaim" "$src" ||
	fail "$src does not build"

# run EXPECTED_STATUS ARGS...: run it, output in $tmp/out.
run() {
	local want=$1 rc=0
	shift
	"$tmp/ptreclaim" "$@" >"$tmp/out" 2>&1 || rc=$?
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$tmp/out" >&2
	[ "$rc" -eq "$want" ] ||
		fail "ptreclaim $*: exit status $rc, want $want (a host kernel that accepts madvise advice 26 cannot run this test): $(cat "$tmp/out")"
}
unsupported="does not support MADV_PT_RECLAIM"

run 3 $$
grep -q "$unsupported" "$tmp/out" || fail "ptreclaim PID: no message naming the missing feature"
run 3 --dry-run $$
grep -q "would scan" "$tmp/out" || fail "ptreclaim --dry-run: no listing"
grep -q "$unsupported" "$tmp/out" || fail "ptreclaim --dry-run: no message naming the missing feature"
run 3 --self -- touch "$tmp/ran"
[ ! -e "$tmp/ran" ] || fail "ptreclaim --self started the command on a kernel without the feature"
run 3 --all -i 1
grep -q "$unsupported" "$tmp/out" || fail "ptreclaim --all: no message naming the missing feature"
! grep -q "^pass " "$tmp/out" || fail "ptreclaim --all: a pass on a kernel without the feature"
# Usage errors come first, feature or not.
run 2 nonsense
