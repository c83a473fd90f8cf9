/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Batching of MADV_PT_RECLAIM after an allocator's purges, shared by
 * libptreclaim.so (preload) and libptreclaim-jemalloc.so (jemalloc's
 * extent hooks): see batch.c. Built with -fvisibility=hidden: each
 * library has its own copy, whichever else is loaded.
 */
#ifndef PTRECLAIM_BATCH_H
#define PTRECLAIM_BATCH_H

#include <stdbool.h>

/*
 * Read the PT_RECLAIM_* environment and probe the kernel, once; @name
 * prefixes the counters.
 */
void ptreclaim_batch_init(const char *name);
/*
 * [addr, addr + len) was purged (@lazy: by MADV_FREE): note its table
 * spans, maybe reclaim.
 */
void ptreclaim_purged(unsigned long addr, unsigned long len, bool lazy);
/* Disabled, or the kernel has no MADV_PT_RECLAIM. */
bool ptreclaim_off(void);

#endif
