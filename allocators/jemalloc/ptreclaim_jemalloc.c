// SPDX-License-Identifier: GPL-2.0
/*
 * libptreclaim-jemalloc.so: jemalloc frees the page tables its purges
 * leave empty, through its documented extent hooks (jemalloc(3),
 * "arena.<i>.extent_hooks"), without a preload of madvise().
 *
 * ptreclaim_jemalloc_install() gives every automatic arena that has
 * jemalloc's default hooks a copy of them in which the purge hooks, after
 * the default purge succeeded, pass the purged range to the batching of
 * ../preload/batch.c (PT_RECLAIM_BATCH_MB, PT_RECLAIM_DISABLE,
 * PT_RECLAIM_STATS as for libptreclaim.so). The hooks themselves are
 * jemalloc's own code; jemalloc takes its paths for arenas with custom
 * hooks, though (what make alloc's throughput column measures). A program
 * linked with jemalloc calls it once, early, from main() (compiling this
 * file and batch.c in, when jemalloc is linked statically); this library
 * also calls it from its constructor, so that
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
	ptreclaim_purged((unsigned long)addr + offset, length, false);
	return false;
}

/* MADV_FREE: noted, not counted (the pages stay until the kernel takes them) */
static bool purge_lazy(extent_hooks_t *h, void *addr, size_t size,
		       size_t offset, size_t length, unsigned int arena)
{
	(void)h;
	if (dflt->purge_lazy(dflt, addr, size, offset, length, arena))
		return true;
	ptreclaim_purged((unsigned long)addr + offset, length, true);
	return false;
}

/* Give arena @i our hooks if it has jemalloc's (made if not yet). */
static int set_hooks(unsigned int i)
{
	extent_hooks_t *cur, *new = &hooks;
	size_t sz = sizeof(cur);
	char name[64];
	int err;

	snprintf(name, sizeof(name), "arena.%u.extent_hooks", i);
	/* an automatic arena not made yet reads as jemalloc's */
	err = mallctl(name, &cur, &sz, NULL, 0);
	if (!err && cur == dflt)
		err = mallctl(name, NULL, NULL, &new, sizeof(new));
	if (err)
		fprintf(stderr, "libptreclaim-jemalloc: mallctl(%s): error %d\n",
			name, err);
	return err;
}

/**
 * ptreclaim_jemalloc_install() - reclaim page tables after jemalloc's purges
 *
 * Sets the hooks of every automatic arena (making those not made yet)
 * that has jemalloc's own: arenas with an application's hooks are left
 * alone. Does nothing on a kernel without MADV_PT_RECLAIM or with
 * PT_RECLAIM_DISABLE=1. Once is enough; later calls do nothing.
 *
 * Return: 0, or the errno of the mallctl() that failed (also printed).
 */
__attribute__((visibility("default")))
int ptreclaim_jemalloc_install(void)
{
	static bool done;
	size_t sz = sizeof(dflt), huge, hsz = sizeof(huge);
	unsigned int n, i;
	int err;

	if (done)
		return 0;
	ptreclaim_batch_init("libptreclaim-jemalloc");
	if (ptreclaim_off()) {
		done = true;
		return 0;
	}
	err = mallctl("arena.0.extent_hooks", &dflt, &sz, NULL, 0);
	if (!err)
		err = mallctl("opt.oversize_threshold", &huge, &hsz, NULL, 0);
	if (!err) {
		sz = sizeof(n);
		err = mallctl("arenas.narenas", &n, &sz, NULL, 0);
	}
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
	for (i = 0; i < n; i++) {
		err = set_hooks(i);
		if (err)
			return err;
	}
	done = true;
	return 0;
}

__attribute__((constructor)) static void init(void)
{
	ptreclaim_jemalloc_install();
}
