#!/bin/bash
# usage: harness/verdict.sh LABEL LOG [SUITE..]
#
# Judge a guest console log saved by harness/boot.sh:
#  - KUnit suites printed by the kernel before init started, and the
#    KTAP document printed by init, are each counted with the kernel's
#    own parser (tools/testing/kunit/kunit.py parse);
#  - a kernel report anywhere in the log (BUG, WARNING, Oops, panic,
#    KASAN, UBSAN, lockdep, RCU stall, hung task) is a failure even when
#    every test passed;
#  - each KUnit SUITE named (harness/check.sh: the arch conf's
#    KUNIT_SUITES) must have run at boot with a plan of at least one
#    case: a kernel that lost its suites (a config, a failed init, an
#    empty plan) fails, one per missing suite;
#  - a log without "init: done" (hang, panic) is a failure;
#  - KCSAN's data-race reports: one with the series' code in a stack
#    fails, one in base code only when harness/selftests/kcsan-base.txt
#    does not list it (below);
#  - each line of CONSOLE_MUST (environment, from the arch conf through
#    load_arch) must match a line the kernel printed before init.
# These checks of the console are KTAP results too (a document of
# verdict.sh's own, counted by the same parser), so every count is the
# parser's; only a document the parser finds no result in counts one
# failure by hand.
# Prints "LABEL: P passed, F failed, S skipped" and, last, the line
# "verdict P F S" for harness/check.sh. Exits 1 when F > 0.
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: $me LABEL LOG [SUITE..]"
label=$1
log=$2
shift 2
[ -f "$log" ] || die "$log not found"
[ -f "$SRC/tools/testing/kunit/kunit.py" ] ||
	die "$SRC/tools/testing/kunit/kunit.py not found; run 'make base'"

pass=0 fail=0 skip=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The checks of the console: check ok|fail TEXT, a result of the KTAP
# document $tmp/console.ktap (harness/lib-results.sh ktap_start); a
# failure's TEXT also on stderr, after the label.
KTAP_DIR=$tmp ktap_start console
check() {
	[ "$1" = ok ] || echo "$label: $2" >&2
	ktap_add "$1" "$2"
}

# count FILE WHAT [quiet]: add the KTAP results in FILE to the totals
# (ktap_count, harness/lib.sh: the kernel's parser); quiet: without the
# parser's lines for what failed (the console checks said it already).
count() {
	local p f s
	if ! read -r p f s < <(ktap_count "$1" 2> "$tmp/parser"); then
		cat "$tmp/parser" >&2
		echo "$label: $2: kunit.py parse found no results" >&2
		fail=$((fail + 1))
		return
	fi
	# Show what failed, as the parser reports it.
	[ -n "${3:-}" ] || sed "s/^/$label: /" "$tmp/parser" >&2
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
}

# The kernel's part (KUnit at boot) and init's part of the log.
sed -n '/^init: start$/q;p' "$log" > "$tmp/kernel"
sed -n '/^init: start$/,$p' "$log" > "$tmp/init"
# (A kernel with KUnit but no suites prints an empty plan, "1..0".)
if grep -qa 'KTAP version' "$tmp/kernel" &&
   ! grep -qaE '^(\[ *[0-9.]+\] )?1\.\.0$' "$tmp/kernel"; then
	before=$fail
	count "$tmp/kernel" "KUnit"
	# harness/run.sh looks for this line: the program's own exit status
	# does not tell about the suites the kernel ran before it.
	[ "$fail" -eq "$before" ] ||
		echo "$label: KUnit at boot: $((fail - before)) failed" >&2
fi
# The suites that must have run: "# Subtest: SUITE", then a plan 1..N
# with N > 0 before the suite's own result line, "(not) ok K SUITE".
for suite in "$@"; do
	awk -v s="$suite" '
		{ sub(/^\[ *[0-9.]+\] /, "") }
		$0 ~ "^ *# Subtest: " s "$" { inside = 1; next }
		inside && /^ *1\.\.[0-9]+$/ { sub(/^ *1\.\./, ""); planned = $0 + 0; next }
		inside && $0 ~ "^(not )?ok [0-9]+ " s "( |$)" { done = 1; exit }
		END { exit !(done && planned > 0) }' "$tmp/kernel" &&
		{ check ok "KUnit at boot: suite $suite ran"; continue; }
	check fail "KUnit at boot: suite $suite did not run (no '# Subtest: $suite' with a plan of one case or more and its result)"
done
if grep -qa '^KTAP version' "$tmp/init"; then
	count "$tmp/init" "tests"
fi

done_line=$(grep -a '^init: done: ' "$log" | tail -n 1 || true)
if [ -z "$done_line" ]; then
	check fail "the guest did not finish (see $log)"
else
	# init counts runs by exit status; a run that failed without a
	# "not ok" the parser saw still fails.
	init_failed=$(echo "$done_line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ "$init_failed" -gt 0 ] && [ "$fail" -eq 0 ]; then
		check fail "init reports $init_failed failed runs, and no KTAP result failed"
	else
		check ok "the guest finished (init: done)"
	fi
fi

# Lines the kernel part of the log must hold (the conf's CONSOLE_MUST,
# exported by load_arch: one extended regex a line), such as a checker's
# word that it runs: a KCSAN kernel that lost its detector finds nothing.
while IFS= read -r want; do
	[ -n "$want" ] || continue
	if grep -qaE -- "$want" "$tmp/kernel"; then
		check ok "the kernel printed a line matching '$want' (CONSOLE_MUST)"
	else
		check fail "the kernel never printed a line matching '$want' (CONSOLE_MUST)"
	fi
done <<<"${CONSOLE_MUST:-}"

# KCSAN's data-race reports ("BUG: KCSAN: data-race in A / B", then the
# stack of each side, up to the closing "===" line; lib.sh's
# kcsan_reports), judged one by one: a report with the series' code in
# either stack fails. The series' code: the lines the tree under test
# adds since the base, or before which it removes some
# (harness/series-funcs.sh --lines; every line of a file it adds). Each
# frame ("func+0xoff/0xsize", a return address but at the top) is
# resolved with VMLINUX (load_arch exports the conf's; a kernel with
# debug info, as kcsan.config builds it) and its System.map: addr2line
# -i gives the file:line of the frame and of every function inlined
# there, at off and off-1 (the call itself, in a frame below the top);
# any of them on such a line makes the report the series'. A frame that
# does not resolve fails the report. Without VMLINUX a report fails,
# unless VERDICT_KCSAN_NAMES=1 (harness/tests/verdict.sh's made-up logs):
# then a frame is the series' when its function is one the series
# changes (harness/series-funcs.sh). A report in base code passes only
# when its title (offsets taken out) is a line of
# harness/selftests/kcsan-base.txt ("TITLE -- reason"), the races
# recorded on the unpatched kernel (harness/kcsan-base.sh). Their "BUG:"
# lines are then no general report below.
kcsan_base=${KCSAN_BASE:-$HARNESS/selftests/kcsan-base.txt}
if grep -qa 'BUG: KCSAN: ' "$log"; then
	kcsan_listed "$kcsan_base" > "$tmp/known"
	kcsan_reports "$log" > "$tmp/kcsan"
	cut -f2 "$tmp/kcsan" | tr ' ' '\n' | sed '/^$/d' | sort -u > "$tmp/frames"
	mode=lines
	if [ -z "${VMLINUX:-}" ]; then
		mode=none
		[ "${VERDICT_KCSAN_NAMES:-0}" != 1 ] || mode=names
	elif [ ! -f "$VMLINUX" ] || [ ! -f "${VMLINUX%/*}/System.map" ]; then
		mode=none
	fi
	case $mode in
	names)
		"$HARNESS/series-funcs.sh" > "$tmp/ours" ||
			check fail "harness/series-funcs.sh failed"
		# frame -> its function
		awk '{ s = $1; sub(/\+.*/, "", s); sub(/\..*/, "", s); print $1, s }' "$tmp/frames" > "$tmp/where"
		;;
	lines)
		# (its status, not a pipe's: an empty list would make every
		# frame base code)
		if "$HARNESS/series-funcs.sh" --lines > "$tmp/ours.raw"; then
			sed 's/ /:/' "$tmp/ours.raw" > "$tmp/ours"
		else
			: > "$tmp/ours"
			check fail "harness/series-funcs.sh --lines failed"
		fi
		# FRAME ADDRESS, at off and off-1, for every symbol of that name
		awk 'NR == FNR { if ($2 ~ /^[tTwW]$/) a[$3] = a[$3] " " $1; next }
		{
			f = $1; s = f; sub(/\+.*/, "", s)
			o = f; sub(/^[^+]*\+0x/, "", o); sub(/\/.*/, "", o)
			off = 0
			for (i = 1; i <= length(o); i++)
				off = off * 16 + index("0123456789abcdef", substr(o, i, 1)) - 1
			n = split(a[s], ad, " ")
			for (k = 1; k <= n; k++) {
				printf "%s %s\n", f, ad[k] ":" off
				if (off > 0)
					printf "%s %s\n", f, ad[k] ":" off - 1
			}
		}' "${VMLINUX%/*}/System.map" "$tmp/frames" |
			while read -r fr ao; do
				printf '%s 0x%x\n' "$fr" $((0x${ao%%:*} + ${ao#*:}))
			done > "$tmp/addrs"
		# ADDRESS: func at path:line, then " (inlined by) func at ..."
		if [ -s "$tmp/addrs" ]; then
			# shellcheck disable=SC2046 # an address a word
			"${VMLINUX_CROSS_COMPILE:-}addr2line" -a -f -i -p -e "$VMLINUX" \
				$(cut -d' ' -f2 "$tmp/addrs") > "$tmp/a2l" 2>&1 || true
		else
			: > "$tmp/a2l"
		fi
		# frame -> "path:line" of each level, paths relative to the tree
		awk -v src="$SRC/" 'NR == FNR { fr[$2] = fr[$2] " " $1; next }
		/^0x[0-9a-f]+: / { a = $1; sub(/:$/, "", a); sub(/^0x0*/, "0x", a); sub(/^[^:]*: /, "") }
		/ at [^ ]+:[0-9]+/ {
			l = $0; sub(/.* at /, "", l); sub(/ .*/, "", l)
			if (index(l, src) == 1)
				l = substr(l, length(src) + 1)
			n = split(fr[a], f, " ")
			for (k = 1; k <= n; k++)
				print f[k], l
		}' "$tmp/addrs" "$tmp/a2l" | sort -u > "$tmp/where"
		;;
	esac
	while read -r n rest; do
		title=${rest%%$'\t'*}
		frames=${rest#*$'\t'}
		ours='' unresolved=''
		if [ "$mode" = none ]; then
			check fail "KCSAN: $title ($n times): no VMLINUX (or its System.map) to resolve the frames with (${VMLINUX:-unset}): cannot tell whose it is"
			continue
		fi
		for fr in $frames; do
			w=$(awk -v f="$fr" '$1 == f { print $2 }' "$tmp/where")
			[ -n "$w" ] || unresolved="$unresolved $fr"
			for loc in $w; do
				if grep -qxF -- "$loc" "$tmp/ours"; then
					ours="$loc ($fr)"
					break 2
				fi
			done
		done
		if [ -n "$ours" ]; then
			check fail "KCSAN: $title ($n times): the series' code in its stack: $ours"
		elif [ -n "$unresolved" ]; then
			check fail "KCSAN: $title ($n times): could not resolve$unresolved with $VMLINUX (no debug info, or not this console's kernel?): cannot tell whose it is"
		elif grep -qxF -- "$title" "$tmp/known"; then
			echo "$label: KCSAN: $title ($n times): a base race, known (${kcsan_base#"$TOP"/})" >&2
			check ok "KCSAN: $title ($n times): a base race, known (${kcsan_base#"$TOP"/})"
		else
			check fail "KCSAN: $title ($n times): in base code, not in ${kcsan_base#"$TOP"/}: is it on the unpatched kernel? (harness/kcsan-base.sh)"
		fi
	done < "$tmp/kcsan"
fi

# Kernel reports, anywhere in a line: the console is shared, and a
# report printed while a test had written half a line starts after that
# text ("...partialWARNING: CPU: 1 PID: ..."); a report's first words
# can also follow another prefix ("watchdog: BUG: soft lockup"). The
# tests' own output never holds these words: a diagnostic that did would
# fail the run, which is the safe side.
reports='BUG:|WARNING:|Oops( -|:)|Internal error:|Kernel panic|kernel BUG|KASAN:|UBSAN:|INFO: task .* blocked for more than|INFO: rcu|rcu: INFO|hard LOCKUP|general protection fault|Unable to handle kernel|-+\[ cut here \]-+'
# The Xen hypervisor's own lines ("(XEN) ...", x86_64-xen) are its
# messages, not the kernel's: its boot warnings are no failure.
if grep -av -e '^(XEN)' -e 'BUG: KCSAN: ' "$log" | grep -aqE "$reports"; then
	check fail "kernel report in $log:"
	grep -av -e '^(XEN)' -e 'BUG: KCSAN: ' "$log" | grep -aE -A3 "$reports" | head -n 30 >&2
else
	check ok "no kernel report on the console"
fi

ktap_write > /dev/null
count "$KTAP_FILE" "the console checks" quiet

echo "$label: $pass passed, $fail failed, $skip skipped"
echo "verdict $pass $fail $skip"
[ "$fail" -eq 0 ]
