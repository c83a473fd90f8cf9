#!/bin/bash
# usage: harness/demo.sh ARCH
#
# Build harness/guest/vmpte-demo.c statically for ARCH and run it in the
# ARCH test kernel: VmPTE before, after touching 1 GiB every 2 MiB, after
# MADV_DONTNEED and after MADV_PT_RECLAIM.
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $me ARCH"
load_arch "$1"
out=$BUILD/$ARCH/vmpte-demo
mkdir -p "$BUILD/$ARCH"
$CC_USER -static -O2 -Wall -o "$out" "$HARNESS/guest/vmpte-demo.c" ||
	die "$ARCH: cannot build harness/guest/vmpte-demo.c with $CC_USER"
exec "$HARNESS/run.sh" "$ARCH" "$out"
