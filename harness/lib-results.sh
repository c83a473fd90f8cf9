# shellcheck shell=bash
# Results, for the harness scripts: results_table (results/*/results.md),
# kernel_reported, kcsan_reports, kcsan_listed, the KTAP every count goes
# through (ktap_count; ktap_start ... ktap_write and checker_start ...
# checker_end, with which the checkers write theirs) and AWK_MED. Sourced
# by harness/lib.sh; do not source it alone.

# results_table FILE COLUMNS KEYS ROWS: write FILE (results/*/results.md):
# the text on stdin (title and explanation), then a markdown table with the
# header COLUMNS ("| a | b |"), the rows already in FILE whose first cell
# is none of KEYS (space-separated: the entries this run made again, whose
# rows ROWS replace them), then ROWS (table lines, each ending in a
# newline).
results_table() {
	local file=$1 cols=$2 keys=" $3 " rows=$4 old='' sep
	[ ! -f "$file" ] || old=$(awk -v keys="$keys" '
		/^\|---/ { next }
		/^\| / { if (!h++) next; if (index(keys, " " $2 " ")) next; print }' "$file")
	sep=$(printf '%s\n' "$cols" | sed 's/[^|]*|/---|/g; s/^---//')
	{
		cat
		echo
		echo "$cols"
		echo "$sep"
		[ -z "$old" ] || printf '%s\n' "$old"
		printf '%s' "$rows"
	} > "$file.tmp" && mv "$file.tmp" "$file"
}

# kernel_reported ARCH LOG: true when the guest console LOG holds a kernel
# report (BUG, WARNING, Oops, KASAN, lockdep, a KCSAN report verdict.sh
# does not let pass, ...), a KUnit suite that failed at boot, or lacks a
# CONSOLE_MUST line, as harness/verdict.sh judges it; its words go to
# stderr. A program's own failures in LOG do not count here.
kernel_reported() {
	local err
	err=$(dirname "$2")/verdict.err
	"$HARNESS/verdict.sh" "$1" "$2" >/dev/null 2>"$err" && return 1
	grep -qE "kernel report|KUnit at boot|KCSAN: .*(the series' code|in base code, not in|could not resolve|no VMLINUX)|CONSOLE_MUST|series-funcs.sh" "$err" ||
		return 1
	cat "$err" >&2
}

# kcsan_reports LOG: KCSAN's data-race reports in a console log, one line
# each kind: how many times, its title (offsets taken out: "data-race in
# A / B", or one function for a race at unknown origin), a tab, the
# frames of its stacks ("func+0x1a/0x40"), each taken wherever it stands
# in a line (a report can follow half a line a test wrote)
# (harness/verdict.sh, harness/kcsan-base.sh).
kcsan_reports() {
	awk '
	/BUG: KCSAN: / {
		if (t != "") print t "\t" f
		t = $0; sub(/.*BUG: KCSAN: /, "", t); gsub(/\+0x[0-9a-f]+\/0x[0-9a-f]+/, "", t); f = ""; next
	}
	t != "" && /^(\[ *[0-9.]+\] )?=+$/ { print t "\t" f; t = ""; next }
	t != "" {
		l = $0
		while (match(l, /[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/)) {
			f = f " " substr(l, RSTART, RLENGTH)
			l = substr(l, RSTART + RLENGTH)
		}
	}
	END { if (t != "") print t "\t" f }' "$1" | sort | uniq -c
}

# kcsan_listed FILE: the titles harness/selftests/kcsan-base.txt (FILE)
# lists, one a line: each line's text before its first " -- " (the
# reason follows), comments left out; nothing when FILE is missing.
kcsan_listed() {
	[ ! -f "$1" ] || sed -n '/^#/d; / -- /{ s/ -- .*//; p; }' "$1"
}

# One way to count: every result make check counts is a KTAP result line
# counted by the kernel's own parser (tools/testing/kunit/kunit.py parse).
#
# ktap_count FILE: print "PASSED FAILED SKIPPED" for the KTAP results in
# FILE (crashed and errors count as failed), and on stderr the parser's
# lines for what failed; print nothing and return 1 when it finds none.
ktap_count() {
	local out summary key n p=0 f=0 s=0
	out=$(PYTHONDONTWRITEBYTECODE=1 python3 "$SRC/tools/testing/kunit/kunit.py" \
		parse "$1" 2>&1) || true
	summary=$(printf '%s\n' "$out" | grep -a 'Testing complete\. Ran' | tail -n 1)
	if [ -z "$summary" ]; then
		printf '%s\n' "$out" | tail -n 20 >&2
		return 1
	fi
	printf '%s\n' "$out" | grep -aE '\[(FAILED|CRASHED|ERROR)\]' >&2 || true
	for key in passed failed crashed skipped errors; do
		n=$(printf '%s\n' "$summary" | grep -oE "$key: [0-9]+" | grep -oE '[0-9]+' || echo 0)
		case $key in
		passed) p=$((p + n)) ;;
		skipped) s=$((s + n)) ;;
		*) f=$((f + n)) ;;
		esac
	done
	echo "$p $f $s"
}

# A checker's results as KTAP, written by the checker itself (lint.sh,
# series-check.sh, e2e.sh, alloc.sh --check, skips.sh, mutate.sh and
# check.sh's run of harness/tests), for harness/check.sh to count with
# ktap_count. ktap_start NAME; ktap_add ok|fail|skip TEXT per check;
# ktap_write: the document, ${KTAP_DIR:-$BUILD/ktap}/NAME.ktap, written
# whole at the end (a checker that dies on the way leaves none: check.sh
# counts that a failure). The results gather in NAME.ktap.part, so a
# check made in a subshell or a pipeline counts too. A '#' in TEXT,
# which KTAP would read as a directive, and a tab are dropped; a newline
# ends it.
ktap_start() {
	KTAP_FILE=${KTAP_DIR:-$BUILD/ktap}/$1.ktap
	mkdir -p "$(dirname "$KTAP_FILE")"
	rm -f "$KTAP_FILE"
	: > "$KTAP_FILE.part"
}
ktap_add() {
	local res=$1 text
	shift
	text=$(printf '%s' "$*" | head -n 1 | tr -d '#\t')
	case $res in
	ok) printf 'ok\t%s\t\n' "$text" ;;
	fail) printf 'not ok\t%s\t\n' "$text" ;;
	skip) printf 'ok\t%s\t # SKIP\n' "$text" ;;
	*) die "ktap_add: '$res' is not ok, fail or skip" ;;
	esac >> "$KTAP_FILE.part"
}
# ktap_added: the number of results added since ktap_start.
ktap_added() {
	wc -l < "$KTAP_FILE.part"
}
# ktap_write: write the document; print the number of failed checks.
ktap_write() {
	{
		echo "KTAP version 1"
		echo "1..$(ktap_added)"
		awk -F'\t' '{ printf "%s %d %s%s\n", $1, NR, $2, $3 }' "$KTAP_FILE.part"
	} > "$KTAP_FILE"
	grep -c '^not ok' "$KTAP_FILE.part" || true
	rm -f "$KTAP_FILE.part"
}

# checker_start NAME: ktap_start NAME, and a checker's lines on stdout:
# checker_ok|checker_fail|checker_skip TEXT print "NAME: ok: TEXT",
# "NAME: FAIL: TEXT" or "NAME: SKIP: TEXT" and add the result;
# checker_end prints "NAME: N problems" (its last line), writes the
# KTAP document and is true when no check failed.
checker_start() {
	CHECKER=$1
	ktap_start "$1"
}
checker_ok() {
	echo "$CHECKER: ok: $*"
	ktap_add ok "$*"
}
checker_fail() {
	echo "$CHECKER: FAIL: $*"
	ktap_add fail "$*"
}
checker_skip() {
	echo "$CHECKER: SKIP: $*"
	ktap_add skip "$*"
}
checker_end() {
	local n
	n=$(ktap_write)
	echo "$CHECKER: $n problems"
	[ "$n" -eq 0 ]
}

# AWK_MED: an awk function for the front of a program: med(STR), the
# median of the numbers in the space-separated STR (of an even count,
# the mean of the middle two). alloc-report.sh and reuse-report.sh.
# shellcheck disable=SC2016 # awk's $ signs, not the shell's
AWK_MED='
function med(str,   v, n, i, j, t) {
	n = split(str, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}'
