/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the guest programs that read counters from /proc files and write
 * sysctls.
 */
#ifndef GUEST_PROCFILE_H
#define GUEST_PROCFILE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Write @val to the /proc/sys file @path, whole: 0, or -1 (errno set). */
static inline int write_sysctl(const char *path, const char *val)
{
	ssize_t n = (ssize_t)strlen(val);
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

#endif
