// SPDX-License-Identifier: GPL-2.0
/*
 * The demo run by 'make demo': page tables left behind by MADV_DONTNEED,
 * and given back by MADV_PT_RECLAIM.
 *
 * Touches one byte every 2 MiB of a 1 GiB area (one PTE table each on
 * x86_64, two 1 MiB PTE tables each on s390x), frees the data with
 * MADV_DONTNEED, then asks for the empty tables with MADV_PT_RECLAIM,
 * printing the VmPTE line of /proc/self/status at each step.
 *
 * VmPTE counts the page tables of all levels. Touching the area also
 * allocates the PMD table that points to its PTE tables (x86_64: 4 KiB
 * per 1 GiB; s390x: a 16 KiB segment table per 2 GiB). The mapping is one
 * PMD table span, aligned to it, so that MADV_PT_RECLAIM frees that table
 * too once the PTE tables are gone.
 *
 * Exit status: 0 when VmPTE after reclaim is back to its value before the
 * touch (give or take a table of the level above, in case the mapping
 * needed a new one), 1 otherwise, 2 when the kernel does not know
 * MADV_PT_RECLAIM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dontneed.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif

#define AREA (1UL << 30)
#define STEP (2UL << 20)
#ifdef __s390x__
#define PMD_SPAN (2UL << 30)	/* a segment table: 2048 entries of 1 MiB */
#define UPPER_TABLE_KB 16	/* a region-third table */
#else
#define PMD_SPAN (1UL << 30)	/* a PMD table: 512 entries of 2 MiB */
#define UPPER_TABLE_KB 4	/* a PUD table */
#endif

/* A counter of /proc/vmstat, or -1. */
static long vmstat(const char *name)
{
	char key[64];
	long val, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name))
			found = val;
	fclose(f);
	return found;
}

/* VmPTE in kB, echoing the line with a label. */
static long vmpte(const char *label)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f) {
		perror("/proc/self/status");
		exit(1);
	}
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPTE:", 6)) {
			kb = strtol(line + 6, NULL, 10);
			printf("%-28s %s", label, line);
		}
	fclose(f);
	if (kb < 0) {
		fprintf(stderr, "no VmPTE line in /proc/self/status\n");
		exit(1);
	}
	return kb;
}

int main(void)
{
	long before, touched, after, freed, pmd_freed;
	unsigned long off;
	char *r, *p;

	if (dontneed_keeps_tables()) {
		perror("vm.pt_reclaim_dontneed=0");
		return 1;
	}
	printf("vm.pt_reclaim_dontneed=0: MADV_DONTNEED keeps its tables (with 1 it frees them itself)\n");
	before = vmpte("fresh process:");
	/* One PMD table span, aligned: reserve twice that, keep the middle. */
	r = mmap(NULL, 2 * PMD_SPAN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p = (char *)(((unsigned long)r + PMD_SPAN - 1) & ~(PMD_SPAN - 1));
	if ((p > r && munmap(r, p - r)) ||
	    munmap(p + PMD_SPAN, r + PMD_SPAN - p)) {
		perror("munmap");
		return 1;
	}
	/*
	 * Allocators that give memory back with MADV_DONTNEED mostly run with
	 * THP off or "madvise": with a huge page per touch there would be no
	 * PTE table to leave behind. Ask for small pages explicitly.
	 */
	if (madvise(p, PMD_SPAN, MADV_NOHUGEPAGE)) {
		perror("madvise(MADV_NOHUGEPAGE)");
		return 1;
	}
	for (off = 0; off < AREA; off += STEP)
		p[off] = 1;
	touched = vmpte("touched 1 GiB every 2 MiB:");
	if (madvise(p, AREA, MADV_DONTNEED)) {
		perror("madvise(MADV_DONTNEED)");
		return 1;
	}
	vmpte("after MADV_DONTNEED:");
	freed = vmstat("pt_reclaim_freed");
	pmd_freed = vmstat("pt_reclaim_pmd_freed");
	if (madvise(p, PMD_SPAN, MADV_PT_RECLAIM)) {
		if (errno == EINVAL) {
			printf("madvise(MADV_PT_RECLAIM): EINVAL: this kernel does not have MADV_PT_RECLAIM\n");
			return 2;
		}
		perror("madvise(MADV_PT_RECLAIM)");
		return 1;
	}
	after = vmpte("after MADV_PT_RECLAIM:");
	printf("PTE tables freed (pt_reclaim_freed): %ld\n",
	       vmstat("pt_reclaim_freed") - freed);
	printf("PMD tables freed (pt_reclaim_pmd_freed): %ld\n",
	       vmstat("pt_reclaim_pmd_freed") - pmd_freed);
	if (after > before + UPPER_TABLE_KB) {
		printf("FAIL: %ld kB of page tables more than before the touch\n",
		       after - before);
		return 1;
	}
	if (after > before)
		printf("OK: %ld kB of page tables given back; the %ld kB left is a table above the PMD table that the mapping needed\n",
		       touched - after, after - before);
	else
		printf("OK: %ld kB of page tables given back, all that the touch took\n",
		       touched - after);
	return 0;
}
