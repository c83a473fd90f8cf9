#!/bin/bash
# usage: harness/status.sh [FILE]
#
# Publish the status of a make check run: FILE (default
# build/check-status.md, which harness/check.sh writes at its end; a
# clean clone's is CLONE/build/check-status.md) becomes
# results/check/results.md, and its table the block of README.md between
# the "status begin" and "status end" lines. Only a full run (every arch,
# every step) of a committed tree is published; the commit it names must
# be this repository's HEAD or an ancestor of it. `make status`.
# harness/tests/readme.sh fails when README.md's block and
# results/check/results.md differ.
. "$(dirname "$0")/lib.sh"

f=${1:-$BUILD/check-status.md}
[ -f "$f" ] || die "$f not found: run make check first"
val() {
	sed -n "s/^$1 //p" "$f" | head -n 1
}
commit=$(val commit)
scope=$(val scope)
read -r p fl sk <<<"$(val total)"
[ -n "$commit" ] && [ -n "$scope" ] && [ -n "${sk:-}" ] || die "$f: not a status file of harness/check.sh"
[ "$scope" = full ] || die "$f: a partial run ($scope): only a full make check is published"
case $commit in *uncommitted*) die "$f: the run was of a tree with uncommitted changes ($commit)" ;; esac
git -C "$TOP" merge-base --is-ancestor "$commit" HEAD 2>/dev/null ||
	die "$f: commit $commit is not HEAD or an ancestor of it"

out=$TOP/results/check/results.md
mkdir -p "$(dirname "$out")"
{
	echo "# make check"
	echo
	echo "The last full \`make check\` published (harness/status.sh, from the"
	echo "build/check-status.md that harness/check.sh writes): commit $commit,"
	echo "$(val date), $(val minutes) minutes; $p passed, $fl failed, $sk skipped."
	echo "A skip is a case that cannot run in its guest, with its reason in the"
	echo "console (build/ARCH/check/console.log), within harness/skips.sh's budget."
	echo
	sed -n '/^|/p' "$f"
} > "$out.tmp"
mv "$out.tmp" "$out"

readme=$TOP/README.md
b=$(grep -n '^<!-- status begin' "$readme" | cut -d: -f1)
e=$(grep -n '^<!-- status end' "$readme" | cut -d: -f1)
[ "$(printf '%s\n' "$b" | wc -w)" = 1 ] && [ "$(printf '%s\n' "$e" | wc -w)" = 1 ] && [ "$b" -lt "$e" ] ||
	die "$readme needs one status block: a '<!-- status begin' line, then a '<!-- status end' line"
summary="\`make check\` of $commit, $(val date), $(val minutes) min: $p passed, $fl failed, $sk skipped ([results/check/results.md](results/check/results.md))."
awk -v src="$out" -v summary="$summary" '
	/^<!-- status begin/ {
		print
		print summary
		print ""
		while ((getline l < src) > 0)
			if (l ~ /^\|/)
				print l
		skip = 1
		next
	}
	/^<!-- status end/ { skip = 0 }
	!skip' "$readme" > "$readme.tmp"
mv "$readme.tmp" "$readme"
info "wrote $out and README.md's status block ($p passed, $fl failed, commit $commit)"
