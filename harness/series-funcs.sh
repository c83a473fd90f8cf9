#!/bin/bash
# usage: harness/series-funcs.sh
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
# included; new files not yet added to git too, whole.
git -C "$SRC" rev-parse -q --verify base >/dev/null || die "$SRC has no 'base' tag; run 'make base'"
{
	git -C "$SRC" diff -U0 base -- '*.c' '*.h' ':!tools' ':!Documentation' ':!scripts' ':!samples'
	git -C "$SRC" ls-files --others --exclude-standard -- '*.c' '*.h' ':!tools' ':!Documentation' |
		while read -r f; do
			git -C "$SRC" diff -U0 --no-index /dev/null "$f" || true
		done
} | awk '
	/^\+\+\+ / { f = $2; sub(/^b\//, "", f); next }
	/^@@ / { split($3, a, /[+,]/); l = a[2]; next }
	/^--- / { next }
	/^\+/ { print f, l; l++; next }
	/^-/ { print f, l; next }' > "${TMPDIR:-/tmp}/series-funcs.$$"
trap 'rm -f "${TMPDIR:-/tmp}/series-funcs.$$"' EXIT
cut -d' ' -f1 "${TMPDIR:-/tmp}/series-funcs.$$" | sort -u | while read -r f; do
	[ -f "$SRC/$f" ] || continue
	# shellcheck disable=SC2046 # one line number a word
	funcs "$SRC/$f" $(awk -v f="$f" '$1 == f { print $2 }' "${TMPDIR:-/tmp}/series-funcs.$$")
done | sort -u
