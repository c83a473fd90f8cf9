// SPDX-License-Identifier: GPL-2.0
/*
 * madvise() and process_madvise() argument fuzzer for MADV_PT_RECLAIM:
 * random calls with kernel, non-canonical, overflowing, unaligned and
 * unmapped ranges, every advice value, and bad pidfds, iovecs and flags.
 * Each call's result is checked against a model of the documented
 * errors (Documentation/admin-guide/mm/pt_reclaim.rst, madvise(2),
 * process_madvise(2)) written down below, in the order the kernel checks
 * them. The harness fails the run on any kernel report on the console.
 *
 * Advice values other than MADV_PT_RECLAIM are only given ranges that
 * are invalid or map nothing: the model cannot tell what they do to
 * memory, and some destroy it. MADV_PT_RECLAIM, which frees nothing
 * that maps something, also gets random ranges over the whole address
 * space, the fuzzer's own stack and text included.
 *
 * usage: pt_reclaim_fuzz [-n CALLS] [-S SEED] [-m LINES]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
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

#include "../kselftest.h"
#include "vm_util.h"

/* <sys/mman.h> of older C libraries lacks the newer ones */
#ifndef MADV_COLD
#define MADV_COLD 20
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#define UIO_MAXIOV_	1024
#define NR_SPANS	16
#define MAX_SEGS	8
#define MAX_AREAS	256

static unsigned long page_size, span;
static unsigned long max_rw_count;	/* INT_MAX & PAGE_MASK */
static uint64_t rng;
static unsigned int max_lines = 20, lines;
static bool is_root, have_ksm, have_thp, have_memory_failure;

/* The address space as /proc/self/maps showed it last. */
static struct area {
	unsigned long start, end;
} areas[MAX_AREAS];
static int nr_areas;

/*
 * The fuzzer's own mappings: NR_SPANS table spans with holes, and 8 GiB
 * of PROT_NONE for lengths past MAX_RW_COUNT.
 */
static char *arena, *big;
/* Spans of the arena main() unmaps, makes PROT_NONE, gives back (two) */
#define HOLE_SPAN	3
#define NONE_SPAN	9
#define ZAPPED_SPAN	10
static const unsigned long big_size = 8UL << 30;

static uint64_t next_rand(void)
{
	/* xorshift64*: reproducible from the seed */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static unsigned long pick(unsigned long n)
{
	return next_rand() % n;
}

static void read_maps(void)
{
	unsigned long s, e;
	char line[512];
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		ksft_exit_fail_msg("/proc/self/maps: %s\n", strerror(errno));
	nr_areas = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		/* [vsyscall] is a gate area, not a VMA: madvise() skips it */
		if (strstr(line, "[vsyscall]"))
			continue;
		if (nr_areas == MAX_AREAS)
			ksft_exit_fail_msg("more than %d mappings\n", MAX_AREAS);
		areas[nr_areas].start = s;
		areas[nr_areas].end = e;
		nr_areas++;
	}
	fclose(f);
}

/* Is all of [start, end) mapped? end > start. */
static bool covered(unsigned long start, unsigned long end)
{
	int i;

	for (i = 0; i < nr_areas && start < end; i++) {
		if (areas[i].end <= start)
			continue;
		if (areas[i].start > start)
			return false;
		start = areas[i].end;
	}
	return start >= end;
}

/* Is any of [start, end) mapped? end > start. */
static bool touches(unsigned long start, unsigned long end)
{
	int i;

	for (i = 0; i < nr_areas; i++)
		if (areas[i].start < end && areas[i].end > start)
			return true;
	return false;
}

/*
 * Advice values madvise() must accept on this kernel. Those that depend
 * on a config option are taken from what the kernel shows of that option,
 * not from madvise() itself: /sys/kernel/mm/ksm (CONFIG_KSM), the
 * AnonHugePages line of /proc/meminfo (CONFIG_TRANSPARENT_HUGEPAGE, even
 * where the CPU has no huge pages and there is no
 * /sys/kernel/mm/transparent_hugepage, as on s390x under TCG) and
 * vm.memory_failure_recovery (CONFIG_MEMORY_FAILURE). Read once.
 */
static bool advice_valid(int adv)
{
	switch (adv) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL:
	case MADV_WILLNEED: case MADV_DONTNEED: case MADV_FREE:
	case MADV_REMOVE: case MADV_DONTFORK: case MADV_DOFORK:
	case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK:
	case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT:
	case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
	case MADV_DONTNEED_LOCKED: case MADV_PT_RECLAIM:
		return true;
	case MADV_MERGEABLE: case MADV_UNMERGEABLE:
		return have_ksm;
	case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_COLLAPSE:
		return have_thp;
	case MADV_HWPOISON: case MADV_SOFT_OFFLINE:
		return have_memory_failure;
	}
	return false;
}

static bool process_advice_valid(int adv)
{
	return adv == MADV_COLD || adv == MADV_PAGEOUT ||
	       adv == MADV_WILLNEED || adv == MADV_COLLAPSE ||
	       adv == MADV_PT_RECLAIM;
}

/*
 * What madvise(start, len, adv) returns: 0 or -errno. The checks in the
 * order do_madvise() makes them. Only MADV_PT_RECLAIM may be given a
 * range that maps something (gen_range() makes sure).
 */
static long model_madvise(unsigned long start, unsigned long len, int adv)
{
	unsigned long alen, end;

	if (!advice_valid(adv))
		return -EINVAL;
	if (start & (page_size - 1))
		return -EINVAL;
	alen = (len + page_size - 1) & ~(page_size - 1);
	if (len && !alen)
		return -EINVAL;		/* len rounds up past the top */
	end = start + alen;
	if (end < start)
		return -EINVAL;		/* start + len overflows */
	if (end == start)
		return 0;
	if (adv == MADV_HWPOISON || adv == MADV_SOFT_OFFLINE)
		return is_root ? -EFAULT : -EPERM;	/* nothing to inject into */
	if (adv == MADV_PT_RECLAIM)
		return covered(start, end) ? 0 : -ENOMEM;
	return -ENOMEM;			/* unmapped */
}

/* Addresses of every kind. */
static unsigned long gen_addr(void)
{
	static const unsigned long fixed[] = {
		0, 4096, 0x10000,
#if defined(__x86_64__)
		0x00007ffffffff000UL,	/* last user page (4-level) */
		0x0000800000000000UL,	/* first non-canonical */
		0x00ff000000000000UL,	/* user with 5-level paging */
		0x8000000000000000UL,	/* non-canonical */
		0xffff800000000000UL,	/* kernel: first canonical */
		0xffff888000000000UL,	/* kernel: direct map */
		0xffffffff81000000UL,	/* kernel: text */
		0xffffffffff600000UL,	/* vsyscall */
#elif defined(__aarch64__)
		0x0000fffffffff000UL,	/* last user page (48-bit VAs) */
		0x0001000000000000UL,	/* past 48 bits */
		0x000ffffffffff000UL,	/* last user page (52-bit VAs) */
		0x0010000000000000UL,	/* past 52 bits */
		0xffff000000000000UL,	/* kernel */
#elif defined(__riscv)
		0x0000003ffffff000UL,	/* last user page (Sv39) */
		0x0000004000000000UL,	/* past Sv39 */
		0x00007ffffffff000UL,	/* last user page (Sv48) */
		0x0000800000000000UL,	/* past Sv48 */
		0x00fffffffffff000UL,	/* last user page (Sv57) */
		0x0100000000000000UL,	/* past Sv57 */
		0xff60000000000000UL,	/* kernel: direct map (Sv57) */
		0xffffffff80000000UL,	/* kernel: text */
#elif defined(__s390x__)
		0x000003fffffff000UL,	/* top of a 3-level space */
		0x0020000000000000UL,	/* past a 4-level space */
		0x8000000000000000UL,
#endif
		-4096UL, -8192UL,
	};
	unsigned long a;

	switch (pick(6)) {
	case 0:
		a = fixed[pick(ARRAY_SIZE(fixed))];
		break;
	case 1:		/* in or around the arena */
		a = (unsigned long)arena - 2 * span +
		    pick((NR_SPANS + 4) * span / page_size) * page_size;
		break;
	case 2:		/* in the big reservation */
		a = (unsigned long)big + pick(big_size / page_size) * page_size;
		break;
	case 3:		/* one of the mappings, edges included */
		a = pick(2) ? areas[pick(nr_areas)].start :
			      areas[pick(nr_areas)].end - page_size;
		break;
	default:	/* anywhere */
		a = next_rand() & ~(page_size - 1);
		if (pick(2))
			a &= (1UL << 47) - 1;
		break;
	}
	switch (pick(8)) {
	case 0:
		a += 1 + pick(page_size - 1);	/* unaligned */
		break;
	case 1:
		a -= page_size;
		break;
	}
	return a;
}

static unsigned long gen_len(unsigned long addr)
{
	switch (pick(10)) {
	case 0: return 0;
	case 1: return 1 + pick(page_size);
	case 2: return page_size;
	case 3: return span;
	case 4: return (1 + pick(3 * NR_SPANS)) * span / 2;
	case 5: return -pick(3) * page_size - pick(2);	/* rounds past the top */
	case 6: return -addr + pick(3) * page_size;	/* ends at the top or wraps */
	case 7: return (unsigned long)max_rw_count + pick(2) * page_size;
	case 8: return 1UL << (40 + pick(23));
	}
	return pick(64 * page_size);
}

/*
 * A range for @adv: anything for MADV_PT_RECLAIM; for the others only
 * ranges madvise() rejects before it looks at memory, or that map nothing.
 */
/*
 * arm64 ignores the top byte of a user address (TBI): madvise() and
 * process_madvise() work on the address with bits 63:56 copied from bit
 * 55 (untagged_addr()). With 52-bit virtual addresses a tagged start and
 * a long length reach the stack: the untagged range counts too.
 */
static unsigned long untag(unsigned long addr)
{
#ifdef __aarch64__
	return (unsigned long)((long)(addr << 8) >> 8);
#else
	return addr;
#endif
}

static void gen_range(int adv, unsigned long *addr, unsigned long *len)
{
	unsigned long alen, u;

	for (;;) {
		*addr = gen_addr();
		*len = gen_len(*addr);
		if (adv == MADV_PT_RECLAIM || !advice_valid(adv))
			return;
		if (model_madvise(*addr, *len, MADV_PT_RECLAIM) == -EINVAL ||
		    !*len)
			return;
		alen = (*len + page_size - 1) & ~(page_size - 1);
		u = untag(*addr);
		if (!touches(*addr, *addr + alen) &&
		    (u == *addr || u + alen < u || !touches(u, u + alen)))
			return;
	}
}

static int gen_advice(void)
{
	switch (pick(4)) {
	case 0:
		return MADV_PT_RECLAIM;
	case 1:
		return (int)next_rand();
	case 2:
		return 95 + pick(10);
	}
	return -2 + pick(40);
}

static bool report(const char *fmt, ...)
{
	va_list ap;

	if (++lines > max_lines)
		return false;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	return true;
}

static const char *res(long r, char *buf, size_t n)
{
	if (r < 0)
		snprintf(buf, n, "%s", strerrorname_np(-r) ?: "?");
	else
		snprintf(buf, n, "%ld", r);
	return buf;
}

/* Part 1: madvise(). Returns the number of mismatches. */
static unsigned long fuzz_madvise(unsigned long calls, unsigned long *nadv)
{
	unsigned long i, bad = 0, addr, len;
	char eb[32], gb[32];
	long want, got;
	int adv;

	for (i = 0; i < calls; i++) {
		if (!(i % 64))
			read_maps();
		adv = gen_advice();
		gen_range(adv, &addr, &len);
		want = model_madvise(addr, len, adv);
		got = madvise((void *)addr, len, adv) ? -errno : 0;
		if (advice_valid(adv))
			(*nadv)++;
		if (got != want) {
			bad++;
			report("madvise(%#lx, %#lx, %d): %s, want %s\n", addr,
			       len, adv, res(got, gb, 32), res(want, eb, 32));
			read_maps();
		}
	}
	return bad;
}

struct pm_call {
	int pidfd;
	struct iovec iov[MAX_SEGS];
	struct iovec *vec;	/* iov, or a bad pointer */
	size_t vlen;
	int adv;
	unsigned int flags;
};

/*
 * The end of the user address space as access_ok() sees it
 * (TASK_SIZE_MAX), with the smaller and the larger virtual address size
 * the kernel may run with: x86_64 4- or 5-level paging, arm64 48- or
 * 52-bit VAs. riscv64 has three (Sv39, Sv48, Sv57): the one the kernel
 * runs with, from /proc/cpuinfo (riscv_user_max()).
 */
#if defined(__x86_64__)
#define USER_MAX_SMALL	((1UL << 47) - page_size)
#define USER_MAX_LARGE	((1UL << 56) - page_size)
#elif defined(__aarch64__)
#define USER_MAX_SMALL	0x0001000000000000UL
#define USER_MAX_LARGE	0x0010000000000000UL
#elif defined(__riscv)
static unsigned long user_max_riscv;
#define USER_MAX_SMALL	user_max_riscv
#define USER_MAX_LARGE	user_max_riscv

/*
 * TASK_SIZE: half of what the top level maps, by the "mmu" line of
 * /proc/cpuinfo; Sv57's when there is none.
 */
static unsigned long riscv_user_max(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	int bits = 57;

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "mmu", 3))
			continue;
		if (strstr(line, "sv39"))
			bits = 39;
		else if (strstr(line, "sv48"))
			bits = 48;
		break;
	}
	if (f)
		fclose(f);
	return 1UL << (bits - 1);
}
#else
#define USER_MAX_SMALL	(-1UL)
#define USER_MAX_LARGE	(-1UL)
#endif

/* access_ok() of the arch, for an iovec of the given length. */
static bool user_ok(unsigned long base, unsigned long len,
		    unsigned long user_max)
{
#if defined(__x86_64__) || defined(__aarch64__) || defined(__riscv)
	unsigned long sum = base + len;

	return sum >= base && sum <= user_max;
#else
	/*
	 * s390: a separate user address space; the access itself checks
	 * the address
	 */
	return true;
#endif
}

/*
 * What process_madvise() returns for @c on a target whose address space
 * is ours (a fork of us or ourselves) and which is allowed (root): the
 * checks in the order the syscall and import_iovec() make them. On
 * x86_64, arm64 and riscv64 the end of what access_ok() allows is @user_max.
 * Segments past MAX_SEGS are empty.
 */
static long model_process_madvise(const struct pm_call *c, bool vec_ok,
				  long pidfd_err, long mm_err,
				  unsigned long user_max)
{
	unsigned long len[MAX_SEGS], total = 0, left, done = 0, off = 0;
	size_t s, nseg = c->vlen < MAX_SEGS ? c->vlen : MAX_SEGS;
	long r = 0;

	if (c->flags)
		return -EINVAL;
	if (c->vlen > UIO_MAXIOV_)
		return -EINVAL;
	if (c->vlen) {
		if (!vec_ok)
			return -EFAULT;
		for (s = 0; s < nseg; s++)
			if ((long)c->iov[s].iov_len < 0)
				return -EINVAL;
		for (s = 0; s < nseg; s++) {
			len[s] = c->iov[s].iov_len;
			if (c->vlen == 1 && len[s] > max_rw_count)
				len[s] = max_rw_count;	/* import_ubuf() */
			if (!user_ok((unsigned long)c->iov[s].iov_base, len[s],
				     user_max))
				return -EFAULT;
			if (len[s] > max_rw_count - total)
				len[s] = max_rw_count - total;
			total += len[s];
		}
	}
	if (pidfd_err)
		return pidfd_err;
	if (!process_advice_valid(c->adv))
		return -EINVAL;
	if (mm_err)
		return mm_err;		/* the task has no mm (a zombie) */

	/*
	 * The iov_iter walk: a leading empty segment is passed on, later
	 * ones are stepped over.
	 */
	s = 0;
	left = total;
	while (left) {
		r = model_madvise((unsigned long)c->iov[s].iov_base + off,
				  len[s] - off, c->adv);
		if (r < 0)
			break;
		done += len[s] - off;
		left -= len[s] - off;
		off = 0;
		for (s++; s < nseg && left && !len[s]; s++)
			;
	}
	return done ? (long)done : r;
}

static long sys_process_madvise(const struct pm_call *c)
{
	return syscall(SYS_process_madvise, c->pidfd, c->vec, c->vlen, c->adv,
		       c->flags);
}

static int sys_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* Part 2: process_madvise(). Returns the number of mismatches. */
static unsigned long fuzz_process_madvise(unsigned long calls,
					  unsigned long *nok)
{
	enum { PF_SELF, PF_CHILD, PF_ZOMBIE, PF_REAPED, PF_FILE, PF_CLOSED,
	       PF_NEG, NR_PF };
	int fds[NR_PF];
	/* pidfd_get_task() fails for these, mm_access() for the zombie */
	long errs[NR_PF] = {
		[PF_REAPED] = -ESRCH, [PF_FILE] = -EBADF, [PF_CLOSED] = -EBADF,
		[PF_NEG] = -EBADF,
	};
	static struct iovec many[UIO_MAXIOV_ + 1];
	unsigned long i, bad = 0, l;
	pid_t child, zombie, reaped;
	char eb[32], gb[32], fb[32];
	long want, want2, got, mm_err;
	struct pm_call c;
	bool vec_ok;
	size_t s;
	int k;

	child = fork();
	if (!child) {
		pause();
		_exit(0);
	}
	zombie = fork();
	if (!zombie)
		_exit(0);
	reaped = fork();
	if (!reaped)
		_exit(0);
	if (child < 0 || zombie < 0 || reaped < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	fds[PF_SELF] = sys_pidfd_open(getpid());
	fds[PF_CHILD] = sys_pidfd_open(child);
	fds[PF_ZOMBIE] = sys_pidfd_open(zombie);
	fds[PF_REAPED] = sys_pidfd_open(reaped);
	if (fds[PF_SELF] < 0 || fds[PF_CHILD] < 0 || fds[PF_ZOMBIE] < 0 ||
	    fds[PF_REAPED] < 0)
		ksft_exit_fail_msg("pidfd_open: %s\n", strerror(errno));
	/* the zombie stays one; the other is gone for good */
	waitid(P_PID, zombie, NULL, WEXITED | WNOWAIT);
	waitpid(reaped, NULL, 0);
	fds[PF_FILE] = open("/proc/self/status", O_RDONLY);
	fds[PF_CLOSED] = dup(fds[PF_FILE]);
	close(fds[PF_CLOSED]);
	fds[PF_NEG] = -1;

	for (i = 0; i < calls; i++) {
		if (!(i % 64))
			read_maps();
		memset(&c, 0, sizeof(c));
		k = pick(8) < 5 ? PF_SELF + pick(2) : pick(NR_PF);
		c.pidfd = fds[k];
		c.adv = pick(4) ? MADV_PT_RECLAIM : gen_advice();
		c.flags = pick(16) ? 0 : 1U << pick(32);
		c.vlen = pick(MAX_SEGS + 1);
		c.vec = c.iov;
		vec_ok = true;
		for (s = 0; s < c.vlen; s++) {
			unsigned long a;

			/* other advice: only what maps nothing (gen_range) */
			gen_range(c.adv, &a, &l);
			c.iov[s].iov_base = (void *)a;
			c.iov[s].iov_len = l;
		}
		switch (pick(16)) {
		case 0:
			c.vec = NULL;
			vec_ok = false;
			break;
		case 1:
			c.vec = (struct iovec *)-4096UL;
			vec_ok = false;
			break;
		case 2:
			/* UIO_MAXIOV empty segments, or one more */
			c.vec = many;
			c.vlen = UIO_MAXIOV_ + pick(2);
			memset(c.iov, 0, sizeof(c.iov));
			break;
		}
		mm_err = k == PF_ZOMBIE ? -ESRCH : 0;
		want = model_process_madvise(&c, vec_ok, errs[k], mm_err,
					     USER_MAX_SMALL);
		want2 = model_process_madvise(&c, vec_ok, errs[k], mm_err,
					      USER_MAX_LARGE);
		got = sys_process_madvise(&c);
		if (got < 0)
			got = -errno;
		if (got >= 0)
			(*nok)++;
		if (got != want && got != want2) {
			bad++;
			/* pidfd kind, vec, vlen, advice, flags */
			if (report("process_madvise(%d, %p, %zu, %d, %#x): %s, want %s%s%s\n",
				   k, c.vec, c.vlen, c.adv, c.flags,
				   res(got, gb, 32), res(want, eb, 32),
				   want2 != want ? " or " : "",
				   want2 != want ? res(want2, fb, 32) : ""))
				for (s = 0; s < c.vlen && s < MAX_SEGS; s++)
					report("  iov[%zu] = { %p, %#zx }\n", s,
					       c.iov[s].iov_base,
					       c.iov[s].iov_len);
			read_maps();
		}
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	waitpid(zombie, NULL, 0);
	for (k = 0; k < PF_CLOSED; k++)
		close(fds[k]);
	return bad;
}

/* Does process_madvise(MADV_PT_RECLAIM) give @want (bytes or -errno)? */
static bool pm_reclaim_gives(int pidfd, struct iovec *iov, long want,
			     const char *what)
{
	char gb[32], wb[32];
	long got;

	got = syscall(SYS_process_madvise, pidfd, iov, 1, MADV_PT_RECLAIM, 0);
	if (got < 0)
		got = -errno;
	if (got == want)
		return true;
	printf("# %s: %s, want %s\n", what, res(got, gb, 32), res(want, wb, 32));
	return false;
}

/*
 * Part 3: who may reclaim whom. An unprivileged process may reclaim its
 * own tables through process_madvise(), gets EACCES for a process it may
 * not ptrace (PTRACE_MODE_READ) and EPERM for one it may ptrace but
 * without CAP_SYS_NICE. Runs in a child that drops to nobody.
 */
static bool permissions(void)
{
	struct iovec iov = { .iov_base = arena, .iov_len = span };
	int pfd[2], self, rootfd, peerfd, status;
	pid_t child, peer, root = getpid();
	bool ok;
	char c;

	if (!is_root) {
		ksft_print_msg("%s: not root, cannot drop to nobody\n", __func__);
		return false;
	}
	if (pipe(pfd))
		return false;
	child = fork();
	if (!child) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		/* a changed uid makes a process undumpable: not ptraceable */
		prctl(PR_SET_DUMPABLE, 1);
		peer = fork();
		if (!peer) {
			close(pfd[1]);
			prctl(PR_SET_DUMPABLE, 1);
			read(pfd[0], &c, 1);
			_exit(0);
		}
		self = sys_pidfd_open(getpid());
		rootfd = sys_pidfd_open(root);
		peerfd = sys_pidfd_open(peer);
		if (self < 0 || rootfd < 0 || peerfd < 0)
			_exit(3);
		ok = pm_reclaim_gives(self, &iov, span, "nobody on itself");
		ok = pm_reclaim_gives(rootfd, &iov, -EACCES, "nobody on root") && ok;
		ok = pm_reclaim_gives(peerfd, &iov, -EPERM, "nobody on nobody") && ok;
		fflush(stdout);
		close(pfd[1]);
		waitpid(peer, NULL, 0);
		_exit(ok ? 0 : 1);
	}
	close(pfd[0]);
	close(pfd[1]);
	if (child < 0 || waitpid(child, &status, 0) != child)
		return false;
	return WIFEXITED(status) && !WEXITSTATUS(status);
}

/*
 * The byte main() wrote at offset @o of the arena, where a page was
 * touched: one more than the page's number among those touched (up to
 * 250), so that a page read back from the wrong place shows.
 */
static char arena_byte(unsigned long o)
{
	return 1 + (o / (span / 4)) % 250;
}

/*
 * After all the reclaims: does every page main() touched still hold its
 * byte (0 in the spans it gave back with MADV_DONTNEED)? The spans it
 * unmapped or made PROT_NONE are not read. A table freed with a page in
 * it reads 0 here. Reports each bad byte; returns how many.
 */
static unsigned long arena_bad(unsigned long *checked)
{
	unsigned long o, s, bad = 0;
	char want;

	*checked = 0;
	for (o = 0; o < NR_SPANS * span; o += span / 4) {
		s = o / span;
		if (s == HOLE_SPAN || s == NONE_SPAN)
			continue;
		want = (s == ZAPPED_SPAN || s == ZAPPED_SPAN + 1) ? 0 :
		       arena_byte(o);
		(*checked)++;
		if (arena[o] != want) {
			bad++;
			report("arena + %#lx: %d, want %d\n", o, arena[o], want);
		}
	}
	return bad;
}

static void print_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n CALLS] [-S SEED] [-m LINES]\n"
		"  -n CALLS  calls per syscall (default 20000)\n"
		"  -S SEED   seed (default: from the clock, printed)\n"
		"  -m LINES  mismatches printed at most (default 20)\n", prog);
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	unsigned long calls = 20000, bad, nadv = 0, nok = 0, o;
	unsigned long long seed = time(NULL) ^ getpid();
	char *r;
	int opt;

	while ((opt = getopt(argc, argv, "n:S:m:")) != -1) {
		switch (opt) {
		case 'n':
			calls = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			max_lines = strtoul(optarg, NULL, 0);
			break;
		default:
			print_usage(argv[0]);
		}
	}
	ksft_print_header();
	ksft_set_plan(4);

	page_size = getpagesize();
	span = pte_table_span();
	if (!span)
		ksft_exit_fail_msg("cannot tell the span of a PTE table\n");
	max_rw_count = INT_MAX & ~(page_size - 1);
#ifdef __riscv
	user_max_riscv = riscv_user_max();
#endif
	is_root = !geteuid();
	have_ksm = !access("/sys/kernel/mm/ksm", F_OK);
	have_thp = proc_kb("/proc/meminfo", "AnonHugePages") >= 0;
	have_memory_failure = !access("/proc/sys/vm/memory_failure_recovery",
				      F_OK);
	rng = seed ? seed : 1;
	ksft_print_msg("seed %llu, %lu calls each; KSM %s, THP %s, memory failure %s\n",
		       seed, calls, have_ksm ? "yes" : "no", have_thp ? "yes" : "no",
		       have_memory_failure ? "yes" : "no");

	/* NR_SPANS spans at a span boundary, touched, then holes punched */
	r = mmap(NULL, (NR_SPANS + 1) * span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	big = mmap(NULL, big_size, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED || big == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	arena = (char *)(((unsigned long)r + span - 1) & ~(span - 1));
	for (o = 0; o < NR_SPANS * span; o += span / 4)
		arena[o] = arena_byte(o);
	if (madvise(arena, span, MADV_PT_RECLAIM) && errno == EINVAL)
		ksft_exit_fail_msg("MADV_PT_RECLAIM: EINVAL: kernel without the feature\n");
	munmap(arena + HOLE_SPAN * span, span);
	munmap(arena + 7 * span + 5 * page_size, page_size);
	mprotect(arena + NONE_SPAN * span, span, PROT_NONE);
	madvise(arena + ZAPPED_SPAN * span, 2 * span, MADV_DONTNEED);

	bad = fuzz_madvise(calls, &nadv);
	ksft_test_result(!bad,
			 "madvise: %lu calls (%lu with a valid advice), %lu not as documented\n",
			 calls, nadv, bad);
	bad = fuzz_process_madvise(calls, &nok);
	ksft_test_result(!bad && nok,
			 "process_madvise: %lu calls (%lu succeeded), %lu not as documented\n",
			 calls, nok, bad);
	ksft_test_result(permissions(),
			 "process_madvise: nobody may reclaim itself, not root (EACCES), not another nobody (EPERM)\n");
	bad = arena_bad(&o);
	ksft_test_result(!bad && o, "arena: %lu touched pages read back, %lu wrong\n",
			 o, bad);
	if (lines > max_lines)
		ksft_print_msg("%u more lines not shown (-m)\n", lines - max_lines);
	ksft_finished();
}
