// SPDX-License-Identifier: GPL-2.0
/*
 * MADV_PT_RECLAIM above the four-level address space, for the x86_64
 * kernel on a CPU with LA57 (harness/arch/x86_64-la57.conf). Checks that
 * the CPU has la57, then maps 1 GiB (aligned to 1 GiB) at a hint above
 * 2^52, which only five-level paging can give (else it fails: the run
 * would prove nothing), touches one byte every 2 MiB (512 PTE tables
 * under one PMD table, under a p4d entry of their own), empties them with
 * MADV_DONTNEED under vm.pt_reclaim_dontneed=0, and requires
 * MADV_PT_RECLAIM to free exactly the 512 PTE tables and the PMD table
 * (pt_reclaim_freed, pt_reclaim_pmd_freed) and VmPTE to drop by at least
 * their size; the data of a second mapping at another high address,
 * whose tables share the upper levels, must read back. Exit 0 when all
 * holds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "procfile.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif
#define GIB (1UL << 30)
#define STEP (2UL << 20)

static int has_la57(void)
{
	char line[8192];
	int found = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) && strstr(line, " la57"))
			found = 1;
	fclose(f);
	return found;
}

/* 1 GiB aligned to 1 GiB at or near @hint: mapped 2 GiB, trimmed. */
static char *map_high(unsigned long hint)
{
	char *p = mmap((void *)hint, 2 * GIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	unsigned long a, start;

	if (p == MAP_FAILED)
		return NULL;
	a = (unsigned long)p;
	start = (a + GIB - 1) & ~(GIB - 1);
	if (start > a)
		munmap(p, start - a);
	munmap((char *)start + GIB, a + 2 * GIB - start - GIB);
	return (char *)start;
}

int main(void)
{
	const char *dn = "/proc/sys/vm/pt_reclaim_dontneed";
	long freed0, pmd0, pte0, pte1, freed, pmd;
	unsigned long off;
	char *p, *q;
	int bad = 0;

	if (!has_la57()) {
		printf("la57-reclaim: FAIL: the CPU has no la57 flag in /proc/cpuinfo\n");
		return 1;
	}
	p = map_high(1UL << 52);
	q = map_high(1UL << 53);
	if (!p || !q || (unsigned long)p < (1UL << 47) || (unsigned long)q < (1UL << 47)) {
		printf("la57-reclaim: FAIL: no mapping above 2^47 (got %p, %p): no five-level paging\n",
		       (void *)p, (void *)q);
		return 1;
	}
	printf("la57-reclaim: 1 GiB at %p, another at %p\n", (void *)p, (void *)q);
	for (off = 0; off < GIB; off += STEP) {
		p[off] = 1;
		q[off] = (char)(off / STEP) | 1;
	}
	if (write_sysctl(dn, "0")) {
		printf("la57-reclaim: FAIL: cannot write %s\n", dn);
		return 1;
	}
	pte0 = readkey("/proc/self/status", "VmPTE");
	if (madvise(p, GIB, MADV_DONTNEED)) {
		perror("la57-reclaim: MADV_DONTNEED");
		return 1;
	}
	freed0 = readkey("/proc/vmstat", "pt_reclaim_freed");
	pmd0 = readkey("/proc/vmstat", "pt_reclaim_pmd_freed");
	if (madvise(p, GIB, MADV_PT_RECLAIM)) {
		perror("la57-reclaim: MADV_PT_RECLAIM");
		return 1;
	}
	freed = readkey("/proc/vmstat", "pt_reclaim_freed") - freed0;
	pmd = readkey("/proc/vmstat", "pt_reclaim_pmd_freed") - pmd0;
	pte1 = readkey("/proc/self/status", "VmPTE");
	write_sysctl(dn, "1");
	printf("la57-reclaim: %ld PTE tables and %ld PMD tables freed, VmPTE %ld -> %ld kB\n",
	       freed, pmd, pte0, pte1);
	if (freed != GIB / STEP) {
		printf("la57-reclaim: FAIL: %ld PTE tables freed, want %lu\n", freed, GIB / STEP);
		bad = 1;
	}
	if (pmd != 1) {
		printf("la57-reclaim: FAIL: %ld PMD tables freed, want 1\n", pmd);
		bad = 1;
	}
	if (pte0 - pte1 < (long)(GIB / STEP + 1) * 4) {
		printf("la57-reclaim: FAIL: VmPTE dropped by %ld kB, want at least %lu\n",
		       pte0 - pte1, (GIB / STEP + 1) * 4);
		bad = 1;
	}
	for (off = 0; off < GIB; off += STEP)
		if (q[off] != ((char)(off / STEP) | 1) || p[off]) {
			printf("la57-reclaim: FAIL: data at offset %#lx lost\n", off);
			bad = 1;
			break;
		}
	if (!bad)
		printf("la57-reclaim: ok\n");
	return bad;
}
