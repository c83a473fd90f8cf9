#!/bin/bash
# harness/selftests/*.tests hold the base kernel's mm selftests as
# tools/testing/selftests/mm/run_vmtests.sh runs them (the guest has no
# shell to run that script). Every program run_vmtests.sh runs must be
# run by a list ("run NAME SECS /t/PROGRAM ..", "runas") or skipped with
# a reason ("skip PROGRAM REASON"), on some arch: a new base (make base)
# whose run_vmtests.sh gains a test fails here, naming it. A second.
. "$(dirname "$0")/../lib.sh"

vmtests=$SRC/tools/testing/selftests/mm/run_vmtests.sh
[ -f "$vmtests" ] || die "$vmtests not found; run 'make base'"
scratch_dir

# The programs: the first word after run_test (past "sudo -u USER" and
# "bash"), without ./ and .sh; ${uffd_stress_bin} is uffd-stress.
sed -n 's/.*[[:space:]]run_test[[:space:]]\+//p' "$vmtests" |
	sed -E 's/^sudo -u [^ ]+ //; s/^bash //; s/[[:space:]].*//; s@^\./@@; s/\.sh$//' |
	sed 's/^\${uffd_stress_bin}$/uffd-stress/' |
	grep -v '^\[' | LC_ALL=C sort -u > "$tmp/wanted"
[ -s "$tmp/wanted" ] || fail "no run_test lines found in $vmtests"

# What the lists cover: programs run, names skipped. test_hmm.sh smoke
# loads the test_hmm module and runs hmm-tests, which the lists run with
# the driver built in.
sed -E 's/^\[[a-z0-9_-]+\] //' "$HARNESS"/selftests/*.tests | awk '
	$1 == "run"   { p = $4; sub(/.*\//, "", p); print p }
	$1 == "runas" { p = $5; sub(/.*\//, "", p); print p }
	$1 == "skip" && NF >= 3 { print $2 }
' | sed 's/^hmm-tests$/test_hmm/' | LC_ALL=C sort -u > "$tmp/covered"

missing=$(LC_ALL=C comm -23 "$tmp/wanted" "$tmp/covered")
[ -z "$missing" ] ||
	fail "run_vmtests.sh runs $(echo "$missing" | tr '\n' ' ')which no harness/selftests/*.tests list runs or skips with a reason: add a run or skip line (harness/selftests/mm.tests)"
echo "$me: the $(wc -l < "$tmp/wanted") programs run_vmtests.sh runs are each run or skipped by a list"
