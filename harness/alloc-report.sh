#!/bin/bash
# usage: harness/alloc-report.sh
#
# The report of 'make alloc' (harness/alloc.sh, which runs it last; also
# 'harness/alloc.sh --report'): build/alloc/results.csv and results.md
# from the runs in build/alloc/raw.csv and what the run was (runs,
# seconds, wait) in build/alloc/meta; prints results.md.
. "$(dirname "$0")/lib.sh"

out=$BUILD/alloc
[ -s "$out/raw.csv" ] && [ -f "$out/meta" ] ||
	die "$out/raw.csv or $out/meta missing: run 'make alloc' first"
. "$out/meta"
# Per allocator and method, over the runs: medians of the page tables
# (kB above the fresh process: at the peak, kept at the end; and at the
# end, VmPTE minus the tables over a page: those that map nothing), of
# the RSS at the end and of the libraries' calls and time in them; the
# throughput against the allocator with no reclaim in the same run:
# median, min and max.
awk -F, -v OFS=, "$AWK_MED"'
# the smallest (sign 1) or largest (sign -1) of the values
function ext(str, sign,   v, n, i, m) {
	n = split(str, v, " "); m = v[1]
	for (i = 2; i <= n; i++) if (sign * v[i] < sign * m) m = v[i]
	return m
}
NF != 6 || $6 !~ /^-?[0-9]+$/ { printf "raw.csv line %d: not alloc,RUN,ALLOCATOR,METHOD,METRIC,NUMBER: %s\n", NR, $0 > "/dev/stderr"; bad = 1; exit 1 }
{
	k = $3 "," $4; v[$2 "," k "," $5] = $6
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	if (!($2 in isrun)) { isrun[$2] = 1; runs[++nr] = $2 }
}
END {
	if (bad) exit 1
	print "allocator,method,runs,peak_kb,kept_kb,empty_kb,peak_rss_mib,end_rss_mib,ratio_median,ratio_min,ratio_max,calls,us_in_calls"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, am, ",")
		peak = kept = empty = prss = rss = ratio = calls = us = ""
		for (r = 1; r <= nr; r++) {
			p = runs[r] "," k ","
			if (!((p "end_vmpte_kb") in v)) continue
			f = v[p "fresh_vmpte_kb"]
			peak = peak " " v[p "peak_vmpte_kb"] - f
			kept = kept " " v[p "end_vmpte_kb"] - f
			empty = empty " " (v[p "end_used_kb"] < 0 ? -1 : v[p "end_vmpte_kb"] - v[p "end_used_kb"])
			prss = prss " " v[p "peak_vmrss_kb"] / 1024
			rss = rss " " v[p "end_vmrss_kb"] / 1024
			b = v[runs[r] "," am[1] ",none,ops_per_s"]
			ratio = ratio " " (b > 0 ? v[p "ops_per_s"] / b : 0)
			calls = calls " " v[p "calls"]
			us = us " " v[p "us_in_calls"]
		}
		print k, split(kept, t, " "), med(peak), med(kept), med(empty), sprintf("%.0f", med(prss)), sprintf("%.1f", med(rss)),
			sprintf("%.2f", med(ratio)), sprintf("%.2f", ext(ratio, 1)), sprintf("%.2f", ext(ratio, -1)),
			med(calls), med(us)
	}
}' "$out/raw.csv" > "$out/results.csv.tmp" || die "$out/raw.csv: malformed (see above)"
mv "$out/results.csv.tmp" "$out/results.csv"
{
	echo "# Allocators and MADV_PT_RECLAIM"
	echo
	echo "Made by harness/alloc.sh on $(date -u +%Y-%m-%d): x86_64 test kernel under QEMU TCG,"
	echo "2 vCPUs, one boot; allocators/churn.c, 4 threads, $seconds s of churn, then"
	echo "everything freed; every cell the median of $runs runs. The go rows:"
	echo "allocators/go/churn.go, the same workload in goroutines, ending with"
	echo "runtime/debug.FreeOSMemory() (THP off for it, GOMEMLIMIT=1300MiB)."
	echo
	echo "- Page tables: kB. At the peak and kept at the end: VmPTE above the fresh"
	echo "  process's. Mapping nothing: at the end, VmPTE minus the tables over at"
	echo "  least one page (churn's used_tables_kb), the most a reclaim could still"
	echo "  free. The end is $wait s after the free (method self: right after"
	echo "  its MADV_PT_RECLAIM over every mapping)."
	echo "- Methods: stock, the allocator alone with vm.pt_reclaim_dontneed=0 (as"
	echo "  the kernel without the series: MADV_DONTNEED frees no table); none,"
	echo "  the allocator alone (MADV_DONTNEED frees the tables it covers whole);"
	echo "  self, one MADV_PT_RECLAIM over every mapping after the free; operator,"
	echo "  ptreclaim --self -i 1; preload, libptreclaim.so; hooks,"
	echo "  libptreclaim-jemalloc.so (allocators/README.md)."
	echo "- Throughput: churn operations per second against the same allocator"
	echo "  with no reclaim, in the same run: median (min-max). TCG: noisy."
	echo "- Calls: the library's MADV_PT_RECLAIM calls and the time spent in"
	echo "  them over the whole run (preload, hooks)."
	echo
	echo "| allocator | method | tables at peak | kept at end | mapping nothing | RSS at peak, end (MiB) | throughput vs none | calls (time) |"
	echo "|---|---|---|---|---|---|---|---|"
	awk -F, 'NR > 1 {
		tp = $2 == "none" ? "1" : sprintf("%s (%s-%s)", $9, $10, $11)
		c = $12 < 0 ? "-" : sprintf("%d (%.1f ms)", $12, $13 / 1000)
		printf "| %s | %s | %d | %d | %d | %s, %s | %s | %s |\n", $1, $2, $4, $5, $6, $7, $8, tp, c }' "$out/results.csv"
} > "$out/results.md"
cat "$out/results.md"
