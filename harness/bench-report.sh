#!/bin/bash
# usage: harness/bench-report.sh DIR
#
# Summarize DIR/raw.csv (lines "arch,kernel,boot,figure,case,metric,value"
# from harness/bench.sh) over all boots and repetitions into
#   DIR/results.csv  arch,kernel,figure,case,metric,n,min,median
#   DIR/results.md   one Markdown table per arch and figure; where the
#                    unpatched kernel was measured too, its min and median
#                    and the ratio patched/unpatched of the medians and of
#                    the mins
#   DIR/reclaim.svg  figure "reclaim": ns per table freed, MADV_PT_RECLAIM
#                    and munmap(), medians, by number of tables (gnuplot)
# The median of an even count is the mean of the middle two. Figures,
# cases and metrics keep the order of the benchmark's output.
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $me DIR"
dir=$1
raw=$dir/raw.csv
[ -s "$raw" ] || die "$raw is missing or empty; run 'make bench'"
need_cmd gnuplot gnuplot-nox

# Every row has its seven fields and a number last: a case name with a
# comma in it would shift the fields and turn its values into zeros.
bad=$(awk -F, 'NR > 1 && (NF != 7 || $7 !~ /^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/) { print NR ": " $0; exit }' "$raw")
[ -z "$bad" ] || die "$raw line $bad: want arch,kernel,boot,figure,case,metric,value with a number last (pt_reclaim_bench printed a malformed line?)"

# Number the figures, cases and metrics in order of first appearance,
# sort by them and by value, then take min and median per group.
awk -F, 'NR > 1 {
	if (!($1 in ao)) ao[$1] = ++na
	if (!($4 in fo)) fo[$4] = ++nf
	if (!(($4, $5) in co)) co[$4, $5] = ++nc
	if (!($6 in mo)) mo[$6] = ++nm
	printf "%d,%s,%d,%d,%d,%s,%s,%s,%s,%s\n", ao[$1], $1, fo[$4], co[$4, $5], mo[$6], $2, $4, $5, $6, $7
}' "$raw" | LC_ALL=C sort -t, -k1,1n -k3,3n -k4,4n -k5,5n -k6,6 -k10,10g | cut -d, -f2- | awk -F, '
function flush() {
	if (n == 0)
		return
	med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	printf "%s,%d,%.6g,%.6g\n", key, n, v[1], med
	n = 0
}
BEGIN { print "arch,kernel,figure,case,metric,n,min,median" }
{
	k = $1 "," $5 "," $6 "," $7 "," $8
	if (k != key)
		flush()
	key = k
	v[++n] = $9
}
END { flush() }' > "$dir/results.csv"

# Markdown: per arch and figure, one row per case and metric.
awk -F, -v meta="$dir/meta.txt" '
BEGIN {
	title["reclaim"] = "Reclaim cost: N empty PTE tables, MADV_PT_RECLAIM vs munmap() of the same range"
	title["scan"] = "Scan cost with nothing to free: MADV_PT_RECLAIM vs mincore() over populated tables"
	title["sparse"] = "Sparse reservation: k empty tables spread over 1 GiB or 64 TiB"
	title["fault"] = "Anonymous write faults per second, small pages, fresh tables"
	title["refault"] = "First touch after reclaim: one fault per table"
	title["upstream"] = "Upstream'"'"'s case: 50 GiB, 25 x 1024 x (write 2 MiB, MADV_DONTNEED), then MADV_PT_RECLAIM"
	title["memory"] = "Memory given back per GiB written and then MADV_DONTNEED'"'"'ed"
	title["dontneed"] = "MADV_DONTNEED with vm.pt_reclaim_dontneed off and on, per table"
	title["ipi"] = "TLB shootdown IPIs per call (x86), a second thread on the other CPU"
	title["remote"] = "A process'"'"'s fault latency (us) while another reclaims its arena with process_madvise()"
}
NR == 1 { next }
{
	if (!($1 in seen)) { seen[$1] = 1; arches[++na] = $1 }
	if ($2 == "unpatched") both[$1] = 1
	r = $1 SUBSEP $3 SUBSEP $4 SUBSEP $5
	if (!(r in have)) { have[r] = 1; rows[++nr] = r }
	n[r, $2] = $6; lo[r, $2] = $7; md[r, $2] = $8
}
function ratio(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "-" }
function cell(r, k) { return ((r, k) in md) ? lo[r, k] " | " md[r, k] : "- | -" }
END {
	for (a = 1; a <= na; a++) {
		arch = arches[a]
		printf "## %s\n", arch
		fig = ""
		for (i = 1; i <= nr; i++) {
			split(rows[i], f, SUBSEP)
			if (f[1] != arch)
				continue
			r = rows[i]
			if (f[2] != fig) {
				fig = f[2]
				printf "\n### %s: %s\n\n", fig, (fig in title) ? title[fig] : fig
				if (arch in both) {
					print "| case | metric | n, patched/unpatched | patched min | patched median | unpatched min | unpatched median | patched/unpatched, medians | patched/unpatched, mins |"
					print "|---|---|---|---|---|---|---|---|---|"
				} else {
					print "| case | metric | n | min | median |"
					print "|---|---|---|---|---|"
				}
			}
			if (arch in both) {
				pr = ((r, "unpatched") in md) ? ratio(md[r, "patched"], md[r, "unpatched"]) " | " ratio(lo[r, "patched"], lo[r, "unpatched"]) : "- | -"
				if (!((r, "patched") in md))
					pr = "- | -"
				printf "| %s | %s | %d/%d | %s | %s | %s |\n", f[3], f[4], n[r, "patched"], n[r, "unpatched"], cell(r, "patched"), cell(r, "unpatched"), pr
			} else {
				printf "| %s | %s | %s | %s |\n", f[3], f[4], n[r, "patched"], cell(r, "patched")
			}
		}
		printf "\n"
	}
}' "$dir/results.csv" > "$dir/results.md.tmp"
{
	echo "# MADV_PT_RECLAIM benchmarks"
	echo
	echo "Made by harness/bench.sh on $(date -u +%Y-%m-%d); QEMU TCG (software"
	echo "emulation: times are of emulated code, noisy; compare ratios taken in one"
	echo "run, not absolute times), $(nproc) host cores, host CPU:"
	echo "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)."
	echo "Min and median over every repetition of every boot; n is their count."
	if [ -s "$dir/meta.txt" ]; then
		echo
		echo '```'
		cat "$dir/meta.txt"
		echo '```'
	fi
	echo
	cat "$dir/results.md.tmp"
} > "$dir/results.md"
rm -f "$dir/results.md.tmp"

# The plot: reclaim vs munmap, ns per table (medians), per arch.
plot=
for arch in $(awk -F, 'NR > 1 && $3 == "reclaim" && $2 == "patched" { print $1 }' "$dir/results.csv" | uniq); do
	for m in reclaim munmap; do
		awk -F, -v a="$arch" -v m="${m}_ns_per_table" \
			'$1 == a && $2 == "patched" && $3 == "reclaim" && $5 == m { sub("tables=", "", $4); print $4, $8 }' \
			"$dir/results.csv" > "$dir/reclaim-$arch-$m.dat"
		[ -s "$dir/reclaim-$arch-$m.dat" ] || continue
		plot="$plot${plot:+, }'$dir/reclaim-$arch-$m.dat' using 1:2 with linespoints title '$arch $m'"
	done
done
if [ -n "$plot" ]; then
	gnuplot <<GP || die "gnuplot failed on $dir/reclaim-*.dat"
set terminal svg size 800,480 dynamic font 'sans,12' noenhanced
set output '$dir/reclaim.svg'
set title 'Freeing N empty PTE tables: MADV_PT_RECLAIM vs munmap (median, QEMU TCG)'
set logscale x 2
set logscale y 10
set xlabel 'empty PTE tables in the range'
set ylabel 'ns per table (log scale)'
set key top right
set grid
plot $plot
GP
fi
info "results: $dir/results.md, $dir/results.csv${plot:+, $dir/reclaim.svg}"
