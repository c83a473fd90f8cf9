// SPDX-License-Identifier: GPL-2.0
/*
 * The batching of libptreclaim.so and libptreclaim-jemalloc.so.
 *
 * Each purge notes the page-table spans it touches (PMD_SIZE aligned),
 * merged into at most MAX_SPANS ranges; once the bytes purged by
 * MADV_DONTNEED since the last batch reach PT_RECLAIM_BATCH_MB (default
 * 64), the thread whose purge crossed it takes the ranges and calls
 * madvise(MADV_PT_RECLAIM) on each, outside the lock. The kernel frees
 * only tables whose entries are all none, so a span still in use costs
 * one read per table and is left alone. A lazy purge (MADV_FREE) leaves
 * its pages mapped until the kernel takes them, so a reclaim right after
 * it would free nothing: its spans are noted but do not count towards a
 * batch, and go with the next one, later.
 *
 * At start, a zero-length madvise(MADV_PT_RECLAIM) asks the kernel
 * whether it knows the advice (the advice is checked before the length);
 * one that does not answers EINVAL and reclaiming is off from then on,
 * without a word. Also off with PT_RECLAIM_DISABLE=1. PT_RECLAIM_STATS=1
 * prints the counters to stderr at exit, with the time spent in the
 * calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
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
static unsigned long ns_in_calls;	/* time in MADV_PT_RECLAIM calls */
static const char *who = "libptreclaim";

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

static void stats(void)
{
	fprintf(stderr, "%s: %lu purges seen, %lu batches, %lu MADV_PT_RECLAIM calls, %lu failed, %lu over a hole, %lu us in the calls%s\n",
		who, n_purges, n_batches, n_calls, n_failed, n_holes,
		ns_in_calls / 1000,
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

/**
 * ptreclaim_batch_init() - read the PT_RECLAIM_* environment, probe the kernel
 * @name: what the counters are printed as, at exit
 *
 * The first call does the work; later ones only rename the counters.
 */
static void init_once(void)
{
	const char *s = getenv("PT_RECLAIM_BATCH_MB");
	unsigned long mb;

	pthread_atfork(fork_prepare, fork_parent, fork_child);
	span_size = table_span();
	if (s && *s) {
		mb = strtoul(s, NULL, 0);
		batch = mb > ULONG_MAX >> 20 ? ULONG_MAX : mb << 20;
	}
	s = getenv("PT_RECLAIM_STATS");
	if (s && *s == '1')
		atexit(stats);
	s = getenv("PT_RECLAIM_DISABLE");
	if (s && *s == '1') {
		__atomic_store_n(&off, 1, __ATOMIC_RELAXED);
		return;
	}
	/* the probe: EINVAL here is a kernel without the advice */
	n_calls++;
	if (syscall(SYS_madvise, 0UL, 0UL, MADV_PT_RECLAIM)) {
		n_failed++;
		__atomic_store_n(&off, 1, __ATOMIC_RELAXED);
	}
}

void ptreclaim_batch_init(const char *name)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	who = name;
	pthread_once(&once, init_once);
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

static unsigned long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000UL + t.tv_nsec;
}

static void reclaim(const struct span *s, int n)
{
	unsigned long t0 = now_ns();
	int i;

	for (i = 0; i < n; i++) {
		if (__atomic_load_n(&off, __ATOMIC_RELAXED))
			break;
		__atomic_add_fetch(&n_calls, 1, __ATOMIC_RELAXED);
		if (!syscall(SYS_madvise, s[i].start, s[i].end - s[i].start,
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
	__atomic_add_fetch(&ns_in_calls, now_ns() - t0, __ATOMIC_RELAXED);
}

/**
 * ptreclaim_purged() - note a purge; reclaim if it completes a batch
 * @addr: start of the purged range
 * @len: its length
 * @lazy: MADV_FREE: noted, but not counted towards the batch
 */
void ptreclaim_purged(unsigned long addr, unsigned long len, bool lazy)
{
	struct span todo[MAX_SPANS];
	unsigned long start = addr & ~(span_size - 1);
	unsigned long end = (addr + len + span_size - 1) & ~(span_size - 1);
	int n = 0, saved = errno;

	/* wrapped at the top of the address space; or off */
	if (end <= start || ptreclaim_off())
		return;
	pthread_mutex_lock(&lock);
	n_purges++;
	note(start, end);
	if (!lazy)
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
	errno = saved;
}


/**
 * ptreclaim_off() - whether reclaiming is off
 *
 * Return: true with PT_RECLAIM_DISABLE=1 or after an EINVAL.
 */
bool ptreclaim_off(void)
{
	return __atomic_load_n(&off, __ATOMIC_RELAXED);
}
