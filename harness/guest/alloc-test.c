// SPDX-License-Identifier: GPL-2.0
/*
 * Allocators against MADV_PT_RECLAIM, in the guest (harness/alloc.sh).
 *
 * usage: alloc-test [-c | -d | -n] [-r RUNS] [-s SECONDS] [-t THREADS] [-w SECONDS]
 *
 * Runs /t/churn (allocators/churn.c, linked dynamically against glibc)
 * under each allocator, preloaded from the Debian packages copied into
 * the initramfs, and /t/churn-go (allocators/go/churn.go: the Go
 * runtime's heap; no preload method), each way of reclaiming:
 *
 *   stock     the allocator alone, with vm.pt_reclaim_dontneed=0: what
 *             the kernel without this series keeps (MADV_DONTNEED frees
 *             no table)
 *   none      the allocator alone (MADV_DONTNEED frees the tables it
 *             covers whole: vm.pt_reclaim_dontneed=1, the default)
 *   self      churn calls madvise(MADV_PT_RECLAIM) over its mappings once
 *             everything is freed (what an allocator would do after a
 *             purge of its own)
 *   operator  ptreclaim --self -i 1 runs churn and reclaims in it every
 *             second (tools/mm/ptreclaim, process_madvise())
 *   preload   LD_PRELOAD of allocators/preload's libptreclaim.so
 *   hooks     jemalloc only: allocators/jemalloc's libptreclaim-jemalloc.so,
 *             jemalloc's extent hooks (the native integration)
 *
 * RUNS times (default 1), and prints "alloc,RUN,ALLOCATOR,METHOD,METRIC,VALUE"
 * lines: VmPTE fresh, at the peak and at the end, the tables that still
 * map a page at the end (churn's used_tables_kb), VmRSS at the peak and
 * at the end, churn operations per second, and for the libraries their
 * MADV_PT_RECLAIM calls and the time spent in them.
 *
 * -c: instead, the checks of the two libraries, as KTAP: they free the
 * tables jemalloc's purges leave, PT_RECLAIM_DISABLE=1 turns them off,
 * their counters say what they did.
 * -d: instead, the database pattern: allocators/reuse.c for SECONDS under
 * each way of releasing (reuse_matrix()), RUNS times.
 * -n: the checks for a kernel without MADV_PT_RECLAIM (harness/alloc.sh
 * runs it under harness/tests/no-pt-reclaim, whose seccomp filter answers
 * the advice with EINVAL as such a kernel does): each library makes one
 * call, gets EINVAL, makes no other, says nothing unless asked, and churn
 * runs to the end. On the test kernel a call that got through would
 * succeed: "one call, failed" shows the filter held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"

#define LIBDIR	"/usr/lib/x86_64-linux-gnu"
#define PRELOAD	"/t/libptreclaim.so"
#define HOOKS	"/t/libptreclaim-jemalloc.so"

struct allocator {
	const char *name, *lib, *env;
	bool release;	/* churn -T: ask it to give free memory back */
	bool jemalloc;	/* the hooks method applies */
	const char *prog;	/* not churn through libc: no preload method */
};

static const struct allocator allocators[] = {
	{ "glibc", NULL, NULL, false, false, NULL },
	{ "jemalloc", LIBDIR "/libjemalloc.so.2", NULL, false, true, NULL },
	/* purging by decay (10 s) also when the program is idle */
	{ "jemalloc-background", LIBDIR "/libjemalloc.so.2",
	  "MALLOC_CONF=background_thread:true", false, true, NULL },
	/* purge at once, with MADV_FREE and then MADV_DONTNEED */
	{ "jemalloc-immediate", LIBDIR "/libjemalloc.so.2",
	  "MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0", false, true, NULL },
	{ "tcmalloc", LIBDIR "/libtcmalloc_minimal.so.4", NULL, false, false, NULL },
	{ "tcmalloc-aggressive", LIBDIR "/libtcmalloc_minimal.so.4",
	  "TCMALLOC_AGGRESSIVE_DECOMMIT=true", false, false, NULL },
	/* MallocExtension_ReleaseFreeMemory() once everything is freed */
	{ "tcmalloc-release", LIBDIR "/libtcmalloc_minimal.so.4", NULL,
	  true, false, NULL },
	{ "mimalloc", LIBDIR "/libmimalloc.so.2", NULL, false, false, NULL },
	/* mi_collect(true) once everything is freed */
	{ "mimalloc-collect", LIBDIR "/libmimalloc.so.2", NULL, true, false, NULL },
	/*
	 * The Go runtime (allocators/go/churn.go, static): its scavenger's
	 * MADV_DONTNEED calls bypass libc; FreeOSMemory() after the free.
	 * Its GC lets the heap grow to twice the live data (GOGC=100), and
	 * churn's 1 GiB live would pass the guest's memory: a limit the
	 * GC keeps to. THP off for it in run() (below): the C allocators
	 * never ask for huge pages, Go does.
	 */
	{ "go", NULL, "GOMEMLIMIT=1300MiB", false, false, "/t/churn-go" },
};

enum method { STOCK, NONE, SELF, OPERATOR, PRELOAD_LIB, HOOKS_LIB, NMETHODS };
static const char *const method_name[] = {
	"stock", "none", "self", "operator", "preload", "hooks"
};

#define DONTNEED_SYSCTL "/proc/sys/vm/pt_reclaim_dontneed"

static void set_dontneed(const char *v)
{
	FILE *f = fopen(DONTNEED_SYSCTL, "w");

	if (!f || fputs(v, f) < 0 || fclose(f))
		ksft_exit_fail_msg("%s: %s\n", DONTNEED_SYSCTL, strerror(errno));
}

static const char *seconds = "3", *threads = "4", *wait_s = "2";

/* What one run gave: -1 where churn or the library did not say. */
struct result {
	long fresh, peak_pte, peak_rss, end_pte, end_used, end_rss, ops;
	/* the library's counters; lines it printed */
	long purges, batches, calls, failed, holes, us, said;
	int status;
};

static void parse(char *line, struct result *r)
{
	char phase[32], metric[32];
	long v;

	if (!strncmp(line, "libptreclaim", 12))
		r->said++;
	if (sscanf(line, "%*[a-z-]: %ld purges seen, %ld batches, %ld MADV_PT_RECLAIM calls, %ld failed, %ld over a hole, %ld us in the calls",
		   &r->purges, &r->batches, &r->calls, &r->failed, &r->holes,
		   &r->us) == 6)
		return;
	if (sscanf(line, "churn,%31[^,],%31[^,],%ld", phase, metric, &v) != 3)
		return;
	if (!strcmp(phase, "fresh"))
		r->fresh = v;
	else if (!strcmp(phase, "peak") && !strcmp(metric, "vmpte_kb"))
		r->peak_pte = v;
	else if (!strcmp(phase, "peak") && !strcmp(metric, "vmrss_kb"))
		r->peak_rss = v;
	else if (!strcmp(phase, "peak") && !strcmp(metric, "ops_per_s"))
		r->ops = v;
	else if (!strcmp(phase, "peak"))
		return;
	/* the last phase printed is the end: freed, idle or reclaimed */
	else if (!strcmp(metric, "vmpte_kb"))
		r->end_pte = v;
	else if (!strcmp(metric, "used_tables_kb"))
		r->end_used = v;
	else if (!strcmp(metric, "vmrss_kb"))
		r->end_rss = v;
}

/*
 * Start argv[0] with its stdout (and its stderr with @merge_stderr) into
 * a pipe, after @setup(@arg) in the child when given; its output, to be
 * read to the end and passed to reap().
 */
static FILE *spawn(char *const argv[], bool merge_stderr,
		   void (*setup)(const void *), const void *arg, pid_t *pid)
{
	int p[2];
	FILE *f;

	if (pipe(p))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	*pid = fork();
	if (*pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!*pid) {
		dup2(p[1], 1);
		if (merge_stderr)
			dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (setup)
			setup(arg);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f)
		ksft_exit_fail_msg("fdopen: %s\n", strerror(errno));
	return f;
}

/* Close what spawn() gave and wait for the child: its wait status. */
static int reap(FILE *f, pid_t pid)
{
	int st;

	fclose(f);
	if (waitpid(pid, &st, 0) != pid)
		ksft_exit_fail_msg("waitpid: %s\n", strerror(errno));
	return st;
}

/* What run() sets up in the child, before the exec. */
struct churn_env {
	const struct allocator *a;
	enum method m;
	const char *preload, *extra_env;
};

static void churn_setup(const void *arg)
{
	const struct churn_env *c = arg;

	setenv("LD_LIBRARY_PATH", "/lib/x86_64-linux-gnu:" LIBDIR, 1);
	if (*c->preload)
		setenv("LD_PRELOAD", c->preload, 1);
	if (c->m == PRELOAD_LIB || c->m == HOOKS_LIB)
		setenv("PT_RECLAIM_STATS", "1", 1);
	/*
	 * Go 1.19 asks MADV_HUGEPAGE for the heap it reuses
	 * (runtime/mem_linux.go) and the test kernel has THP in madvise
	 * mode: its heap would need few PTE tables, unlike the C
	 * allocators', which never ask. Off, so that all compare; the
	 * setting outlives the exec.
	 */
	if (c->a->prog && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		_exit(126);
	if (c->a->env)
		putenv((char *)c->a->env);
	/* NAME=VALUE words; the copy lives until the exec */
	if (c->extra_env) {
		char *e = strdup(c->extra_env), *save = NULL, *w;

		for (w = strtok_r(e, " ", &save); w;
		     w = strtok_r(NULL, " ", &save))
			putenv(w);
	}
}

/*
 * Run churn under @a and @m, with @extra_env (NAME=VALUE words, or
 * NULL) on top; its output (stdout and stderr) goes to the console as
 * comments.
 */
static struct result run(const struct allocator *a, enum method m,
			 const char *extra_env)
{
	struct result r = {
		.fresh = -1, .peak_pte = -1, .peak_rss = -1, .end_pte = -1,
		.end_used = -1, .end_rss = -1, .ops = -1,
		.purges = -1, .batches = -1, .calls = -1, .failed = -1,
		.holes = -1, .us = -1, .said = 0, .status = -1,
	};
	char preload[256] = "", *argv[16], line[512];
	struct churn_env env = { a, m, preload, extra_env };
	int i = 0;
	FILE *f;
	pid_t pid;

	if (m == PRELOAD_LIB)
		snprintf(preload, sizeof(preload), "%s%s%s", PRELOAD,
			 a->lib ? " " : "", a->lib ? a->lib : "");
	else if (m == HOOKS_LIB)
		snprintf(preload, sizeof(preload), "%s %s", a->lib, HOOKS);
	else if (a->lib)
		snprintf(preload, sizeof(preload), "%s", a->lib);
	if (m == OPERATOR) {
		argv[i++] = "/t/ptreclaim";
		argv[i++] = "-i";
		argv[i++] = "1";
		argv[i++] = "--self";
		argv[i++] = "--";
	}
	argv[i++] = a->prog ? (char *)a->prog : "/t/churn";
	argv[i++] = "-t";
	argv[i++] = (char *)threads;
	argv[i++] = "-s";
	argv[i++] = (char *)seconds;
	if (a->release)
		argv[i++] = "-T";
	if (m == SELF) {
		argv[i++] = "-R";
	} else {
		argv[i++] = "-w";
		argv[i++] = (char *)wait_s;
	}
	argv[i] = NULL;

	if (m == STOCK)
		set_dontneed("0");
	f = spawn(argv, true, churn_setup, &env, &pid);
	while (fgets(line, sizeof(line), f)) {
		ksft_print_msg("%s %s: %s", a->name, method_name[m], line);
		parse(line, &r);
	}
	r.status = reap(f, pid);
	if (m == STOCK)
		set_dontneed("1");
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

static void matrix(int runs)
{
	unsigned int i;
	int m, k;

	for (k = 1; k <= runs; k++) {
		for (i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++) {
			const char *s = seconds, *w = wait_s;

			/* unrecorded: TCG translates code on first use */
			seconds = "1";
			wait_s = "0";
			run(&allocators[i], NONE, NULL);
			seconds = s;
			wait_s = w;
			for (m = 0; m < NMETHODS; m++) {
				const struct allocator *a = &allocators[i];
				struct result r;

				if ((m == HOOKS_LIB && !a->jemalloc) ||
				    (m == PRELOAD_LIB && a->prog))
					continue;
				r = run(a, m, NULL);
				if (r.status || r.end_pte < 0)
					ksft_exit_fail_msg("%s %s: churn failed (status %#x)\n",
							   a->name, method_name[m], r.status);
#define OUT(metric, v) printf("alloc,%d,%s,%s," metric ",%ld\n", k, a->name, method_name[m], v)
				OUT("fresh_vmpte_kb", r.fresh);
				OUT("peak_vmpte_kb", r.peak_pte);
				OUT("end_vmpte_kb", r.end_pte);
				OUT("end_used_kb", r.end_used);
				OUT("peak_vmrss_kb", r.peak_rss);
				OUT("end_vmrss_kb", r.end_rss);
				OUT("ops_per_s", r.ops);
				OUT("calls", r.calls);
				OUT("us_in_calls", r.us);
#undef OUT
				fflush(stdout);
			}
		}
	}
}

/*
 * On a kernel with the feature, each library with jemalloc purging at
 * once: the tables go, PT_RECLAIM_DISABLE=1 keeps them, the counters
 * add up. Batches of 16 MiB: what the last, unfinished batch leaves is
 * small against the tables built.
 */
static void check_lib(enum method m)
{
	const struct allocator *je = allocator("jemalloc-immediate");
	const char *mn = method_name[m];
	struct result on, off;
	long built, kept;

	on = run(je, m, "PT_RECLAIM_BATCH_MB=16");
	built = on.peak_pte - on.fresh;
	kept = on.end_pte - on.fresh;
	ksft_print_msg("%s: %ld kB of tables built, %ld kept\n", mn, built, kept);
	/*
	 * Kept with the library on: jemalloc's own tables, the last batch
	 * (3.6-8.9% in 20 runs of one boot, 2026-12-05). Off, MADV_DONTNEED's
	 * own reclaim (vm.pt_reclaim_dontneed, on by default) frees only the
	 * tables a purge covers whole: about half are kept (44-56% in the
	 * same runs; CI once saw less than two fifths). A fifth tells them
	 * apart with room on both sides: a library that frees less than
	 * three fifths of what the purges leave fails.
	 */
	ksft_test_result(!on.status && built > 0 && on.end_pte >= 0 &&
			 kept * 5 < built,
			 "%s: jemalloc keeps less than a fifth of the tables it built (%ld of %ld kB)\n",
			 mn, kept, built);

	off = run(je, m, "PT_RECLAIM_DISABLE=1");
	built = off.peak_pte - off.fresh;
	kept = off.end_pte - off.fresh;
	ksft_print_msg("%s, PT_RECLAIM_DISABLE=1: %ld kB built, %ld kept\n",
		       mn, built, kept);
	ksft_test_result(!off.status && built > 0 && kept * 5 >= built &&
			 off.calls == 0,
			 "%s: PT_RECLAIM_DISABLE=1 turns it off (a fifth of the tables or more kept: %ld of %ld kB; %ld calls, want 0)\n",
			 mn, kept, built, off.calls);

	ksft_test_result(on.purges > 0 && on.batches > 0 &&
			 on.calls >= on.batches && on.failed == 0 && on.us >= 0,
			 "%s: counters: %ld purges seen, %ld batches, %ld calls, %ld failed, %ld us in them\n",
			 mn, on.purges, on.batches, on.calls, on.failed, on.us);
}

/*
 * On a kernel without the feature: the first call, the probe at start,
 * gets EINVAL and is the last; without PT_RECLAIM_STATS the library
 * prints nothing; churn runs to its end either way. Batches of 1 MiB:
 * without the switch-off there would be hundreds of calls.
 */
static void check_lib_nofeature(enum method m)
{
	const struct allocator *je = allocator("jemalloc-immediate");
	const char *mn = method_name[m];
	struct result r;

	r = run(je, m, "PT_RECLAIM_BATCH_MB=1");
	ksft_test_result(!r.status && r.end_pte >= 0 && r.batches == 0 &&
			 r.calls == 1 && r.failed == 1,
			 "%s: no MADV_PT_RECLAIM: one call, EINVAL, then off (%ld purges seen, %ld batches, %ld calls, %ld failed)\n",
			 mn, r.purges, r.batches, r.calls, r.failed);

	r = run(je, m, "PT_RECLAIM_BATCH_MB=1 PT_RECLAIM_STATS=0");
	ksft_test_result(!r.status && r.end_pte >= 0 && r.said == 0,
			 "%s: no MADV_PT_RECLAIM: quiet, and churn ran to its end\n", mn);
}

/*
 * The database pattern (-d): /t/reuse (allocators/reuse.c) under each
 * way of giving its extents back, RUNS times: stock (MADV_DONTNEED,
 * vm.pt_reclaim_dontneed=0), none (MADV_DONTNEED with the reclaim on,
 * the default), periodic and periodic-0.1 (and MADV_PT_RECLAIM over the
 * reservation every second, every tenth of a second), spans (and
 * MADV_PT_RECLAIM over each release rounded out to table spans), mmap
 * (an mmap() per extent, munmap() to release). Its lines
 * as "reuse,RUN,METHOD,..."; a failed run ends the test.
 */
static void reuse_matrix(int runs)
{
	static const char *const methods[][4] = {
		/* method, reuse -m, vm.pt_reclaim_dontneed, reuse -p */
		{ "stock", "dontneed", "0", "1" },
		{ "none", "dontneed", "1", "1" },
		{ "periodic", "periodic", "1", "1" },
		{ "periodic-0.1", "periodic", "1", "0.1" },
		{ "spans", "spans", "1", "1" },
		{ "mmap", "mmap", "1", "1" },
	};
	char line[256];
	unsigned int i;
	int k, st;
	pid_t pid;
	FILE *f;

	for (k = 1; k <= runs; k++) {
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			char *argv[] = {
				"/t/reuse", "-m", (char *)methods[i][1],
				"-p", (char *)methods[i][3], "-s", (char *)seconds,
				NULL
			};

			set_dontneed(methods[i][2]);
			f = spawn(argv, false, NULL, NULL, &pid);
			while (fgets(line, sizeof(line), f))
				if (!strncmp(line, "reuse,", 6))
					printf("reuse,%d,%s,%s", k, methods[i][0], line + 6);
			fflush(stdout);
			st = reap(f, pid);
			set_dontneed("1");
			if (st)
				ksft_exit_fail_msg("reuse -m %s failed (status %#x)\n",
						   methods[i][1], st);
		}
	}
}

int main(int argc, char **argv)
{
	bool check = false, nofeature = false, reuse = false;
	int c, runs = 1;

	while ((c = getopt(argc, argv, "cdnr:s:t:w:")) != -1) {
		switch (c) {
		case 'c': check = true; break;
		case 'd': reuse = true; break;
		case 'n': nofeature = true; break;
		case 'r': runs = atoi(optarg); break;
		case 's': seconds = optarg; break;
		case 't': threads = optarg; break;
		case 'w': wait_s = optarg; break;
		default:
			fprintf(stderr, "usage: alloc-test [-c | -d | -n] [-r RUNS] [-s SECONDS] [-t THREADS] [-w SECONDS]\n");
			return 2;
		}
	}
	if (check || nofeature) {
		ksft_print_header();
		ksft_set_plan(check ? 6 : 4);
		if (check) {
			check_lib(PRELOAD_LIB);
			check_lib(HOOKS_LIB);
		} else {
			check_lib_nofeature(PRELOAD_LIB);
			check_lib_nofeature(HOOKS_LIB);
		}
		ksft_finished();
	}
	if (runs < 1)
		ksft_exit_fail_msg("-r %d: want 1 or more runs\n", runs);
	if (reuse)
		reuse_matrix(runs);
	else
		matrix(runs);
	return 0;
}
