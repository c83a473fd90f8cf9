# shellcheck shell=bash
# Kernel builds, for the harness scripts: kmake (make in the kernel tree
# through ccache), kbuild_copy, base_worktree, build_unpatched,
# kernel_and_selftests, norm_findings (compiler-style findings compared
# with the base's). Sourced by harness/lib.sh; do not source it alone.

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

# kernel_and_selftests ARCH: build ARCH's test kernel and its mm
# selftests (harness/build.sh, harness/selftests.sh); false when either
# fails (their messages on stderr).
kernel_and_selftests() {
	"$HARNESS/build.sh" "$1" && "$HARNESS/selftests.sh" "$1"
}
