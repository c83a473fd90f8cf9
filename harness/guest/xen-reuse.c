// SPDX-License-Identifier: GPL-2.0
/*
 * Reuse check for PTE tables freed by MADV_PT_RECLAIM / MADV_DONTNEED
 * under Xen PV (harness/arch/x86_64-xen.conf, harness/selftests/xen.tests).
 * Each round maps 1 GiB, touches one byte every 2 MiB (512 PTE tables),
 * and frees the tables: even rounds with MADV_DONTNEED
 * (vm.pt_reclaim_dontneed=1), odd rounds with MADV_DONTNEED under
 * vm.pt_reclaim_dontneed=0 then MADV_PT_RECLAIM; a round that freed
 * fewer than 512 tables (pt_reclaim_freed) fails: nothing to reuse.
 * Then it fills most of MemAvailable with anonymous memory and a file
 * (page cache), each word its own value, and checks it all, so the pages
 * that were tables get new owners. A table freed still pinned and
 * read-only (no paravirt_release_pte()) makes the kernel's writes to it
 * fault, or Xen refuse its new mappings.
 * usage: xen-reuse [ROUNDS [LOOPS]]; exit 0 when everything read back.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "procfile.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif
#define GIB (1UL << 30)
#define STEP (2UL << 20)

/* Set a sysctl; a failure is said, and the round goes on. */
static void sysctl(const char *path, const char *val)
{
	if (write_sysctl(path, val))
		perror(path);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int round_free(int r)
{
	char *raw, *p;
	unsigned long off;
	long f0 = readkey("/proc/vmstat", "pt_reclaim_freed");
	long d0 = readkey("/proc/vmstat", "pt_reclaim_dontneed_freed");
	long pte_touched, freed;

	raw = mmap(NULL, 2 * GIB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p = (char *)(((uintptr_t)raw + GIB - 1) & ~(GIB - 1));
	for (off = 0; off < GIB; off += STEP)
		p[off] = (char)(off >> 21) | 1;
	pte_touched = readkey("/proc/self/status", "VmPTE");
	if (r & 1) {
		sysctl("/proc/sys/vm/pt_reclaim_dontneed", "0");
		if (madvise(p, GIB, MADV_DONTNEED))
			perror("MADV_DONTNEED");
		if (madvise(p, GIB, MADV_PT_RECLAIM))
			perror("MADV_PT_RECLAIM");
		sysctl("/proc/sys/vm/pt_reclaim_dontneed", "1");
	} else if (madvise(p, GIB, MADV_DONTNEED)) {
		perror("MADV_DONTNEED");
	}
	freed = readkey("/proc/vmstat", "pt_reclaim_freed") - f0;
	printf("round %d (%s): VmPTE %ld -> %ld kB, pt_reclaim_freed +%ld, pt_reclaim_dontneed_freed +%ld\n",
	       r, r & 1 ? "MADV_PT_RECLAIM" : "MADV_DONTNEED", pte_touched,
	       readkey("/proc/self/status", "VmPTE"), freed,
	       readkey("/proc/vmstat", "pt_reclaim_dontneed_freed") - d0);
	munmap(raw, 2 * GIB);
	if (freed < (long)(GIB / STEP)) {
		printf("round %d: %ld tables freed, want %lu\n", r, freed, GIB / STEP);
		return 1;
	}
	return 0;
}

static uint64_t val(uint64_t i, uint64_t seed)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^ seed;
}

static int fill_check(int loop)
{
	long avail = readkey("/proc/meminfo", "MemAvailable"); /* kB */
	size_t total = (size_t)(avail - 96 * 1024) * 1024, anon, file, i, n;
	uint64_t seed = 0x5eed0000ULL + loop, *a, buf[1 << 14];
	size_t bad = 0;
	int fd;

	if (avail < 192 * 1024) {
		printf("MemAvailable %ld kB: too little\n", avail);
		return 1;
	}
	file = total / 4 & ~((size_t)sizeof(buf) - 1);
	anon = total - file;
	printf("loop %d: MemAvailable %ld kB; writing %zu MiB anonymous, %zu MiB file\n",
	       loop, avail, anon >> 20, file >> 20);
	fd = open("/reuse.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("/reuse.dat");
		return 1;
	}
	for (n = 0; n < file / sizeof(buf); n++) {
		for (i = 0; i < sizeof(buf) / 8; i++)
			buf[i] = val(n * (sizeof(buf) / 8) + i, ~seed);
		if (write(fd, buf, sizeof(buf)) != sizeof(buf)) {
			perror("write");
			return 1;
		}
	}
	a = mmap(NULL, anon, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		perror("mmap anon");
		return 1;
	}
	for (i = 0; i < anon / 8; i++)
		a[i] = val(i, seed);
	for (i = 0; i < anon / 8; i++)
		if (a[i] != val(i, seed) && bad++ < 5)
			printf("anon word %zu: %#llx, want %#llx\n", i,
			       (unsigned long long)a[i], (unsigned long long)val(i, seed));
	lseek(fd, 0, SEEK_SET);
	for (n = 0; n < file / sizeof(buf); n++) {
		if (read(fd, buf, sizeof(buf)) != sizeof(buf)) {
			perror("read");
			return 1;
		}
		for (i = 0; i < sizeof(buf) / 8; i++)
			if (buf[i] != val(n * (sizeof(buf) / 8) + i, ~seed) && bad++ < 5)
				printf("file word %zu: %#llx\n", n * (sizeof(buf) / 8) + i,
				       (unsigned long long)buf[i]);
	}
	close(fd);
	unlink("/reuse.dat");
	munmap(a, anon);
	printf("loop %d: %zu bad words, MemFree after %ld kB\n", loop, bad,
	       readkey("/proc/meminfo", "MemFree"));
	return bad != 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 8;
	int loops = argc > 2 ? atoi(argv[2]) : 2;
	int l, r, fail = 0;
	double t0 = now();

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (l = 0; l < loops; l++) {
		for (r = 0; r < rounds; r++)
			fail |= round_free(r);
		fail |= fill_check(l);
	}
	printf("%s: %d loops of %d rounds, %.1f s\n", fail ? "FAIL" : "OK",
	       loops, rounds, now() - t0);
	return fail;
}
