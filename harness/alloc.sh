#!/bin/bash
# usage: harness/alloc.sh [--check | --report]
#
# Allocators against MADV_PT_RECLAIM, on the x86_64 test kernel. Builds
# allocators/churn.c (linked dynamically, against glibc), the libraries
# of allocators/ (libptreclaim.so, libptreclaim-jemalloc.so) and
# harness/guest/alloc-test.c; puts them in an initramfs with the dynamic
# loader, the libraries they need and the allocators of Debian's
# packages (libjemalloc2, libtcmalloc-minimal4, libmimalloc2.0), at the
# host's paths; boots the x86_64 test kernel and runs alloc-test:
#
#   without --check: every allocator x every reclaim method, ALLOC_RUNS
#                    (3) times in one boot; build/alloc/raw.csv (every
#                    run), results.csv and results.md (medians; the
#                    throughput against the allocator alone in the same
#                    run, median and range). ALLOC_SECONDS (3) of churn
#                    per run, then ALLOC_WAIT (11) seconds idle: longer
#                    than jemalloc's 10 s decay. About 10 minutes a run.
#   --report:        only make results.csv and results.md again, from
#                    build/alloc/raw.csv and build/alloc/meta.
#   --check:         the libraries' checks on the test kernel, then their
#                    checks for a kernel without MADV_PT_RECLAIM, on the
#                    same kernel with a seccomp filter that answers the
#                    advice with EINVAL as the unpatched kernel does
#                    (harness/tests/no-pt-reclaim around alloc-test -n:
#                    the libraries read no sysctl or counter, so the
#                    advice's answer is all they see of the kernel; no
#                    second kernel to build); prints "alloc: ok: ..." or "alloc: FAIL: ..." per
#                    check and "alloc: N problems" last (harness/check.sh
#                    counts them).
#
# The libraries are the host's, so only x86_64.
. "$(dirname "$0")/lib.sh"

check=false
case ${1:-} in
--check) check=true ;;
--report) ;;
"") ;;
*) die "usage: $me [--check | --report]" ;;
esac
load_arch x86_64
out=$BUILD/alloc
mkdir -p "$out"

# report: build/alloc/results.csv and results.md from raw.csv and meta
# (what the run was: runs, seconds, wait).
report() {
	. "$out/meta"
	# Per allocator and method, over the runs: medians of the page tables
	# (kB above the fresh process: at the peak, kept at the end; and at the
	# end, VmPTE minus the tables over a page: those that map nothing), of
	# the RSS at the end and of the libraries' calls and time in them; the
	# throughput against the allocator with no reclaim in the same run:
	# median, min and max.
	awk -F, -v OFS=, '
	function med(str,   v, n, i, j, t) {
		n = split(str, v, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
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
		echo "everything freed; every cell the median of $runs runs."
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
}

if [ "${1:-}" = --report ]; then
	[ -s "$out/raw.csv" ] && [ -f "$out/meta" ] ||
		die "$out/raw.csv or $out/meta missing: run 'make alloc' first"
	report
	cat "$out/results.md"
	exit 0
fi

libdir=/usr/lib/x86_64-linux-gnu
allocs=
for l in libjemalloc.so.2:libjemalloc2 libtcmalloc_minimal.so.4:libtcmalloc-minimal4 \
	 libmimalloc.so.2:libmimalloc2.0; do
	[ -e "$libdir/${l%%:*}" ] ||
		die "$libdir/${l%%:*} not found; run 'make install' (package ${l#*:})"
	allocs="$allocs $libdir/${l%%:*}"
done

"$HARNESS/build.sh" x86_64
[ -x "$BUILD/x86_64/selftests/ptreclaim" ] || "$HARNESS/selftests.sh" x86_64

log=$out/build.log
: > "$log"
# the kernel's uapi headers: PAGEMAP_SCAN (6.7) for churn's used_tables_kb
gcc -O2 -Wall -Wextra -Werror -pthread -isystem "$KBUILD/usr/include" \
	-o "$out/churn" "$TOP/allocators/churn.c" >>"$log" 2>&1 ||
	die "allocators/churn.c did not build; see $log"
make -s -C "$TOP/allocators" O="$out" >>"$log" 2>&1 ||
	die "the libraries of allocators/ did not build; see $log"
gcc -static -O2 -Wall -Wextra -Werror -I"$SRC/tools/testing/selftests" \
	-o "$out/alloc-test" "$HARNESS/guest/alloc-test.c" >>"$log" 2>&1 ||
	die "harness/guest/alloc-test.c did not build; see $log"
gcc -static -O2 -Wall -Wextra -Werror -o "$out/no-pt-reclaim" \
	"$HARNESS/tests/no-pt-reclaim.c" >>"$log" 2>&1 ||
	die "harness/tests/no-pt-reclaim.c did not build; see $log"

# The dynamic loader and every library the programs and the allocators
# load, at the paths ldd names (the loader finds them through
# LD_LIBRARY_PATH, set by alloc-test).
files=
# shellcheck disable=SC2086 # $allocs: one path per word
for f in "$out/churn" "$out/libptreclaim.so" "$out/libptreclaim-jemalloc.so" $allocs; do
	files="$files $(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')"
done
extra=
# shellcheck disable=SC2086 # $files, $allocs: one path per word
for f in $(printf '%s\n' $files $allocs | sort -u); do
	extra="$extra $f=$f"
done

# guest RUN-NAME ARGS SECONDS [WRAPPER]: boot (KERNEL: another image)
# with "[WRAPPER] alloc-test ARGS" in dir=$out/RUN-NAME; sets dir, rc and
# reported.
guest() {
	dir=$out/$1
	mkdir -p "$dir"
	echo "run alloc-test $3 ${4:+$4 }/t/alloc-test $2" > "$dir/init.tests"
	# shellcheck disable=SC2086
	"$HARNESS/initramfs.sh" x86_64 "$dir/initramfs.cpio.gz" "$dir/init.tests" \
		"/t/churn=$out/churn" "/t/libptreclaim.so=$out/libptreclaim.so" \
		"/t/libptreclaim-jemalloc.so=$out/libptreclaim-jemalloc.so" \
		"/t/alloc-test=$out/alloc-test" "/t/no-pt-reclaim=$out/no-pt-reclaim" \
		"/t/ptreclaim=$BUILD/x86_64/selftests/ptreclaim" \
		$extra
	rc=0
	"$HARNESS/boot.sh" x86_64 "$dir/initramfs.cpio.gz" "$dir/console.log" $(($3 + 120)) \
		> "$dir/progress.log" || rc=$?
	reported=false
	if kernel_reported x86_64 "$dir/console.log"; then reported=true; fi
}

# collect KERNEL: count the checks of the last guest run
collect() {
	while IFS= read -r line; do
		case $line in
		"ok "*) echo "alloc: ok: ${line#ok [0-9]* }" ;;
		"not ok "*) echo "alloc: FAIL: ${line#not ok [0-9]* }"; problems=$((problems + 1)) ;;
		esac
	done < <(grep -a -E '^(not )?ok [0-9]+ (preload|hooks): ' "$dir/console.log")
	if [ "$rc" -ne 0 ] || $reported; then
		echo "alloc: FAIL: the guest run on the $1 kernel (status $rc; kernel report: $reported; console: $dir/console.log)"
		problems=$((problems + 1))
	fi
}

if $check; then
	problems=0
	guest check -c 600
	collect patched
	guest check-nofeature "-n" 600 /t/no-pt-reclaim
	collect "seccomp-hidden"
	echo "alloc: $problems problems"
	exit 0
fi

runs=${ALLOC_RUNS:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "ALLOC_RUNS=$runs: want a number of runs, 1 or more"
guest matrix "-r $runs -s ${ALLOC_SECONDS:-3} -w ${ALLOC_WAIT:-11}" $((runs * 1200))
[ "$rc" -eq 0 ] && ! $reported ||
	die "the guest run failed (status $rc; kernel report: $reported); console: $dir/console.log"
grep -a '^alloc,' "$dir/console.log" | tr -d '\r' > "$out/raw.csv"
[ -s "$out/raw.csv" ] || die "alloc-test printed no result; console: $dir/console.log"
{
	echo "runs=$runs"
	echo "seconds=${ALLOC_SECONDS:-3}"
	echo "wait=${ALLOC_WAIT:-11}"
} > "$out/meta"
report
cat "$out/results.md"
info "results: $out/results.md, $out/results.csv (console: $dir/console.log)"
