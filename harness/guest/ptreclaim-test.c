// SPDX-License-Identifier: GPL-2.0
/*
 * The guest test of tools/mm/ptreclaim: usage: ptreclaim-test TOOL
 *
 * Runs TOOL (the ptreclaim binary) against processes that hold many empty
 * page tables (bloaters: a sparse area touched once per 512 KiB, then
 * MADV_DONTNEED) and checks, from the outside, what it says and does:
 * their VmPTE drops, a dry run changes nothing, every error gets its
 * message and exit status, --self passes on the command's status, --all
 * frees in every process it may reclaim in and counts the others, --cgroup
 * in the processes of a cgroup v2 subtree and no other. KTAP
 * output, one result per case. Needs root (it runs TOOL as another user
 * too). The case "kernel without the feature" is in harness/tests, on the
 * host's kernel.
 *
 * Also the commands it runs under ptreclaim --self:
 *   ptreclaim-test --bloat-wait SECS  bloat, then exit 0 once VmPTE has
 *                                     dropped by nine tenths of it, 1
 *                                     after SECS
 *   ptreclaim-test --exit N           exit with status N
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "dontneed.h"

#define AREA		(1UL << 30)
#define TOUCH_STEP	(512UL << 10)
#define NOBODY		65534

static const char *tool;
static char self_exe[PATH_MAX];
/* run_tool(): a uid >= 0 keeps CAP_SYS_NICE; SIGTERM after this many ms. */
static bool tool_keeps_nice;
static int tool_term_ms;

/*
 * As a user other than root: keep CAP_SYS_NICE (ambient, so that it
 * survives execv()), as a service account set up to run ptreclaim has it.
 * 0 or -1.
 */
static int keep_cap_sys_nice(int uid)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (prctl(PR_SET_KEEPCAPS, 1) || setgid(uid) || setuid(uid))
		return -1;
	data[0].permitted = data[0].effective = data[0].inheritable =
		1U << CAP_SYS_NICE;
	if (syscall(SYS_capset, &hdr, data))
		return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_NICE, 0, 0);
}

static long vmpte_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPTE:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/*
 * Map AREA (aligned to it, so every table span is whole), touch it once
 * per TOUCH_STEP, give the memory back: the tables stay, empty. Returns
 * how much VmPTE grew, in kB; -1 on error.
 */
static long bloat(void)
{
	long before, after;
	char *r, *p;
	size_t off;

	r = mmap(NULL, 2 * AREA, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return -1;
	p = (char *)(((unsigned long)r + AREA - 1) & ~(AREA - 1));
	/* Tables, not huge pages. */
	madvise(p, AREA, MADV_NOHUGEPAGE);
	before = vmpte_kb(getpid());
	for (off = 0; off < AREA; off += TOUCH_STEP)
		p[off] = 1;
	after = vmpte_kb(getpid());
	if (madvise(p, AREA, MADV_DONTNEED))
		return -1;
	return before < 0 ? -1 : after - before;
}

struct bloater {
	pid_t pid;
	int hold;	/* the bloater exits when this is closed */
	long grown_kb;
};

/* Start a bloater as uid (-1: as we are); 0 or -1. */
static int start_bloater(struct bloater *b, int uid)
{
	int ready[2], hold[2];
	char c;

	if (pipe(ready) || pipe(hold))
		return -1;
	b->pid = fork();
	if (b->pid < 0)
		return -1;
	if (b->pid == 0) {
		long grown;
		int fd;

		/* Not to hold other bloaters' pipes open. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != ready[1] && fd != hold[0])
				close(fd);
		/* Another user, still ptrace-readable by that user. */
		if (uid >= 0 && (setgid(uid) || setuid(uid) ||
				 prctl(PR_SET_DUMPABLE, 1)))
			_exit(1);
		grown = bloat();
		if (write(ready[1], &grown, sizeof(grown)) != sizeof(grown))
			_exit(1);
		if (read(hold[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	b->hold = hold[1];
	if (read(ready[0], &b->grown_kb, sizeof(b->grown_kb)) !=
	    sizeof(b->grown_kb))
		b->grown_kb = -1;
	close(ready[0]);
	ksft_print_msg("bloater %d: VmPTE grew by %ld kB\n", b->pid, b->grown_kb);
	return b->grown_kb > 0 ? 0 : -1;
}

static void stop_bloater(struct bloater *b)
{
	close(b->hold);
	waitpid(b->pid, NULL, 0);
}

/*
 * Run TOOL with args (NULL-terminated) as uid (-1: as we are), its output
 * (stdout and stderr) into out, shown as diagnostics. Returns its exit
 * status, -1 when it did not exit.
 */
static int run_tool(char *out, size_t len, int uid, ...)
{
	char *argv[16] = { (char *)tool };
	int p[2], status, argc = 1;
	size_t used = 0;
	ssize_t n;
	va_list ap;
	pid_t pid;
	char *line;

	va_start(ap, uid);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	if (pipe(p))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		if (uid >= 0 && tool_keeps_nice && keep_cap_sys_nice(uid))
			_exit(97);
		if (uid >= 0 && !tool_keeps_nice && (setgid(uid) || setuid(uid)))
			_exit(99);
		execv(tool, argv);
		_exit(98);
	}
	close(p[1]);
	if (tool_term_ms > 0) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		usleep(tool_term_ms * 1000);
		kill(pid, SIGTERM);
		/* A tool that ignores it must not hang the test: 10 s. */
		while (used < len - 1 && poll(&pfd, 1, 10000) > 0 &&
		       (n = read(p[0], out + used, len - 1 - used)) > 0)
			used += n;
		kill(pid, SIGKILL);
	}
	while (used < len - 1 && (n = read(p[0], out + used, len - 1 - used)) > 0)
		used += n;
	out[used] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);

	ksft_print_msg("$ ptreclaim");
	for (argc = 1; argv[argc]; argc++)
		printf(" %s", argv[argc]);
	printf("%s%s%s\n", uid >= 0 ? "   (as nobody" : "",
	       uid >= 0 && tool_keeps_nice ? ", with CAP_SYS_NICE" : "",
	       uid >= 0 ? ")" : "");
	for (line = out; *line; line += n) {
		n = strcspn(line, "\n");
		ksft_print_msg("  %.*s\n", (int)n, line);
		if (line[n])
			n++;
	}
	if (!WIFEXITED(status)) {
		ksft_print_msg("  (killed by signal %d)\n", WTERMSIG(status));
		return -1;
	}
	ksft_print_msg("  (exit status %d)\n", WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

static char *pid_arg(pid_t pid)
{
	static char buf[4][16];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%d", pid);
	return buf[i];
}

/* VmPTE of b dropped by at least nine tenths of what it grew. */
static bool dropped(struct bloater *b, long before)
{
	long after = vmpte_kb(b->pid);

	ksft_print_msg("bloater %d: VmPTE %ld -> %ld kB\n", b->pid, before, after);
	return after >= 0 && before - after >= b->grown_kb * 9 / 10;
}

static void test_pids(void)
{
	struct bloater a, b;
	long before_a, before_b;
	char out[4096];
	bool ok = false;
	int rc;

	if (start_bloater(&a, -1) == 0 && start_bloater(&b, -1) == 0) {
		before_a = vmpte_kb(a.pid);
		before_b = vmpte_kb(b.pid);
		rc = run_tool(out, sizeof(out), -1, pid_arg(a.pid),
			      pid_arg(b.pid), NULL);
		ok = rc == 0 && dropped(&a, before_a) && dropped(&b, before_b) &&
		     strstr(out, " tables freed") && strstr(out, pid_arg(a.pid)) &&
		     strstr(out, pid_arg(b.pid));
		stop_bloater(&a);
		stop_bloater(&b);
	}
	ksft_test_result(ok, "two bloated processes: their empty tables freed\n");
}

/*
 * Start a bloater as bloater_uid and run the tool on it as tool_uid (with
 * --dry-run -v when dry_run): true when the tool exits with status, says
 * want, and leaves every table of the bloater in place.
 */
static bool leaves_tables(int bloater_uid, int tool_uid, bool dry_run,
			  int status, const char *want)
{
	struct bloater a;
	char out[4096], *pid;
	long before;
	bool ok;
	int rc;

	if (start_bloater(&a, bloater_uid))
		return false;
	before = vmpte_kb(a.pid);
	pid = pid_arg(a.pid);
	if (dry_run)
		rc = run_tool(out, sizeof(out), tool_uid, "--dry-run", "-v", pid, NULL);
	else
		rc = run_tool(out, sizeof(out), tool_uid, pid, NULL);
	ok = rc == status && strstr(out, want) && vmpte_kb(a.pid) >= before;
	stop_bloater(&a);
	return ok;
}

static void test_dry_run(void)
{
	ksft_test_result(leaves_tables(-1, -1, true, 0, "would scan"),
			 "--dry-run: reports, frees nothing\n");
}

static void test_gone(void)
{
	char out[4096];
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	ksft_test_result(run_tool(out, sizeof(out), -1, pid_arg(pid), NULL) == 1 &&
			 strstr(out, "no such process"),
			 "process gone: ESRCH message, exit 1\n");
}

static void test_kernel_thread(void)
{
	char out[4096];

	/* pid 2 is kthreadd. */
	ksft_test_result(run_tool(out, sizeof(out), -1, "2", NULL) == 0 &&
			 strstr(out, "no user memory"),
			 "kernel thread: nothing to do, exit 0\n");
}

static void test_no_ptrace(void)
{
	ksft_test_result(leaves_tables(-1, NOBODY, false, 1, "ptrace read access"),
			 "another user's process: ptrace message, exit 1\n");
}

static void test_no_cap(void)
{
	ksft_test_result(leaves_tables(NOBODY, NOBODY, false, 1, "CAP_SYS_NICE"),
			 "own process without CAP_SYS_NICE: EPERM message, exit 1\n");
}

static void test_self(void)
{
	char out[4096];

	ksft_test_result(run_tool(out, sizeof(out), -1, "--self", "-i", "0.5",
				  "--", self_exe, "--bloat-wait", "60", NULL) == 0 &&
			 strstr(out, " tables freed"),
			 "--self -- COMMAND: the command sees its tables freed\n");
}

static void test_self_status(void)
{
	char out[4096];

	ksft_test_result(run_tool(out, sizeof(out), -1, "--self", "--", self_exe,
				  "--exit", "7", NULL) == 7 &&
			 run_tool(out, sizeof(out), -1, "--self", "--",
				  "/nonexistent", NULL) == 127 &&
			 strstr(out, "cannot run /nonexistent"),
			 "--self: the command's exit status; 127 when it cannot run\n");
}

static void test_usage(void)
{
	char out[8192];
	bool ok;

	ok = run_tool(out, sizeof(out), -1, NULL) == 2 &&
	     strstr(out, "no PID given");
	ok = run_tool(out, sizeof(out), -1, "12x", NULL) == 2 &&
	     strstr(out, "bad PID '12x'") && ok;
	ok = run_tool(out, sizeof(out), -1, "-i", "1", "1", NULL) == 2 && ok;
	ok = run_tool(out, sizeof(out), -1, "--self", NULL) == 2 && ok;
	ok = run_tool(out, sizeof(out), -1, "--all", "5", NULL) == 2 &&
	     strstr(out, "--all takes no PID") && ok;
	ok = run_tool(out, sizeof(out), -1, "-t", "5", "1", NULL) == 2 && ok;
	ok = run_tool(out, sizeof(out), -1, "--all", "-t", "x", NULL) == 2 &&
	     strstr(out, "bad threshold 'x'") && ok;
	ok = run_tool(out, sizeof(out), -1, "--help", NULL) == 0 &&
	     strstr(out, "Exit status:") && ok;
	ksft_test_result(ok, "usage errors exit 2; --help\n");
}

/* The "pid=N status=S" of --machine for b in out. */
static bool machine_says(const char *out, struct bloater *b, const char *st)
{
	char want[64];

	snprintf(want, sizeof(want), "pid=%d status=%s ", b->pid, st);
	return strstr(out, want);
}

/* A threshold of half the least a bloater grew: they are above it. */
static char *threshold_arg(struct bloater *a, struct bloater *b)
{
	static char buf[24];
	long kb = a->grown_kb < b->grown_kb ? a->grown_kb : b->grown_kb;

	snprintf(buf, sizeof(buf), "%ld", kb / 2);
	return buf;
}

/*
 * --all as root: every bloater's tables go, one summary line, exit 0;
 * processes under the threshold (all the others here) are skipped.
 */
static void test_all(void)
{
	struct bloater a, b;
	long before_a, before_b;
	char out[16384];
	bool ok = false;
	int rc;

	if (start_bloater(&a, -1) == 0 && start_bloater(&b, NOBODY) == 0) {
		before_a = vmpte_kb(a.pid);
		before_b = vmpte_kb(b.pid);
		rc = run_tool(out, sizeof(out), -1, "--all", "-m", "-t",
			      threshold_arg(&a, &b), NULL);
		ok = rc == 0 && dropped(&a, before_a) && dropped(&b, before_b) &&
		     machine_says(out, &a, "ok") && machine_says(out, &b, "ok") &&
		     strstr(out, "pass 1: ") && !strstr(out, "pass 2: ") &&
		     strstr(out, " 0 not permitted, ");
		stop_bloater(&a);
		stop_bloater(&b);
	}
	ksft_test_result(ok, "--all as root: every bloated process's tables freed\n");
}

/*
 * --all as nobody with CAP_SYS_NICE: nobody's bloaters are reclaimed in,
 * root's is counted as not permitted and keeps its tables; exit 1.
 */
static void test_all_denied(void)
{
	struct bloater a, b, r;
	long before_a, before_b, before_r;
	char out[16384];
	bool ok = false;
	int rc;

	if (start_bloater(&a, NOBODY) == 0 && start_bloater(&b, NOBODY) == 0 &&
	    start_bloater(&r, -1) == 0) {
		before_a = vmpte_kb(a.pid);
		before_b = vmpte_kb(b.pid);
		before_r = vmpte_kb(r.pid);
		tool_keeps_nice = true;
		rc = run_tool(out, sizeof(out), NOBODY, "--all", "-m", "-t",
			      threshold_arg(&a, &b), NULL);
		tool_keeps_nice = false;
		ok = rc == 1 && dropped(&a, before_a) && dropped(&b, before_b) &&
		     vmpte_kb(r.pid) >= before_r &&
		     machine_says(out, &a, "ok") && machine_says(out, &b, "ok") &&
		     machine_says(out, &r, "denied");
		stop_bloater(&a);
		stop_bloater(&b);
		stop_bloater(&r);
	}
	ksft_test_result(ok, "--all as nobody: its processes reclaimed, root's counted as not permitted, exit 1\n");
}

/* --all -i: a pass every interval until SIGTERM, then exit 0. */
static void test_all_interval(void)
{
	char out[16384];
	int rc;

	tool_term_ms = 1500;
	rc = run_tool(out, sizeof(out), -1, "--all", "-i", "0.2", NULL);
	tool_term_ms = 0;
	ksft_test_result(rc == 0 && strstr(out, "pass 1: ") &&
			 strstr(out, "pass 2: "),
			 "--all -i: passes until SIGTERM, exit 0\n");
}

/*
 * --all over many processes: 300 more, each under the threshold, are read
 * and skipped (counted as such), not opened; the pass takes under a
 * second of CPU even under TCG, many times slower than the machine it
 * stands for (about 0.03 s seen on 2026-12-05; 0.13 s with every process
 * opened, which the skipped count catches).
 */
static void test_all_many(void)
{
	enum { MANY = 300 };
	unsigned long skipped = 0;
	int hold[2], i, n = 0, rc = -1;
	double cpu = -1;
	char out[16384];
	const char *pass;
	pid_t pid[MANY];

	if (pipe(hold) == 0) {
		for (n = 0; n < MANY; n++) {
			char c;

			pid[n] = fork();
			if (pid[n] < 0)
				break;
			if (pid[n] == 0) {
				close(hold[1]);
				_exit(read(hold[0], &c, 1) < 0);
			}
		}
		close(hold[0]);
		if (n == MANY)
			rc = run_tool(out, sizeof(out), -1, "--all", NULL);
		close(hold[1]);
		for (i = 0; i < n; i++)
			waitpid(pid[i], NULL, 0);
	}
	pass = rc < 0 ? NULL : strstr(out, "pass 1: ");
	if (pass) {
		pass = strstr(pass, " processes; ");
		if (pass)
			sscanf(pass, " processes; %lu under", &skipped);
		pass = pass ? strstr(pass, " failed; ") : NULL;
		if (pass)
			sscanf(pass, " failed; %lf s CPU", &cpu);
	}
	ksft_print_msg("%d processes started, %lu skipped, %.3f s of CPU\n",
		       n, skipped, cpu);
	ksft_test_result(rc == 0 && skipped >= MANY && cpu >= 0 && cpu < 1,
			 "--all over %d processes: each read and skipped, under a second of CPU\n",
			 MANY);
}

/* A cgroup v2 hierarchy mounted for the --cgroup cases, or "". */
static char cg_mnt[64];

/* Write val into dir/file; true when it took. */
static bool cg_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	bool ok;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		ksft_print_msg("%s: %s\n", path, strerror(errno));
		return false;
	}
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	if (!ok)
		ksft_print_msg("%s <- %s: %s\n", path, val, strerror(errno));
	close(fd);
	return ok;
}

/* Make cg_mnt/name; its path in path. */
static bool cg_mkdir(char *path, size_t len, const char *name)
{
	snprintf(path, len, "%s/%s", cg_mnt, name);
	if (mkdir(path, 0755) == 0)
		return true;
	ksft_print_msg("mkdir %s: %s\n", path, strerror(errno));
	return false;
}

/* Mount the cgroup v2 hierarchy on a directory of its own. */
static bool cg_mount(void)
{
	char dir[] = "/tmp/ptreclaim-cgXXXXXX";

	if (!mkdtemp(dir))
		return false;
	if (mount("none", dir, "cgroup2", 0, NULL)) {
		ksft_print_msg("mount -t cgroup2 on %s: %s (%s)\n", dir,
			       strerror(errno), "a test kernel without CONFIG_CGROUPS?");
		rmdir(dir);
		return false;
	}
	snprintf(cg_mnt, sizeof(cg_mnt), "%s", dir);
	return true;
}

/*
 * --cgroup: bloaters in a cgroup (a), in a cgroup below it (b) and
 * outside it (c): a's and b's tables go, c keeps its own and is not
 * named; exit 0.
 */
static void test_cgroup(void)
{
	char top[PATH_MAX] = "", sub[PATH_MAX] = "", out[16384], c_pid[32];
	long before_a, before_b, before_c;
	struct bloater bl[3] = { 0 }, *a = &bl[0], *b = &bl[1], *c = &bl[2];
	bool ok = false, started = false;
	int n = 0, rc;

	if (cg_mnt[0] && cg_mkdir(top, sizeof(top), "pt") &&
	    cg_mkdir(sub, sizeof(sub), "pt/sub")) {
		/* n: the bloaters forked, to be stopped, failed or not */
		for (rc = 0; n < 3 && !rc; n++) {
			rc = start_bloater(&bl[n], -1);
			if (bl[n].pid <= 0)
				break;
		}
		started = n == 3 && !rc;
	}
	if (started && cg_write(top, "cgroup.procs", pid_arg(a->pid)) &&
	    cg_write(sub, "cgroup.procs", pid_arg(b->pid))) {
		before_a = vmpte_kb(a->pid);
		before_b = vmpte_kb(b->pid);
		before_c = vmpte_kb(c->pid);
		rc = run_tool(out, sizeof(out), -1, "--cgroup", top, "-m",
			      "-t", threshold_arg(a, b), NULL);
		snprintf(c_pid, sizeof(c_pid), "pid=%d ", c->pid);
		ok = rc == 0 && dropped(a, before_a) && dropped(b, before_b) &&
		     vmpte_kb(c->pid) >= before_c &&
		     machine_says(out, a, "ok") && machine_says(out, b, "ok") &&
		     !strstr(out, c_pid) &&
		     strstr(out, "pass 1: ") && strstr(out, " in 2 processes;");
	}
	while (n--)
		stop_bloater(&bl[n]);
	if (sub[0])
		rmdir(sub);
	if (top[0])
		rmdir(top);
	ksft_test_result(ok, "--cgroup: the subtree's processes reclaimed in, no other\n");
}

/*
 * --cgroup and threaded cgroups, which list no processes: a walk passes
 * one (exit 0), and one given as PATH is a usage error, as is a PATH
 * outside the cgroup v2 hierarchy.
 */
static void test_cgroup_usage(void)
{
	char top[PATH_MAX] = "", thr[PATH_MAX] = "", out[4096];
	bool ok = false;

	if (cg_mnt[0] && cg_mkdir(top, sizeof(top), "ptt") &&
	    cg_mkdir(thr, sizeof(thr), "ptt/thr") &&
	    cg_write(thr, "cgroup.type", "threaded")) {
		ok = run_tool(out, sizeof(out), -1, "--cgroup", top, NULL) == 0 &&
		     strstr(out, "pass 1: 0 tables freed (0 kB) in 0 processes;");
		ok = run_tool(out, sizeof(out), -1, "--cgroup", thr, NULL) == 2 &&
		     strstr(out, "a threaded cgroup lists no processes") && ok;
		ok = run_tool(out, sizeof(out), -1, "--cgroup", "/proc", NULL) == 2 &&
		     strstr(out, "not a directory of the cgroup v2 hierarchy") && ok;
		ok = run_tool(out, sizeof(out), -1, "--cgroup", top, "--all", NULL) == 2 &&
		     strstr(out, "do not go together") && ok;
	}
	if (thr[0])
		rmdir(thr);
	if (top[0])
		rmdir(top);
	ksft_test_result(ok, "--cgroup: threaded cgroups walked past, refused as PATH\n");
}

/* --bloat-wait SECS: bloat, wait until VmPTE drops. */
static int bloat_wait(int secs)
{
	long grown = bloat(), before = vmpte_kb(getpid());
	time_t end = time(NULL) + secs;

	if (grown <= 0)
		return 1;
	while (time(NULL) < end) {
		/*
		 * Linger, so that the pass that freed them finishes and
		 * reports before we exit: a pass still going on when the
		 * process exits ends in ESRCH, with no line for the tables.
		 */
		if (before - vmpte_kb(getpid()) >= grown * 9 / 10) {
			sleep(3);
			return 0;
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, "bloat-wait: VmPTE still %ld kB after %d s\n",
		vmpte_kb(getpid()), secs);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--bloat-wait"))
		return bloat_wait(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "--exit"))
		return atoi(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: %s PTRECLAIM\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) < 0) {
		perror("/proc/self/exe");
		return 1;
	}

	ksft_print_header();
	ksft_set_plan(15);
	if (access(tool, X_OK))
		ksft_exit_fail_msg("%s: %s\n", tool, strerror(errno));
	if (geteuid())
		ksft_exit_skip("needs root\n");
	/* The bloaters need MADV_DONTNEED to leave their tables. */
	if (dontneed_keeps_tables())
		ksft_exit_fail_msg("vm.pt_reclaim_dontneed=0: %s\n", strerror(errno));
	test_pids();
	test_dry_run();
	test_gone();
	test_kernel_thread();
	test_no_ptrace();
	test_no_cap();
	test_self();
	test_self_status();
	test_all();
	test_all_denied();
	test_all_interval();
	test_all_many();
	cg_mount();
	test_cgroup();
	test_cgroup_usage();
	if (cg_mnt[0] && !umount(cg_mnt))
		rmdir(cg_mnt);
	test_usage();
	ksft_finished();
}
