#!/bin/bash
# usage: harness/kcsan-base.sh
#
# Record the data races KCSAN reports in base code: the unpatched kernel
# (build_unpatched) with the x86_64-kcsan test kernel's .config
# (harness/configs/kcsan.config; olddefconfig drops the feature's
# options) runs the base tests of the code the series patches
# (mm-patched.tests; the feature's own lists cannot run there), and each
# kind of report (its title, "data-race in A / B") is printed, with
# whether harness/selftests/kcsan-base.txt lists it. That file is what
# harness/verdict.sh lets pass on the KCSAN kernel: a line per race,
# "TITLE -- why it is base code and harmless (or whose it is)", written
# by hand from this output and the report's stacks (console below).
# Exits 1 when the run did not finish or a report is not in the file.
# About 15 minutes cold (the unpatched KCSAN kernel), 5 warm.
. "$(dirname "$0")/lib.sh"

conf=x86_64-kcsan
"$HARNESS/build.sh" "$conf" || die "the $conf test kernel does not build"
load_arch "$conf"
build_unpatched
kernel=$BUILD/$conf/kernel-base/$KERNEL_IMAGE
version=$(cat "$BUILD/$conf/kernel-base/include/config/kernel.release" 2>/dev/null || echo unknown)
"$HARNESS/selftests.sh" "$conf" || die "the $conf selftests do not build"
dir=$BUILD/$conf/kcsan-base
mkdir -p "$dir"
init_tests "$conf" mm-patched > "$dir/init.tests"
"$HARNESS/initramfs.sh" "$conf" "$dir/initramfs.cpio.gz" "$dir/init.tests" \
	"/t=$BUILD/$conf/selftests"
info "$conf: the unpatched kernel ($version) running mm-patched (console: $dir/console.log)"
KERNEL=$kernel "$HARNESS/boot.sh" "$conf" "$dir/initramfs.cpio.gz" "$dir/console.log" 2400 \
	> "$dir/progress.log" || true
grep -q '^init: done' "$dir/console.log" ||
	die "$conf: the guest did not finish (console: $dir/console.log)"
# shellcheck disable=SC2153 # CONSOLE_MUST: load_arch's
grep -qaE -- "$CONSOLE_MUST" "$dir/console.log" ||
	die "$conf: the unpatched kernel did not run KCSAN's self-test (console: $dir/console.log)"
list=$HARNESS/selftests/kcsan-base.txt
missing=0 n=0
while read -r count rest; do
	title=${rest%%$'\t'*}
	n=$((n + 1))
	if kcsan_listed "$list" | grep -qxF -- "$title"; then
		echo "listed: $title ($count times)"
	else
		echo "NOT LISTED: $title ($count times)"
		missing=$((missing + 1))
	fi
done < <(kcsan_reports "$dir/console.log")
echo "$n kinds of data-race report on the unpatched kernel, $missing not in ${list#"$TOP"/} (console: $dir/console.log)"
[ "$missing" -eq 0 ]
