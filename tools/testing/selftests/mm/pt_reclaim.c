// SPDX-License-Identifier: GPL-2.0
/*
 * madvise(MADV_PT_RECLAIM): the PTE tables of a range that map nothing are
 * freed, and nothing else is: tables holding pages, the zero page, swap
 * entries or lazily freed pages stay, partial tables at the edges of the
 * range stay, THP, hugetlb and mlocked memory are untouched, data reads
 * back, and new faults after reclaim work. A PMD table whose span is
 * inside the range and one VMA goes once the PTE tables under it are gone.
 * VmPTE and the vmstat counters pt_reclaim_scanned/pt_reclaim_freed/
 * pt_reclaim_pmd_freed are checked against the exact number of tables
 * freed.
 *
 * On a kernel without the feature every test is skipped, unless
 * PT_RECLAIM_REQUIRED=1 is set in the environment: then they fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vm_util.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define NR_TABLES 8

static unsigned long page_size;
static unsigned long span;	/* PMD_SIZE: what one PTE table maps */

/* VmPTE counts PTRS_PER_PTE * sizeof(pte_t) per table. */
static long table_kb(void)
{
	return span / page_size * 8 / 1024;
}

/* A "Key: value kB" field of /proc/PID/status (or smaps_rollup), or -1. */
static long status_kb(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid,
		 strncmp(key, "Anon", 4) ? "status" : "smaps_rollup");
	return proc_kb(path, key);
}

static int reclaim(void *addr, size_t len)
{
	return madvise(addr, len, MADV_PT_RECLAIM);
}

/* Is MADV_PT_RECLAIM known? Ask on a page of our own. */
static bool have_pt_reclaim(void)
{
	void *p = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	bool ok;

	ok = !reclaim(p, page_size) || errno != EINVAL;
	munmap(p, page_size);
	return ok;
}

/* PT_RECLAIM_REQUIRED=1 (the test harness sets it): no feature, no pass. */
static bool pt_reclaim_required(void)
{
	const char *req = getenv("PT_RECLAIM_REQUIRED");

	return req && !strcmp(req, "1");
}

/*
 * A kernel without the advice skips the tests, unless PT_RECLAIM_REQUIRED=1:
 * then they fail.
 */
static bool pt_reclaim_present(struct __test_metadata *_metadata)
{
	if (have_pt_reclaim())
		return true;
	ASSERT_FALSE(pt_reclaim_required()) {
		TH_LOG("MADV_PT_RECLAIM: EINVAL, but required");
	}
	return false;
}

/*
 * The tests that map what they need themselves: the fixture only checks
 * that the kernel has MADV_PT_RECLAIM (each skips when it has not, or
 * fails where PT_RECLAIM_REQUIRED says it must).
 */
FIXTURE(reclaim) {};

FIXTURE_SETUP(reclaim)
{
	if (!pt_reclaim_present(_metadata))
		SKIP(return, "kernel without MADV_PT_RECLAIM");
}

FIXTURE_TEARDOWN(reclaim)
{
}

/*
 * Reserve n spans at a table boundary, then map over the reservation: the
 * tables under the mapping are the mapping's alone.
 */
static char *map_tables(int n, int flags, int fd)
{
	char *p = mmap_aligned(n * span, span);

	if (p == MAP_FAILED)
		return NULL;
	/* Not accounted: 8 tables of 512 MiB (64 KiB pages) exceed overcommit. */
	p = mmap(p, n * span, PROT_READ | PROT_WRITE,
		 flags | MAP_FIXED | MAP_NORESERVE, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* n anonymous tables, small pages only (no THP: no PTE table to free). */
static char *map_anon(int n)
{
	char *p = map_tables(n, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	if (p)
		madvise(p, n * span, MADV_NOHUGEPAGE);
	return p;
}

/* A byte that says where it was written, and in which round. */
static char pattern(const char *p, int round)
{
	return (char)(((uintptr_t)p >> 12) * 31 + round + 1) ?: 1;
}

/* Write one byte in each table, a page into its span. */
static void touch(char *p, int n, int round)
{
	int i;

	for (i = 0; i < n; i++)
		p[i * span + page_size] = pattern(p + i * span + page_size, round);
}

/* The first table whose byte is not what @want says, or -1. */
static int check(char *p, int n, int round, bool want_zero)
{
	int i;

	for (i = 0; i < n; i++) {
		char *b = p + i * span + page_size;

		if (*b != (want_zero ? 0 : pattern(b, round)))
			return i;
	}
	return -1;
}

/*
 * The control of a case that checks what stays: the table under the span
 * at @t, given one page and then emptied with MADV_DONTNEED (which frees
 * no table while vm.pt_reclaim_dontneed is 0, as outside its own cases).
 * The case's reclaim call must free exactly this table, so a kernel that
 * frees nothing, or a check that no longer reaches the call, fails it.
 */
static void control_table(struct __test_metadata *_metadata, char *t)
{
	t[page_size] = 1;
	ASSERT_EQ(madvise(t, span, MADV_DONTNEED), 0);
}

enum backing { ANON, SHMEM, FILE_SHARED, FILE_PRIVATE };

/*
 * The file behind @backing (-1 for anonymous memory, and on error with
 * errno set), and in *@flags how to map it.
 */
static int open_backing(enum backing backing, int *flags)
{
	char name[] = "pt_reclaim.XXXXXX";
	int fd = -1;

	*flags = MAP_SHARED;
	switch (backing) {
	case ANON:
		*flags = MAP_PRIVATE | MAP_ANONYMOUS;
		break;
	case SHMEM:
		fd = memfd_create("pt_reclaim", 0);
		break;
	case FILE_PRIVATE:
	case FILE_SHARED:
		if (backing == FILE_PRIVATE)
			*flags = MAP_PRIVATE;
		/* A file of the filesystem the test runs from. */
		fd = mkstemp(name);
		if (fd >= 0)
			unlink(name);
		break;
	}
	return fd;
}

/* Does data of @backing outlive MADV_DONTNEED (in the page cache)? */
static bool backing_shared(enum backing backing)
{
	return backing == SHMEM || backing == FILE_SHARED;
}

/* open_backing(), and the file made @size long; asserts that it worked. */
static int backing_of_size(struct __test_metadata *_metadata,
			   enum backing backing, size_t size, int *flags)
{
	int fd = open_backing(backing, flags);

	if (backing != ANON) {
		ASSERT_GE(fd, 0) TH_LOG("file: %s", strerror(errno));
		ASSERT_EQ(ftruncate(fd, size), 0);
	}
	return fd;
}

FIXTURE(pt)
{
	char *p;
	int fd;
};

FIXTURE_VARIANT(pt)
{
	enum backing backing;
};

FIXTURE_VARIANT_ADD(pt, anon) { .backing = ANON };
FIXTURE_VARIANT_ADD(pt, shmem) { .backing = SHMEM };
FIXTURE_VARIANT_ADD(pt, file_shared) { .backing = FILE_SHARED };
FIXTURE_VARIANT_ADD(pt, file_private_cow) { .backing = FILE_PRIVATE };

FIXTURE_SETUP(pt)
{
	int flags;

	self->fd = -1;
	if (!pt_reclaim_present(_metadata))
		SKIP(return, "kernel without MADV_PT_RECLAIM");
	self->fd = backing_of_size(_metadata, variant->backing,
				   NR_TABLES * span, &flags);
	self->p = map_tables(NR_TABLES, flags, self->fd);
	ASSERT_NE(self->p, NULL) TH_LOG("mmap: %s", strerror(errno));
	/* Only the empty-table case here: no THP. */
	madvise(self->p, NR_TABLES * span, MADV_NOHUGEPAGE);
}

FIXTURE_TEARDOWN(pt)
{
	if (self->p)
		munmap(self->p, NR_TABLES * span);
	if (self->fd >= 0)
		close(self->fd);
}

/* Data given back with MADV_DONTNEED: every table goes, nothing else. */
TEST_F(pt, empty_tables_freed)
{
	long pte0, pte1, freed0, scanned0;
	int bad;

	touch(self->p, NR_TABLES, 0);
	ASSERT_EQ(madvise(self->p, NR_TABLES * span, MADV_DONTNEED), 0);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	scanned0 = vmstat_read("pt_reclaim_scanned");
	ASSERT_GE(freed0, 0) TH_LOG("no pt_reclaim_freed in /proc/vmstat");

	ASSERT_EQ(reclaim(self->p, NR_TABLES * span), 0);
	pte1 = vmpte_kb();
	EXPECT_EQ(pte0 - pte1, NR_TABLES * table_kb())
		TH_LOG("VmPTE %ld kB -> %ld kB", pte0, pte1);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, NR_TABLES);
	EXPECT_GE(vmstat_read("pt_reclaim_scanned") - scanned0, NR_TABLES);

	/* Shared data lives on in the page cache; private data is gone. */
	bad = check(self->p, NR_TABLES, 0, !backing_shared(variant->backing));
	EXPECT_EQ(bad, -1) TH_LOG("wrong data in table %d after reclaim", bad);
	/* New faults build new tables. */
	touch(self->p, NR_TABLES, 1);
	EXPECT_EQ(check(self->p, NR_TABLES, 1, false), -1);
	EXPECT_EQ(vmpte_kb(), pte0);
}

/*
 * Tables that map pages stay, and so does the data; the last table,
 * emptied, is the control that goes in the same call.
 */
TEST_F(pt, used_tables_kept)
{
	long pte0, freed0;

	touch(self->p, NR_TABLES - 1, 0);
	control_table(_metadata, self->p + (NR_TABLES - 1) * span);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(self->p, NR_TABLES * span), 0);
	EXPECT_EQ(pte0 - vmpte_kb(), table_kb());
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 1)
		TH_LOG("%d used tables and the empty control: 1 to free",
		       NR_TABLES - 1);
	EXPECT_EQ(check(self->p, NR_TABLES - 1, 0, false), -1);
}

/* A table only partly inside the range stays, at either end. */
TEST_F(pt, partial_tables_at_both_ends_kept)
{
	long pte0, freed0;

	touch(self->p, NR_TABLES, 0);
	ASSERT_EQ(madvise(self->p, NR_TABLES * span, MADV_DONTNEED), 0);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(self->p + page_size, NR_TABLES * span - 2 * page_size), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, NR_TABLES - 2);
	EXPECT_EQ(pte0 - vmpte_kb(), (NR_TABLES - 2) * table_kb());
}

/*
 * PMD tables: once the PTE tables under it are gone, a PMD table whose
 * whole span is inside the range and inside one VMA goes too. The fixture
 * maps one PMD table span (pud_span), aligned, and lets the tables above
 * it appear and its own go once, so that VmPTE can be compared exactly.
 */
static unsigned long pud_span;	/* PUD_SIZE: what one PMD table maps */
static long pmd_kb;		/* a PMD table in VmPTE */

FIXTURE(pmd)
{
	char *p;
	int fd;
	long pte0;	/* VmPTE with the span mapped and no table under it */
	long pmd_freed0;
};

FIXTURE_VARIANT(pmd)
{
	enum backing backing;
};

FIXTURE_VARIANT_ADD(pmd, anon) { .backing = ANON };
FIXTURE_VARIANT_ADD(pmd, shmem) { .backing = SHMEM };
FIXTURE_VARIANT_ADD(pmd, file_shared) { .backing = FILE_SHARED };
FIXTURE_VARIANT_ADD(pmd, file_private_cow) { .backing = FILE_PRIVATE };

FIXTURE_SETUP(pmd)
{
	int flags;
	char *p;

	self->p = NULL;
	self->fd = -1;
	if (!pt_reclaim_present(_metadata))
		SKIP(return, "kernel without MADV_PT_RECLAIM");
	if (!pud_span)
		SKIP(return, "cannot tell the span of a PMD table from VmPTE");
	self->fd = backing_of_size(_metadata, variant->backing, pud_span,
				   &flags);
	p = mmap_aligned(pud_span, pud_span);
	ASSERT_NE(p, MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	/*
	 * Not accounted: a private writable span of 64 GiB (16 KiB pages)
	 * or 4 TiB (64 KiB pages) is more than overcommit allows.
	 */
	self->p = mmap(p, pud_span, PROT_READ | PROT_WRITE,
		       flags | MAP_FIXED | MAP_NORESERVE, self->fd, 0);
	ASSERT_NE(self->p, MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	madvise(self->p, pud_span, MADV_NOHUGEPAGE);

	/* The upper tables appear; the PMD table and its PTE table go. */
	touch(self->p, 1, 0);
	ASSERT_EQ(madvise(self->p, pud_span, MADV_DONTNEED), 0);
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	self->pte0 = vmpte_kb();
	/* Now NR_TABLES PTE tables and the PMD table. */
	touch(self->p, NR_TABLES, 1);
	ASSERT_EQ(vmpte_kb() - self->pte0, NR_TABLES * table_kb() + pmd_kb)
		TH_LOG("the PMD table was not freed in the setup");
	self->pmd_freed0 = vmstat_read("pt_reclaim_pmd_freed");
	ASSERT_GE(self->pmd_freed0, 0)
		TH_LOG("no pt_reclaim_pmd_freed in /proc/vmstat");
}

FIXTURE_TEARDOWN(pmd)
{
	if (self->p && self->p != MAP_FAILED)
		munmap(self->p, pud_span);
	if (self->fd >= 0)
		close(self->fd);
}

/* How many PMD tables were freed since the setup. */
static long pmd_freed(long since)
{
	return vmstat_read("pt_reclaim_pmd_freed") - since;
}

/* Everything given back: the PTE tables and then the PMD table go. */
TEST_F(pmd, empty_pmd_table_freed)
{
	long freed0 = vmstat_read("pt_reclaim_freed");
	int bad;

	ASSERT_EQ(madvise(self->p, pud_span, MADV_DONTNEED), 0);
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	EXPECT_EQ(vmpte_kb(), self->pte0);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 1);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, NR_TABLES);

	/* New faults build new tables; shared data lived on in the cache. */
	bad = check(self->p, NR_TABLES, 1, !backing_shared(variant->backing));
	EXPECT_EQ(bad, -1) TH_LOG("wrong data in table %d after reclaim", bad);
	touch(self->p, NR_TABLES, 2);
	EXPECT_EQ(check(self->p, NR_TABLES, 2, false), -1);
	EXPECT_EQ(vmpte_kb() - self->pte0, NR_TABLES * table_kb() + pmd_kb);
}

/* One page still mapped: its PTE table and the PMD table stay. */
TEST_F(pmd, one_page_keeps_pmd_table)
{
	ASSERT_EQ(madvise(self->p + span, pud_span - span, MADV_DONTNEED), 0);
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	EXPECT_EQ(vmpte_kb() - self->pte0, table_kb() + pmd_kb);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 0);
	EXPECT_EQ(check(self->p, 1, 1, false), -1);
}

/* A range one page short of the span frees the PTE tables only. */
TEST_F(pmd, partial_range_keeps_pmd_table)
{
	ASSERT_EQ(madvise(self->p, pud_span, MADV_DONTNEED), 0);
	ASSERT_EQ(reclaim(self->p + page_size, pud_span - page_size), 0);
	/* The first PTE table is only partly inside the range. */
	EXPECT_EQ(vmpte_kb() - self->pte0, table_kb() + pmd_kb);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 0);
	ASSERT_EQ(reclaim(self->p, pud_span - page_size), 0);
	EXPECT_EQ(vmpte_kb() - self->pte0, pmd_kb);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 0);
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	EXPECT_EQ(vmpte_kb(), self->pte0);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 1);
}

/*
 * Two VMAs under one PMD table: the PTE tables go, the PMD table stays
 * (freeing it takes the locks of one VMA). Merged again, it goes.
 */
TEST_F(pmd, two_vmas_keep_pmd_table)
{
	char *half = self->p + pud_span / 2;

	ASSERT_EQ(madvise(self->p, pud_span, MADV_DONTNEED), 0);
	ASSERT_EQ(mprotect(half, pud_span / 2, PROT_READ), 0);
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	EXPECT_EQ(vmpte_kb() - self->pte0, pmd_kb);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 0);
	ASSERT_EQ(mprotect(half, pud_span / 2, PROT_READ | PROT_WRITE), 0);
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	EXPECT_EQ(vmpte_kb(), self->pte0);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 1);
}

/* A fault right after the PMD table went builds it again. */
TEST_F(pmd, fault_after_pmd_reclaim)
{
	ASSERT_EQ(madvise(self->p, pud_span, MADV_DONTNEED), 0);
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	ASSERT_EQ(vmpte_kb(), self->pte0);
	self->p[pud_span - 1] = 7;
	EXPECT_EQ(vmpte_kb() - self->pte0, table_kb() + pmd_kb);
	EXPECT_EQ(self->p[pud_span - 1], 7);
	/* And a reclaim of a range holding a page keeps everything. */
	ASSERT_EQ(reclaim(self->p, pud_span), 0);
	EXPECT_EQ(vmpte_kb() - self->pte0, table_kb() + pmd_kb);
	EXPECT_EQ(pmd_freed(self->pmd_freed0), 1);
}

/*
 * vm.pt_reclaim_dontneed=1: MADV_DONTNEED frees the tables it empties
 * itself, and only those wholly inside its range. Returns false (the test
 * skips, or fails when PT_RECLAIM_REQUIRED=1) without the sysctl.
 */
static bool dontneed_on(struct __test_metadata *_metadata)
{
	if (set_pt_reclaim_dontneed(1) >= 0)
		return true;
	ASSERT_FALSE(pt_reclaim_required()) {
		TH_LOG("no vm.pt_reclaim_dontneed, but MADV_PT_RECLAIM required");
	}
	return false;
}

TEST_F(pt, dontneed_frees_tables)
{
	long pte0, freed0, dfreed0;
	int bad;

	if (!dontneed_on(_metadata))
		SKIP(return, "no vm.pt_reclaim_dontneed");
	touch(self->p, NR_TABLES, 0);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	dfreed0 = vmstat_read("pt_reclaim_dontneed_freed");
	ASSERT_GE(dfreed0, 0) TH_LOG("no pt_reclaim_dontneed_freed in /proc/vmstat");
	ASSERT_EQ(madvise(self->p, NR_TABLES * span, MADV_DONTNEED), 0);
	set_pt_reclaim_dontneed(0);
	EXPECT_EQ(pte0 - vmpte_kb(), NR_TABLES * table_kb());
	EXPECT_EQ(vmstat_read("pt_reclaim_dontneed_freed") - dfreed0, NR_TABLES);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, NR_TABLES);
	bad = check(self->p, NR_TABLES, 0, !backing_shared(variant->backing));
	EXPECT_EQ(bad, -1) TH_LOG("wrong data in table %d after DONTNEED", bad);
	touch(self->p, NR_TABLES, 1);
	EXPECT_EQ(check(self->p, NR_TABLES, 1, false), -1);
	EXPECT_EQ(vmpte_kb(), pte0);
}

/* Switched off, MADV_DONTNEED keeps the tables (what the other tests use). */
TEST_F(pt, dontneed_switched_off_keeps_tables)
{
	long pte0, freed0;

	if (!dontneed_on(_metadata))
		SKIP(return, "no vm.pt_reclaim_dontneed");
	set_pt_reclaim_dontneed(0);
	touch(self->p, NR_TABLES, 0);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(madvise(self->p, NR_TABLES * span, MADV_DONTNEED), 0);
	EXPECT_EQ(vmpte_kb(), pte0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed"), freed0);
}

/* A range a page short at both ends: the two tables at its edges stay. */
TEST_F(pt, dontneed_partial_tables_kept)
{
	long pte0, dfreed0;

	if (!dontneed_on(_metadata))
		SKIP(return, "no vm.pt_reclaim_dontneed");
	touch(self->p, NR_TABLES, 0);
	pte0 = vmpte_kb();
	dfreed0 = vmstat_read("pt_reclaim_dontneed_freed");
	ASSERT_EQ(madvise(self->p + page_size, NR_TABLES * span - 2 * page_size,
			  MADV_DONTNEED), 0);
	set_pt_reclaim_dontneed(0);
	EXPECT_EQ(vmstat_read("pt_reclaim_dontneed_freed") - dfreed0,
		  NR_TABLES - 2);
	EXPECT_EQ(pte0 - vmpte_kb(), (NR_TABLES - 2) * table_kb());
}

/*
 * The kernel's log from now on: /dev/kmsg, read from its end (-1 when it
 * cannot be read).
 */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* How many records logged since kmsg_open() contain @what. */
static int kmsg_count(int fd, const char *what)
{
	char rec[8192];
	ssize_t n;
	int found = 0;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* records overwritten */
			continue;
		if (n <= 0)
			return found;
		rec[n] = 0;
		found += !!strstr(rec, what);
	}
}

/*
 * The "Bad rss-counter" check runs when an exited process's mm is
 * dropped, which a CPU that ran it last may put off (it keeps the mm as
 * its lazy TLB mm until it runs another process): run on each CPU once,
 * then read the log.
 */
static int kmsg_count_exited(int fd, const char *what)
{
	cpu_set_t all, one;
	int cpu;

	if (!sched_getaffinity(0, sizeof(all), &all)) {
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			if (!CPU_ISSET(cpu, &all))
				continue;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			if (!sched_setaffinity(0, sizeof(one), &one))
				sched_yield();
		}
		sched_setaffinity(0, sizeof(all), &all);
	}
	return kmsg_count(fd, what);
}

/*
 * A thread faults pages into the tables while another DONTNEEDs them: the
 * reclaim step after each zap must not free a table a fault refilled. A
 * table freed with a page in it loses the page without its counters going
 * down: the kernel says "Bad rss-counter state" when the process exits
 * (and DEBUG_VM warns at once). The race runs in a child; the parent reads
 * the log. A write is also checked to read back when no DONTNEED ran
 * around it.
 */
struct dn_race {
	char *p;
	unsigned int tables;	/* pages of each are written in turn */
	atomic_uint seq;	/* odd: a DONTNEED is running */
	atomic_bool stop;
	unsigned long writes, lost;
};

static void *dn_writer(void *arg)
{
	struct dn_race *r = arg;
	unsigned int i = 0;

	unsigned long ptes = span / page_size;
	/* Spread over each table; a few, as shmem keeps what it writes. */
	unsigned long at[] = { 1, 7, 8, 9, ptes / 2, ptes - 8, ptes - 1 };

	while (!atomic_load(&r->stop)) {
		unsigned long pg = at[(i / r->tables) % ARRAY_SIZE(at)];
		char *b = r->p + (i++ % r->tables) * span + pg * page_size;
		unsigned int s = atomic_load(&r->seq);

		__atomic_store_n(b, 1, __ATOMIC_RELAXED);
		r->writes++;
		if (__atomic_load_n(b, __ATOMIC_RELAXED) != 1 && !(s & 1) &&
		    atomic_load(&r->seq) == s)
			r->lost++;
	}
	return NULL;
}

static int dn_race_child(char *p)
{
	struct dn_race r = { .p = p, .tables = NR_TABLES };
	pthread_t t;
	int i;

	if (pthread_create(&t, NULL, dn_writer, &r))
		return 2;
	for (i = 0; i < 2000; i++) {
		atomic_fetch_add(&r.seq, 1);
		madvise(p, NR_TABLES * span, MADV_DONTNEED);
		atomic_fetch_add(&r.seq, 1);
		sched_yield();
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	if (r.lost)
		fprintf(stderr, "%lu of %lu writes lost\n", r.lost, r.writes);
	return r.lost ? 1 : 0;
}

TEST_F(pt, dontneed_races_faults)
{
	long dfreed0 = vmstat_read("pt_reclaim_dontneed_freed");
	int kmsg, status;
	pid_t pid;

	if (!dontneed_on(_metadata))
		SKIP(return, "no vm.pt_reclaim_dontneed");
	kmsg = kmsg_open();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(dn_race_child(self->p));
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	set_pt_reclaim_dontneed(0);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	TH_LOG("%ld tables freed by MADV_DONTNEED",
	       vmstat_read("pt_reclaim_dontneed_freed") - dfreed0);
	EXPECT_GT(vmstat_read("pt_reclaim_dontneed_freed"), dfreed0);
	if (kmsg >= 0) {
		EXPECT_EQ(kmsg_count_exited(kmsg, "Bad rss-counter"), 0);
		close(kmsg);
	} else {
		TH_LOG("/dev/kmsg: %s: the kernel log is not checked",
		       strerror(errno));
	}
}

/*
 * A zap that stops inside a table and comes back: the mmu_gather holds
 * about 10000 pages (MAX_GATHER_BATCH_COUNT batches), so a MADV_DONTNEED
 * of more written pages flushes and frees them in the middle, with the
 * table's PTE lock dropped, and zaps the rest of the table in a second
 * zap_pte_range() call. A fault may refill the first part meanwhile: the
 * second call went over part of the table only and must read it again
 * before it frees it (a table freed with the page: "Bad rss-counter").
 */
#define SPLIT_PAGES 16384

static int dn_split_child(void)
{
	/*
	 * The writer leaves the last two tables alone: the zap frees those
	 * in every round, whatever it finds in the tables the writer keeps
	 * refilling (where the zap leaves its tables to the walk at its
	 * end, as on arm64, the walk finds those refilled: the test once
	 * saw no table freed in 10 rounds there).
	 */
	struct dn_race r = { .tables = SPLIT_PAGES / (span / page_size) - 2 };
	size_t len = (r.tables + 2) * span;
	/* Up to 10 rounds, but within 10 s: KASAN kernels are slow. */
	time_t end = time(NULL) + 10;
	pthread_t t;
	int i;

	r.p = map_anon(r.tables + 2);
	if (!r.p || pthread_create(&t, NULL, dn_writer, &r))
		return 2;
	for (i = 0; i < 10 && (!i || time(NULL) < end); i++) {
		memset(r.p, 1, len);
		atomic_fetch_add(&r.seq, 1);
		madvise(r.p, len, MADV_DONTNEED);
		atomic_fetch_add(&r.seq, 1);
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	if (r.lost)
		fprintf(stderr, "%lu of %lu writes lost\n", r.lost, r.writes);
	return r.lost ? 1 : 0;
}

TEST_F(reclaim, dontneed_split_zap_races_faults)
{
	long dfreed0 = vmstat_read("pt_reclaim_dontneed_freed");
	int kmsg, status = -1;
	pid_t pid;

	/* 16384 pages of 64 KiB, 10 times, would not fit the guest. */
	if (page_size > 16384)
		SKIP(return, "%lu KiB pages: too much memory", page_size / 1024);
	kmsg = kmsg_open();
	ASSERT_GE(kmsg, 0) TH_LOG("/dev/kmsg: %s", strerror(errno));
	if (!dontneed_on(_metadata))
		SKIP(return, "no vm.pt_reclaim_dontneed");
	pid = fork();
	if (!pid)
		_exit(dn_split_child());
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	set_pt_reclaim_dontneed(0);
	ASSERT_GT(pid, 0) TH_LOG("fork: %s", strerror(errno));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child: status %#x", status);
	EXPECT_GT(vmstat_read("pt_reclaim_dontneed_freed"), dfreed0);
	EXPECT_EQ(kmsg_count_exited(kmsg, "Bad rss-counter"), 0);
	close(kmsg);
}

/*
 * One page anywhere in a table keeps it: the first entry, the last, and
 * between (the emptiness check reads words in groups, and a check that
 * stopped short or skipped a group would miss it).
 */
TEST_F(reclaim, one_entry_anywhere_keeps_its_table)
{
	unsigned long ptes = span / page_size;
	unsigned long at[] = { 0, 1, 7, 8, 9, ptes / 2 - 1, ptes / 2,
			       ptes - 9, ptes - 8, ptes - 2, ptes - 1 };
	long pte0, freed0;
	unsigned int i;
	char *p;

	for (i = 0; i < ARRAY_SIZE(at); i++) {
		p = map_anon(2);
		ASSERT_NE(p, NULL);
		p[at[i] * page_size] = 1;
		control_table(_metadata, p + span);
		pte0 = vmpte_kb();
		freed0 = vmstat_read("pt_reclaim_freed");
		ASSERT_EQ(reclaim(p, 2 * span), 0);
		EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 1)
			TH_LOG("a page at entry %lu and the empty control: 1 to free",
			       at[i]);
		EXPECT_EQ(pte0 - vmpte_kb(), table_kb());
		EXPECT_EQ(p[at[i] * page_size], 1);
		munmap(p, 2 * span);
	}
}

/*
 * The zero page and MADV_FREE'd pages are entries: their tables stay.
 * On one CPU throughout: a page faulted in on one CPU waits in that CPU's
 * LRU batch, which a MADV_FREE or MADV_PAGEOUT on another does not drain;
 * MADV_FREE then leaves it swap-backed and MADV_PAGEOUT swaps it out
 * instead of discarding it (seen once on riscv64). The CPU is the first
 * one allowed, not sched_getcpu()'s: in a Xen PV dom0 (Xen 4.17, QEMU
 * TCG, 2 CPUs, a kernel without rseq, so that glibc asks the vDSO)
 * sched_getcpu() answered 123.
 */
TEST_F(reclaim, zero_page_and_lazyfree_keep_tables)
{
	cpu_set_t all, one;
	long pte0, freed0;
	int cpu = 0;
	char *p;

	ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
	while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &all))
		cpu++;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0)
		TH_LOG("pinning to CPU %d: %s", cpu, strerror(errno));
	p = map_anon(2);
	ASSERT_NE(p, NULL);
	/* A read fault maps the zero page. */
	EXPECT_EQ(__atomic_load_n(p, __ATOMIC_RELAXED), 0);
	p[span] = 1;
	ASSERT_EQ(madvise(p + span, page_size, MADV_FREE), 0);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(p, 2 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed"), freed0);
	EXPECT_EQ(vmpte_kb(), pte0);
	EXPECT_EQ(p[span], 1);

	/*
	 * Discarded by reclaim (MADV_PAGEOUT of the clean lazyfree page:
	 * no swap needed), the entry is none and its table goes.
	 */
	ASSERT_EQ(madvise(p + span, page_size, MADV_FREE), 0);
	ASSERT_EQ(madvise(p + span, page_size, MADV_PAGEOUT), 0);
	ASSERT_EQ(reclaim(p, 2 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed"), freed0 + 1)
		TH_LOG("the MADV_FREE'd page was not discarded, or its table stayed");
	EXPECT_EQ(vmpte_kb(), pte0 - table_kb());
	EXPECT_EQ(p[span], 0);
	munmap(p, 2 * span);
	sched_setaffinity(0, sizeof(all), &all);
}

/*
 * One table under two VMAs is freed when both are empty; a table whose
 * span is partly unmapped stays, and the hole gives ENOMEM while the
 * mapped tables are still freed:
 *
 *   | table 0 (RO | RW) | table 1 | table 2 | table 3 ...hole|
 */
TEST_F(reclaim, vmas_and_holes)
{
	long pte0, freed0;
	char *p;

	p = map_anon(4);
	ASSERT_NE(p, NULL);
	touch(p, 4, 0);
	ASSERT_EQ(mprotect(p, span / 2, PROT_READ), 0);
	ASSERT_EQ(madvise(p, 4 * span, MADV_DONTNEED), 0);
	ASSERT_EQ(munmap(p + 4 * span - 2 * page_size, 2 * page_size), 0);

	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	EXPECT_EQ(reclaim(p, 4 * span), -1);
	EXPECT_EQ(errno, ENOMEM);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 3);
	EXPECT_EQ(pte0 - vmpte_kb(), 3 * table_kb());
	/* Without the hole in the range: no error, nothing left to free. */
	EXPECT_EQ(reclaim(p + 3 * span, span - 2 * page_size), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 3);
	munmap(p, 4 * span - 2 * page_size);
}

/*
 * A hole between two VMAs keeps the table whose span holds it, all none
 * as it is, and the call says ENOMEM; the tables on either side go. (A
 * hole may be a munmap() under way: its VMAs are out of the tree while
 * free_pgtables() frees their tables under the mmap lock in read mode.)
 *
 *   | table 0 | table 1 (..hole..) | table 2 |
 */
TEST_F(reclaim, hole_between_vmas_keeps_table)
{
	long pte0, freed0;
	char *p;

	p = map_anon(3);
	ASSERT_NE(p, NULL);
	touch(p, 3, 0);
	ASSERT_EQ(madvise(p, 3 * span, MADV_DONTNEED), 0);
	ASSERT_EQ(munmap(p + span + span / 2, 2 * page_size), 0);

	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	EXPECT_EQ(reclaim(p, 3 * span), -1);
	EXPECT_EQ(errno, ENOMEM);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 2);
	EXPECT_EQ(pte0 - vmpte_kb(), 2 * table_kb());
	munmap(p, 3 * span);
}

/* The usual madvise() errors. */
TEST_F(reclaim, bad_input)
{
	char *p;

	p = map_anon(1);
	ASSERT_NE(p, NULL);
	EXPECT_EQ(reclaim(p + 1, page_size), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(reclaim(p, 0), 0);
	EXPECT_EQ(reclaim(p, -page_size), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(madvise(p, page_size, 1000), -1);
	EXPECT_EQ(errno, EINVAL);
	munmap(p, span);
	EXPECT_EQ(reclaim(p, span), -1);
	EXPECT_EQ(errno, ENOMEM);
	/*
	 * The last pages of the address space, mapped by nothing of ours:
	 * the start once wrapped to 0 when aligned up to a table.
	 */
	EXPECT_EQ(reclaim((void *)-(2 * page_size), page_size), -1);
	EXPECT_EQ(errno, ENOMEM);
	EXPECT_EQ(reclaim((void *)-span, span - page_size), -1);
	EXPECT_EQ(errno, ENOMEM);
}

/* A page swapped out leaves a swap entry: its table stays. */
TEST_F(reclaim, swap_entries_keep_table)
{
	long freed0;
	uint64_t ent;
	char *p;
	int fd, i;

	p = map_anon(2);
	ASSERT_NE(p, NULL);
	for (i = 0; i < 16; i++)
		p[i * page_size] = i + 1;
	ASSERT_EQ(madvise(p, 16 * page_size, MADV_PAGEOUT), 0);
	fd = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pread(fd, &ent, 8, (uintptr_t)p / page_size * 8), 8);
	close(fd);
	if (!(ent & (1ULL << 62)))
		SKIP(goto out, "the page was not swapped out (no swap?)");

	control_table(_metadata, p + span);
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(p, 2 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 1)
		TH_LOG("a table of swap entries and the empty control: 1 to free");
	for (i = 0; i < 16; i++)
		EXPECT_EQ(p[i * page_size], i + 1);
out:
	munmap(p, 2 * span);
}

/*
 * A userfaultfd with @features, or -1 with the test skipped where there
 * is none or it lacks them.
 */
static int uffd_open(struct __test_metadata *_metadata, __u64 features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int uffd;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return -1, "no userfaultfd: %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api) ||
	    !(api.ioctls & (1ULL << _UFFDIO_REGISTER))) {
		close(uffd);
		SKIP(return -1, "no userfaultfd features %#llx here",
		     (unsigned long long)features);
	}
	return uffd;
}

/*
 * Register [p, p + len) with @uffd for write protection and protect it;
 * false with the test skipped where it cannot be registered.
 */
static bool uffd_wp_protect(struct __test_metadata *_metadata, int uffd,
			    char *p, unsigned long len)
{
	struct uffdio_register reg = { 0 };
	struct uffdio_writeprotect wp = { 0 };

	reg.range.start = (uintptr_t)p;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		SKIP(return false, "UFFDIO_REGISTER_MODE_WP: %s", strerror(errno));
	wp.range = reg.range;
	wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
	ASSERT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
	return true;
}

/*
 * uffd-wp markers are entries: with UFFD_FEATURE_WP_UNPOPULATED,
 * write-protecting unpopulated anonymous memory fills its tables with
 * markers. They stay while the markers are there, and go once the range
 * is unprotected (which clears the markers).
 */
TEST_F(reclaim, uffd_wp_markers_keep_tables)
{
	struct uffdio_writeprotect wp = { 0 };
	long freed0, pte0;
	int uffd;
	char *p;

	uffd = uffd_open(_metadata, UFFD_FEATURE_WP_UNPOPULATED);
	if (uffd < 0)
		return;
	p = map_anon(2);
	ASSERT_NE(p, NULL);
	if (!uffd_wp_protect(_metadata, uffd, p, 2 * span)) {
		munmap(p, 2 * span);
		close(uffd);
		return;
	}
	wp.range.start = (uintptr_t)p;
	wp.range.len = 2 * span;

	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(p, 2 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed"), freed0);
	EXPECT_EQ(vmpte_kb(), pte0);

	wp.mode = 0;
	ASSERT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
	ASSERT_EQ(reclaim(p, 2 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 2);
	munmap(p, 2 * span);
	close(uffd);
}

/*
 * MADV_DONTNEED of uffd-wp-protected shmem leaves a marker where it
 * zaps a protected page (the protection outlives the page): with its
 * reclaim on, the tables that hold markers stay, whether the zap itself
 * or the walk at its end looks at them.
 */
TEST_F(reclaim, dontneed_keeps_uffd_wp_marker_tables)
{
	long freed0, pte0;
	int uffd, fd;
	char *p;

	uffd = uffd_open(_metadata, UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	if (uffd < 0)
		return;
	fd = memfd_create("pt_reclaim_wp", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 2 * span), 0);
	p = map_tables(2, MAP_SHARED, fd);
	ASSERT_NE(p, NULL);
	touch(p, 2, 0);
	if (!uffd_wp_protect(_metadata, uffd, p, 2 * span))
		goto out;
	if (!dontneed_on(_metadata))
		SKIP(goto out, "no vm.pt_reclaim_dontneed");

	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(madvise(p, 2 * span, MADV_DONTNEED), 0);
	set_pt_reclaim_dontneed(0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed"), freed0);
	EXPECT_EQ(vmpte_kb(), pte0);
out:
	munmap(p, 2 * span);
	close(fd);
	close(uffd);
}

#define UFFD_RACE_SECONDS 3

/* A reclaimer thread: MADV_PT_RECLAIM over its range until told to stop. */
struct uffd_race {
	char *p;
	unsigned long len;
	bool stop;
	long calls;
};

static void *uffd_race_reclaimer(void *arg)
{
	struct uffd_race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		reclaim(r->p, r->len);
		r->calls++;
	}
	return NULL;
}

/*
 * The index of the first of @n pages from @p without PM_UFFD_WP, or @n;
 * 0 if pagemap cannot be read. Read 4096 entries at a time.
 */
static unsigned long first_unprotected(int pagemap, char *p, unsigned long n)
{
	static uint64_t ent[4096];
	unsigned long i, done, chunk;
	off_t off = (uintptr_t)p / page_size * 8;

	for (done = 0; done < n; done += chunk) {
		chunk = n - done < 4096 ? n - done : 4096;
		if (pread(pagemap, ent, chunk * 8, off + done * 8) != chunk * 8)
			return 0;
		for (i = 0; i < chunk; i++)
			if (!(ent[i] & PM_UFFD_WP))
				return done + i;
	}
	return n;
}

/*
 * The userfaultfd ioctls that allocate a table, then use it, under the
 * mmap lock in read mode as MADV_PT_RECLAIM takes it: the table is empty
 * until they fill it, and a reclaimer may free it in between. With a
 * reclaimer on another thread, over and over: UFFDIO_COPY and
 * UFFDIO_ZEROPAGE into a page of a MISSING-registered range whose table
 * was freed must work (no EEXIST for a page that is not there, no
 * EAGAIN); UFFDIO_WRITEPROTECT of an unpopulated range must leave a
 * marker on every page (a table freed before its markers went in would
 * leave a run of pages whose writes are not reported), where the arch
 * has uffd-wp.
 */
TEST_F(reclaim, uffd_ioctls_race_reclaim)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_WP_UNPOPULATED };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffd_race fill = { 0 }, prot = { 0 };
	long copies = 0, zeros = 0, wps = 0, failed = 0, unprotected = 0;
	long freed0, freed;
	char *src, *a, *w;
	pthread_t th[2];
	unsigned long n = 2 * span / page_size, i, bad;
	time_t end;
	int uffd, pagemap;
	bool wp_ok;

	/* With uffd-wp where the arch has it (UFFDIO_API says EINVAL). */
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	wp_ok = uffd >= 0 && !ioctl(uffd, UFFDIO_API, &api);
	if (!wp_ok) {
		if (uffd >= 0)
			close(uffd);
		TH_LOG("no uffd-wp here: UFFDIO_COPY and UFFDIO_ZEROPAGE only");
		uffd = uffd_open(_metadata, 0);
		if (uffd < 0)
			return;
	}
	src = malloc(page_size);
	a = map_anon(2);
	w = map_anon(2);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_NE(src, NULL);
	ASSERT_NE(a, NULL);
	ASSERT_NE(w, NULL);
	ASSERT_GE(pagemap, 0);
	reg.range.start = (uintptr_t)a;
	reg.range.len = 2 * span;
	ASSERT_EQ(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	if (wp_ok)
		ASSERT_TRUE(uffd_wp_protect(_metadata, uffd, w, 2 * span));
	fill = (struct uffd_race){ .p = a, .len = 2 * span };
	prot = (struct uffd_race){ .p = w, .len = 2 * span };
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(pthread_create(&th[0], NULL, uffd_race_reclaimer, &fill), 0);
	ASSERT_EQ(pthread_create(&th[1], NULL, uffd_race_reclaimer, &prot), 0);

	end = time(NULL) + UFFD_RACE_SECONDS;
	for (i = 0; time(NULL) < end; i++) {
		char *dst = a + (i * 97 % n) * page_size;
		struct uffdio_copy c = {
			.dst = (uintptr_t)dst, .src = (uintptr_t)src,
			.len = page_size,
		};
		struct uffdio_zeropage z = {
			.range = { (uintptr_t)dst, page_size },
		};
		struct uffdio_writeprotect wp = {
			.range = { (uintptr_t)w, 2 * span },
		};

		/* Copy in, check, zap: the table is empty again. */
		memset(src, (char)(i | 1), page_size);
		if (ioctl(uffd, UFFDIO_COPY, &c) || c.copy != page_size) {
			if (!failed++)
				TH_LOG("UFFDIO_COPY at %p: %s (copy %lld)", dst,
				       strerror(errno), (long long)c.copy);
		} else {
			EXPECT_EQ(dst[page_size - 1], (char)(i | 1));
			copies++;
		}
		ASSERT_EQ(madvise(dst, page_size, MADV_DONTNEED), 0);
		if (ioctl(uffd, UFFDIO_ZEROPAGE, &z) || z.zeropage != page_size) {
			if (!failed++)
				TH_LOG("UFFDIO_ZEROPAGE at %p: %s (zeropage %lld)",
				       dst, strerror(errno),
				       (long long)z.zeropage);
		} else {
			EXPECT_EQ(dst[0], 0);
			zeros++;
		}
		ASSERT_EQ(madvise(dst, page_size, MADV_DONTNEED), 0);

		/* Unprotect (markers gone, tables empty), protect again. */
		if (!wp_ok)
			continue;
		ASSERT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
		wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
		ASSERT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
		bad = first_unprotected(pagemap, w, n);
		if (bad < n && !unprotected++)
			TH_LOG("UFFDIO_WRITEPROTECT: %p left without a marker",
			       w + bad * page_size);
		wps++;
	}
	__atomic_store_n(&fill.stop, true, __ATOMIC_RELAXED);
	__atomic_store_n(&prot.stop, true, __ATOMIC_RELAXED);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	freed = vmstat_read("pt_reclaim_freed") - freed0;
	TH_LOG("%ld copies, %ld zero pages, %ld protections; %ld + %ld calls freed %ld tables",
	       copies, zeros, wps, fill.calls, prot.calls, freed);
	/* The ioctls raced a reclaim that freed their tables. */
	EXPECT_GT(freed, 0);
	EXPECT_EQ(failed, 0);
	EXPECT_EQ(unprotected, 0);
	EXPECT_GT(copies, 0);
	EXPECT_GT(zeros, 0);
	EXPECT_EQ(wps > 0, wp_ok);
	close(pagemap);
	munmap(a, 2 * span);
	munmap(w, 2 * span);
	free(src);
	close(uffd);
}

/* Is THP configured? Its sysfs directory is there only then. */
static bool thp_configured(void)
{
	return !access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK);
}

/* kB of this process's anonymous memory mapped by huge pmds. */
static long thp_kb(void)
{
	return status_kb(getpid(), "AnonHugePages");
}

/*
 * A PMD-mapped THP has no PTE table: nothing to do, data intact. The
 * next span, small pages only, holds the empty control table.
 */
TEST_F(reclaim, thp_untouched)
{
	long freed0, pte0;
	char *p;

	if (!thp_configured())
		SKIP(return, "no THP on this machine");
	p = map_tables(2, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	ASSERT_NE(p, NULL);
	ASSERT_EQ(madvise(p, span, MADV_HUGEPAGE), 0);
	ASSERT_EQ(madvise(p + span, span, MADV_NOHUGEPAGE), 0);
	/* The first fault maps the huge page, if there is one to have. */
	p[0] = 7;
	if (thp_kb() <= 0)
		SKIP(goto out, "the range did not get a huge page");
	memset(p, 7, span);
	control_table(_metadata, p + span);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(p, 2 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 1)
		TH_LOG("a huge page and the empty control: 1 table to free");
	EXPECT_EQ(pte0 - vmpte_kb(), table_kb());
	EXPECT_GT(thp_kb(), 0);
	EXPECT_EQ(p[0], 7);
	EXPECT_EQ(p[span - 1], 7);
out:
	munmap(p, 2 * span);
}

/*
 * MADV_DONTNEED with its reclaim over two spans of small pages and then a
 * PMD-mapped THP, in one executable VMA under one PMD table: where the
 * flush of an unlinked table may not wait (every arch but x86; on x86 in
 * an executable mapping), the zap keeps the pmd lock from the first table
 * it unlinks, and must drop it before the huge pmd, whose zap takes it:
 * else the zap spins on its own lock. Both tables are freed, the huge
 * page is zapped with them.
 */
TEST_F(reclaim, dontneed_tables_then_huge_pmd)
{
	long freed0, pte0;
	char *p;

	if (!thp_configured())
		SKIP(return, "no THP on this machine");
	p = mmap_aligned(3 * span, pud_span ? pud_span : span);
	ASSERT_NE(p, MAP_FAILED);
	p = mmap(p, 3 * span, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	/* Small pages first, then one VMA again that may take a THP. */
	ASSERT_EQ(madvise(p, 3 * span, MADV_NOHUGEPAGE), 0);
	touch(p, 2, 0);
	ASSERT_EQ(madvise(p, 3 * span, MADV_HUGEPAGE), 0);
	p[2 * span] = 7;
	if (thp_kb() <= 0)
		SKIP(goto out, "the range did not get a huge page");
	if (!dontneed_on(_metadata))
		SKIP(goto out, "no vm.pt_reclaim_dontneed");
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_dontneed_freed");
	ASSERT_EQ(madvise(p, 3 * span, MADV_DONTNEED), 0);
	set_pt_reclaim_dontneed(0);
	EXPECT_EQ(vmstat_read("pt_reclaim_dontneed_freed") - freed0, 2);
	/* And the table the THP deposited, where it did. */
	EXPECT_GE(pte0 - vmpte_kb(), 2 * table_kb());
	EXPECT_EQ(thp_kb(), 0);
	EXPECT_EQ(check(p, 3, 0, true), -1);
out:
	munmap(p, 3 * span);
}

/*
 * hugetlb is skipped: reclaim succeeds, the data stays. The range goes on
 * into an anonymous VMA whose empty table is the control.
 */
TEST_F(reclaim, hugetlb_untouched)
{
	long hp_kb = proc_kb("/proc/meminfo", "Hugepagesize");
	size_t len = hp_kb > 0 ? (size_t)hp_kb << 10 : 0;	/* the default */
	long freed0;
	char *a, *p;

	if (!len)
		SKIP(return, "no Hugepagesize in /proc/meminfo: no hugetlb");
	if (len % span)
		SKIP(return, "a table spans more than a %zu kB huge page here",
		     len >> 10);
	a = mmap_aligned(len + span, len);
	ASSERT_NE(a, MAP_FAILED);
	p = mmap(a, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		munmap(a, len + span);
		SKIP(return, "no %zu kB hugetlb page free here", len >> 10);
	}
	ASSERT_EQ(mmap(a + len, span, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), a + len);
	madvise(a + len, span, MADV_NOHUGEPAGE);
	memset(p, 9, len);
	control_table(_metadata, a + len);
	freed0 = vmstat_read("pt_reclaim_freed");
	EXPECT_EQ(reclaim(a, len + span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 1)
		TH_LOG("a hugetlb page and the empty control: 1 table to free");
	EXPECT_EQ(p[0], 9);
	EXPECT_EQ(p[len - 1], 9);
	munmap(a, len + span);
}

/* mlock()ed memory is mapped: its tables and pages stay locked. */
TEST_F(reclaim, mlocked_kept)
{
	long lck0, freed0;
	char *p;

	p = map_anon(3);
	ASSERT_NE(p, NULL);
	/* A locked page in each of two tables (not 2 spans: 1 GiB at 64K). */
	ASSERT_EQ(mlock(p, page_size), 0);
	ASSERT_EQ(mlock(p + span, page_size), 0);
	touch(p, 2, 0);
	control_table(_metadata, p + 2 * span);
	lck0 = status_kb(getpid(), "VmLck");
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(p, 3 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, 1)
		TH_LOG("2 mlocked tables and the empty control (unlocked): 1 to free");
	EXPECT_EQ(status_kb(getpid(), "VmLck"), lck0);
	EXPECT_EQ(check(p, 2, 0, false), -1);
	munmap(p, 3 * span);
}

/*
 * mlock() locks pages, not tables: a table left empty in a locked VMA
 * (MLOCK_ONFAULT, its page given back with MADV_DONTNEED_LOCKED) goes,
 * and a table with a locked page stays; a fault maps and locks the page
 * again. With MADV_DONTNEED's reclaim on, MADV_DONTNEED_LOCKED frees the
 * table itself. MADV_DONTNEED is refused in a locked VMA, as always.
 */
TEST_F(reclaim, mlock_onfault_empty_table_goes)
{
	long pte0, freed0, dfreed0;
	char *p;

	p = map_anon(2);
	ASSERT_NE(p, NULL);
	ASSERT_EQ(mlock2(p, 2 * span, MLOCK_ONFAULT), 0)
		TH_LOG("mlock2: %s", strerror(errno));
	p[0] = 1;
	p[span] = 2;
	EXPECT_EQ(madvise(p, page_size, MADV_DONTNEED), -1);
	EXPECT_EQ(errno, EINVAL);
	ASSERT_EQ(madvise(p, page_size, MADV_DONTNEED_LOCKED), 0);
	pte0 = vmpte_kb();
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(p, 2 * span), 0);
	EXPECT_EQ(vmstat_read("pt_reclaim_freed"), freed0 + 1);
	EXPECT_EQ(vmpte_kb(), pte0 - table_kb());
	EXPECT_EQ(p[span], 2);
	EXPECT_EQ(p[0], 0);
	p[0] = 3;
	EXPECT_EQ(p[0], 3);

	if (dontneed_on(_metadata)) {
		pte0 = vmpte_kb();
		dfreed0 = vmstat_read("pt_reclaim_dontneed_freed");
		ASSERT_EQ(madvise(p + span, span, MADV_DONTNEED_LOCKED), 0);
		EXPECT_EQ(vmstat_read("pt_reclaim_dontneed_freed"),
			  dfreed0 + 1);
		EXPECT_EQ(vmpte_kb(), pte0 - table_kb());
		set_pt_reclaim_dontneed(0);
	}
	munmap(p, 2 * span);
}

/* process_madvise() frees another process's empty tables. */
TEST_F(reclaim, process_madvise_child)
{
	int pipefd[2], pidfd;
	unsigned long piece, off;
	long pte0, pte1;
	pid_t pid, parent = getpid();
	struct iovec iov;
	char *p;

	ASSERT_EQ(pipe(pipefd), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		/* Killed with the test if an ASSERT below ends it first. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(1);
		p = map_anon(NR_TABLES);
		if (p) {
			touch(p, NR_TABLES, 0);
			madvise(p, NR_TABLES * span, MADV_DONTNEED);
		}
		write(pipefd[1], &p, sizeof(p));
		pause();
		_exit(0);
	}
	/* A child gone before it wrote: read() sees the end, not a hang. */
	close(pipefd[1]);
	ASSERT_EQ(read(pipefd[0], &p, sizeof(p)), sizeof(p));
	ASSERT_NE(p, NULL);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	ASSERT_GE(pidfd, 0);
	pte0 = status_kb(pid, "VmPTE");
	iov.iov_base = p;
	iov.iov_len = NR_TABLES * span;
	/*
	 * A call takes at most MAX_RW_COUNT bytes (import_iovec()), 2 GiB
	 * less a page, and a table is freed only when one range of the
	 * vector holds its whole span: pieces of whole spans from p, which
	 * is span-aligned (8 tables of 512 MiB with 64 KiB pages: three
	 * calls).
	 */
	piece = (INT_MAX & ~(page_size - 1)) / span * span;
	for (off = 0; off < NR_TABLES * span; off += iov.iov_len) {
		iov.iov_base = p + off;
		iov.iov_len = NR_TABLES * span - off;
		if (iov.iov_len > piece)
			iov.iov_len = piece;
		EXPECT_EQ(syscall(SYS_process_madvise, pidfd, &iov, 1,
				  MADV_PT_RECLAIM, 0), (long)iov.iov_len)
			TH_LOG("process_madvise: %s", strerror(errno));
	}
	pte1 = status_kb(pid, "VmPTE");
	EXPECT_EQ(pte0 - pte1, NR_TABLES * table_kb())
		TH_LOG("child VmPTE %ld kB -> %ld kB", pte0, pte1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pidfd);
	close(pipefd[0]);
}

/* After reclaim, fork and copy-on-write work on the new tables. */
TEST_F(reclaim, fork_and_cow_after_reclaim)
{
	long freed0;
	int status;
	char *p;
	pid_t pid;

	p = map_anon(NR_TABLES);
	ASSERT_NE(p, NULL);
	touch(p, NR_TABLES, 0);
	ASSERT_EQ(madvise(p, NR_TABLES * span, MADV_DONTNEED), 0);
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(reclaim(p, NR_TABLES * span), 0);
	/* The tables were freed: fork and COW run on new ones. */
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, NR_TABLES);
	touch(p, NR_TABLES, 1);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (check(p, NR_TABLES, 1, false) != -1)
			_exit(1);
		touch(p, NR_TABLES, 2);
		_exit(check(p, NR_TABLES, 2, false) != -1 ? 2 : 0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_EQ(check(p, NR_TABLES, 1, false), -1);
	munmap(p, NR_TABLES * span);
}

/*
 * Faults, writes and reads race with MADV_PT_RECLAIM on the same tables.
 * Each worker owns 2 pages in each of 16 tables and remembers what it
 * left in them; it often gives a page back with MADV_DONTNEED, so tables
 * go empty and get freed under it. Every value read must be the last one
 * written there (or zero after its own DONTNEED): a table freed while it
 * held a page, or written after it was freed, shows as a lost value.
 */
#define RACE_TABLES 16
#define RACE_PAGES 2
#define RACE_SECONDS 3

/*
 * Where worker @w's page @k is in each table: 4 pages spread over it, the
 * first entry, the last and two in the middle.
 */
static size_t race_page(int w, int k)
{
	unsigned long ptes = span / page_size;
	unsigned long at[RACE_PAGES * 2] = { 0, ptes / 2 - 1, ptes / 2 + 1,
					     ptes - 1 };

	return at[w * RACE_PAGES + k] * page_size;
}

struct race {
	char *p;
	int worker;
	bool *stop;
	long mismatches;
	char *first_bad;
	char seen, want;
};

static void *race_worker(void *arg)
{
	struct race *r = arg;
	char want[RACE_TABLES][RACE_PAGES] = { { 0 } };
	unsigned int seed = r->worker + 1;
	long round = 0;

	while (!__atomic_load_n(r->stop, __ATOMIC_RELAXED)) {
		int t = rand_r(&seed) % RACE_TABLES;
		int k = rand_r(&seed) % RACE_PAGES;
		char *b = r->p + t * span + race_page(r->worker, k);
		char v = __atomic_load_n(b, __ATOMIC_RELAXED);

		if (v != want[t][k] && !r->mismatches++) {
			r->first_bad = b;
			r->seen = v;
			r->want = want[t][k];
		}
		v = pattern(b, round++);
		__atomic_store_n(b, v, __ATOMIC_RELAXED);
		want[t][k] = v;
		if (rand_r(&seed) % 2) {
			madvise(b, page_size, MADV_DONTNEED);
			want[t][k] = 0;
		}
	}
	return NULL;
}

TEST_F(reclaim, race_fault_write_reclaim)
{
	bool stop = false;
	struct race r[2];
	long freed0, freed, loops = 0;
	pthread_t th[2];
	time_t end;
	char *p;
	int i;

	p = map_anon(RACE_TABLES);
	ASSERT_NE(p, NULL);
	freed0 = vmstat_read("pt_reclaim_freed");
	for (i = 0; i < 2; i++) {
		r[i] = (struct race){ .p = p, .worker = i, .stop = &stop };
		ASSERT_EQ(pthread_create(&th[i], NULL, race_worker, &r[i]), 0);
	}
	end = time(NULL) + RACE_SECONDS;
	while (time(NULL) < end) {
		EXPECT_EQ(reclaim(p, RACE_TABLES * span), 0);
		loops++;
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	freed = vmstat_read("pt_reclaim_freed") - freed0;
	TH_LOG("%ld reclaim calls, %ld tables freed", loops, freed);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(r[i].mismatches, 0) {
			TH_LOG("worker %d: %ld lost values, first at %p: %d, want %d",
			       i, r[i].mismatches, r[i].first_bad, r[i].seen,
			       r[i].want);
		}
	}
	EXPECT_GT(freed, 0);
	munmap(p, RACE_TABLES * span);
}

/*
 * One TLB flush per batch of freed tables, not one per table. On x86 a
 * flush reaches the other CPUs that run the process as a TLB shootdown
 * IPI, counted in the "TLB" row of /proc/interrupts: with a second thread
 * spinning on another CPU, freeing n tables must cost about what munmap()
 * of the same range costs, within FLUSH_SLACK, with MADV_PT_RECLAIM (which
 * also frees the PMD tables, with a flush of their own), and the
 * MADV_DONTNEED reclaim what MADV_DONTNEED alone costs, within the same:
 * 512 tables under one PMD table, and 4096 under eight, where x86 lets
 * one flush serve them all (with NX; without, one per PMD table's worth).
 * Elsewhere (s390x IDTE, arm64 broadcast TLBI) a flush sends no IPI to
 * count, and neither does an x86 Xen PV guest, which flushes by
 * hypercall: when munmap() itself sent none, there is nothing to compare
 * with (skipped).
 */
#define FLUSH_SLACK 2

/* A Xen guest (/sys/hypervisor/type, CONFIG_XEN_SYS_HYPERVISOR)? */
static bool xen_guest(void)
{
	char buf[8] = "";
	FILE *f = fopen("/sys/hypervisor/type", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return !strncmp(buf, "xen", 3);
}

/*
 * Does the CPU have NX ("nx" among the flags of /proc/cpuinfo)? An x86
 * kernel without it flushes the tables a walk unlinks per batch, under
 * the pmd lock, as arm64 does.
 */
static bool cpu_has_nx(void)
{
	char line[4096];
	bool nx = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	/* Unreadable: assume the common case, as x86_64 CPUs have it. */
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		nx = strstr(line, " nx ") || strstr(line, " nx\n");
		break;
	}
	fclose(f);
	return nx;
}

/* The sum of the "TLB:" row of /proc/interrupts, or -1 if it has none. */
static long tlb_ipis(void)
{
	char line[4096], *p, *end;
	long sum = -1, n;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "TLB:", 4))
			continue;
		sum = 0;
		for (p += 4; ; p = end) {
			n = strtol(p, &end, 10);
			if (end == p)
				break;
			sum += n;
		}
		break;
	}
	fclose(f);
	return sum;
}

static void *flush_spinner(void *arg)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	while (!__atomic_load_n((bool *)arg, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* n tables from a PMD table's start, one page written in each. */
static char *flush_map(int n, int prot)
{
	char *p = mmap_aligned(n * span, pud_span ? pud_span : span);

	if (p == MAP_FAILED)
		return NULL;
	p = mmap(p, n * span, prot,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, n * span, MADV_NOHUGEPAGE);
	touch(p, n, 0);
	return p;
}

/*
 * Where TLB shootdowns can be counted (x86, two CPUs): the caller pinned
 * to CPU 0 and a thread of the process spinning on CPU 1, until *stop.
 * False (the test skipped) where they cannot.
 */
static bool flush_spinner_start(struct __test_metadata *_metadata,
				pthread_t *th, bool *stop)
{
	cpu_set_t cpus;

	if (tlb_ipis() < 0)
		SKIP(return false, "no TLB shootdown count in /proc/interrupts (not x86)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return false, "one CPU: no shootdown to count");
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	ASSERT_EQ(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
	ASSERT_EQ(pthread_create(th, NULL, flush_spinner, stop), 0);
	usleep(100000);
	return true;
}

static void flush_counts(struct __test_metadata *_metadata, int n)
{
	long before, unmap, dontneed, pt_reclaim, dontneed_reclaim, freed0;
	bool stop = false;
	pthread_t th;
	char *p;

	if (!flush_spinner_start(_metadata, &th, &stop))
		return;

	p = flush_map(n, PROT_READ | PROT_WRITE);
	ASSERT_NE(p, NULL);
	before = tlb_ipis();
	munmap(p, n * span);
	unmap = tlb_ipis() - before;

	p = flush_map(n, PROT_READ | PROT_WRITE);
	ASSERT_NE(p, NULL);
	before = tlb_ipis();
	ASSERT_EQ(madvise(p, n * span, MADV_DONTNEED), 0);
	dontneed = tlb_ipis() - before;
	freed0 = vmstat_read("pt_reclaim_freed");
	before = tlb_ipis();
	ASSERT_EQ(reclaim(p, n * span), 0);
	pt_reclaim = tlb_ipis() - before;
	EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, n);

	dontneed_reclaim = -1;
	if (set_pt_reclaim_dontneed(1) >= 0) {
		touch(p, n, 1);
		freed0 = vmstat_read("pt_reclaim_freed");
		before = tlb_ipis();
		ASSERT_EQ(madvise(p, n * span, MADV_DONTNEED), 0);
		dontneed_reclaim = tlb_ipis() - before;
		set_pt_reclaim_dontneed(0);
		EXPECT_EQ(vmstat_read("pt_reclaim_freed") - freed0, n);
	}
	munmap(p, n * span);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);

	TH_LOG("TLB shootdown IPIs for %d tables: munmap %ld, MADV_DONTNEED %ld,",
	       n, unmap, dontneed);
	TH_LOG("MADV_PT_RECLAIM %ld (PTE and PMD tables), MADV_DONTNEED with reclaim %ld",
	       pt_reclaim, dontneed_reclaim);
	/*
	 * The spinner must have been there to receive munmap()'s flush,
	 * unless the flush is no IPI at all (Xen PV: a hypercall).
	 */
	if (unmap == 0 && xen_guest() && _metadata->exit_code == KSFT_PASS)
		SKIP(return, "munmap() sent no TLB shootdown IPI (Xen flushes by hypercall)");
	EXPECT_GE(unmap, 1);
	EXPECT_GE(dontneed_reclaim, 0) TH_LOG("cannot set vm.pt_reclaim_dontneed");
	if (!cpu_has_nx()) {
		/* One flush per batch of tables, under its pmd lock. */
		TH_LOG("no NX: one flush per PMD table's worth");
		EXPECT_GE(pt_reclaim, n / 512);
		EXPECT_LE(pt_reclaim, n / 512 + FLUSH_SLACK);
		EXPECT_GE(dontneed_reclaim, n / 512);
		EXPECT_LE(dontneed_reclaim, n / 512 + FLUSH_SLACK);
		return;
	}
	EXPECT_LE(pt_reclaim, unmap + FLUSH_SLACK);
	EXPECT_LE(dontneed_reclaim, dontneed + FLUSH_SLACK);
}

TEST_F(reclaim, one_flush_per_batch)
{
	flush_counts(_metadata, 512);
}

TEST_F(reclaim, one_flush_across_pmd_tables)
{
	flush_counts(_metadata, 4096);
}

/*
 * MADV_DONTNEED's reclaim frees the tables inside the zap, whose own flush
 * covers them: with reclaim on, MADV_DONTNEED of 512 tables sends no more
 * TLB shootdown IPIs than with it off. zap_pte_range() unlinks them; where
 * the flush of unlinked tables may wait (x86), they wait for the zap's
 * flush. Not in an executable mapping, where a huge pmd must not meet 4
 * KiB iTLB entries the zap has yet to flush: there the zap keeps the pmd
 * lock across the tables and does its flush before it drops it, still
 * one, or two when the CPU was wanted in between (the lock is dropped,
 * after a flush, then). Every table is freed either way.
 */
static void dontneed_count(struct __test_metadata *_metadata, int n,
			   int prot, int on, long *ipis, long *freed)
{
	long before, freed0;
	char *p = flush_map(n, prot);

	ASSERT_NE(p, NULL);
	ASSERT_GE(set_pt_reclaim_dontneed(on), 0);
	freed0 = vmstat_read("pt_reclaim_freed");
	before = tlb_ipis();
	ASSERT_EQ(madvise(p, n * span, MADV_DONTNEED), 0);
	*ipis = tlb_ipis() - before;
	*freed = vmstat_read("pt_reclaim_freed") - freed0;
	set_pt_reclaim_dontneed(0);
	munmap(p, n * span);
}

TEST_F(reclaim, dontneed_reclaim_flushes_with_the_zap)
{
	long off, on, exec, freed_off, freed_on, freed_exec, on_slack;
	bool stop = false;
	pthread_t th;
	int round;

	if (!flush_spinner_start(_metadata, &th, &stop))
		return;
	/*
	 * A flush without freed tables skips a CPU in lazy TLB mode: when
	 * the spinner was preempted (a debug kernel's kworkers), the zap
	 * with reclaim off sends none, and there is nothing to compare
	 * with. Where the flush may not wait (an executable mapping; any
	 * mapping on a CPU without NX), the zap flushes once per run of
	 * tables under a pmd lock, and a run ends early when the CPU or the
	 * lock is wanted, or leaves a table to the walk at the end of the
	 * zap: a flush more each time, as many as ticks land in the zap (3
	 * for 512 tables once under TCG). Measure again then, a few times:
	 * a zap that flushes per table fails every round.
	 */
	/* Without NX every mapping keeps the pmd lock (see above). */
	on_slack = cpu_has_nx() ? 0 : 1;
	for (round = 0; round < 5; round++) {
		dontneed_count(_metadata, 512, PROT_READ | PROT_WRITE, 0,
			       &off, &freed_off);
		dontneed_count(_metadata, 512, PROT_READ | PROT_WRITE, 1,
			       &on, &freed_on);
		dontneed_count(_metadata, 512,
			       PROT_READ | PROT_WRITE | PROT_EXEC, 1,
			       &exec, &freed_exec);
		if (xen_guest())
			break;
		if (off > 0 && on <= off + on_slack && exec <= off + 1)
			break;
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);

	TH_LOG("MADV_DONTNEED of 512 tables, TLB shootdown IPIs: reclaim off %ld, on %ld,",
	       off, on);
	TH_LOG("on in a PROT_EXEC mapping %ld", exec);
	EXPECT_EQ(freed_off, 0);
	EXPECT_EQ(freed_on, 512);
	EXPECT_EQ(freed_exec, 512);
	if (off == 0 && xen_guest() && _metadata->exit_code == KSFT_PASS)
		SKIP(return, "MADV_DONTNEED sent no TLB shootdown IPI (Xen flushes by hypercall)");
	EXPECT_GE(off, 1);
	EXPECT_LE(on, off + on_slack);
	EXPECT_LE(exec, off + 1);
}

/*
 * A tight reclaim loop must not starve a thread that faults into the same
 * table: the fault installs a table, finds it gone at pte_offset_map_lock()
 * and retries, and the retry must win soon. The faulting thread writes a
 * page, checks it and gives it back for PROGRESS_FAULTS rounds, leaving
 * the table empty for half a millisecond each time, while the main thread
 * reclaims that one table without pause. It must finish within
 * PROGRESS_SECONDS, and the table must have been freed in at least half
 * of the rounds (else the race was not run).
 */
#define PROGRESS_FAULTS 2000
#define PROGRESS_SECONDS 60

struct progress {
	char *p;
	long done;
	long bad;
};

static void *progress_worker(void *arg)
{
	struct progress *w = arg;
	char *b = w->p + page_size;
	long i;

	for (i = 0; i < PROGRESS_FAULTS; i++) {
		__atomic_store_n(b, pattern(b, i), __ATOMIC_RELAXED);
		if (__atomic_load_n(b, __ATOMIC_RELAXED) != pattern(b, i))
			w->bad++;
		madvise(b, page_size, MADV_DONTNEED);
		__atomic_store_n(&w->done, i + 1, __ATOMIC_RELEASE);
		/* Leave the table empty a while, so that it gets freed. */
		usleep(500);
	}
	return NULL;
}

TEST_F(reclaim, reclaim_loop_does_not_starve_faults)
{
	struct progress w = { 0 };
	long freed0, freed, calls = 0;
	pthread_t th;
	time_t end;

	w.p = map_anon(1);
	ASSERT_NE(w.p, NULL);
	freed0 = vmstat_read("pt_reclaim_freed");
	ASSERT_EQ(pthread_create(&th, NULL, progress_worker, &w), 0);
	end = time(NULL) + PROGRESS_SECONDS;
	while (__atomic_load_n(&w.done, __ATOMIC_ACQUIRE) < PROGRESS_FAULTS &&
	       time(NULL) < end) {
		ASSERT_EQ(reclaim(w.p, span), 0);
		calls++;
	}
	/* Stop hammering; a starved worker then finishes and can be joined. */
	ASSERT_EQ(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), PROGRESS_FAULTS) {
		TH_LOG("the faulting thread did %ld of %d rounds in %d s of reclaim",
		       __atomic_load_n(&w.done, __ATOMIC_ACQUIRE),
		       PROGRESS_FAULTS, PROGRESS_SECONDS);
		pthread_join(th, NULL);
	}
	pthread_join(th, NULL);
	freed = vmstat_read("pt_reclaim_freed") - freed0;
	/*
	 * One table per round at most, unless faults lost the table they had
	 * just installed and retried: those retries are the extra frees.
	 */
	TH_LOG("%d fault rounds against %ld reclaim calls, %ld tables freed",
	       PROGRESS_FAULTS, calls, freed);
	EXPECT_EQ(w.bad, 0);
	/* Nearly every round leaves an empty table to free; ask for half. */
	EXPECT_GE(freed, PROGRESS_FAULTS / 2);
	munmap(w.p, span);
}

/*
 * Fault injection (Documentation/fault-injection/): after a reclaim, the
 * faults that bring the tables back meet failed allocations. They must
 * fail with ENOMEM and nothing else, succeed when retried, keep the data
 * written, and leave VmPTE, and after the process exits PageTables, where
 * they would be without the failures (no table leaked, none freed twice:
 * the kernel reports a bad page or a pgtables_bytes leak at exit).
 */
#define FI_TABLES	32
#define FI_TRIES	1000

static bool write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val);
}

/* Set attribute @attr of the fault injector in @dir. */
static bool fi_set(const char *dir, const char *attr, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	return write_file(path, val);
}

/*
 * In a child: free FI_TABLES tables, arm the injector for this process
 * only, and bring the tables back one MADV_POPULATE_WRITE at a time,
 * retrying on ENOMEM; twice. Nothing that may allocate (stdio, /proc)
 * runs while armed. Exits with the number of problems.
 */
static int refault_under_injection(int pipe_out)
{
	long pte0, pte1, enomem = 0;
	int i, round, tries, bad = 0, other = 0, fail_fd;
	char *p, *b;

	p = map_anon(FI_TABLES);
	if (!p)
		return 1;
	/*
	 * A first round lets the upper tables the area needs appear (a PMD
	 * table, when the area is the first mapping in its PUD_SIZE span);
	 * they stay. The second must give back exactly its PTE tables.
	 */
	touch(p, FI_TABLES, 0);
	madvise(p, FI_TABLES * span, MADV_DONTNEED);
	reclaim(p, FI_TABLES * span);
	pte0 = vmpte_kb();
	touch(p, FI_TABLES, 0);
	madvise(p, FI_TABLES * span, MADV_DONTNEED);
	if (reclaim(p, FI_TABLES * span) || vmpte_kb() != pte0) {
		fprintf(stderr, "reclaim before injection: VmPTE %ld kB, want %ld\n",
			vmpte_kb(), pte0);
		return 1;
	}

	/*
	 * Opened before arming: with failslab armed, opening a file fails
	 * too (its struct file is a slab object). Writing to it does not
	 * allocate.
	 */
	fail_fd = open("/proc/self/make-it-fail", O_WRONLY);
	if (fail_fd < 0 || pwrite(fail_fd, "1", 1, 0) != 1)
		return 1;
	for (round = 1; round <= 2; round++) {
		for (i = 0; i < FI_TABLES; i++) {
			b = p + i * span + page_size;
			for (tries = 0; tries < FI_TRIES; tries++) {
				if (!madvise(b, page_size, MADV_POPULATE_WRITE))
					break;
				if (errno == ENOMEM)
					enomem++;
				else
					other = errno;
			}
			if (tries == FI_TRIES)
				bad++;
		}
		/* populated writable: no fault, no allocation */
		touch(p, FI_TABLES, round);
		if (check(p, FI_TABLES, round, false) >= 0)
			bad++;
		madvise(p, FI_TABLES * span, MADV_DONTNEED);
		/* reclaim allocates nothing: it must not fail */
		if (reclaim(p, FI_TABLES * span))
			bad++;
	}
	if (pwrite(fail_fd, "0", 1, 0) != 1)
		return 1 + bad;
	close(fail_fd);

	write(pipe_out, &enomem, sizeof(enomem));
	if (other)
		fprintf(stderr, "MADV_POPULATE_WRITE: %s, want ENOMEM\n",
			strerror(other));
	pte1 = vmpte_kb();
	if (pte1 != pte0) {
		fprintf(stderr, "VmPTE %ld kB after the failed faults, want %ld\n",
			pte1, pte0);
		bad++;
	}
	/* Every table back without injection: accounted once each. */
	touch(p, FI_TABLES, 3);
	if (vmpte_kb() != pte0 + FI_TABLES * table_kb()) {
		fprintf(stderr, "VmPTE %ld kB with every table back, want %ld\n",
			vmpte_kb(), pte0 + FI_TABLES * table_kb());
		bad++;
	}
	if (check(p, FI_TABLES, 3, false) >= 0)
		bad++;
	return bad + !!other;
}

static void refault_test(struct __test_metadata *_metadata, const char *name,
			 bool page_alloc)
{
	long pt0, pt1 = -1, enomem = -1;
	char dir[64];
	int pipefd[2], status, i;
	pid_t pid;

	snprintf(dir, sizeof(dir), "/sys/kernel/debug/%s", name);
	if (access(dir, F_OK))
		SKIP(return, "no %s: kernel without %s and debugfs", dir,
		     page_alloc ? "CONFIG_FAIL_PAGE_ALLOC" : "CONFIG_FAILSLAB");
	if (geteuid())
		SKIP(return, "fault injection needs root");
	/*
	 * A PTE table's slab allocation is its ptlock, where a spinlock does
	 * not fit in struct ptdesc (lockdep, spinlock debugging): the cache
	 * "page->ptl". Without it failslab cannot fail a table.
	 */
	if (!page_alloc && access("/sys/kernel/slab/page->ptl", F_OK))
		SKIP(return, "no page->ptl cache: ptlocks are not slab-allocated here");

	/*
	 * Only tasks with make-it-fail set, 30% of the allocations that may
	 * sleep. Pages: order 0 too, but not highmem ones: user data pages
	 * are, page tables are not (64-bit), so the failures hit the tables.
	 */
	ASSERT_TRUE(fi_set(dir, "task-filter", "Y") &&
		    fi_set(dir, "probability", "30") &&
		    fi_set(dir, "interval", "1") &&
		    fi_set(dir, "times", "-1") &&
		    fi_set(dir, "space", "0") &&
		    fi_set(dir, "verbose", "0") &&
		    fi_set(dir, "ignore-gfp-wait", "N"));
	if (page_alloc)
		ASSERT_TRUE(fi_set(dir, "min-order", "0") &&
			    fi_set(dir, "ignore-gfp-highmem", "Y"));

	pt0 = page_tables_kb();
	ASSERT_GT(pt0, 0);
	ASSERT_EQ(pipe(pipefd), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(refault_under_injection(pipefd[1]));
	close(pipefd[1]);
	read(pipefd[0], &enomem, sizeof(enomem));
	close(pipefd[0]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	fi_set(dir, "probability", "0");
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child: status %#x", status);
	TH_LOG("%s: %ld faults failed with ENOMEM", name, enomem);
	EXPECT_GT(enomem, 0);

	/* The tables are freed after an RCU grace period: wait for it. */
	for (i = 0; i < 100; i++) {
		pt1 = page_tables_kb();
		if (pt1 <= pt0)
			break;
		usleep(100 * 1000);
	}
	EXPECT_LE(pt1, pt0)
		TH_LOG("PageTables %ld kB before, %ld kB after the child exited",
		       pt0, pt1);
}

/* The table allocations of the refault fail. */
TEST_F(reclaim, fault_injection_page_alloc)
{
	refault_test(_metadata, "fail_page_alloc", true);
}

/*
 * The slab allocations of the refault fail: the PTE lock, where it is
 * allocated apart from the table (lockdep, PREEMPT_RT).
 */
TEST_F(reclaim, fault_injection_slab)
{
	refault_test(_metadata, "failslab", false);
}

/*
 * The tests expect MADV_DONTNEED to leave the tables it empties (the case
 * MADV_PT_RECLAIM is for), so vm.pt_reclaim_dontneed is 0 while they run,
 * but in the dontneed_* tests; the main process puts it back at exit.
 */
static int dontneed_saved = -1;
static pid_t main_pid;

static void restore_dontneed(void)
{
	if (getpid() == main_pid && dontneed_saved >= 0)
		set_pt_reclaim_dontneed(dontneed_saved);
}

static void __attribute__((constructor)) init_sizes(void)
{
	page_size = sysconf(_SC_PAGESIZE);
	span = pte_table_span();
	if (!span) {
		fprintf(stderr, "pt_reclaim: cannot tell the PTE table span from VmPTE\n");
		exit(KSFT_FAIL);
	}
	/* 0 (the PMD tests skip) where the layout is none it knows. */
	pud_span = pmd_table_span(span, &pmd_kb);
	main_pid = getpid();
	dontneed_saved = set_pt_reclaim_dontneed(0);
	if (dontneed_saved < 0 && !access("/proc/sys/vm/pt_reclaim_dontneed", F_OK))
		fprintf(stderr, "pt_reclaim: cannot set vm.pt_reclaim_dontneed to 0: %s\n"
			"pt_reclaim: tests that expect MADV_DONTNEED to keep tables will fail\n",
			strerror(errno));
	atexit(restore_dontneed);
}

TEST_HARNESS_MAIN
