#!/bin/bash
# usage: harness/results.sh LOG
#
# One line per run of a guest console log written in ktap mode by
# harness/guest/init.c: "name verdict pass fail skip", where verdict is
# ok, FAIL or SKIP (with the reason) and the counts are those of the
# run's own subtests (first level), if it printed any. Used to record and
# compare the results of the mm selftests between kernels.
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $me LOG"
[ -f "$1" ] || die "$1 not found"
sed -n '/^init: start$/,/^init: done/p' "$1" | awk '
	/^    (ok|not ok) [0-9]+ / {
		if ($0 ~ /# SKIP/) s++
		else if ($1 == "ok") p++
		else f++
		next
	}
	/^(ok|not ok) [0-9]+ / {
		name = ($1 == "ok") ? $3 : $4
		if ($0 ~ /# SKIP/) {
			v = "SKIP"
			why = $0
			sub(/.*# SKIP ?/, "", why)
		} else {
			v = ($1 == "ok") ? "ok" : "FAIL"
			why = ""
		}
		printf "%-32s %-4s %4d %4d %4d  %s\n", name, v, p, f, s, why
		p = f = s = 0
	}'
