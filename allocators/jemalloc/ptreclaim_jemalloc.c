// SPDX-License-Identifier: GPL-2.0
/*
 * libptreclaim-jemalloc.so: jemalloc frees the page tables its purges
 * leave empty, through its documented extent hooks (jemalloc(3),
 * "arena.<i>.extent_hooks"), without a preload of madvise().
 *
 * ptreclaim_jemalloc_install() gives every automatic arena a copy of
 * jemalloc's default hooks in which the purge hooks, after the default
 * purge succeeded, pass the purged range to the batching of
 * ../preload/batch.c (PT_RECLAIM_BATCH_MB, PT_RECLAIM_DISABLE,
 * PT_RECLAIM_STATS as for libptreclaim.so). Everything else is
 * jemalloc's own code. A program linked with jemalloc calls it once,
 * early, from main(); this library also calls it from its constructor,
 * so that
 *
 *   LD_PRELOAD="libjemalloc.so.2 libptreclaim-jemalloc.so" program
 *
 * shows it on an unchanged program.
 *
 * Two things jemalloc's manual warns of: hooks on automatic arenas are
 * "best effort" (extents made before the hooks were set are purged by
 * the hooks all the same, as jemalloc calls the arena's current ones);
 * and the hooks structure must live as long as the arenas (it is
 * static here). The huge arena (objects from opt.oversize_threshold,
 * 8 MiB by default) is made on first use, so install() makes it first
 * with one allocation of that size.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <jemalloc/jemalloc.h>

#include "../preload/batch.h"

static extent_hooks_t *dflt;	/* jemalloc's, the same for every arena */
static extent_hooks_t hooks;

static bool purge_forced(extent_hooks_t *h, void *addr, size_t size,
			 size_t offset, size_t length, unsigned int arena)
{
	(void)h;
	if (dflt->purge_forced(dflt, addr, size, offset, length, arena))
		return true;	/* not purged: the pages are still there */
	ptreclaim_purged((unsigned long)addr + offset, length);
	return false;
}

/* MADV_FREE: the tables go once the kernel has taken the pages */
static bool purge_lazy(extent_hooks_t *h, void *addr, size_t size,
		       size_t offset, size_t length, unsigned int arena)
{
	(void)h;
	if (dflt->purge_lazy(dflt, addr, size, offset, length, arena))
		return true;
	ptreclaim_purged((unsigned long)addr + offset, length);
	return false;
}

/**
 * ptreclaim_jemalloc_install() - reclaim page tables after jemalloc's purges
 *
 * Sets the hooks of every automatic arena (making those not made yet);
 * once is enough, later calls do nothing.
 *
 * Return: 0, or the errno of the mallctl() that failed (also printed).
 */
int ptreclaim_jemalloc_install(void)
{
	static bool done;
	extent_hooks_t *new = &hooks;
	size_t sz = sizeof(dflt), huge, hsz = sizeof(huge);
	unsigned int n, i;
	char name[64];
	int err;

	if (done)
		return 0;
	ptreclaim_batch_init("libptreclaim-jemalloc");
	err = mallctl("arena.0.extent_hooks", &dflt, &sz, NULL, 0);
	if (!err)
		err = mallctl("opt.oversize_threshold", &huge, &hsz, NULL, 0);
	if (err) {
		fprintf(stderr, "libptreclaim-jemalloc: mallctl: error %d: not installed\n", err);
		return err;
	}
	hooks = *dflt;
	if (dflt->purge_forced)
		hooks.purge_forced = purge_forced;
	if (dflt->purge_lazy)
		hooks.purge_lazy = purge_lazy;
	if (huge) {
		/* makes the huge arena (volatile: the pair is not elided) */
		void *volatile p = malloc(huge);

		free(p);
	}
	sz = sizeof(n);
	err = mallctl("arenas.narenas", &n, &sz, NULL, 0);
	for (i = 0; !err && i < n; i++) {
		snprintf(name, sizeof(name), "arena.%u.extent_hooks", i);
		err = mallctl(name, NULL, NULL, &new, sizeof(new));
	}
	if (err) {
		fprintf(stderr, "libptreclaim-jemalloc: mallctl(%s): error %d: installed on %u of %u arenas\n",
			name, err, i - 1, n);
		return err;
	}
	done = true;
	return 0;
}

__attribute__((constructor)) static void init(void)
{
	ptreclaim_jemalloc_install();
}
