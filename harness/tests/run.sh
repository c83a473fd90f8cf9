#!/bin/bash
# harness/run.sh and boot.sh end to end on the x86_64 test kernel:
#  - a program's output and arguments reach the console, its exit status
#    comes back as run.sh's;
#  - a program that outlives its time is killed in the guest (status 124);
#  - a guest that hangs past the QEMU timeout fails with the console tail;
#  - a guest that panics fails, saying so;
#  - a dynamic binary and a binary of the other arch are refused up front;
#  - init's "cpus" directive pins later runs, "cpus all" undoes it, and a
#    bad list fails the document.
. "$(dirname "$0")/../lib.sh"

load_arch x86_64
[ -f "$KBUILD/$KERNEL_IMAGE" ] || die "x86_64 kernel not built; run 'make build'"
scratch_dir
show() {
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$1" >&2
	return 0
}

cat > "$tmp/prog.c" <<'C'
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	cpu_set_t set;
	FILE *f;
	int i;

	if (argc > 1 && !strcmp(argv[1], "cpus")) {
		if (sched_getaffinity(0, sizeof(set), &set))
			return 1;
		printf("cpus:");
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				printf(" %d", i);
		printf("\n");
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "sleep")) {
		sleep(atoi(argv[2]));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "panic")) {
		f = fopen("/proc/sysrq-trigger", "w");
		fputs("c", f);
		fclose(f);
		return 0;
	}
	printf("argv:");
	for (i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	return argc > 1 ? atoi(argv[argc - 1]) : 0;
}
C
gcc -static -O2 -o "$tmp/prog" "$tmp/prog.c"
gcc -O2 -o "$tmp/prog-dynamic" "$tmp/prog.c"
s390x-linux-gnu-gcc -static -O2 -o "$tmp/prog-s390x" "$tmp/prog.c"

# Output and exit status.
rc=0
"$HARNESS/run.sh" x86_64 "$tmp/prog" hello 3 >"$tmp/out" 2>&1 || rc=$?
show "$tmp/out"
[ "$rc" = 3 ] || fail "exit status $rc, want 3"
grep -q '^argv: hello 3$' "$tmp/out" || fail "program output missing"

# A program past its time is killed inside the guest.
rc=0
RUN_TIMEOUT=3 "$HARNESS/run.sh" x86_64 "$tmp/prog" sleep 600 >"$tmp/out" 2>&1 || rc=$?
show "$tmp/out"
[ "$rc" = 124 ] || fail "over-time program: exit status $rc, want 124"
grep -q 'timed out after 3 s' "$tmp/out" || fail "no timeout message"

# A hung guest: QEMU is stopped and the console tail printed.
printf 'run prog 600 /t/prog sleep 600\n' > "$tmp/init.tests"
"$HARNESS/initramfs.sh" x86_64 "$tmp/sleep.cpio.gz" "$tmp/init.tests" "/t/prog=$tmp/prog"
if "$HARNESS/boot.sh" x86_64 "$tmp/sleep.cpio.gz" "$tmp/hang.log" 8 >"$tmp/out" 2>&1; then
	fail "a hung guest passed"
fi
show "$tmp/out"
grep -q 'guest did not finish: timed out after 8 s' "$tmp/out" || fail "no hang message"
grep -q 'last 40 console lines' "$tmp/out" || fail "no console tail"

# A panic.
rc=0
"$HARNESS/run.sh" x86_64 "$tmp/prog" panic >"$tmp/out" 2>&1 || rc=$?
show "$tmp/out"
[ "$rc" != 0 ] || fail "a panicking guest passed"
grep -q 'before init finished (panic or crash?)' "$tmp/out" || fail "no panic message"

# CPU affinity: pinned, unpinned, and a bad list.
printf '%s\n' 'cpus 1' 'run one 60 /t/prog cpus' 'cpus all' \
	'run all 60 /t/prog cpus' 'cpus 1-x' >"$tmp/init.tests"
"$HARNESS/initramfs.sh" x86_64 "$tmp/cpus.cpio.gz" "$tmp/init.tests" "/t/prog=$tmp/prog"
"$HARNESS/boot.sh" x86_64 "$tmp/cpus.cpio.gz" "$tmp/cpus.log" 120 >"$tmp/out" 2>&1 ||
	fail "the cpus guest did not finish: $(tail -n 5 "$tmp/out")"
show "$tmp/cpus.log"
grep -aq '^init: done: 2 runs, 1 failed' "$tmp/cpus.log" ||
	fail "a bad cpus list was not counted as failed by init"
grep -aqE '^cpus: 1[[:space:]]*$' "$tmp/cpus.log" || fail "cpus 1 did not pin the run to CPU 1"
grep -aqE '^cpus: 0 1[[:space:]]*$' "$tmp/cpus.log" || fail "cpus all did not give both CPUs back"
grep -aq 'cpus: bad list 1-x' "$tmp/cpus.log" || fail "no message for a bad cpus list"

# Binaries that cannot run are refused before booting.
if "$HARNESS/run.sh" x86_64 "$tmp/prog-dynamic" >"$tmp/out" 2>&1; then
	fail "a dynamic binary was accepted"
fi
show "$tmp/out"
grep -q 'dynamically linked' "$tmp/out" || fail "no message for a dynamic binary"
if "$HARNESS/run.sh" x86_64 "$tmp/prog-s390x" >"$tmp/out" 2>&1; then
	fail "an s390x binary was accepted on x86_64"
fi
show "$tmp/out"
grep -q "built for 'IBM S/390', not x86_64" "$tmp/out" || fail "no message for a wrong-arch binary"
echo "$me: output, status, in-guest timeout, hang, panic, bad binaries and CPU pinning handled"
