// SPDX-License-Identifier: GPL-2.0
/*
 * usage: no-pt-reclaim [--succeed] COMMAND [ARG...]
 *
 * Run COMMAND as on a kernel without MADV_PT_RECLAIM, whatever the
 * running kernel: a seccomp filter makes madvise() and process_madvise()
 * with advice 26 fail with EINVAL, as a kernel answers an advice it does
 * not know. For the host tests (harness/tests/preload.sh) and, linked
 * statically, the libraries' no-feature checks in the test kernel
 * (harness/alloc.sh --check); x86_64 only.
 *
 * --succeed: answer 0 instead, doing nothing: a kernel that accepts the
 * advice and frees no table. The feature's tests must fail there
 * (harness/tests/noop-kernel.sh).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MADV_PT_RECLAIM_ 26

/* The low half of an argument (little endian). */
#define ARG_LO(n) offsetof(struct seccomp_data, args[n])

int main(int argc, char **argv)
{
	int succeed = argc > 1 && !strcmp(argv[1], "--succeed");
	int answer = succeed ? 0 : EINVAL, first = 1 + succeed;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_JUMP(BPF_JMP | BPF_JA, 2, 0, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_madvise, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(3)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_PT_RECLAIM_, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | answer),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (argc <= first) {
		fprintf(stderr, "usage: no-pt-reclaim [--succeed] COMMAND [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		fprintf(stderr, "no-pt-reclaim: seccomp: %s\n", strerror(errno));
		return 125;
	}
	execvp(argv[first], argv + first);
	fprintf(stderr, "no-pt-reclaim: %s: %s\n", argv[first], strerror(errno));
	return 127;
}
