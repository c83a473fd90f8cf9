#!/bin/bash
# usage: harness/bench.sh [ARCH...]
#
# The benchmarks (tools/testing/selftests/mm/pt_reclaim_bench.c): for each
# ARCH (default: the confs whose RUNS name bench, harness/lib.sh
# confs_in), build the test kernel and, for the arches in BENCH_UNPATCHED
# (default: x86_64), the same kernel from the unpatched base with the same
# .config (build/ARCH/kernel-base); then boot BENCH_BOOTS times (default
# 3) each kernel, interleaved (patched, unpatched, patched, ...) so that a
# slow spell of the host does not land on one kernel only, and run
# pt_reclaim_bench BENCH_ARGS in each boot. The results, in build/bench
# (harness/bench-report.sh): raw.csv (every measurement), results.csv (min
# and median per figure, case and metric), results.md and reclaim.svg;
# meta.txt says what each boot ran. The console of each boot is kept as
# build/bench/ARCH-KERNEL-BOOT.log.
#
# Wall-clock time under TCG moves by tens of percent from boot to boot,
# too much to see a 1% change of the fault path or to judge a 1.10 goal.
# So every arch also runs the dontneed figure (and, with an unpatched
# kernel, the fault figure, on both kernels) under QEMU's -icount
# (shift=0: one emulated instruction is one ns of guest time, whatever
# the host does), reported as arch "ARCH-icount": a count of
# instructions, deterministic up to interrupts and scheduling, not of
# cycles (caches, TLB misses and TLB flushes cost nothing there, which
# is why the reclaim figure, whose cost against munmap() is mostly
# flushes, is not run so; it would also take an hour). Being
# deterministic, it runs in the first boot round only. BENCH_ICOUNT=0
# leaves it out.
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2046 # an arch a word
[ $# -ge 1 ] || set -- $(confs_in bench)
[ $# -ge 1 ] || die "no ARCH given and no harness/arch conf with RUNS naming bench"
boots=${BENCH_BOOTS:-3}
unpatched=${BENCH_UNPATCHED-x86_64}
case $boots in '' | *[!0-9]* | 0) die "BENCH_BOOTS=$boots: want a number of boots, 1 or more" ;; esac
need_cmd gnuplot gnuplot-nox
out=$BUILD/bench
mkdir -p "$out"


runs=
for arch in "$@"; do
	load_arch "$arch"
	"$HARNESS/build.sh" "$arch"
	"$HARNESS/selftests.sh" "$arch"
	bin=$BUILD/$arch/selftests/pt_reclaim_bench
	[ -x "$bin" ] || die "$arch: $bin was not built; see $BUILD/$arch/selftests.log"
	kernels=patched
	case " $unpatched " in *" $arch "*)
		build_unpatched
		kernels="patched unpatched" ;;
	esac
	printf 'run pt_reclaim_bench %s /t/pt_reclaim_bench %s\n' \
		"${BENCH_TIMEOUT:-1200}" "${BENCH_ARGS:-}" > "$out/$arch.init.tests"
	"$HARNESS/initramfs.sh" "$arch" "$out/$arch.cpio.gz" "$out/$arch.init.tests" \
		"/t/pt_reclaim_bench=$bin"
	for k in $kernels; do
		runs="$runs $arch:$k:tcg"
	done
	[ "${BENCH_ICOUNT:-1}" = 0 ] || {
		figs=dontneed
		for k in $kernels; do
			runs="$runs $arch:$k:icount"
		done
		[ "$kernels" = patched ] || figs=$figs,fault
		printf 'run pt_reclaim_bench %s /t/pt_reclaim_bench -f %s\n' \
			"${BENCH_TIMEOUT:-1200}" "$figs" > "$out/$arch-icount.init.tests"
		"$HARNESS/initramfs.sh" "$arch" "$out/$arch-icount.cpio.gz" \
			"$out/$arch-icount.init.tests" "/t/pt_reclaim_bench=$bin"
	}
done

raw=$out/raw.csv
echo "arch,kernel,boot,figure,case,metric,value" > "$raw.tmp"
: > "$out/meta.txt.tmp"
for b in $(seq 1 "$boots"); do
	for r in $runs; do
		IFS=: read -r arch k mode <<<"$r"
		[ "$mode" = tcg ] || [ "$b" = 1 ] || continue
		load_arch "$arch"
		label=$arch cpio=$out/$arch.cpio.gz extra=
		if [ "$mode" = icount ]; then
			label=$arch-icount cpio=$out/$arch-icount.cpio.gz
			extra="-icount shift=0,sleep=off"
		fi
		log=$out/$label-$k-$b.log
		kernel=$KBUILD/$KERNEL_IMAGE
		[ "$k" = patched ] || kernel=$BUILD/$arch/kernel-base/$KERNEL_IMAGE
		info "$label: $k kernel, boot $b of $boots"
		s=$(date +%s)
		KERNEL=$kernel QEMU_EXTRA=$extra "$HARNESS/boot.sh" "$arch" "$cpio" "$log" \
			>/dev/null || die "$label: pt_reclaim_bench failed on the $k kernel (console: $log)"
		info "$label: $k boot $b took $(( $(date +%s) - s )) s"
		grep -a '^bench,' "$log" | grep -v '^bench,meta,' |
			sed "s/^bench,/$label,$k,$b,/" >> "$raw.tmp"
		# one line per boot: "LABEL KERNEL boot B: key=value; ..."
		{
			printf '%s %s boot %s: ' "$label" "$k" "$b"
			grep -a '^bench,meta,' "$log" | tr -d '\r' |
				sed 's/^bench,meta,,\([^,]*\),/\1=/' | paste -sd';' | sed 's/;/; /g'
		} >> "$out/meta.txt.tmp"
	done
done
mv "$raw.tmp" "$raw"
mv "$out/meta.txt.tmp" "$out/meta.txt"
"$HARNESS/bench-report.sh" "$out"
