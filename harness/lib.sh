# shellcheck shell=bash
# Common helpers for the harness scripts. Source it; do not run it.
#
# Every failure goes through die(): one line naming what failed, where,
# and what to do about it.

set -eu

# Debian's tools first: the harness runs what harness/install.sh installs.
# A python3 earlier in PATH (here pyenv's shim, /root/.pyenv/shims: 0.9 s
# a start, measured 2026-12-05, against 0.08 s, and none of Debian's
# python3-* modules: no ply for scripts/spdxcheck.py, no sphinx) is not
# what install.sh set up; verdict.sh alone starts kunit.py twice.
export PATH="/usr/bin:/bin:$PATH"

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
# (required) and TARBALL_SHA256 (optional: harness/base.sh checks it).
BASE_FILE=${BASE_FILE:-$TOP/BASE}
read_base() {
	local key
	[ -f "$BASE_FILE" ] || die "$BASE_FILE is missing; it records the base kernel"
	# shellcheck source=/dev/null
	. "$BASE_FILE"
	for key in PACKAGE DEB_VERSION KERNEL_VERSION TARBALL; do
		[ -n "${!key:-}" ] || die "$BASE_FILE: $key is not set"
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
	# feature's, and on s390 its PGSTE suite too; set it empty for a
	# kernel booted with kunit.enable=0.
	if [ "${KUNIT_SUITES+set}" != set ]; then
		KUNIT_SUITES=pt_reclaim
		[ "$LINUX_ARCH" != s390 ] || KUNIT_SUITES="$KUNIT_SUITES pt_reclaim_s390_pgste"
	fi
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

# results_table FILE COLUMNS KEYS ROWS: write FILE (results/*/results.md):
# the text on stdin (title and explanation), then a markdown table with the
# header COLUMNS ("| a | b |"), the rows already in FILE whose first cell
# is none of KEYS (space-separated: the entries this run made again, whose
# rows ROWS replace them), then ROWS (table lines, each ending in a
# newline).
results_table() {
	local file=$1 cols=$2 keys=" $3 " rows=$4 old='' sep
	[ ! -f "$file" ] || old=$(awk -v keys="$keys" '
		/^\|---/ { next }
		/^\| / { if (!h++) next; if (index(keys, " " $2 " ")) next; print }' "$file")
	sep=$(printf '%s\n' "$cols" | sed 's/[^|]*|/---|/g; s/^---//')
	{
		cat
		echo
		echo "$cols"
		echo "$sep"
		[ -z "$old" ] || printf '%s\n' "$old"
		printf '%s' "$rows"
	} > "$file.tmp" && mv "$file.tmp" "$file"
}

# kmake ARGS: make in the kernel tree for $ARCH (after load_arch), into
# $KBUILD, through ccache. Paths below the repository are hashed relative
# to it, so a clone elsewhere (a CI checkout) hits the same cache entries.
# ccache does not rewrite paths inside -Wa,: s390's -Wa,-I$(srctree)/...
# (arch/s390/Makefile) made every s390x object miss in a new clone; it is
# left out of the hash (the assembler's include files are not hashed
# either way: only the path would be).
export CCACHE_BASEDIR="$TOP" CCACHE_NOHASHDIR=true CCACHE_IGNOREOPTIONS='-Wa,-I*'
# Depend mode: on a miss ccache hashes the compiler's own dependency file
# (kbuild passes -Wp,-MMD) instead of running the preprocessor first;
# measured 2026-12-03 on mm/ and kernel/sched/ of the x86_64 kernel, cold:
# 39 s against 46 s; warm: every object a hit, as before. Compiles
# without -MD/-MMD (the selftests) go as ccache does without it.
export CCACHE_DEPEND=true
kmake() {
	make -C "$SRC" O="$KBUILD" ARCH="$LINUX_ARCH" \
		CROSS_COMPILE="$CROSS_COMPILE" \
		CC="ccache ${CROSS_COMPILE}gcc" HOSTCC="ccache gcc" \
		KBUILD_BUILD_USER=harness KBUILD_BUILD_HOST=pt-reclaim \
		"$@"
}

# kbuild_copy FROM TO TREE WT: make build directory TO a copy of FROM,
# which kbuild built from the kernel tree TREE, for building worktree WT
# (a worktree of TREE, at the state FROM was built from: the caller makes
# sure of that) incrementally: the commands kbuild recorded name the
# sources by absolute path, so they are made to name WT's (else every
# command differs and kbuild rebuilds everything), and every file of the
# copy gets one and the same time, now, later than every file of WT
# (else WT's files, written after FROM was built, would make kbuild
# remake the generated headers, then every object; one time for all, so
# that no archive is older than a member). WT itself is left alone: a
# file changed in it afterwards is newer than its object and is remade.
# (harness/series-check.sh, harness/mutate.sh)
kbuild_copy() {
	local t
	mkdir -p "$2"
	rsync -a --delete --exclude='/build-*' "$1/" "$2/" || return
	grep -rlZ --include='.*.cmd' -F "$3/" "$2" |
		xargs -0 -r sed -i "s|$3/|$4/|g" || return
	# A whole second after anything written before this call.
	sleep 1
	t=$(date +%s)
	find "$2" -type f -print0 | xargs -0 -r touch -d "@$t"
}

# base_worktree: make $BUILD/lint-base a worktree of $SRC at tag "base"
# (the unpatched kernel, for the checks that compare and the unpatched
# benchmark kernel) and set BASE_SRC to it.
base_worktree() {
	BASE_SRC=$BUILD/lint-base
	if [ ! -d "$BASE_SRC" ]; then
		git -C "$SRC" worktree prune
		git -C "$SRC" worktree add -q --detach "$BASE_SRC" base ||
			die "cannot make the base worktree $BASE_SRC"
	fi
	[ "$(git -C "$BASE_SRC" rev-parse HEAD)" = "$(git -C "$SRC" rev-parse 'base^{commit}')" ] ||
		die "$BASE_SRC is not at tag base; remove it and rerun"
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

# kernel_reported ARCH LOG: true when the guest console LOG holds a kernel
# report (BUG, WARNING, Oops, KASAN, lockdep, a KCSAN report verdict.sh
# does not let pass, ...), a KUnit suite that failed at boot, or lacks a
# CONSOLE_MUST line, as harness/verdict.sh judges it; its words go to
# stderr. A program's own failures in LOG do not count here.
kernel_reported() {
	local err
	err=$(dirname "$2")/verdict.err
	"$HARNESS/verdict.sh" "$1" "$2" >/dev/null 2>"$err" && return 1
	grep -qE "kernel report|KUnit at boot|KCSAN: .*(the series' code|in base code, not in|could not resolve|no VMLINUX)|CONSOLE_MUST|series-funcs.sh" "$err" ||
		return 1
	cat "$err" >&2
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

# norm_findings TREE: compiler-style findings on stdin ("path:line[:col]:
# msg") as "path: msg", path relative to TREE, sorted; continuation lines
# (indented) are kept. Line numbers go, so that moved code compares equal.
norm_findings() {
	sed -E -e "s@^$1/@@" -e 's@^([^: ]+):[0-9]+(:[0-9]+)?: @\1: @' |
		grep -E '^[^ ]+: (warning|error)|^   ' | LC_ALL=C sort
}

# build_unpatched: the ARCH kernel from the unpatched base, with the
# patched kernel's .config (olddefconfig drops the feature's options), in
# $BUILD/$ARCH/kernel-base (make bench compares it). After load_arch and
# build.sh.
build_unpatched() {
	local kb=$BUILD/$ARCH/kernel-base
	base_worktree
	mkdir -p "$kb"
	cmp -s "$KBUILD/.config" "$kb/.config.patched" || {
		cp "$KBUILD/.config" "$kb/.config"
		cp "$KBUILD/.config" "$kb/.config.patched"
	}
	info "$ARCH: building the unpatched kernel in $kb (log: $kb/build.log)"
	(SRC=$BASE_SRC KBUILD=$kb; kmake olddefconfig && kmake -j"$(nproc)") \
		>"$kb/build.log" 2>&1 ||
		{ tail -n 20 "$kb/build.log" >&2; die "$ARCH: unpatched kernel build failed; see $kb/build.log"; }
	[ -f "$kb/$KERNEL_IMAGE" ] || die "$ARCH: unpatched build produced no $KERNEL_IMAGE"
}

# kcsan_reports LOG: KCSAN's data-race reports in a console log, one line
# each kind: how many times, its title (offsets taken out: "data-race in
# A / B", or one function for a race at unknown origin), a tab, the
# frames of its stacks ("func+0x1a/0x40"), each taken wherever it stands
# in a line (a report can follow half a line a test wrote)
# (harness/verdict.sh, harness/kcsan-base.sh).
kcsan_reports() {
	awk '
	/BUG: KCSAN: / {
		if (t != "") print t "\t" f
		t = $0; sub(/.*BUG: KCSAN: /, "", t); gsub(/\+0x[0-9a-f]+\/0x[0-9a-f]+/, "", t); f = ""; next
	}
	t != "" && /^(\[ *[0-9.]+\] )?=+$/ { print t "\t" f; t = ""; next }
	t != "" {
		l = $0
		while (match(l, /[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/)) {
			f = f " " substr(l, RSTART, RLENGTH)
			l = substr(l, RSTART + RLENGTH)
		}
	}
	END { if (t != "") print t "\t" f }' "$1" | sort | uniq -c
}

# kernel_and_selftests ARCH: build ARCH's test kernel and its mm
# selftests (harness/build.sh, harness/selftests.sh); false when either
# fails (their messages on stderr).
kernel_and_selftests() {
	"$HARNESS/build.sh" "$1" && "$HARNESS/selftests.sh" "$1"
}

# kcsan_listed FILE: the titles harness/selftests/kcsan-base.txt (FILE)
# lists, one a line: each line's text before its first " -- " (the
# reason follows), comments left out; nothing when FILE is missing.
kcsan_listed() {
	[ ! -f "$1" ] || sed -n '/^#/d; / -- /{ s/ -- .*//; p; }' "$1"
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

# One way to count: every result make check counts is a KTAP result line
# counted by the kernel's own parser (tools/testing/kunit/kunit.py parse).
#
# ktap_count FILE: print "PASSED FAILED SKIPPED" for the KTAP results in
# FILE (crashed and errors count as failed), and on stderr the parser's
# lines for what failed; print nothing and return 1 when it finds none.
ktap_count() {
	local out summary key n p=0 f=0 s=0
	out=$(PYTHONDONTWRITEBYTECODE=1 python3 "$SRC/tools/testing/kunit/kunit.py" \
		parse "$1" 2>&1) || true
	summary=$(printf '%s\n' "$out" | grep -a 'Testing complete\. Ran' | tail -n 1)
	if [ -z "$summary" ]; then
		printf '%s\n' "$out" | tail -n 20 >&2
		return 1
	fi
	printf '%s\n' "$out" | grep -aE '\[(FAILED|CRASHED|ERROR)\]' >&2 || true
	for key in passed failed crashed skipped errors; do
		n=$(printf '%s\n' "$summary" | grep -oE "$key: [0-9]+" | grep -oE '[0-9]+' || echo 0)
		case $key in
		passed) p=$((p + n)) ;;
		skipped) s=$((s + n)) ;;
		*) f=$((f + n)) ;;
		esac
	done
	echo "$p $f $s"
}

# A checker's results as KTAP, written by the checker itself (lint.sh,
# series-check.sh, e2e.sh, alloc.sh --check, skips.sh, mutate.sh and
# check.sh's run of harness/tests), for harness/check.sh to count with
# ktap_count. ktap_start NAME; ktap_add ok|fail|skip TEXT per check;
# ktap_write: the document, ${KTAP_DIR:-$BUILD/ktap}/NAME.ktap, written
# whole at the end (a checker that dies on the way leaves none: check.sh
# counts that a failure). The results gather in NAME.ktap.part, so a
# check made in a subshell or a pipeline counts too. A '#' in TEXT,
# which KTAP would read as a directive, and a tab are dropped; a newline
# ends it.
ktap_start() {
	KTAP_FILE=${KTAP_DIR:-$BUILD/ktap}/$1.ktap
	mkdir -p "$(dirname "$KTAP_FILE")"
	rm -f "$KTAP_FILE"
	: > "$KTAP_FILE.part"
}
ktap_add() {
	local res=$1 text
	shift
	text=$(printf '%s' "$*" | head -n 1 | tr -d '#\t')
	case $res in
	ok) printf 'ok\t%s\t\n' "$text" ;;
	fail) printf 'not ok\t%s\t\n' "$text" ;;
	skip) printf 'ok\t%s\t # SKIP\n' "$text" ;;
	*) die "ktap_add: '$res' is not ok, fail or skip" ;;
	esac >> "$KTAP_FILE.part"
}
# ktap_write: write the document; print the number of failed checks.
ktap_write() {
	{
		echo "KTAP version 1"
		echo "1..$(wc -l < "$KTAP_FILE.part")"
		awk -F'\t' '{ printf "%s %d %s%s\n", $1, NR, $2, $3 }' "$KTAP_FILE.part"
	} > "$KTAP_FILE"
	grep -c '^not ok' "$KTAP_FILE.part" || true
	rm -f "$KTAP_FILE.part"
}

# checker_start NAME: ktap_start NAME, and a checker's lines on stdout:
# checker_ok|checker_fail|checker_skip TEXT print "NAME: ok: TEXT",
# "NAME: FAIL: TEXT" or "NAME: SKIP: TEXT" and add the result;
# checker_end prints "NAME: N problems" (its last line), writes the
# KTAP document and is true when no check failed.
checker_start() {
	CHECKER=$1
	ktap_start "$1"
}
checker_ok() {
	echo "$CHECKER: ok: $*"
	ktap_add ok "$*"
}
checker_fail() {
	echo "$CHECKER: FAIL: $*"
	ktap_add fail "$*"
}
checker_skip() {
	echo "$CHECKER: SKIP: $*"
	ktap_add skip "$*"
}
checker_end() {
	local n
	n=$(ktap_write)
	echo "$CHECKER: $n problems"
	[ "$n" -eq 0 ]
}

# AWK_MED: an awk function for the front of a program: med(STR), the
# median of the numbers in the space-separated STR (of an even count,
# the mean of the middle two). alloc-report.sh and reuse-report.sh.
# shellcheck disable=SC2016 # awk's $ signs, not the shell's
AWK_MED='
function med(str,   v, n, i, j, t) {
	n = split(str, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}'
