#!/bin/bash
# usage: harness/lint.sh [ARCH...]
#   (default: make check's arches that sparse runs on, harness/lib.sh
#   sparse_archs: now x86_64 s390x arm64)
#
# The checks an upstream reviewer runs, on the kernel tree in build/src as
# it is (the overlay applied, plus any unexported edit), each one failing
# on any finding:
#  - checkpatch.pl --strict on the whole change against the base, checked
#    as one patch;
#  - scripts/spdxcheck.py on the files the change adds or changes;
#  - kernel-doc -Wall on the changed C files and headers;
#  - the Documentation directories the change touches, built with sphinx
#    (SPHINXDIRS): no warning that names a changed file;
#  - per ARCH, sparse (make C=2) on the changed .c files that ARCH builds,
#    compared with sparse on the same files of the base tree: a warning the
#    base does not have fails (line numbers are ignored, so moved code does
#    not count as new). The base tree is a git worktree of tag "base" in
#    build/lint-base, built for sparse in build/ARCH/lint-base.
# Needs the ARCH kernels built (make build). Prints one line per check and
# "lint: N problems" last, writes them as KTAP (build/ktap/lint.ktap;
# harness/lib-results.sh checker_start) and exits 1 when there is any.
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2046 # an arch a word
archs=${*:-$(sparse_archs $(confs_in check))}
need_cmd sparse sparse
[ -d "$SRC/.git" ] || die "no kernel tree in $SRC; run 'make base'"
out=$BUILD/lint
mkdir -p "$out"
checker_start lint

# compare NEW BASE OK FAIL: the lines of NEW (normalized findings) that
# BASE does not have are problems, reported with FAIL; none: OK.
compare() {
	local new
	new=$(LC_ALL=C comm -23 "$1" "$2")
	if [ -n "$new" ]; then
		printf '%s\n' "$new"
		checker_fail "$4"
	else
		checker_ok "$3"
	fi
}

# The base tree, for the checks that compare.
base_worktree
base_src=$BASE_SRC

# The change against the base, committed or not, new files included: a
# scratch index with the untracked files added as intent-to-add, so the
# tree's own index is left alone.
export GIT_INDEX_FILE=$out/index
cp "$(git -C "$SRC" rev-parse --absolute-git-dir)/index" "$GIT_INDEX_FILE"
git -C "$SRC" add -N . >/dev/null
changed=$(git -C "$SRC" diff --name-only base -- .)
[ -n "$changed" ] || die "$SRC has no change against the base"

# 1. checkpatch, the change as one patch with a made-up mail header (the
# diffstat lets checkpatch see that MAINTAINERS is updated).
{
	printf 'From: lint <lint@localhost>\nSubject: [PATCH] overlay\n\n'
	printf 'The overlay against the base, checked as one patch.\n---\n'
	git -C "$SRC" diff --stat -p base -- .
} > "$out/series.diff"
unset GIT_INDEX_FILE
# From $out: in a git work tree (this repository) checkpatch --strict
# leaves a .checkpatch-camelcase.git.* cache file behind.
if (cd "$out" && "$SRC/scripts/checkpatch.pl" --strict --no-signoff --no-tree -q \
	series.diff) > "$out/checkpatch.log" 2>&1; then
	checker_ok "checkpatch --strict ($(grep -c '^+++ ' "$out/series.diff") files)"
else
	cat "$out/checkpatch.log"
	checker_fail "checkpatch --strict (log: $out/checkpatch.log)"
fi

# 2. The SPDX-License-Identifier tags of the files the change adds or
# changes, with the kernel's scripts/spdxcheck.py (from the tree: it needs
# git and LICENSES/). checkpatch asks it only in tree mode with a .git
# where it runs: not above (--no-tree), nor in series-check.sh (run from
# build/series/out). It prints one line per finding and exits 0 either
# way; given no file it would scan the whole tree.
/usr/bin/python3 -c 'import git, ply' 2>/dev/null ||
	die "scripts/spdxcheck.py needs python3-git and python3-ply; run 'make install'"
mapfile -t spdx_files < <(printf '%s\n' "$changed" | while IFS= read -r f; do
	[ ! -f "$SRC/$f" ] || echo "$f"
done)
if [ ${#spdx_files[@]} -eq 0 ]; then
	checker_ok "scripts/spdxcheck.py (no file added or changed)"
elif (cd "$SRC" && /usr/bin/python3 scripts/spdxcheck.py "${spdx_files[@]}") \
	> "$out/spdxcheck.log" 2>&1 && [ ! -s "$out/spdxcheck.log" ]; then
	checker_ok "scripts/spdxcheck.py (${#spdx_files[@]} files)"
else
	cat "$out/spdxcheck.log"
	checker_fail "scripts/spdxcheck.py (log: $out/spdxcheck.log)"
fi

# 3. kernel-doc on the changed C sources and headers, selftests aside,
# compared with the same files in the base.
mapfile -t cfiles < <(printf '%s\n' "$changed" | grep -E '\.[ch]$' |
	grep -v '^tools/' || true)
kdoc() {
	local f
	for f in "${cfiles[@]}"; do
		[ -f "$1/$f" ] && (cd "$1" && scripts/kernel-doc -none -Wall "$f" 2>&1)
	done | norm_findings "$1"
}
kdoc "$SRC" > "$out/kernel-doc.norm"
kdoc "$base_src" > "$out/kernel-doc-base.norm"
compare "$out/kernel-doc.norm" "$out/kernel-doc-base.norm" \
	"kernel-doc -Wall, no new warning (${#cfiles[@]} files)" \
	"kernel-doc -Wall: warnings the base does not have"

# 4. Documentation: build the touched directories, keep the warnings that
# name a changed file (the rest of a partial build warns about links to
# directories left out).
mapfile -t docs < <(printf '%s\n' "$changed" | grep '^Documentation/.*\.rst$' || true)
if [ ${#docs[@]} -gt 0 ]; then
	need_cmd sphinx-build python3-sphinx
	dirs=$(printf '%s\n' "${docs[@]}" | sed -E 's@^Documentation/@@; s@/[^/]*$@@' |
		sort -u | tr '\n' ' ')
	rm -rf "$out/docs"
	if ! make -C "$SRC" O="$out/docs" SPHINXDIRS="$dirs" htmldocs \
		> "$out/htmldocs.log" 2>&1; then
		tail -n 20 "$out/htmldocs.log"
		checker_fail "htmldocs SPHINXDIRS='$dirs' failed (log: $out/htmldocs.log)"
	else
		pat=$(printf '%s\n' "${docs[@]}" | sed 's/\./\\./g' | paste -sd'|')
		if grep -E "($pat).*(WARNING|ERROR)" "$out/htmldocs.log"; then
			checker_fail "htmldocs: warnings in changed pages (log: $out/htmldocs.log)"
		else
			checker_ok "htmldocs of $dirs(${#docs[@]} changed pages, no warning)"
		fi
	fi
fi

# 5. sparse, patched tree vs base tree. The base's findings come from
# harness/sparse-base/ARCH.txt when its key is this run's: building the
# base's files for sparse in a fresh directory (kbuild's prepare, the
# files compiled and checked, per arch) is minutes of a cold make check.
# The key covers what the findings depend on: the base tree, the .config
# with the feature's own options taken out (olddefconfig on the base
# drops them, and the overlay's Kconfig adds nothing else) and the Rust
# toolchain Kconfig found in PATH or not (CONFIG_RUSTC_VERSION=0 on a
# machine without rustc: nothing C reads), sparse and
# the compiler, the files, and norm_findings itself; a second line holds
# the hash of the findings, so that an edit of the record is not
# trusted. Any other key or hash, or no record, builds the base as
# before, and says so; LINT_RECORD=1 ('make lint-record') builds it and
# writes the record.
sparse_base_key() {
	{
		echo "sparse-base 1"
		git -C "$SRC" rev-parse 'base^{tree}'
		grep -vE '^(# )?CONFIG_([A-Z_]*MADV_PT_RECLAIM|RUSTC_|RUST_IS_AVAILABLE|BINDGEN_VERSION)' "$KBUILD/.config"
		sparse --version 2>&1
		"${CROSS_COMPILE}gcc" --version | head -n 1
		printf '%s\n' "${bobjs[@]}"
		declare -f norm_findings
	} | sha256sum | cut -d' ' -f1
}
for arch in $archs; do
	load_arch "$arch"
	[ -f "$KBUILD/.config" ] || die "$arch kernel not configured; run 'make build ARCH=$arch'"
	# The changed .c files this configuration builds, as make targets:
	# those whose object is in its directory's built-in.a (a thin
	# archive: ar t lists the members' paths, relative to where it
	# runs), not any .o lying there
	# (one an earlier layout of the tree built stays behind).
	objs=()
	for f in $(printf '%s\n' "$changed" | grep '\.c$' | grep -v '^tools/' || true); do
		o=${f%.c}.o
		[ -f "$KBUILD/$(dirname "$f")/built-in.a" ] &&
			(cd "$KBUILD" && ar t "$(dirname "$f")/built-in.a") | grep -qxF "$o" &&
			objs+=("$o")
	done
	if [ ${#objs[@]} -eq 0 ]; then
		checker_fail "$arch: no changed .c file is built; nothing to check"
		continue
	fi
	kmake -j"$(nproc)" C=2 "${objs[@]}" > "$out/sparse-$arch.log" 2>&1 ||
		{ tail -n 20 "$out/sparse-$arch.log"; checker_fail "$arch: build with sparse failed"; continue; }
	# The base: same config, olddefconfig drops our options; files the
	# overlay adds do not exist there (all their warnings are new).
	bobjs=()
	for o in "${objs[@]}"; do
		[ -f "$base_src/${o%.o}.c" ] && bobjs+=("$o")
	done
	norm_findings "$SRC" < "$out/sparse-$arch.log" > "$out/sparse-$arch.norm"
	rec=$HARNESS/sparse-base/$arch.txt
	key=$(sparse_base_key)
	if [ "${LINT_RECORD:-0}" != 1 ] && [ -f "$rec" ] &&
		[ "$(sed -n '1s/^# key: //p' "$rec")" = "$key" ] &&
		[ "$(sed -n '2s/^# body: //p' "$rec")" = "$(grep -v '^#' "$rec" | sha256sum | cut -d' ' -f1)" ]; then
		grep -v '^#' "$rec" > "$out/sparse-$arch-base.norm" || true
		from="the base's from harness/sparse-base/$arch.txt"
	else
		bk=$BUILD/$arch/lint-base
		mkdir -p "$bk"
		cp "$KBUILD/.config" "$bk/.config"
		if [ ${#bobjs[@]} -gt 0 ]; then
			(SRC=$base_src KBUILD=$bk; kmake olddefconfig >/dev/null &&
				kmake -j"$(nproc)" C=2 "${bobjs[@]}") > "$out/sparse-$arch-base.log" 2>&1 ||
				{ tail -n 20 "$out/sparse-$arch-base.log"; checker_fail "$arch: base build with sparse failed"; continue; }
		else
			: > "$out/sparse-$arch-base.log"
		fi
		norm_findings "$base_src" < "$out/sparse-$arch-base.log" > "$out/sparse-$arch-base.norm"
		if [ "${LINT_RECORD:-0}" = 1 ]; then
			mkdir -p "$(dirname "$rec")"
			{
				echo "# key: $key"
				echo "# body: $(sha256sum < "$out/sparse-$arch-base.norm" | cut -d' ' -f1)"
				echo "# sparse's findings (harness/lib-kbuild.sh norm_findings) on the base's"
				echo "# ${bobjs[*]}"
				echo "# for $arch, written by 'make lint-record' (harness/lint.sh)"
				cat "$out/sparse-$arch-base.norm"
			} > "$rec"
			from="the base built; harness/sparse-base/$arch.txt written"
		else
			from="the base built: harness/sparse-base/$arch.txt is $([ -f "$rec" ] && echo stale || echo missing), 'make lint-record' writes it"
		fi
	fi
	compare "$out/sparse-$arch.norm" "$out/sparse-$arch-base.norm" \
		"$arch sparse, no new warning (${#objs[@]} files: ${objs[*]}; $from)" \
		"$arch: sparse warnings the base does not have (logs: $out/sparse-$arch*.log; $from)"
done

checker_end
