// SPDX-License-Identifier: GPL-2.0
/*
 * MADV_PT_RECLAIM torture: data must survive page tables being freed
 * under every path that maps, moves or zaps memory at the same time.
 *
 * The region is cut into slots of one PTE table span each. Each worker
 * thread owns some slots and is the only one to change their contents: it
 * writes a pattern that names the page and a generation, keeps a shadow of
 * what each page must hold, and races on its own slots MADV_DONTNEED,
 * MADV_PT_RECLAIM, mmap(MAP_FIXED) and munmap, mprotect, mremap, fork (the
 * child verifies, reclaims and writes, the parent checks COW kept its
 * data), MADV_COLLAPSE where THP exists, and, where userfaultfd offers
 * them, UFFDIO_MOVE and uffd-wp markers (a marker must outlive a reclaim);
 * swap-out (MADV_PAGEOUT: swap entries keep their table), GUP-fast
 * (vmsplice() into a pipe, read back), migration (MADV_SOFT_OFFLINE,
 * with memory failure handling: it retires up to 65 page frames until the
 * next boot) and MGLRU aging (its page table walk), each where the
 * kernel has it.
 * Meanwhile reclaimer threads call MADV_PT_RECLAIM over random parts of the
 * whole region, and another process does the same through
 * process_madvise(). A PMD table worker writes a few pages spread over a
 * whole PMD table span (one anonymous, one shmem), verifies them, empties
 * the span and starts over, while the reclaimers also free its PTE and
 * PMD tables. A uffd collapse worker collapses (MADV_COLLAPSE) shmem
 * THPs mapped through userfaultfd minor faults while another thread races
 * it with MADV_PT_RECLAIM, MADV_DONTNEED and UFFDIO_CONTINUE, COPY,
 * ZEROPAGE and POISON (more below). Every page is verified against its
 * shadow; every mismatch is printed with its address (a run of bad pages
 * as one line, at most -m lines per worker; the count is always exact).
 *
 * Each worker draws its operations from its own generator seeded from
 * --seed, so a worker's sequence is reproducible; the interleaving of the
 * threads is not. The run ends after --seconds or --ops operations per
 * worker. It fails on any mismatch, on an operation failing in a way it
 * must not, on an operation the setup offers never done, or when no table
 * was reclaimed (pt_reclaim_freed in /proc/vmstat did not move), nor any
 * PMD table (pt_reclaim_pmd_freed), nor any uffd-registered THP
 * collapsed, or, with two CPUs or more, when the lockless scan never lost
 * a race to the locked re-check (pt_reclaim_raced).
 *
 * usage: pt_reclaim_torture [-s SECONDS] [-n OPS] [-w WORKERS]
 *                           [-r RECLAIMERS] [-S SEED] [-m LINES] [-v]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../kselftest.h"
#include "vm_util.h"
#include "thp_settings.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif

#define MAX_WORKERS	16
#define SLOTS_PER_WORKER 4

/* What a page must hold: written by @origin (a page index) at @gen. */
struct shadow {
	uint32_t gen;		/* 0: the page must read as zero */
	uint32_t origin;
};

enum op {
	OP_WRITE, OP_VERIFY, OP_DONTNEED, OP_RECLAIM, OP_REMAP, OP_MUNMAP,
	OP_MPROTECT, OP_MREMAP, OP_FORK, OP_COLLAPSE, OP_UFFD_MOVE,
	OP_UFFD_WP, OP_FLIP, OP_PAGEOUT, OP_GUP, OP_OFFLINE,
	OP_AGE, NR_OPS
};

static const char * const op_name[NR_OPS] = {
	"write", "verify", "dontneed", "reclaim", "remap", "munmap",
	"mprotect", "mremap", "fork", "collapse", "uffd_move", "uffd_wp",
	"flip", "pageout", "gup", "offline", "age",
};

/* How often each operation is drawn, out of the sum. */
static const unsigned int op_weight[NR_OPS] = {
	[OP_WRITE] = 30, [OP_VERIFY] = 10, [OP_DONTNEED] = 12,
	[OP_RECLAIM] = 8, [OP_REMAP] = 3, [OP_MUNMAP] = 3, [OP_MPROTECT] = 4,
	[OP_MREMAP] = 4, [OP_FORK] = 1, [OP_COLLAPSE] = 2, [OP_UFFD_MOVE] = 6,
	[OP_UFFD_WP] = 3, [OP_FLIP] = 6, [OP_PAGEOUT] = 3, [OP_GUP] = 4,
	[OP_OFFLINE] = 1, [OP_AGE] = 1,
};

struct worker {
	pthread_t thread;
	int id;
	uint64_t rng;
	uint32_t gen;
	char *scratch;			/* one span, for mremap */
	char *gup_buf;			/* GUP_PAGES pages, for op_gup() */
	int pipe[2];			/* for op_gup() */
	struct shadow *shadow;		/* per page of the region */
	unsigned long done[NR_OPS];	/* operations that did their work */
	unsigned long declined[NR_OPS];	/* refused in an allowed way */
	unsigned long mismatches;
	unsigned long reports;		/* mismatch lines printed */
	unsigned long failures;
};

static unsigned long page_size, span, pages_per_span;
static unsigned long nr_slots, nr_pages;
static char *region;
static int nr_workers = 2, nr_reclaimers = 1;
static unsigned long max_ops = ~0UL;
static unsigned int seconds = 20;
static unsigned long max_reports = 100;
static uint64_t seed;
static bool verbose;
static struct worker workers[MAX_WORKERS];
static atomic_bool stop;
static pthread_barrier_t start_line;	/* the workers and main() */
static atomic_ulong reclaim_calls;
static int uffd = -1;
static bool have_move, have_wp, have_thp, have_swap, have_offline;
static bool thp_fits;	/* a THP's size is at most 1/16 of MemTotal */
static bool have_lru_gen;
static atomic_ulong offlined;
static int pagemap_fd = -1;

/* The PMD table worker's areas, of one PMD table span each (pud_span). */
#define PMD_PAGES 8
static unsigned long pud_span;
static char *pmd_area[2];	/* anonymous, shmem */
static unsigned long pmd_rounds, pmd_mismatches, pmd_failures;

/* xorshift64*: small, and the same sequence on every arch. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static unsigned long rnd_below(struct worker *w, unsigned long n)
{
	return rnd(&w->rng) % n;
}

static char *page_addr(unsigned long idx)
{
	return region + idx * page_size;
}

/*
 * The first page of slot @k of worker @w: slots are dealt round robin,
 * and named by their first page everywhere below.
 */
static unsigned long slot_base(struct worker *w, unsigned long k)
{
	return (w->id + k * nr_workers) * pages_per_span;
}

static unsigned long random_slot(struct worker *w)
{
	return slot_base(w, rnd_below(w, SLOTS_PER_WORKER));
}

/* The first page of the slot that holds page @idx. */
static unsigned long slot_of_page(unsigned long idx)
{
	return idx - idx % pages_per_span;
}

/* MADV_PT_RECLAIM over the whole slot that starts at page @base. */
static int reclaim_slot(unsigned long base)
{
	return madvise(page_addr(base), span, MADV_PT_RECLAIM);
}

static __printf(2, 3) void report(struct worker *w, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "# worker %d: ", w ? w->id : -1);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	/* One write(2) per line: threads and fork children print too. */
	if (write(STDOUT_FILENO, buf, strlen(buf)) < 0)
		return;
}

/* Past max_reports lines from this worker, say so once and be quiet. */
static bool quiet(struct worker *w)
{
	if (!max_reports || w->reports++ < max_reports)
		return false;
	if (w->reports == max_reports + 1)
		report(w, "more failures and mismatches: not printed (-m)\n");
	return true;
}

static void fail(struct worker *w, enum op which, const char *what)
{
	w->failures++;
	if (!quiet(w))
		report(w, "FAIL: %s: %s: %s\n", op_name[which], what,
		       strerror(errno));
}

static void write_page(struct worker *w, unsigned long idx)
{
	uint64_t *p = (uint64_t *)page_addr(idx);

	w->gen++;
	if (!w->gen)
		w->gen = 1;
	p[0] = (uintptr_t)p;
	p[1] = w->gen;
	p[page_size / 8 - 1] = ~(uintptr_t)p ^ w->gen;
	w->shadow[idx].gen = w->gen;
	w->shadow[idx].origin = idx;
}

/*
 * Check the page of index @idx, now mapped at @at (the page itself, or
 * where mremap put it), against its shadow. A page that must be zero is
 * read only now and then: reading maps the zero page, and a table full of
 * zero-page entries is one reclaim can never free.
 */
static bool page_ok(struct worker *w, unsigned long idx, const char *at)
{
	const uint64_t *p = (const uint64_t *)at;
	struct shadow s = w->shadow[idx];
	uint64_t want = 0;

	if (!s.gen && rnd_below(w, 8))
		return true;
	if (s.gen)
		want = (uintptr_t)page_addr(s.origin);
	return p[0] == want && p[1] == s.gen &&
	       p[page_size / 8 - 1] == (s.gen ? ~want ^ s.gen : 0);
}

/*
 * Report @n bad pages from @idx on (mapped at @at): the first one in
 * full, the count of the rest. At most max_reports lines per worker (and
 * per fork child); the count of mismatches is always exact.
 */
static void mismatch(struct worker *w, unsigned long idx, const char *at,
		     unsigned long n, enum op op)
{
	const uint64_t *p = (const uint64_t *)at;
	struct shadow s = w->shadow[idx];

	w->mismatches += n;
	if (quiet(w))
		return;
	report(w, "MISMATCH at %p (page %lu, %s): want gen %u of %p, found %#llx %#llx %#llx%s\n",
	       page_addr(idx), idx, op_name[op], s.gen,
	       s.gen ? page_addr(s.origin) : NULL,
	       (unsigned long long)p[0], (unsigned long long)p[1],
	       (unsigned long long)p[page_size / 8 - 1],
	       n > 1 ? ", and so on" : "");
	if (n > 1)
		report(w, "MISMATCH at %p..%p: %lu pages in a row\n",
		       page_addr(idx), page_addr(idx + n) - 1, n);
}

static void verify_page(struct worker *w, unsigned long idx, const char *at,
			enum op op)
{
	if (!page_ok(w, idx, at))
		mismatch(w, idx, at, 1, op);
}

/* Runs of bad pages are reported as one: a lost table is 512 of them. */
static void verify_range(struct worker *w, unsigned long first,
			 unsigned long n, const char *at, enum op op)
{
	unsigned long i, bad = 0;

	for (i = 0; i < n; i++) {
		if (!page_ok(w, first + i, at + i * page_size)) {
			bad++;
			continue;
		}
		if (bad)
			mismatch(w, first + i - bad,
				 at + (i - bad) * page_size, bad, op);
		bad = 0;
	}
	if (bad)
		mismatch(w, first + n - bad, at + (n - bad) * page_size, bad,
			 op);
}

/* The pages of the slot at @base that must hold data (never read a hole). */
static void verify_written(struct worker *w, unsigned long base, enum op op)
{
	unsigned long i;

	for (i = 0; i < pages_per_span; i++)
		if (w->shadow[base + i].gen)
			verify_page(w, base + i, page_addr(base + i), op);
}

static void forget_range(struct worker *w, unsigned long first,
			 unsigned long n)
{
	memset(&w->shadow[first], 0, n * sizeof(*w->shadow));
}

/* A random run of pages inside one of @w's slots: [*first, *first + n). */
static unsigned long random_run(struct worker *w, unsigned long *first)
{
	unsigned long base = random_slot(w);
	unsigned long a, n;

	if (!rnd_below(w, 3)) {
		*first = base;
		return pages_per_span;
	}
	a = rnd_below(w, pages_per_span);
	n = 1 + rnd_below(w, pages_per_span - a);
	*first = base + a;
	return n;
}

/* Whole slots of @w go through all operations; tables do too. */
static void op_write(struct worker *w)
{
	unsigned long base = random_slot(w);
	unsigned long i, n = 1 + rnd_below(w, 8);

	for (i = 0; i < n; i++)
		write_page(w, base + rnd_below(w, pages_per_span));
	w->done[OP_WRITE]++;
}

static void op_verify(struct worker *w)
{
	unsigned long base = random_slot(w);

	verify_range(w, base, pages_per_span, page_addr(base), OP_VERIFY);
	w->done[OP_VERIFY]++;
}

static void op_dontneed(struct worker *w)
{
	unsigned long first, n = random_run(w, &first);

	if (madvise(page_addr(first), n * page_size, MADV_DONTNEED))
		return fail(w, OP_DONTNEED, "madvise");
	forget_range(w, first, n);
	w->done[OP_DONTNEED]++;
}

/* Our own slots are always mapped when we get here: 0 or it failed. */
static void op_reclaim(struct worker *w)
{
	unsigned long base = random_slot(w);

	if (reclaim_slot(base))
		return fail(w, OP_RECLAIM, "madvise");
	verify_range(w, base, pages_per_span, page_addr(base), OP_RECLAIM);
	w->done[OP_RECLAIM]++;
}

/* mmap(MAP_FIXED) over a run: the old pages and their tables go. */
static void op_remap(struct worker *w)
{
	unsigned long first, n = random_run(w, &first);
	void *p;

	p = mmap(page_addr(first), n * page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return fail(w, OP_REMAP, "mmap MAP_FIXED");
	forget_range(w, first, n);
	w->done[OP_REMAP]++;
}

/*
 * munmap a run, reclaim over the hole (ENOMEM: the rest is still done),
 * and map it again. Nothing else in this program maps memory while the
 * workers run, so the hole is still ours: every thread is created before
 * the workers start (worker_main() waits at start_line), and malloc() keeps
 * to the main arena (main()'s mallopt()). A hole can be as large as a PTE
 * table's span (512 MiB with 64 KiB pages), room for a thread stack or a
 * 64 MiB glibc arena.
 */
static void op_munmap(struct worker *w)
{
	unsigned long first, n = random_run(w, &first);
	void *p;

	if (munmap(page_addr(first), n * page_size))
		return fail(w, OP_MUNMAP, "munmap");
	forget_range(w, first, n);
	errno = 0;
	if (!reclaim_slot(slot_of_page(first)) || errno != ENOMEM)
		fail(w, OP_MUNMAP, "MADV_PT_RECLAIM over a hole did not give ENOMEM");
	p = mmap(page_addr(first), n * page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE |
		 MAP_NORESERVE, -1, 0);
	if (p != page_addr(first)) {
		fail(w, OP_MUNMAP, "mmap MAP_FIXED_NOREPLACE into our hole");
		ksft_exit_fail_msg("lost part of the region at %p\n",
				   page_addr(first));
	}
	w->done[OP_MUNMAP]++;
}

/* Read-only for a while (the VMA splits), verified, then writable again. */
static void op_mprotect(struct worker *w)
{
	unsigned long first, n = random_run(w, &first);
	char *p = page_addr(first);

	if (mprotect(p, n * page_size, PROT_READ))
		return fail(w, OP_MPROTECT, "mprotect PROT_READ");
	madvise(p, n * page_size, MADV_PT_RECLAIM);
	verify_range(w, first, n, p, OP_MPROTECT);
	if (mprotect(p, n * page_size, PROT_READ | PROT_WRITE))
		return fail(w, OP_MPROTECT, "mprotect back");
	w->done[OP_MPROTECT]++;
}

/*
 * Does one VMA hold all of [p, p + len)? mremap() of a range over several
 * VMAs fails with EFAULT on 6.12, and newer kernels move some of them
 * before they fail: only single-VMA runs are moved.
 */
static bool in_one_vma(const char *p, size_t len)
{
	unsigned long start, end;
	bool found = false;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    start <= (uintptr_t)p && (uintptr_t)p < end)
			found = (uintptr_t)p + len <= end;
	fclose(f);
	return found;
}

/* Move a run to the scratch area and back; reclaim both places between. */
static void op_mremap(struct worker *w)
{
	unsigned long first, n = random_run(w, &first);
	char *p = page_addr(first), *s = w->scratch;

	if (!in_one_vma(p, n * page_size)) {
		w->declined[OP_MREMAP]++;
		return;
	}
	if (mremap(p, n * page_size, n * page_size,
		   MREMAP_MAYMOVE | MREMAP_FIXED, s) != s)
		return fail(w, OP_MREMAP, "mremap out");
	reclaim_slot(slot_of_page(first));
	madvise(s, span, MADV_PT_RECLAIM);
	verify_range(w, first, n, s, OP_MREMAP);
	if (mremap(s, n * page_size, n * page_size,
		   MREMAP_MAYMOVE | MREMAP_FIXED, p) != p) {
		fail(w, OP_MREMAP, "mremap back");
		ksft_exit_fail_msg("lost part of the region at %p\n", p);
	}
	/* The run's part of the scratch area left with it: map it again. */
	if (mmap(s, n * page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE |
		 MAP_NORESERVE, -1, 0) != s)
		ksft_exit_fail_msg("lost the scratch area at %p\n", s);
	verify_range(w, first, n, p, OP_MREMAP);
	w->done[OP_MREMAP]++;
}

/*
 * The child sees the parent's memory at fork: it reclaims, verifies all
 * of the worker's slots, writes some pages (COW) and verifies them. Then
 * the parent checks that the child's writes did not reach it.
 */
static void op_fork(struct worker *w)
{
	unsigned long k, base, i;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return fail(w, OP_FORK, "fork");
	if (!pid) {
		for (k = 0; k < SLOTS_PER_WORKER; k++) {
			base = slot_base(w, k);
			reclaim_slot(base);
			verify_range(w, base, pages_per_span, page_addr(base),
				     OP_FORK);
			for (i = 0; i < 4; i++)
				write_page(w, base + rnd_below(w, pages_per_span));
			reclaim_slot(base);
			verify_written(w, base, OP_FORK);
		}
		_exit(w->mismatches ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return fail(w, OP_FORK, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		w->mismatches++;
		if (!quiet(w))
			report(w, "MISMATCH in a fork child (status %#x)\n",
			       status);
	}
	for (k = 0; k < SLOTS_PER_WORKER; k++) {
		base = slot_base(w, k);
		verify_range(w, base, pages_per_span, page_addr(base), OP_FORK);
	}
	w->done[OP_FORK]++;
}

static void op_collapse(struct worker *w)
{
	unsigned long base = random_slot(w);
	char *p = page_addr(base);

	if (!have_thp || !thp_fits) {
		w->declined[OP_COLLAPSE]++;
		return;
	}
	/* EAGAIN, EINVAL (uffd-wp entries), ENOMEM: collapse is best effort. */
	if (madvise(p, span, MADV_COLLAPSE))
		w->declined[OP_COLLAPSE]++;
	else
		w->done[OP_COLLAPSE]++;
	verify_range(w, base, pages_per_span, p, OP_COLLAPSE);
}

/* (Re)register a slot: mmap, mremap and munmap drop the registration. */
static bool uffd_register_slot(struct worker *w, unsigned long base)
{
	struct uffdio_register reg = {
		.range = { (uintptr_t)page_addr(base), span },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (!ioctl(uffd, UFFDIO_REGISTER, &reg))
		return true;
	fail(w, OP_UFFD_WP, "UFFDIO_REGISTER");
	return false;
}

/* From a random page of a slot on, the first whose shadow is (not) zero. */
static unsigned long find_page(struct worker *w, unsigned long base,
			       bool written)
{
	unsigned long i, start = rnd_below(w, pages_per_span), idx;

	for (i = 0; i < pages_per_span; i++) {
		idx = base + (start + i) % pages_per_span;
		if (!w->shadow[idx].gen != written)
			return idx;
	}
	return base + start;
}

/*
 * Move a written page onto a page that must be zero: in the same slot,
 * or (three times in eight) in another slot, whose table may be empty
 * and freed by a reclaimer while the move looks it up (UFFDIO_MOVE must
 * then start over, not move the page into the freed table).
 */
static void op_uffd_move(struct worker *w)
{
	unsigned long base = random_slot(w);
	unsigned long dbase = rnd_below(w, 2) ? random_slot(w) : base;
	unsigned long src = find_page(w, base, true);
	unsigned long dst = find_page(w, dbase, false);
	struct uffdio_move mv = {
		.dst = (uintptr_t)page_addr(dst),
		.src = (uintptr_t)page_addr(src),
		.len = page_size,
	};

	if (!have_move || src == dst || !w->shadow[src].gen ||
	    w->shadow[dst].gen || !uffd_register_slot(w, base) ||
	    (dbase != base && !uffd_register_slot(w, dbase))) {
		w->declined[OP_UFFD_MOVE]++;
		return;
	}
	if (ioctl(uffd, UFFDIO_MOVE, &mv)) {
		/*
		 * EEXIST: dst maps the zero page; EBUSY: src is shared with
		 * a fork child; EAGAIN: a race, try again some other time.
		 */
		if (errno != EEXIST && errno != EBUSY && errno != EAGAIN)
			return fail(w, OP_UFFD_MOVE, "UFFDIO_MOVE");
		w->declined[OP_UFFD_MOVE]++;
		return;
	}
	w->shadow[dst] = w->shadow[src];
	w->shadow[src].gen = 0;
	verify_page(w, dst, page_addr(dst), OP_UFFD_MOVE);
	w->done[OP_UFFD_MOVE]++;
}

/* Is every page of [first, first + n) write-protected (pte or marker)? */
static bool uffd_wp_all(unsigned long first, unsigned long n,
			unsigned long *bad)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		/* (It exits the whole test when pagemap cannot be read.) */
		uint64_t ent = pagemap_get_entry(pagemap_fd,
						 page_addr(first + i));

		if (!(ent & PM_UFFD_WP)) {
			*bad = first + i;
			return false;
		}
	}
	return true;
}

/*
 * Write-protect a run: its none entries get uffd-wp markers. A reclaim
 * must keep the tables that hold them; then unprotect and verify.
 */
static void op_uffd_wp(struct worker *w)
{
	unsigned long first, n = random_run(w, &first), bad;
	unsigned long base = slot_of_page(first);
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)page_addr(first), n * page_size },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};

	if (!have_wp || !uffd_register_slot(w, base)) {
		w->declined[OP_UFFD_WP]++;
		return;
	}
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
		return fail(w, OP_UFFD_WP, "UFFDIO_WRITEPROTECT");
	if (uffd_wp_all(first, n, &bad)) {
		reclaim_slot(base);
		if (!uffd_wp_all(first, n, &bad)) {
			w->mismatches++;
			if (!quiet(w))
				report(w, "MISMATCH at %p: uffd-wp marker lost\n",
				       page_addr(bad));
		}
	} else {
		w->failures++;
		if (!quiet(w))
			report(w, "FAIL: uffd_wp: %p not write-protected\n",
			       page_addr(bad));
	}
	/* Left protected, the next write there would wait for us forever. */
	wp.mode = 0;
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		fail(w, OP_UFFD_WP, "UFFDIO_WRITEPROTECT off");
		ksft_exit_fail_msg("%p left write-protected\n", page_addr(first));
	}
	verify_range(w, first, n, page_addr(first), OP_UFFD_WP);
	w->done[OP_UFFD_WP]++;
}

/*
 * Empty a slot, then many times: fault one page in, verify it, zap it.
 * Each fault lands in an empty table (or none at all), the one moment a
 * reclaimer that does not re-check under the lock would free a table
 * that has just got an entry.
 */
static void op_flip(struct worker *w)
{
	unsigned long base = random_slot(w), idx, i;

	if (madvise(page_addr(base), span, MADV_DONTNEED))
		return fail(w, OP_FLIP, "madvise MADV_DONTNEED");
	forget_range(w, base, pages_per_span);
	for (i = 0; i < 64; i++) {
		idx = base + rnd_below(w, pages_per_span);
		write_page(w, idx);
		verify_page(w, idx, page_addr(idx), OP_FLIP);
		if (madvise(page_addr(idx), page_size, MADV_DONTNEED))
			return fail(w, OP_FLIP, "madvise MADV_DONTNEED");
		forget_range(w, idx, 1);
	}
	w->done[OP_FLIP]++;
}

/*
 * Swap a run out: its written pages become swap entries, which must keep
 * their table through a reclaim of the slot (and through the reclaimers'
 * at any time); reading the pages swaps them back in. Done when at least
 * one page of the run was seen swapped out.
 */
static void op_pageout(struct worker *w)
{
	unsigned long first, n = random_run(w, &first), i, swapped = 0;

	if (!have_swap) {
		w->declined[OP_PAGEOUT]++;
		return;
	}
	if (madvise(page_addr(first), n * page_size, MADV_PAGEOUT))
		return fail(w, OP_PAGEOUT, "madvise MADV_PAGEOUT");
	/*
	 * One read of pagemap each: vm_util's pagemap_is_swapped() also asks
	 * PAGEMAP_SCAN and exits on a difference, which a page swapped out by
	 * the kernel's own reclaim between the two would cause.
	 */
	for (i = 0; i < n; i++)
		if (w->shadow[first + i].gen &&
		    (pagemap_get_entry(pagemap_fd, page_addr(first + i)) &
		     PM_SWAP))
			swapped++;
	if (reclaim_slot(slot_of_page(first)))
		return fail(w, OP_PAGEOUT, "MADV_PT_RECLAIM");
	verify_range(w, first, n, page_addr(first), OP_PAGEOUT);
	if (swapped)
		w->done[OP_PAGEOUT]++;
	else
		w->declined[OP_PAGEOUT]++;
}

/*
 * Take a run of pages into a pipe with vmsplice(), which gets them through
 * GUP-fast: a walk of the page tables with interrupts off and no lock,
 * racing the reclaimers that free tables of the same slots. The pipe
 * holds references to the pages; read back, they must hold their data.
 */
#define GUP_PAGES	16	/* a pipe's default number of buffers */
static void op_gup(struct worker *w)
{
	unsigned long first, n = random_run(w, &first);
	struct iovec iov = { page_addr(first), 0 };
	ssize_t got, r, total;

	if (n > GUP_PAGES)
		n = GUP_PAGES;
	iov.iov_len = n * page_size;
	got = vmsplice(w->pipe[1], &iov, 1, SPLICE_F_NONBLOCK);
	if (got < 0)
		return fail(w, OP_GUP, "vmsplice");
	for (total = 0; total < got; total += r) {
		r = read(w->pipe[0], w->gup_buf + total, got - total);
		if (r <= 0)
			return fail(w, OP_GUP, "read from the pipe");
	}
	if (got % page_size) {
		errno = 0;
		return fail(w, OP_GUP, "vmsplice took part of a page");
	}
	verify_range(w, first, got / page_size, w->gup_buf, OP_GUP);
	w->done[OP_GUP]++;
}

/*
 * Migrate a written page with MADV_SOFT_OFFLINE (where the kernel has
 * memory failure handling): while it moves, a migration entry stands for
 * it, which must keep the table; after, a new page frame must hold the
 * data. Each call takes a page frame out of use for good (it is marked
 * poisoned, as a failing one would be, until the next boot): a run
 * offlines at most OFFLINE_MAX pages, and one more to probe.
 */
#define OFFLINE_MAX	64
static void op_offline(struct worker *w)
{
	unsigned long idx = find_page(w, random_slot(w), true);
	unsigned long pfn0, pfn1;
	char *p = page_addr(idx);

	if (!have_offline || !w->shadow[idx].gen ||
	    atomic_fetch_add(&offlined, 1) >= OFFLINE_MAX) {
		w->declined[OP_OFFLINE]++;
		return;
	}
	pfn0 = pagemap_get_pfn(pagemap_fd, p);
	if (madvise(p, page_size, MADV_SOFT_OFFLINE)) {
		/*
		 * EBUSY, EIO, ENOMEM: not isolated or not migrated (a THP
		 * that did not split, a pin, no page to move it to).
		 */
		if (errno != EBUSY && errno != EIO && errno != ENOMEM)
			return fail(w, OP_OFFLINE, "madvise MADV_SOFT_OFFLINE");
		w->declined[OP_OFFLINE]++;
		return;
	}
	pfn1 = pagemap_get_pfn(pagemap_fd, p);
	verify_page(w, idx, p, OP_OFFLINE);
	if (pfn1 != pfn0 && pfn1 != -1UL)
		w->done[OP_OFFLINE]++;
	else
		w->declined[OP_OFFLINE]++;
}

/*
 * Our lruvec in MGLRU's debugfs file: the id of our memory cgroup's block
 * ("memcg ID PATH", the path as /proc/self/cgroup gives it; without
 * memcg, one block of id 0 and no path) and node 0's newest generation in
 * it (" node 0", then " SEQ AGE_MS SIZES..." per generation). False when
 * the file or our block is not there.
 */
#define LRU_GEN_FILE	"/sys/kernel/debug/lru_gen"
static bool lru_gen_find(unsigned int *id, long *max_seq)
{
	char line[512], path[256], mine[256] = "/", *end;
	bool ours = false, node0 = false;
	unsigned int cur;
	long seq;
	FILE *f;
	int nid;

	f = fopen("/proc/self/cgroup", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "0::", 3))
				sscanf(line + 3, "%255s", mine);
		fclose(f);
	}
	f = fopen(LRU_GEN_FILE, "r");
	if (!f)
		return false;
	*max_seq = -1;
	while (fgets(line, sizeof(line), f)) {
		path[0] = 0;
		if (sscanf(line, " memcg %u %255s", &cur, path) >= 1) {
			ours = !path[0] || !strcmp(path, mine);
			if (ours)
				*id = cur;
			node0 = false;
		} else if (sscanf(line, " node %d", &nid) == 1) {
			node0 = ours && !nid;
		} else if (node0) {
			seq = strtol(line, &end, 10);
			if (end != line && seq > *max_seq)
				*max_seq = seq;
		}
	}
	fclose(f);
	return *max_seq >= 0;
}

static bool lru_gen_usable(void)
{
	unsigned int id;
	long seq;

	return !access(LRU_GEN_FILE, W_OK) && lru_gen_find(&id, &seq);
}

/*
 * Age our LRU lists through MGLRU's debugfs command ("+ memcg node seq
 * swappiness force_scan"): where the MMU sets accessed bits, the aging
 * walks the page tables of every mm of the memory cgroup, ours included
 * (walk_pte_range(), under the mmap lock for read like our reclaimers,
 * the table mapped without a pmd re-check) while tables are freed. Done
 * when a new generation was made.
 */
static void op_age(struct worker *w)
{
	unsigned int id = 0;
	long seq = -1, now;
	char cmd[64];
	int fd, n;

	if (!have_lru_gen || !lru_gen_find(&id, &seq)) {
		w->declined[OP_AGE]++;
		return;
	}
	n = snprintf(cmd, sizeof(cmd), "+ %u 0 %ld 1 1\n", id, seq);
	fd = open(LRU_GEN_FILE, O_WRONLY);
	if (fd < 0)
		return fail(w, OP_AGE, "open " LRU_GEN_FILE);
	if (write(fd, cmd, n) != n) {
		close(fd);
		return fail(w, OP_AGE, "write " LRU_GEN_FILE);
	}
	close(fd);
	if (lru_gen_find(&id, &now) && now > seq)
		w->done[OP_AGE]++;
	else
		w->declined[OP_AGE]++;
}

static void (* const op_fn[NR_OPS])(struct worker *) = {
	op_write, op_verify, op_dontneed, op_reclaim, op_remap, op_munmap,
	op_mprotect, op_mremap, op_fork, op_collapse, op_uffd_move,
	op_uffd_wp, op_flip, op_pageout, op_gup, op_offline, op_age,
};

static enum op random_op(struct worker *w)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = rnd_below(w, total);
	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	return i;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long ops, k;

	pthread_barrier_wait(&start_line);
	for (ops = 0; ops < max_ops && !atomic_load(&stop); ops++)
		op_fn[random_op(w)](w);
	/* The last word: every written page of every slot. */
	for (k = 0; k < SLOTS_PER_WORKER; k++)
		verify_written(w, slot_base(w, k), OP_VERIFY);
	return NULL;
}

/* The whole region, one slot, or a random range, aligned or not. */
static void *reclaimer_main(void *arg)
{
	uint64_t rng = seed ^ (0x9e3779b97f4a7c15ULL * (uintptr_t)arg) ^ 1;
	int failed = 0;

	while (!atomic_load(&stop)) {
		unsigned long a = rnd(&rng) % nr_pages;
		unsigned long n = 1 + rnd(&rng) % (nr_pages - a);

		char *p = NULL;

		switch (rnd(&rng) % 4) {
		case 0:
			a = 0;
			n = nr_pages;
			break;
		case 1:
			a = slot_of_page(a);
			n = pages_per_span;
			break;
		case 3:
			/* A whole PMD table span of the PMD table worker. */
			p = pmd_area[rnd(&rng) & 1];
			break;
		}
		if (p) {
			if (madvise(p, pud_span, MADV_PT_RECLAIM) && !failed++)
				report(NULL, "FAIL: reclaimer: MADV_PT_RECLAIM of %p: %s\n",
				       p, strerror(errno));
		} else if (madvise(page_addr(a), n * page_size, MADV_PT_RECLAIM) &&
			   errno != ENOMEM && !failed++) {
			report(NULL, "FAIL: reclaimer: MADV_PT_RECLAIM: %s\n",
			       strerror(errno));
		}
		atomic_fetch_add(&reclaim_calls, 1);
	}
	return (void *)(uintptr_t)failed;
}

/* Do the PMD worker's pages hold what they must (0: zero)? */
static void pmd_verify(char *p, const unsigned long *off, const char *val,
		       int k, const char *when)
{
	int i;

	for (i = 0; i < k; i++) {
		if (p[off[i]] == val[i])
			continue;
		if (pmd_mismatches++ < max_reports || !max_reports)
			report(NULL, "MISMATCH at %p (PMD worker, %s): %d, want %d\n",
			       p + off[i], when, p[off[i]], val[i]);
	}
}

static void pmd_fail(const char *what, char *p)
{
	if (!pmd_failures++)
		report(NULL, "FAIL: PMD worker: %s of %p: %s\n", what, p,
		       strerror(errno));
}

/*
 * Rounds over the two areas in turn: write a page in each of PMD_PAGES
 * PTE tables spread over the span (the first fault builds the PMD table),
 * verify, empty the span (shmem: MADV_DONTNEED, verify that the data came
 * back from the page cache, then MADV_REMOVE), verify zeros (which maps
 * the zero page), empty it again and sometimes reclaim it itself.
 * Meanwhile the reclaimers free the tables: a PMD table freed while an
 * entry was being put under it loses that entry, and the next verify
 * finds zero.
 */
static void *pmd_worker_main(void *arg)
{
	uint64_t rng = seed ^ 0x2545f4914f6cdd1dULL;
	unsigned long tables = pud_span / span, off[PMD_PAGES];
	char val[PMD_PAGES], zero[PMD_PAGES] = {};
	int a = 0, i;

	while (!atomic_load(&stop)) {
		char *p = pmd_area[a];

		for (i = 0; i < PMD_PAGES; i++) {
			unsigned long t = i * (tables / PMD_PAGES) +
					  rnd(&rng) % (tables / PMD_PAGES);

			off[i] = t * span + rnd(&rng) % pages_per_span * page_size;
			val[i] = 1 + rnd(&rng) % 255;
			p[off[i]] = val[i];
		}
		sched_yield();
		pmd_verify(p, off, val, PMD_PAGES, "after write");
		if (madvise(p, pud_span, MADV_DONTNEED))
			pmd_fail("MADV_DONTNEED", p);
		if (a) {
			sched_yield();
			pmd_verify(p, off, val, PMD_PAGES, "shmem after DONTNEED");
			if (madvise(p, pud_span, MADV_REMOVE))
				pmd_fail("MADV_REMOVE", p);
		}
		pmd_verify(p, off, zero, PMD_PAGES, "after emptying");
		if (madvise(p, pud_span, MADV_DONTNEED))
			pmd_fail("MADV_DONTNEED", p);
		if (!(rnd(&rng) % 4) && madvise(p, pud_span, MADV_PT_RECLAIM))
			pmd_fail("MADV_PT_RECLAIM", p);
		pmd_rounds++;
		a ^= 1;
	}
	return NULL;
}

/* The PMD worker's areas: one PMD table span each, aligned; or none. */
static void setup_pmd_areas(void)
{
	long kb;
	int fd;
	char *p;

	pud_span = pmd_table_span(span, &kb);
	if (!pud_span) {
		ksft_print_msg("cannot tell the PMD table span from VmPTE: no PMD table worker\n");
		return;
	}
	p = mmap_aligned(pud_span, pud_span);
	fd = memfd_create("pt_reclaim_torture", 0);
	if (p == MAP_FAILED || fd < 0 || ftruncate(fd, pud_span))
		ksft_exit_fail_msg("PMD areas: %s\n", strerror(errno));
	madvise(p, pud_span, MADV_NOHUGEPAGE);
	pmd_area[0] = p;
	p = mmap_aligned(pud_span, pud_span);
	if (p == MAP_FAILED)
		ksft_exit_fail_msg("PMD areas: %s\n", strerror(errno));
	p = mmap(p, pud_span, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0);
	if (p == MAP_FAILED)
		ksft_exit_fail_msg("PMD areas: %s\n", strerror(errno));
	close(fd);
	madvise(p, pud_span, MADV_NOHUGEPAGE);
	pmd_area[1] = p;
	ksft_print_msg("PMD table worker: %lu MB areas at %p (anonymous), %p (shmem)\n",
		       pud_span >> 20, pmd_area[0], pmd_area[1]);
}

/*
 * The uffd collapse worker: collapse_pte_mapped_thp() against
 * MADV_PT_RECLAIM and userfaultfd, on shmem registered MISSING|MINOR.
 *
 * One memfd of UC_SPANS THP spans, filled once with a pattern that names
 * each page and never written again, is mapped three times: an alias,
 * not registered, to check the page cache; a MAP_SHARED area and a
 * MAP_PRIVATE one, THP-aligned, both registered MISSING|MINOR on a
 * userfaultfd of their own. A read of an unmapped page there is a minor
 * fault, which the handler thread resolves with UFFDIO_CONTINUE: it maps
 * one 4 kB subpage of the THP, so the areas end up PTE-mapped THPs, what
 * MADV_COLLAPSE hands to collapse_pte_mapped_thp().
 *
 * - The collapser (pinned to one CPU) touches a few random pages,
 *   collapses, verifies, zaps with MADV_DONTNEED (which also frees the
 *   tables with vm.pt_reclaim_dontneed) and starts over, on each area in
 *   turn.
 * - The filler (pinned to another CPU) races it with UFFDIO_CONTINUE,
 *   UFFDIO_COPY and UFFDIO_ZEROPAGE (these two fail with EEXIST, but only
 *   after mfill_atomic() has allocated a PTE table: exactly the allocation
 *   that reinstalls a freed table's page at the same pmd), UFFDIO_POISON
 *   on one page of the shared area (checked in pagemap, and now and then
 *   by a read that must raise SIGBUS), MADV_DONTNEED of a THP span of the
 *   private area, and MADV_PT_RECLAIM. Reclaim and allocation run on the
 *   same CPU: the RCU callback frees the table's page to that CPU's
 *   lists, where the next allocation finds it first.
 *
 * What it catches: the page-table use-after-free of a collapse that took
 * a freed table's ptl, or freed a table it did not own (KASAN, lockdep,
 * DEBUG_VM and page_table_check in dmesg); data lost or garbled by a
 * collapse (the pattern, through both the area and the alias); a
 * collapse that never returns, as the abort path that kept the pmd lock
 * without split PTE locks (the join times out); and a UFFDIO_POISON
 * marker that a collapse threw away with its table. The last one is
 * counted, not failed: 6.12 loses it too, when the marker goes into the
 * still linked table between the collapse's steps 2 and 4.
 */
#define UC_SPANS	2
#define UC_MAGIC	0x75636f6c00000000ULL	/* "ucol" */

static unsigned long uc_thp, uc_len, uc_pages, uc_poison_page;
static char *uc_alias, *uc_shared, *uc_private;
static int uc_uffd = -1;
static bool uc_poison;
static atomic_bool uc_handler_stop;
static pthread_t uc_threads[3];		/* handler, collapser, filler */
static pthread_rwlock_t uc_zap_lock = PTHREAD_RWLOCK_INITIALIZER;
static atomic_ulong uc_collapsed, uc_declined, uc_filled, uc_faults;
static atomic_ulong uc_poisoned, uc_poison_lost, uc_mismatches, uc_failures;
static __thread sigjmp_buf *uc_probe_jmp;
static atomic_char uc_probe_sink;

static void uc_fail(const char *what)
{
	if (atomic_fetch_add(&uc_failures, 1) < max_reports)
		report(NULL, "FAIL: uffd collapse: %s: %s\n", what,
		       strerror(errno));
}

/* Does page @idx, mapped at @at, hold its pattern? */
static void uc_check(const char *at, unsigned long idx, const char *when)
{
	const uint64_t *p = (const uint64_t *)at;
	uint64_t a = p[0], b = p[page_size / 8 - 1];

	if (a == (UC_MAGIC | idx) && b == ~(UC_MAGIC | idx))
		return;
	if (atomic_fetch_add(&uc_mismatches, 1) < max_reports)
		report(NULL, "MISMATCH at %p (uffd collapse page %lu, %s): %#llx %#llx\n",
		       at, idx, when, (unsigned long long)a,
		       (unsigned long long)b);
}

/* The shared area's poison page is read by uc_probe() only. */
static bool uc_readable(const char *area, unsigned long idx)
{
	return !(uc_poison && area == uc_shared && idx == uc_poison_page);
}

static void uc_sigbus(int sig)
{
	if (uc_probe_jmp)
		siglongjmp(*uc_probe_jmp, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

/* Does a read of @p raise SIGBUS (a poison marker is there)? */
static bool uc_probe(const char *p)
{
	sigjmp_buf jb;
	bool bus = false;

	/*
	 * The fences keep the compiler from moving the stores of
	 * uc_probe_jmp, which only the signal handler reads, past the read of
	 * the page (or dropping the first one): without them SIGBUS finds no
	 * jump buffer and kills the process.
	 */
	if (!sigsetjmp(jb, 1)) {
		uc_probe_jmp = &jb;
		atomic_signal_fence(memory_order_seq_cst);
		atomic_store_explicit(&uc_probe_sink, *p, memory_order_relaxed);
	} else {
		bus = true;
	}
	atomic_signal_fence(memory_order_seq_cst);
	uc_probe_jmp = NULL;
	return bus;
}

/* Map page @addr (the page cache has it) for a minor fault, and wake. */
static void uc_resolve(unsigned long addr, bool minor)
{
	struct uffdio_range r = { addr, page_size };
	char *area = addr - (uintptr_t)uc_shared < uc_len ? uc_shared : uc_private;
	unsigned long off = addr - (uintptr_t)area;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		int ret;

		if (minor) {
			struct uffdio_continue c = { .range = r };

			ret = ioctl(uc_uffd, UFFDIO_CONTINUE, &c);
		} else {
			/* The file has no hole: a missing fault is a bug. */
			struct uffdio_copy c = {
				.dst = addr, .len = page_size,
				.src = (uintptr_t)uc_alias + off,
			};

			uc_fail("missing fault on a file without holes");
			ret = ioctl(uc_uffd, UFFDIO_COPY, &c);
		}
		if (!ret)
			return;
		if (errno == EAGAIN)
			continue;
		if (errno == EEXIST)	/* the filler mapped it first */
			break;
		uc_fail(minor ? "UFFDIO_CONTINUE for a fault" :
				"UFFDIO_COPY for a fault");
		break;
	}
	if (ioctl(uc_uffd, UFFDIO_WAKE, &r))
		uc_fail("UFFDIO_WAKE");
}

static void *uc_handler_main(void *arg)
{
	struct pollfd pfd = { .fd = uc_uffd, .events = POLLIN };
	struct uffd_msg msg;

	while (!atomic_load(&uc_handler_stop)) {
		/*
		 * Nonblocking: a fault that poll() saw may be gone before the
		 * read, resolved and woken by the filler's UFFDIO_CONTINUE.
		 */
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(uc_uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		atomic_fetch_add(&uc_faults, 1);
		uc_resolve(msg.arg.pagefault.address & ~(page_size - 1),
			   msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR);
	}
	return NULL;
}

static void uc_pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *uc_collapser_main(void *arg)
{
	uint64_t rng = seed ^ 0x636f6c6c61707365ULL;
	unsigned long i, idx;
	int round = 0;

	uc_pin(0);
	while (!atomic_load(&stop)) {
		char *a = round++ & 1 ? uc_private : uc_shared;

		/* PTE-map part of each THP: minor faults, UFFDIO_CONTINUE. */
		for (i = 0; i < 8; i++) {
			idx = rnd(&rng) % uc_pages;
			if (uc_readable(a, idx))
				uc_check(a + idx * page_size, idx, "touch");
		}
		if (!madvise(a, uc_len, MADV_COLLAPSE))
			atomic_fetch_add(&uc_collapsed, 1);
		else if (errno == EAGAIN || errno == EINVAL ||
			 errno == EBUSY || errno == ENOMEM)
			/* EINVAL: SCAN_FAIL, a race or a marker (step 1) */
			atomic_fetch_add(&uc_declined, 1);
		else
			uc_fail("MADV_COLLAPSE");
		for (idx = 0; idx < uc_pages; idx += 1 + rnd(&rng) % 16)
			if (uc_readable(a, idx))
				uc_check(a + idx * page_size, idx, "collapsed");
		/* Unmap all (PMD or PTEs; markers too): the only zap allowed. */
		pthread_rwlock_wrlock(&uc_zap_lock);
		if (madvise(a, uc_len, MADV_DONTNEED))
			uc_fail("MADV_DONTNEED");
		pthread_rwlock_unlock(&uc_zap_lock);
		if (!(round % 64))
			for (idx = 0; idx < uc_pages; idx++)
				uc_check(uc_alias + idx * page_size, idx, "alias");
	}
	return NULL;
}

/* EEXIST and EAGAIN are what a racing mfill gets; anything else fails. */
static void uc_fill_errno(const char *what)
{
	if (errno != EEXIST && errno != EAGAIN)
		uc_fail(what);
}

/*
 * Poison the shared area's poison page, check that the marker is there,
 * and clear it. pagemap shows the marker as a swap entry; the first times
 * and each 1024th the page is read too, which must raise SIGBUS (not each
 * time: the kernel logs every such SIGBUS, "MCE: Killing ...").
 */
static void uc_poison_round(void)
{
	char *p = uc_shared + uc_poison_page * page_size;
	struct uffdio_poison po = { .range = { (uintptr_t)p, page_size } };
	unsigned long n;
	uint64_t ent;

	pthread_rwlock_rdlock(&uc_zap_lock);
	if (ioctl(uc_uffd, UFFDIO_POISON, &po)) {
		uc_fill_errno("UFFDIO_POISON");
	} else {
		n = atomic_fetch_add(&uc_poisoned, 1);
		ent = pagemap_get_entry(pagemap_fd, p);
		if ((!(ent & PM_SWAP) || ((n < 4 || !(n % 1024)) && !uc_probe(p))) &&
		    atomic_fetch_add(&uc_poison_lost, 1) < 10)
			report(NULL, "uffd collapse: poison marker at %p lost (pagemap %#llx)\n",
			       p, (unsigned long long)ent);
	}
	/* Clear the marker, or the next collapse aborts. */
	madvise(p, page_size, MADV_DONTNEED);
	pthread_rwlock_unlock(&uc_zap_lock);
}

static void *uc_filler_main(void *arg)
{
	uint64_t rng = seed ^ 0x66696c6c65720000ULL;

	uc_pin(1);
	while (!atomic_load(&stop)) {
		char *a = rnd(&rng) & 1 ? uc_private : uc_shared;
		unsigned long idx = rnd(&rng) % uc_pages;
		unsigned long addr = (uintptr_t)a + idx * page_size;
		struct uffdio_range r = { addr, page_size };

		switch (rnd(&rng) % 7) {
		case 0: {
			struct uffdio_continue c = { .range = r };

			if (ioctl(uc_uffd, UFFDIO_CONTINUE, &c))
				uc_fill_errno("UFFDIO_CONTINUE");
			break;
		}
		case 1: {
			/* Shared only: private would COW the pattern in. */
			struct uffdio_copy c = {
				.dst = (uintptr_t)uc_shared + idx * page_size,
				.src = (uintptr_t)uc_alias + idx * page_size,
				.len = page_size,
			};

			if (!ioctl(uc_uffd, UFFDIO_COPY, &c))
				uc_fail("UFFDIO_COPY over a page cache page worked");
			else
				uc_fill_errno("UFFDIO_COPY");
			break;
		}
		case 2: {
			struct uffdio_zeropage z = {
				.range = { (uintptr_t)uc_shared + idx * page_size,
					   page_size },
			};

			if (!ioctl(uc_uffd, UFFDIO_ZEROPAGE, &z))
				uc_fail("UFFDIO_ZEROPAGE over a page cache page worked");
			else
				uc_fill_errno("UFFDIO_ZEROPAGE");
			break;
		}
		case 3:
			if (uc_poison)
				uc_poison_round();
			break;
		case 4: {
			/*
			 * Empty one THP span of the private area (its entries
			 * map the page cache: nothing is lost) and free its
			 * table: the private collapse holds pml from before it
			 * maps the table for step 2, and finds none.
			 */
			char *p = uc_private + idx * page_size;

			p -= (uintptr_t)p % uc_thp;
			if (madvise(p, uc_thp, MADV_DONTNEED))
				uc_fail("MADV_DONTNEED");
			if (madvise(p, uc_thp, MADV_PT_RECLAIM))
				uc_fail("MADV_PT_RECLAIM");
			break;
		}
		default:
			if (madvise(a, uc_len, MADV_PT_RECLAIM))
				uc_fail("MADV_PT_RECLAIM");
			break;
		}
		atomic_fetch_add(&uc_filled, 1);
	}
	return NULL;
}

/* The areas and the userfaultfd; false (and why) when they cannot be. */
static bool setup_uc(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct sigaction sa = { .sa_handler = uc_sigbus };
	unsigned long idx;
	uint64_t *p;
	int fd;

	uc_thp = read_pmd_pagesize();
	if (!have_thp || !uc_thp) {
		ksft_print_msg("uffd collapse: no THP: not run\n");
		return false;
	}
	if (!thp_fits) {
		ksft_print_msg("uffd collapse: a %lu MiB THP is over 1/16 of memory: not run\n",
			       (unsigned long)(uc_thp >> 20));
		return false;
	}
	uc_len = UC_SPANS * uc_thp;
	uc_pages = uc_len / page_size;
	uc_poison_page = uc_thp / page_size / 2;	/* in the first THP */
	uc_uffd = syscall(SYS_userfaultfd,
			  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	api.features = UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_POISON;
	if (uc_uffd < 0 || ioctl(uc_uffd, UFFDIO_API, &api)) {
		/* Again without POISON (before 6.6). */
		if (uc_uffd >= 0)
			close(uc_uffd);
		uc_uffd = syscall(SYS_userfaultfd,
				  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
		api.api = UFFD_API;
		api.features = UFFD_FEATURE_MINOR_SHMEM;
		if (uc_uffd < 0 || ioctl(uc_uffd, UFFDIO_API, &api)) {
			ksft_print_msg("uffd collapse: no minor faults on shmem: not run\n");
			return false;
		}
	} else {
		uc_poison = true;
	}

	fd = memfd_create("pt_reclaim_torture_uc", 0);
	if (fd < 0 || ftruncate(fd, uc_len))
		ksft_exit_fail_msg("uffd collapse: memfd: %s\n", strerror(errno));
	uc_alias = mmap(NULL, uc_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uc_shared = mmap_aligned(uc_len, uc_thp);
	uc_private = mmap_aligned(uc_len, uc_thp);
	if (uc_alias == MAP_FAILED || uc_shared == MAP_FAILED ||
	    uc_private == MAP_FAILED)
		ksft_exit_fail_msg("uffd collapse: mmap: %s\n", strerror(errno));
	madvise(uc_alias, uc_len, MADV_NOHUGEPAGE);
	for (idx = 0; idx < uc_pages; idx++) {
		p = (uint64_t *)(uc_alias + idx * page_size);
		p[0] = UC_MAGIC | idx;
		p[page_size / 8 - 1] = ~(UC_MAGIC | idx);
	}
	if (mmap(uc_shared, uc_len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	    mmap(uc_private, uc_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
		ksft_exit_fail_msg("uffd collapse: mmap: %s\n", strerror(errno));
	close(fd);
	if (uffd_register(uc_uffd, uc_shared, uc_len, true, false, true) ||
	    uffd_register(uc_uffd, uc_private, uc_len, true, false, true))
		ksft_exit_fail_msg("uffd collapse: UFFDIO_REGISTER: %s\n",
				   strerror(errno));
	sigaction(SIGBUS, &sa, NULL);
	ksft_print_msg("uffd collapse: %lu MB at %p (shared), %p (private), poison %s\n",
		       uc_len >> 20, uc_shared, uc_private,
		       uc_poison ? "yes" : "no");
	return true;
}

/* Threads up; the handler first, it serves the others' faults. */
static void start_uc(void)
{
	if (pthread_create(&uc_threads[0], NULL, uc_handler_main, NULL) ||
	    pthread_create(&uc_threads[1], NULL, uc_collapser_main, NULL) ||
	    pthread_create(&uc_threads[2], NULL, uc_filler_main, NULL))
		ksft_exit_fail_msg("pthread_create failed\n");
}

/*
 * After stop: the collapser and the filler first, the handler last (they
 * may wait for it). A collapse that never returns (a pmd lock kept by an
 * abort path) shows here: do not wait forever for it.
 */
static void stop_uc(void)
{
	struct timespec t;
	int i;

	for (i = 1; i < 3; i++) {
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 60;
		if (pthread_timedjoin_np(uc_threads[i], NULL, &t))
			ksft_exit_fail_msg("uffd collapse: %s stuck for 60s (see dmesg)\n",
					   i == 1 ? "collapser" : "filler");
	}
	atomic_store(&uc_handler_stop, true);
	pthread_join(uc_threads[0], NULL);
}

static void report_uc(void)
{
	unsigned long collapsed = atomic_load(&uc_collapsed);
	unsigned long mismatches = atomic_load(&uc_mismatches);
	unsigned long failures = atomic_load(&uc_failures);

	ksft_print_msg("uffd collapse: %lu collapsed, %lu declined, %lu fills, %lu minor faults\n",
		       collapsed, atomic_load(&uc_declined),
		       atomic_load(&uc_filled), atomic_load(&uc_faults));
	/* Counted, not failed: see the comment above UC_SPANS. */
	ksft_print_msg("uffd collapse: %lu poison markers, %lu lost\n",
		       atomic_load(&uc_poisoned), atomic_load(&uc_poison_lost));
	ksft_test_result(!mismatches && !failures && collapsed > 0,
			 "uffd collapse: %lu collapses, %lu mismatches, %lu failures\n",
			 collapsed, mismatches, failures);
}

/* The remote reclaimer's mailbox, in a shared page. */
struct remote {
	atomic_int state;	/* 0 wait, 1 go, 2 stop */
	uintptr_t addr;
	unsigned long len;
	unsigned long calls;
	int err;		/* first unexpected errno */
};

static void remote_main(struct remote *r, pid_t target)
{
	int pidfd = syscall(SYS_pidfd_open, target, 0);

	while (atomic_load(&r->state) == 0)
		usleep(1000);
	while (atomic_load(&r->state) == 1) {
		struct iovec iov = { (void *)r->addr, r->len };

		if (pidfd < 0 ||
		    (syscall(SYS_process_madvise, pidfd, &iov, 1,
			     MADV_PT_RECLAIM, 0) < 0 && errno != ENOMEM)) {
			r->err = errno;
			break;
		}
		r->calls++;
	}
	_exit(0);
}

static void setup_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (uffd < 0)
		uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		ksft_print_msg("userfaultfd: %s: no UFFDIO_MOVE, no uffd-wp\n",
			       strerror(errno));
		return;
	}
	api.features = UFFD_FEATURE_MOVE | UFFD_FEATURE_WP_UNPOPULATED |
		       UFFD_FEATURE_PAGEFAULT_FLAG_WP;
	if (ioctl(uffd, UFFDIO_API, &api)) {
		/* Ask again for what this kernel has. */
		close(uffd);
		uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
		api.api = UFFD_API;
		api.features = 0;
		if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
			ksft_print_msg("UFFDIO_API: %s\n", strerror(errno));
			return;
		}
		ksft_print_msg("userfaultfd features %#llx lack move or wp-unpopulated\n",
			       (unsigned long long)api.features);
		return;
	}
	have_move = true;
	have_wp = true;
}

/* Is a swap device on (a line after /proc/swaps' header)? */
static bool swap_is_on(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int lines = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	return lines > 1;
}

/*
 * Does MADV_SOFT_OFFLINE migrate a page here (CONFIG_MEMORY_FAILURE, and
 * CAP_SYS_ADMIN)? Tried on one page at @p, a page of the mapping past the
 * workers' scratch spans; costs that page frame.
 */
static bool soft_offline_works(char *p)
{
	unsigned long pfn0, pfn1;

	*p = 1;
	pfn0 = pagemap_get_pfn(pagemap_fd, p);
	if (madvise(p, page_size, MADV_SOFT_OFFLINE)) {
		ksft_print_msg("MADV_SOFT_OFFLINE: %s: no migration racer\n",
			       strerror(errno));
		return false;
	}
	pfn1 = pagemap_get_pfn(pagemap_fd, p);
	if (pfn1 == pfn0 || pfn1 == -1UL || *p != 1)
		ksft_exit_fail_msg("MADV_SOFT_OFFLINE: page frame %#lx, then %#lx, holding %d\n",
				   pfn0, pfn1, *p);
	madvise(p, page_size, MADV_DONTNEED);
	return true;
}

static void print_help(const char *me)
{
	fprintf(stderr,
		"usage: %s [-s SECONDS] [-n OPS] [-w WORKERS] [-r RECLAIMERS] [-S SEED] [-m LINES] [-v]\n"
		"  -s  stop after SECONDS (default 20)\n"
		"  -n  stop each worker after OPS operations (default: no limit)\n"
		"  -w  worker threads, 1..%d (default 2)\n"
		"  -r  reclaimer threads (default 1)\n"
		"  -S  seed of the workers' operation sequences (default: random)\n"
		"  -m  mismatch lines printed per worker, 0: all (default 100)\n"
		"  -v  print the operation counts per worker\n",
		me, MAX_WORKERS);
	exit(KSFT_FAIL);
}

/* Does this kernel and setup offer operation @op? */
static bool op_offered(int op)
{
	switch (op) {
	case OP_COLLAPSE:	return have_thp && thp_fits;
	case OP_UFFD_MOVE:	return have_move;
	case OP_UFFD_WP:	return have_wp;
	case OP_PAGEOUT:	return have_swap;
	case OP_OFFLINE:	return have_offline;
	case OP_AGE:		return have_lru_gen;
	default:		return true;
	}
}

/*
 * Declines are allowed (a collapse that finds nothing to collapse, a
 * move onto a busy slot), but an operation that declines every time
 * tests nothing: each one the setup offers (op_offered()) must have done
 * its work at least once. Names them.
 */
static bool never_done(const unsigned long *total)
{
	bool none = false;
	int op;

	for (op = 0; op < NR_OPS; op++) {
		if (!op_offered(op) || total[op])
			continue;
		ksft_print_msg("%s: never done in this run\n", op_name[op]);
		none = true;
	}
	return none;
}

int main(int argc, char **argv)
{
	unsigned long total[NR_OPS] = {}, declined[NR_OPS] = {};
	unsigned long mismatches = 0, failures = 0, calls;
	long freed0, freed1, scanned0, scanned1, pmd_freed0, pmd_freed1;
	long raced0, raced1, mem_kb;
	pthread_t reclaimers[16], pmd_worker;
	struct remote *remote;
	pid_t remote_pid;
	bool reclaimer_failed = false, have_uc;
	int opt, i, status;
	char *r;

	/*
	 * Not time(NULL) alone: a guest without a real-time clock starts at
	 * the epoch, and every run would draw the same sequences.
	 */
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "s:n:w:r:S:m:v")) != -1) {
		switch (opt) {
		case 's':
			seconds = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			max_ops = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			nr_workers = atoi(optarg);
			break;
		case 'r':
			nr_reclaimers = atoi(optarg);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			max_reports = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			print_help(argv[0]);
		}
	}
	if (nr_workers < 1 || nr_workers > MAX_WORKERS || nr_reclaimers < 0 ||
	    nr_reclaimers > 16 || !seconds)
		print_help(argv[0]);

	ksft_print_header();
	ksft_set_plan(8);
	/* No arena of 64 MiB mapped by a thread's first malloc(): op_munmap(). */
	if (!mallopt(M_ARENA_MAX, 1))
		ksft_exit_fail_msg("mallopt(M_ARENA_MAX, 1) failed\n");
	page_size = sysconf(_SC_PAGESIZE);
	span = pte_table_span();
	if (!span)
		ksft_exit_fail_msg("cannot tell the span of a PTE table from VmPTE\n");
	pages_per_span = span / page_size;
	r = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	if (madvise(r, page_size, MADV_PT_RECLAIM) && errno == EINVAL)
		ksft_exit_fail_msg("MADV_PT_RECLAIM: EINVAL: kernel without the feature\n");
	munmap(r, page_size);
	have_thp = thp_is_enabled();
	/*
	 * A collapse needs a free block of a THP's size. A 512 MiB THP (64 KiB
	 * pages) in a guest of 2 GiB rarely finds one: over 1/16 of memory,
	 * op_collapse() declines and the uffd collapse step is not run.
	 */
	mem_kb = proc_kb("/proc/meminfo", "MemTotal");
	if (mem_kb <= 0)
		ksft_exit_fail_msg("/proc/meminfo: no MemTotal\n");
	thp_fits = read_pmd_pagesize() <= (uint64_t)mem_kb * 1024 / 16;
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		ksft_exit_fail_msg("/proc/self/pagemap: %s\n", strerror(errno));

	/* Before any thread, and before the region exists in the child. */
	remote = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (remote == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	remote_pid = fork();
	if (remote_pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!remote_pid)
		remote_main(remote, getppid());

	nr_slots = (unsigned long)nr_workers * SLOTS_PER_WORKER;
	nr_pages = nr_slots * pages_per_span;
	/* The region at a table boundary, the scratch areas after it. */
	r = mmap(NULL, (nr_slots + nr_workers + 1) * span,
		 PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		ksft_exit_fail_msg("mmap region: %s\n", strerror(errno));
	region = (char *)(((uintptr_t)r + span - 1) & ~(span - 1));
	setup_pmd_areas();
	setup_uffd();
	have_swap = swap_is_on();
	have_lru_gen = lru_gen_usable();
	have_offline = soft_offline_works(region + (nr_slots + nr_workers) * span);
	have_uc = setup_uc();
	ksft_print_msg("seed %llu, %d workers, %d reclaimers, %lu slots of %lu kB at %p, %us\n",
		       (unsigned long long)seed, nr_workers, nr_reclaimers,
		       nr_slots, span >> 10, region, seconds);
	ksft_print_msg("THP %s, UFFDIO_MOVE %s, uffd-wp markers %s\n",
		       have_thp ? "yes" : "no", have_move ? "yes" : "no",
		       have_wp ? "yes" : "no");
	ksft_print_msg("swap %s, soft offline %s, MGLRU aging %s\n",
		       have_swap ? "yes" : "no", have_offline ? "yes" : "no",
		       have_lru_gen ? "yes" : "no");

	for (i = 0; i < nr_workers; i++) {
		struct worker *w = &workers[i];

		w->id = i;
		w->rng = seed ^ (0x9e3779b97f4a7c15ULL * (i + 1));
		w->scratch = region + (nr_slots + i) * span;
		w->shadow = calloc(nr_pages, sizeof(*w->shadow));
		w->gup_buf = malloc(GUP_PAGES * page_size);
		if (!w->shadow || !w->gup_buf)
			ksft_exit_fail_msg("calloc: out of memory\n");
		if (pipe(w->pipe))
			ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	}

	remote->addr = (uintptr_t)region;
	remote->len = nr_pages * page_size;
	freed0 = vmstat_read("pt_reclaim_freed");
	scanned0 = vmstat_read("pt_reclaim_scanned");
	raced0 = vmstat_read("pt_reclaim_raced");
	pmd_freed0 = vmstat_read("pt_reclaim_pmd_freed");
	atomic_store(&remote->state, 1);
	fflush(stdout);
	if (pthread_barrier_init(&start_line, NULL, nr_workers + 1))
		ksft_exit_fail_msg("pthread_barrier_init failed\n");
	for (i = 0; i < nr_reclaimers; i++)
		if (pthread_create(&reclaimers[i], NULL, reclaimer_main,
				   (void *)(uintptr_t)(i + 1)))
			ksft_exit_fail_msg("pthread_create failed\n");
	for (i = 0; i < nr_workers; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main,
				   &workers[i]))
			ksft_exit_fail_msg("pthread_create failed\n");
	if (pud_span && pthread_create(&pmd_worker, NULL, pmd_worker_main, NULL))
		ksft_exit_fail_msg("pthread_create failed\n");
	if (have_uc)
		start_uc();
	/* Every thread (and its stack) is there: the workers may go. */
	pthread_barrier_wait(&start_line);

	if (max_ops == ~0UL) {
		sleep(seconds);
		atomic_store(&stop, true);
	}
	for (i = 0; i < nr_workers; i++)
		pthread_join(workers[i].thread, NULL);
	atomic_store(&stop, true);
	for (i = 0; i < nr_reclaimers; i++) {
		void *ret;

		pthread_join(reclaimers[i], &ret);
		reclaimer_failed |= !!ret;
	}
	if (pud_span)
		pthread_join(pmd_worker, NULL);
	if (have_uc)
		stop_uc();
	atomic_store(&remote->state, 2);
	if (waitpid(remote_pid, &status, 0) != remote_pid)
		status = -1;
	freed1 = vmstat_read("pt_reclaim_freed");
	scanned1 = vmstat_read("pt_reclaim_scanned");
	raced1 = vmstat_read("pt_reclaim_raced");
	pmd_freed1 = vmstat_read("pt_reclaim_pmd_freed");
	mismatches += pmd_mismatches;
	failures += pmd_failures;

	for (i = 0; i < nr_workers; i++) {
		struct worker *w = &workers[i];
		int op;

		for (op = 0; op < NR_OPS; op++) {
			total[op] += w->done[op];
			declined[op] += w->declined[op];
		}
		mismatches += w->mismatches;
		failures += w->failures;
		if (!verbose)
			continue;
		for (op = 0; op < NR_OPS; op++)
			ksft_print_msg("worker %d: %-10s %8lu done %8lu declined\n",
				       i, op_name[op], w->done[op],
				       w->declined[op]);
	}
	for (i = 0; i < NR_OPS; i++)
		ksft_print_msg("%-10s %8lu done %8lu declined\n", op_name[i],
			       total[i], declined[i]);
	calls = atomic_load(&reclaim_calls);
	ksft_print_msg("reclaimer calls %lu, process_madvise %lu, tables scanned %ld, freed %ld\n",
		       calls, remote->calls, scanned1 - scanned0,
		       freed1 - freed0);
	if (pud_span)
		ksft_print_msg("PMD worker: %lu rounds, %lu mismatches, %ld PMD tables freed\n",
			       pmd_rounds, pmd_mismatches,
			       pmd_freed1 - pmd_freed0);

	ksft_test_result(!mismatches, "data intact (%lu mismatches)\n",
			 mismatches);
	ksft_test_result(!failures && !reclaimer_failed,
			 "no operation failed unexpectedly (%lu)\n", failures);
	ksft_test_result(!never_done(total),
			 "every operation this setup offers did its work at least once\n");
	if (remote->err)
		ksft_test_result_fail("process_madvise(MADV_PT_RECLAIM): %s\n",
				      strerror(remote->err));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		ksft_test_result_fail("remote process_madvise() reclaimer: status %#x\n",
				      status);
	else
		ksft_test_result(remote->calls > 0,
				 "process_madvise(MADV_PT_RECLAIM) from another process (%lu calls)\n",
				 remote->calls);
	ksft_test_result(freed0 >= 0 && freed1 > freed0,
			 "tables reclaimed during the run (%ld)\n",
			 freed1 - freed0);
	/*
	 * The race the locked re-check is for happened: a table the lockless
	 * scan found empty got an entry before the locks were taken, and was
	 * kept (data intact above says it was kept whole). With one CPU and
	 * no preemption in between, nothing can fill it.
	 */
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ksft_test_result_skip("tables filled between lockless scan and locks: one CPU\n");
	else
		ksft_test_result(raced0 >= 0 && raced1 > raced0,
				 "tables filled between lockless scan and locks (%ld)\n",
				 raced1 - raced0);
	if (!pud_span)
		ksft_test_result_skip("PMD tables reclaimed: the PMD table span is unknown\n");
	else
		ksft_test_result(pmd_freed0 >= 0 && pmd_freed1 > pmd_freed0 &&
				 pmd_rounds > 0,
				 "PMD tables reclaimed during the run (%ld in %lu rounds)\n",
				 pmd_freed1 - pmd_freed0, pmd_rounds);
	if (have_uc)
		report_uc();
	else
		ksft_test_result_code(KSFT_SKIP, "uffd_collapse",
				      "not run (why: above)\n");
	ksft_finished();
}
