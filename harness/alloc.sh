#!/bin/bash
# usage: harness/alloc.sh [--check]
#
# Allocators against MADV_PT_RECLAIM, on the x86_64 test kernel. Builds
# allocators/churn.c (linked dynamically, against glibc), the preload
# library allocators/preload/libptreclaim.so and harness/guest/alloc-test.c;
# puts them in an initramfs with the dynamic loader, the libraries they
# need and the allocators of Debian's packages (libjemalloc2,
# libtcmalloc-minimal4, libmimalloc2.0), at the host's paths; boots the
# x86_64 test kernel and runs alloc-test:
#
#   without --check: every allocator x every reclaim method, once each;
#                    the results in build/alloc/results.csv and
#                    build/alloc/results.md (a table: page tables at the
#                    peak and kept at the end, RSS, throughput against the
#                    allocator alone). ALLOC_SECONDS (3) of churn per
#                    run, then ALLOC_WAIT (11) seconds idle: longer than
#                    jemalloc's 10 s decay.
#   --check:         the preload library's checks; prints "alloc: ok: ..."
#                    or "alloc: FAIL: ..." per check and "alloc: N
#                    problems" last (harness/check.sh counts them).
#
# The libraries are the host's, so only x86_64.
. "$(dirname "$0")/lib.sh"

check=false
case ${1:-} in
--check) check=true ;;
"") ;;
*) die "usage: $me [--check]" ;;
esac
load_arch x86_64
out=$BUILD/alloc
mkdir -p "$out"
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
gcc -O2 -Wall -Wextra -Werror -pthread -o "$out/churn" "$TOP/allocators/churn.c" >>"$log" 2>&1 ||
	die "allocators/churn.c did not build; see $log"
make -s -C "$TOP/allocators/preload" O="$out" >>"$log" 2>&1 ||
	die "allocators/preload did not build; see $log"
gcc -static -O2 -Wall -Wextra -Werror -I"$SRC/tools/testing/selftests" \
	-o "$out/alloc-test" "$HARNESS/guest/alloc-test.c" >>"$log" 2>&1 ||
	die "harness/guest/alloc-test.c did not build; see $log"

# The dynamic loader and every library the programs and the allocators
# load, at the paths ldd names (the loader finds them through
# LD_LIBRARY_PATH, set by alloc-test).
files=
# shellcheck disable=SC2086 # $allocs: one path per word
for f in "$out/churn" "$out/libptreclaim.so" $allocs; do
	files="$files $(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')"
done
extra=
# shellcheck disable=SC2086 # $files, $allocs: one path per word
for f in $(printf '%s\n' $files $allocs | sort -u); do
	extra="$extra $f=$f"
done

if $check; then
	args="-c"
	secs=600
else
	args="-s ${ALLOC_SECONDS:-3} -w ${ALLOC_WAIT:-11}"
	secs=3600
fi
dir=$out/guest
mkdir -p "$dir"
echo "run alloc-test $secs /t/alloc-test $args" > "$dir/init.tests"
# shellcheck disable=SC2086
"$HARNESS/initramfs.sh" x86_64 "$dir/initramfs.cpio.gz" "$dir/init.tests" \
	"/t/churn=$out/churn" "/t/libptreclaim.so=$out/libptreclaim.so" \
	"/t/alloc-test=$out/alloc-test" "/t/ptreclaim=$BUILD/x86_64/selftests/ptreclaim" \
	$extra
rc=0
"$HARNESS/boot.sh" x86_64 "$dir/initramfs.cpio.gz" "$dir/console.log" $((secs + 120)) \
	> "$dir/progress.log" || rc=$?
reported=false
kernel_reported x86_64 "$dir/console.log" && reported=true

if $check; then
	problems=0
	while IFS= read -r line; do
		case $line in
		"ok "*) echo "alloc: ok: ${line#ok [0-9]* }" ;;
		"not ok "*) echo "alloc: FAIL: ${line#not ok [0-9]* }"; problems=$((problems + 1)) ;;
		esac
	done < <(grep -a -E '^(not )?ok [0-9]+ preload: ' "$dir/console.log")
	if [ "$rc" -ne 0 ] || $reported; then
		echo "alloc: FAIL: the guest run (status $rc; kernel report: $reported; console: $dir/console.log)"
		problems=$((problems + 1))
	fi
	echo "alloc: $problems problems"
	exit 0
fi

[ "$rc" -eq 0 ] && ! $reported ||
	die "the guest run failed (status $rc; kernel report: $reported); console: $dir/console.log"
grep -a '^alloc,' "$dir/console.log" | tr -d '\r' > "$out/raw.csv"
[ -s "$out/raw.csv" ] || die "alloc-test printed no result; console: $dir/console.log"
{
	echo "allocator,method,fresh_vmpte_kb,peak_vmpte_kb,end_vmpte_kb,peak_vmrss_kb,end_vmrss_kb,ops_per_s"
	awk -F, '{ v[$2 "," $3 "," $4] = $5; if (!(($2 "," $3) in seen)) { seen[$2 "," $3] = 1; order[++n] = $2 "," $3 } }
	END { for (i = 1; i <= n; i++) { k = order[i]
		printf "%s,%s,%s,%s,%s,%s,%s\n", k, v[k ",fresh_vmpte_kb"], v[k ",peak_vmpte_kb"],
			v[k ",end_vmpte_kb"], v[k ",peak_vmrss_kb"], v[k ",end_vmrss_kb"], v[k ",ops_per_s"] } }' "$out/raw.csv"
} > "$out/results.csv"
{
	echo "# Allocators and MADV_PT_RECLAIM"
	echo
	echo "Made by harness/alloc.sh on $(date -u +%Y-%m-%d); x86_64 test kernel under QEMU TCG, 2 vCPUs;"
	echo "allocators/churn.c, 4 threads, ${ALLOC_SECONDS:-3} s of churn, then everything freed."
	echo "Page tables: VmPTE above the fresh process's, in kB. End: ${ALLOC_WAIT:-11} s after the free"
	echo "(method self: after its MADV_PT_RECLAIM). Throughput: churn operations per"
	echo "second against the same allocator with no reclaim, in the same boot (TCG: noisy)."
	echo
	echo "| allocator | method | tables at peak | tables kept at end | RSS at end (MiB) | throughput vs none |"
	echo "|---|---|---|---|---|---|"
	awk -F, 'NR > 1 { if ($2 == "none") base[$1] = $8
		printf "| %s | %s | %d | %d | %.1f | %.2f |\n", $1, $2, $4 - $3, $5 - $3, $7 / 1024,
			base[$1] ? $8 / base[$1] : 0 }' "$out/results.csv"
} > "$out/results.md"
cat "$out/results.md"
info "results: $out/results.md, $out/results.csv (console: $dir/console.log)"
