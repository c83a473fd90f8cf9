// SPDX-License-Identifier: GPL-2.0
/*
 * reuse: a database's buffer pool in one long-lived reservation, reused
 * and released with MADV_DONTNEED (the pattern of ydb-platform/ydb#52719:
 * VmPTE grew from 28 MB to 270 MB and on during TPC-H runs, and ydb went
 * back to munmap(), #52728).
 *
 * One anonymous reservation of -r MiB. Extents of 4 KiB to -x KiB (log-uniform, page-aligned) are
 * placed at random free offsets and every page written; when more than
 * -l MiB would be live, random live extents are released first. For -s
 * seconds. Random placement is the worst case the pattern has: in time
 * every table span of the reservation is touched, while the live data
 * needs only the tables under its extents.
 *
 * -m MODE, how an extent is released:
 *   dontneed  madvise(MADV_DONTNEED); whether the kernel frees the tables
 *             it empties is vm.pt_reclaim_dontneed's (the caller sets it)
 *   periodic  the same, and madvise(MADV_PT_RECLAIM) over the whole
 *             reservation every -p seconds (default 1)
 *   spans     as dontneed, each release followed by
 *             madvise(MADV_PT_RECLAIM) over the extent rounded out to
 *             whole table spans, as the admin guide rounds (one call a
 *             release, not batched as it also advises): the tables at
 *             the extent's ends that the release left empty go too
 *   mmap      no reservation: each extent its own mmap(), released with
 *             munmap() (what ydb went back to); the kernel places them,
 *             packed, and munmap() frees the tables a gap empties. Its
 *             cost per release counts the munmap() and the mmap() that
 *             the reuse of the extent would have saved.
 * THP is off for the process (PR_SET_THP_DISABLE): the memory is mapped
 * by PTE tables.
 *
 * Prints "reuse,sample,SECONDS,VMPTE_KB,NEEDED_KB" every -i seconds
 * (default 0.5): VmPTE above the process before the reservation was
 * touched, and the page tables the live extents need (the PTE and PMD
 * table spans they touch, a page each; in mmap mode the new mappings
 * may share tables the process had, so the need is an upper bound); then
 * "reuse,end,METRIC,VALUE": ops_per_s, releases, us_per_release (the
 * release calls, and with periodic and spans the MADV_PT_RECLAIM calls'
 * share), reclaim_calls, reclaim_us, the largest and the last VmPTE and
 * need, and peak_ratio (the largest VmPTE over the need at the same sample,
 * across the samples after the first second). In periodic mode a sample
 * is also taken just before each reclaim, where the tables peak, and
 * one at the end in every mode.
 * Exits 1 on a failed call (EINVAL from MADV_PT_RECLAIM: a kernel
 * without it).
 *
 * usage: reuse [-m MODE] [-r MIB] [-l MIB] [-x KIB] [-s SECONDS]
 *              [-p SECONDS] [-i SECONDS] [-S SEED]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif

enum mode { DONTNEED, PERIODIC, SPANS, MMAP };

static enum mode mode = DONTNEED;
static size_t reserve = 2048UL << 20, live_max = 64UL << 20;
static size_t ext_max = 8UL << 20;
static double seconds = 10, period = 1, sample = 0.5;
static unsigned long long rng = 1;

static char *base;			/* the reservation (not in mmap mode) */
static size_t page_size, npages, span;	/* span: a PTE table's, in bytes */
static unsigned char *used;		/* a byte per page of the reservation */

struct extent {
	char *p;
	size_t len;
};

static struct extent *live, *sorted;
static size_t nlive, cap, live_bytes;

static double release_s;		/* in the release calls */
static unsigned long releases;
static double reclaim_s;		/* in the MADV_PT_RECLAIM calls */
static unsigned long reclaims;

static void die(const char *what)
{
	fprintf(stderr, "reuse: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: reuse [-m dontneed|periodic|spans|mmap] [-r MIB] [-l MIB] [-x KIB]\n"
		"             [-s SECONDS] [-p SECONDS] [-i SECONDS] [-S SEED]\n");
	exit(2);
}

/* xorshift64*, as churn's */
static unsigned long long next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long vmpte_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPTE:", 6))
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	if (v < 0)
		die("no VmPTE in /proc/self/status");
	return v;
}

static int by_address(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

/*
 * The page tables the live extents need, in kB: the PTE and the PMD
 * tables whose spans they touch (VmPTE counts both). The extents do not
 * overlap: sorted by start, their ends rise too.
 */
static long needed_kb(void)
{
	uintptr_t first, last, counted[2] = { UINTPTR_MAX, UINTPTR_MAX };
	size_t i, l, unit[2] = { span, span / 8 * page_size };
	unsigned long n = 0;

	memcpy(sorted, live, nlive * sizeof(*live));
	qsort(sorted, nlive, sizeof(*sorted), by_address);
	for (i = 0; i < nlive; i++) {
		for (l = 0; l < 2; l++) {
			first = (uintptr_t)sorted[i].p / unit[l];
			last = ((uintptr_t)sorted[i].p + sorted[i].len - 1) / unit[l];
			if (counted[l] != UINTPTR_MAX && first <= counted[l])
				first = counted[l] + 1;
			if (first <= last) {
				n += last - first + 1;
				counted[l] = last;
			}
		}
	}
	return n * (page_size / 1024);
}

/* A length of a page to ext_max, log-uniform, whole pages. */
static size_t pick_len(void)
{
	size_t max = ext_max / page_size, hi = 0, n;

	while ((2UL << hi) <= max)
		hi++;
	n = 1UL << (next() % (hi + 1));
	n += next() % n;
	return (n > max ? max : n) * page_size;
}

static void release(size_t i)
{
	struct extent e = live[i];
	double t = now();

	if (mode == MMAP) {
		if (munmap(e.p, e.len))
			die("munmap");
	} else if (madvise(e.p, e.len, MADV_DONTNEED)) {
		die("madvise(MADV_DONTNEED)");
	}
	release_s += now() - t;
	releases++;
	if (mode == SPANS) {
		/* base is span-aligned, the reservation whole spans */
		uintptr_t first = (uintptr_t)e.p & ~(span - 1);
		uintptr_t end = ((uintptr_t)e.p + e.len + span - 1) & ~(span - 1);

		t = now();
		if (madvise((void *)first, end - first, MADV_PT_RECLAIM))
			die("madvise(MADV_PT_RECLAIM)");
		reclaim_s += now() - t;
		reclaims++;
	}
	if (mode != MMAP)
		memset(used + (e.p - base) / page_size, 0, e.len / page_size);
	live_bytes -= e.len;
	live[i] = live[--nlive];
}

/*
 * Place an extent (mmap mode: where the kernel puts a new mapping; else
 * at a random free offset of the reservation, a few tries) and write
 * every page of it.
 */
static bool place(void)
{
	size_t len = pick_len(), first = 0, k;
	bool replaces = false;
	int tries;
	char *p;

	while (nlive && live_bytes + len > live_max) {
		release(next() % nlive);
		replaces = true;
	}
	if (mode == MMAP) {
		double t = now();

		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		/* the cost a reuse saves: not while the pool still grows */
		if (replaces)
			release_s += now() - t;
	} else {
		for (tries = 0; tries < 16; tries++) {
			first = next() % (npages - len / page_size + 1);
			for (k = 0; k < len / page_size && !used[first + k]; k++)
				;
			if (k == len / page_size)
				break;
		}
		if (tries == 16)
			return false;
		memset(used + first, 1, len / page_size);
		p = base + first * page_size;
	}
	if (nlive == cap) {
		cap = cap ? 2 * cap : 1024;
		live = realloc(live, cap * sizeof(*live));
		sorted = realloc(sorted, cap * sizeof(*sorted));
		if (!live || !sorted)
			die("realloc");
	}
	live[nlive++] = (struct extent){ p, len };
	live_bytes += len;
	for (k = 0; k < len; k += page_size)
		p[k] = (char)k;
	return true;
}

/* VmPTE above the start and the need, their largest, the largest ratio */
static long fresh, last_kb, last_need, max_kb, max_need;
static double ratio;

/*
 * A sample at @t seconds: printed, and counted in the largest figures
 * (the ratio after the first second, when the live data has grown).
 */
static void measure(double t)
{
	last_kb = vmpte_kb() - fresh;
	last_need = needed_kb();
	printf("reuse,sample,%.2f,%ld,%ld\n", t, last_kb, last_need);
	if (last_kb > max_kb)
		max_kb = last_kb;
	if (last_need > max_need)
		max_need = last_need;
	if (t >= 1 && last_need && (double)last_kb / last_need > ratio)
		ratio = (double)last_kb / last_need;
}

int main(int argc, char **argv)
{
	double t0, next_sample, next_reclaim, t;
	unsigned long ops = 0;
	int c;

	while ((c = getopt(argc, argv, "m:r:l:x:s:p:i:S:")) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "dontneed"))
				mode = DONTNEED;
			else if (!strcmp(optarg, "periodic"))
				mode = PERIODIC;
			else if (!strcmp(optarg, "spans"))
				mode = SPANS;
			else if (!strcmp(optarg, "mmap"))
				mode = MMAP;
			else
				usage();
			break;
		case 'r':
			reserve = strtoul(optarg, NULL, 0) << 20;
			break;
		case 'l':
			live_max = strtoul(optarg, NULL, 0) << 20;
			break;
		case 'x':
			ext_max = strtoul(optarg, NULL, 0) << 10;
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'p':
			period = atof(optarg);
			break;
		case 'i':
			sample = atof(optarg);
			break;
		case 'S':
			rng = strtoull(optarg, NULL, 0) | 1;
			break;
		default:
			usage();
		}
	}
	page_size = sysconf(_SC_PAGESIZE);
	/* a PTE table is a page of 8-byte entries */
	span = page_size / 8 * page_size;
	if (optind != argc || !reserve || reserve % span || ext_max < page_size ||
	    live_max < ext_max || live_max > reserve / 2 || seconds <= 0 ||
	    period <= 0 || sample <= 0)
		usage();
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("prctl(PR_SET_THP_DISABLE)");
	npages = reserve / page_size;
	live = malloc(sizeof(*live));
	sorted = malloc(sizeof(*sorted));
	if (!live || !sorted)
		die("malloc");
	if (mode != MMAP) {
		used = calloc(npages, 1);
		if (!used)
			die("calloc");
		/* aligned to a table span: the spans counted are the tables */
		base = mmap(NULL, reserve + span, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (base == MAP_FAILED)
			die("mmap");
		base += -(uintptr_t)base & (span - 1);
	}

	fresh = vmpte_kb();
	t0 = now();
	next_sample = t0 + sample;
	next_reclaim = t0 + period;
	while ((t = now()) < t0 + seconds) {
		if (place())
			ops++;
		/*
		 * A sample just before each reclaim too: the tables are at
		 * their most there, and the regular samples may all fall
		 * right after one (with -p a multiple of -i they do).
		 */
		if (mode == PERIODIC && t >= next_reclaim) {
			double r;

			measure(t - t0);
			r = now();
			if (madvise(base, reserve, MADV_PT_RECLAIM))
				die("madvise(MADV_PT_RECLAIM)");
			reclaim_s += now() - r;
			reclaims++;
			next_reclaim += period;
		}
		if (t >= next_sample) {
			measure(t - t0);
			next_sample += sample;
		}
	}
	measure(now() - t0);
	printf("reuse,end,ops_per_s,%.0f\n", ops / seconds);
	printf("reuse,end,releases,%lu\n", releases);
	printf("reuse,end,us_per_release,%.2f\n",
	       releases ? (release_s + reclaim_s) * 1e6 / releases : 0);
	printf("reuse,end,reclaim_calls,%lu\n", reclaims);
	printf("reuse,end,reclaim_us,%.0f\n", reclaim_s * 1e6);
	printf("reuse,end,max_vmpte_kb,%ld\n", max_kb);
	printf("reuse,end,max_needed_kb,%ld\n", max_need);
	printf("reuse,end,end_vmpte_kb,%ld\n", last_kb);
	printf("reuse,end,end_needed_kb,%ld\n", last_need);
	printf("reuse,end,peak_ratio,%.2f\n", ratio);
	return 0;
}
