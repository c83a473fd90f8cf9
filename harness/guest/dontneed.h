/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the guest programs that show what MADV_DONTNEED leaves behind.
 */
#ifndef GUEST_DONTNEED_H
#define GUEST_DONTNEED_H

#include <errno.h>
#include <stdio.h>

/*
 * MADV_DONTNEED frees the PTE tables it empties when vm.pt_reclaim_dontneed
 * is 1 (the kernel's default); a program that shows what it leaves sets 0.
 * Returns 0, also on a kernel without the sysctl; -1 with errno set when it
 * cannot be written.
 */
static inline int dontneed_keeps_tables(void)
{
	FILE *f = fopen("/proc/sys/vm/pt_reclaim_dontneed", "w");

	if (!f)
		return errno == ENOENT ? 0 : -1;
	if (fputs("0\n", f) < 0) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

#endif
