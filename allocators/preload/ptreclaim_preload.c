// SPDX-License-Identifier: GPL-2.0
/*
 * libptreclaim.so: free the page tables an allocator's purges leave
 * empty, without changing the allocator.
 *
 *   LD_PRELOAD=libptreclaim.so program ...
 *
 * Wraps madvise(): each successful MADV_DONTNEED (or _LOCKED) or
 * MADV_FREE goes to the batching of batch.c, which calls
 * madvise(MADV_PT_RECLAIM) over the table spans of every
 * PT_RECLAIM_BATCH_MB (default 64) purged with MADV_DONTNEED (the spans
 * of MADV_FREE go along with the next batch).
 *
 * Sees only the calls that go through the dynamic symbol madvise: those
 * of jemalloc, tcmalloc and mimalloc as shared libraries do; glibc's
 * malloc calls its internal __madvise, which no preload can see (use
 * ptreclaim --self there).
 *
 * On a kernel without MADV_PT_RECLAIM the probe at start fails with
 * EINVAL: the library then does nothing, without a word. Also off with
 * PT_RECLAIM_DISABLE=1. PT_RECLAIM_STATS=1 prints its counters to
 * stderr at exit.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "batch.h"

#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

__attribute__((constructor)) static void init(void)
{
	ptreclaim_batch_init("libptreclaim");
}

__attribute__((visibility("default")))
int madvise(void *addr, size_t len, int advice)
{
	int ret = syscall(SYS_madvise, addr, len, advice);

	if (ret || !len)
		return ret;
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
		ptreclaim_purged((unsigned long)addr, len, false);
		break;
	case MADV_FREE:
		ptreclaim_purged((unsigned long)addr, len, true);
		break;
	}
	return 0;
}
