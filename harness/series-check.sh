#!/bin/bash
# usage: harness/series-check.sh [--quick]
#
# The patch series (harness/series.sh, 'make series') as a maintainer
# would take it, each check failing on any finding:
#  - every patch is scripts/checkpatch.pl --strict clean, as mailed
#    (Signed-off-by and MAINTAINERS checks included);
#  - the mails apply with git am to a tree at the base (a worktree of tag
#    "base": the unpacked tarball) and end at the overlay's tree;
#  - at every patch that changes the kernel, in order, with the x86_64
#    test kernel's configuration: the kernel .c files of the series that
#    the change reaches compile and vmlinux.o links with no symbol left
#    undefined that the full build's vmlinux.o resolves (how, and what that
#    proves: step 3 below; the full build of the last state is the x86_64
#    test kernel's), and sparse (make C=2) and kernel-doc -Wall on the
#    files the patch touches find nothing the base does not have (the
#    base's findings are those harness/lint.sh saved in build/lint, so
#    lint runs first).
# With no problem, the per-patch builds' lines go to
# results/series/results.md with the commit, the date and the series'
# fingerprint: a hash of what those builds read at every patch (the
# kernel files of each commit but tools/, Documentation/, MAINTAINERS and
# other arches' arch/ files, and the x86_64 .config).
#
# --quick (make check: the per-patch builds are about 7 minutes of a
# cold make check's 45): the checkpatch and git am steps, then the
# fingerprint of the series as it is now compared with the one in
# results/series/results.md: a series whose kernel states at some patch
# differ from those that file's builds proved is a problem, naming the
# command to run ('make series-check') and the file to commit.
# Prints one line per check and "series: N problems" last, writes them as
# KTAP (build/ktap/series.ktap; harness/lib-results.sh checker_start) and exits 1
# when there is any.
. "$(dirname "$0")/lib.sh"

quick=false
case ${1:-} in
--quick) quick=true ;;
"") ;;
*) die "usage: $me [--quick]" ;;
esac
$quick || need_cmd sparse sparse
checker_start series
problems=0
problem() {
	checker_fail "$@"
	problems=$((problems + 1))
}
oks=()
ok() {
	checker_ok "$@"
	oks+=("$*")
}

lint=$BUILD/lint
$quick || for f in sparse-x86_64-base.norm kernel-doc-base.norm; do
	[ -f "$lint/$f" ] || die "$lint/$f not found; run 'make lint' first (the base's findings)"
done
load_arch x86_64
[ -f "$KBUILD/.config" ] || die "x86_64 kernel not configured; run 'make build'"
config=$KBUILD/.config

log=$BUILD/series/series.log
mkdir -p "$BUILD/series"
if ! "$HARNESS/series.sh" > "$log" 2>&1; then
	cat "$log"
	problem "make series (log: $log)"
	checker_end
	exit 1
fi
wt=$BUILD/series/src
out=$BUILD/series/out
mapfile -t mails < <(ls "$out"/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-')
mapfile -t commits < <(git -C "$wt" rev-list --reverse base..HEAD)
[ ${#mails[@]} -eq ${#commits[@]} ] || die "$out has ${#mails[@]} patches, the series ${#commits[@]}"
ok "make series: ${#commits[@]} patches"
state=$(overlay_state)
read -r final _ < "$state"

# 1. checkpatch per mail, in the kernel tree (from $out: --strict leaves
# a .checkpatch-camelcase cache file in a git work tree's top), as many
# at a time as there are CPUs (each writes only MAIL.checkpatch and, when
# clean, MAIL.ok), then reported in order.
checkpatch_one() {
	rm -f "$1.ok"
	# checkpatch asks scripts/spdxcheck.py only where it finds a .git,
	# which $out has not: lint.sh runs that check. A traceback (a
	# python module missing) still counts as a finding.
	if (cd "$out" && "$wt/scripts/checkpatch.pl" --strict -q --root="$wt" \
		"$(basename "$1")") > "$1.checkpatch" 2>&1 &&
		! grep -q '^Traceback' "$1.checkpatch"; then
		touch "$1.ok"
	fi
}
export -f checkpatch_one
export out wt
printf '%s\0' "${mails[@]}" |
	xargs -0 -n 1 -P "$(nproc)" bash -c 'checkpatch_one "$1"' checkpatch_one
for m in "${mails[@]}"; do
	name=$(basename "$m")
	if [ -e "$m.ok" ]; then
		ok "checkpatch --strict $name"
	else
		cat "$m.checkpatch"
		problem "checkpatch --strict $name"
	fi
done

# 2. git am on the base.
am=$BUILD/series/am
git -C "$SRC" worktree remove --force "$am" 2>/dev/null || rm -rf "$am"
git -C "$SRC" worktree prune
git -C "$SRC" worktree add -q --detach "$am" base || die "cannot make the worktree $am"
if ! git -C "$am" -c user.name=am -c user.email=am@localhost am -q "${mails[@]}" \
	> "$BUILD/series/am.log" 2>&1; then
	cat "$BUILD/series/am.log"
	git -C "$am" am --abort 2>/dev/null || true
	problem "git am of the series on the base (log: $BUILD/series/am.log)"
elif ! git -C "$am" diff --quiet HEAD "$final"; then
	git -C "$am" diff --stat HEAD "$final"
	problem "git am of the series on the base does not end at the overlay's tree"
else
	ok "git am: ${#mails[@]} patches apply to the base and end at the overlay's tree"
fi
git -C "$SRC" worktree remove --force "$am" 2>/dev/null || true

# The fingerprint of the series (see the top): the x86_64 build's inputs
# at every patch, as the tree ids of the top-level entries but tools/,
# Documentation/ and MAINTAINERS, and of arch/x86 and arch/'s own files,
# each state once (a patch of only the selftests or the documentation
# adds none, so adding or dropping one keeps the fingerprint); and the
# .config but the Rust toolchain's version lines (CONFIG_RUST is off;
# rustc is no package of the harness's, and a machine with another one,
# or none, would give another fingerprint) and the compiler's version
# text (a Debian revision of the same gcc; GCC_VERSION stays in).
fingerprint() {
	local c state last=
	{
		grep -E '^(# )?CONFIG_' "$config" |
			grep -vE '^(# )?CONFIG_(RUSTC_|RUST_IS_AVAILABLE|BINDGEN_|CC_VERSION_TEXT)'
		for c in "${commits[@]}"; do
			state=$(git -C "$wt" ls-tree "$c" | awk -F'\t' '$2 != "tools" &&
				$2 != "Documentation" && $2 != "MAINTAINERS" && $2 != "arch"'
				git -C "$wt" ls-tree "$c" arch/ |
					awk -F'\t' '$2 == "arch/x86" || $1 ~ / blob /')
			[ "$state" = "$last" ] || printf 'state\n%s\n' "$state"
			last=$state
		done
	} | sha256sum | cut -c1-16
}
results=$TOP/results/series/results.md
if $quick; then
	fp=$(fingerprint)
	made=$(sed -n 's/^Fingerprint: \([0-9a-f]*\).*/\1/p' "$results" 2>/dev/null | head -n 1)
	from=$(sed -n 's/^Made by .* from \(.*\)\.$/\1/p' "$results" 2>/dev/null | head -n 1)
	if [ -n "$made" ] && [ "$made" = "$fp" ]; then
		ok "per-patch builds: proved for this series by results/series/results.md ($from; fingerprint $fp)"
	else
		problem "per-patch builds: the series (fingerprint $fp) is not the one results/series/results.md proved (${made:-no fingerprint there}): run 'make series-check' (about 8 min) and commit results/series/results.md"
	fi
	checker_end
	exit
fi

# 3. Every patch that changes the kernel: build, sparse and kernel-doc.
# A full vmlinux per patch costs a full rebuild at every patch that
# changes a header all files include (vm_event_item.h, pgtable.h), 41 min
# cold for the series. Instead the build directory starts as a copy of
# the x86_64 test kernel's, which is the full build of the series' last
# state (git am above showed the series ends at the overlay's tree; same
# .config), and at every patch kbuild rebuilds, by its own dependencies
# (sources, headers, CONFIG_ options), the objects of the kernel .c files
# the series touches or adds; every other object counts as up to date
# (its mtime is set after the checkout), then vmlinux.o links and modpost
# runs on it (section mismatches). Not vmlinux: its kallsyms links,
# linker-script ASSERTs, relocs and sorttable are the full build's, for
# the last state, and per patch add little; instead the symbols vmlinux.o
# leaves undefined are compared with those the full build's vmlinux.o
# leaves (the linker script's: _etext, __start_*, ...): one more is a
# symbol used before the patch that defines it, which the vmlinux link
# would have refused (and which make modpost lets pass: seen with
# madvise_pt_reclaim() renamed in mm/pt_reclaim.c, status 0, the check
# named the symbol). So each patch
# proves: every kernel .c file of the series that its change reaches
# compiles at that patch with -Werror where kbuild has it, every header
# it changes compiles in those files, and the kernel links. Not proven
# per patch: that files outside the series still compile against a
# header a patch changes (only added declarations, enum items and
# CONFIG_ options) - the full build of the last state shows it for the
# series as a whole.
added=$(git -C "$SRC" diff --diff-filter=A --name-only base "$final" -- '*.c' |
	grep -v '^tools/' || true)
git -C "$SRC" diff --name-only base "$final" -- '*.c' | grep -v '^tools/' |
	sed 's/\.c$/.o/' > "$BUILD/series/objects" || true
"$HARNESS/build.sh" x86_64 || die "the x86_64 test kernel does not build; it is the series' full build"
full=$KBUILD
KBUILD=$BUILD/series/x86_64/kernel
git -C "$wt" diff --quiet HEAD "$final" || die "$wt is not at the overlay's tree"
kbuild_copy "$full" "$KBUILD" "$SRC" "$wt" || die "cannot copy $full to $KBUILD for $wt"
[ -f "$full/vmlinux.o" ] || die "$full/vmlinux.o not found: the x86_64 build keeps it"
# undefined VMLINUX_O: the symbols it leaves undefined, sorted.
undefined() {
	nm -u "$1" | awk '{ print $NF }' | LC_ALL=C sort -u
}
undefined "$full/vmlinux.o" > "$BUILD/series/undefined-final"
SRC=$wt
prev=$final
# The state whose Kconfig files made .config (the copied one is the last
# state's); "none" after a configuration that failed. The configuration
# step (olddefconfig, syncconfig: about 11 s, Kconfig's compiler probes)
# runs only when a Kconfig file differs from that state's.
configured=$final
# x86_64_read: the paths on stdin that the x86_64 kernel build may read
# (not tools/, Documentation/, MAINTAINERS or another arch's arch/ files).
x86_64_read() {
	awk -F/ '$1 == "tools" || $1 == "Documentation" || $0 == "MAINTAINERS" { next }
		$1 == "arch" && NF > 2 && $2 != "x86" { next }
		{ print }'
}
for i in "${!commits[@]}"; do
	c=${commits[$i]}
	name=$(basename "${mails[$i]}" .patch)
	git -C "$wt" checkout -q --detach "$c"
	touched=$(git -C "$wt" diff --name-only "$c~1" "$c")
	# What changed since the last build: nothing of the kernel (the
	# selftests, the documentation), or only other arches' files
	# (arch/s390/, arch/arm64/Kconfig), which the x86_64 build does not
	# read: that build would be the last one again.
	since=$(git -C "$wt" diff --name-only "$prev" "$c")
	if ! printf '%s\n' "$since" | grep -qvE '^$|^(tools|Documentation)/|^MAINTAINERS$'; then
		ok "$name: no kernel file changed since the last build"
		continue
	fi
	if ! printf '%s\n' "$since" | x86_64_read | grep -q .; then
		ok "$name: only other arches' files changed since the last build, which the x86_64 build does not read"
		continue
	fi
	for f in $added; do
		[ -f "$wt/$f" ] || rm -f "$KBUILD/${f%.c}.o" \
			"$KBUILD/$(dirname "$f")/.$(basename "${f%.c}").o.cmd"
	done
	blog=$KBUILD/build-$name.log
	s=$(date +%s)
	: > "$blog"
	if [ "$configured" = none ] ||
		git -C "$wt" diff --name-only "$configured" "$c" | x86_64_read |
		grep -q '\(^\|/\)Kconfig[^/]*$'; then
		cp "$config" "$KBUILD/.config"
		if ! kmake olddefconfig syncconfig > "$blog" 2>&1; then
			tail -n 20 "$blog"
			problem "x86_64 configuration at $name (log: $blog)"
			configured=none
			continue
		fi
		configured=$c
	fi
	# Every build product but the series' objects and what configuration
	# writes gets one and the same mtime T, later than the checkout: a
	# product is remade only when a prerequisite is newer, so with equal
	# mtimes no archive, host tool or generated file is remade for
	# objects that were not (an .o touched after its built-in.a made
	# every archive and host tool of the tree be remade: about 15 s a
	# patch).
	sleep 1
	t=$(date +%s)
	(cd "$KBUILD" && find . -type f ! -name '.config*' ! -name 'build-*' \
		! -path './include/config/*' ! -path './include/generated/*' \
		! -path './arch/*/include/generated/*' -printf '%P\n' |
		grep -vxF -f "$BUILD/series/objects" | xargs -r -d '\n' touch -d "@$t")
	if ! kmake modpost -j"$(nproc)" >> "$blog" 2>&1; then
		grep -E 'error|Error|undefined' "$blog" | head -n 20
		problem "x86_64 build at $name (log: $blog)"
		continue
	fi
	unres=$(undefined "$KBUILD/vmlinux.o" | LC_ALL=C comm -23 - "$BUILD/series/undefined-final")
	if [ -n "$unres" ]; then
		printf '%s\n' "$unres" | head -n 20
		problem "x86_64 link at $name: vmlinux.o needs symbols nothing defines (above)"
		continue
	fi
	prev=$c
	rebuilt=$(grep -cE '^  CC +[^ ]+\.o$' "$blog" || true)
	# sparse on the touched .c files this configuration builds.
	objs=()
	for f in $(printf '%s\n' "$touched" | grep '\.c$' | grep -v '^tools/' || true); do
		[ -f "$KBUILD/${f%.c}.o" ] && objs+=("${f%.c}.o")
	done
	new=
	if [ ${#objs[@]} -gt 0 ]; then
		kmake -j"$(nproc)" C=2 "${objs[@]}" > "$blog.sparse" 2>&1 ||
			{ tail -n 20 "$blog.sparse"; problem "sparse build at $name"; continue; }
		new=$(norm_findings "$wt" < "$blog.sparse" |
			LC_ALL=C comm -23 - "$BUILD/lint/sparse-x86_64-base.norm")
	fi
	# kernel-doc on the touched kernel C files and headers.
	kd=$(printf '%s\n' "$touched" | grep -E '\.[ch]$' | grep -v '^tools/' || true)
	if [ -n "$kd" ]; then
		# shellcheck disable=SC2086
		new+=$( (cd "$wt" && scripts/kernel-doc -none -Wall $kd 2>&1) |
			norm_findings "$wt" |
			LC_ALL=C comm -23 - "$BUILD/lint/kernel-doc-base.norm")
	fi
	if [ -n "$new" ]; then
		printf '%s\n' "$new"
		problem "sparse or kernel-doc findings at $name that the base does not have"
	else
		ok "$name: x86_64 builds ($rebuilt objects compiled, vmlinux.o linked, no new undefined symbol, $(( $(date +%s) - s )) s), sparse (${#objs[@]} files) and kernel-doc clean"
	fi
done

# The record make check's --quick compares with; the fingerprint of the
# .config the builds above used (build.sh may have configured again).
if [ "$problems" -eq 0 ]; then
	fp=$(fingerprint)
	mkdir -p "$(dirname "$results")"
	{
		echo "# The series, patch by patch"
		echo
		echo "Made by harness/series-check.sh (\`make series-check\`) on $(date -u +%Y-%m-%d) from $(tree_commit)."
		echo "Fingerprint: $fp"
		echo
		echo "The fingerprint hashes what the x86_64 builds below read at every"
		echo "patch (the kernel files of each commit but tools/, Documentation/,"
		echo "MAINTAINERS and other arches' arch/ files; the test kernel's .config):"
		echo "\`make check\` runs the checkpatch and git am steps itself and fails"
		echo "when the series' fingerprint is not this one."
		echo
		printf -- '- %s\n' "${oks[@]}"
	} > "$results"
	info "the record of these builds: $results (commit it)"
fi
checker_end
