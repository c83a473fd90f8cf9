#!/bin/bash
# usage: harness/matrix.sh [ENTRY...]
#
# The kernels that do not fit in make check's 45 cold minutes, each run
# as make check runs an arch (harness/check.sh with CHECK_ARCHES=ENTRY
# and CHECK_KERNELS_ONLY=1: build, selftests, boot, the arch's test
# lists, harness/verdict.sh). An entry is a harness/arch/*.conf; default
# (MATRIX): x86_64-debug, the x86_64 test kernel with KASAN, lockdep,
# DEBUG_VM and PAGE_TABLE_CHECK running the feature's tests (about 13 min
# cold, 2 warm). Each entry's output goes to build/matrix/ENTRY.log; the
# table (entry: passed, failed, skipped, minutes) with the commit, the
# kernel and the date to results/matrix/results.md. Prints "N passed, N
# failed" over all entries last; exits 1 when any check failed.
. "$(dirname "$0")/lib.sh"

entries=${*:-${MATRIX:-x86_64-debug}}
for e in $entries; do
	[ -f "$HARNESS/arch/$e.conf" ] ||
		die "unknown matrix entry '$e'; known: $(cd "$HARNESS/arch" && ls -- *.conf | sed 's/\.conf$//' | tr '\n' ' ')"
done
log=$BUILD/matrix
res=$TOP/results/matrix
mkdir -p "$log" "$res"
commit=$(git -C "$TOP" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git -C "$TOP" diff --quiet HEAD -- . ':!results' 2>/dev/null || commit="$commit (with uncommitted changes)"
kver=$(make -s -C "$SRC" kernelversion 2>/dev/null || echo unknown)
pass=0 fail=0 skip=0 rows=
for e in $entries; do
	s=$(date +%s)
	CHECK_ARCHES=$e CHECK_KERNELS_ONLY=1 "$HARNESS/check.sh" > "$log/$e.log" 2>&1 || true
	mins=$(( ($(date +%s) - s + 30) / 60 ))
	grep -E '^(FAILED|not ok|verdict|[0-9]+ passed)|kernel report|KUnit' "$log/$e.log" | grep -v '^ok ' | tail -n 20
	read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log/$e.log" | tail -n 1)
	k=$(sed -n 's/.*; \([0-9]*\) skipped (reasons.*/\1/p' "$log/$e.log" | tail -n 1)
	if [ -z "${p:-}" ]; then
		echo "FAILED: matrix entry $e did not finish; see $log/$e.log"
		p=0 f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${k:-0}))
	rows+="| $e | $p | $f | ${k:-?} | $mins |"$'\n'
	info "$e: $p passed, $f failed, ${k:-?} skipped in $mins min (log: $log/$e.log)"
done
{
	echo "# make matrix"
	echo
	echo "Commit $commit, kernel $kver, $(date -u +%Y-%m-%d) (UTC); made by harness/matrix.sh."
	echo
	echo "| entry | passed | failed | skipped | minutes |"
	echo "|---|---|---|---|---|"
	printf '%s' "$rows"
} > "$res/results.md"
info "table: $res/results.md"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
