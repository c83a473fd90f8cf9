#!/bin/bash
# harness/bench-report.sh on measurements whose min and median are known:
# odd and even counts, values that sort differently as text and as
# numbers, an unpatched kernel on one arch only, the order of the
# benchmark's output kept, and the plot made.
. "$(dirname "$0")/../lib.sh"

scratch_dir

cat > "$tmp/raw.csv" <<'CSV'
arch,kernel,boot,figure,case,metric,value
x86_64,patched,1,reclaim,tables=64,reclaim_ns_per_table,900
x86_64,patched,1,reclaim,tables=64,munmap_ns_per_table,1000
x86_64,patched,1,reclaim,tables=8,reclaim_ns_per_table,100
x86_64,patched,2,reclaim,tables=64,reclaim_ns_per_table,80
x86_64,patched,2,reclaim,tables=64,munmap_ns_per_table,3000
x86_64,patched,3,reclaim,tables=64,reclaim_ns_per_table,1e3
x86_64,patched,1,fault,threads=1,faults_per_s,99
x86_64,patched,2,fault,threads=1,faults_per_s,101
x86_64,unpatched,1,fault,threads=1,faults_per_s,100
x86_64,unpatched,2,fault,threads=1,faults_per_s,110
s390x,patched,1,reclaim,tables=1,reclaim_ns_per_table,5
CSV
echo "# x86_64 patched boot 1: kernel: test" > "$tmp/meta.txt"
"$HARNESS/bench-report.sh" "$tmp" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "bench-report.sh failed"; }

want() {
	grep -qxF "$1" "$tmp/results.csv" || fail "results.csv lacks '$1'"
}
# 80, 900, 1e3: min 80 (not 1e3 or 900 as text), median 900
want "x86_64,patched,reclaim,tables=64,reclaim_ns_per_table,3,80,900"
# two values: the median is their mean
want "x86_64,patched,reclaim,tables=64,munmap_ns_per_table,2,1000,2000"
want "x86_64,unpatched,fault,threads=1,faults_per_s,2,100,105"
want "s390x,patched,reclaim,tables=1,reclaim_ns_per_table,1,5,5"
# the benchmark's order: tables=64 before tables=8, reclaim before fault
order=$(awk -F, '$1 == "x86_64" && $2 == "patched" { print $4 "/" $5 }' "$tmp/results.csv" | tr '\n' ' ')
[ "$order" = "tables=64/reclaim_ns_per_table tables=64/munmap_ns_per_table tables=8/reclaim_ns_per_table threads=1/faults_per_s " ] ||
	fail "order not kept: $order"

md=$tmp/results.md
# patched/unpatched: medians 100/105, mins 99/100
grep -qF "| threads=1 | faults_per_s | 2/2 | 99 | 100 | 100 | 105 | 0.952 | 0.990 |" "$md" ||
	fail "no ratio row for the fault figure in results.md"
grep -qF "| tables=1 | reclaim_ns_per_table | 1 | 5 | 5 |" "$md" ||
	fail "no patched-only row for s390x in results.md"
grep -qF "kernel: test" "$md" || fail "meta.txt not in results.md"
grep -q '<svg' "$tmp/reclaim.svg" || fail "no plot"
grep -q 'x86_64 munmap' "$tmp/reclaim.svg" || fail "the plot has no munmap line"

# A row with a field too many (a comma in a case name) is refused,
# naming the line, not averaged as zeros.
printf '%s\n' "arch,kernel,boot,figure,case,metric,value" \
	"x86_64,patched,1,dontneed,one_page,tables=64,on_ns_per_table,5" > "$tmp/raw.csv"
if "$HARNESS/bench-report.sh" "$tmp" >"$tmp/out" 2>&1; then
	fail "a row with eight fields was accepted"
fi
grep -q "raw.csv line 2: " "$tmp/out" || fail "the malformed row is not named: $(cat "$tmp/out")"
printf '%s\n' "arch,kernel,boot,figure,case,metric,value" \
	"x86_64,patched,1,reclaim,tables=1,reclaim_ns_per_table,fast" > "$tmp/raw.csv"
if "$HARNESS/bench-report.sh" "$tmp" >"$tmp/out" 2>&1; then
	fail "a row whose value is not a number was accepted"
fi

# Nothing to report is an error that says what to do.
: > "$tmp/raw.csv"
if "$HARNESS/bench-report.sh" "$tmp" >"$tmp/out" 2>&1; then
	fail "an empty raw.csv was accepted"
fi
grep -q "run 'make bench'" "$tmp/out" || fail "no hint for an empty raw.csv"
echo "$me: min, median, order, ratios between kernels and the plot as expected"
