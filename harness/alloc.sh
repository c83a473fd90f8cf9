#!/bin/bash
# usage: harness/alloc.sh [--check | --report | --reuse]
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
#                    build/alloc/raw.csv and build/alloc/meta
#                    (harness/alloc-report.sh, which the run ends with).
#   --check:         the libraries' checks on the test kernel, then their
#                    checks for a kernel without MADV_PT_RECLAIM, on the
#                    same kernel with a seccomp filter that answers the
#                    advice with EINVAL as the unpatched kernel does
#                    (harness/tests/no-pt-reclaim around alloc-test -n:
#                    the libraries read no sysctl or counter, so the
#                    advice's answer is all they see of the kernel; no
#                    second kernel to build); prints "alloc: ok: ..." or "alloc: FAIL: ..." per
#                    check and "alloc: N problems" last, and writes them
#                    as KTAP (build/ktap/alloc.ktap), which
#                    harness/check.sh counts.
#   --reuse:         the database pattern (allocators/reuse.c: one
#                    reservation, extents released with MADV_DONTNEED)
#                    under stock, none, periodic MADV_PT_RECLAIM (every
#                    second, every tenth), MADV_PT_RECLAIM over each
#                    release's spans and mmap()/munmap(), REUSE_RUNS
#                    (3) times of REUSE_SECONDS (20) each in one boot:
#                    build/reuse/raw.csv, results.md and vmpte.svg
#                    (harness/reuse-report.sh). About 8 minutes.
#
# The libraries are the host's, so only x86_64.
. "$(dirname "$0")/lib.sh"

check=false reuse=false
case ${1:-} in
--check) check=true ;;
--reuse) reuse=true ;;
--report) ;;
"") ;;
*) die "usage: $me [--check | --report | --reuse]" ;;
esac
load_arch x86_64
out=$BUILD/alloc
mkdir -p "$out"


if [ "${1:-}" = --report ]; then
	exec "$HARNESS/alloc-report.sh"
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
# The Go workload (static, no cgo), for the allocator matrix only: Debian's
# golang-go, its build cache under build/ (GOPROXY=off: no network).
gofiles=()
if ! $check && ! $reuse; then
	need_cmd go golang-go
	GOCACHE=$BUILD/go-cache GOPATH=$BUILD/go-path GO111MODULE=off GOPROXY=off \
		CGO_ENABLED=0 GOARCH=amd64 go build -trimpath -o "$out/churn-go" \
		"$TOP/allocators/go/churn.go" >>"$log" 2>&1 ||
		die "allocators/go/churn.go did not build; see $log"
	gofiles=("/t/churn-go=$out/churn-go")
fi
gcc -static -O2 -Wall -Wextra -Werror -o "$out/reuse" "$TOP/allocators/reuse.c" \
	>>"$log" 2>&1 || die "allocators/reuse.c did not build; see $log"
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
		"/t/reuse=$out/reuse" "${gofiles[@]}" \
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
		"ok "*"# SKIP"*) line=${line#ok [0-9]* }; checker_skip "${line%%# SKIP*}" ;;
		"ok "*) checker_ok "${line#ok [0-9]* }" ;;
		"not ok "*) checker_fail "${line#not ok [0-9]* }" ;;
		esac
	done < <(grep -a -E '^(not )?ok [0-9]+ (preload|hooks): ' "$dir/console.log")
	if [ "$rc" -ne 0 ] || $reported; then
		checker_fail "the guest run on the $1 kernel (status $rc; kernel report: $reported; console: $dir/console.log)"
	fi
}

if $check; then
	checker_start alloc
	guest check -c 600
	collect patched
	guest check-nofeature "-n" 600 /t/no-pt-reclaim
	collect "seccomp-hidden"
	checker_end
	exit
fi

if $reuse; then
	runs=${REUSE_RUNS:-3} secs=${REUSE_SECONDS:-20}
	[[ $runs =~ ^[1-9][0-9]*$ ]] || die "REUSE_RUNS=$runs: want a number of runs, 1 or more"
	[[ $secs =~ ^[1-9][0-9]*$ ]] || die "REUSE_SECONDS=$secs: want a whole number of seconds, 1 or more"
	# the code measured, for the report (not read at its end)
	commit=$(tree_commit)
	guest reuse-run "-d -r $runs -s $secs" $((runs * 6 * (secs + 5)))
	[ "$rc" -eq 0 ] && ! $reported ||
		die "the guest run failed (status $rc; kernel report: $reported); console: $dir/console.log"
	res=$BUILD/reuse
	mkdir -p "$res"
	grep -a '^reuse,' "$dir/console.log" | tr -d '\r' > "$res/raw.csv"
	[ -s "$res/raw.csv" ] || die "alloc-test -d printed no result; console: $dir/console.log"
	printf 'runs=%s\nseconds=%s\ncommit=%q\ndate=%s\n' "$runs" "$secs" "$commit" \
		"$(date -u +%Y-%m-%d)" > "$res/meta"
	exec "$HARNESS/reuse-report.sh"
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
"$HARNESS/alloc-report.sh"
info "results: $out/results.md, $out/results.csv (console: $dir/console.log)"
