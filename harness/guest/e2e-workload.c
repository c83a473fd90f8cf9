// SPDX-License-Identifier: GPL-2.0
/*
 * The guest side of harness/e2e.sh: build a large amount of page tables,
 * give the data back, then the tables, stopping after each step until
 * the host has taken its measurements.
 *
 * usage: e2e-workload [--noop] [--upper-first] [--gib N] [--tty PATH]
 *
 * Steps: "baseline" (nothing mapped yet), "touched" (an N GiB (default
 * 64) MAP_NORESERVE area written once every PMD_SIZE: one PTE table per
 * PMD_SIZE), "dontneed" (MADV_DONTNEED over the area: the data pages are
 * free, the tables are not), "reclaimed" (MADV_PT_RECLAIM over the area;
 * with --noop the call is left out, so that the host sees what happens
 * without it).
 *
 * The area needs one PMD table per GiB too, which MADV_PT_RECLAIM does
 * not free. Touched in address order, each PMD table is allocated among
 * the PTE tables that follow it: about one in every 2 MiB block of page
 * table memory, which then never becomes wholly free. --upper-first
 * touches the first byte of every GiB first, so that the PMD tables sit
 * together and the PTE tables' blocks are theirs alone.
 *
 * After each step it prints
 *
 *   e2e: step NAME vmpte_kb=N pagetables_kb=N memfree_kb=N
 *   e2e: wait NAME
 *
 * and reads a line from the second serial port (--tty, default
 * /dev/ttyS1): the host writes one there when it is done measuring.
 * Exit status 0, or 1 with a message when a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/mman.h>

#include "dontneed.h"
#include "procfile.h"

#ifndef MADV_PT_RECLAIM
#define MADV_PT_RECLAIM 26
#endif

#define PMD_SPAN (2UL << 20)	/* x86_64's PMD_SIZE: the span of a PTE table */

static int tty = -1;
static const char usage[] =
	"usage: e2e-workload [--noop] [--upper-first] [--gib N] [--tty PATH]\n";

static void die(const char *what)
{
	printf("e2e: error: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* show FILE: copy FILE to stdout, each line prefixed "e2e: FILE: ". */
static void show(const char *file)
{
	char line[512];
	FILE *f = fopen(file, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("e2e: %s: %s", file, line);
	fclose(f);
}

/* at NAME: report the state after step NAME, then wait for the host. */
static void at(const char *name)
{
	char c;
	ssize_t n;

	printf("e2e: step %s vmpte_kb=%ld pagetables_kb=%ld memfree_kb=%ld\n",
	       name, readkey("/proc/self/status", "VmPTE"),
	       readkey("/proc/meminfo", "PageTables"),
	       readkey("/proc/meminfo", "MemFree"));
	show("/proc/buddyinfo");
	show("/proc/pagetypeinfo");
	printf("e2e: wait %s\n", name);
	fflush(stdout);
	/* One line; the host bounds the wait (its timeout ends the guest). */
	do {
		n = read(tty, &c, 1);
		if (n < 0 && errno != EINTR)
			die("reading the host's answer");
		if (n == 0) {
			errno = EPIPE;
			die("the host closed the console");
		}
	} while (n <= 0 || (c != '\n' && c != '\r'));
}

int main(int argc, char **argv)
{
	const char *tty_path = "/dev/ttyS1";
	unsigned long gib = 64, len, off;
	struct termios t;
	int noop = 0, upper_first = 0, i;
	char *area;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--noop")) {
			noop = 1;
		} else if (!strcmp(argv[i], "--upper-first")) {
			upper_first = 1;
		} else if (!strcmp(argv[i], "--gib") && i + 1 < argc) {
			gib = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--tty") && i + 1 < argc) {
			tty_path = argv[++i];
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!gib) {
		fprintf(stderr, "e2e-workload: --gib must be at least 1\n");
		return 2;
	}
	/* The steps measure MADV_DONTNEED and MADV_PT_RECLAIM apart. */
	if (dontneed_keeps_tables())
		die("vm.pt_reclaim_dontneed=0");
	len = gib << 30;

	tty = open(tty_path, O_RDONLY | O_NOCTTY);
	if (tty < 0)
		die(tty_path);
	/* Raw enough: no echo back to the host. */
	if (!tcgetattr(tty, &t)) {
		t.c_lflag &= ~(ECHO | ECHONL);
		tcsetattr(tty, TCSANOW, &t);
	}
	tcflush(tty, TCIFLUSH);

	at("baseline");

	/* PMD_SPAN-aligned, so that every table lies wholly in the area. */
	area = mmap(NULL, len + PMD_SPAN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		die("mmap");
	area = (char *)(((unsigned long)area + PMD_SPAN - 1) & ~(PMD_SPAN - 1));
	if (upper_first)
		for (off = 0; off < len; off += 1UL << 30)
			area[off] = 1;
	for (off = 0; off < len; off += PMD_SPAN)
		area[off] = 1;
	at("touched");

	if (madvise(area, len, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED)");
	at("dontneed");

	if (noop)
		printf("e2e: --noop: MADV_PT_RECLAIM left out\n");
	else if (madvise(area, len, MADV_PT_RECLAIM))
		die("madvise(MADV_PT_RECLAIM)");
	at("reclaimed");

	printf("e2e: done\n");
	return 0;
}
