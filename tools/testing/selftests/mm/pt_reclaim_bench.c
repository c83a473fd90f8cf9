// SPDX-License-Identifier: GPL-2.0
/*
 * What madvise(MADV_PT_RECLAIM) costs and what it gives back.
 *
 * Every measurement is one CSV line on stdout,
 *
 *	bench,FIGURE,CASE,METRIC,VALUE
 *
 * one line per repetition, so that the caller can take the minimum and
 * the median over the repetitions of several boots. A ratio is computed
 * here, between two measurements taken back to back in this run; a
 * comparison between kernels is the caller's. The figures:
 *
 *  reclaim   N empty PTE tables freed by MADV_PT_RECLAIM vs by munmap()
 *            of the same range: ns per table, and their ratio.
 *  scan      nothing to free: MADV_PT_RECLAIM over populated tables vs
 *            mincore() over the same range, ms per GiB of address space;
 *            "full" (every entry set) and "last" (only each table's last
 *            entry set, the longest lockless pass).
 *  sparse    k empty tables spread over a 1 GiB or a 64 TiB reservation:
 *            us per call, which should follow k, not the size (a k
 *            above the tables that fit, as with 16 and 64 KiB pages, is
 *            left out).
 *  fault     anonymous write faults per second, 1 and 2 threads, small
 *            pages, fresh tables each round (the same on any kernel).
 *  refault   first touch, ns per fault, of tables never touched, of tables
 *            kept by MADV_DONTNEED, and of tables MADV_PT_RECLAIM freed.
 *  upstream  the case published with upstream's DONTNEED-time reclaim:
 *            mmap 50 GiB, 25 x 1024 times write a 2 MiB chunk and
 *            MADV_DONTNEED it, then one MADV_PT_RECLAIM: VmPTE before and
 *            after. One page per table of the chunk is written: the same
 *            tables as writing all of it, at a 512th of the faults.
 *  memory    per GiB written and then MADV_DONTNEED'ed: the kB of VmPTE
 *            and of PageTables (/proc/meminfo) MADV_PT_RECLAIM gives back.
 *  dontneed  MADV_DONTNEED with vm.pt_reclaim_dontneed off and on (then
 *            it frees the tables it empties), back to back: ns per table
 *            and their ratio, with one page written per table and with
 *            every page written.
 *  ipi       x86: TLB shootdown IPIs per call ("TLB" row of
 *            /proc/interrupts), a second thread of the process spinning on
 *            CPU 1: for N tables with one page written in each, munmap(),
 *            MADV_DONTNEED with its reclaim off and on, and MADV_PT_RECLAIM
 *            after MADV_DONTNEED. Counts, not times: the same on every run
 *            unless something else flushes meanwhile. Not measured where
 *            the row does not exist (s390x and arm64 flush without IPIs).
 *  remote    the latency of a process's page faults while another process
 *            reclaims its arena with process_madvise() in a loop: with no
 *            reclaimer, with PTE tables to free, and with PMD tables too
 *            (more at fig_remote()).
 *
 * The figures run with vm.pt_reclaim_dontneed at 0, as they measure the
 * tables MADV_DONTNEED leaves, but where they set it themselves (dontneed,
 * ipi); it is put back at exit.
 *
 * Each case but upstream and memory (which count kB) runs once more
 * first, unprinted: under QEMU TCG the first run of any code also pays
 * for its translation.
 *
 * Lines "bench,meta,,KEY,VALUE" describe the run. On a kernel without
 * the advice, the figures that need it print nothing and the others are
 * measured: this is the unpatched baseline (unless PT_RECLAIM_REQUIRED=1,
 * as in the test run: then it fails). A result that contradicts
 * what was asked (the tables were not freed, VmPTE moved when nothing
 * was to be freed) ends the run with status 1: a benchmark of a broken
 * reclaim measures nothing.
 *
 * Usage: pt_reclaim_bench [-q] [-r REPS] [-f FIGURE[,FIGURE..]] [-h]
 *   -q  quick: small sizes, one repetition (the test run checks that the
 *       benchmark works, not its numbers)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/utsname.h>

#include "../kselftest.h"
#include "vm_util.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define GIB 0x40000000UL

static unsigned long page_size, span;
static long table_kb;		/* VmPTE of one PTE table */
static long pmd_kb;		/* of one PMD table, 0 when unknown */
static unsigned long pmd_span;	/* the span of one PMD table, or 0 */
static bool have_reclaim, quick;
static bool warmup;		/* this repetition is not printed */
static int reps = 5;
static int dontneed_saved = -1;	/* vm.pt_reclaim_dontneed at start */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void put(const char *fig, const char *cas, const char *metric,
		double val)
{
	if (warmup)
		return;
	printf("bench,%s,%s,%s,%.10g\n", fig, cas, metric, val);
	fflush(stdout);
}

static void __noreturn __printf(1, 2) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "pt_reclaim_bench: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Run on @cpu only; -1: on every CPU again. */
static void pin(int cpu)
{
	cpu_set_t cpus;
	int c;

	CPU_ZERO(&cpus);
	for (c = 0; c < CPU_SETSIZE; c++)
		if (cpu < 0 || c == cpu)
			CPU_SET(c, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) && cpu >= 0)
		die("cannot run on CPU %d: %s", cpu, strerror(errno));
}

/* PT_RECLAIM_REQUIRED=1 (the test run sets it): no feature, no run. */
static bool reclaim_required(void)
{
	const char *req = getenv("PT_RECLAIM_REQUIRED");

	return req && !strcmp(req, "1");
}

static int reclaim(void *p, size_t len)
{
	return madvise(p, len, MADV_PT_RECLAIM);
}

/*
 * @len bytes of anonymous memory at a table boundary, small pages only
 * (a THP has no PTE table), not reserved: most of it is never touched.
 */
static char *map_aligned(unsigned long len)
{
	char *p = mmap_aligned(len, span);

	if (p == MAP_FAILED)
		die("mmap of %lu MiB: %s", len >> 20, strerror(errno));
	if (madvise(p, len, MADV_NOHUGEPAGE))
		die("MADV_NOHUGEPAGE: %s", strerror(errno));
	return p;
}

/* Write a page in each of @n tables @stride apart. */
static void touch(char *p, unsigned long n, unsigned long stride)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		p[i * stride] = 1;
}

/* @n tables @stride apart that exist and map nothing. */
static void empty_tables(char *p, unsigned long n, unsigned long stride)
{
	unsigned long i;

	touch(p, n, stride);
	if (stride == span) {
		if (madvise(p, n * span, MADV_DONTNEED))
			die("MADV_DONTNEED: %s", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++)
		if (madvise(p + i * stride, page_size, MADV_DONTNEED))
			die("MADV_DONTNEED: %s", strerror(errno));
}

/*
 * The kB of VmPTE a MADV_PT_RECLAIM that freed @n PTE tables must have
 * given back: theirs, and those of the PMD tables it freed after them
 * (pt_reclaim_pmd_freed since it read @pmd0).
 */
static long want_freed_kb(unsigned long n, long pmd0)
{
	long pmds = vmstat_read("pt_reclaim_pmd_freed") - pmd0;

	if (pmds && !pmd_kb)
		die("%ld PMD tables freed, but the size of one is unknown", pmds);
	return (long)n * table_kb + pmds * pmd_kb;
}

/*
 * MADV_PT_RECLAIM over [p, p + len), which must free @n PTE tables (and
 * the PMD tables left empty): ns.
 */
static double timed_reclaim(char *p, unsigned long len, unsigned long n)
{
	long before = vmpte_kb(), after;
	long pmd0 = vmstat_read("pt_reclaim_pmd_freed");
	double t;

	t = now_ns();
	if (reclaim(p, len))
		die("MADV_PT_RECLAIM of %lu MiB: %s", len >> 20,
		    strerror(errno));
	t = now_ns() - t;
	after = vmpte_kb();
	if (before - after != want_freed_kb(n, pmd0))
		die("MADV_PT_RECLAIM of %lu MiB: VmPTE -%ld kB, want -%ld (%lu tables, PMD tables)",
		    len >> 20, before - after, want_freed_kb(n, pmd0), n);
	return t;
}

/*
 * Can @bytes be written for figure @fig, case @cas? Not more than half of
 * MemTotal (with 16 and 64 KiB pages a table spans 32 and 512 MiB); else
 * say so.
 */
static bool fits(unsigned long bytes, const char *fig, const char *cas)
{
	long total = proc_kb("/proc/meminfo", "MemTotal");

	if (total > 0 && bytes >> 10 <= (unsigned long)total / 2)
		return true;
	printf("# %s %s: %lu MiB to write, more than half of memory: not measured\n",
	       fig, cas, bytes >> 20);
	return false;
}

static void fig_reclaim(void)
{
	static const unsigned long all[] = { 1, 8, 64, 512, 4096, 32768 };
	static const unsigned long few[] = { 1, 64 };
	const unsigned long *sizes = quick ? few : all;
	int nr = quick ? ARRAY_SIZE(few) : ARRAY_SIZE(all), i, r;
	double t_rec, t_unmap;
	char cas[32], *p;
	unsigned long n;

	for (i = 0; i < nr; i++) {
		n = sizes[i];
		snprintf(cas, sizeof(cas), "tables=%lu", n);
		/* A page written in each table, and the table: 2 pages each. */
		if (!fits(2 * n * page_size, "reclaim", cas))
			continue;
		for (r = -1; r < reps; r++) {
			warmup = r < 0;
			p = map_aligned(n * span);
			empty_tables(p, n, span);
			t_rec = timed_reclaim(p, n * span, n);
			munmap(p, n * span);

			p = map_aligned(n * span);
			empty_tables(p, n, span);
			t_unmap = now_ns();
			munmap(p, n * span);
			t_unmap = now_ns() - t_unmap;

			put("reclaim", cas, "reclaim_ns_per_table", t_rec / n);
			put("reclaim", cas, "munmap_ns_per_table", t_unmap / n);
			put("reclaim", cas, "ratio_reclaim_munmap", t_rec / t_unmap);
		}
	}
}

static void fig_scan(void)
{
	unsigned long len = (quick ? 16UL : 256UL) << 20, n;
	unsigned char *vec;
	double t_rec, t_mc, per_gib;
	const char *cas;
	int pass, r;
	char *p;

	/* At least one table's span, populated (64 KiB pages: 512 MiB). */
	if (len < span)
		len = span;
	n = len / span;
	per_gib = (double)GIB / len / 1e6;
	if (!fits(len, "scan", "full"))
		return;
	vec = malloc(len / page_size);
	if (!vec)
		die("out of memory");
	p = map_aligned(len);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0) {
			cas = "full";
			if (madvise(p, len, MADV_POPULATE_WRITE))
				die("MADV_POPULATE_WRITE: %s", strerror(errno));
		} else {
			cas = "last";
			madvise(p, len, MADV_DONTNEED);
			touch(p + span - page_size, n, span);
		}
		for (r = -1; r < reps; r++) {
			warmup = r < 0;
			t_rec = timed_reclaim(p, len, 0);
			t_mc = now_ns();
			if (mincore(p, len, vec))
				die("mincore: %s", strerror(errno));
			t_mc = now_ns() - t_mc;
			put("scan", cas, "reclaim_ms_per_gib", t_rec * per_gib);
			put("scan", cas, "mincore_ms_per_gib", t_mc * per_gib);
			put("scan", cas, "ratio_reclaim_mincore", t_rec / t_mc);
		}
	}
	munmap(p, len);
	free(vec);
}

static void fig_sparse(void)
{
	static const unsigned long ks[] = { 0, 1, 64, 512 };
	unsigned long sizes[] = { GIB, (quick ? 1UL : 64UL) << 40 };
	unsigned long len, k, stride;
	unsigned int s, i;
	char cas[48];
	int r;
	double t;
	char *p;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		len = sizes[s];
		p = map_aligned(len);
		for (i = 0; i < ARRAY_SIZE(ks); i++) {
			k = ks[i];
			/* Fewer tables than k in len (64 KiB pages: 2 in 1 GiB). */
			if (k > len / span)
				continue;
			stride = k ? (len / k) & ~(span - 1) : 0;
			snprintf(cas, sizeof(cas), "%lu_GiB_k=%lu", len / GIB, k);
			for (r = -1; r < reps; r++) {
				warmup = r < 0;
				empty_tables(p, k, stride);
				t = timed_reclaim(p, len, k);
				put("sparse", cas, "us_per_call", t / 1e3);
			}
		}
		munmap(p, len);
	}
}

struct faulter {
	pthread_barrier_t *go;
	unsigned long len;
	int rounds;
	double ns;
};

/* @rounds times: map, write every page (timed), unmap. */
static void *faulter(void *arg)
{
	struct faulter *f = arg;
	unsigned long off;
	double t;
	char *p;
	int r;

	pthread_barrier_wait(f->go);
	for (r = 0; r < f->rounds; r++) {
		p = map_aligned(f->len);
		t = now_ns();
		for (off = 0; off < f->len; off += page_size)
			p[off] = 1;
		f->ns += now_ns() - t;
		munmap(p, f->len);
	}
	return NULL;
}

static void fig_fault(void)
{
	struct faulter f[2];
	pthread_barrier_t go;
	pthread_t tid[2];
	double rate;
	char cas[16];
	int nt, i, r;

	for (nt = 1; nt <= 2; nt++) {
		snprintf(cas, sizeof(cas), "threads=%d", nt);
		for (r = -1; r < reps; r++) {
			warmup = r < 0;
			pthread_barrier_init(&go, NULL, nt);
			for (i = 0; i < nt; i++) {
				f[i] = (struct faulter){ .go = &go,
					.len = (quick ? 4UL : 32UL) << 20,
					.rounds = quick ? 1 : 8 };
				if (pthread_create(&tid[i], NULL, faulter, &f[i]))
					die("pthread_create failed");
			}
			rate = 0;
			for (i = 0; i < nt; i++) {
				pthread_join(tid[i], NULL);
				rate += f[i].len / page_size * f[i].rounds /
					(f[i].ns / 1e9);
			}
			pthread_barrier_destroy(&go);
			put("fault", cas, "faults_per_s", rate);
		}
	}
}

/* Write one page in each of @n tables: ns per fault. */
static double timed_touch(char *p, unsigned long n)
{
	double t = now_ns();

	touch(p, n, span);
	return (now_ns() - t) / n;
}

static void fig_refault(void)
{
	unsigned long n = quick ? 16 : 512;
	double fresh, kept, freed = 0;
	char cas[32], *p;
	int r;

	snprintf(cas, sizeof(cas), "tables=%lu", n);
	for (r = -1; r < reps; r++) {
		warmup = r < 0;
		p = map_aligned(n * span);
		fresh = timed_touch(p, n);
		madvise(p, n * span, MADV_DONTNEED);
		kept = timed_touch(p, n);
		if (have_reclaim) {
			madvise(p, n * span, MADV_DONTNEED);
			timed_reclaim(p, n * span, n);
			freed = timed_touch(p, n);
		}
		munmap(p, n * span);
		put("refault", cas, "never_touched_ns_per_fault", fresh);
		put("refault", cas, "kept_ns_per_fault", kept);
		put("refault", cas, "ratio_kept_never", kept / fresh);
		if (have_reclaim) {
			put("refault", cas, "reclaimed_ns_per_fault", freed);
			put("refault", cas, "ratio_reclaimed_never", freed / fresh);
		}
	}
}

static void fig_upstream(void)
{
	unsigned long chunk = 2UL << 20, chunks = quick ? 256 : 25 * 1024;
	unsigned long len = chunks * chunk, per = chunk / span, i;
	long before, after;
	char cas[32], *p;
	double t;

	snprintf(cas, sizeof(cas), "chunks=%lu", chunks);
	if (!per) {
		printf("# upstream: a 2 MiB chunk is less than a table's span: not measured\n");
		return;
	}
	put("upstream", cas, "vmpte_start_kb", vmpte_kb());
	p = map_aligned(len);
	for (i = 0; i < chunks; i++) {
		touch(p + i * chunk, per, span);
		if (madvise(p + i * chunk, chunk, MADV_DONTNEED))
			die("MADV_DONTNEED: %s", strerror(errno));
	}
	before = vmpte_kb();
	put("upstream", cas, "vmpte_before_kb", before);
	if (have_reclaim) {
		long pmd0 = vmstat_read("pt_reclaim_pmd_freed");

		t = now_ns();
		if (reclaim(p, len))
			die("MADV_PT_RECLAIM of %lu GiB: %s", len / GIB,
			    strerror(errno));
		t = now_ns() - t;
		after = vmpte_kb();
		if (before - after != want_freed_kb(chunks * per, pmd0))
			die("MADV_PT_RECLAIM of %lu GiB freed %ld kB of VmPTE, want %ld",
			    len / GIB, before - after,
			    want_freed_kb(chunks * per, pmd0));
		put("upstream", cas, "vmpte_after_kb", after);
		put("upstream", cas, "reclaim_ms", t / 1e6);
	}
	munmap(p, len);
}

/*
 * PageTables once it holds still: the tables of the last repetition's
 * munmap() are freed after an RCU grace period and would be counted as
 * given back by this one (on s390x by up to twice the figure). Three
 * equal readings 20 ms apart, or what it is after 2 s.
 */
static long page_tables_settled_kb(void)
{
	long kb = page_tables_kb(), prev;
	int same = 0, i;

	for (i = 0; i < 100 && same < 2; i++) {
		usleep(20000);
		prev = kb;
		kb = page_tables_kb();
		same = kb == prev ? same + 1 : 0;
	}
	return kb;
}

static void fig_memory(void)
{
	unsigned long len = (quick ? 64UL : 512UL) << 20, n;
	double per_gib;
	long pte0, pte1, pte2, pt1, pt2;
	char cas[32], *p;
	int r, wait;

	/* At least one table's span (64 KiB pages: 512 MiB). */
	if (len < span)
		len = span;
	n = len / span;
	per_gib = (double)GIB / len;
	snprintf(cas, sizeof(cas), "%lu_MiB", len >> 20);
	if (!fits(len, "memory", cas))
		return;
	for (r = 0; r < reps; r++) {
		pte0 = vmpte_kb();
		p = map_aligned(len);
		if (madvise(p, len, MADV_POPULATE_WRITE))
			die("MADV_POPULATE_WRITE: %s", strerror(errno));
		pte1 = vmpte_kb();
		madvise(p, len, MADV_DONTNEED);
		pt1 = page_tables_settled_kb();
		timed_reclaim(p, len, n);
		pte2 = vmpte_kb();
		/*
		 * Tables go back to the page allocator after an RCU grace
		 * period (pte_free_defer()). At least the VmPTE of the tables
		 * must go, within 2 s; then what PageTables settles at. On
		 * s390x a 2 KiB table takes a 4 KiB page of its own (the
		 * upper half is for PGSTEs), which PageTables counts whole.
		 */
		for (wait = 0; wait < 200; wait++) {
			if (pt1 - page_tables_kb() >= (long)(n * table_kb))
				break;
			usleep(10000);
		}
		pt2 = page_tables_settled_kb();
		munmap(p, len);
		/*
		 * PageTables drops when a table reaches pte_free(), after its
		 * grace period (VmPTE, at the unlink): tables freed from
		 * VmPTE but never given back would show here.
		 */
		if (pt1 - pt2 < (long)(n * table_kb))
			die("memory: PageTables -%ld kB for %lu tables freed, want >= %ld",
			    pt1 - pt2, n, (long)(n * table_kb));
		put("memory", cas, "vmpte_grown_kb_per_gib", (pte1 - pte0) * per_gib);
		put("memory", cas, "vmpte_recovered_kb_per_gib", (pte1 - pte2) * per_gib);
		put("memory", cas, "pagetables_recovered_kb_per_gib", (pt1 - pt2) * per_gib);
	}
}

/*
 * MADV_DONTNEED of @n tables, @stride apart written, with the sysctl
 * @on: ns. VmPTE must drop by the @n tables when on, stay when off.
 */
static double timed_dontneed(unsigned long n, unsigned long stride, int on)
{
	char *p = map_aligned(n * span);
	long before, freed;
	double t;

	if (set_pt_reclaim_dontneed(on) < 0)
		die("cannot set vm.pt_reclaim_dontneed: %s", strerror(errno));
	touch(p, n * span / stride, stride);
	before = vmpte_kb();
	t = now_ns();
	if (madvise(p, n * span, MADV_DONTNEED))
		die("MADV_DONTNEED: %s", strerror(errno));
	t = now_ns() - t;
	freed = before - vmpte_kb();
	if (freed != (on ? (long)n * table_kb : 0))
		die("DONTNEED of %lu tables, pt_reclaim_dontneed=%d: VmPTE -%ld kB, want -%ld",
		    n, on, freed, on ? (long)n * table_kb : 0);
	munmap(p, n * span);
	return t;
}

static void fig_dontneed(void)
{
	const struct {
		const char *name;
		unsigned long n, stride;
	} cases[] = {
		{ "one_page", quick ? 64 : 512, span },
		{ "every_page", quick ? 4 : 16, page_size },
	};
	unsigned int c;
	double off, on;
	char cas[48];
	int r;

	if (set_pt_reclaim_dontneed(0) < 0) {
		if (reclaim_required())
			die("no vm.pt_reclaim_dontneed, but PT_RECLAIM_REQUIRED=1");
		printf("# dontneed: no vm.pt_reclaim_dontneed, not measured\n");
		return;
	}
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		snprintf(cas, sizeof(cas), "%s_tables=%lu", cases[c].name,
			 cases[c].n);
		if (!fits(cases[c].n * span / cases[c].stride * page_size,
			  "dontneed", cas))
			continue;
		for (r = -1; r < reps; r++) {
			warmup = r < 0;
			off = timed_dontneed(cases[c].n, cases[c].stride, 0);
			on = timed_dontneed(cases[c].n, cases[c].stride, 1);
			put("dontneed", cas, "off_ns_per_table", off / cases[c].n);
			put("dontneed", cas, "on_ns_per_table", on / cases[c].n);
			put("dontneed", cas, "ratio_on_off", on / off);
		}
	}
	set_pt_reclaim_dontneed(0);
}

/* The sum of the "TLB:" row of /proc/interrupts, or -1 without one. */
static long tlb_ipis(void)
{
	char line[4096], *p, *end;
	long sum = -1, v;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "TLB:", 4))
			continue;
		sum = 0;
		for (p += 4; ; p = end) {
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			sum += v;
		}
		break;
	}
	fclose(f);
	return sum;
}

static void *ipi_spinner(void *arg)
{
	pin(1);
	while (!__atomic_load_n((bool *)arg, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* @n tables under as few PMD tables as can be, one page written in each. */
static char *ipi_tables(unsigned long n)
{
	char *p = mmap_aligned(n * span, 512 * span);

	if (p == MAP_FAILED)
		die("mmap of %lu MiB: %s", n * span >> 20, strerror(errno));
	if (madvise(p, n * span, MADV_NOHUGEPAGE))
		die("MADV_NOHUGEPAGE: %s", strerror(errno));
	touch(p, n, span);
	return p;
}

static void fig_ipi(void)
{
	const unsigned long sizes[] = { 1, 64, 512, 4096, 32768 };
	long before, unmap, off, on, rec;
	unsigned long n;
	bool stop = false;
	pthread_t th;
	unsigned int c;
	char cas[32];
	char *p;
	int r;

	if (tlb_ipis() < 0 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("# ipi: no TLB row in /proc/interrupts or one CPU, not measured\n");
		return;
	}
	if (set_pt_reclaim_dontneed(0) < 0)
		die("cannot set vm.pt_reclaim_dontneed: %s", strerror(errno));
	pin(0);
	if (pthread_create(&th, NULL, ipi_spinner, &stop))
		die("pthread_create failed");
	usleep(100000);
	for (c = 0; c < ARRAY_SIZE(sizes); c++) {
		n = quick ? sizes[c] / 8 + 1 : sizes[c];
		snprintf(cas, sizeof(cas), "tables=%lu", n);
		for (r = -1; r < reps; r++) {
			warmup = r < 0;
			p = ipi_tables(n);
			before = tlb_ipis();
			munmap(p, n * span);
			unmap = tlb_ipis() - before;

			p = ipi_tables(n);
			before = tlb_ipis();
			madvise(p, n * span, MADV_DONTNEED);
			off = tlb_ipis() - before;
			before = tlb_ipis();
			if (reclaim(p, n * span))
				die("MADV_PT_RECLAIM: %s", strerror(errno));
			rec = tlb_ipis() - before;

			touch(p, n, span);
			set_pt_reclaim_dontneed(1);
			before = tlb_ipis();
			madvise(p, n * span, MADV_DONTNEED);
			on = tlb_ipis() - before;
			set_pt_reclaim_dontneed(0);
			munmap(p, n * span);

			put("ipi", cas, "munmap_ipis", unmap);
			put("ipi", cas, "dontneed_off_ipis", off);
			put("ipi", cas, "dontneed_on_ipis", on);
			put("ipi", cas, "pt_reclaim_ipis", rec);
		}
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	pin(-1);
}

/*
 * What a remote reclaimer costs the process it reclaims: the latency of
 * that process's page faults while another process calls
 * process_madvise(MADV_PT_RECLAIM) over its whole arena, a GiB a call,
 * in a loop.
 *
 * The target (a child) has one arena of REMOTE_SPANS PMD table spans (8
 * GiB on x86_64), one VMA, as an allocator or runtime reserves it. Its
 * faulter thread (CPU 0) writes the pages of the arena's first 64 MiB one
 * by one, timing each write, and gives them back with MADV_DONTNEED at
 * the end, over and over. Its purger thread (CPU 1) writes 16 pages, a
 * PTE table each, in each of the other spans and gives them back too,
 * every 10 ms, so the remote calls (one per span: a call takes at most
 * MAX_RW_COUNT bytes) find empty PTE tables to free, and in case "pmd"
 * also empty PMD tables: the PMD pass, which takes the target's mmap lock
 * for write and write-locks the VMA the faulter works in. In case "pte"
 * the purger keeps the first page of each span, which the target writes
 * before the reclaimer starts, so no PMD table is ever empty and only the
 * PTE step runs (mmap lock for read). Case "idle": no
 * reclaimer. Where a PMD table spans more than MAX_RW_COUNT (s390x: 2
 * GiB), process_madvise() cannot free it: case "pmd" is not run.
 * Printed: fault latency p50, p99, p99.9 and maximum in us, the faults
 * that took more than 1 ms, and the tables the reclaimer freed.
 */
#define REMOTE_SPANS 8
#define MAX_RW_COUNT (INT_MAX & ~(page_size - 1))	/* as the kernel's */
#define REMOTE_WORK (64UL << 20)
#define REMOTE_BUCKETS 4096	/* of 1 us; the last holds the rest */

struct remote_shared {
	unsigned long hist[REMOTE_BUCKETS];
	double max_ns;
	unsigned long faults;
	bool stop;
	bool keep_pmd;
	bool ready;	/* every span has its kept page */
};

static char *remote_arena;

static void *remote_purger(void *arg)
{
	struct remote_shared *sh = arg;
	unsigned long len = (REMOTE_SPANS - 1) * pmd_span, i;
	char *p = remote_arena + pmd_span;

	pin(1);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		touch(p, len / (pmd_span / 16), pmd_span / 16);
		for (i = 0; i < len; i += pmd_span)
			if (madvise(p + i + (sh->keep_pmd ? page_size : 0),
				    pmd_span - (sh->keep_pmd ? page_size : 0),
				    MADV_DONTNEED))
				die("MADV_DONTNEED: %s", strerror(errno));
		usleep(10000);
	}
	return NULL;
}

static void remote_target(struct remote_shared *sh)
{
	unsigned long i, b;
	pthread_t th;
	double t;

	dontneed_saved = -1;	/* the parent restores it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* should the parent die() */
	/*
	 * The work span's PMD table stays: no reclaim may free it. So do
	 * the others' in case "pte", once their first page is written,
	 * before the reclaimer starts: a fault that allocates a PMD table
	 * may lose its new PTE table to a reclaim and give up; until it
	 * comes back, the PMD table is empty and a reclaim may free it.
	 */
	remote_arena[pmd_span - page_size] = 1;
	for (i = 1; i < REMOTE_SPANS; i++)
		remote_arena[i * pmd_span] = 1;
	__atomic_store_n(&sh->ready, true, __ATOMIC_RELEASE);
	pin(0);
	if (pthread_create(&th, NULL, remote_purger, sh))
		die("pthread_create failed");
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < REMOTE_WORK; i += page_size) {
			t = now_ns();
			remote_arena[i] = 1;
			t = now_ns() - t;
			b = t / 1000;
			sh->hist[b < REMOTE_BUCKETS ? b : REMOTE_BUCKETS - 1]++;
			if (t > sh->max_ns)
				sh->max_ns = t;
			sh->faults++;
		}
		if (madvise(remote_arena, REMOTE_WORK, MADV_DONTNEED))
			die("MADV_DONTNEED: %s", strerror(errno));
	}
	pthread_join(th, NULL);
	exit(0);
}

/* The latency in us below which @frac of the faults took. */
static double remote_pct(struct remote_shared *sh, double frac)
{
	unsigned long sum = 0, b;

	for (b = 0; b < REMOTE_BUCKETS; b++) {
		sum += sh->hist[b];
		if (sum >= frac * sh->faults)
			return b + 1;
	}
	return REMOTE_BUCKETS;
}

static void fig_remote(void)
{
	static const char * const cases[] = { "idle", "pte", "pmd" };
	unsigned int ncases = ARRAY_SIZE(cases);
	unsigned long ms = quick ? 300 : 3000, slow, b, i;
	long freed0, pmd0, busy0, calls;
	struct remote_shared *sh;
	struct iovec iov;
	unsigned int c;
	int r, pidfd, st;
	double end;
	pid_t pid;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("# remote: one CPU, not measured\n");
		return;
	}
	if (!pmd_kb) {
		printf("# remote: the size of a PMD table is unknown, not measured\n");
		return;
	}
	/* The purger's tables, every 16th of a span, out of a call's reach. */
	if (pmd_span / 16 > MAX_RW_COUNT) {
		printf("# remote: a PMD table spans %lu GiB, a call reaches 2: not measured\n",
		       pmd_span / GIB);
		return;
	}
	if (pmd_span > MAX_RW_COUNT) {
		printf("# remote: no case pmd: a PMD table spans more than MAX_RW_COUNT\n");
		ncases--;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	for (c = 0; c < ncases; c++) {
		for (r = -1; r < reps; r++) {
			warmup = r < 0;
			memset(sh, 0, sizeof(*sh));
			sh->keep_pmd = c == 1;
			remote_arena = mmap_aligned(REMOTE_SPANS * pmd_span,
						    pmd_span);
			if (remote_arena == MAP_FAILED)
				die("mmap of %d PMD spans: %s", REMOTE_SPANS,
				    strerror(errno));
			if (madvise(remote_arena, REMOTE_SPANS * pmd_span,
				    MADV_NOHUGEPAGE))
				die("MADV_NOHUGEPAGE: %s", strerror(errno));
			pid = fork();
			if (pid < 0)
				die("fork: %s", strerror(errno));
			if (!pid)
				remote_target(sh);
			pidfd = syscall(SYS_pidfd_open, pid, 0);
			if (pidfd < 0)
				die("pidfd_open: %s", strerror(errno));
			while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE)) {
				if (waitpid(pid, &st, WNOHANG) == pid)
					die("remote: the target failed (status %#x)", st);
				usleep(100);
			}
			pin(1);
			freed0 = vmstat_read("pt_reclaim_freed");
			pmd0 = vmstat_read("pt_reclaim_pmd_freed");
			busy0 = vmstat_read("pt_reclaim_pmd_busy");
			calls = 0;
			end = now_ns() + ms * 1e6;
			/*
			 * Case pmd runs on until the PMD pass was reached
			 * (within 30 s): the target's purger may be slow to
			 * empty a span (a debug kernel under TCG).
			 */
			while (now_ns() < end ||
			       (c == 2 && now_ns() < end + 30e9 &&
				vmstat_read("pt_reclaim_pmd_freed") == pmd0 &&
				vmstat_read("pt_reclaim_pmd_busy") == busy0)) {
				if (c == 0) {
					usleep(1000);
					continue;
				}
				/* A call takes at most MAX_RW_COUNT bytes. */
				for (i = 0; i < REMOTE_SPANS; i++) {
					iov.iov_base = remote_arena + i * pmd_span;
					iov.iov_len = pmd_span < MAX_RW_COUNT ?
						      pmd_span : MAX_RW_COUNT;
					if (syscall(SYS_process_madvise, pidfd,
						    &iov, 1, MADV_PT_RECLAIM, 0) < 0)
						die("process_madvise(MADV_PT_RECLAIM): %s",
						    strerror(errno));
					calls++;
				}
			}
			__atomic_store_n(&sh->stop, true, __ATOMIC_RELAXED);
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
			    WEXITSTATUS(st))
				die("remote: the target failed (status %#x)", st);
			close(pidfd);
			munmap(remote_arena, REMOTE_SPANS * pmd_span);
			for (slow = 0, b = 1000; b < REMOTE_BUCKETS; b++)
				slow += sh->hist[b];
			/*
			 * The pass may find a lock taken every time (the
			 * purger's MADV_DONTNEED holds the mmap lock), but it
			 * must have been reached.
			 */
			if (c == 2 && vmstat_read("pt_reclaim_pmd_freed") == pmd0 &&
			    vmstat_read("pt_reclaim_pmd_busy") == busy0)
				die("remote: case pmd never reached the PMD pass");
			if (c == 1 && vmstat_read("pt_reclaim_pmd_freed") != pmd0)
				die("remote: case pte freed a PMD table");
			if (c && vmstat_read("pt_reclaim_freed") == freed0)
				die("remote: case %s freed no PTE table", cases[c]);
			put("remote", cases[c], "fault_p50_us", remote_pct(sh, 0.5));
			put("remote", cases[c], "fault_p99_us", remote_pct(sh, 0.99));
			put("remote", cases[c], "fault_p999_us", remote_pct(sh, 0.999));
			put("remote", cases[c], "fault_max_us", sh->max_ns / 1000);
			put("remote", cases[c], "faults_over_1ms", slow);
			put("remote", cases[c], "faults", sh->faults);
			put("remote", cases[c], "calls", calls);
			put("remote", cases[c], "pte_freed",
			    vmstat_read("pt_reclaim_freed") - freed0);
			put("remote", cases[c], "pmd_freed",
			    vmstat_read("pt_reclaim_pmd_freed") - pmd0);
			put("remote", cases[c], "pmd_busy",
			    vmstat_read("pt_reclaim_pmd_busy") - busy0);
		}
	}
	munmap(sh, sizeof(*sh));
	pin(-1);
}

static const struct {
	const char *name;
	void (*fn)(void);
	bool needs_reclaim;
} figs[] = {
	{ "reclaim", fig_reclaim, true },
	{ "scan", fig_scan, true },
	{ "sparse", fig_sparse, true },
	{ "fault", fig_fault, false },
	{ "refault", fig_refault, false },
	{ "upstream", fig_upstream, false },
	{ "memory", fig_memory, true },
	{ "dontneed", fig_dontneed, true },
	{ "ipi", fig_ipi, true },
	{ "remote", fig_remote, true },
};

static bool wanted[ARRAY_SIZE(figs)];

/* -f: mark each figure of @list; a name that is none fails the run. */
static void want_figures(const char *list)
{
	unsigned int i;
	size_t len;

	for (;;) {
		len = strcspn(list, ",");
		for (i = 0; i < ARRAY_SIZE(figs); i++)
			if (strlen(figs[i].name) == len &&
			    !strncmp(figs[i].name, list, len))
				break;
		if (i == ARRAY_SIZE(figs))
			die("-f: no figure '%.*s' (-h lists them)", (int)len, list);
		wanted[i] = true;
		if (!list[len])
			return;
		list += len + 1;
	}
}

static void help(const char *me)
{
	unsigned int i;

	fprintf(stderr, "usage: %s [-q] [-r REPS] [-f FIGURE[,FIGURE..]]\nfigures:", me);
	for (i = 0; i < ARRAY_SIZE(figs); i++)
		fprintf(stderr, " %s", figs[i].name);
	fprintf(stderr, "\n");
}

static void restore_dontneed(void)
{
	if (dontneed_saved >= 0)
		set_pt_reclaim_dontneed(dontneed_saved);
}

int main(int argc, char **argv)
{
	const char *figures = NULL;
	struct utsname u;
	unsigned int i;
	int opt;
	void *p;

	while ((opt = getopt(argc, argv, "qr:f:h")) != -1) {
		switch (opt) {
		case 'q':
			quick = true;
			reps = 1;
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'f':
			figures = optarg;
			break;
		default:
			help(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (reps < 1)
		die("-r %d: at least one repetition", reps);
	if (figures)
		want_figures(figures);
	else
		memset(wanted, true, sizeof(wanted));
	page_size = getpagesize();
	span = pte_table_span();
	if (!span)
		die("cannot tell the span of a PTE table from VmPTE");
	table_kb = span / page_size * 8 / 1024;
	pmd_span = pmd_table_span(span, &pmd_kb);
	p = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	have_reclaim = !reclaim(p, page_size);
	if (!have_reclaim && errno != EINVAL)
		die("MADV_PT_RECLAIM on a page of our own: %s", strerror(errno));
	/* as in pt_reclaim.c: the test run asks for the feature */
	if (!have_reclaim && reclaim_required())
		die("MADV_PT_RECLAIM: EINVAL, but PT_RECLAIM_REQUIRED=1");
	munmap(p, page_size);
	dontneed_saved = set_pt_reclaim_dontneed(0);
	atexit(restore_dontneed);
	/*
	 * The figures count VmPTE to the table. The first clock_gettime()
	 * reads the vDSO's data pages, whose fault may need a PTE table of
	 * its own when they sit in another PMD_SIZE span than the vDSO's
	 * code, as ASLR places them now and then; take that fault now.
	 */
	now_ns();

	uname(&u);
	printf("bench,meta,,kernel,%s %s\n", u.release, u.machine);
	put("meta", "", "pt_reclaim", have_reclaim);
	put("meta", "", "cpus", sysconf(_SC_NPROCESSORS_ONLN));
	put("meta", "", "page_size", page_size);
	put("meta", "", "table_span", span);
	put("meta", "", "reps", reps);
	for (i = 0; i < ARRAY_SIZE(figs); i++) {
		if (!wanted[i])
			continue;
		if (figs[i].needs_reclaim && !have_reclaim) {
			printf("# %s: needs MADV_PT_RECLAIM, not measured\n",
			       figs[i].name);
			continue;
		}
		figs[i].fn();
	}
	return 0;
}
