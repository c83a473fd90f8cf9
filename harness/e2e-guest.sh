# shellcheck shell=bash
# The guest control of harness/e2e.sh, sourced by it after its settings
# ($out, $noop, $results, STABLE_KB, WINDOW, ORDER, KBUILD): one guest
# at a time, booted with the workload, stepped through it, measured from
# the host (QEMU's RSS, virtio-mem's size over QMP) and stopped. The
# scenarios and their verdicts stay in e2e.sh.

# --- one guest at a time: $dir, $log, $qmp, $qpid, $bootpid, fd 3 ---

# start_guest NAME LAYOUT QEMU_OPTIONS KERNEL_ARGS: boot, the workload
# with the page-table LAYOUT (interleaved or upper-first; E2E_LAYOUT
# overrides it).
start_guest() {
	local layout=${E2E_LAYOUT:-$2} args=$noop
	dir=$out/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$layout" = upper-first ] && args="$args --upper-first"
	say "e2e $1: workload: e2e-workload$args"
	echo "run e2e 1200 /t/e2e-workload$args" > "$dir/init.tests"
	"$HARNESS/initramfs.sh" x86_64 "$dir/initramfs.cpio.gz" "$dir/init.tests" \
		"/t/e2e-workload=$prog"
	shift 2
	log=$dir/console.log
	qmp=$dir/qmp.sock
	# The guest's second serial port (ttyS1) reads from the FIFO ctl.in:
	# go_on writes to it.
	mkfifo "$dir/ctl.in" "$dir/ctl.out"
	exec 3<>"$dir/ctl.in" 4<>"$dir/ctl.out"	# never blocks, never EOF
	QEMU_EXTRA="$1 -qmp unix:$qmp,server=on,wait=off -serial mon:stdio -serial pipe:$dir/ctl" \
		EXTRA_CMDLINE=$2 "$HARNESS/boot.sh" x86_64 "$dir/initramfs.cpio.gz" \
		"$log" 1500 > "$dir/progress.log" 2>&1 &
	bootpid=$!
	qpid=
	local p
	for _ in $(seq 1 60); do
		for p in $(pgrep -f -- "unix:$qmp" || true); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ] && qpid=$p
		done
		[ -n "$qpid" ] && [ -S "$qmp" ] && return 0
		sleep 0.5
	done
	guest_failed "QEMU did not start within 30 s"
}

stop_guest() {
	exec 3>&- 4>&-
	if [ -n "${qpid:-}" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
	fi
	wait "$bootpid" 2>/dev/null || true
}

# finish_guest: after the last step, the guest exits by itself (at most
# 60 s); a kernel report on its console (harness/verdict.sh: BUG,
# WARNING, Oops, ...) fails the scenario. Returns 1 then.
finish_guest() {
	for _ in $(seq 1 120); do
		kill -0 "$bootpid" 2>/dev/null || break
		sleep 0.5
	done
	stop_guest
	if kernel_reported x86_64 "$log"; then
		verdict fail "the kernel reported a problem (console: $log)"
		return 1
	fi
	return 0
}

# guest_failed WHY: the scenario fails, with the console's tail.
guest_failed() {
	echo "----- last 30 console lines ($log) -----" >&2
	tail -n 30 "$log" >&2 2>/dev/null || true
	echo "-----" >&2
	stop_guest
	verdict fail "$*"
	return 1
}

# wait_step NAME: until the guest waits after step NAME (at most 600 s:
# the steps take seconds; the boot one under a minute). Sets $step_line.
wait_step() {
	for _ in $(seq 1 1200); do
		step_line=$(grep -a "^e2e: step $1 " "$log" 2>/dev/null | tail -n 1 || true)
		if [ -n "$step_line" ] && grep -aq "^e2e: wait $1\$" "$log"; then
			return 0
		fi
		if grep -aq '^e2e: error:' "$log" 2>/dev/null; then
			guest_failed "the workload failed: $(grep -a '^e2e: error:' "$log" | head -n 1)"
			return 1
		fi
		kill -0 "$bootpid" 2>/dev/null || { guest_failed "the guest ended before step $1"; return 1; }
		sleep 0.5
	done
	guest_failed "no step $1 within 600 s"
}

# guest_kb KEY: KEY=N of the last step line.
guest_kb() {
	printf '%s\n' "$step_line" | sed -n "s/.* $1=\\([0-9-]*\\).*/\\1/p"
}

go_on() {
	echo go >&3
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$qpid/status" 2>/dev/null
}

# settle CMD: run CMD (prints a number) once a second until it moved
# less than STABLE_KB over WINDOW s (at most 120 s); the last value in
# $settled. When CMD prints nothing (QEMU gone), the scenario fails.
# Free page reporting works every 2 s, virtio-mem in steps: 5 s of rest
# means it is done.
settle() {
	local v d hist=()
	for _ in $(seq 1 120); do
		v=$("$1")
		if [ -z "$v" ]; then
			guest_failed "$1: no value (QEMU gone?)"
			return 1
		fi
		hist+=("$v")
		echo "$(date +%s.%N | cut -c1-14) $1 $v" >> "$dir/samples.log"
		settled=$v
		if [ ${#hist[@]} -gt "$WINDOW" ]; then
			d=$((v - hist[${#hist[@]} - WINDOW - 1]))
			[ "${d#-}" -lt "$STABLE_KB" ] && return 0
		fi
		sleep 1
	done
	warn "$1 still moving after 120 s; taking $v"
}

# qmp JSON: run one QMP command; prints its "return" value, or fails.
qmp() {
	local r
	r=$(printf '%s\n' '{"execute": "qmp_capabilities"}' "$1" |
		timeout 20 socat -t 2 - "UNIX-CONNECT:$qmp" 2>&1 |
		tr -d '\r' | grep -E '^\{"(return|error)"' | tail -n 1)
	case $r in
	'') warn "QMP $1: no answer"; return 1 ;;
	*'"return"'*) printf '%s\n' "$r" | sed 's/^{"return": *//; s/}$//; s/^"//; s/"$//' ;;
	*) warn "QMP $1: $r"; return 1 ;;
	esac
}

vmem_kb() {
	local b
	b=$(qmp '{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vm0", "property": "size"}}') || return 1
	echo $((b / 1024))
}

# vmem_request BYTES: set the device's requested-size; the scenario
# fails when QMP does not take it.
vmem_request() {
	qmp "{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"/machine/peripheral/vm0\", \"property\": \"requested-size\", \"value\": $1}}" >/dev/null ||
		{ guest_failed "QMP: cannot set requested-size to $1"; return 1; }
}
