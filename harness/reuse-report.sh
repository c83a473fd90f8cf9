#!/bin/bash
# usage: harness/reuse-report.sh
#
# The report of 'make reuse' (harness/alloc.sh --reuse, which runs it
# last): from build/reuse/raw.csv (alloc-test -d's lines) and meta,
# results.csv and results.md (per method, the median over the runs) and
# vmpte.svg (VmPTE over time in the first run, per method, and what the
# live data needs); prints results.md.
. "$(dirname "$0")/lib.sh"

out=$BUILD/reuse
[ -s "$out/raw.csv" ] && [ -f "$out/meta" ] ||
	die "$out/raw.csv or $out/meta missing: run 'make reuse' first"
need_cmd gnuplot gnuplot-nox
. "$out/meta"

# Per method, over the runs: the medians of the end metrics.
awk -F, -v OFS=, "$AWK_MED"'
$4 == "sample" && NF == 7 && $5 $6 $7 ~ /^[0-9.-]+$/ { next }
$4 != "end" || NF != 6 || $6 !~ /^-?[0-9]+(\.[0-9]+)?$/ {
	printf "raw.csv line %d: not reuse,RUN,METHOD,sample,T,KB,NEED or reuse,RUN,METHOD,end,METRIC,NUMBER: %s\n", NR, $0 > "/dev/stderr"
	bad = 1; exit 1
}
{
	if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 }
	if (!(($3, $2) in isrun)) { isrun[$3, $2] = 1; runs[$3]++ }
	v[$3, $5] = v[$3, $5] " " $6
}
END {
	if (bad) exit 1
	split("max_vmpte_kb end_vmpte_kb max_needed_kb peak_ratio us_per_release ops_per_s reclaim_calls", m, " ")
	printf "method,runs"
	for (j = 1; j <= 7; j++) printf ",%s", m[j]
	print ""
	for (i = 1; i <= n; i++) {
		printf "%s,%d", order[i], runs[order[i]]
		for (j = 1; j <= 7; j++) printf ",%s", med(v[order[i], m[j]])
		print ""
	}
}' "$out/raw.csv" > "$out/results.csv" || die "$out/raw.csv is malformed (see above)"

# The first run's samples, a file per method, for gnuplot: its VmPTE
# (solid) and its own need (dashed, the same colour): the methods place
# different extents in the same time, and mmap's are packed.
plot=""
i=0
for m in $(awk -F, 'NR > 1 { print $1 }' "$out/results.csv"); do
	i=$((i + 1))
	awk -F, -v m="$m" '$2 == 1 && $3 == m && $4 == "sample" { print $5, $6, $7 }' \
		"$out/raw.csv" > "$out/vmpte-$m.dat"
	plot="${plot:+$plot, }'$out/vmpte-$m.dat' using 1:2 with lines lw 2 lc $i title '$m'"
	plot="$plot, '' using 1:3 with lines dt 2 lc $i title '$m: needed'"
done
gnuplot <<GP || die "gnuplot failed on $out/vmpte-*.dat"
set terminal svg size 800,480 dynamic font 'sans,12' noenhanced
set output '$out/vmpte.svg'
set title 'A reservation reused with MADV_DONTNEED: page tables over time (run 1, QEMU TCG)'
set xlabel 'seconds'
set ylabel 'VmPTE above the start (kB)'
set key top left
set grid
plot $plot
GP

{
	cat <<EOF
# The database pattern: one reservation, reused

Made by harness/alloc.sh --reuse (\`make reuse\`) on ${date:-an unrecorded date} from
${commit:-an unrecorded commit}: x86_64 test kernel under QEMU TCG, 2 vCPUs, one boot;
allocators/reuse.c for $seconds s per method, $runs runs, every cell the
median. A 2 GiB reservation (THP off); extents of 4 KiB to 8 MiB at random
free offsets, every page written, at most 64 MiB live; when a new extent
would pass that, random live extents are released first (the pattern of
ydb-platform/ydb#52719).

- stock: MADV_DONTNEED with vm.pt_reclaim_dontneed=0 (as the kernel
  without the series); none: MADV_DONTNEED, its reclaim on (the
  default: it frees the tables a release covers whole); periodic: the
  same and madvise(MADV_PT_RECLAIM) over the reservation every second;
  periodic-0.1: every tenth of a second; spans: as none, and
  madvise(MADV_PT_RECLAIM) after each release over the extent rounded
  out to whole table spans (one call a release, not batched);
  mmap: no reservation, an mmap() per extent and munmap() to release it
  (what ydb went back to, #52728).
- Page tables: VmPTE above the process before the workload, kB, the
  largest sample (every 0.5 s, at the end, and for periodic just before
  each reclaim, where they peak) and the end; needed: the PTE and PMD
  tables the live extents touch (a page each), the largest sample; peak
  ratio: the largest VmPTE over the need at the same sample after the
  first second.
- us per release: the release calls (madvise(), or munmap() and the
  mmap() a reuse would have saved) and, for periodic and spans, the
  MADV_PT_RECLAIM calls' share. TCG: times are noisy, the page-table
  counts are not.

| method | VmPTE largest | VmPTE at end | needed (largest) | peak ratio | us per release | extents per s | MADV_PT_RECLAIM calls |
|---|---|---|---|---|---|---|---|
EOF
	awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $3, $4, $5, $6, $7, $8, $9 }' \
		"$out/results.csv"
	echo
	echo "VmPTE over time, run 1: [vmpte.svg](vmpte.svg)."
} > "$out/results.md"
cat "$out/results.md"
info "results: $out/results.md, $out/results.csv, $out/vmpte.svg"
