/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the guest programs that read counters from /proc files.
 */
#ifndef GUEST_PROCFILE_H
#define GUEST_PROCFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The number after KEY in FILE, on the first line that starts with KEY
 * followed by a space (/proc/vmstat) or a colon (/proc/self/status:
 * "VmPTE:  36 kB" gives 36); -1 when FILE or the line is missing.
 */
static inline long readkey(const char *file, const char *key)
{
	char line[4096];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && (line[n] == ' ' || line[n] == ':')) {
			v = strtol(line + n + 1 + (line[n] == ':'), NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

#endif
