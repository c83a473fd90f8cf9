// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for MADV_PT_RECLAIM, included at the end of
 * mm/pt_reclaim.c: they call its static helpers rather than copies.
 *
 * Each case runs in its own kthread with a fresh mm (kunit_vm_mmap()),
 * touches the mapping through uaccess, sets up entries by hand under the
 * PTE lock, and calls do_madvise() as a process would. Whether the table
 * is still there is read from the pmd; mm_pgtables_bytes() must drop by
 * exactly one table when it goes. One case gives up the test's mm, as
 * process_madvise() from another process reaches it, and checks that
 * such a caller leaves the empty PMD table while the mmap lock is taken.
 *
 * On s390 with PGSTE support, a second suite makes the test mm claim
 * PGSTEs, as a KVM host's does (KVM cannot run under TCG), and checks that
 * each piece of PGSTE state keeps the table and that an all-clear table
 * goes; and that while a guest address space (a real gmap, from
 * gmap_create(), linked to the table as a guest fault links it) is
 * attached to the mm, no table goes, by MADV_PT_RECLAIM or MADV_DONTNEED.
 */

#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/pgtable.h>
#include <linux/sched/task.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

/* One PTE table's span, mapped at a span boundary, with a page around. */
struct pt_test {
	struct mm_struct *mm;
	unsigned long addr;	/* PMD-aligned start of the span */
};

static void pt_test_map(struct kunit *test, struct pt_test *t)
{
	unsigned long area;

	/* A span plus slack, then keep the aligned span inside it. */
	area = kunit_vm_mmap(test, NULL, 0, 2 * PMD_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, area, 0, "kunit_vm_mmap() failed");
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(area));
	t->mm = current->mm;
	t->addr = ALIGN(area, PMD_SIZE);
}

/* Is there a PTE table for the span at @t->addr (not a huge pmd)? */
static bool pt_test_has_table(struct pt_test *t)
{
	bool has = false;
	pmd_t *pmd, pmdval;

	mmap_read_lock(t->mm);
	pmd = mm_find_pmd(t->mm, t->addr);
	if (pmd) {
		pmdval = pmdp_get(pmd);
		has = pmd_present(pmdval) && !pmd_leaf(pmdval);
	}
	mmap_read_unlock(t->mm);
	return has;
}

/* Fault in the page at @addr by writing @val to it. */
static void pt_test_write(struct kunit *test, unsigned long addr, u8 val)
{
	KUNIT_ASSERT_EQ(test, put_user(val, (u8 __user *)addr), 0);
}

static int pt_test_madvise(struct pt_test *t, unsigned long start,
			   unsigned long len, int advice)
{
	return do_madvise(t->mm, start, len, advice);
}

/*
 * A table with one page faulted in and then given back: empty. Only that
 * page is given back: MADV_DONTNEED of the whole span would free the table
 * itself (vm.pt_reclaim_dontneed).
 */
static void pt_test_empty_table(struct kunit *test, struct pt_test *t)
{
	pt_test_map(test, t);
	pt_test_write(test, t->addr + PAGE_SIZE, 1);
	KUNIT_ASSERT_TRUE(test, pt_test_has_table(t));
	KUNIT_ASSERT_EQ(test, pt_test_madvise(t, t->addr + PAGE_SIZE, PAGE_SIZE,
					      MADV_DONTNEED), 0);
	KUNIT_ASSERT_TRUE(test, pt_test_has_table(t));
}

/*
 * Run @fn on the table of @t under its PTE lock, with @pte at its first
 * entry.
 */
static void pt_test_with_table(struct kunit *test, struct pt_test *t,
			       void (*fn)(struct pt_test *t, pte_t *pte,
					  void *arg),
			       void *arg)
{
	spinlock_t *ptl;	/* the table's PTE lock */
	pte_t *pte = NULL;
	pmd_t *pmd;

	mmap_read_lock(t->mm);
	pmd = mm_find_pmd(t->mm, t->addr);
	/* Nothing else runs in this mm: the pmd cannot change under us. */
	if (pmd && pt_reclaim_map(pmd, t->addr, NULL, &pte)) {
		ptl = pte_lockptr(t->mm, pmd);
		spin_lock(ptl);
		fn(t, pte, arg);
		spin_unlock(ptl);
		pte_unmap(pte);
	}
	mmap_read_unlock(t->mm);
	KUNIT_ASSERT_NOT_NULL_MSG(test, pte, "no PTE table at %lx", t->addr);
}

/* Reclaim the span; the table must be gone, and counted so. */
static void pt_test_expect_freed(struct kunit *test, struct pt_test *t)
{
	unsigned long bytes = mm_pgtables_bytes(t->mm);

	KUNIT_EXPECT_EQ(test, pt_test_madvise(t, t->addr, PMD_SIZE,
					      MADV_PT_RECLAIM), 0);
	KUNIT_EXPECT_FALSE_MSG(test, pt_test_has_table(t),
			       "the empty table was not freed");
	KUNIT_EXPECT_EQ(test, bytes - mm_pgtables_bytes(t->mm),
			PTRS_PER_PTE * sizeof(pte_t));
}

/* Reclaim [start, start + len); the table must stay, and still count. */
static void pt_test_expect_kept(struct kunit *test, struct pt_test *t,
				unsigned long start, unsigned long len)
{
	unsigned long bytes = mm_pgtables_bytes(t->mm);

	KUNIT_EXPECT_EQ(test, pt_test_madvise(t, start, len,
					      MADV_PT_RECLAIM), 0);
	KUNIT_EXPECT_TRUE_MSG(test, pt_test_has_table(t),
			      "the table was freed");
	KUNIT_EXPECT_EQ(test, mm_pgtables_bytes(t->mm), bytes);
}

static void pt_reclaim_empty_table_freed(struct kunit *test)
{
	struct pt_test t;

	pt_test_empty_table(test, &t);
	pt_test_expect_freed(test, &t);
	/* A fault after the reclaim gets a new table and works. */
	pt_test_write(test, t.addr, 2);
	KUNIT_EXPECT_TRUE(test, pt_test_has_table(&t));
}

static void pt_reclaim_present_entry_keeps_table(struct kunit *test)
{
	struct pt_test t;
	u8 val = 0;

	pt_test_map(test, &t);
	pt_test_write(test, t.addr + PMD_SIZE - PAGE_SIZE, 42);
	pt_test_expect_kept(test, &t, t.addr, PMD_SIZE);
	KUNIT_EXPECT_EQ(test, get_user(val, (u8 __user *)(t.addr + PMD_SIZE -
							    PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, val, 42);
}

static void pt_test_set_marker(struct pt_test *t, pte_t *pte, void *arg)
{
	unsigned long i = (unsigned long)arg;

	set_pte_at(t->mm, t->addr + i * PAGE_SIZE, pte + i,
		   make_pte_marker(PTE_MARKER_POISONED));
}

static void pt_test_clear_entry(struct pt_test *t, pte_t *pte, void *arg)
{
	unsigned long i = (unsigned long)arg;

	pte_clear(t->mm, t->addr + i * PAGE_SIZE, pte + i);
}

static void pt_reclaim_marker_keeps_table(struct kunit *test)
{
	unsigned long last = PTRS_PER_PTE - 1;
	struct pt_test t;

	pt_test_empty_table(test, &t);
	/* A marker is not pte_none(): the table holds something. */
	pt_test_with_table(test, &t, pt_test_set_marker, (void *)last);
	pt_test_expect_kept(test, &t, t.addr, PMD_SIZE);
	pt_test_with_table(test, &t, pt_test_clear_entry, (void *)last);
	pt_test_expect_freed(test, &t);
}

/*
 * A page being migrated is mapped by a migration entry (try_to_migrate()
 * puts it there, remove_migration_ptes() the new page back): not none,
 * so its table stays. The entry here stands in for the present one at
 * @t->addr, which is kept and goes back after. As in a migration, the
 * folio is locked (whoever meets the entry, a fault or a zap, may rely on
 * it: pfn_swap_entry_folio()) and held while the entry is there; a
 * migration of it meanwhile (compaction) waits for the lock, or finds no
 * present pte to move and leaves it.
 */
struct pt_test_migration {
	pte_t present;		/* the entry replaced */
	struct folio *folio;	/* locked and held while replaced */
};

static void pt_test_set_migration(struct pt_test *t, pte_t *pte, void *arg)
{
	struct pt_test_migration *m = arg;
	pte_t old = ptep_get(pte);
	struct folio *folio;

	if (!pte_present(old))
		return;
	folio = pfn_folio(pte_pfn(old));
	if (!folio_try_get(folio))
		return;
	if (!folio_trylock(folio)) {
		folio_put(folio);
		return;
	}
	m->folio = folio;
	m->present = ptep_get_and_clear(t->mm, t->addr, pte);
	set_pte_at(t->mm, t->addr, pte,
		   swp_entry_to_pte(make_readable_migration_entry(pte_pfn(old))));
}

static void pt_test_restore(struct pt_test *t, pte_t *pte, void *arg)
{
	struct pt_test_migration *m = arg;

	ptep_get_and_clear(t->mm, t->addr, pte);
	set_pte_at(t->mm, t->addr, pte, m->present);
}

static void pt_reclaim_migration_entry_keeps_table(struct kunit *test)
{
	struct pt_test_migration m = { .folio = NULL };
	struct pt_test t;
	u8 val = 0;

	if (!IS_ENABLED(CONFIG_MIGRATION))
		kunit_skip(test, "CONFIG_MIGRATION is off");
	pt_test_map(test, &t);
	pt_test_write(test, t.addr, 42);
	pt_test_with_table(test, &t, pt_test_set_migration, &m);
	/* Nothing else runs in the mm: the page is there, and unlocked. */
	KUNIT_ASSERT_NOT_NULL_MSG(test, m.folio,
				  "no present, unlocked page at %lx", t.addr);
	pt_test_expect_kept(test, &t, t.addr, PMD_SIZE);
	/* Freed with the entry (the failure above): nothing maps the page. */
	if (pt_test_has_table(&t))
		pt_test_with_table(test, &t, pt_test_restore, &m);
	folio_unlock(m.folio);
	folio_put(m.folio);
	KUNIT_EXPECT_EQ(test, get_user(val, (u8 __user *)t.addr), 0);
	KUNIT_EXPECT_EQ(test, val, 42);
}

static void pt_reclaim_partial_span_untouched(struct kunit *test)
{
	struct pt_test t;

	pt_test_empty_table(test, &t);
	/* Ranges that miss a page of the span at either end. */
	pt_test_expect_kept(test, &t, t.addr, PMD_SIZE - PAGE_SIZE);
	pt_test_expect_kept(test, &t, t.addr + PAGE_SIZE,
			    PMD_SIZE - PAGE_SIZE);
	pt_test_expect_freed(test, &t);
}

/* Is there a PMD table for the PUD-aligned span at @addr? */
static bool pt_test_has_pmd_table(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	bool has = false;
	p4d_t *p4d;
	pud_t *pud;

	mmap_read_lock(mm);
	if (!pgd_none(pgdp_get(pgd))) {
		p4d = p4d_offset(pgd, addr);
		if (!p4d_none(p4dp_get(p4d))) {
			pud = pud_offset(p4d, addr);
			has = pt_reclaim_pud_is_table(pudp_get(pud));
		}
	}
	mmap_read_unlock(mm);
	return has;
}

/* A reader of an mm's mmap lock in a kthread of its own, for a while. */
struct pt_test_reader {
	struct mm_struct *mm;
	struct completion held, release;
};

static int pt_test_reader_fn(void *arg)
{
	struct pt_test_reader *r = arg;

	mmap_read_lock(r->mm);
	complete(&r->held);
	/* Bounded: a caller that waits for the lock fails, not hangs. */
	wait_for_completion_timeout(&r->release, 10 * HZ);
	mmap_read_unlock(r->mm);
	return 0;
}

static unsigned long pt_test_pmd_busy(void)
{
	unsigned long *ev;
	unsigned long n;

	ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	if (!ev)
		return 0;
	all_vm_events(ev);
	n = ev[PT_RECLAIM_PMD_BUSY];
	kfree(ev);
	return n;
}

/*
 * Another process's reclaim (process_madvise()) does not wait for the
 * write lock of the mm's mmap lock: while another thread holds that lock,
 * the empty PMD table stays (the PTE table under it goes), and the next
 * call, with the lock free, frees it. The test thread gives up its mm to
 * act as that other process.
 */
static void pt_reclaim_remote_busy_keeps_pmd_table(struct kunit *test)
{
	unsigned long area, addr, bytes, busy;
	struct pt_test_reader r;
	struct task_struct *k;
	struct mm_struct *mm;
	int i, ret;

	area = kunit_vm_mmap(test, NULL, 0, 2 * PUD_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, 0);
	if (IS_ERR_VALUE(area) && area == -ENOMEM)
		kunit_skip(test, "no room for 2 * PUD_SIZE (overcommit)");
	KUNIT_ASSERT_NE_MSG(test, area, 0, "kunit_vm_mmap() failed");
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(area));
	mm = current->mm;
	if (mm_pmd_folded(mm))
		kunit_skip(test, "the PMD level is folded");
	addr = ALIGN(area, PUD_SIZE);
	KUNIT_ASSERT_EQ(test, do_madvise(mm, addr, PUD_SIZE, MADV_NOHUGEPAGE),
			0);
	pt_test_write(test, addr + PAGE_SIZE, 1);
	KUNIT_ASSERT_EQ(test, do_madvise(mm, addr + PAGE_SIZE, PAGE_SIZE,
					 MADV_DONTNEED), 0);
	KUNIT_ASSERT_TRUE(test, pt_test_has_pmd_table(mm, addr));

	r.mm = mm;
	init_completion(&r.held);
	init_completion(&r.release);
	k = kthread_run(pt_test_reader_fn, &r, "pt_test_reader");
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	/* It may be gone by kthread_stop(): keep its task_struct. */
	get_task_struct(k);
	wait_for_completion(&r.held);

	/* From here to kthread_use_mm(), no KUNIT_ASSERT: keep the mm. */
	kthread_unuse_mm(mm);
	bytes = mm_pgtables_bytes(mm);
	busy = pt_test_pmd_busy();
	KUNIT_EXPECT_EQ(test, do_madvise(mm, addr, PUD_SIZE, MADV_PT_RECLAIM),
			0);
	KUNIT_EXPECT_TRUE_MSG(test, pt_test_has_pmd_table(mm, addr),
			      "the PMD table went while another held the mmap lock");
	if (IS_ENABLED(CONFIG_VM_EVENT_COUNTERS))
		KUNIT_EXPECT_GT(test, pt_test_pmd_busy(), busy);
	/* The PTE table went all the same. */
	KUNIT_EXPECT_EQ(test, bytes - mm_pgtables_bytes(mm),
			PTRS_PER_PTE * sizeof(pte_t));
	complete(&r.release);
	kthread_stop(k);
	put_task_struct(k);
	/* Free now; khugepaged may take the lock for a moment: a few tries. */
	for (i = 0; i < 10 && pt_test_has_pmd_table(mm, addr); i++) {
		ret = do_madvise(mm, addr, PUD_SIZE, MADV_PT_RECLAIM);
		KUNIT_EXPECT_EQ(test, ret, 0);
	}
	KUNIT_EXPECT_FALSE_MSG(test, pt_test_has_pmd_table(mm, addr),
			       "the empty PMD table was not freed");
	kthread_use_mm(mm);
}

#ifdef CONFIG_MMU_NOTIFIER
/* Counts the arch's flushes of the mm: each reports to secondary TLBs. */
struct pt_test_mn {
	struct mmu_notifier mn;
	atomic_t flushes;
};

static void pt_test_mn_flush(struct mmu_notifier *mn, struct mm_struct *mm,
			     unsigned long start, unsigned long end)
{
	atomic_inc(&container_of(mn, struct pt_test_mn, mn)->flushes);
}

static const struct mmu_notifier_ops pt_test_mn_ops = {
	.arch_invalidate_secondary_tlbs = pt_test_mn_flush,
};

/*
 * An mm with an mmu notifier may have a secondary walker of its tables (an
 * SVA IOMMU) whose walk cache a CPU fault does not drop: each batch is
 * flushed before its pmd lock is dropped, even where the arch lets the
 * flush wait (x86). Two tables under two PMD tables, so two batches,
 * each with one page written, given back first (MADV_PT_RECLAIM) or by
 * the call (MADV_DONTNEED, whose zap keeps each PMD table's pmd lock
 * from the table it unlinks and flushes its gather before it drops it:
 * two flushes, the zap's own among them, not three); the range holds no
 * whole PMD table, so the PMD pass flushes nothing. Where the arch's
 * flush reports to no secondary TLB (s390), there is nothing to count.
 */
static void pt_test_notifier_flushes(struct kunit *test, int advice)
{
	struct pt_test_mn n = { .mn.ops = &pt_test_mn_ops };
	unsigned long area, b, bytes;
	struct mm_struct *mm;
	int flushes;

	area = kunit_vm_mmap(test, NULL, 0, PUD_SIZE + 2 * PMD_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, 0);
	KUNIT_ASSERT_NE_MSG(test, area, 0, "kunit_vm_mmap() failed");
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(area));
	mm = current->mm;
	if (mm_pmd_folded(mm))
		kunit_skip(test, "the PMD level is folded");
	/* A PMD table boundary with a PTE table's span on each side. */
	b = ALIGN(area + PMD_SIZE, PUD_SIZE);
	KUNIT_ASSERT_EQ(test, do_madvise(mm, b - PMD_SIZE, 2 * PMD_SIZE,
					 MADV_NOHUGEPAGE), 0);
	pt_test_write(test, b - PMD_SIZE, 1);
	pt_test_write(test, b, 1);
	if (advice == MADV_PT_RECLAIM) {
		KUNIT_ASSERT_EQ(test, do_madvise(mm, b - PMD_SIZE, PAGE_SIZE,
						 MADV_DONTNEED), 0);
		KUNIT_ASSERT_EQ(test, do_madvise(mm, b, PAGE_SIZE,
						 MADV_DONTNEED), 0);
	}
	KUNIT_ASSERT_EQ(test, mmu_notifier_register(&n.mn, mm), 0);

	/* Registered: no KUNIT_ASSERT until it is unregistered. */
	bytes = mm_pgtables_bytes(mm);
	KUNIT_EXPECT_EQ(test, do_madvise(mm, b - PMD_SIZE, 2 * PMD_SIZE,
					 advice), 0);
	KUNIT_EXPECT_EQ(test, bytes - mm_pgtables_bytes(mm),
			2 * PTRS_PER_PTE * sizeof(pte_t));
	flushes = atomic_read(&n.flushes);
	mmu_notifier_unregister(&n.mn, mm);

	if (!flushes && IS_ENABLED(CONFIG_S390))
		kunit_skip(test, "s390's flush reports to no secondary TLB");
	KUNIT_EXPECT_EQ_MSG(test, flushes, 2,
			    "one flush per batch for an mm with notifiers");
}

static void pt_reclaim_notifier_flush_per_batch(struct kunit *test)
{
	pt_test_notifier_flushes(test, MADV_PT_RECLAIM);
}

/* The same for MADV_DONTNEED's reclaim, inside the zap. */
static void pt_reclaim_notifier_dontneed_zap_flush(struct kunit *test)
{
	if (!READ_ONCE(sysctl_pt_reclaim_dontneed))
		kunit_skip(test, "vm.pt_reclaim_dontneed is off");
	pt_test_notifier_flushes(test, MADV_DONTNEED);
}
#endif /* CONFIG_MMU_NOTIFIER */

static struct kunit_case pt_reclaim_cases[] = {
	KUNIT_CASE(pt_reclaim_empty_table_freed),
	KUNIT_CASE(pt_reclaim_present_entry_keeps_table),
	KUNIT_CASE(pt_reclaim_marker_keeps_table),
	KUNIT_CASE(pt_reclaim_migration_entry_keeps_table),
	KUNIT_CASE(pt_reclaim_partial_span_untouched),
	KUNIT_CASE(pt_reclaim_remote_busy_keeps_pmd_table),
#ifdef CONFIG_MMU_NOTIFIER
	KUNIT_CASE(pt_reclaim_notifier_flush_per_batch),
	KUNIT_CASE(pt_reclaim_notifier_dontneed_zap_flush),
#endif
	{}
};

static struct kunit_suite pt_reclaim_suite = {
	.name = "pt_reclaim",
	.test_cases = pt_reclaim_cases,
};

#ifdef CONFIG_PGSTE
#include <asm/gmap.h>

/*
 * s390 PGSTEs: the second half of each table. A test mm claims PGSTEs as
 * a KVM host's does once s390_enable_sie() ran; every s390 table already
 * has the PGSTE half (zeroed), so only the claim is missing.
 */
struct pgste_case {
	const char *name;
	unsigned long bits;
	unsigned int entry;	/* which entry's PGSTE holds them */
};

static const struct pgste_case pgste_cases[] = {
	{ "ACC (storage key)", PGSTE_ACC_BITS, 0 },
	{ "FP (fetch protection)", PGSTE_FP_BIT, 1 },
	{ "HR (host referenced)", PGSTE_HR_BIT, 17 },
	{ "HC (host changed)", PGSTE_HC_BIT, 64 },
	{ "GR (guest referenced)", PGSTE_GR_BIT, 100 },
	{ "GC (guest changed)", PGSTE_GC_BIT, 128 },
	{ "UC (dirty for migration)", PGSTE_UC_BIT, 200 },
	{ "IN (IPTE notification)", PGSTE_IN_BIT, 254 },
	{ "VSIE (in a shadow table)", PGSTE_VSIE_BIT, PTRS_PER_PTE - 1 },
	{ "GPS ZERO", _PGSTE_GPS_ZERO, 3 },
	{ "GPS NODAT", _PGSTE_GPS_NODAT, 5 },
	{ "GPS usage UNUSED", _PGSTE_GPS_USAGE_UNUSED, 7 },
	{ "GPS usage POT_VOLATILE", _PGSTE_GPS_USAGE_POT_VOLATILE, 9 },
	{ "GPS usage VOLATILE", _PGSTE_GPS_USAGE_VOLATILE, 11 },
	{ "an unnamed bit (bit 63)", 1UL, 13 },
};

static void pgste_case_desc(const struct pgste_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(pgste, pgste_cases, pgste_case_desc);

struct pgste_set {
	unsigned int entry;
	unsigned long bits;
};

/* Write a PGSTE by hand (we hold the PTE lock, as every PGSTE writer). */
static void pt_test_set_pgste(struct pt_test *t, pte_t *pte, void *arg)
{
	struct pgste_set *set = arg;
	unsigned long *pgste = (unsigned long *)(pte + PTRS_PER_PTE);

	WRITE_ONCE(pgste[set->entry], set->bits);
}

static void pt_test_claim_pgste(struct kunit *test, struct pt_test *t)
{
	mmap_write_lock(t->mm);
	t->mm->context.has_pgste = 1;
	mmap_write_unlock(t->mm);
	KUNIT_ASSERT_TRUE(test, mm_has_pgste(t->mm));
}

KUNIT_DEFINE_ACTION_WRAPPER(pt_test_gmap_remove, gmap_remove, struct gmap *);

/*
 * Attach a guest address space to the test mm, as KVM_CREATE_VM does
 * after s390_enable_sie(). gmap.o is built with CONFIG_PGSTE and needs no
 * KVM. It is removed when the test ends, before the mapping and the mm go
 * (actions run in reverse order), or earlier by pt_test_detach_gmap().
 */
static struct gmap *pt_test_attach_gmap(struct kunit *test, struct pt_test *t)
{
	struct gmap *gmap;
	int rc;

	pt_test_claim_pgste(test, t);
	/* The smallest one: a segment table, guest addresses below 2 GiB. */
	gmap = gmap_create(t->mm, _REGION3_SIZE - 1);
	KUNIT_ASSERT_NOT_NULL(test, gmap);
	rc = kunit_add_action_or_reset(test, pt_test_gmap_remove, gmap);
	KUNIT_ASSERT_EQ(test, rc, 0);
	return gmap;
}

static void pt_test_detach_gmap(struct kunit *test, struct gmap *gmap)
{
	kunit_release_action(test, pt_test_gmap_remove, gmap);
}

/*
 * Map guest segment 0 to the span at @t->addr and link the gmap's segment
 * entry to the table, as gmap_fault() does after a guest fault.
 */
static void pt_test_link_gmap(struct kunit *test, struct pt_test *t,
			      struct gmap *gmap)
{
	int rc;

	KUNIT_ASSERT_EQ(test, gmap_map_segment(gmap, t->addr, 0, PMD_SIZE), 0);
	mmap_read_lock(t->mm);
	rc = __gmap_link(gmap, 0, t->addr);
	mmap_read_unlock(t->mm);
	KUNIT_ASSERT_EQ(test, rc, 0);
}

/*
 * While a gmap is attached, no table of the mm goes, linked to the gmap
 * or not: gmap code counts on host tables staying under the mmap lock in
 * read mode. Once the gmap is removed, the same all-clear table goes.
 */
static void pt_reclaim_gmap_keeps_table(struct kunit *test)
{
	struct gmap *gmap;
	struct pt_test t;

	pt_test_empty_table(test, &t);
	gmap = pt_test_attach_gmap(test, &t);
	pt_test_expect_kept(test, &t, t.addr, PMD_SIZE);
	pt_test_link_gmap(test, &t, gmap);
	pt_test_expect_kept(test, &t, t.addr, PMD_SIZE);
	pt_test_detach_gmap(test, gmap);
	pt_test_expect_freed(test, &t);
}

/* The same for the table a MADV_DONTNEED of its whole span empties. */
static void pt_reclaim_gmap_dontneed_keeps_table(struct kunit *test)
{
	struct gmap *gmap;
	struct pt_test t;

	pt_test_map(test, &t);
	/* Before PGSTEs are claimed: a writable PTE would set the UC bit. */
	pt_test_write(test, t.addr, 1);
	gmap = pt_test_attach_gmap(test, &t);
	pt_test_link_gmap(test, &t, gmap);
	KUNIT_EXPECT_EQ(test, pt_test_madvise(&t, t.addr, PMD_SIZE,
					      MADV_DONTNEED), 0);
	KUNIT_EXPECT_TRUE_MSG(test, pt_test_has_table(&t),
			      "MADV_DONTNEED freed a table under a gmap");
	pt_test_detach_gmap(test, gmap);
	pt_test_expect_freed(test, &t);
}

static void pt_reclaim_pgste_state_keeps_table(struct kunit *test)
{
	const struct pgste_case *c = test->param_value;
	struct pgste_set set = { .entry = c->entry, .bits = c->bits };
	struct pt_test t;

	pt_test_empty_table(test, &t);
	pt_test_claim_pgste(test, &t);
	pt_test_with_table(test, &t, pt_test_set_pgste, &set);
	pt_test_expect_kept(test, &t, t.addr, PMD_SIZE);
	/* The same table with the PGSTE cleared goes. */
	set.bits = 0;
	pt_test_with_table(test, &t, pt_test_set_pgste, &set);
	pt_test_expect_freed(test, &t);
}

static void pt_reclaim_pgste_clear_table_freed(struct kunit *test)
{
	struct pt_test t;

	pt_test_empty_table(test, &t);
	pt_test_claim_pgste(test, &t);
	pt_test_expect_freed(test, &t);
}

static struct kunit_case pt_reclaim_pgste_cases[] = {
	KUNIT_CASE(pt_reclaim_pgste_clear_table_freed),
	KUNIT_CASE_PARAM(pt_reclaim_pgste_state_keeps_table,
			 pgste_gen_params),
	KUNIT_CASE(pt_reclaim_gmap_keeps_table),
	KUNIT_CASE(pt_reclaim_gmap_dontneed_keeps_table),
	{}
};

static struct kunit_suite pt_reclaim_pgste_suite = {
	.name = "pt_reclaim_s390_pgste",
	.test_cases = pt_reclaim_pgste_cases,
};

kunit_test_suites(&pt_reclaim_suite, &pt_reclaim_pgste_suite);
#else
kunit_test_suites(&pt_reclaim_suite);
#endif /* CONFIG_PGSTE */
