# shellcheck shell=bash
# Common helpers for the harness scripts. Source it; do not run it.
#
# Every failure goes through die(): one line naming what failed, where,
# and what to do about it.

set -eu

# Debian's tools only: the harness runs what harness/install.sh installs,
# and every machine builds the same kernels. What else a PATH holds is
# not what install.sh set up: a python3 earlier in it (here pyenv's shim,
# /root/.pyenv/shims: 0.9 s a start, measured 2026-12-05, against 0.08
# s, and none of Debian's python3-* modules: no ply for
# scripts/spdxcheck.py, no sphinx; verdict.sh alone starts kunit.py
# three times), or a rustc (here /root/.cargo/bin: Kconfig writes its version
# into .config, CONFIG_RUSTC_VERSION, and so into autoconf.h, which every
# object includes: no ccache hit between a machine with one and one
# without).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=$TOP/harness
# All generated files live under $BUILD; nothing is written elsewhere in
# the repository.
BUILD=${BUILD:-$TOP/build}
# The patched kernel source tree (a git repository: commit "base" is the
# pristine tarball, commit "overlay" is base + this repository's overlay).
SRC=${SRC:-$BUILD/src}
# Where the overlay lives: the repository itself by default.
OVERLAY=${OVERLAY:-$TOP}

me=$(basename "$0")

die() {
	echo "$me: error: $*" >&2
	exit 1
}

warn() {
	echo "$me: warning: $*" >&2
}

info() {
	echo "$me: $*" >&2
}

# For the harness's own tests (harness/tests/*.sh): fail MESSAGE ends
# the test, naming it; scratch_dir makes $tmp, removed on exit.
fail() {
	echo "$me: FAIL: $*" >&2
	exit 1
}

scratch_dir() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
}

# need_cmd CMD PACKAGE: fail with the package to install when CMD is missing.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 ||
		die "command '$1' not found; run 'make install' (package $2)"
}

# read_base: load BASE into PACKAGE, DEB_VERSION, KERNEL_VERSION, TARBALL
# and TARBALL_SHA256 (harness/base.sh checks the tarball against it), each
# required.
BASE_FILE=${BASE_FILE:-$TOP/BASE}
read_base() {
	local key
	[ -f "$BASE_FILE" ] || die "$BASE_FILE is missing; it records the base kernel"
	# shellcheck source=/dev/null
	. "$BASE_FILE"
	for key in PACKAGE DEB_VERSION KERNEL_VERSION TARBALL TARBALL_SHA256; do
		[ -n "${!key:-}" ] || die "$BASE_FILE: $key is not set (see its comments)"
	done
}

# series_identity: export the author (series/map's "author:" line) and the
# date (this repository's HEAD commit) of the series' commits, so that the
# same repository gives the same mails; SERIES_AUTHOR is "Name <mail>".
series_identity() {
	SERIES_AUTHOR=$(sed -n 's/^author: //p' "$TOP/series/map" | head -n 1)
	case $SERIES_AUTHOR in
	?*' <'?*'>') ;;
	*) die "series/map: no 'author: Name <mail>' line" ;;
	esac
	GIT_AUTHOR_NAME=${SERIES_AUTHOR% <*}
	GIT_AUTHOR_EMAIL=${SERIES_AUTHOR##*<}
	GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL%>}
	GIT_AUTHOR_DATE=$(git -C "$TOP" log -1 --format=%cI 2>/dev/null ||
		echo "2026-01-01T00:00:00+00:00")
	export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE
	export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
	export GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
	export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
}

# The feature's own test lists (harness/selftests/NAME.tests) and the runs
# they hold (an extended regex on a run's name): harness/skips.sh holds
# their skips to feature-skips.txt, harness/baseline.sh leaves the lists
# out of the unpatched kernel's runs (they fail there, as they must), and
# harness/tests/skips.sh checks that every run of these lists matches.
FEATURE_LISTS="pt_reclaim ptreclaim la57 xen kcsan"
FEATURE_RUNS='^(pt_reclaim|ptreclaim|xen_reuse|la57_reclaim)'

# load_arch ARCH: source harness/arch/ARCH.conf and check every key is set.
ARCH_KEYS="LINUX_ARCH CROSS_COMPILE KCONFIG_FRAGMENTS KERNEL_IMAGE QEMU_ARCH QEMU_PACKAGE
	CROSS_PACKAGES ELF_MACHINE QEMU_ARGS CMDLINE BOOT_TIMEOUT CC_USER"
load_arch() {
	local arch=$1 conf key
	conf=$HARNESS/arch/$arch.conf
	if [ ! -f "$conf" ]; then
		die "unknown ARCH '$arch'; known: $(cd "$HARNESS/arch" && ls -- *.conf | sed 's/\.conf$//' | tr '\n' ' ')"
	fi
	for key in $ARCH_KEYS TEST_LISTS SELFTESTS KERNEL_OF GUEST_PROGS \
		KUNIT_SUITES XEN_ELF XEN_GZ XEN_PACKAGE XEN_CMDLINE CONSOLE_MUST \
		LINT_SPARSE; do
		unset "$key"
	done
	# shellcheck source=/dev/null
	. "$conf"
	# confs_in's keys, read from the file and not for the scripts
	unset RUNS ORDER
	for key in $ARCH_KEYS; do
		[ "${!key+set}" = set ] || die "$conf: key $key is missing"
	done
	# Optional: the harness/selftests/NAME.tests lists make check runs.
	TEST_LISTS=${TEST_LISTS:-$(cd "$HARNESS/selftests" && ls -- *.tests | sed 's/\.tests$//' | tr '\n' ' ')}
	# Optional: the mm selftest binaries to build (default: all).
	SELFTESTS=${SELFTESTS:-}
	# Optional: boot the kernel of another conf (same build, other
	# QEMU machine or CPU) instead of building one of its own.
	KERNEL_OF=${KERNEL_OF:-}
	if [ -n "$KERNEL_OF" ] && [ ! -f "$HARNESS/arch/$KERNEL_OF.conf" ]; then
		die "$conf: KERNEL_OF=$KERNEL_OF: no harness/arch/$KERNEL_OF.conf"
	fi
	# Optional: harness/guest/NAME.c programs the arch's lists run,
	# built into its selftests directory (harness/selftests.sh).
	GUEST_PROGS=${GUEST_PROGS:-}
	# Optional: boot the kernel as dom0 of the Xen hypervisor XEN_ELF
	# (harness/boot.sh), gunzipped from XEN_GZ of package XEN_PACKAGE,
	# with XEN_CMDLINE as Xen's command line.
	XEN_ELF=${XEN_ELF:-}
	# Optional: the KUnit suites the kernel must run at boot (make check
	# fails a console without them, harness/verdict.sh). Default: the
	# feature's (s390x.conf adds its PGSTE suite); set it empty for a
	# kernel booted with kunit.enable=0.
	KUNIT_SUITES=${KUNIT_SUITES-pt_reclaim}
	# Optional: extended regexes, one a line, that lines the kernel
	# prints at boot must match (harness/verdict.sh): that a checker
	# the conf is about (KCSAN) runs.
	export CONSOLE_MUST=${CONSOLE_MUST:-}
	# Optional: "no" when make check's lint must not run sparse on the
	# arch's kernel (a sparse that cannot parse its build), with why.
	LINT_SPARSE=${LINT_SPARSE:-yes}
	if [ -n "$XEN_ELF" ]; then
		for key in XEN_GZ XEN_PACKAGE XEN_CMDLINE; do
			[ -n "${!key:-}" ] || die "$conf: XEN_ELF is set, $key is not"
		done
	fi
	ARCH=$arch
	KBUILD=$BUILD/${KERNEL_OF:-$ARCH}/kernel
	# The kernel's vmlinux and its binutils' prefix: harness/verdict.sh
	# resolves the frames of a KCSAN report with them.
	export VMLINUX=$KBUILD/vmlinux VMLINUX_CROSS_COMPILE=$CROSS_COMPILE
}

# confs_in RUN: the confs that RUN (check, soak, bench) runs by default,
# in their order: those whose own RUNS line names RUN, by their ORDER
# (default 50), then name. Read from the conf's own lines, not sourced: a
# variant that sources another conf does not inherit them.
confs_in() {
	local c
	for c in "$HARNESS"/arch/*.conf; do
		awk -v run="$1" -v name="$(basename "$c" .conf)" '
			{ gsub(/["\047]/, "") }
			/^RUNS=/ { n = split(substr($0, 6), r, " "); for (i = 1; i <= n; i++) if (r[i] == run) in_run = 1 }
			/^ORDER=/ { order = substr($0, 7) + 0 }
			END { if (in_run) print (order == "" ? 50 : order), name }' "$c"
	done | LC_ALL=C sort -k1,1n -k2,2 | cut -d' ' -f2 | paste -sd' '
}

# sparse_archs ARCH..: those whose kernel make check's lint runs sparse
# on (harness/lint.sh): not a debug kernel (the same files as its plain
# arch), not a conf that boots another's kernel, not LINT_SPARSE=no.
sparse_archs() {
	local a
	for a in "$@"; do
		(
			load_arch "$a"
			if [ "${a%-debug}" = "$a" ] && [ -z "$KERNEL_OF" ] &&
				[ "$LINT_SPARSE" != no ]; then
				echo "$a"
			fi
		)
	done | paste -sd' '
}

# init_tests ARCH LIST..: the guest's init.tests (harness/guest) for the
# lists harness/selftests/LIST.tests on ARCH: KTAP output, 512 MiB of
# swap, then each list's lines, those prefixed "[ARCH] " for ARCH only
# (a conf that boots another's kernel passes that one's name).
init_tests() {
	local arch=$1 list
	shift
	echo "ktap"
	echo "swap 512"
	for list in "$@"; do
		[ -f "$HARNESS/selftests/$list.tests" ] ||
			die "harness/selftests/$list.tests not found"
		awk -v a="[$arch] " '/^\[/ { if (index($0, a) == 1) print substr($0, length(a) + 1); next } 1' \
			"$HARNESS/selftests/$list.tests"
	done
}

# overlay_files: list the overlay's files, relative to $OVERLAY. The
# overlay is every file below a top-level directory that also exists in
# the kernel tree (mm/, include/, tools/, ...), and the top-level patches
# of top-level kernel files (MAINTAINERS.patch); the other top-level files
# (README, Makefile, BASE) and harness/ are not part of it.
overlay_files() {
	local d f
	{
		for d in "$OVERLAY"/*/; do
			d=$(basename "$d")
			[ -d "$SRC/$d" ] || continue
			(cd "$OVERLAY" && find "$d" -type f)
		done
		for f in "$OVERLAY"/*.patch; do
			f=$(basename "$f")
			[ -f "$SRC/${f%.patch}" ] && echo "$f"
		done
	} | LC_ALL=C sort
}

# overlay_state: the file in $SRC's git directory where base.sh and
# export.sh record "COMMIT HASH": the commit that holds the applied
# overlay, and the overlay_hash it was made from.
overlay_state() {
	local state
	state=$(git -C "$SRC" rev-parse --git-path pt-overlay)
	case $state in /*) ;; *) state=$SRC/$state ;; esac
	echo "$state"
}

# overlay_hash: one hash over the overlay's file names and contents.
overlay_hash() {
	(cd "$OVERLAY" && overlay_files | xargs -r -d '\n' sha256sum) |
		sha256sum | cut -d' ' -f1
}

# tree_commit: HEAD's short hash, with " (with uncommitted changes)" when
# the tree (but results/) differs from it, untracked files included: what
# a published result names as the code it ran.
tree_commit() {
	local c
	c=$(git -C "$TOP" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	[ -z "$(git -C "$TOP" status --porcelain -- . ':!results' 2>/dev/null)" ] ||
		c="$c (with uncommitted changes)"
	echo "$c"
}

# The rest, by job: kernel builds (kmake through ccache, build-directory
# copies, the base worktree) and results (tables, kernel reports,
# KCSAN's reports, KTAP).
# shellcheck source=lib-kbuild.sh
. "$HARNESS/lib-kbuild.sh"
# shellcheck source=lib-results.sh
. "$HARNESS/lib-results.sh"
