// SPDX-License-Identifier: GPL-2.0
/*
 * ptreclaim: free the empty page tables of running processes.
 *
 * A process that touches memory sparsely and gives it back with
 * MADV_DONTNEED, as memory allocators do, keeps the page tables that
 * mapped it. ptreclaim has the kernel free those that map nothing, with
 * process_madvise(MADV_PT_RECLAIM) over the process's mappings. The
 * process is not disturbed: its memory stays as it was, and a table that
 * was freed is allocated again on the next fault in its span. See
 * Documentation/admin-guide/mm/pt_reclaim.rst.
 *
 * Build: make -C tools/mm ptreclaim
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	EXIT_SOME_FAILED = 1,	/* some process could not be reclaimed */
	EXIT_USAGE = 2,
	EXIT_UNSUPPORTED = 3,	/* the kernel has no MADV_PT_RECLAIM */
};

static const char usage_text[] =
"usage: ptreclaim [-n] [-v] PID...\n"
"       ptreclaim [-v] [-i SECONDS] --self -- COMMAND [ARG...]\n"
"       ptreclaim [-v] [-m] [-t KB] [-i SECONDS] --all\n"
"       ptreclaim [-v] [-m] [-t KB] [-i SECONDS] --cgroup PATH\n"
"\n"
"Free the page tables of running processes that map nothing (such as\n"
"those left behind when a memory allocator returns memory with\n"
"MADV_DONTNEED), with process_madvise(MADV_PT_RECLAIM) over every\n"
"mapping of the process. The memory of the process is not touched: a\n"
"freed table is allocated again when the process faults in its span.\n"
"For each PID, prints VmPTE (from /proc/PID/status) before and after,\n"
"and the number of tables that makes.\n"
"\n"
"  PID...            reclaim once in each of these processes\n"
"  --self -- COMMAND run COMMAND and reclaim in it every SECONDS until it\n"
"                    exits; passes on its exit status\n"
"  --all             reclaim in every process (but this one) that holds\n"
"                    KB of page tables or more; a summary line per pass;\n"
"                    processes it may not reclaim in, or that exited,\n"
"                    are counted, not fatal (listed with -v)\n"
"  --cgroup PATH     as --all, over the processes of the cgroup v2\n"
"                    directory PATH and of every cgroup below it (read\n"
"                    again at each pass)\n"
"  -i, --interval SECONDS\n"
"                    with --self: time between passes (default 10,\n"
"                    fractions allowed); with --all or --cgroup: pass\n"
"                    again every SECONDS until SIGINT or SIGTERM\n"
"                    (default: once)\n"
"  -t, --threshold KB\n"
"                    with --all or --cgroup: skip processes whose VmPTE\n"
"                    is below KB (default 1024)\n"
"  -m, --machine     with --all or --cgroup: also a line per process at\n"
"                    or above the threshold,\n"
"                    \"ptreclaim: pid=N status=S vmpte_kb=N after_kb=N\n"
"                    tables_freed=N comm=NAME\", S one of ok, gone,\n"
"                    denied, error\n"
"  -n, --dry-run     change nothing: show the mappings that would be\n"
"                    scanned and the page tables the process holds now\n"
"  -v, --verbose     list the address ranges; with --self, also report\n"
"                    passes that freed nothing\n"
"  -h, --help        this text\n"
"\n"
"Needs a kernel with MADV_PT_RECLAIM (CONFIG_MADV_PT_RECLAIM), and for\n"
"another process: ptrace read access to it (same user, or\n"
"CAP_SYS_PTRACE) and CAP_SYS_NICE, as process_madvise() requires.\n"
"Running as root gives both.\n"
"\n"
"Exit status:\n"
"  0  every process was reclaimed (or, with -n, read)\n"
"  1  some process could not be: it is gone, permission was denied, or\n"
"     another error; a message names the process and the reason\n"
"  2  usage error (a --cgroup PATH that is not a cgroup v2 directory, or\n"
"     is a threaded cgroup, too)\n"
"  3  the running kernel does not support MADV_PT_RECLAIM\n"
"  With --self: the exit status of COMMAND (128+N when killed by signal\n"
"  N), 126 or 127 when it cannot be run, or 1 or 3 as above when\n"
"  ptreclaim cannot start. With --all or --cgroup: 1 when a process of\n"
"  the last pass could not be reclaimed in for another reason than its\n"
"  exit, or the processes could not be listed (the cgroup was removed);\n"
"  0 when stopped by SIGINT or SIGTERM.\n";

static bool verbose;
static unsigned long page_size;
static unsigned long table_kb;		/* VmPTE of one PTE table */
static unsigned long table_span;	/* what one PTE table maps */

/*
 * A PTE table maps table_span bytes. Tables are one page of 8-byte
 * entries on the 64-bit architectures, except on s390, where they are
 * 2 KiB (256 entries). No piece of a request ever splits a span.
 */
static void table_geometry(void)
{
	struct utsname u;

	page_size = sysconf(_SC_PAGESIZE);
	table_kb = page_size / 1024;
	if (uname(&u) == 0 && !strcmp(u.machine, "s390x"))
		table_kb = 2;
	table_span = table_kb * 1024 / 8 * page_size;
}

struct range {
	unsigned long start, end;
};

struct target {
	pid_t pid;
	int pidfd;
	char comm[64];
	struct range *ranges;
	size_t nr_ranges;
	unsigned long bytes;	/* the size of all ranges */
	unsigned long spans;	/* the table spans they touch */
	long vmpte_kb;		/* -1: no VmPTE line (kernel thread) */
};

static int sys_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/*
 * Has the process exited? Its pidfd becomes readable then (a zombie's
 * too). Unlike a signal 0, asking needs no permission to kill it (a
 * service without CAP_KILL reclaims in other users' processes).
 */
static bool pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

static ssize_t sys_process_madvise(int pidfd, const struct iovec *iov,
				   size_t n)
{
	return syscall(SYS_process_madvise, pidfd, iov, n, MADV_PT_RECLAIM, 0);
}

/* "2.5 GiB" */
static const char *human(unsigned long bytes, char *buf, size_t len)
{
	static const char * const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = bytes;
	unsigned int i = 0;

	while (v >= 1024 && i < ARRAY_SIZE(unit) - 1) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
	return buf;
}

/*
 * Does this kernel know the advice? madvise() checks the advice before
 * anything else and does nothing for an empty range.
 */
static bool kernel_supports(void)
{
	return madvise(NULL, 0, MADV_PT_RECLAIM) == 0;
}

static bool have_cap_sys_nice(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &
	       CAP_TO_MASK(CAP_SYS_NICE);
}

static const char no_ptrace[] =
	"permission denied: needs ptrace read access to it (its user, root or CAP_SYS_PTRACE)";

/* The reason, for the errors (negative) process_madvise() and /proc give. */
static const char *explain(int err)
{
	switch (-err) {
	case ESRCH:
	case ENOENT:
		return "no such process (it exited)";
	case EACCES:
		return no_ptrace;
	case EPERM:
		return "permission denied: process_madvise() needs CAP_SYS_NICE (run as root)";
	case EINVAL:
		return "the kernel does not support MADV_PT_RECLAIM (CONFIG_MADV_PT_RECLAIM)";
	default:
		return strerror(-err);
	}
}

static void report(const struct target *t, const char *fmt, ...)
{
	va_list ap;

	printf("%d (%s): ", t->pid, t->comm);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void report_error(const struct target *t, const char *what, int err)
{
	fflush(stdout);
	fprintf(stderr, "ptreclaim: %d (%s): %s%s%s\n", t->pid, t->comm,
		what ? what : "", what ? ": " : "", explain(err));
}

/* Read one line of /proc/PID/FILE into buf; 0 or -errno. */
static int read_proc_line(pid_t pid, const char *file, const char *key,
			  char *buf, size_t len)
{
	char path[64];
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(buf, len, f)) {
		if (!key || !strncmp(buf, key, strlen(key))) {
			buf[strcspn(buf, "\n")] = '\0';
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

/* VmPTE in kB; -1 when there is none (kernel thread) or on error. */
static long read_vmpte(pid_t pid)
{
	char line[256];

	if (read_proc_line(pid, "status", "VmPTE:", line, sizeof(line)))
		return -1;
	return strtol(line + strlen("VmPTE:"), NULL, 10);
}

/*
 * The mappings of the process, from /proc/PID/maps, adjacent ones merged:
 * a table whose span crosses from one mapping into the next can be freed
 * only by a request that covers both. [vsyscall] is not a mapping of the
 * process's mm.
 */
static int read_ranges(struct target *t)
{
	char path[64], line[4096 + 128];
	unsigned long prev_end = 0;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	t->nr_ranges = 0;
	t->bytes = 0;
	t->spans = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		struct range *last;

		if (sscanf(line, "%lx-%lx", &start, &end) != 2 || end <= start)
			continue;
		if (strstr(line, "[vsyscall]"))
			continue;
		t->bytes += end - start;
		t->spans += (end - 1) / table_span - start / table_span + 1;
		/* Its first span may be the last one of the previous mapping. */
		if (start / table_span == prev_end / table_span && prev_end)
			t->spans--;
		prev_end = end - 1;
		last = t->nr_ranges ? &t->ranges[t->nr_ranges - 1] : NULL;
		if (last && last->end == start) {
			last->end = end;
			continue;
		}
		if (t->nr_ranges == cap) {
			struct range *r;

			cap = cap ? 2 * cap : 64;
			r = realloc(t->ranges, cap * sizeof(*r));
			if (!r) {
				fclose(f);
				return -ENOMEM;
			}
			t->ranges = r;
		}
		t->ranges[t->nr_ranges++] = (struct range){ start, end };
	}
	/* A read error of maps is the process's permission or its exit. */
	if (ferror(f)) {
		int err = -errno;

		fclose(f);
		return err;
	}
	fclose(f);
	return 0;
}

/*
 * Open the process and read what we need of it. The pidfd is opened
 * first and checked alive last: the pid cannot have been reused for
 * another process while we read /proc/PID.
 */
static int open_target(struct target *t, const char **what)
{
	char line[64];
	int err;

	*what = NULL;
	t->pidfd = sys_pidfd_open(t->pid);
	if (t->pidfd < 0)
		return -errno;
	if (read_proc_line(t->pid, "comm", NULL, line, sizeof(line)) == 0)
		snprintf(t->comm, sizeof(t->comm), "%s", line);
	err = read_ranges(t);
	if (err) {
		*what = "reading its /proc/PID/maps";
		return err;
	}
	t->vmpte_kb = read_vmpte(t->pid);
	if (pidfd_exited(t->pidfd))
		return -ESRCH;
	return 0;
}

static void close_target(struct target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	free(t->ranges);
	t->ranges = NULL;
}

static void list_ranges(const struct target *t)
{
	char buf[32];
	size_t i;

	for (i = 0; i < t->nr_ranges; i++)
		printf("  %012lx-%012lx %s\n", t->ranges[i].start,
		       t->ranges[i].end,
		       human(t->ranges[i].end - t->ranges[i].start, buf,
			     sizeof(buf)));
}

/*
 * process_madvise() takes at most IOV_MAX pieces and MAX_RW_COUNT bytes
 * per call (more is cut short, not refused). The ranges are cut into
 * pieces at 1 GiB boundaries, a multiple of every table span, so that no
 * piece ends inside a span another piece continues.
 */
#define BATCH_IOV	1024
#define PIECE		(1024UL << 20)

struct cursor {
	size_t range;
	unsigned long addr;
};

/*
 * Fill iov from the cursor, and in idx the range of each piece; returns
 * the number of pieces.
 */
static size_t next_batch(const struct target *t, struct cursor *c,
			 struct iovec *iov, size_t *idx, size_t *bytes)
{
	unsigned long max = INT_MAX & ~(page_size - 1);
	size_t n = 0;

	*bytes = 0;
	while (n < BATCH_IOV && c->range < t->nr_ranges) {
		const struct range *r = &t->ranges[c->range];
		unsigned long addr = c->addr > r->start ? c->addr : r->start;
		unsigned long end = (addr | (PIECE - 1)) + 1;

		if (end > r->end || end < addr)
			end = r->end;
		if (*bytes + (end - addr) > max)
			break;
		iov[n].iov_base = (void *)addr;
		iov[n].iov_len = end - addr;
		idx[n] = c->range;
		*bytes += end - addr;
		n++;
		if (end == r->end) {
			c->range++;
			c->addr = 0;
		} else {
			c->addr = end;
		}
	}
	return n;
}

/* Point the cursor just past piece p of range r. */
static void skip_to(const struct target *t, struct cursor *c,
		    const struct iovec *p, size_t r)
{
	unsigned long end = (unsigned long)p->iov_base + p->iov_len;

	c->range = r;
	c->addr = end;
	if (end == t->ranges[r].end) {
		c->range++;
		c->addr = 0;
	}
}

/*
 * One pass over the ranges. A piece that fails with ENOMEM is part of a
 * mapping the process unmapped since we read its maps; the mapped part of
 * it was still done. Returns 0 or -errno of what stopped the pass;
 * *changed counts the ENOMEM pieces.
 */
static int reclaim_ranges(const struct target *t, unsigned long *changed)
{
	struct iovec iov[BATCH_IOV];
	size_t idx[BATCH_IOV];
	struct cursor c = { 0, 0 };
	size_t n, bytes, i;
	ssize_t ret;

	*changed = 0;
	while ((n = next_batch(t, &c, iov, idx, &bytes))) {
		ret = sys_process_madvise(t->pidfd, iov, n);
		if (ret == (ssize_t)bytes)
			continue;
		/* Which piece stopped it: the first one not counted in ret. */
		i = 0;
		if (ret > 0)
			for (bytes = 0; i < n && bytes + iov[i].iov_len <= (size_t)ret; i++)
				bytes += iov[i].iov_len;
		if (ret > 0 && sys_process_madvise(t->pidfd, &iov[i], 1) ==
			       (ssize_t)iov[i].iov_len) {
			/* Gone through on its own: a transient failure. */
		} else if (errno == ENOMEM) {
			(*changed)++;
		} else {
			return -errno;
		}
		skip_to(t, &c, &iov[i], idx[i]);
	}
	return 0;
}

/* What reclaim_target() prints: everything, a pass that freed, nothing. */
enum say { SAY_ALL, SAY_FREED, SAY_NOTHING };

/* What a reclaim did: VmPTE before and after, in kB, and tables freed. */
struct outcome {
	long before_kb, after_kb;
	unsigned long freed;
};

/*
 * Reclaim in one process. Returns 0, or -errno of what stopped it, after
 * printing what happened (and errors, but with SAY_NOTHING); fills *o.
 */
static int reclaim_target(struct target *t, bool dry_run, enum say say,
			  struct outcome *o)
{
	unsigned long changed = 0, freed;
	const char *what;
	char buf[32];
	long after;
	int err;

	*o = (struct outcome){ -1, -1, 0 };
	err = open_target(t, &what);
	if (err) {
		if (say != SAY_NOTHING)
			report_error(t, what, err);
		close_target(t);
		return err;
	}
	o->before_kb = t->vmpte_kb;
	if (!t->nr_ranges) {
		if (say == SAY_ALL)
			report(t, "no user memory (a kernel thread, or exiting): nothing to do");
		close_target(t);
		return 0;
	}
	if (dry_run) {
		report(t, "would scan %zu ranges, %s (%lu table spans of %lu KiB); VmPTE %ld kB",
		       t->nr_ranges, human(t->bytes, buf, sizeof(buf)),
		       t->spans, table_span >> 10, t->vmpte_kb);
		if (verbose)
			list_ranges(t);
		close_target(t);
		return 0;
	}
	if (verbose)
		list_ranges(t);
	err = reclaim_ranges(t, &changed);
	if (err) {
		if (say != SAY_NOTHING)
			report_error(t, "process_madvise(MADV_PT_RECLAIM)", err);
		close_target(t);
		return err;
	}
	after = read_vmpte(t->pid);
	if (after < 0 || pidfd_exited(t->pidfd)) {
		if (say != SAY_NOTHING)
			report_error(t, "after reclaim", -ESRCH);
		close_target(t);
		return -ESRCH;
	}
	freed = t->vmpte_kb > after ? (t->vmpte_kb - after) / table_kb : 0;
	o->after_kb = after;
	o->freed = freed;
	if (say == SAY_ALL || (say == SAY_FREED && freed))
		report(t, "VmPTE %ld kB -> %ld kB, %lu tables freed (scanned %s in %zu ranges%s)",
		       t->vmpte_kb, after, freed,
		       human(t->bytes, buf, sizeof(buf)), t->nr_ranges,
		       changed ? ", some unmapped meanwhile" : "");
	close_target(t);
	return 0;
}

static void unsupported(void)
{
	fflush(stdout);
	fprintf(stderr,
		"ptreclaim: this kernel does not support MADV_PT_RECLAIM (madvise advice %d returns EINVAL); it needs a kernel built with CONFIG_MADV_PT_RECLAIM\n",
		MADV_PT_RECLAIM);
}

/* --- --self: run a command and reclaim in it --- */

/* Set before the handler is installed, not changed after. */
static pid_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/*
 * Start argv as a child. An exec failure comes back through a
 * close-on-exec pipe, so that it is reported here and not mistaken for
 * the command's own exit status.
 */
static pid_t start_command(char **argv, int *exec_err)
{
	int pfd[2], err = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		execvp(argv[0], argv);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	if (pid > 0 && read(pfd[0], &err, sizeof(err)) == sizeof(err)) {
		waitpid(pid, NULL, 0);
		*exec_err = err;
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

static int run_self(char **argv, double interval)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	struct target t = { 0 };
	struct outcome o;
	int exec_err = 0, status, pidfd, err;
	bool failed = false;
	struct pollfd pfd;
	pid_t pid;

	if (!kernel_supports()) {
		unsupported();
		return EXIT_UNSUPPORTED;
	}
	if (!have_cap_sys_nice()) {
		fprintf(stderr, "ptreclaim: --self: %s\n", explain(-EPERM));
		return EXIT_SOME_FAILED;
	}
	fflush(stdout);
	pid = start_command(argv, &exec_err);
	if (pid < 0) {
		fprintf(stderr, "ptreclaim: cannot run %s: %s\n", argv[0],
			strerror(exec_err ? exec_err : errno));
		return exec_err == ENOENT || !exec_err ? 127 : 126;
	}
	child_pid = pid;
	/* The terminal sends ^C to both of us; a kill(1) only to us. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	pidfd = sys_pidfd_open(pid);
	pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	/* Until the command exits (its pidfd becomes readable). */
	while (pidfd >= 0 && !failed) {
		int r = poll(&pfd, 1, (int)(interval * 1000));

		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0)
			break;
		t.pid = pid;
		snprintf(t.comm, sizeof(t.comm), "%s", argv[0]);
		err = reclaim_target(&t, false, verbose ? SAY_ALL : SAY_FREED,
				     &o);
		/* A permission error will not go away: say it once. */
		if (err && err != -ESRCH && err != -ENOENT)
			failed = true;
	}
	if (failed)
		fprintf(stderr, "ptreclaim: no more passes; waiting for %s to exit\n",
			argv[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("ptreclaim: waitpid");
			return EXIT_SOME_FAILED;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* --- --all: every process of the machine --- */

static atomic_int stop_passes;	/* lock-free: a handler may set it */

static void stop_handler(int sig)
{
	stop_passes = sig;
}

/* --machine: one line per process */
static const char machine_line[] =
	"ptreclaim: pid=%d status=%s vmpte_kb=%ld after_kb=%ld tables_freed=%lu comm=%s\n";

/* The counts of one pass over the processes. */
struct pass {
	unsigned long reclaimed, small, gone, denied, failed, freed;
	long freed_kb;
};

/* Seconds of CLOCK (a process's CPU time or the monotonic clock). */
static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Reclaim in PID for --all, counting what happened in *p: a process whose
 * VmPTE is below threshold_kb (or that has none: a kernel thread) is not
 * opened at all, so that a pass over a machine costs little.
 */
static void reclaim_one(pid_t pid, unsigned long threshold_kb, bool machine,
			struct pass *p)
{
	struct target t = { .pid = pid, .pidfd = -1 };
	const char *status;
	struct outcome o;
	long kb = read_vmpte(pid);
	int err;

	if (kb < 0)
		return;
	if ((unsigned long)kb < threshold_kb) {
		p->small++;
		return;
	}
	snprintf(t.comm, sizeof(t.comm), "?");
	err = reclaim_target(&t, false, verbose ? SAY_ALL : SAY_NOTHING, &o);
	if (o.before_kb < 0)
		o.before_kb = kb;
	if (!err && o.after_kb < 0)	/* no mapping left: exiting */
		err = -ESRCH;
	if (!err) {
		status = "ok";
		p->reclaimed++;
		p->freed += o.freed;
		p->freed_kb += o.before_kb - o.after_kb > 0 ?
			       o.before_kb - o.after_kb : 0;
	} else if (err == -ESRCH || err == -ENOENT) {
		status = "gone";
		p->gone++;
	} else if (err == -EACCES || err == -EPERM) {
		status = "denied";
		p->denied++;
	} else {
		status = "error";
		p->failed++;
		if (!verbose)
			report_error(&t, NULL, err);
	}
	if (machine)
		printf(machine_line, pid, status, o.before_kb, o.after_kb,
		       o.freed, t.comm);
}

/* The processes of a pass, each once. */
struct pid_set {
	pid_t *pid;
	size_t nr, cap;
};

static int pid_set_add(struct pid_set *s, long pid)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		pid_t *p = realloc(s->pid, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->pid = p;
		s->cap = cap;
	}
	s->pid[s->nr++] = pid;
	return 0;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Every process of /proc; 0 or -errno. */
static int pids_of_machine(struct pid_set *s)
{
	struct dirent *e;
	int err = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	/* readdir() sets errno only on an error */
	while (!err && (errno = 0, e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (!*end && end != e->d_name && pid > 0 && pid <= INT_MAX)
			err = pid_set_add(s, pid);
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	return err;
}

/*
 * The processes of the cgroup v2 directory dir (an O_DIRECTORY fd, which
 * this closes) and of every cgroup below it; 0 or -errno. A cgroup
 * removed while we walk (ENOENT, ENODEV) has no process left; a threaded
 * cgroup refuses to list processes (EOPNOTSUPP): its threads' processes
 * are listed by its threaded domain, which is above it in the walk. A
 * process belongs to one cgroup, but can move while we walk: the set is
 * made unique later.
 */
static int pids_of_cgroup_dir(int dir, struct pid_set *s)
{
	struct dirent *e;
	int fd, err = 0;
	char line[32];
	FILE *f;
	DIR *d;

	fd = openat(dir, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		close(dir);
		return err == -ENOENT || err == -ENODEV ? 0 : err;
	}
	errno = 0;
	while (!err && fgets(line, sizeof(line), f)) {
		long pid = strtol(line, NULL, 10);

		/* 0: a process outside our PID namespace */
		if (pid > 0 && pid <= INT_MAX)
			err = pid_set_add(s, pid);
	}
	if (!err && ferror(f) && errno != EOPNOTSUPP && errno != ENODEV)
		err = -errno;
	fclose(f);

	d = err ? NULL : fdopendir(dir);
	if (!d) {
		err = err ? err : -errno;
		close(dir);
		return err;
	}
	while (!err && (errno = 0, e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") ||
		    !strcmp(e->d_name, ".."))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			err = pids_of_cgroup_dir(fd, s);
		else if (errno != ENOENT)
			err = -errno;
	}
	if (!err && errno && errno != ENOENT && errno != ENODEV)
		err = -errno;
	closedir(d);
	return err;
}

/*
 * The processes of the cgroup v2 subtree at path (checked by
 * check_cgroup() at the start; it can be removed since); 0 or -errno.
 */
static int pids_of_cgroup(const char *path, struct pid_set *s)
{
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return dir < 0 ? -errno : pids_of_cgroup_dir(dir, s);
}

/*
 * One pass over the processes of the machine (cgroup NULL) or of a cgroup
 * subtree. Returns EXIT_SOME_FAILED when a process could not be reclaimed
 * in for another reason than its exit, or the processes could not be
 * listed; else 0.
 */
static int pass_all(unsigned long pass, const char *cgroup,
		    unsigned long threshold_kb, bool machine)
{
	double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	double wall = clock_s(CLOCK_MONOTONIC);
	struct pid_set s = { 0 };
	struct pass p = { 0 };
	pid_t me = getpid();
	size_t i;
	int err;

	err = cgroup ? pids_of_cgroup(cgroup, &s) : pids_of_machine(&s);
	if (err) {
		fflush(stdout);
		fprintf(stderr, "ptreclaim: pass %lu: cannot list the processes of %s: %s\n",
			pass, cgroup ? cgroup : "/proc", strerror(-err));
		free(s.pid);
		return EXIT_SOME_FAILED;
	}
	qsort(s.pid, s.nr, sizeof(*s.pid), pid_cmp);
	for (i = 0; i < s.nr && !stop_passes; i++) {
		/* SIGINT or SIGTERM (stop_passes) ends the pass. */
		if (s.pid[i] == me || (i && s.pid[i] == s.pid[i - 1]))
			continue;
		reclaim_one(s.pid[i], threshold_kb, machine, &p);
	}
	free(s.pid);
	printf("pass %lu: %lu tables freed (%ld kB) in %lu processes;",
	       pass, p.freed, p.freed_kb, p.reclaimed);
	printf(" %lu under %lu kB of VmPTE skipped, %lu not permitted,",
	       p.small, threshold_kb, p.denied);
	printf(" %lu exited, %lu failed; %.3f s CPU, %.3f s\n", p.gone,
	       p.failed, clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu,
	       clock_s(CLOCK_MONOTONIC) - wall);
	fflush(stdout);
	return p.denied || p.failed ? EXIT_SOME_FAILED : 0;
}

/*
 * --all (cgroup NULL) or --cgroup: one pass, or one every interval seconds
 * until a signal.
 */
static int run_all(double interval, const char *cgroup,
		   unsigned long threshold_kb, bool machine)
{
	struct sigaction sa = {
		.sa_handler = stop_handler,
		.sa_flags = SA_RESTART,	/* no write lost to EINTR */
	};
	unsigned long pass = 1;
	struct timespec ts;
	int rc;

	if (!kernel_supports()) {
		unsupported();
		return EXIT_UNSUPPORTED;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		rc = pass_all(pass++, cgroup, threshold_kb, machine);
		/* Stopped as a service is: not a failure. */
		if (stop_passes)
			return 0;
		if (interval <= 0)
			return rc;
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = (long)((interval - ts.tv_sec) * 1e9);
		/* A signal cuts the wait short (EINTR, SA_RESTART or not). */
		nanosleep(&ts, NULL);
		if (stop_passes)
			return 0;
	}
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "ptreclaim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ptreclaim --help'.\n");
	exit(EXIT_USAGE);
}

/*
 * --cgroup PATH must name a cgroup v2 directory that lists processes: a
 * usage error otherwise, told before anything is done.
 */
static void check_cgroup(const char *path)
{
	char type[32] = "", file[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	int fd;

	if (stat(path, &st) || statfs(path, &sfs))
		usage_error("--cgroup %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		usage_error("--cgroup %s: %s", path,
			    "not a directory of the cgroup v2 hierarchy (mount -t cgroup2 none /sys/fs/cgroup)");
	snprintf(file, sizeof(file), "%s/cgroup.type", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, type, sizeof(type) - 1) < 0)
			type[0] = '\0';
		close(fd);
	}
	/* The root cgroup has no cgroup.type; a threaded one lists no process. */
	if (!strcmp(type, "threaded\n"))
		usage_error("--cgroup %s: %s", path,
			    "a threaded cgroup lists no processes; give its threaded domain (the cgroup of cgroup.type \"domain threaded\" above it)");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "self", no_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "threshold", required_argument, NULL, 't' },
		{ "machine", no_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	bool dry_run = false, self = false, interval_set = false, supported;
	bool all = false, machine = false, threshold_set = false;
	const char *cgroup = NULL;
	unsigned long threshold_kb = 1024;
	double interval = 10;
	int c, i, rc = 0;
	char *end;

	/* "+": options end at the first non-option (the COMMAND). */
	while ((c = getopt_long(argc, argv, "+ni:t:mvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'i':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || *end || !(interval >= 0.01 && interval <= 86400))
				usage_error("bad interval '%s': want seconds, 0.01 to 86400",
					    optarg);
			interval_set = true;
			break;
		case 's':
			self = true;
			break;
		case 'a':
			all = true;
			break;
		case 'c':
			if (cgroup)
				usage_error("--cgroup given twice ('%s', '%s'): one subtree a run",
					    cgroup, optarg);
			cgroup = optarg;
			break;
		case 't':
			errno = 0;
			threshold_kb = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || *optarg == '-')
				usage_error("bad threshold '%s': want kB of VmPTE",
					    optarg);
			threshold_set = true;
			break;
		case 'm':
			machine = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage_error("bad option");
		}
	}
	table_geometry();
	if (all && cgroup)
		usage_error("--all and --cgroup do not go together");
	if (all || cgroup) {
		const char *opt = all ? "--all" : "--cgroup";

		if (self || dry_run)
			usage_error("%s goes with neither --self nor --dry-run", opt);
		if (optind < argc)
			usage_error("%s takes no PID ('%s')", opt, argv[optind]);
		if (cgroup)
			check_cgroup(cgroup);
		return run_all(interval_set ? interval : 0, cgroup,
			       threshold_kb, machine);
	}
	if (threshold_set || machine)
		usage_error("--threshold and --machine go with --all or --cgroup only");
	if (self) {
		if (dry_run)
			usage_error("--self and --dry-run do not go together");
		if (optind >= argc)
			usage_error("--self needs a command: ptreclaim --self -- COMMAND [ARG...]");
		return run_self(argv + optind, interval);
	}
	if (interval_set)
		usage_error("--interval goes with --self, --all or --cgroup only");
	if (optind >= argc)
		usage_error("no PID given");
	/* Check every PID before acting on any. */
	for (i = optind; i < argc; i++) {
		long pid;

		errno = 0;
		pid = strtol(argv[i], &end, 10);
		if (errno || *end || end == argv[i] || pid <= 0 || pid > INT_MAX)
			usage_error("bad PID '%s'", argv[i]);
	}
	/* A dry run still shows what there is. */
	supported = kernel_supports();
	if (!supported && !dry_run) {
		unsupported();
		return EXIT_UNSUPPORTED;
	}
	for (i = optind; i < argc; i++) {
		struct target t = { .pid = atoi(argv[i]), .pidfd = -1 };
		struct outcome o;
		int err;

		snprintf(t.comm, sizeof(t.comm), "?");
		err = reclaim_target(&t, dry_run, SAY_ALL, &o);
		if (err == -EINVAL)
			return EXIT_UNSUPPORTED;
		if (err)
			rc = EXIT_SOME_FAILED;
	}
	if (!supported) {
		unsupported();
		return EXIT_UNSUPPORTED;
	}
	return rc;
}
