#!/bin/bash
# harness/series-strip.awk, the cutter harness/series.sh makes the
# intermediate states of the series with: each block form, the blank
# lines that go with a block, and each way a block can be wrong (which
# must fail, naming the block, rather than cut the wrong lines). A second.
. "$(dirname "$0")/../lib.sh"

scratch_dir
awkf=$HARNESS/series-strip.awk
cat > "$tmp/in" <<'IN'
#include <a.h>

int a;

#ifdef CONFIG_X
int x_start;
int x_end;

int y;
#endif
int z;

tail_start
tail
IN

# cut WANT BLOCK..: the cutter's output for BLOCKs must be WANT (lines
# joined by "|").
cut() {
	local want=$1 got
	shift
	got=$(awk -v blocks="$(printf '%s\n' "$@")" -f "$awkf" "$tmp/in" | paste -sd'|') ||
		fail "blocks $*: exit status $?, want success"
	[ "$got" = "$want" ] || fail "blocks $*: got '$got', want '$want'"
}
# bad REGEX BLOCK..: the cutter must fail with a message matching REGEX.
bad() {
	local re=$1 rc=0
	shift
	awk -v blocks="$(printf '%s\n' "$@")" -f "$awkf" "$tmp/in" >/dev/null 2>"$tmp/err" || rc=$?
	[ "$rc" = 2 ] || fail "blocks $*: exit status $rc, want 2"
	grep -qE "$re" "$tmp/err" || fail "blocks $*: message '$(cat "$tmp/err")' does not say '$re'"
}

# Nothing to cut: the file as it is.
cut "$(paste -sd'|' "$tmp/in")"
# One line, with the blank line after it (blank lines on both sides).
cut '#include <a.h>||#ifdef CONFIG_X|int x_start;|int x_end;||int y;|#endif|int z;||tail_start|tail' '/^int a;/'
# A range with no blank line before it: the one after it stays.
cut '#include <a.h>||int a;||#ifdef CONFIG_X||int y;|#endif|int z;||tail_start|tail' '/^int x_start/,/^int x_end/'
# Before an #endif the blank line before goes instead.
cut '#include <a.h>||int a;||#ifdef CONFIG_X|int x_start;|int x_end;|#endif|int z;||tail_start|tail' '/^int y;/'
# To the end, with the blank line before it.
cut '#include <a.h>||int a;||#ifdef CONFIG_X|int x_start;|int x_end;||int y;|#endif|int z;' '/^tail_start/,$'
# A changed line: printed as it was before (a tab from "\t").
cut '#include <a.h>||int a;||#ifdef CONFIG_X|int x_start;|int x_end;||	long y;|#endif|int z;||tail_start|tail' '/^int y;/ was \tlong y;'
# ... beside a block, with the blank lines of the block only.
cut '#include <a.h>||#ifdef CONFIG_X|int x_start;|int x_end;||int y;|#endif|long z;||tail_start|tail' '/^int a;/' '/^int z;/ was long z;'
# A range through N lines after its end's match.
cut '#include <a.h>||int a;||#ifdef CONFIG_X|int z;||tail_start|tail' '/^int x_start/,/^int x_end/+3'
# Two blocks at once.
cut '#include <a.h>||#ifdef CONFIG_X||int y;|#endif|int z;||tail_start|tail' '/^int a;/' '/^int x_start/,/^int x_end/'

bad 'matches no line' '/^nothing/'
bad 'more than one line matches' '/^int/'
bad 'no end after line' '/^int x_start/,/^nothing/'
bad 'overlaps another' '/^int x_start/,/^int x_end/' '/^int x_end/'
bad 'bad block' 'int a;'
bad 'runs past the last line' '/^tail_start/,/^tail/+1'
bad 'overlaps another' '/^int x_start/,/^int x_end/+2' '/^int y;/'
bad 'overlaps another' '/^int x_start/,/^int x_end/' '/^int x_end/ was long x_end;'
bad 'overlaps another' '/^int y;/ was long y;' '/^int y;/ was short y;'
bad 'more than one line matches' '/^int/ was long;'
echo "$me: the cutter cuts each block form as series.sh needs and refuses the ten wrong ones"
