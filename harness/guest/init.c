// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the test guest.
 *
 * Mounts the pseudo filesystems, then carries out /etc/init.tests line by
 * line and reboots (QEMU runs with -no-reboot, so it exits). Directives:
 *
 *   ktap                       report the runs below as one KTAP document
 *   sysctl KEY VALUE           write VALUE to /proc/sys/KEY (dots or slashes)
 *   env KEY VALUE              set KEY=VALUE in the environment of later runs
 *   swap MIB                   make a zram swap device of MIB MiB, swapon
 *   cpus LIST|all              run later runs on the CPUs in LIST only
 *                              (comma-separated numbers), or on all again
 *   run NAME SECS CMD [ARG..]  run CMD as root, kill it after SECS seconds
 *   runas UID NAME SECS CMD..  the same, as user and group UID
 *   skip NAME REASON..         report NAME as skipped with REASON (ktap)
 *
 * In ktap mode each run is a subtest: a program that prints (K)TAP gets
 * its output indented under "# Subtest: NAME", so kunit.py parse counts
 * its cases (a result line without a description is named NAME.result);
 * any other output becomes "# " diagnostics. The run's own
 * "ok"/"not ok" line comes from its exit status (4 = skip, as in
 * kselftest). Without ktap, output passes through untouched.
 *
 * A sysctl or swap line that fails counts as a failed run: the runs
 * after it would test another setup than the one they were meant for.
 *
 * The last line is always "init: done: R runs, F failed, last status S"
 * where S is the exit status of the last run (or 128 + signal, or 124
 * on timeout). harness/boot.sh reads it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <termios.h>

#define CONTROL "/etc/init.tests"
#define MAX_ARGS 64
#define KSFT_SKIP 4

static int ktap;
static int nr_runs, nr_failed, last_status;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void mount_one(const char *src, const char *dir, const char *type,
		      const char *opts)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, opts) && errno != EBUSY)
		say("# init: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static void do_sysctl(const char *key, const char *val)
{
	char path[256], *p;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	for (p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	/* A setting the runs after it rely on: failing it fails init. */
	if (write_file(path, val)) {
		say("# init: sysctl %s=%s: %s\n", key, val, strerror(errno));
		nr_failed++;
	}
}

/* A zram device of @mib MiB with a swap signature, then swapon. */
static void do_swap(const char *mib)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long bytes = strtoull(mib, NULL, 0) << 20;
	char size[32], *hdr;
	unsigned int *info;
	int fd;

	mkdir("/sys/block", 0755);
	write_file("/sys/class/zram-control/hot_add", "1");
	snprintf(size, sizeof(size), "%llu", bytes);
	if (write_file("/sys/block/zram0/disksize", size)) {
		say("# init: swap: zram0 disksize: %s\n", strerror(errno));
		nr_failed++;
		return;
	}
	/* The swap header: version 1, last page, magic at the page end. */
	hdr = calloc(1, page);
	info = (unsigned int *)(hdr + 1024);
	info[0] = 1;
	info[1] = bytes / page - 1;
	memcpy(hdr + page - 10, "SWAPSPACE2", 10);
	fd = open("/dev/zram0", O_WRONLY);
	if (fd < 0 || write(fd, hdr, page) != page) {
		say("# init: swap: write header: %s\n", strerror(errno));
		nr_failed++;
	} else {
		fsync(fd);
		if (swapon("/dev/zram0", 0)) {
			say("# init: swapon /dev/zram0: %s\n", strerror(errno));
			nr_failed++;
		}
	}
	if (fd >= 0)
		close(fd);
	free(hdr);
}

/*
 * Pin init, and so every later run (affinity is inherited over fork), to
 * the CPUs in @list, or undo it with "all".  A bad list fails the whole
 * document, as a bad line does: a run must not go ahead unpinned when its
 * line says it needs pinning.
 */
static void do_cpus(const char *list)
{
	const char *p = list;
	cpu_set_t set;
	char *end;
	long cpu;
	int i;

	CPU_ZERO(&set);
	if (!strcmp(list, "all")) {
		for (i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	} else {
		for (;;) {
			if (!isdigit((unsigned char)*p))
				goto bad;
			cpu = strtol(p, &end, 10);
			if (cpu >= CPU_SETSIZE)
				goto bad;
			CPU_SET(cpu, &set);
			if (!*end)
				break;
			if (*end != ',')
				goto bad;
			p = end + 1;
		}
	}
	if (!sched_setaffinity(0, sizeof(set), &set))
		return;
	say("# init: cpus %s: %s\n", list, strerror(errno));
	nr_failed++;
	return;
bad:
	say("# init: %s: cpus: bad list %s (want N[,N..] or all)\n",
	    CONTROL, list);
	nr_failed++;
}

static int is_tap_header(const char *line)
{
	return !strncmp(line, "TAP version", 11) ||
	       !strncmp(line, "KTAP version", 12);
}

/* "1..N": a TAP plan. */
static int is_plan(const char *line)
{
	if (strncmp(line, "1..", 3) || !line[3])
		return 0;
	for (line += 3; *line; line++)
		if (*line < '0' || *line > '9')
			return 0;
	return 1;
}

/*
 * kselftest's ksft_exit_skip() and ksft_test_result_skip() can print a
 * result without a description, "ok 2 # SKIP why", which KTAP does not
 * allow and kunit.py parse does not read. Name it after the run.
 */
static const char *nameless_result(const char *line, const char *name)
{
	static char buf[4096 + 256];
	const char *p = line;

	if (!strncmp(p, "not ", 4))
		p += 4;
	if (strncmp(p, "ok ", 3))
		return line;
	p += 3;
	if (*p < '0' || *p > '9')
		return line;
	while (*p >= '0' && *p <= '9')
		p++;
	if (strncmp(p, " #", 2))
		return line;
	/* Not the run's own name: the parser would take it for its end. */
	snprintf(buf, sizeof(buf), "%.*s %s.result%s", (int)(p - line), line,
		 name, p);
	return buf;
}

/*
 * Copy the child's output to the console. In ktap mode, a child that
 * prints a (K)TAP header (or a bare plan, "1..N") before any result
 * becomes a subtest, indented, from that line on; what it printed
 * before the header (gup_longterm's "[INFO] detected hugetlb page size",
 * memfd_secret's "page_size: ...") and all output of a child without a
 * header is turned into diagnostics. A header after a result line would
 * be a second document: it stays a diagnostic.
 */
struct relay {
	const char *name;
	char buf[4096];
	size_t len;
	int results;
	int nested;
};

static void relay_line(struct relay *r, char *line)
{
	if (!ktap) {
		say("%s\n", line);
		return;
	}
	if (!r->nested && !r->results && is_tap_header(line)) {
		r->nested = 1;
		say("    %s\n    # Subtest: %s\n", line, r->name);
		return;
	}
	/* mremap_test prints its plan without the header before it. */
	if (!r->nested && !r->results && is_plan(line)) {
		r->nested = 1;
		say("    TAP version 13\n    # Subtest: %s\n    %s\n", r->name,
		    line);
		return;
	}
	if (r->nested) {
		say("    %s\n", nameless_result(line, r->name));
		return;
	}
	if (!strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7))
		r->results++;
	say("# %s: %s\n", r->name, line);
}

static void relay_data(struct relay *r, const char *data, size_t n)
{
	char *nl;

	while (n) {
		size_t take = sizeof(r->buf) - 1 - r->len;

		if (take > n)
			take = n;
		memcpy(r->buf + r->len, data, take);
		r->len += take;
		data += take;
		n -= take;
		r->buf[r->len] = 0;
		while ((nl = strchr(r->buf, '\n'))) {
			*nl = 0;
			relay_line(r, r->buf);
			r->len -= nl + 1 - r->buf;
			memmove(r->buf, nl + 1, r->len + 1);
		}
		if (r->len == sizeof(r->buf) - 1) {
			relay_line(r, r->buf);
			r->len = 0;
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The test's output goes through a pseudo terminal, not a pipe: stdio
 * then buffers by line, as on a console, and a test that forks with
 * output still buffered does not print it twice. Raw mode: no \r added.
 * pfd[0] is init's end, pfd[1] the test's.
 */
static int open_pty(int pfd[2])
{
	struct termios tio;

	pfd[0] = posix_openpt(O_RDWR | O_NOCTTY);
	if (pfd[0] < 0 || grantpt(pfd[0]) || unlockpt(pfd[0]))
		return -1;
	pfd[1] = open(ptsname(pfd[0]), O_RDWR | O_NOCTTY);
	if (pfd[1] < 0)
		return -1;
	if (!tcgetattr(pfd[1], &tio)) {
		cfmakeraw(&tio);
		tcsetattr(pfd[1], TCSANOW, &tio);
	}
	return 0;
}

/* Run argv, relaying its output; returns a shell-style exit status. */
static int run(const char *name, int secs, int uid, char **argv)
{
	struct relay r = { .name = name };
	double deadline = now() + secs;
	int pfd[2], status = 0, timed_out = 0, exited = 0;
	pid_t pid;

	if (open_pty(pfd)) {
		say("# init: %s: no pseudo terminal (%s), using a pipe\n",
		    name, strerror(errno));
		if (pipe(pfd))
			return 127;
	}
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		if (uid >= 0 && (setgid(uid) || setuid(uid))) {
			printf("init: cannot become uid %d: %s\n", uid,
			       strerror(errno));
			_exit(127);
		}
		execv(argv[0], argv);
		printf("init: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return 127;
	}
	setpgid(pid, pid);

	/* Relay until EOF: the test and anything it forked have finished. */
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		double left = deadline - now();
		char data[4096];
		ssize_t n;

		if (left <= 0) {
			/* Past the deadline only stragglers are left: no timeout. */
			timed_out = !exited;
			kill(-pid, SIGKILL);
			break;
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			/* Give what the test left running 2 s to finish. */
			exited = 1;
			if (deadline > now() + 2)
				deadline = now() + 2;
		}
		if (poll(&p, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) <= 0)
			continue;
		/* A pty whose other end is closed reads as EIO: EOF. */
		n = read(pfd[0], data, sizeof(data));
		if (n <= 0)
			break;
		relay_data(&r, data, n);
	}
	if (r.len) {
		r.buf[r.len] = 0;
		relay_line(&r, r.buf);
	}
	close(pfd[0]);
	kill(-pid, SIGKILL);
	if (!exited)
		waitpid(pid, &status, 0);
	/* Reap anything else that ended up as our child. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (timed_out) {
		say("# init: %s: timed out after %d s, killed\n", name, secs);
		return 124;
	}
	if (WIFSIGNALED(status)) {
		say("# init: %s: killed by signal %d\n", name, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

static void report(const char *name, int status, const char *why)
{
	nr_runs++;
	if (status && status != KSFT_SKIP)
		nr_failed++;
	if (!ktap)
		return;
	if (status == KSFT_SKIP)
		say("ok %d %s # SKIP %s\n", nr_runs, name, why ? why : "");
	else if (status == 0)
		say("ok %d %s\n", nr_runs, name);
	else
		say("not ok %d %s # exit status %d\n", nr_runs, name, status);
}

static int split(char *line, char **argv)
{
	int argc = 0;
	char *tok, *save;

	for (tok = strtok_r(line, " \t\n", &save); tok && argc < MAX_ARGS;
	     tok = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return argc;
}

static int count_runs(FILE *f)
{
	long pos = ftell(f);
	char line[1024];
	int n = 0;

	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "run ", 4) || !strncmp(line, "runas ", 6) ||
		    !strncmp(line, "skip ", 5))
			n++;
	fseek(f, pos, SEEK_SET);
	return n;
}

static void do_line(char *line, FILE *f)
{
	char *argv[MAX_ARGS + 1], *rest;
	int argc, uid = -1, i = 1;

	/* skip keeps the rest of its line as the reason */
	if (!strncmp(line, "skip ", 5)) {
		rest = line + 5;
		rest[strcspn(rest, "\n")] = 0;
		argv[0] = strsep(&rest, " ");
		report(argv[0], KSFT_SKIP, rest);
		return;
	}
	argc = split(line, argv);
	if (argc == 0 || argv[0][0] == '#')
		return;
	if (!strcmp(argv[0], "ktap") && argc == 1) {
		ktap = 1;
		say("KTAP version 1\n1..%d\n", count_runs(f));
	} else if (!strcmp(argv[0], "sysctl") && argc == 3) {
		do_sysctl(argv[1], argv[2]);
	} else if (!strcmp(argv[0], "env") && argc == 3) {
		setenv(argv[1], argv[2], 1);
	} else if (!strcmp(argv[0], "swap") && argc == 2) {
		do_swap(argv[1]);
	} else if (!strcmp(argv[0], "cpus") && argc == 2) {
		do_cpus(argv[1]);
	} else if ((!strcmp(argv[0], "run") && argc >= 4) ||
		   (!strcmp(argv[0], "runas") && argc >= 5)) {
		double t0 = now();

		if (argv[0][3] == 'a')
			uid = atoi(argv[i++]);
		last_status = run(argv[i], atoi(argv[i + 1]), uid, argv + i + 2);
		report(argv[i], last_status, NULL);
		/* where a guest's time goes (harness/check.sh's budget) */
		if (ktap)
			say("# init: %s took %.0f s\n", argv[i], now() - t0);
	} else {
		say("# init: %s: bad line: %s ...\n", CONTROL, argv[0]);
		nr_failed++;
	}
}

int main(void)
{
	char line[1024];
	FILE *f;

	mount_one("proc", "/proc", "proc", NULL);
	mount_one("sysfs", "/sys", "sysfs", NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", NULL);
	mount_one("devpts", "/dev/pts", "devpts", "ptmxmode=0666");
	mount_one("debugfs", "/sys/kernel/debug", "debugfs", NULL);
	mount_one("tmpfs", "/tmp", "tmpfs", NULL);
	mount_one("tmpfs", "/dev/shm", "tmpfs", NULL);
	mount_one("hugetlbfs", "/dev/hugepages", "hugetlbfs", NULL);
	setenv("PATH", "/bin:/t", 1);
	setenv("HOME", "/", 1);
	if (chdir("/t"))
		chdir("/");

	say("init: start\n");
	f = fopen(CONTROL, "r");
	if (!f) {
		say("# init: %s: %s\n", CONTROL, strerror(errno));
		nr_failed++;
	} else {
		while (fgets(line, sizeof(line), f))
			do_line(line, f);
		fclose(f);
	}
	say("init: done: %d runs, %d failed, last status %d\n",
	    nr_runs, nr_failed, last_status);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
