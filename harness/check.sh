#!/bin/bash
# usage: harness/check.sh
#
# Run every test: for each arch (CHECK_ARCHES, default the confs whose
# RUNS name check, harness/lib.sh confs_in: now "x86_64 x86_64-numa
# s390x arm64 riscv64") build the kernel and the mm
# selftests, boot, run the lists harness/selftests/*.tests (those the
# arch's TEST_LISTS names: x86_64 runs the base kernel's mm selftests and
# the feature's, x86_64-numa (the x86_64 kernel on two NUMA nodes) the
# base ones that need two nodes, arm64
# the feature's and the base ones of the code the series patches
# (mm-patched.tests), the others the feature's; the debug kernels,
# s390x's mm selftests, arm64 on a second CPU model and the slowest base
# selftests are make matrix's, to keep a cold make check within 45
# minutes) and judge the console
# (harness/verdict.sh, with the conf's KUNIT_SUITES required) and its
# skips (harness/skips.sh: the skip budget). The kernels after the first
# are built in the background at the lowest CPU priority while the
# guests before them run (see prebuild below). What needs the x86_64
# kernel only runs as soon as it has run its lists, while the other
# kernels build: the end-to-end scenarios (harness/e2e.sh), the
# allocators' libraries (harness/alloc.sh --check), one variant of the
# mutation suite (harness/mutate.sh vma-coverage) and the harness's own
# tests (harness/tests/*.sh). The upstream checks (harness/lint.sh) and
# the patch series (harness/series-check.sh --quick) run in the background once
# every kernel lint reads has run (before riscv64's guest); their output
# is printed after the arches'. Goes on after a failure; prints the
# skipped count and the time each step took (also in build/check-times),
# then what failed, a line each (a CI log's tail names it), then, last,
# "N passed, N failed" summed over everything. Exits 1 when anything
# failed.
. "$(dirname "$0")/lib.sh"

default_archs=$(confs_in check)
[ -n "$default_archs" ] || die "no harness/arch conf has a RUNS line naming check"
archs=${CHECK_ARCHES:-$default_archs}
pass=0 fail=0 skip=0
t0=$(date +%s)
# the code this run tests, for the status table (not read at the end: a
# commit made meanwhile was not tested)
commit=$(tree_commit)

# failed WHAT: note a failure, to be listed again before the summary
# (WHAT: its lines; of more than 20, the first and the last 10).
failures=
failed() {
	local n
	n=$(printf '%s\n' "$1" | wc -l)
	if [ "$n" -le 20 ]; then
		failures+=$(printf '%s\n' "$1" | sed 's/^/  /')$'\n'
		return
	fi
	failures+=$(printf '%s\n' "$1" | head -n 10 | sed 's/^/  /')$'\n'
	failures+="  ... $((n - 20)) lines more (above) ..."$'\n'
	failures+=$(printf '%s\n' "$1" | tail -n 10 | sed 's/^/  /')$'\n'
}

# row TARGET SUITE PASSED FAILED SKIPPED: a line of the status table
# (build/check-status.md; harness/status.sh publishes it).
status=
row() {
	status+="| $1 | $2 | $3 | $4 | $5 |"$'\n'
}

elapsed() {
	echo "$(( $(date +%s) - $1 )) s"
}

# kernel_of ARCH: the conf whose kernel ARCH boots (its KERNEL_OF, or
# ARCH itself).
kernel_of() {
	(
		load_arch "$1"
		echo "${KERNEL_OF:-$1}"
	)
}

# took STEP SECONDS: note that STEP took SECONDS (build/check-times).
times=
took() {
	times+=$(printf '%-28s %5d s' "$1" "$2")$'\n'
}

# timed STEP START: note that STEP took from START until now.
timed() {
	took "$1" "$(( $(date +%s) - $2 ))"
}

# The machine's speed at the start, so that the times of two runs (on
# other days, other machines) can be compared: ten compiles of one file,
# one CPU, no ccache, nothing else running yet; the first line of
# build/check-times.
s=$(date +%s%N)
speed=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	gcc -O2 -w -c -o /dev/null "$HARNESS/guest/init.c" || { speed=failed; break; }
done
[ -n "$speed" ] || speed=$(printf '%5d ms' "$(( ($(date +%s%N) - s) / 1000000 ))")
times+=$(printf '%-28s %s' "speed: gcc -O2 init.c x10" "$speed")$'\n'

# prebuild ARCH..: build the kernel and the selftests of each ARCH, one
# after the other, at nice 19, each into $pre/ARCH.log, then write
# $pre/ARCH.status ("ok" or "failed"). A TCG guest keeps a host core busy
# only while its vCPU runs: the build takes the time the guest leaves and
# yields the rest (CFS weight 15 against QEMU's 1024), so the guest runs
# as fast as alone and a cold make check is minutes shorter. It starts
# with the first arch's build, which it yields to the same way (the
# first build leaves a core idle in its links and serial steps), on
# the arches whose kernel is another than the first's (x86_64-numa
# boots x86_64's: it is made after it, in the foreground); the steps
# after the arches (lint, series: sparse builds, htmldocs, a series made
# and applied) wait for its end.
pre=$BUILD/check-prebuild
rm -rf "$pre"
mkdir -p "$pre"
prebuild() {
	local a
	for a in "$@"; do
		if (renice -n 19 -p "$BASHPID" > /dev/null && kernel_and_selftests "$a") > "$pre/$a.log" 2>&1; then
			echo ok > "$pre/$a.status"
		else
			echo failed > "$pre/$a.status"
		fi
	done
}
prepid=
endpid=
prebuilt=
# The prebuild and the background lint and series run as jobs of their
# own (set -m: a process group each, stdin from /dev/null). On the way
# out by an error or a signal they go too, children and all, rather than
# build on beside the next run (quietly: bash reports on the jobs it
# loses). A SIGKILL to check.sh leaves them running: no trap runs.
stop_jobs() {
	local p
	for p in $prepid $endpid; do
		! kill -0 -- "-$p" 2>/dev/null || kill -TERM -- "-$p" 2>/dev/null || true
	done
}
trap "stop_jobs 2>/dev/null" EXIT

# build_arch ARCH: its kernel and selftests, the prebuild's (waited for,
# its log printed), or in the foreground for the first arch and those
# that boot its kernel.
build_arch() {
	case " $prebuilt " in
	*" $1 "*) ;;
	*)
		kernel_and_selftests "$1"
		return
		;;
	esac
	while [ ! -e "$pre/$1.status" ] && kill -0 "$prepid" 2>/dev/null; do
		sleep 2
	done
	cat "$pre/$1.log" 2>/dev/null || true
	[ "$(cat "$pre/$1.status" 2>/dev/null)" = ok ] ||
		{ echo "$1: the background build ended without success (log: $pre/$1.log)"; return 1; }
}

# run_arch ARCH: build ARCH's kernel and selftests (the first arch) or
# wait for the prebuild's, boot it with its lists and judge the console
# and the skip budget.
first=1
run_arch() {
	local arch=$1 dir s built out rc p f k reasons rest
	load_arch "$arch"
	dir=$BUILD/$arch/check
	mkdir -p "$dir"
	s=$(date +%s)
	if [ -n "$first" ]; then
		first=
		k=${KERNEL_OF:-$arch}
		# shellcheck disable=SC2086
		prebuilt=$(for a in $(printf '%s\n' $archs | tail -n +2); do
			[ "$(kernel_of "$a")" = "$k" ] || echo "$a"
		done | tr '\n' ' ')
		if [ -n "${prebuilt// /}" ]; then
			set -m
			# shellcheck disable=SC2086
			prebuild $prebuilt < /dev/null &
			prepid=$!
			set +m
		fi
	fi
	built=1
	build_arch "$arch" || built=
	if [ -z "$built" ]; then
		echo "FAILED: $arch: build (see above)"
		failed "$arch: build"
		fail=$((fail + 1))
		row "$arch" "kernel and selftests build" 0 1 0
		timed "$arch: build (failed)" "$s"
		return
	fi
	info "$arch: kernel and selftests ready after $(elapsed "$s")"
	if [ "$arch" = "${archs%% *}" ]; then
		timed "$arch: kernel, selftests" "$s"
	else
		timed "$arch: wait for its build" "$s"
	fi
	# shellcheck disable=SC2086 # TEST_LISTS: a list a word
	init_tests "${KERNEL_OF:-$arch}" $TEST_LISTS > "$dir/init.tests"
	"$HARNESS/initramfs.sh" "$arch" "$dir/initramfs.cpio.gz" "$dir/init.tests" \
		"/t=$BUILD/$arch/selftests"
	s=$(date +%s)
	"$HARNESS/boot.sh" "$arch" "$dir/initramfs.cpio.gz" "$dir/console.log" \
		"${CHECK_TIMEOUT:-2400}" > "$dir/progress.log" || true
	info "$arch: guest ran for $(elapsed "$s") (console: $dir/console.log)"
	timed "$arch: guest" "$s"
	# shellcheck disable=SC2086
	out=$("$HARNESS/verdict.sh" "$arch" "$dir/console.log" $KUNIT_SUITES 2>&1) || true
	printf '%s\n' "$out" | grep -v '^verdict '
	read -r _ p f k <<<"$(printf '%s\n' "$out" | grep '^verdict ' | tail -n 1)"
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-1}))
	skip=$((skip + ${k:-0}))
	# shellcheck disable=SC2086 # TEST_LISTS: a list a word
	row "$arch" "$(printf '%s.tests, ' $TEST_LISTS)KUnit at boot, console" "${p:-0}" "${f:-1}" "${k:-0}"
	# verdict.sh's lines other than its count are the reasons of failures.
	if [ "${f:-1}" != 0 ]; then
		reasons=$(printf '%s\n' "$out" | grep -v -e '^verdict ' -e ' passed, [0-9]* failed, ' || true)
		failed "${reasons:-$arch: verdict.sh gave no count}"
	fi
	# The skip budget (harness/skips.sh): the feature's skips only where
	# harness/selftests/feature-skips.txt allows them, the base mm
	# selftests no worse than on the unpatched kernel. One verdict.
	rm -f "$dir/skips.ktap"
	if out=$(KTAP_DIR=$dir "$HARNESS/skips.sh" "$arch" "$dir/console.log" 2>&1); then
		rc=0
	else
		rc=1
	fi
	printf '%s\n' "$out"
	[ "$rc" = 0 ] || failed "$(printf '%s\n' "$out" | grep -v -e ': ok: ' -e '^skips: [0-9]* problems$')"
	# Its KTAP ($dir/skips.ktap), counted by the kernel's parser; a
	# skips.sh that failed with no failed result of its own (or no
	# KTAP: it died) still counts one failure.
	p='' f=''
	[ ! -f "$dir/skips.ktap" ] || read -r p f _ <<<"$(ktap_count "$dir/skips.ktap" 2>/dev/null)"
	[ "$rc" = 0 ] || [ "${f:-0}" != 0 ] || f=1
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-1}))
	row "$arch" "skip budget" "${p:-0}" "${f:-1}" 0
}

# Every checker writes its results as KTAP (harness/lib-results.sh ktap_start,
# checker_start) into $KTAP_DIR/NAME.ktap; the kernel's parser counts
# them (ktap_count).
export KTAP_DIR=$BUILD/check-ktap
mkdir -p "$KTAP_DIR"
rm -f "$KTAP_DIR"/*.out "$KTAP_DIR"/*.time "$KTAP_DIR"/*.ktap "$KTAP_DIR"/*.part

# checks_run NAME SCRIPT [ARGS]: run a checker that prints "NAME: ok:
# ...", "NAME: FAIL: ..." or "NAME: SKIP: ..." per check and "NAME: N
# problems" last (or, as harness/mutate.sh, "ok: ..." and "FAILED: ...")
# and writes them as KTAP, $KTAP_DIR/NAME.ktap; its
# output into NAME.out there and its time into NAME.time (it may run in
# the background: it changes no variable).
checks_run() {
	local name=$1 script=$2 s
	shift 2
	s=$(date +%s)
	rm -f "$KTAP_DIR/$name.ktap"
	"$script" "$@" > "$KTAP_DIR/$name.out" 2>&1 || true
	echo "$(( $(date +%s) - s ))" > "$KTAP_DIR/$name.time"
}

# checks_tally NAME SCRIPT: print what checks_run saved of NAME and count
# its KTAP with the kernel's parser; one failure when there is none (the
# checker did not finish) or the parser finds no result in it.
checks_tally() {
	local name=$1 script=$2 out nfail npass nskip k
	k=$KTAP_DIR/$name.ktap
	out=$(cat "$KTAP_DIR/$name.out" 2>/dev/null || true)
	took "$name" "$(cat "$KTAP_DIR/$name.time" 2>/dev/null || echo 0)"
	printf '%s\n' "$out"
	npass='' nfail='' nskip=''
	[ ! -f "$k" ] || read -r npass nfail nskip <<<"$(ktap_count "$k" 2>/dev/null)"
	if [ -z "$nfail" ]; then
		echo "FAILED: ${script#"$TOP"/} did not finish (no results in build/check-ktap/$name.ktap)"
		failed "${script#"$TOP"/} did not finish"
		npass=${npass:-0} nfail=1 nskip=${nskip:-0}
	elif [ "$nfail" != 0 ]; then
		failed "$(printf '%s\n' "$out" | grep -e "^$name: FAIL:" -e '^FAILED: ' ||
			echo "$name: kunit.py parse counts $nfail failed (build/check-ktap/$name.ktap)")"
	fi
	pass=$((pass + npass))
	fail=$((fail + nfail))
	skip=$((skip + nskip))
	row "$name" "${script#"$TOP"/}" "$npass" "$nfail" "$nskip"
}

# checks NAME SCRIPT [ARGS]: checks_run, then checks_tally.
checks() {
	checks_run "$@"
	checks_tally "$1" "$2"
}

# x86_64_steps: what needs the x86_64 kernel only, run while the other
# arches' kernels build in the background (guests, mostly: one core
# each, the build takes the other).
x86_64_steps() {
	local s r t name st tp tf
	# End to end (harness/e2e.sh): page-table memory back to the host
	# through free page reporting and virtio-mem, on the x86_64 kernel.
	checks e2e "$HARNESS/e2e.sh"

	# The allocators' libraries (allocators/: preload, jemalloc hooks) in
	# an x86_64 guest with jemalloc, on the test kernel and on the
	# unpatched one (harness/alloc.sh --check).
	checks alloc "$HARNESS/alloc.sh" --check

	# One variant of the mutation suite (make mutate runs them all): the
	# VMA-coverage check taken out of the kernel must turn the feature's
	# selftest red. Its control is the x86_64 run above. A result per
	# variant, in the KTAP mutate.sh writes.
	MUTATE_QUICK=1 checks_run mutate "$HARNESS/mutate.sh" vma-coverage
	checks_tally mutate "$HARNESS/mutate.sh vma-coverage"

	# Harness self-tests (some boot the x86_64 kernel built above): one
	# result each, from the exit status, in build/check-ktap/harness.ktap
	# (the tests' own checkers write theirs to build/ktap, not here).
	st=$(date +%s)
	ktap_start harness
	for t in "$HARNESS"/tests/*.sh; do
		[ -e "$t" ] || continue
		name=harness/tests/$(basename "$t")
		s=$(date +%s)
		if env -u KTAP_DIR "$t"; then
			r=ok
		else
			r=fail
			failed "$name"
		fi
		s=$(elapsed "$s")
		if [ "$r" = ok ]; then
			echo "ok: $name ($s)"
		else
			echo "FAILED: $name ($s)"
		fi
		ktap_add "$r" "$name ($s)"
	done
	ktap_write > /dev/null
	tp='' tf=''
	read -r tp tf _ <<<"$(ktap_count "$KTAP_DIR/harness.ktap" 2>/dev/null)"
	tp=${tp:-0} tf=${tf:-1}
	pass=$((pass + tp))
	fail=$((fail + tf))
	row harness "harness/tests/*.sh" "$tp" "$tf" 0
	timed "harness/tests" "$st"
}

# The upstream checks (harness/lint.sh: checkpatch, kernel-doc,
# htmldocs, sparse per arch against the base) and the patch series
# (harness/series-check.sh --quick: checkpatch per patch, git am on the
# base, and the series' fingerprint against results/series/results.md,
# the record of make series-check's per-patch builds, which a cold
# make check has no time for), one after the other. Sparse runs
# on the arches that build their own kernel, but not the debug kernels
# (the same files as their plain arch) or a conf with LINT_SPARSE=no
# (riscv64: Debian's sparse rejects its -march). A partial run
# (CHECK_ARCHES) leaves out lint when it builds no arch sparse runs
# on, and the series when it builds no x86_64 kernel (the series'
# fingerprint is of that build's inputs), and says so: lint.sh without
# arches would take its default ones, whose kernels were not built.
# shellcheck disable=SC2086 # archs: an arch a word
lint_archs=$(sparse_archs $archs)
series_wanted=
for arch in $archs; do
	[ "$(kernel_of "$arch")" != x86_64 ] || series_wanted=1
done
end_checks() {
	# shellcheck disable=SC2086 # lint_archs: an arch a word
	[ -z "$lint_archs" ] || checks_run lint "$HARNESS/lint.sh" $lint_archs
	[ -z "$series_wanted" ] || checks_run series "$HARNESS/series-check.sh" --quick
}
# They start in the background as soon as every kernel they read has run
# its lists (before the last arch, riscv64, whose kernel lint does not
# read): the prebuild, at nice 19, yields them the CPU, and they use the
# core the last guests leave; else (no such arch) after the arches.
# lint_ready ARCH...: the arches still to run (the prebuild's too) are
# ARCH...; true when none of them boots a kernel that lint or the series
# builds from (the lint arches', x86_64's): so every arch lint reads has
# run its lists, and the prebuild will not make one of those kernels
# again beside them, in the same directory (CHECK_ARCHES="s390x
# x86_64-numa").
lint_ready() {
	local a k l
	for a in "$@"; do
		k=$(kernel_of "$a")
		for l in $lint_archs x86_64; do
			[ "$k" != "$l" ] || return 1
		done
	done
}
# The arches in order, and the x86_64 steps as soon as the x86_64 kernel
# has run its lists and before the first arch whose kernel the prebuild
# is making (CHECK_KERNELS_ONLY=1, harness/matrix.sh: the kernels only).
x86_64_wanted=
case " $archs " in
*" x86_64 "*) [ -n "${CHECK_KERNELS_ONLY:-}" ] || x86_64_wanted=1 ;;
esac
x86_64_ran=
# shellcheck disable=SC2206 # archs: an arch a word
left=($archs)
for arch in $archs; do
	if [ -n "$x86_64_wanted" ] && [ -n "$x86_64_ran" ] &&
		[ "$(kernel_of "$arch")" != x86_64 ]; then
		x86_64_steps
		x86_64_wanted=
	fi
	if [ -z "${CHECK_KERNELS_ONLY:-}" ] && [ -z "$endpid" ] &&
		[ -z "$x86_64_wanted" ] && [ -n "$lint_archs$series_wanted" ] &&
		lint_ready "${left[@]}"; then
		info "$(echo ${lint_archs:+lint} ${series_wanted:+series} | sed 's/ / and /'): started in the background (output after the arches')"
		set -m
		end_checks < /dev/null &
		endpid=$!
		set +m
	fi
	run_arch "$arch"
	[ "$arch" != x86_64 ] || x86_64_ran=1
	left=("${left[@]:1}")
done
[ -z "$x86_64_wanted" ] || x86_64_steps

# Normally done already: the last arch waited for its build.
[ -z "$prepid" ] || wait "$prepid" || true
prepid=

if [ -z "${CHECK_KERNELS_ONLY:-}" ]; then
	if [ -n "$endpid" ]; then
		wait "$endpid" || true
		endpid=
	else
		end_checks
	fi
	if [ -n "$lint_archs" ]; then
		checks_tally lint "$HARNESS/lint.sh"
	else
		info "lint: not run: CHECK_ARCHES=\"$archs\" has none of the arches sparse runs on"
	fi
	if [ -n "$series_wanted" ]; then
		checks_tally series "$HARNESS/series-check.sh"
	else
		info "series: not run: CHECK_ARCHES=\"$archs\" builds no x86_64 kernel, whose inputs the series' fingerprint is of"
	fi
fi
timed "all" "$t0"
printf '%s' "$times" > "$BUILD/check-times"
# The status table, for harness/status.sh (make status): what ran, on
# which commit, when, and the counts per target and suite. Not for a
# make matrix entry (CHECK_KERNELS_ONLY), which is no make check.
scope=full
[ "$archs" = "$default_archs" ] || scope="partial: CHECK_ARCHES=\"$archs\""
[ -n "${CHECK_KERNELS_ONLY:-}" ] || {
	echo "commit $commit"
	echo "date $(date -u '+%Y-%m-%d %H:%M') UTC"
	echo "scope $scope"
	echo "minutes $(( ($(date +%s) - t0 + 30) / 60 ))"
	echo "total $pass $fail $skip"
	echo "| target | suite | passed | failed | skipped |"
	echo "|---|---|---|---|---|"
	printf '%s' "$status"
} > "$BUILD/check-status.md"
echo "time per step (build/check-times):"
printf '%s' "$times"
echo "all done in $(elapsed "$t0"); $skip skipped (reasons: the '# SKIP' lines in build/*/check/console.log)"
if [ -n "$failures" ]; then
	echo "what failed (details above):"
	printf '%s' "$failures"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
