#!/bin/bash
# make check's share of the mutation suite (harness/mutate.sh, make
# mutate): every harness/mutate/*.patch has a "What:" line, names an arch
# whose conf builds a kernel of its own and test lists that exist, and
# still applies to the tree without fuzz (a dry run on $SRC), so that a
# change to the code does not leave a variant that make mutate could only
# report as not applying. Building and booting each variant is make
# mutate's (about 4 min each).
# A second or two.
. "$(dirname "$0")/../lib.sh"

scratch_dir
n=0
for p in "$HARNESS"/mutate/*.patch; do
	[ -e "$p" ] || fail "no variant in harness/mutate/"
	v=$(basename "$p" .patch)
	n=$((n + 1))
	grep -q '^What: ..*' "$p" || fail "$p: no 'What:' line"
	arch=$(sed -n '/^--- /q; s/^Arch: *//p' "$p")
	arch=${arch:-x86_64}
	[ -f "$HARNESS/arch/$arch.conf" ] || fail "$p: Arch: $arch: no harness/arch/$arch.conf"
	grep -q '^KERNEL_OF=' "$HARNESS/arch/$arch.conf" &&
		fail "$p: Arch: $arch boots another conf's kernel; name that one"
	for l in $(sed -n '/^--- /q; s/^Lists: *//p' "$p"); do
		[ -f "$HARNESS/selftests/$l.tests" ] || fail "$p: Lists: no harness/selftests/$l.tests"
	done
	patch -s -p1 -d "$SRC" --dry-run --forward --fuzz=0 <"$p" >"$tmp/out" 2>&1 ||
		fail "$v no longer applies to $SRC (regenerate it: edit build/mutate/src, git diff): $(head -n 3 "$tmp/out")"
done
echo "$me: $n variants apply to the tree"
