// SPDX-License-Identifier: GPL-2.0
/*
 * churn: an allocator workload that leaves page tables behind.
 *
 * Threads allocate and free objects of 4 KiB to several MiB (sizes
 * spread evenly over the powers of two, so that small and large ones
 * both matter) with random lifetimes, writing every page of each object,
 * for a while; then each thread frees what it holds and exits. Whatever allocator the binary
 * is linked with (glibc malloc by default; jemalloc, tcmalloc statically,
 * built with -DCHURN_NO_TRIM; or any through LD_PRELOAD) decides what goes back to the kernel and
 * how: munmap() frees the page tables of a span, MADV_DONTNEED and
 * MADV_FREE keep them.
 *
 * Prints, as "churn,PHASE,METRIC,VALUE" lines:
 *   peak      VmPTE, VmRSS at the end of the churn (kB), and ops/s
 *   freed     the same after every object was freed (and, with -T, after
 *             asking the allocator to give its free memory back: see
 *             release())
 *   idle      the same after -w SECONDS more, doing nothing (what an
 *             allocator's delayed purging, a preloaded library or an
 *             operator's periodic ptreclaim gave back meanwhile)
 *   reclaimed after madvise(MADV_PT_RECLAIM) over every mapping of the
 *             process (with -R; EINVAL there means a kernel without it)
 *   fresh     VmPTE of the process before it allocated anything
 *
 * and, in each phase, "used_tables_kb": the page tables the process
 * cannot do without, those over at least one present or swapped page
 * (from the PAGEMAP_SCAN ioctl, kernels from 6.7; -1 where it is
 * missing). VmPTE minus that is the tables that map nothing, the most
 * MADV_PT_RECLAIM could still free. What stays above the fresh process
 * after a reclaim is tables over memory the allocator still holds.
 *
 * usage: churn [-t THREADS] [-s SECONDS] [-m MIB] [-x MAX_KIB] [-S SEED]
 *              [-w SECONDS] [-R] [-T]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif

static unsigned int nthreads = 4;
static double seconds = 5;
static double idle;
static size_t live_max = 256UL << 20;	/* bytes live per thread, at most */
static size_t obj_max = 8UL << 20;	/* largest object */
static unsigned long seed = 1;
static size_t page_size;

struct worker {
	pthread_t tid;
	unsigned long long rng;
	unsigned long ops;
	void **obj;
	size_t *len;
	size_t nslots;
};

static volatile bool stop;
/* end of the churn: the main thread measures the peak between the two */
static pthread_barrier_t churned, measured;

static void die(const char *what)
{
	fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* xorshift64*: small and repeatable per seed and thread */
static unsigned long long next(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A size from 4 KiB to obj_max, log-uniform, not page-aligned. */
static size_t pick_size(unsigned long long *s)
{
	unsigned int lo = 12, hi = 0, shift;
	size_t len;

	while ((2UL << hi) <= obj_max)
		hi++;
	shift = lo + next(s) % (hi - lo + 1);
	len = 1UL << shift;
	return len + next(s) % len / 2;
}

static void touch(char *p, size_t len, unsigned char v)
{
	size_t i;

	for (i = 0; i < len; i += page_size)
		p[i] = v;
	p[len - 1] = v;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	size_t live = 0, i;

	while (!stop) {
		i = next(&w->rng) % w->nslots;
		if (w->obj[i]) {
			free(w->obj[i]);
			live -= w->len[i];
			w->obj[i] = NULL;
		} else {
			size_t len = pick_size(&w->rng);

			if (live + len > live_max)
				continue;
			w->obj[i] = malloc(len);
			if (!w->obj[i])
				die("malloc");
			w->len[i] = len;
			live += len;
			touch(w->obj[i], len, (unsigned char)i);
		}
		w->ops++;
	}
	pthread_barrier_wait(&churned);
	pthread_barrier_wait(&measured);
	for (i = 0; i < w->nslots; i++)
		free(w->obj[i]);
	return NULL;
}

static long status_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * The process's mappings, from /proc/self/maps, read whole into @start
 * and @end before the caller acts on them (acting while reading would be
 * fragile). Returns their number.
 */
#define MAX_MAPS 65536
static int read_maps(unsigned long *start, unsigned long *end)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		die("/proc/self/maps");
	while (n < MAX_MAPS && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &start[n], &end[n]) == 2)
			n++;
	fclose(f);
	return n;
}

static unsigned long map_start[MAX_MAPS], map_end[MAX_MAPS];

#ifdef PAGEMAP_SCAN
/*
 * Count, at each level, the tables that map something: walking the
 * present-or-swapped regions in address order, a table span is counted
 * once, when the first region in it is seen. A PMD-mapped THP needs no
 * PTE table. The ioctl has been seen (on 6.18) to return a region of a
 * large mapping twice in one call: only spans beyond the last one
 * counted count.
 */
struct level {
	unsigned long shift, last, count;
};

static void count_region(struct level *lv, int nlv,
			 const struct page_region *r)
{
	int l;

	for (l = 0; l < nlv; l++) {
		unsigned long first = r->start >> lv[l].shift;
		unsigned long last = (r->end - 1) >> lv[l].shift;

		if (!l && (r->categories & PAGE_IS_HUGE))
			continue;
		/* lv[l].last: the span counted last, ~0UL before any */
		if (lv[l].last != ~0UL && first <= lv[l].last)
			first = lv[l].last + 1;
		if (first > last)
			continue;
		lv[l].count += last - first + 1;
		lv[l].last = last;
	}
}

/*
 * The page tables (kB) over a present or swapped page, PTE to PUD: the
 * ones VmPTE counts. A table of page_size / sizeof(void *) entries at
 * every level (x86_64, arm64); -1 on s390x, or when the kernel has no
 * PAGEMAP_SCAN. PAGEMAP_SCAN skips VM_PFNMAP mappings ([vvar]): their
 * tables, if any of their own, are not counted.
 */
static long used_tables_kb(void)
{
	static struct page_region vec[4096];
	unsigned long ptrs = page_size / sizeof(void *);
	struct level lv[3];
	long kb = 0;
	int fd, l, nlv = 3, i, m, nmaps;

#ifdef __s390x__
	return -1;	/* 2 KiB PTE tables, 16 KiB region tables */
#endif
	lv[0].shift = __builtin_ctzl(page_size * ptrs);
	for (l = 0; l < nlv; l++) {
		if (l)
			lv[l].shift = lv[l - 1].shift + __builtin_ctzl(ptrs);
		lv[l].count = 0;
		lv[l].last = ~0UL;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("/proc/self/pagemap");
	nmaps = read_maps(map_start, map_end);
	for (m = 0; m < nmaps; m++) {
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			.vec = (unsigned long)vec,
			.vec_len = sizeof(vec) / sizeof(vec[0]),
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE,
		};
		int n;

		/* [vsyscall] is not in the process's page tables */
		if (map_end[m] > (1UL << 56))
			continue;
		for (arg.start = map_start[m]; arg.start < map_end[m];
		     arg.start = arg.walk_end) {
			arg.end = map_end[m];
			n = ioctl(fd, PAGEMAP_SCAN, &arg);
			if (n < 0) {
				kb = -1;
				goto out;
			}
			for (i = 0; i < n; i++)
				count_region(lv, nlv, &vec[i]);
		}
	}
	for (l = 0; l < nlv; l++)
		kb += lv[l].count * (page_size >> 10);
out:
	close(fd);
	return kb;
}
#else
static long used_tables_kb(void)
{
	return -1;	/* built against uapi headers older than 6.7 */
}
#endif

static void report(const char *phase)
{
	printf("churn,%s,vmpte_kb,%ld\n", phase, status_kb("VmPTE"));
	printf("churn,%s,vmrss_kb,%ld\n", phase, status_kb("VmRSS"));
	printf("churn,%s,used_tables_kb,%ld\n", phase, used_tables_kb());
}

/*
 * -T: ask the allocator in use to give its free memory back, through
 * whichever interface the process has (an allocator is usually
 * preloaded, so look them up): jemalloc's arena purge, tcmalloc's
 * ReleaseFreeMemory, mimalloc's forced collection, glibc's malloc_trim.
 */
static const char *release(void)
{
	int (*mallctl)(const char *, void *, size_t *, void *, size_t);
	void (*tc_release)(void);
	void (*mi_collect)(bool);

	mallctl = dlsym(RTLD_DEFAULT, "mallctl");
	if (mallctl) {
		/* 4096: MALLCTL_ARENAS_ALL */
		if (mallctl("arena.4096.purge", NULL, NULL, NULL, 0))
			return "mallctl(arena.4096.purge) failed";
		return "mallctl(arena.4096.purge)";
	}
	tc_release = dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory");
	if (tc_release) {
		tc_release();
		return "MallocExtension_ReleaseFreeMemory()";
	}
	mi_collect = dlsym(RTLD_DEFAULT, "mi_collect");
	if (mi_collect) {
		mi_collect(true);
		return "mi_collect(true)";
	}
#ifndef CHURN_NO_TRIM
	malloc_trim(0);
	return "malloc_trim(0)";
#else
	/* linked statically with another allocator: no glibc malloc */
	return "nothing (built with CHURN_NO_TRIM)";
#endif
}

/*
 * MADV_PT_RECLAIM over every mapping of the process (the calls do not
 * change the mappings). Returns the number of calls that failed with
 * EINVAL, -1 when none was made.
 */
static int reclaim_all(void)
{
	int n = read_maps(map_start, map_end), i, einval = 0;

	for (i = 0; i < n; i++)
		if (madvise((void *)map_start[i], map_end[i] - map_start[i],
			    MADV_PT_RECLAIM) && errno == EINVAL)
			einval++;
	return n ? einval : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: churn [-t THREADS] [-s SECONDS] [-m MIB] [-x MAX_KIB] [-S SEED] [-w SECONDS] [-R] [-T]\n"
		"  -t  worker threads (4)\n"
		"  -s  seconds of churn (5)\n"
		"  -m  MiB live per thread at most (256)\n"
		"  -x  largest object in KiB (8192)\n"
		"  -S  seed (1)\n"
		"  -w  seconds to wait after freeing, then report again (0)\n"
		"  -R  then madvise(MADV_PT_RECLAIM) over every mapping\n"
		"  -T  after freeing, ask the allocator to give free memory back\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct worker *w;
	struct timespec t0, t1;
	unsigned long long ops = 0;
	bool reclaim = false, trim = false;
	unsigned int i;
	double dt;
	int c, einval;

	while ((c = getopt(argc, argv, "t:s:m:x:S:w:RT")) != -1) {
		switch (c) {
		case 't': nthreads = strtoul(optarg, NULL, 0); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 'm': live_max = strtoul(optarg, NULL, 0) << 20; break;
		case 'x': obj_max = strtoul(optarg, NULL, 0) << 10; break;
		case 'S': seed = strtoul(optarg, NULL, 0); break;
		case 'w': idle = strtod(optarg, NULL); break;
		case 'R': reclaim = true; break;
		case 'T': trim = true; break;
		default: usage();
		}
	}
	if (optind != argc || !nthreads || nthreads > 256 || seconds <= 0 ||
	    idle < 0 || obj_max < 4096 || live_max < obj_max)
		usage();
	page_size = sysconf(_SC_PAGESIZE);
	printf("churn,fresh,vmpte_kb,%ld\n", status_kb("VmPTE"));

	w = calloc(nthreads, sizeof(*w));
	if (!w)
		die("calloc");
	for (i = 0; i < nthreads; i++) {
		w[i].rng = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		w[i].nslots = 1024;
		w[i].obj = calloc(w[i].nslots, sizeof(void *));
		w[i].len = calloc(w[i].nslots, sizeof(size_t));
		if (!w[i].obj || !w[i].len)
			die("calloc");
	}
	if (pthread_barrier_init(&churned, NULL, nthreads + 1) ||
	    pthread_barrier_init(&measured, NULL, nthreads + 1))
		die("pthread_barrier_init");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nthreads; i++)
		if ((errno = pthread_create(&w[i].tid, NULL, work, &w[i])))
			die("pthread_create");
	usleep((useconds_t)(seconds * 1e6));
	stop = true;
	pthread_barrier_wait(&churned);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < nthreads; i++)
		ops += w[i].ops;
	dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	report("peak");
	printf("churn,peak,ops_per_s,%.0f\n", ops / dt);
	pthread_barrier_wait(&measured);
	for (i = 0; i < nthreads; i++)
		pthread_join(w[i].tid, NULL);
	if (trim)
		printf("# churn: -T: %s\n", release());
	report("freed");
	if (idle > 0) {
		usleep((useconds_t)(idle * 1e6));
		report("idle");
	}
	if (reclaim) {
		einval = reclaim_all();
		if (einval > 0)
			printf("# churn: MADV_PT_RECLAIM: EINVAL on %d mappings (a kernel without it?)\n",
			       einval);
		report("reclaimed");
	}
	return 0;
}
