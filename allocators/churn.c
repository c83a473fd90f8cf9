// SPDX-License-Identifier: GPL-2.0
/*
 * churn: an allocator workload that leaves page tables behind.
 *
 * Threads allocate and free objects of 4 KiB to several MiB (sizes
 * spread evenly over the powers of two, so that small and large ones
 * both matter) with random lifetimes, writing every page of each object,
 * for a while; then each thread frees what it holds and exits. Whatever allocator the binary
 * is linked with (glibc malloc by default; jemalloc, tcmalloc statically,
 * or any through LD_PRELOAD) decides what goes back to the kernel and
 * how: munmap() frees the page tables of a span, MADV_DONTNEED and
 * MADV_FREE keep them.
 *
 * Prints, as "churn,PHASE,METRIC,VALUE" lines:
 *   peak      VmPTE, VmRSS at the end of the churn (kB), and ops/s
 *   freed     the same after every object was freed (and, with -T, after
 *             malloc_trim(0), in the glibc build: another allocator
 *             linked statically must be built with -DCHURN_NO_TRIM, as
 *             the call would pull glibc's malloc in beside it)
 *   idle      the same after -w SECONDS more, doing nothing (what an
 *             allocator's delayed purging, a preloaded library or an
 *             operator's periodic ptreclaim gave back meanwhile)
 *   reclaimed after madvise(MADV_PT_RECLAIM) over every mapping of the
 *             process (with -R; EINVAL there means a kernel without it)
 *   fresh     VmPTE of the process before it allocated anything
 *
 * usage: churn [-t THREADS] [-s SECONDS] [-m MIB] [-x MAX_KIB] [-S SEED]
 *              [-w SECONDS] [-R] [-T]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

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

static void report(const char *phase)
{
	printf("churn,%s,vmpte_kb,%ld\n", phase, status_kb("VmPTE"));
	printf("churn,%s,vmrss_kb,%ld\n", phase, status_kb("VmRSS"));
}

/*
 * MADV_PT_RECLAIM over every mapping of the process, read from
 * /proc/self/maps into a buffer first (the calls do not change the
 * mappings, but reading while calling would be fragile anyway).
 * Returns the number of calls that failed with EINVAL, -1 when none was
 * made.
 */
static int reclaim_all(void)
{
	static unsigned long start[65536], end[65536];
	char line[512];
	int n = 0, i, einval = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		die("/proc/self/maps");
	while (n < 65536 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &start[n], &end[n]) == 2)
			n++;
	fclose(f);
	for (i = 0; i < n; i++)
		if (madvise((void *)start[i], end[i] - start[i],
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
		"  -T  call malloc_trim(0) after freeing (glibc)\n");
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
#ifndef CHURN_NO_TRIM
	if (trim)
		malloc_trim(0);
#else
	if (trim)
		printf("# churn: -T: built without malloc_trim (another allocator)\n");
#endif
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
