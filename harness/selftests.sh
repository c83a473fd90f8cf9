#!/bin/bash
# usage: harness/selftests.sh ARCH
#
# Build the mm selftests (tools/testing/selftests/mm) of $SRC statically
# for ARCH into build/ARCH/selftests, against the test kernel's UAPI
# headers; with them tools/mm/ptreclaim (through tools/mm/Makefile) and
# its guest test, harness/guest/ptreclaim-test.c, and the arch's
# GUEST_PROGS (harness/guest/NAME.c: xen-reuse.c). The selftests build
# writes local_config.{h,mk} into its source directory and does not redo
# it per arch, so each arch builds in its own copy of tools/, where the
# fixes of harness/selftests/fixes/*.patch are applied to base tests. Each
# binary is removed before the build, so none is left from an earlier
# one. A base selftest that fails to build is reported, not hidden: its
# run in the guest then fails ("not found"); one of the feature's
# (pt_reclaim*) fails this script. An arch whose conf sets SELFTESTS
# builds only the binaries named there.
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $me ARCH"
load_arch "$1"
[ -f "$KBUILD/$KERNEL_IMAGE" ] || die "$ARCH kernel not built; run 'make build ARCH=$ARCH'"
need_cmd rsync rsync
need_cmd patch patch

out=$BUILD/$ARCH/selftests
copy=$BUILD/$ARCH/selftests-src
log=$BUILD/$ARCH/selftests.log
mkdir -p "$out" "$copy/mm" "$copy/lib" "$copy/include"

kmake -s headers >"$log" 2>&1 || die "$ARCH: make headers failed; see $log"
rsync -a --delete "$SRC/tools/" "$copy/tools/"
cp -p "$SRC/mm/gup_test.h" "$copy/mm/"
cp -p "$SRC/lib/test_hmm_uapi.h" "$copy/lib/"
# The few kernel headers the tests include from outside tools/.
rsync -a --delete "$SRC/include/vdso/" "$copy/include/vdso/"
# Fixes of base selftests, in the copy only (each patch says why).
for fix in "$HARNESS"/selftests/fixes/*.patch; do
	[ -e "$fix" ] || continue
	patch -s -p1 -d "$copy" --forward --fuzz=0 --no-backup-if-mismatch <"$fix" >>"$log" 2>&1 ||
		die "$ARCH: $fix does not apply to $SRC's tools/; see $log"
done

# All of them, or only those the arch's SELFTESTS names.
if [ -n "$SELFTESTS" ]; then
	want=$SELFTESTS
else
	want=$(make -s -C "$copy/tools/testing/selftests/mm" OUTPUT="$out" \
		CROSS_COMPILE="$CROSS_COMPILE" -f Makefile -f - print-gen <<'MK' 2>/dev/null
print-gen:
	@echo $(notdir $(TEST_GEN_FILES) $(TEST_GEN_PROGS))
MK
	)
fi
[ -n "$want" ] || die "$ARCH: no mm selftest to build (print-gen of tools/testing/selftests/mm/Makefile gave none)"
targets=
[ -z "$SELFTESTS" ] || for t in $want; do targets="$targets $out/$t"; done
# Built anew or not at all: make would keep a binary whose source no
# longer compiles, and the guest would run it.
for t in $want; do
	rm -f "$out/$t"
done

info "$ARCH: building ${SELFTESTS:+the }mm selftests${SELFTESTS:+ $SELFTESTS} into $out (log: $log)"
rc=0
# shellcheck disable=SC2086
make -C "$copy/tools/testing/selftests/mm" -k -j"$(nproc)" \
	CROSS_COMPILE="$CROSS_COMPILE" CC="ccache ${CROSS_COMPILE}gcc" \
	EXTRA_CFLAGS="-static -DKSFT_SKIP=4" USERLDFLAGS=-static \
	KHDR_INCLUDES="-isystem $KBUILD/usr/include" OUTPUT="$out" \
	$targets >>"$log" 2>&1 || rc=$?

# Name the binaries that did not build.
missing=
for t in $want; do
	[ -x "$out/$t" ] || missing="$missing $t"
done
for t in $missing; do
	case $t in
	pt_reclaim*) die "$ARCH: the feature's selftest $t did not build; see $log" ;;
	esac
done
if [ -n "$missing" ]; then
	warn "$ARCH: not built (see $log):$missing"
elif [ "$rc" -ne 0 ]; then
	die "$ARCH: mm selftests build failed; see $log"
fi
info "$ARCH: $(find "$out" -maxdepth 1 -type f -perm -u+x | wc -l) mm selftest binaries in $out"

# The ptreclaim command and its test, which fail the build when they do
# not compile (nothing else would notice a missing one).
make -C "$copy/tools/mm" CROSS_COMPILE="$CROSS_COMPILE" \
	CC="ccache ${CROSS_COMPILE}gcc -static" ptreclaim >>"$log" 2>&1 ||
	die "$ARCH: tools/mm/ptreclaim did not build; see $log"
cp "$copy/tools/mm/ptreclaim" "$out/ptreclaim"
$CC_USER -static -O2 -Wall -Wextra -Werror -I"$copy/tools/testing/selftests" \
	-o "$out/ptreclaim-test" "$HARNESS/guest/ptreclaim-test.c" >>"$log" 2>&1 ||
	die "$ARCH: harness/guest/ptreclaim-test.c did not build; see $log"
# The arch's own guest programs (GUEST_PROGS), as /t/NAME in the guest.
for g in $GUEST_PROGS; do
	$CC_USER -static -O2 -Wall -Wextra -Werror -I"$copy/tools/testing/selftests" \
		-o "$out/$g" "$HARNESS/guest/$g.c" >>"$log" 2>&1 ||
		die "$ARCH: harness/guest/$g.c did not build; see $log"
done
