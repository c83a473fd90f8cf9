#!/bin/bash
# usage: harness/man.sh DIR
#
# The man-pages change (man-pages/): DIR becomes a git repository with
# the pages it changes as the man-pages project ships them, taken from
# Debian's manpages-dev (/usr/share/man), committed as tag "base"; then
# one commit on it with man-pages/<section>/<page>.patch applied (git
# apply: no fuzz, a hunk that does not apply fails) and
# man-pages/commit.msg as its message, author and date as the kernel
# series has them. 'make series' formats it for the man-pages project;
# harness/tests/manpages.sh lints and renders it.
. "$(dirname "$0")/lib.sh"

# The man-pages release the patches are made against.
MANPAGES_RELEASE=6.03

[ $# -eq 1 ] || die "usage: harness/man.sh DIR"
dir=$1
mp=$TOP/man-pages
msg=$mp/commit.msg
[ -f "$msg" ] || die "$msg not found"

rm -rf "$dir"
mkdir -p "$dir"
g() {
	git -C "$dir" -c core.autocrlf=false "$@"
}
g init -q
series_identity

patches=$(cd "$mp" && find . -name '*.patch' | sed 's|^\./||' | sort)
[ -n "$patches" ] || die "no patch in $mp"
for p in $patches; do
	page=${p%.patch}
	src=/usr/share/man/$page.gz
	[ -f "$src" ] ||
		die "$src not found: the base of man-pages/$p is Debian's manpages-dev; run 'make install'"
	mkdir -p "$dir/$(dirname "$page")"
	zcat "$src" > "$dir/$page"
	head -n 20 "$dir/$page" | grep -q "^\.TH .*\"Linux man-pages $MANPAGES_RELEASE\"" ||
		die "$src is not from man-pages $MANPAGES_RELEASE ($(grep -m1 '^\.TH' "$dir/$page")): man-pages/$p is made against $MANPAGES_RELEASE (Debian bookworm's manpages-dev); rebase it and MANPAGES_RELEASE in $0"
done
g add -A
g commit -q -m "man-pages $MANPAGES_RELEASE as Debian's manpages-dev ships them"
g tag base
for p in $patches; do
	g apply --whitespace=error-all "$mp/$p" ||
		die "man-pages/$p does not apply to man-pages $MANPAGES_RELEASE's ${p%.patch}"
done
g add -A
{
	cat "$msg"
	printf '\nSigned-off-by: %s\n' "$SERIES_AUTHOR"
} | g commit -q -F - || die "cannot commit the man-pages change in $dir"
