#!/bin/bash
# usage: harness/soak.sh [ARCH...]
#
# The soak run: the torture test (tools/testing/selftests/mm/
# pt_reclaim_torture) for SOAK_SECONDS (default 600) on each ARCH
# (default SOAK_ARCHES, else the confs whose RUNS name soak, harness/lib.sh
# confs_in: now x86_64 x86_64-debug s390x arm64), booted by
# harness/run.sh, which fails the run on any kernel report. Builds each
# arch's test kernel and selftests first. Per arch: the seed, the
# operations done, the reclaim calls, the PTE and PMD tables freed, the
# data mismatches (must be 0) and the verdict, into build/soak/ARCH.log
# and a row of results/soak/results.md (a run replaces its arches' rows).
# Prints "N passed, N failed" last; exits 1 when a run failed. About
# SOAK_SECONDS plus two minutes an arch (the debug kernel: its build, 12
# minutes cold, and a slower guest).
. "$(dirname "$0")/lib.sh"

secs=${SOAK_SECONDS:-600}
case $secs in '' | *[!0-9]*) die "SOAK_SECONDS=$secs: not a number of seconds" ;; esac
arches=${*:-${SOAK_ARCHES:-$(confs_in soak)}}
[ -n "$arches" ] || die "no ARCH given and no harness/arch conf with a RUNS line naming soak"
for a in $arches; do
	[ -f "$HARNESS/arch/$a.conf" ] || die "unknown ARCH '$a'"
done
log=$BUILD/soak
res=$TOP/results/soak
mkdir -p "$log" "$res"
commit=$(tree_commit)
pass=0 fail=0 rows=''
for a in $arches; do
	s=$(date +%s)
	out=$log/$a.log
	info "$a: building (log: $out)"
	if ! kernel_and_selftests "$a" >"$out" 2>&1; then
		echo "FAILED: $a: the kernel or the selftests do not build (log: $out)"
		fail=$((fail + 1))
		rows+="| $a | $commit | $(date -u +%Y-%m-%d) | $secs | - | - | - | - | - | - | build failed |"$'\n'
		continue
	fi
	load_arch "$a"
	info "$a: torture for $secs s (log: $out)"
	rc=0
	RUN_TIMEOUT=$((secs + 300)) "$HARNESS/run.sh" "$a" \
		"$BUILD/$a/selftests/pt_reclaim_torture" -s "$secs" >>"$out" 2>&1 || rc=$?
	seed=$(sed -n 's/.*# seed \([0-9]*\),.*/\1/p' "$out" | head -n 1)
	ops=$(awk '/# [a-z_]+ +[0-9]+ done +[0-9]+ declined/ {
		for (i = 1; i < NF; i++) if ($(i + 1) == "done") n += $i } END { print n + 0 }' "$out")
	read -r calls freed <<<"$(sed -n 's/.*reclaimer calls \([0-9]*\), .* freed \(-\?[0-9]*\)$/\1 \2/p' "$out" | tail -n 1)"
	pmd=$(sed -n 's/.*PMD worker: .*, \([0-9]*\) PMD tables freed$/\1/p' "$out" | tail -n 1)
	mism=$(sed -n 's/.*data intact (\([0-9]*\) mismatches).*/\1/p' "$out" | tail -n 1)
	verdict=passed
	if [ "$rc" != 0 ] || [ "${mism:-x}" != 0 ] || [ -z "${calls:-}" ]; then
		verdict="FAILED (status $rc)"
		echo "FAILED: $a: the torture run failed (status $rc, mismatches ${mism:-?}; log: $out, console: $BUILD/$a/run/console.log)"
		grep -aE 'not ok|MISMATCH|kernel report' "$out" | head -n 10
		fail=$((fail + 1))
	else
		echo "ok: $a: $secs s, seed $seed: $ops operations, $calls reclaim calls, $freed PTE tables and ${pmd:-0} PMD tables freed, 0 mismatches, console clean"
		pass=$((pass + 1))
	fi
	cp "$BUILD/$a/run/console.log" "$log/$a.console.log" 2>/dev/null || true
	rows+="| $a | $commit | $(date -u +%Y-%m-%d) | $secs | ${seed:--} | $ops | ${calls:--} | ${freed:--} | ${pmd:--} | ${mism:--} | $verdict |"$'\n'
	info "$a: done in $(( ($(date +%s) - s) / 60 )) min"
done

results_table "$res/results.md" \
	"| arch | commit | date | seconds | seed | operations | reclaim calls | PTE tables freed | PMD tables freed | mismatches | verdict |" \
	"$arches" "$rows" <<'EOF'
# make soak

The torture test (tools/testing/selftests/mm/pt_reclaim_torture) for the
seconds given, per arch, made by harness/soak.sh; each row from the commit
and the date (UTC) it names. Operations: the workers' operations done (all
kinds); reclaim calls: the reclaimer threads' MADV_PT_RECLAIM calls; PTE
tables freed: the change of /proc/vmstat's pt_reclaim_freed over the run
(every reclaim in the guest: the threads', the workers' own, the remote
process_madvise() one, MADV_DONTNEED's); PMD tables freed: those of the
PMD table worker's areas. Passed: no data mismatch, no failed check, no
kernel report on the console.
EOF
info "table: $res/results.md"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
