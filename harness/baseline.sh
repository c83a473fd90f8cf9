#!/bin/bash
# usage: harness/baseline.sh ARCH
#
# Take the regression baseline harness/skips.sh compares make check's
# base mm selftests with: the test lists of harness/arch/ARCH.conf but the
# feature's own (FEATURE_LISTS of lib.sh: they fail there, as they must),
# run on the unpatched kernel (build_unpatched: the base tree with the
# test kernel's .config, which olddefconfig strips of the feature's
# options), one line per run by harness/results.sh, written to
# harness/selftests/baseline/ARCH.txt. A conf with KERNEL_OF boots the
# unpatched build of that conf's kernel. Commit the file when the runs
# that changed have a reason; `make baseline ARCH=..`.
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $me ARCH"
load_arch "$1"
conf=$ARCH
lists=
for l in $TEST_LISTS; do
	case " $FEATURE_LISTS " in *" $l "*) ;; *) lists="$lists $l" ;; esac
done
[ -n "$lists" ] || die "$conf runs only the feature's lists ($TEST_LISTS): no baseline to take"

# The kernel: the unpatched build of the conf's (or KERNEL_OF's) kernel.
of=${KERNEL_OF:-$conf}
"$HARNESS/build.sh" "$of" || die "the $of test kernel does not build"
load_arch "$of"
build_unpatched
kernel=$BUILD/$of/kernel-base/$KERNEL_IMAGE
version=$(cat "$BUILD/$of/kernel-base/include/config/kernel.release" 2>/dev/null || echo unknown)

load_arch "$conf"
"$HARNESS/selftests.sh" "$conf" || die "the $conf selftests do not build"
dir=$BUILD/$conf/baseline
mkdir -p "$dir"
# shellcheck disable=SC2086 # lists: a list a word
init_tests "$of" $lists > "$dir/init.tests"
"$HARNESS/initramfs.sh" "$conf" "$dir/initramfs.cpio.gz" "$dir/init.tests" \
	"/t=$BUILD/$conf/selftests"
info "$conf: the unpatched kernel ($kernel) running$lists (console: $dir/console.log)"
KERNEL=$kernel "$HARNESS/boot.sh" "$conf" "$dir/initramfs.cpio.gz" "$dir/console.log" 2400 \
	> "$dir/progress.log" || true
grep -q '^init: done' "$dir/console.log" ||
	die "$conf: the guest did not finish (console: $dir/console.log)"
out=$HARNESS/selftests/baseline/$conf.txt
{
	echo "# harness/results.sh of the unpatched $conf kernel ($version, BASE), $(date -u +%Y-%m-%d),"
	echo "# harness/baseline.sh $conf: lists$lists; the same .config as the test kernel but for MADV_PT_RECLAIM"
	echo "# columns: run, verdict, its subtests passed/failed/skipped, skip reason"
	"$HARNESS/results.sh" "$dir/console.log"
} > "$out.tmp" || die "harness/results.sh failed on $dir/console.log"
mv "$out.tmp" "$out"
info "$conf: wrote $out ($(grep -vc '^#' "$out") runs); git diff it and commit"
