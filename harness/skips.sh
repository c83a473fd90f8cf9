#!/bin/bash
# usage: harness/skips.sh ARCH LOG
#
# The skip budget of make check, on the console LOG of the harness/arch
# conf ARCH (its kernel's .config tells the CONFIG_ conditions):
#  - the feature's tests: every skipped case of a feature run (pt_reclaim*,
#    ptreclaim*, xen_reuse: the selftests, the torture run, ...; a case
#    is named by the first word of its description), every skipped case
#    of a feature KUnit suite at boot (pt_reclaim*) and a skipped feature
#    run itself must be listed, with conditions that hold here, in
#    harness/selftests/feature-skips.txt;
#  - the base mm selftests, where harness/selftests/baseline/ARCH.txt
#    exists (the unpatched kernel's results): a run that was ok there
#    must be ok here, and no run may skip more of its cases than there
#    (where the baseline counted its cases; s390x's, taken before init
#    followed TAP after other text, has no count for gup_longterm,
#    memfd_secret, mkdirty and mremap_test: the run's verdict only).
#    make baseline ARCH=.. (harness/baseline.sh) takes one again.
# Prints "skips: ok: ..." or "skips: FAIL: ..." per finding and "skips: N
# problems" last, writes them as KTAP (build/ktap/skips.ktap;
# harness/check.sh sets KTAP_DIR to the arch's check directory) and exits
# 1 on a failure.
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: $me ARCH LOG"
load_arch "$1"
log=$2
[ -f "$log" ] || die "$log not found"
config=$KBUILD/.config
[ -f "$config" ] || die "$config not found: build the $ARCH kernel first"
allowed=$HARNESS/selftests/feature-skips.txt
checker_start skips
bad=0

# holds COND: one condition of feature-skips.txt, here.
holds() {
	case $1 in
	'!CONFIG_'*) ! grep -qx "${1#!}=y" "$config" ;;
	CONFIG_*) grep -qx "$1=y" "$config" ;;
	*) # shellcheck disable=SC2254
	   case $ARCH in $1) return 0 ;; esac; return 1 ;;
	esac
}

# is_allowed CASE: true when a line of feature-skips.txt names CASE and all
# its conditions (comma-separated; read -a: no glob expansion) hold.
is_allowed() {
	local c w rest ok
	local -a conds
	while read -r c w rest; do
		[ "$c" = "$1" ] || continue
		IFS=, read -ra conds <<<"$w"
		ok=1
		for w in "${conds[@]}"; do
			holds "$w" || ok=
		done
		[ -z "$ok" ] || return 0
	done < <(grep -v '^#' "$allowed" | awk 'NF >= 2 { print $1, $2 }')
	return 1
}

# The feature's runs and KUnit suites, by name (lib.sh).
feature=$FEATURE_RUNS

# The feature's skipped cases, "RUN CASE" per line: inside a subtest of
# a feature run or suite (from "# Subtest: NAME" to the top-level result
# line that ends it), and top-level skipped results of feature runs.
skipped=$(sed -e 's/\r$//' -e 's/^\[ *[0-9.]*\] //' "$log" | awk -v feature="$feature" '
	function is_feature(n) { return n ~ feature }
	/^    # Subtest: / { run = $3; next }
	/^(not )?ok [0-9]+ / {
		name = ($1 == "ok") ? $3 : $4
		if (/# SKIP/ && is_feature(name)) print name, name
		run = ""
		next
	}
	run != "" && is_feature(run) && /^ +(not )?ok [0-9]+ .*# SKIP/ {
		sub(/^ +/, "")
		print run, ($1 == "ok") ? $3 : $4
	}')
n=0
while read -r run case; do
	[ -n "$case" ] || continue
	n=$((n + 1))
	if ! is_allowed "$case"; then
		checker_fail "$ARCH: $run: $case skipped, which $allowed does not allow here"
		bad=1
	fi
done <<<"$skipped"
[ "$bad" = 1 ] || checker_ok "$ARCH: the feature's $n skips are all allowed (harness/selftests/feature-skips.txt)"

# A conf that boots another's kernel (s390x-mm, x86_64-mm-slow) compares
# with that kernel's baseline, unless it has one of its own (x86_64-numa:
# other runs, on another QEMU machine).
base=$HARNESS/selftests/baseline/$ARCH.txt
[ -f "$base" ] || base=$HARNESS/selftests/baseline/${KERNEL_OF:-$ARCH}.txt
if [ -f "$base" ]; then
	fails=$("$HARNESS/results.sh" "$log" | awk -v feature="$feature" '
		NR == FNR { if ($0 !~ /^#/) { v[$1] = $2; s[$1] = $5; n[$1] = $3 + $4 + $5 } next }
		($1 in v) && $1 !~ feature {
			if (v[$1] == "ok" && $2 != "ok")
				print $1 ": " $2 " here, ok on the unpatched kernel"
			else if (n[$1] > 0 && $5 > s[$1])
				print $1 ": " $5 " cases skipped here, " s[$1] " on the unpatched kernel"
		}' "$base" -)
	if [ -n "$fails" ]; then
		while IFS= read -r f; do
			checker_fail "$ARCH: $f"
		done <<<"$fails"
	else
		checker_ok "$ARCH: the base mm selftests skip no more than on the unpatched kernel ($base)"
	fi
fi
checker_end
