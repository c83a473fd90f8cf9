#!/bin/bash
# usage: harness/series-funcs.sh [--lines]
#
# The kernel functions the series adds or changes, one name a line,
# sorted: every function of a kernel .c or .h file (outside tools/,
# Documentation/, scripts/ and samples/) of the tree under test ($SRC,
# exported or not) that holds a line added since the base, or the place
# of a line removed: every function of the files the series adds
# (mm/pt_reclaim.c, ...), and those it changes elsewhere. What harness/verdict.sh calls the
# series' code when it judges a data-race report (a frame of one of these
# in either stack: the series' race). A function is a definition at
# column 0 (kernel style): its name is the identifier before the first
# "(" of its first line, its body runs from a "{" to a "}" at column 0.
. "$(dirname "$0")/lib.sh"

[ -f "$SRC/Makefile" ] || die "$SRC holds no kernel tree; run 'make tree'"

# funcs FILE [LINE..]: the functions of FILE (all, or those holding a
# LINE; a line of a function's head counts as the function's).
funcs() {
	local f=$1
	shift
	awk -v want="$*" '
	BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) in_w[w[i]] = 1 }
	# a head: column 0, an identifier and "(", not a declaration,
	# preprocessor line, comment or label
	!body && /^[A-Za-z_][^;=#]*[A-Za-z0-9_] ?\(/ && !/;[ \t]*$/ && !/^(struct|union|enum|typedef)[^(]*$/ {
		s = $0; sub(/ ?\(.*/, "", s); sub(/.*[^A-Za-z0-9_]/, "", s)
		name = s; head = NR
	}
	/^\{/ && name != "" { body = 1 }
	name != "" && (n == 0 || (NR in in_w)) { hit[name] = 1 }
	/^\}/ && body { body = 0; name = "" }
	# a declaration ends a head that had no body
	!body && /\);[ \t]*$/ { name = "" }
	END { for (s in hit) print s }' "$f"
}

# The tree under test: $SRC against the base, edits not yet exported
# included; new files not yet added to git too, whole. Plain git output
# whatever the user's configuration (prefixes, colour, external diff).
set -o pipefail
git -C "$SRC" rev-parse -q --verify base >/dev/null || die "$SRC has no 'base' tag; run 'make base'"
tmpf=$(mktemp)
trap 'rm -f "$tmpf"' EXIT
spec=('*.c' '*.h' ':!tools' ':!Documentation' ':!scripts' ':!samples')
gdiff() {
	git -C "$SRC" diff -U0 --no-ext-diff --no-color --no-renames \
		--src-prefix=a/ --dst-prefix=b/ "$@"
}
{
	gdiff base -- "${spec[@]}"
	git -C "$SRC" ls-files --others --exclude-standard -- "${spec[@]}" |
		while read -r f; do
			# exits 1: the files differ
			gdiff --no-index /dev/null "$f" || [ $? -eq 1 ]
		done
} | awk '
	/^\+\+\+ / { f = $2; sub(/^b\//, "", f); next }
	/^@@ / { split($3, a, /[+,]/); l = a[2]; next }
	/^--- / { next }
	/^\+/ { print f, l; l++; next }
	/^-/ { print f, l; next }' > "$tmpf" || die "git diff of $SRC against its base failed"
grep -q '^mm/pt_reclaim\.c ' "$tmpf" ||
	die "$SRC against its base adds no line to mm/pt_reclaim.c: not the series' tree? (make tree)"

# --lines: the lines themselves, "FILE LINE" (an added line, or the
# line before which lines were removed), for harness/verdict.sh, which
# matches the file:line of a frame (and of what was inlined there).
if [ "${1:-}" = --lines ]; then
	sort -u "$tmpf"
	exit
fi
cut -d' ' -f1 "$tmpf" | sort -u | while read -r f; do
	[ -f "$SRC/$f" ] || continue
	# shellcheck disable=SC2046 # one line number a word
	funcs "$SRC/$f" $(awk -v f="$f" '$1 == f { print $2 }' "$tmpf")
done | sort -u
