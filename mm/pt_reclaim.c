// SPDX-License-Identifier: GPL-2.0
/*
 * MADV_PT_RECLAIM: free the PTE tables of a range whose entries are all
 * none, on request.
 *
 * MADV_DONTNEED, MADV_FREE reclaim and swap-out clear page table entries
 * but leave the tables that held them; a process that touches memory
 * sparsely and gives it back keeps one table per PMD_SIZE it ever
 * touched. madvise(MADV_PT_RECLAIM) walks a range and frees each PTE
 * table whose whole span lies in the range and holds nothing.
 *
 * The walk has two passes per table (MADV_DONTNEED's reclaim skips the
 * first: see pt_reclaim_dontneed()):
 *
 * 1. A lockless scan, as GUP-fast does it: under the mmap lock in read
 *    mode (upper levels cannot be freed: free_pgtables() runs with the
 *    mmap lock held for write, or for VMAs already detached from the tree,
 *    and a table we visit is covered only by VMAs still in the tree), the
 *    pmd is read once with pmdp_get_lockless() and the table is mapped
 *    with __pte_offset_map(), which holds RCU: a table freed meanwhile by
 *    another reclaimer stays readable until pte_unmap(). The scan stops
 *    at the first entry that is not pte_none(); a table in use costs one
 *    read and no lock. The scan is only a hint.
 *
 * 2. For the tables that looked empty, the locked pass, in batches of
 *    up to PT_RECLAIM_BATCH tables under one PMD table, the pmd lock taken
 *    once for the batch. For each candidate, under it, the pmd is read (it
 *    cannot change: whoever writes a pmd holds its lock), the table's PTE
 *    lock taken (nested, when split), reclaim's deferred flush done
 *    (flush_tlb_batched_pending()), every entry re-checked none, the arch
 *    asked (arch_pte_table_reclaimable()), and the pmd cleared through the
 *    walk's mmu_gather (tlb_unlink_pte_table()), which records what the
 *    flush must drop.
 *    Everyone who writes entries does so under the PTE lock, after making
 *    sure the table is still the one the pmd points to:
 *    pte_offset_map_lock() re-checks the pmd under the lock; pmd_install()
 *    allocates a new table only under the pmd lock and only where the pmd
 *    is none. The pte_offset_map_nolock() callers each say at the call why
 *    they are safe: they re-check the pmd under the lock
 *    (collapse_pte_mapped_thp(), retract_page_tables(), UFFDIO_MOVE), or
 *    hold the mmap lock for write (fork's copy_pte_range(), mremap's
 *    move_ptes()), or write only over an entry they saw non-none and
 *    re-check under the lock (handle_pte_fault(), do_swap_page(),
 *    page_vma_mapped_walk(), the MGLRU walk_pte_range()), which a freed
 *    table, all none, fails; filemap_fault_recheck_pte_none() only reads.
 *    (arm's adjust_pte() and powerpc's assert_pte_locked() are of the last
 *    two kinds; neither arch selects ARCH_SUPPORTS_MADV_PT_RECLAIM yet.) So
 *    once the pmd is cleared under both locks, nobody can write into the
 *    table any more.
 *
 * 3. The flush: the mmu_gather's, with freed_tables, which drops the
 *    paging-structure (walk) caches as it does for the tables munmap()
 *    frees. Until it is done, a CPU may still hold a walk-cache entry
 *    that points to an unlinked table, which is allocated and all none
 *    until after the flush: a walk through it finds nothing and faults.
 *    What the window allows is a fault, UFFDIO_COPY's __pte_alloc(), a THP
 *    or khugepaged filling the cleared pmd again meanwhile (mremap needs
 *    the mmap lock for write), so that the CPU may cache the old and the
 *    new entry for one span. Whether that is harmless is the arch's to say
 *    (tlb_unlink_flush_may_wait()):
 *    - by default it is not (arm64: break-before-make forbids caching two
 *      entries for one span; a TLB conflict abort kills the task), and a
 *      batch's flush is done before its pmd lock is dropped: every writer
 *      of a pmd holds that lock, so none can fill the pmd before the flush.
 *      One flush per batch, then.
 *      MADV_DONTNEED's zap keeps the pmd lock across the tables of a PMD
 *      table it empties: one flush per run of tables under the lock,
 *      which ends at the end of the range or of the PMD table, before a
 *      huge pmd, after PT_RECLAIM_BATCH tables, when the CPU or the lock
 *      is wanted, or before a forced flush frees pages
 *      (__pt_reclaim_zap_table()).
 *    - x86 drops the walk-cache entries of an address on the page fault
 *      that a stale one leads to (which is also why its
 *      flush_tlb_fix_spurious_fault() does nothing, and why upstream's
 *      PT_RECLAIM may flush the tables the zap frees after the pmd lock is
 *      dropped), given NX (see asm/tlb.h): the flush waits, and one
 *      serves the whole call, as munmap()'s does, unless something below
 *      needs it sooner. Not for an mm with mmu notifiers: a secondary
 *      walker of the CPU tables (an IOMMU for SVA) has a walk cache of its
 *      own, which a CPU fault does not drop; a device's page request
 *      that the stale entry fails would be answered "present" and fail
 *      again until the flush. Such an mm flushes per batch, under the pmd
 *      lock (MADV_DONTNEED's zap: per run of tables under the pmd lock it
 *      keeps).
 *    No TLB entry of the span may outlive the table either, not even one
 *    of a page someone else unmapped and has yet to flush: reclaim's
 *    deferred flush was done under the PTE lock, and a flush still pending
 *    elsewhere shows in mm_tlb_flush_nested() under it (our own gather
 *    counts once): then the flush covers the whole span, page by page,
 *    and is done before the pmd lock is dropped on every arch. Every
 *    clearer that puts off its flush shows there: an mmu_gather (zap,
 *    MADV_FREE) or a protection change (mprotect(), uffd-wp, NUMA
 *    hinting) raises mm_tlb_flush_pending(); try_to_unmap() and
 *    try_to_migrate() batch through flush_tlb_batched_pending(); mremap()
 *    holds the mmap lock for write; KSM, uprobes, migrate_vma and
 *    khugepaged flush before they drop the PTE lock.
 *
 *    There is no mmu notifier range: freeing an empty table changes no
 *    translation. Every entry of the table was cleared by someone who
 *    called the notifiers for it then, so a secondary MMU maps nothing
 *    there (KVM's fault path rechecks mmu_invalidate_seq before it uses
 *    the user mapping it looked up, and that mapping, present since the
 *    last invalidation, keeps its table from being reclaimed), and
 *    devices that walk the CPU page tables (SVA) hear of the flush through
 *    mmu_notifier_arch_invalidate_secondary_tlbs(), which the arch flush
 *    calls. munmap()'s free_pgtables() frees tables the same way.
 *
 * Each table is then freed with pte_free_defer(), after an RCU grace
 * period: RCU walkers (pte_offset_map()) and GUP-fast (IRQs off, which
 * also holds off the grace period) never see it freed under them, and the
 * split PTE lock, a slab object with some debug options, is destroyed only
 * after anyone who may still take it has dropped it. Where the batch's
 * flush is done under the pmd lock, pte_free_defer() is called right after
 * the unlink, before the flush, but inside the batch's rcu_read_lock(),
 * left only after the flush: no grace period that started after the call
 * can end before that. Where the flush waits, the tables wait with it, as
 * pmd values in kmalloc()ed blocks of at least a batch's worth (8 KiB,
 * 1022 tables, with 4 KiB pages; without memory, the batch flushes at
 * once), and are freed after it (pt_reclaim_flush()).
 * MADV_DONTNEED's zap_pte_range() keeps every table it unlinks in such
 * a block, whether the flush waits or is done under the pmd lock the
 * zap keeps, and the tables are freed after the zap's flush
 * (pt_reclaim_dontneed()); without memory for the block, it leaves the
 * table to the walk at the end of the zap.
 * Either way no table is freed before the flush that drops it from
 * every TLB.
 *
 * A batch holds the pmd lock for at most PT_RECLAIM_BATCH tables (512 with
 * 4 KiB pages on x86_64 and arm64, 128 and 32 with 16 and 64 KiB pages,
 * 1024 on s390x): at most 2^18 entry reads (the locked re-check; the
 * lockless scan comes before the lock); for each table that looked empty,
 * one PTE lock round trip and the arch hook (on s390, for an mm with
 * PGSTEs, a PGSTE lock round per entry); at most one flush of reclaim's
 * deferred batch (flush_tlb_batched_pending()); and, where the flush may
 * not wait, the batch's own TLB flush, on x86 a synchronous IPI round to
 * the CPUs that run the mm. The walk reschedules between batches, its
 * mmu_gather open, as munmap()'s zap does.
 * MADV_DONTNEED's zap, where it keeps the pmd lock, keeps it for the zap
 * of at most PT_RECLAIM_BATCH tables too (see __pt_reclaim_zap_table()).
 *
 * Which tables: the table's whole span must be inside the request and
 * covered by VMAs still in the tree (no hole: munmap() frees the tables
 * of detached VMAs under the read lock without any PTE lock), none of
 * them hugetlb (shared PMDs, own locking), VM_PFNMAP or VM_IO. mseal()ed
 * memory is allowed: MADV_PT_RECLAIM discards no data. A table that holds
 * anything, including swap, migration and uffd-wp marker entries, stays.
 *
 * Lock order: mmap_lock (read) -> pmd lock -> PTE lock (as in
 * retract_page_tables()); MADV_DONTNEED's zap, holding a PTE lock, only
 * tries the pmd lock (__pt_reclaim_zap_table()); where it keeps that
 * lock, the PTE locks of the tables that follow nest inside it.
 * The PMD tables left empty go after the PTE tables, under heavier locks:
 * see "Upper level" below.
 */

#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mmu_notifier.h>
#include <linux/pgalloc.h>
#include <linux/pgtable.h>
#include <linux/rmap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <linux/vmstat.h>
#include <asm/tlb.h>
#include <asm/tlbflush.h>

#include "internal.h"

/*
 * The tables unlinked and left for the flush to come, as their pmd
 * values, in blocks of one batch's worth, newest first.
 */
struct pt_reclaim_unlinked {
	struct pt_reclaim_unlinked *next;
	unsigned int nr;
	pmd_t pmd[];
};

struct pt_reclaim_walk {
	struct mm_struct *mm;
	unsigned long scanned;	/* PTE tables looked at */
	unsigned long freed;	/* PTE tables freed */
	/*
	 * PTE tables the lockless scan found empty that held an entry under
	 * the locks (madvise_pt_reclaim() counts them; a zap has no scan)
	 */
	unsigned long raced;
	unsigned long pmd_freed; /* PMD tables freed */
	/*
	 * The flush of the tables unlinked and not flushed yet: the caller's
	 * gather, set up at the first table unlinked, so that a walk that
	 * frees nothing raises no mm_tlb_flush_pending() (which would make
	 * the flushes of the mm's other threads that overlap it flush the
	 * whole mm) and costs no flush at all.
	 * In a MADV_DONTNEED zap (in_zap): the zap's own, open all along.
	 */
	struct mmu_gather *tlb;
	bool gathering;
	bool in_zap;		/* MADV_DONTNEED: no lockless pre-scan */
	bool flush_locked;	/* every batch flushes under its pmd lock */
	bool flush_now;		/* flush before the pmd lock is dropped */
	struct pt_reclaim_unlinked *unlinked; /* to free after the flush */
};

/* Can the tables under @vma be reclaimed at all? */
static bool pt_reclaim_vma_ok(struct vm_area_struct *vma)
{
	return !is_vm_hugetlb_page(vma) &&
	       !(vma->vm_flags & (VM_PFNMAP | VM_IO));
}

/*
 * Map the table at @pmd as __pte_offset_map() does (under RCU, NULL when
 * the pmd holds no table), and tell sparse that the RCU read lock is held
 * when it succeeds: pte_unmap() releases it.
 */
static inline bool pt_reclaim_map(pmd_t *pmd, unsigned long addr,
				  pmd_t *pmdvalp, pte_t **ptep)
{
	*ptep = __pte_offset_map(pmd, addr, pmdvalp);
	return __cond_lock(RCU, *ptep);
}

/*
 * A table's lock is the lock of the table above it when split page-table
 * locks are off (the PTE lock is the pmd lock; the pmd lock is the pud
 * lock, mm->page_table_lock): take and drop @lock, nested in @outer, only
 * when it is a lock of its own, and tell sparse either way.
 */
static void pt_reclaim_lock_inner(spinlock_t *lock, spinlock_t *outer)
	__acquires(lock)
{
	if (lock != outer)
		spin_lock_nested(lock, SINGLE_DEPTH_NESTING);
	else
		__acquire(lock);
}

static void pt_reclaim_unlock_inner(spinlock_t *lock, spinlock_t *outer)
	__releases(lock)
{
	if (lock != outer)
		spin_unlock(lock);
	else
		__release(lock);
}

/* A table's entry as a word, for pt_reclaim_words_same() */
static __always_inline u64 pt_reclaim_word(const u64 *w, bool lockless)
{
	return lockless ? READ_ONCE(*w) : *w;
}

/*
 * How many of the PTRS_PER_PTE words at @w, from the first on, equal
 * @first, in steps of 8 (PTRS_PER_PTE: all)? One branch for 8 entries,
 * not one per entry: a test per entry (arm64's ptep_get() looks for
 * contiguous entries, x86's pte_none() masks bits) costs about a third
 * of what the zap of a table with one page in it does. Read with
 * READ_ONCE() when @lockless, plainly under the PTE lock: then only the
 * MMU may write an entry (access and dirty bits of a present one, or of
 * a not-present one on CPUs with the KNL erratum, which stays none).
 */
static __always_inline unsigned int
pt_reclaim_words_same(const u64 *w, u64 first, bool lockless)
{
	unsigned int i;

#define PT_RECLAIM_W(k) (pt_reclaim_word(w + i + (k), lockless) ^ first)
	BUILD_BUG_ON(PTRS_PER_PTE % 8);
	for (i = 0; i < PTRS_PER_PTE; i += 8)
		if (PT_RECLAIM_W(0) | PT_RECLAIM_W(1) | PT_RECLAIM_W(2) |
		    PT_RECLAIM_W(3) | PT_RECLAIM_W(4) | PT_RECLAIM_W(5) |
		    PT_RECLAIM_W(6) | PT_RECLAIM_W(7))
			break;
#undef PT_RECLAIM_W
	return i;
}

/*
 * How many entries of the table at @pte hold the word of @first, a none
 * entry read from its first one, as above. The word is taken from @first
 * itself, not read again: lockless, entry 0 may have changed since.
 */
static __always_inline unsigned int
pt_reclaim_table_same(pte_t *pte, pte_t first, bool lockless)
{
	const u64 *w = (const u64 *)pte;
	u64 word;

	if (sizeof(pte_t) != sizeof(u64))
		return 0;
	memcpy(&word, &first, sizeof(word));
	/* 0, the none word of most arches: the compiler drops the XORs. */
	if (!word)
		return pt_reclaim_words_same(w, 0, lockless);
	return pt_reclaim_words_same(w, word, lockless);
}

/* A table's entry, read without its PTE lock (@lockless) or under it */
static __always_inline pte_t pt_reclaim_pte(pte_t *pte, bool lockless)
{
	return lockless ? ptep_get_lockless(pte) : ptep_get(pte);
}

/*
 * Does the table mapped at @pte hold only none entries? A table in use
 * often maps its first page: one read. Else the entries that hold the
 * first one's (none) word are none too, and the rest (none entries of
 * other words, as x86's with the accessed and dirty bits that CPUs with
 * the KNL erratum may set in a not-present entry, or an entry) are asked
 * one by one.
 */
static __always_inline bool pt_reclaim_table_none(pte_t *pte, bool lockless)
{
	pte_t first = pt_reclaim_pte(pte, lockless);
	unsigned int i;

	if (!pte_none(first))
		return false;
	i = pt_reclaim_table_same(pte, first, lockless);
	for (; i < PTRS_PER_PTE; i++)
		if (!pte_none(pt_reclaim_pte(pte + i, lockless)))
			return false;
	return true;
}

/* Lockless: a hint, which the locked re-check confirms or not. */
static bool pt_reclaim_looks_empty(pte_t *pte)
{
	return pt_reclaim_table_none(pte, true);
}

/* Under the PTE lock: the same, with the lock as the authority. */
static bool pt_reclaim_empty_locked(pte_t *pte)
{
	return pt_reclaim_table_none(pte, false);
}

/*
 * CONFIG_DEBUG_VM: the table just detached must still be empty. Only
 * lockless walkers, which read, can reach it now; an entry here is a page
 * its process has lost (a re-check that missed a write). There is no
 * page_table_check_pte_clear_range() call: an empty table has nothing to
 * account, and accounting entries away would hide exactly this bug.
 */
static void pt_reclaim_check_detached(pmd_t pmdval)
{
	pte_t *pte;

	if (!IS_ENABLED(CONFIG_DEBUG_VM))
		return;
	pte = pte_offset_map(&pmdval, 0);
	if (WARN_ON_ONCE(!pte))
		return;
	VM_WARN_ON_ONCE(!pt_reclaim_looks_empty(pte));
	pte_unmap(pte);
}

/*
 * Does @pmdval point to a PTE table? A bad pmd is left to
 * __pte_offset_map() users elsewhere, which clear it (pmd_clear_bad(),
 * the one pmd write without the pmd lock, and with nothing to free).
 */
static bool pt_reclaim_pmd_is_table(pmd_t pmdval)
{
	return !pmd_none(pmdval) && pmd_present(pmdval) &&
	       !pmd_trans_huge(pmdval) && !pmd_devmap(pmdval) &&
	       !pmd_bad(pmdval);
}

/*
 * The tables a batch holds the pmd lock for: 2^18 entries' worth (512
 * tables of 512 entries), so that the time the lock is held does not grow
 * with the size of a table. A batch never crosses a PMD table.
 */
#define PT_RECLAIM_BATCH_PTES	BIT(18)
#define PT_RECLAIM_BATCH	MAX(PT_RECLAIM_BATCH_PTES / PTRS_PER_PTE, 1)

/*
 * Lockless: does the table at @pmd (which maps @addr) hold only none
 * entries? Counts the table as scanned when it does not.
 */
static bool pt_reclaim_scan(struct pt_reclaim_walk *walk, pmd_t *pmd,
			    unsigned long addr)
{
	pmd_t pmdval = pmdp_get_lockless(pmd);
	bool empty;
	pte_t *pte;

	if (!pt_reclaim_pmd_is_table(pmdval))
		return false;
	/* MADV_DONTNEED just emptied it: the locked re-check will do. */
	if (walk->in_zap)
		return true;
	/* Maps the table under RCU; NULL when it is gone or bad. */
	if (!pt_reclaim_map(pmd, addr, &pmdval, &pte))
		return false;
	empty = pt_reclaim_looks_empty(pte);
	pte_unmap(pte);
	if (!empty)
		walk->scanned++;
	return empty;
}

/* The table at @pmdval, unlinked, goes; see the top for when. */
static void pt_reclaim_free(struct mm_struct *mm, pmd_t pmdval)
{
	pt_reclaim_check_detached(pmdval);
	pte_free_defer(mm, pmd_pgtable(pmdval));
}

/* The tables that waited for a flush now done, and their blocks. */
static void pt_reclaim_free_unlinked(struct mm_struct *mm,
				     struct pt_reclaim_unlinked **head)
{
	struct pt_reclaim_unlinked *u;
	unsigned int i;

	while ((u = *head)) {
		for (i = 0; i < u->nr; i++)
			pt_reclaim_free(mm, u->pmd[i]);
		*head = u->next;
		kfree(u);
	}
}

/*
 * The flush of the tables unlinked so far (tlb_finish_mmu() does it), then
 * the free of those that waited for it.
 */
static void pt_reclaim_flush(struct pt_reclaim_walk *walk)
{
	/* In a zap: the zap finishes its gather, pt_reclaim_dontneed() frees. */
	if (walk->in_zap)
		return;
	if (walk->gathering) {
		tlb_finish_mmu(walk->tlb);
		walk->gathering = false;
	}
	pt_reclaim_free_unlinked(walk->mm, &walk->unlinked);
}

/*
 * A block holds at least a batch: its size is a kmalloc() size, all of it
 * used (8 KiB, 1022 pmd values, with 4 KiB pages).
 */
#define PT_RECLAIM_BLOCK	roundup_pow_of_two(sizeof(struct pt_reclaim_unlinked) + \
					   PT_RECLAIM_BATCH * sizeof(pmd_t))
#define PT_RECLAIM_BLOCK_NR	((PT_RECLAIM_BLOCK - \
				  sizeof(struct pt_reclaim_unlinked)) / sizeof(pmd_t))

/*
 * Room in the list at @head for @n more unlinked tables, whose flush
 * waits: a new block, allocated with @gfp, when the newest lacks it.
 * Without memory, the caller does not wait (a batch flushes at once).
 */
static bool pt_reclaim_room(struct pt_reclaim_unlinked **head, unsigned int n,
			    gfp_t gfp)
{
	struct pt_reclaim_unlinked *u = *head;

	if (u && u->nr + n <= PT_RECLAIM_BLOCK_NR)
		return true;
	u = kmalloc(PT_RECLAIM_BLOCK, gfp | __GFP_NOWARN);
	if (!u)
		return false;
	u->nr = 0;
	u->next = *head;
	*head = u;
	return true;
}

/*
 * In a batch, with the pmd lock @pml held: free the table at @pmd, which
 * maps @addr (PMD-aligned), if it is empty. Its pmd is cleared through
 * the walk's mmu_gather; the table goes to pte_free_defer(), whose grace
 * period cannot end before the flush (see the top of the file).
 */
static void pt_reclaim_table(struct pt_reclaim_walk *walk, spinlock_t *pml,
			     pmd_t *pmd, unsigned long addr)
	__must_hold(pml)
{
	struct mm_struct *mm = walk->mm;
	spinlock_t *ptl;	/* the table's PTE lock */
	pmd_t pmdval;
	bool empty = false;
	pte_t *pte;

	/* A pmd changes only under @pml: pmdval stays what the pmd holds. */
	pmdval = pmdp_get(pmd);
	if (!pt_reclaim_pmd_is_table(pmdval))
		return;
	if (WARN_ON_ONCE(!pt_reclaim_map(pmd, addr, &pmdval, &pte)))
		return;
	walk->scanned++;

	ptl = pte_lockptr(mm, &pmdval);
	pt_reclaim_lock_inner(ptl, pml);
	/*
	 * Reclaim may have cleared entries of this table and put off their
	 * TLB flush (TTU_BATCH_FLUSH). Whoever changes a table under its
	 * lock flushes such a batch first; here it matters the more since,
	 * with the table gone, a later mprotect() or munmap() of the span
	 * finds nothing to change and would leave the stale entries be.
	 */
	flush_tlb_batched_pending(mm);
	/*
	 * Faults (under the per-VMA lock), MADV_DONTNEED, UFFDIO_COPY and
	 * the rest write entries under the PTE lock we now hold: what we
	 * see now is what the table holds, and stays so until we unlock.
	 */
	if (!pt_reclaim_empty_locked(pte)) {
		/* An entry since the lockless scan found none: counted. */
		walk->raced++;
		goto unlock;
	}
	if (!arch_pte_table_reclaimable(mm, addr, pte))
		goto unlock;
	if (!walk->gathering) {
		tlb_gather_mmu(walk->tlb, mm);
		walk->gathering = true;
	}
	/*
	 * An mmu_gather or a protection change in flight elsewhere may have
	 * cleared entries here and not flushed them yet: our flush then
	 * covers every page of the span, so that no TLB entry of it outlives
	 * the table. Read under the PTE lock, which they held to clear; our
	 * own gather counts once. That flush is done before the pmd lock is
	 * dropped, wherever the arch lets it wait otherwise: no huge pmd may
	 * be installed in the span while 4 KiB TLB entries of it may remain
	 * (x86: a machine check on some CPUs, the iTLB multihit erratum).
	 */
	if (mm_tlb_flush_nested(mm)) {
		tlb_flush_pte_range(walk->tlb, addr, PMD_SIZE);
		walk->flush_now = true;
	}
	pmdval = tlb_unlink_pte_table(walk->tlb, pmd, addr);
	pmdp_get_lockless_sync();
	empty = true;
unlock:
	pt_reclaim_unlock_inner(ptl, pml);
	pte_unmap(pte);
	if (!empty)
		return;
	mm_dec_nr_ptes(mm);
	walk->freed++;
	if (walk->flush_now)
		pt_reclaim_free(mm, pmdval);
	else
		walk->unlinked->pmd[walk->unlinked->nr++] = pmdval;
}

/*
 * A batch: the tables of [@addr, @end), at most PT_RECLAIM_BATCH of them
 * under one PMD table from the one at @pmd. A lockless scan picks the
 * tables that look empty; only those are looked at again, under one pmd
 * lock. Where the arch needs it, the batch's flush is done before the
 * pmd lock is dropped, and its tables freed inside the batch's RCU
 * read-side section, which holds off the end of their grace period until
 * after the flush; elsewhere the tables wait for the walk's flush
 * (in a MADV_DONTNEED zap, the zap's).
 */
static void pt_reclaim_batch(struct pt_reclaim_walk *walk, pmd_t *pmd,
			     unsigned long addr, unsigned long end)
{
	DECLARE_BITMAP(empty, PT_RECLAIM_BATCH);
	unsigned int i, n = (end - addr) >> PMD_SHIFT, nr = 0;
	gfp_t gfp = GFP_KERNEL | __GFP_NORETRY;
	spinlock_t *pml;	/* held from the first candidate to the last */

	for (i = 0; i < n; i++) {
		if (pt_reclaim_scan(walk, pmd + i, addr + i * PMD_SIZE)) {
			__set_bit(i, empty);
			nr++;
		} else {
			__clear_bit(i, empty);
		}
	}
	if (!nr)
		return;

	/* In a zap, whose gather is open: no reclaim for the list. */
	if (walk->in_zap)
		gfp = GFP_NOWAIT;
	/* See the top of the file: who may wait for the flush. */
	walk->flush_now = !tlb_unlink_flush_may_wait() ||
			  mm_has_notifiers(walk->mm) ||
			  walk->flush_locked ||
			  !pt_reclaim_room(&walk->unlinked, nr, gfp);
	rcu_read_lock();
	pml = pmd_lock(walk->mm, pmd);
	for_each_set_bit(i, empty, n)
		pt_reclaim_table(walk, pml, pmd + i, addr + i * PMD_SIZE);
	if (walk->flush_now && walk->gathering)
		tlb_flush_mmu_tlbonly(walk->tlb);
	spin_unlock(pml);
	rcu_read_unlock();
	if (walk->flush_now)
		pt_reclaim_flush(walk);
}

static int pt_reclaim_pmd_range(struct pt_reclaim_walk *walk, pud_t *pud,
				unsigned long addr, unsigned long end)
{
	unsigned long span = PT_RECLAIM_BATCH * PMD_SIZE, next;
	pmd_t *pmd = pmd_offset(pud, addr);

	while (addr != end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		next = end - addr > span ? addr + span : end;
		pt_reclaim_batch(walk, pmd, addr, next);
		pmd += (next - addr) >> PMD_SHIFT;
		addr = next;
		cond_resched();
	}
	return 0;
}

static int pt_reclaim_pud_range(struct pt_reclaim_walk *walk, p4d_t *p4d,
				unsigned long addr, unsigned long end)
{
	pud_t *pud = pud_offset(p4d, addr);
	unsigned long next;
	pud_t pudval;
	int err;

	do {
		next = pud_addr_end(addr, end);
		pudval = pudp_get(pud);
		if (pud_none(pudval) || pud_leaf(pudval) || pud_bad(pudval))
			continue;
		err = pt_reclaim_pmd_range(walk, pud, addr, next);
		if (err)
			return err;
	} while (pud++, addr = next, addr != end);
	return 0;
}

static int pt_reclaim_p4d_range(struct pt_reclaim_walk *walk, pgd_t *pgd,
				unsigned long addr, unsigned long end)
{
	p4d_t *p4d = p4d_offset(pgd, addr);
	unsigned long next;
	p4d_t p4dval;
	int err;

	do {
		next = p4d_addr_end(addr, end);
		p4dval = p4dp_get(p4d);
		if (p4d_none(p4dval) || p4d_bad(p4dval))
			continue;
		err = pt_reclaim_pud_range(walk, p4d, addr, next);
		if (err)
			return err;
	} while (p4d++, addr = next, addr != end);
	return 0;
}

/* Walk [addr, end), both PMD-aligned; empty upper levels cost one read. */
static int pt_reclaim_range(struct pt_reclaim_walk *walk, unsigned long addr,
			    unsigned long end)
{
	pgd_t *pgd = pgd_offset(walk->mm, addr);
	unsigned long next;
	pgd_t pgdval;
	int err;

	do {
		next = pgd_addr_end(addr, end);
		pgdval = pgdp_get(pgd);
		if (pgd_none(pgdval) || pgd_bad(pgdval))
			continue;
		err = pt_reclaim_p4d_range(walk, pgd, addr, next);
		if (err)
			return err;
	} while (pgd++, addr = next, addr != end);
	return 0;
}

/* Does [start, end) hold the whole span of at least one PTE table? */
static bool pt_reclaim_has_table(unsigned long start, unsigned long end)
{
	/*
	 * Shorter than a table: none. Also keeps ALIGN() below from
	 * wrapping to 0 for a start in the last PMD of the address space
	 * (an empty span at a kernel address would become the whole
	 * address space).
	 */
	if (end <= start || end - start < PMD_SIZE)
		return false;
	return ALIGN(start, PMD_SIZE) < ALIGN_DOWN(end, PMD_SIZE);
}

/* The whole tables inside [start, end), a span covered by eligible VMAs. */
static int pt_reclaim_span(struct pt_reclaim_walk *walk, unsigned long start,
			   unsigned long end)
{
	if (!pt_reclaim_has_table(start, end))
		return 0;
	return pt_reclaim_range(walk, ALIGN(start, PMD_SIZE),
				ALIGN_DOWN(end, PMD_SIZE));
}

/* Upper level: PMD tables left empty once their PTE tables are gone. */

/*
 * Once its PTE tables are gone, a PMD table whose entries are all none maps
 * nothing, yet stays: PUD_SIZE of address space each (1 GiB on x86_64, 2 GiB
 * on s390). It is freed when its whole span lies inside the request and
 * inside a single eligible VMA.
 *
 * A PMD table is not protected the way a PTE table is. Those who use its
 * entries keep a pointer into it (vmf->pmd, pvmw->pmd) without the pmd
 * lock and without RCU, and count on the table living as long as a VMA
 * covers it: the page fault under the per-VMA lock, the rmap walkers under
 * the anon_vma or i_mmap lock, khugepaged's retract_page_tables() under the
 * i_mmap lock, everyone else under the mmap lock. munmap()'s
 * free_pgtables() frees a PMD table only after it took the VMAs out of the
 * tree and the rmap. Reclaim excludes each of them instead: the mmap lock
 * for write, the VMA write lock (which waits for the faults under the
 * per-VMA lock and keeps new ones out until the mmap lock is released), and
 * the i_mmap and anon_vma locks for write; hence one VMA only. Then, under
 * the pud lock and the PMD table's own lock, every entry is re-checked
 * none, the pud cleared, and the table freed through an mmu_gather as
 * free_pgtables() frees it: after a TLB flush that drops paging-structure
 * caches (freed_tables), and where the architecture frees page tables by
 * RCU (MMU_GATHER_RCU_TABLE_FREE) after a grace period too, for GUP-fast
 * and the other lockless walkers with IRQs off. Every PTE table under it
 * went before, their flush done; as for those, no mmu
 * notifier range: an empty PMD table maps nothing a secondary MMU could
 * hold, and SVA hears of the flush through
 * mmu_notifier_arch_invalidate_secondary_tlbs().
 *
 * All that needs the mmap lock for write, so a lockless scan under the read
 * lock picks the candidates first, and the lock is upgraded only when one
 * looks empty.
 */

/* Does the pud hold a PMD table (not none, a leaf or bad)? */
static bool pt_reclaim_pud_is_table(pud_t pudval)
{
	return pud_present(pudval) && !pud_leaf(pudval) && !pud_bad(pudval);
}

/* Do the PMD table's entries, from its first at @pmd, all read none? */
static bool pt_reclaim_pmd_table_empty(pmd_t *pmd)
{
	int i;

	for (i = 0; i < PTRS_PER_PMD; i++)
		if (!pmd_none(pmdp_get_lockless(pmd + i)))
			return false;
	return true;
}

/*
 * The first PMD table of [@addr, @end) (both PUD-aligned) that looks
 * empty: its address, with its pud in *@pudp; or @end. Upper levels that
 * are none are skipped whole, as in pt_reclaim_range(): a sparse range
 * costs what its populated upper tables cost, not its size.
 */
static unsigned long pt_reclaim_pmd_scan(struct mm_struct *mm,
					 unsigned long addr, unsigned long end,
					 pud_t **pudp)
{
	unsigned long next;
	pgd_t *pgd, pgdval;
	p4d_t *p4d, p4dval;
	pud_t *pud;

	while (addr < end) {
		pgd = pgd_offset(mm, addr);
		pgdval = pgdp_get(pgd);
		next = pgd_addr_end(addr, end);
		if (pgd_none(pgdval) || pgd_bad(pgdval))
			goto skip;
		p4d = p4d_offset(pgd, addr);
		p4dval = p4dp_get(p4d);
		next = p4d_addr_end(addr, end);
		if (p4d_none(p4dval) || p4d_bad(p4dval))
			goto skip;
		pud = pud_offset(p4d, addr);
		next = addr + PUD_SIZE;
		if (pt_reclaim_pud_is_table(pudp_get(pud)) &&
		    pt_reclaim_pmd_table_empty(pmd_offset(pud, addr))) {
			*pudp = pud;
			return addr;
		}
skip:
		addr = next;
		cond_resched();
	}
	return end;
}

/*
 * The first candidate at or after @addr (PUD-aligned) and below @end: a
 * PMD table whose span lies inside one eligible VMA and that looks empty.
 * Returns its address, with the VMA in *@vmap and its pud in *@pudp; or
 * @end. Under the mmap lock (either mode): the tables cannot go.
 */
static unsigned long pt_reclaim_pmd_next(struct mm_struct *mm,
					 unsigned long addr, unsigned long end,
					 struct vm_area_struct **vmap,
					 pud_t **pudp)
{
	VMA_ITERATOR(vmi, mm, addr);
	struct vm_area_struct *vma;
	unsigned long a, e;

	for_each_vma_range(vmi, vma, end) {
		if (!pt_reclaim_vma_ok(vma))
			continue;
		a = ALIGN(max(addr, vma->vm_start), PUD_SIZE);
		e = ALIGN_DOWN(min(end, vma->vm_end), PUD_SIZE);
		if (a >= e)
			continue;
		a = pt_reclaim_pmd_scan(mm, a, e, pudp);
		if (a < e) {
			*vmap = vma;
			return a;
		}
	}
	return end;
}

/*
 * Free the PMD table that maps [@addr, @addr + PUD_SIZE) through @tlb if
 * it is empty; @vma covers the span. For a @remote caller, the rmap locks
 * are only tried: an rmap walker (reclaim, migration, compaction) may hold
 * one for long, and the faults of the process would wait behind us.
 * Context: mmap lock held for write.
 * Returns 1 when the table was freed, 0 when not, -EBUSY when an rmap lock
 * was taken.
 */
static int pt_reclaim_pmd_table(struct mmu_gather *tlb,
				struct vm_area_struct *vma, pud_t *pud,
				unsigned long addr, bool remote)
{
	struct mm_struct *mm = vma->vm_mm;
	struct address_space *mapping = NULL;
	struct anon_vma *anon_vma;
	spinlock_t *pul, *pml;
	pmd_t *pmd = NULL;
	bool freed = false;

	mmap_assert_write_locked(mm);
	/*
	 * With the mmap lock held for write and the VMA write-locked, nobody
	 * can set vma->anon_vma (a fault does, under one of the two). This
	 * waits for the faults in progress in the VMA, for remote callers
	 * too: there is no try variant, and a fault does not sleep for long
	 * under the per-VMA lock (it drops it to wait for I/O).
	 */
	vma_start_write(vma);
	if (vma->vm_file) {
		mapping = vma->vm_file->f_mapping;
		if (!remote)
			i_mmap_lock_write(mapping);
		else if (!i_mmap_trylock_write(mapping))
			return -EBUSY;
	}
	anon_vma = vma->anon_vma;
	if (anon_vma) {
		if (!remote) {
			anon_vma_lock_write(anon_vma);
		} else if (!anon_vma_trylock_write(anon_vma)) {
			if (mapping)
				i_mmap_unlock_write(mapping);
			return -EBUSY;
		}
	}

	pul = pud_lock(mm, pud);
	if (pt_reclaim_pud_is_table(pudp_get(pud))) {
		pmd = pmd_offset(pud, addr);
		pml = pmd_lockptr(mm, pmd);
		pt_reclaim_lock_inner(pml, pul);
		if (pt_reclaim_pmd_table_empty(pmd)) {
			pud_clear(pud);
			freed = true;
		}
		pt_reclaim_unlock_inner(pml, pul);
	}
	spin_unlock(pul);

	/* After the unlock: the split pmd lock goes with the table. */
	if (freed) {
		pmd_free_tlb(tlb, pmd, addr);
		mm_dec_nr_pmds(mm);
	}

	if (anon_vma)
		anon_vma_unlock_write(anon_vma);
	if (mapping)
		i_mmap_unlock_write(mapping);
	return freed;
}

/*
 * Free the empty PMD tables whose span lies inside [@start, @end). Called
 * with the mmap lock held for read, and returns with it so held; takes it
 * for write in between when a table looks empty.
 */
static int pt_reclaim_pmd_tables(struct pt_reclaim_walk *walk,
				 unsigned long start, unsigned long end)
{
	struct mm_struct *mm = walk->mm;
	bool remote = mm != current->mm;
	struct vm_area_struct *vma;
	struct mmu_gather tlb;
	unsigned long addr;
	int err = 0, ret;
	pud_t *pud;

	/* As in pt_reclaim_span(): shorter than a table, or ALIGN() wraps. */
	if (end - start < PUD_SIZE)
		return 0;
	/* No PMD table of its own: the pud is the pmd, freed with its table. */
	if (mm_pmd_folded(mm))
		return 0;
	start = ALIGN(start, PUD_SIZE);
	end = ALIGN_DOWN(end, PUD_SIZE);
	addr = pt_reclaim_pmd_next(mm, start, end, &vma, &pud);
	if (addr >= end)
		return 0;

	mmap_read_unlock(mm);
	/*
	 * A caller from outside the mm (process_madvise() from another
	 * process, ptreclaim -i; a kthread without an mm) does not wait for
	 * the write lock of the mm it reclaims, nor for its rmap locks: a
	 * writer that waits makes that process's own readers (faults that
	 * fall back from the per-VMA lock, mmap(), munmap()) queue behind
	 * it. When a lock is held by someone else, the PMD tables stay for
	 * a later call; the PTE tables are gone already. The process itself
	 * waits, as for munmap().
	 */
	if (remote) {
		if (!mmap_write_trylock(mm)) {
			count_vm_event(PT_RECLAIM_PMD_BUSY);
			mmap_read_lock(mm);
			return 0;
		}
	} else if (mmap_write_lock_killable(mm)) {
		mmap_read_lock(mm);
		return -EINTR;
	}
	/*
	 * The VMAs may have changed meanwhile: the candidates are looked up
	 * again. One gather for all: one flush, then the tables are freed.
	 */
	tlb_gather_mmu(&tlb, mm);
	for (;;) {
		addr = pt_reclaim_pmd_next(mm, addr, end, &vma, &pud);
		if (addr >= end)
			break;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		ret = pt_reclaim_pmd_table(&tlb, vma, pud, addr, remote);
		if (ret == -EBUSY) {
			count_vm_event(PT_RECLAIM_PMD_BUSY);
			break;
		}
		walk->pmd_freed += ret;
		addr += PUD_SIZE;
	}
	tlb_finish_mmu(&tlb);
	mmap_write_downgrade(mm);
	return err;
}

/**
 * madvise_pt_reclaim - free the empty PTE tables of a range
 * @mm: the address space
 * @start: start of the range, page aligned
 * @end: end of the range, page aligned
 *
 * Frees every PTE table whose span lies inside [@start, @end), is covered
 * by VMAs that are neither hugetlb, VM_PFNMAP nor VM_IO, and whose
 * entries are all none. Tables that do not qualify are skipped: the call
 * is advisory.
 * Then frees the PMD tables left empty whose span lies inside the range
 * and inside one such VMA.
 *
 * Context: Process context; takes and releases the pmd and PTE locks.
 * The caller holds @mm's mmap lock in read mode.
 * When a PMD table looks empty, the lock is dropped and taken for write
 * for a while (when @mm is not the caller's, only if it is free at once);
 * it is held in read mode again on return, also on error, and VMAs looked
 * up before the call may be gone.
 * Return: 0; -ENOMEM when part of the range is not mapped (the mapped
 * parts are still processed); -EINTR when a fatal signal stopped the walk.
 */
int madvise_pt_reclaim(struct mm_struct *mm, unsigned long start,
		       unsigned long end)
{
	VMA_ITERATOR(vmi, mm, start);
	struct mmu_gather tlb;
	struct pt_reclaim_walk walk = { .mm = mm, .tlb = &tlb };
	unsigned long span = start, addr = start;
	struct vm_area_struct *vma;
	bool hole = false;
	int err = 0;

	mmap_assert_locked(mm);

	/*
	 * Cut the range into spans of adjacent eligible VMAs; a hole or an
	 * ineligible VMA ends a span. A table is reclaimed only when its
	 * whole span lies inside one of them.
	 */
	for_each_vma_range(vmi, vma, end) {
		if (vma->vm_start > addr) {
			hole = true;
			err = pt_reclaim_span(&walk, span, addr);
			span = vma->vm_start;
		}
		addr = min(vma->vm_end, end);
		if (!pt_reclaim_vma_ok(vma)) {
			if (!err)
				err = pt_reclaim_span(&walk, span, vma->vm_start);
			span = addr;
		}
		if (err)
			break;
	}
	if (!err) {
		if (addr < end)
			hole = true;
		err = pt_reclaim_span(&walk, span, addr);
	}
	/* The flush the tables unlinked may have waited for. */
	pt_reclaim_flush(&walk);
	/* Last: may drop the mmap lock, after which vma is stale. */
	if (!err)
		err = pt_reclaim_pmd_tables(&walk, start, end);

	count_vm_events(PT_RECLAIM_SCANNED, walk.scanned);
	count_vm_events(PT_RECLAIM_FREED, walk.freed);
	count_vm_events(PT_RECLAIM_RACED, walk.raced);
	count_vm_events(PT_RECLAIM_PMD_FREED, walk.pmd_freed);
	if (err)
		return err;
	return hole ? -ENOMEM : 0;
}

/* MADV_DONTNEED: the PTE tables a zap emptied, freed before it returns. */

static int sysctl_pt_reclaim_dontneed __read_mostly =
	IS_ENABLED(CONFIG_MADV_PT_RECLAIM_DONTNEED);

/*
 * A MADV_DONTNEED zap with reclaim: the tables unlinked wait in unlinked
 * to be freed after the zap's flush. anon says that the VMA is anonymous
 * (the zap leaves no entry behind); rest, that some tables are left for
 * the walk at the end of the zap; hold, that the flush of a table
 * unlinked may not wait until the pmd lock is dropped, so that the zap
 * keeps the lock (held) across the tables of a PMD table and flushes
 * before it drops it, and the walk flushes each batch under the lock;
 * held_tables counts the tables of the run: the one whose unlink took
 * the lock and those zapped under it since.
 */
struct pt_reclaim_zap {
	struct zap_details details;
	unsigned long start, end;
	struct pt_reclaim_unlinked *unlinked;
	unsigned long scanned, freed;
	spinlock_t *held;		/* the pmd lock kept, if any */
	unsigned int held_tables;	/* tables in the run */
	bool anon;
	bool rest;
	bool hold;
};

/*
 * The zap_details for the zap of [@start, @end): NULL, as MADV_DONTNEED
 * passes without reclaim, when the range holds no whole table; else
 * details that zap the same and let the zap free the tables (see
 * pt_reclaim_dontneed()).
 */
static struct zap_details *pt_reclaim_zap_details(struct pt_reclaim_zap *prz,
						  struct vm_area_struct *vma,
						  unsigned long start,
						  unsigned long end)
{
	*prz = (struct pt_reclaim_zap) { .start = start, .end = end };
	if (!pt_reclaim_has_table(start, end))
		return NULL;
	/* See the top of the file: who may wait for the flush. */
	prz->hold = !tlb_unlink_flush_may_wait() ||
		    (vma->vm_flags & VM_EXEC) || mm_has_notifiers(vma->vm_mm);
	prz->anon = vma_is_anonymous(vma);
	/* What a NULL zap_details means, plus the reclaim. */
	prz->details.even_cows = true;
	prz->details.pt_reclaim = prz;
	return &prz->details;
}

/*
 * Under the pmd and the PTE lock: the zap's unlink of the table mapped at
 * @pte, if the arch agrees. Returns whether it did.
 */
static bool pt_reclaim_zap_unlink(struct mmu_gather *tlb,
				  struct pt_reclaim_zap *prz, pmd_t *pmd,
				  unsigned long addr, pte_t *pte)
{
	struct pt_reclaim_unlinked *u = prz->unlinked;

	if (!arch_pte_table_reclaimable(tlb->mm, addr, pte))
		return false;
	u->pmd[u->nr++] = tlb_unlink_pte_table(tlb, pmd, addr);
	pmdp_get_lockless_sync();
	mm_dec_nr_ptes(tlb->mm);
	prz->freed++;
	return true;
}

/*
 * Under the PTE lock the zap emptied the table mapped at @pte under: is
 * the table empty? When the zap went over all its entries in one go, in
 * an anonymous VMA, it is, without reading it again: there the zap
 * clears every entry it meets and puts nothing back (uffd-wp markers are
 * dropped, not kept or installed: zap_install_uffd_wp_if_needed();
 * should_zap_cows() holds, as details->even_cows is set), and every
 * writer of an entry holds the lock. Elsewhere, where the zap may keep
 * or install a uffd-wp marker, or when it went over part of the table
 * (a need_resched() or a full gather made it stop and come back, and
 * the lock was dropped in between; a full gather at the last entries
 * counts short, which only costs a read), the entries are read again.
 * CONFIG_DEBUG_VM reads them always and warns if the first answer was
 * wrong.
 */
static bool pt_reclaim_zap_emptied(struct pt_reclaim_zap *prz,
				   unsigned int visited, pte_t *pte)
{
	bool emptied = prz->anon && visited == PTRS_PER_PTE;

	if (emptied && !IS_ENABLED(CONFIG_DEBUG_VM))
		return true;
	if (pt_reclaim_empty_locked(pte))
		return true;
	VM_WARN_ON_ONCE(emptied);
	return false;
}

/**
 * __pt_reclaim_zap_table - unlink a PTE table a MADV_DONTNEED zap emptied
 * @tlb: the zap's mmu_gather
 * @prz: the zap's reclaim (pt_reclaim_dontneed())
 * @pmd: the pmd that points to the table
 * @addr: an address the table maps
 * @visited: how many of its entries the zap went over under @ptl
 * @ptl: the table's PTE lock, held
 *
 * Called by zap_pte_range() when it has zapped up to the end of its range
 * in the table, before it drops @ptl and after its forced flush, if any
 * (delayed rmaps are done by then: rmap walkers that wait for @ptl until
 * they are, folio_mkclean() for one, would not wait once the pmd is
 * cleared). A table whose whole span lies in the request and whose
 * entries are all none is unlinked now, with the checks of the locked
 * step (see the top of the file) under the locks the zap holds: the PTE
 * lock, under which every entry is written, so what we read (or what the
 * zap knows it left, see pt_reclaim_zap_emptied()) is what the table
 * holds; reclaim's batched flush, which zap_pte_range() did under the
 * lock; the arch's word. The pmd still
 * points to the table: whoever clears a pmd that points to a table takes
 * the table's PTE lock too (retract_page_tables(), reclaim) or the mmap
 * lock for write (khugepaged's collapse, mremap(), free_pgtables() of
 * VMAs in the tree), and MADV_DONTNEED holds it for read. The pmd lock
 * ranks above the PTE lock, so it is only tried; when it is busy, when
 * there is no room to keep the table, or when a flush is pending
 * elsewhere (mm_tlb_flush_nested(), counting our own zap's once: it may
 * be of leaf entries of the span, which must be flushed before the pmd
 * lock is dropped), the table is left to the walk at the end of the zap
 * (__pt_reclaim_zap_end()).
 *
 * The table is freed after the zap's flush, which the unlink has told to
 * drop the walk caches. Where that flush may wait until after the pmd
 * lock is dropped (tlb_unlink_flush_may_wait(), outside executable VMAs
 * and mms with mmu notifiers: see pt_reclaim_dontneed()), the lock is
 * dropped at once. Elsewhere (@prz->hold) the zap keeps it once it has
 * unlinked a table, and with it every writer of a pmd of this PMD table
 * away, across the tables that follow: their PTE locks nest in it
 * (__pt_reclaim_zap_lock()), and the tables they leave empty are
 * unlinked under it without trying it again. zap_pmd_range() drops it
 * (__pt_reclaim_zap_unhold()) at the end of the PMD table, before a huge
 * pmd (whose zap or split takes it), and when the CPU or the lock is
 * wanted or once its run reaches PT_RECLAIM_BATCH tables
 * (__pt_reclaim_zap_resched()); zap_pte_range() before a forced flush
 * frees pages (which may sleep). The zap's gather is flushed first: the
 * pages and the tables unlinked so far, in one flush. So the pmd of an
 * unlinked table stays none until no TLB or walk cache can point to the
 * table, as the walk's batches guarantee, at one flush for up to
 * PT_RECLAIM_BATCH tables, and the lock is held for the zap of at most
 * as many tables as a batch of the walk holds it for. Without split PTE
 * locks, @ptl is the pmd lock and cannot be kept past the table: the
 * walk at the end of the zap takes the tables then.
 *
 * Context: The zap's mmu_gather is open and @ptl held; the pmd lock is
 * only tried, or held already (@prz->held).
 */
void __pt_reclaim_zap_table(struct mmu_gather *tlb, struct pt_reclaim_zap *prz,
			    pmd_t *pmd, unsigned long addr,
			    unsigned int visited, spinlock_t *ptl)
	__must_hold(ptl)
{
	unsigned long base = addr & PMD_MASK;
	struct mm_struct *mm = tlb->mm;
	spinlock_t *pml;	/* the pmd lock */
	pmd_t pmdval;
	pte_t *pte;

	if (base < prz->start || prz->end - base < PMD_SIZE)
		return;
	if (WARN_ON_ONCE(!pt_reclaim_map(pmd, base, &pmdval, &pte)))
		return;
	prz->scanned++;
	VM_WARN_ON_ONCE(pte_lockptr(mm, &pmdval) != ptl);
	if (!pt_reclaim_zap_emptied(prz, visited, pte))
		goto unmap;
	if (mm_tlb_flush_nested(mm) ||
	    !pt_reclaim_room(&prz->unlinked, 1, GFP_NOWAIT)) {
		prz->rest = true;
		goto unmap;
	}
	pml = pmd_lockptr(mm, pmd);
	if (prz->held) {
		/*
		 * Kept since an earlier table of this PMD table: when
		 * zap_pte_range() mapped this one, __pt_reclaim_zap_lock()
		 * dropped any other lock.
		 */
		pt_reclaim_zap_unlink(tlb, prz, pmd, base, pte);
	} else if (pml == ptl) {
		/* No split PTE locks: @ptl is the pmd lock. */
		if (prz->hold)
			prz->rest = true;
		else
			pt_reclaim_zap_unlink(tlb, prz, pmd, base, pte);
	} else if (spin_trylock(pml)) {
		/* Kept only with a table to flush: s390 may keep them all. */
		if (pt_reclaim_zap_unlink(tlb, prz, pmd, base, pte) &&
		    prz->hold) {
			prz->held = pml;
			prz->held_tables = 1;
			/* For sparse: __pt_reclaim_zap_unhold() drops it. */
			__release(pml);
		} else {
			spin_unlock(pml);
		}
	} else {
		prz->rest = true;
	}
unmap:
	pte_unmap(pte);
}

/**
 * __pt_reclaim_zap_lock - zap_pte_range()'s pte_offset_map_lock()
 * @tlb: the zap's mmu_gather
 * @prz: the zap's reclaim (pt_reclaim_dontneed())
 * @pmd: the pmd of the table to zap
 * @addr: the address to map
 * @ptlp: where to return the table's PTE lock
 *
 * As pte_offset_map_lock(), but with the pmd lock held by the zap
 * (@prz->held, see __pt_reclaim_zap_table()) the PTE lock nests in it, as
 * it does in the walk and in retract_page_tables() (lockdep may see both
 * split page-table locks as one class), and the pmd needs no re-check
 * under it: nobody can change a pmd while we hold its lock.
 *
 * Context: The zap's mmu_gather is open.
 * Return: the mapped entry, @ptlp held, or NULL when the pmd holds no
 * table.
 */
pte_t *__pt_reclaim_zap_lock(struct mmu_gather *tlb,
			     struct pt_reclaim_zap *prz, pmd_t *pmd,
			     unsigned long addr, spinlock_t **ptlp)
{
	pte_t *pte;

	if (prz->held && WARN_ON_ONCE(pmd_lockptr(tlb->mm, pmd) != prz->held))
		__pt_reclaim_zap_unhold(tlb, prz);
	if (!prz->held)
		return __pte_offset_map_lock(tlb->mm, pmd, addr, ptlp);
	prz->held_tables++;
	pte = pte_offset_map_nolock(tlb->mm, pmd, addr, ptlp);
	if (pte) {
		spin_lock_nested(*ptlp, SINGLE_DEPTH_NESTING);
		/* For sparse: the caller's __cond_lock() counts it. */
		__release(*ptlp);
	}
	return pte;
}

/**
 * __pt_reclaim_zap_unhold - drop the pmd lock a zap keeps, after a flush
 * @tlb: the zap's mmu_gather
 * @prz: the zap's reclaim (pt_reclaim_dontneed())
 *
 * Flushes what @tlb gathered (the pages zapped and the tables unlinked
 * so far; they are freed later, by the zap's flush and
 * pt_reclaim_dontneed()) and only then drops the pmd lock that
 * __pt_reclaim_zap_table() kept, if it did: until then no pmd of the PMD
 * table can be filled again, with a new table or a huge page, while a
 * TLB or walk cache may still hold the old table's span.
 *
 * Context: The zap's mmu_gather is open; the PTE lock of a table of the
 * kept lock's PMD table may be held (zap_pte_range(), before its forced
 * flush frees pages).
 */
void __pt_reclaim_zap_unhold(struct mmu_gather *tlb,
			     struct pt_reclaim_zap *prz)
{
	spinlock_t *pml = prz->held;

	if (!pml)
		return;
	tlb_flush_mmu_tlbonly(tlb);
	prz->held = NULL;
	/* For sparse: held since __pt_reclaim_zap_table(). */
	__acquire(pml);
	spin_unlock(pml);
}

/**
 * __pt_reclaim_zap_resched - zap_pmd_range()'s cond_resched()
 * @tlb: the zap's mmu_gather
 * @prz: the zap's reclaim (pt_reclaim_dontneed())
 *
 * While the zap keeps a pmd lock, only when the CPU is wanted, someone
 * waits for the lock (spin_is_contended(), which unlike spin_needbreak()
 * answers on kernels without preemption too; not on PREEMPT_RT, where
 * the lock sleeps and need_resched() is what counts), or the run under
 * it has reached PT_RECLAIM_BATCH tables (the one whose unlink took it
 * counted), as many as a batch of the walk holds it for: then after
 * dropping it (__pt_reclaim_zap_unhold()).
 *
 * Context: The zap's mmu_gather is open; no PTE lock held.
 */
void __pt_reclaim_zap_resched(struct mmu_gather *tlb,
			      struct pt_reclaim_zap *prz)
{
	if (prz->held) {
		if (!need_resched() && !spin_is_contended(prz->held) &&
		    prz->held_tables < PT_RECLAIM_BATCH)
			return;
		__pt_reclaim_zap_unhold(tlb, prz);
	}
	cond_resched();
}

/**
 * __pt_reclaim_zap_end - the walk at the end of a MADV_DONTNEED zap
 * @tlb: the zap's mmu_gather, not finished yet
 * @prz: the zap's reclaim (pt_reclaim_dontneed())
 *
 * Called by unmap_page_range() when the zap of the range is done, before
 * tlb_end_vma() (which flushes the gather at the end of each VMA on the
 * arches that do not merge VMAs in one flush, arm64 and riscv among
 * them), for the tables zap_pte_range() left (@prz->rest): the locked
 * step of madvise(MADV_PT_RECLAIM) over the range, in batches, without
 * the lockless scan (the zap has just emptied the tables; where it left
 * uffd-wp markers, the locked re-check finds them), unlinking through
 * the zap's gather. These are leftovers: a table whose pmd lock was
 * busy, or that the zap met while a flush was pending elsewhere or
 * without memory to keep it, or, where the zap keeps the pmd lock,
 * without split PTE locks. A
 * batch that flushes under its pmd lock (@prz->hold, or when a flush is
 * pending elsewhere or no memory is left to keep the tables) flushes the
 * zap's gather with it: the pages the zap cleared since its last flush
 * and the tables unlinked so far. The batch's tables whose flush waits
 * join those zap_pte_range() unlinked in @prz->unlinked, freed after
 * the zap's flush; the others were passed to pte_free_defer() inside
 * their batch's RCU read-side section (see the top of the file).
 *
 * Context: the zap's mmu_gather is open, inside its mmu notifier
 * invalidation of the range; the caller holds the mmap lock in read mode
 * and no other lock.
 */
void __pt_reclaim_zap_end(struct mmu_gather *tlb, struct pt_reclaim_zap *prz)
{
	struct pt_reclaim_walk walk = {
		.mm = tlb->mm, .tlb = tlb, .gathering = true, .in_zap = true,
		.flush_locked = prz->hold, .unlinked = prz->unlinked,
	};

	/* zap_pmd_range() dropped it at the end of each PMD table. */
	VM_WARN_ON_ONCE(prz->held);
	if (!prz->rest)
		return;
	/* A fatal signal (-EINTR) ends the walk early; the zap is done. */
	pt_reclaim_span(&walk, prz->start, prz->end);
	prz->unlinked = walk.unlinked;
	/* The walk counts again the tables it looks at again. */
	prz->scanned = prz->freed + walk.scanned;
	prz->freed += walk.freed;
}

/**
 * pt_reclaim_dontneed - MADV_DONTNEED's zap, freeing the tables it empties
 * @vma: the VMA to zap
 * @start: start of the range
 * @end: end of the range
 *
 * When vm.pt_reclaim_dontneed is set, zaps [@start, @end) as
 * MADV_DONTNEED does and frees the PTE tables whose whole span lies in it
 * and that are left with only none entries, inside the zap: the zap's
 * mmu_gather, whose flush the zap needs anyway, drops them from the TLB.
 *
 * zap_pte_range() unlinks each such table itself, under the PTE lock it
 * emptied the table under (__pt_reclaim_zap_table()): no second walk.
 * Where the arch lets the flush of an unlinked table wait
 * (tlb_unlink_flush_may_wait()), the pmd lock is only taken for the
 * unlink, and the zap's flush is the only one. Not so in an executable
 * VMA: until the zap's flush, 4 KiB TLB entries of the pages it cleared
 * remain, and once the pmd is cleared and its lock dropped a THP fault
 * may map the span with a huge pmd: two TLB entries of two sizes for
 * one address, which on x86 CPUs with the iTLB multihit erratum is a
 * machine check when both serve instruction fetches (on x86 without
 * NX, any page may: tlb_unlink_flush_may_wait() says no there). For
 * data it is the stale
 * entry of any zap racing a fault, as when zap_huge_pmd() leaves a huge
 * pmd's TLB entry to the zap's flush and a fault maps the span with 4 KiB
 * pages meanwhile. Nor for an mm with mmu notifiers (see the top of the
 * file). There, and on arches whose flush may not wait, the zap keeps the
 * pmd lock across the tables of a PMD table and flushes before it drops
 * it: one flush for up to PT_RECLAIM_BATCH tables, which is also the
 * flush of the pages the zap cleared until then.
 *
 * For the tables zap_pte_range() could not take (the pmd lock was busy,
 * a flush was pending elsewhere, no memory was left to keep the table,
 * or, where the pmd lock is kept, there are no split PTE locks), the
 * walk at the end of the zap (__pt_reclaim_zap_end()) does it, still
 * inside the zap's gather, the entries read again under the locks.
 * Tables that got an entry meanwhile stay. PMD tables are left alone:
 * freeing one takes the mmap lock for write.
 *
 * Context: Process context; the caller holds the mmap lock in read mode.
 * Return: false, having done nothing, when vm.pt_reclaim_dontneed is off
 * or the VMA's tables cannot be reclaimed: the caller zaps.
 */
bool pt_reclaim_dontneed(struct vm_area_struct *vma, unsigned long start,
			 unsigned long end)
{
	struct pt_reclaim_zap prz;

	if (!READ_ONCE(sysctl_pt_reclaim_dontneed) || !pt_reclaim_vma_ok(vma))
		return false;
	mmap_assert_locked(vma->vm_mm);
	zap_page_range_single(vma, start, end - start,
			      pt_reclaim_zap_details(&prz, vma, start, end));
	/* The zap's tlb_finish_mmu() has flushed: its tables can go. */
	pt_reclaim_free_unlinked(vma->vm_mm, &prz.unlinked);
	count_vm_events(PT_RECLAIM_SCANNED, prz.scanned);
	count_vm_events(PT_RECLAIM_FREED, prz.freed);
	count_vm_events(PT_RECLAIM_DONTNEED_FREED, prz.freed);
	return true;
}

#ifdef CONFIG_SYSCTL
static struct ctl_table pt_reclaim_sysctls[] = {
	{
		.procname	= "pt_reclaim_dontneed",
		.data		= &sysctl_pt_reclaim_dontneed,
		.maxlen		= sizeof(sysctl_pt_reclaim_dontneed),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
};

static int __init pt_reclaim_sysctl_init(void)
{
	register_sysctl_init("vm", pt_reclaim_sysctls);
	return 0;
}
subsys_initcall(pt_reclaim_sysctl_init);
#endif /* CONFIG_SYSCTL */

#ifdef CONFIG_MADV_PT_RECLAIM_KUNIT_TEST
#include "pt_reclaim_kunit.c"
#endif /* CONFIG_MADV_PT_RECLAIM_KUNIT_TEST */
