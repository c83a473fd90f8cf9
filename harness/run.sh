#!/bin/bash
# usage: harness/run.sh ARCH PROG [ARG...]
#
# Boot the ARCH test kernel and run the static binary PROG with ARGs as
# /t/<name> in the guest, as root, printing its output, and exit with its
# exit status. Extra files for the initramfs: FILES="DEST=SRC ..." (a
# directory SRC is copied whole). Limits: RUN_TIMEOUT seconds for the
# program (default 600); the boot as a whole gets 120 s more.
# A kernel report on the console (BUG, WARNING, Oops, ...) or a KUnit
# suite that failed at boot makes the run fail even when the program
# succeeded.
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: $me ARCH PROG [ARG...]"
load_arch "$1"
prog=$2
shift 2
[ -f "$prog" ] || die "PROG=$prog not found"
need_cmd readelf binutils

# Catch the two usual mistakes before booting: a dynamic binary (the guest
# has no libc) and a binary for the other architecture.
readelf -h "$prog" >/dev/null 2>&1 || die "PROG=$prog is not an ELF binary"
if readelf -l "$prog" | grep -q 'Requesting program interpreter'; then
	die "PROG=$prog is dynamically linked; the guest has no shared libraries: link it with -static (${CC_USER} -static)"
fi
machine=$(readelf -h "$prog" | sed -n 's/^ *Machine: *//p')
# shellcheck disable=SC2254 # ELF_MACHINE is a glob (harness/arch/*.conf)
case $machine in
$ELF_MACHINE) ;;
*) die "PROG=$prog is built for '$machine', not $ARCH; build it with $CC_USER -static" ;;
esac

name=$(basename "$prog")
dir=$BUILD/$ARCH/run
mkdir -p "$dir"
secs=${RUN_TIMEOUT:-600}
{
	echo "swap 256"
	printf 'run %s %s /t/%s' "$name" "$secs" "$name"
	printf ' %s' "$@"
	echo
} > "$dir/init.tests"
# shellcheck disable=SC2086
"$HARNESS/initramfs.sh" "$ARCH" "$dir/initramfs.cpio.gz" "$dir/init.tests" \
	"/t/$name=$prog" ${FILES:-}

rc=0
"$HARNESS/boot.sh" "$ARCH" "$dir/initramfs.cpio.gz" "$dir/console.log" \
	$((secs + 120)) || rc=$?
if kernel_reported "$ARCH" "$dir/console.log"; then
	echo "$me: $ARCH: the kernel reported a problem during the run (console: $dir/console.log)" >&2
	[ "$rc" -ne 0 ] || rc=1
fi
info "$ARCH: $name exited with status $rc (console: $dir/console.log)"
exit "$rc"
