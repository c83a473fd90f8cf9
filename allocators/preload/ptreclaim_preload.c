// SPDX-License-Identifier: GPL-2.0
/*
 * libptreclaim.so: free the page tables an allocator's purges leave
 * empty, without changing the allocator.
 *
 *   LD_PRELOAD=libptreclaim.so program ...
 *
 * Wraps madvise(): after a successful MADV_DONTNEED (or _LOCKED) or
 * MADV_FREE, the page-table spans the range touches are noted; once the
 * purged bytes since the last reclaim reach PT_RECLAIM_BATCH_MB (default
 * 64), the noted spans, merged, each get one madvise(MADV_PT_RECLAIM).
 * The kernel frees only tables whose entries are all none, so a span
 * still in use costs one read per table and is left alone; a span
 * purged by MADV_FREE is freed only once the kernel has reclaimed its
 * pages.
 *
 * Sees only the calls that go through the dynamic symbol madvise: those
 * of jemalloc, tcmalloc and mimalloc as shared libraries do; glibc's
 * malloc calls its internal __madvise, which no preload can see (use
 * ptreclaim --self there).
 *
 * On a kernel without MADV_PT_RECLAIM the first reclaim fails with
 * EINVAL: the library then stops reclaiming, without a word. Also off
 * with PT_RECLAIM_DISABLE=1. PT_RECLAIM_STATS=1 prints its counters to
 * stderr at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

#define MAX_SPANS 64

struct span {
	unsigned long start, end;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct span spans[MAX_SPANS];	/* merged, sorted, under lock */
static int nspans;
static unsigned long pending;		/* bytes purged since the last batch */
static unsigned long batch = 64UL << 20;
static unsigned long span_size;		/* what one PTE table maps */
static int off;				/* 1: disabled, for good */

static unsigned long n_purges, n_batches, n_calls, n_holes, n_failed;

/*
 * The span of one PTE table: PMD_SIZE. From the THP PMD size where the
 * kernel tells it; else a page of page-sized pointers (s390: a table is
 * 256 entries of 4 KiB, 1 MiB).
 */
static unsigned long table_span(void)
{
	unsigned long v = 0, page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	if (v >= page && !(v & (v - 1)))
		return v;
#ifdef __s390x__
	return 1UL << 20;
#else
	return page / sizeof(void *) * page;
#endif
}

static int raw_madvise(void *addr, size_t len, int advice)
{
	return syscall(SYS_madvise, addr, len, advice);
}

static void stats(void)
{
	fprintf(stderr, "libptreclaim: %lu purges seen, %lu batches, %lu MADV_PT_RECLAIM calls, %lu failed, %lu over a hole%s\n",
		n_purges, n_batches, n_calls, n_failed, n_holes,
		off ? " (off: kernel without MADV_PT_RECLAIM, or disabled)" : "");
}

/* A fork while another thread holds the lock must not leave it held. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
}

__attribute__((constructor)) static void init(void)
{
	const char *s = getenv("PT_RECLAIM_BATCH_MB");

	pthread_atfork(fork_prepare, fork_parent, fork_child);

	span_size = table_span();
	if (s && *s)
		batch = strtoul(s, NULL, 0) << 20;
	s = getenv("PT_RECLAIM_DISABLE");
	if (s && *s == '1')
		__atomic_store_n(&off, 1, __ATOMIC_RELAXED);
	s = getenv("PT_RECLAIM_STATS");
	if (s && *s == '1')
		atexit(stats);
}

/* Note [start, end) (span-aligned), merging with what is there. */
static void note(unsigned long start, unsigned long end)
{
	int i, j;

	for (i = 0; i < nspans && spans[i].end < start; i++)
		;
	if (i < nspans && spans[i].start <= end) {
		if (start < spans[i].start)
			spans[i].start = start;
		if (end > spans[i].end)
			spans[i].end = end;
		/* swallow the ones it now reaches */
		for (j = i + 1; j < nspans && spans[j].start <= spans[i].end; j++)
			if (spans[j].end > spans[i].end)
				spans[i].end = spans[j].end;
		memmove(&spans[i + 1], &spans[j], (nspans - j) * sizeof(*spans));
		nspans -= j - i - 1;
		return;
	}
	if (nspans == MAX_SPANS) {
		/* full: widen the neighbour instead (more to scan, no loss) */
		if (i == nspans)
			i--;
		if (start < spans[i].start)
			spans[i].start = start;
		if (end > spans[i].end)
			spans[i].end = end;
		return;
	}
	memmove(&spans[i + 1], &spans[i], (nspans - i) * sizeof(*spans));
	spans[i].start = start;
	spans[i].end = end;
	nspans++;
}

static void reclaim(const struct span *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (__atomic_load_n(&off, __ATOMIC_RELAXED))
			return;
		__atomic_add_fetch(&n_calls, 1, __ATOMIC_RELAXED);
		if (!raw_madvise((void *)s[i].start, s[i].end - s[i].start,
				 MADV_PT_RECLAIM))
			continue;
		/*
		 * ENOMEM: part of the span is unmapped (the allocator gave
		 * it back since, or never mapped it): the mapped rest was
		 * done all the same.
		 */
		if (errno == ENOMEM) {
			__atomic_add_fetch(&n_holes, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);
		/* no such advice: this kernel has no MADV_PT_RECLAIM */
		if (errno == EINVAL)
			__atomic_store_n(&off, 1, __ATOMIC_RELAXED);
	}
}

static void purged(unsigned long addr, unsigned long len)
{
	struct span todo[MAX_SPANS];
	unsigned long start = addr & ~(span_size - 1);
	unsigned long end = (addr + len + span_size - 1) & ~(span_size - 1);
	int n = 0;

	if (end <= start)	/* wrapped at the top of the address space */
		return;
	pthread_mutex_lock(&lock);
	n_purges++;
	note(start, end);
	pending += len;
	if (pending >= batch) {
		n = nspans;
		memcpy(todo, spans, n * sizeof(*spans));
		nspans = 0;
		pending = 0;
		n_batches++;
	}
	pthread_mutex_unlock(&lock);
	/* outside the lock: other threads go on purging meanwhile */
	if (n)
		reclaim(todo, n);
}

int madvise(void *addr, size_t len, int advice)
{
	int ret = raw_madvise(addr, len, advice), saved = errno;

	if (ret || !len || __atomic_load_n(&off, __ATOMIC_RELAXED))
		return ret;
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
	case MADV_FREE:
		purged((unsigned long)addr, len);
		break;
	}
	errno = saved;
	return 0;
}
