// SPDX-License-Identifier: GPL-2.0
/*
 * Allocators against MADV_PT_RECLAIM, in the guest (harness/alloc.sh).
 *
 * usage: alloc-test [-c] [-s SECONDS] [-t THREADS] [-w SECONDS]
 *
 * Runs /t/churn (allocators/churn.c, linked dynamically against glibc)
 * under each allocator, preloaded from the Debian packages copied into
 * the initramfs, and each way of reclaiming:
 *
 *   none      the allocator alone
 *   self      churn calls madvise(MADV_PT_RECLAIM) over its mappings once
 *             everything is freed (what an allocator would do after a
 *             purge of its own)
 *   operator  ptreclaim --self -i 1 runs churn and reclaims in it every
 *             second (tools/mm/ptreclaim, process_madvise())
 *   preload   LD_PRELOAD of allocators/preload's libptreclaim.so
 *
 * and prints "alloc,ALLOCATOR,METHOD,METRIC,VALUE" lines (VmPTE and
 * VmRSS fresh, at the peak and at the end; churn operations per second).
 *
 * -c: instead, the checks of the preload library, as KTAP: it frees the
 * tables jemalloc's purges leave, PT_RECLAIM_DISABLE=1 turns it off, its
 * counters say what it did. (Its behaviour on a kernel without the
 * feature is checked on the host: harness/tests/preload.sh.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"

#define LIBDIR	"/usr/lib/x86_64-linux-gnu"
#define PRELOAD	"/t/libptreclaim.so"

struct allocator {
	const char *name, *lib, *env;
};

static const struct allocator allocators[] = {
	{ "glibc", NULL, NULL },
	{ "jemalloc", LIBDIR "/libjemalloc.so.2", NULL },
	/* purging by decay (10 s) also when the program is idle */
	{ "jemalloc-background", LIBDIR "/libjemalloc.so.2",
	  "MALLOC_CONF=background_thread:true" },
	/* purge at once, with MADV_FREE and then MADV_DONTNEED */
	{ "jemalloc-immediate", LIBDIR "/libjemalloc.so.2",
	  "MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0" },
	{ "tcmalloc", LIBDIR "/libtcmalloc_minimal.so.4", NULL },
	{ "tcmalloc-aggressive", LIBDIR "/libtcmalloc_minimal.so.4",
	  "TCMALLOC_AGGRESSIVE_DECOMMIT=true" },
	{ "mimalloc", LIBDIR "/libmimalloc.so.2", NULL },
};

enum method { NONE, SELF, OPERATOR, PRELOAD_LIB, NMETHODS };
static const char *const method_name[] = { "none", "self", "operator", "preload" };

static const char *seconds = "3", *threads = "4", *wait_s = "2";

/* What one run gave: -1 where churn did not say. */
struct result {
	long fresh, peak_pte, peak_rss, end_pte, end_rss, ops;
	long purges, batches, calls, failed;	/* libptreclaim's counters */
	int status;
};

static void parse(char *line, struct result *r)
{
	char phase[32], metric[32];
	long v;

	if (sscanf(line, "libptreclaim: %ld purges seen, %ld batches, %ld MADV_PT_RECLAIM calls, %ld failed",
		   &r->purges, &r->batches, &r->calls, &r->failed) == 4)
		return;
	if (sscanf(line, "churn,%31[^,],%31[^,],%ld", phase, metric, &v) != 3)
		return;
	if (!strcmp(phase, "fresh"))
		r->fresh = v;
	else if (!strcmp(phase, "peak") && !strcmp(metric, "vmpte_kb"))
		r->peak_pte = v;
	else if (!strcmp(phase, "peak") && !strcmp(metric, "vmrss_kb"))
		r->peak_rss = v;
	else if (!strcmp(phase, "peak"))
		r->ops = v;
	/* the last phase printed is the end: freed, idle or reclaimed */
	else if (!strcmp(metric, "vmpte_kb"))
		r->end_pte = v;
	else if (!strcmp(metric, "vmrss_kb"))
		r->end_rss = v;
}

/*
 * Run churn under @a and @m, with @extra_env (or NULL) on top; its
 * output (stdout and stderr) goes to the console as comments.
 */
static struct result run(const struct allocator *a, enum method m,
			 const char *extra_env)
{
	struct result r = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
	char preload[256] = "", *argv[16], line[512];
	int p[2], i = 0, st;
	FILE *f;
	pid_t pid;

	if (m == PRELOAD_LIB)
		snprintf(preload, sizeof(preload), "%s%s%s", PRELOAD,
			 a->lib ? " " : "", a->lib ? a->lib : "");
	else if (a->lib)
		snprintf(preload, sizeof(preload), "%s", a->lib);
	if (m == OPERATOR) {
		argv[i++] = "/t/ptreclaim";
		argv[i++] = "-i";
		argv[i++] = "1";
		argv[i++] = "--self";
		argv[i++] = "--";
	}
	argv[i++] = "/t/churn";
	argv[i++] = "-t";
	argv[i++] = (char *)threads;
	argv[i++] = "-s";
	argv[i++] = (char *)seconds;
	if (m == SELF) {
		argv[i++] = "-R";
	} else {
		argv[i++] = "-w";
		argv[i++] = (char *)wait_s;
	}
	argv[i] = NULL;

	if (pipe(p))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		setenv("LD_LIBRARY_PATH", "/lib/x86_64-linux-gnu:" LIBDIR, 1);
		if (*preload)
			setenv("LD_PRELOAD", preload, 1);
		if (m == PRELOAD_LIB)
			setenv("PT_RECLAIM_STATS", "1", 1);
		if (a->env)
			putenv((char *)a->env);
		if (extra_env)
			putenv((char *)extra_env);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		ksft_print_msg("%s %s: %s", a->name, method_name[m], line);
		parse(line, &r);
	}
	if (f)
		fclose(f);
	waitpid(pid, &st, 0);
	r.status = st;
	return r;
}

static const struct allocator *allocator(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++)
		if (!strcmp(allocators[i].name, name))
			return &allocators[i];
	ksft_exit_fail_msg("no allocator %s\n", name);
}

static void matrix(void)
{
	unsigned int i;
	int m;

	/* unrecorded: TCG translates code on first use */
	run(&allocators[0], NONE, NULL);
	for (i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++) {
		for (m = 0; m < NMETHODS; m++) {
			const char *a = allocators[i].name, *mn = method_name[m];
			struct result r = run(&allocators[i], m, NULL);

			if (r.status || r.end_pte < 0)
				ksft_exit_fail_msg("%s %s: churn failed (status %#x)\n",
						   a, mn, r.status);
			printf("alloc,%s,%s,fresh_vmpte_kb,%ld\n", a, mn, r.fresh);
			printf("alloc,%s,%s,peak_vmpte_kb,%ld\n", a, mn, r.peak_pte);
			printf("alloc,%s,%s,end_vmpte_kb,%ld\n", a, mn, r.end_pte);
			printf("alloc,%s,%s,peak_vmrss_kb,%ld\n", a, mn, r.peak_rss);
			printf("alloc,%s,%s,end_vmrss_kb,%ld\n", a, mn, r.end_rss);
			printf("alloc,%s,%s,ops_per_s,%ld\n", a, mn, r.ops);
			fflush(stdout);
		}
	}
}

/* The preload library's checks, on jemalloc purging at once. */
static void checks(void)
{
	const struct allocator *je = allocator("jemalloc-immediate");
	struct result on, off;
	long built, kept;

	ksft_print_header();
	ksft_set_plan(3);

	/*
	 * Batches of 16 MiB: what the last, unfinished batch leaves is
	 * small against the tables built.
	 */
	on = run(je, PRELOAD_LIB, "PT_RECLAIM_BATCH_MB=16");
	built = on.peak_pte - on.fresh;
	kept = on.end_pte - on.fresh;
	ksft_print_msg("with the library: %ld kB of tables built, %ld kept\n",
		       built, kept);
	/* 4-7% kept seen: jemalloc's own tables, the last batch */
	ksft_test_result(!on.status && built > 0 && on.end_pte >= 0 &&
			 kept * 5 <= built,
			 "preload: jemalloc keeps at most a fifth of the tables it built\n");

	off = run(je, PRELOAD_LIB, "PT_RECLAIM_DISABLE=1");
	built = off.peak_pte - off.fresh;
	kept = off.end_pte - off.fresh;
	ksft_print_msg("PT_RECLAIM_DISABLE=1: %ld kB built, %ld kept\n",
		       built, kept);
	/*
	 * MADV_DONTNEED's own reclaim (vm.pt_reclaim_dontneed, on by
	 * default) frees the tables a purge covers whole: about half of
	 * them are kept here (48-56% seen).
	 */
	ksft_test_result(!off.status && built > 0 && kept * 4 >= built &&
			 off.calls == 0,
			 "preload: PT_RECLAIM_DISABLE=1 turns it off (a quarter of the tables or more kept, no call)\n");

	ksft_test_result(on.purges > 0 && on.batches > 0 &&
			 on.calls >= on.batches && on.failed == 0,
			 "preload: counters: %ld purges seen, %ld batches, %ld calls, %ld failed\n",
			 on.purges, on.batches, on.calls, on.failed);
	ksft_finished();
}

int main(int argc, char **argv)
{
	bool check = false;
	int c;

	while ((c = getopt(argc, argv, "cs:t:w:")) != -1) {
		switch (c) {
		case 'c': check = true; break;
		case 's': seconds = optarg; break;
		case 't': threads = optarg; break;
		case 'w': wait_s = optarg; break;
		default:
			fprintf(stderr, "usage: alloc-test [-c] [-s SECONDS] [-t THREADS] [-w SECONDS]\n");
			return 2;
		}
	}
	if (check)
		checks();
	matrix();
	return 0;
}
