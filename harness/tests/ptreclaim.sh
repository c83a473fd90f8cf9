#!/bin/bash
# tools/mm/ptreclaim on a kernel without MADV_PT_RECLAIM: this machine's
# (the guest test, harness/guest/ptreclaim-test.c, has the rest). Every
# way in says so and exits 3, a dry run still lists what it would scan,
# --self does not start the command, and --all makes no pass; a --cgroup
# PATH outside cgroup v2 is a usage error; and the systemd unit of the
# admin guide passes systemd-analyze verify.
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
run 2 --cgroup /proc
grep -q "not a directory of the cgroup v2 hierarchy" "$tmp/out" ||
	fail "ptreclaim --cgroup /proc: no message naming what PATH must be"
run 2 --cgroup "$tmp/nonexistent"
grep -q "No such file or directory" "$tmp/out" ||
	fail "ptreclaim --cgroup NONEXISTENT: no message naming the error"
run 2 --all --cgroup /proc
grep -q "do not go together" "$tmp/out" || fail "ptreclaim --all --cgroup: no message saying they exclude each other"
run 2 --cgroup /proc 1
grep -q "takes no PID" "$tmp/out" || fail "ptreclaim --cgroup PATH PID: no message"
run 2 --cgroup /proc -n
run 2 --cgroup /proc --self -- true
grep -q "goes with neither --self nor --dry-run" "$tmp/out" || fail "ptreclaim --cgroup --self: no message"
run 2 --cgroup /proc --cgroup /proc
grep -q "given twice" "$tmp/out" || fail "ptreclaim --cgroup twice: no message"

# The systemd unit of Documentation/admin-guide/mm/pt_reclaim.rst: the
# literal block after "A systemd unit for it::", checked by systemd's own
# verifier against a root holding the tool and systemd's units (no
# warning either: an unknown key is only a warning), and its command
# line a valid one (exit 3 here, not 2).
need_cmd systemd-analyze systemd
rst=$SRC/Documentation/admin-guide/mm/pt_reclaim.rst
root=$tmp/root
mkdir -p "$root/usr/sbin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp "$tmp/ptreclaim" "$root/usr/sbin/ptreclaim"
cp -a /lib/systemd/system "$root/usr/lib/systemd/"
unit=$root/etc/systemd/system/ptreclaim.service
awk '/A systemd unit for it::$/ { on = 1; next }
	on && /^[^ \t]/ { exit }
	on { sub(/^    /, ""); print }' "$rst" | sed '1{/^$/d}' > "$unit"
grep -q '^\[Service\]' "$unit" || fail "$rst: no systemd unit after 'A systemd unit for it::'"
out=$(systemd-analyze verify --man=no --root="$root" ptreclaim.service 2>&1) ||
	fail "$rst: systemd-analyze verify rejects the unit: $out"
[ -z "$out" ] || fail "$rst: systemd-analyze verify warns about the unit: $out"
exec_start=$(sed -n 's|^ExecStart=/usr/sbin/ptreclaim ||p' "$unit")
[ -n "$exec_start" ] || fail "$rst: the unit's ExecStart is not /usr/sbin/ptreclaim ARGS"
# shellcheck disable=SC2086 # the unit's arguments, a word each
run 3 $exec_start
