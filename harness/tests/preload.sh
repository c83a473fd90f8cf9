#!/bin/bash
# allocators/preload's libptreclaim.so on a kernel without
# MADV_PT_RECLAIM (the host's kernel, behind a seccomp filter that makes
# the advice fail with EINVAL as such a kernel does): it switches itself
# off after the first EINVAL, says nothing unless asked, and the program
# it is preloaded into runs as without it. (Both libraries, in the test
# kernel with and without this filter: harness/alloc.sh --check, in make
# check.)
. "$(dirname "$0")/../lib.sh"

scratch_dir
je=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[ -e "$je" ] || fail "$je not found; run 'make install' (package libjemalloc2)"
make -s -C "$TOP/allocators" O="$tmp" "$tmp/libptreclaim.so" || fail "allocators/preload did not build"
gcc -O2 -Wall -Wextra -Werror -pthread -o "$tmp/churn" "$TOP/allocators/churn.c" ||
	fail "allocators/churn.c did not build"
gcc -O2 -Wall -Wextra -Werror -o "$tmp/no-pt-reclaim" "$HARNESS/tests/no-pt-reclaim.c" ||
	fail "harness/tests/no-pt-reclaim.c did not build"

# The filter works: MADV_PT_RECLAIM fails with EINVAL under it.
"$tmp/no-pt-reclaim" "$tmp/churn" -t 1 -s 0.2 -m 16 -x 1024 -R > "$tmp/out" 2>&1 ||
	fail "churn failed under no-pt-reclaim: $(cat "$tmp/out")"
grep -q 'MADV_PT_RECLAIM: EINVAL on' "$tmp/out" ||
	fail "no-pt-reclaim did not make MADV_PT_RECLAIM fail: $(cat "$tmp/out")"

# jemalloc purging at once, batches of 1 MiB: many batches would be made;
# the library must stop at the first EINVAL, its probe at start.
run() {
	env LD_PRELOAD="$tmp/libptreclaim.so $je" PT_RECLAIM_BATCH_MB=1 \
		MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0 "$@" \
		"$tmp/no-pt-reclaim" "$tmp/churn" -t 2 -s 1 -m 64 -x 2048 \
		> "$tmp/out" 2> "$tmp/err"
}
run PT_RECLAIM_STATS=1 || fail "churn failed with the library: $(cat "$tmp/out" "$tmp/err")"
grep -q '^churn,freed,vmpte_kb,' "$tmp/out" || fail "churn did not finish: $(cat "$tmp/out")"
stats=$(grep '^libptreclaim: ' "$tmp/err") || fail "no counters with PT_RECLAIM_STATS=1: $(cat "$tmp/err")"
read -r purges batches calls failed <<<"$(sed -E 's/^libptreclaim: ([0-9]+) purges seen, ([0-9]+) batches, ([0-9]+) MADV_PT_RECLAIM calls, ([0-9]+) failed.*/\1 \2 \3 \4/' <<<"$stats")"
[ "$calls" = 1 ] && [ "$failed" = 1 ] && [ "$batches" = 0 ] ||
	fail "want one call (the probe at start), failed, then none (switched off): $stats"
grep -q '(off: ' <<<"$stats" || fail "the counters do not say it is off: $stats"

# Quiet without PT_RECLAIM_STATS.
run || fail "churn failed with the library: $(cat "$tmp/out" "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "the library spoke without being asked: $(cat "$tmp/err")"
echo "$me: off after the first EINVAL (one call, $purges purges seen, $batches batches), and quiet"
