#!/bin/bash
# The README's facts against the tree: README.md fits a newcomer's screen
# or two (160 lines at most), its first screen (40 lines) holds the two
# commands and the Status line of the last make check; every "N
# patches" in README.md and harness/README.md is series/map's count; the
# arches README.md says make check runs are the confs' whose RUNS name
# check (harness/lib.sh confs_in), less those that boot another's
# kernel; the kernel version it names is BASE's; every file it links or
# names in backquotes (a path below a top-level directory of the
# repository) exists; its Status block is results/check/results.md's
# table, as harness/status.sh writes it.
. "$(dirname "$0")/../lib.sh"
scratch_dir

readme=$TOP/README.md
n=$(wc -l < "$readme")
[ "$n" -le 160 ] || fail "README.md has $n lines; at most 160 (details go to harness/README.md)"

head -n 40 "$readme" > "$tmp/first"
grep -q '^    make demo ' "$tmp/first" || fail "README.md: 'make demo' is not in its first 40 lines (a newcomer's first screen)"
grep -q '^    make check ' "$tmp/first" || fail "README.md: 'make check' is not in its first 40 lines"
grep -q '^`make check` of [0-9a-f]*, ' "$tmp/first" ||
	fail "README.md: the Status line ('\`make check\` of COMMIT, ...') is not in its first 40 lines"

patches=$(grep -c '^patch ' "$TOP/series/map")
for f in "$readme" "$HARNESS/README.md"; do
	grep -oE '\b[0-9]+ patches\b' "$f" | sort -u | while read -r k _; do
		[ "$k" = "$patches" ] ||
			fail "${f#"$TOP"/} says $k patches; series/map has $patches"
	done
done

# The arches of make check: the confs whose RUNS name check, less the
# KERNEL_OF confs.
default=$(confs_in check)
[ -n "$default" ] || fail "no harness/arch conf has RUNS naming check"
want=$(for a in $default; do
	grep -q '^KERNEL_OF=' "$HARNESS/arch/$a.conf" || echo "$a"
done | paste -sd' ')
# "every test on A, B, C and D" (the make check line): the same list.
said=$(sed -n 's/.*make check  *# every test on \(.*\)$/\1/p' "$readme" | head -n 1 |
	sed 's/, / /g; s/ and / /')
[ -n "$said" ] || fail "README.md: no '# every test on ...' comment after make check"
[ "$said" = "$want" ] || fail "README.md says make check runs '$said'; the confs (RUNS=check) give '$want'"
said=$(sed -n 's/.*and tests it on \(.*\)\.$/\1/p' "$readme" | head -n 1 | sed 's/, / /g; s/ and / /')
[ "$said" = "$want" ] || fail "README.md's opening says it tests on '$said'; the confs (RUNS=check) give '$want'"

# The base's version.
kv=$(sed -n 's/^KERNEL_VERSION=//p' "$TOP/BASE")
grep -oE '\b6\.12\.[0-9]+\b' "$readme" | sort -u | while read -r v; do
	[ "$v" = "$kv" ] || fail "README.md names $v; BASE has $kv"
done

# Files named: links and backquoted paths below a top-level directory.
tops=$(cd "$TOP" && for d in */; do [ "$d" = build/ ] || printf '%s\n' "${d%/}"; done | paste -sd'|')
for f in "$readme" "$HARNESS/README.md"; do
	dir=$(dirname "$f")
	{
		grep -oE '\]\([^)#]+' "$f" | sed 's/^](//' | grep -v '://' |
			sed "s@^@$dir/@"
		grep -oE '`[^` ]+`' "$f" | tr -d '`' | grep -E "^($tops)/" |
			grep -vE 'ARCH|NAME|NN-|<|\.\.|[{]' | sed "s@^@$TOP/@"
	} | sort -u > "$tmp/paths"
	while read -r p; do
		# an object: its source
		case $p in *.o) p=${p%.o}.c ;; esac
		# harness/README.md also names harness's files from harness/
		[ "$dir" = "$TOP" ] || ! compgen -G "$dir/${p#"$TOP"/}" > /dev/null || continue
		# shellcheck disable=SC2086 # a glob may name several files
		# a kernel file: in the overlay, patched by it, or in the base; a
		# program: its source
		compgen -G "$p" > /dev/null || compgen -G "$p.patch" > /dev/null || compgen -G "$p.c" > /dev/null ||
			compgen -G "$SRC/${p#"$TOP"/}" > /dev/null ||
			fail "${f#"$TOP"/} names ${p#"$TOP"/}, which does not exist"
	done < "$tmp/paths"
done

# The Status block: harness/status.sh's copy of results/check/results.md.
res=$TOP/results/check/results.md
sed -n '/^<!-- status begin/,/^<!-- status end/p' "$readme" | grep '^|' > "$tmp/block" || true
if [ -f "$res" ]; then
	grep '^|' "$res" > "$tmp/res" || true
	cmp -s "$tmp/block" "$tmp/res" ||
		fail "README.md's Status block is not results/check/results.md's table; run 'make status'"
	c=$(sed -n 's/.*commit \([0-9a-f]*\),.*/\1/p' "$res" | head -n 1)
	[ -z "$c" ] || grep -q "^\`make check\` of $c," "$readme" ||
		fail "README.md's Status line does not name results/check/results.md's commit $c; run 'make status'"
else
	[ ! -s "$tmp/block" ] || fail "README.md has a Status table but there is no results/check/results.md"
fi
echo "$me: README.md's counts, arches, version, files and status match the tree"
