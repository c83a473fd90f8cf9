#!/bin/bash
# Every header and library the harness's C programs use comes from a
# package that harness/install.sh installs, itself or as a dependency: a
# machine set up by 'make install' alone builds them all. The programs:
# allocators/ (host compiler, -ljemalloc), harness/guest/ and
# harness/tests/ (host compiler), and the mm selftests of build/src with
# each arch's user compiler (-static with -lrt -lpthread -lm -ldl, and
# -lcap -lnuma on x86_64, as harness/selftests.sh builds them). Headers are the ones the
# preprocessor resolves (gcc -M), libraries the files the compiler would
# link (-print-file-name); dpkg -S names each one's package. A file no
# package owns, or whose package install.sh does not bring, fails the
# test, naming both.
. "$(dirname "$0")/../lib.sh"

scratch_dir
[ -d "$SRC/tools/testing/selftests/mm" ] || fail "$SRC not unpacked; run 'make base'"

# What install.sh brings: its list and everything those depend on.
mapfile -t listed < <("$HARNESS/install.sh" --list)
apt-cache depends --recurse --installed --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances "${listed[@]}" 2>/dev/null |
	sed -n 's/^\([^ <][^ ]*\)$/\1/p; s/^  *[A-Za-z]*Depends: \([^<][^ ]*\)$/\1/p' |
	sed 's/:.*//' | LC_ALL=C sort -u > "$tmp/brought"
printf '%s\n' "${listed[@]}" >> "$tmp/brought"
grep -qx libc6-dev "$tmp/brought" || fail "apt-cache depends listed nothing sensible: $(head -c 300 "$tmp/brought")"

# used CC FLAGS -- SOURCES: the headers CC resolves for SOURCES.
used() {
	local cc=$1 f
	shift
	local flags=()
	while [ "$1" != -- ]; do flags+=("$1"); shift; done
	shift
	for f in "$@"; do
		"$cc" "${flags[@]}" -M "$f" 2>"$tmp/cpp.one" && continue
		# an #error: a test of other arches (protection_keys on s390x)
		grep -q '#error' "$tmp/cpp.one" && continue
		cat "$tmp/cpp.one" >> "$tmp/cpp.err"
		echo "$cc: $f: the preprocessor failed (a header missing?)" >> "$tmp/failed"
	done | tr ' \\' '\n\n' | grep '^/' | grep -v "^$TOP/\|^$SRC/\|^$tmp/" >> "$tmp/files" || true
}

: > "$tmp/files"
: > "$tmp/failed"
used gcc -D_GNU_SOURCE -- "$TOP"/allocators/*.c "$TOP"/allocators/*/*.c
used gcc -I"$SRC/tools/testing/selftests" -- "$HARNESS"/guest/*.c "$HARNESS"/tests/*.c
mm=$SRC/tools/testing/selftests/mm
# The selftests build makes local_config.h (liburing or not): empty here.
: > "$tmp/local_config.h"
for conf in "$HARNESS"/arch/*.conf; do
	(
		load_arch "$(basename "$conf" .conf)"
		[ -z "$KERNEL_OF" ] || exit 0
		echo "$CC_USER"
	)
done | sort -u > "$tmp/compilers"
while read -r cc; do
	command -v "$cc" >/dev/null || fail "$cc not found; run 'make install'"
	used "$cc" -D_GNU_SOURCE -I"$tmp" -I"$SRC" -I"$SRC/tools/testing/selftests" \
		-I"$SRC/tools/include/uapi" -I"$mm" -- "$mm"/*.c
	# Debian has no static libcap or libnuma for s390x and arm64: the
	# selftests that need them are not built there (harness/selftests.sh).
	libs="rt pthread m dl"
	[ "$cc" = gcc ] && libs="$libs cap numa"
	for l in $libs; do
		f=$("$cc" -print-file-name="lib$l.a")
		case $f in
		/*) echo "$f" >> "$tmp/files" ;;
		*) echo "$cc: lib$l.a not found (for -static -l$l)" >> "$tmp/failed" ;;
		esac
	done
done < "$tmp/compilers"
f=$(gcc -print-file-name=libjemalloc.so)
case $f in
/*) echo "$f" >> "$tmp/files" ;;
*) echo "gcc: libjemalloc.so not found (allocators/Makefile: -ljemalloc)" >> "$tmp/failed" ;;
esac

# Each file's package, through symbolic links (dpkg knows the path the
# package shipped), with one dpkg -S for all.
LC_ALL=C sort -u "$tmp/files" | while read -r f; do
	printf '%s\t%s\n' "$f" "$(readlink -f "$f")"
done > "$tmp/paths"
cut -f1,2 "$tmp/paths" | tr '\t' '\n' | LC_ALL=C sort -u | xargs -r -d '\n' dpkg -S 2>/dev/null |
	sed -E 's/^([^:,]+)(:[^,:]+)?(, [^:]+)*: /\1\t/' > "$tmp/owners" || true
# One awk for all: a path's owner is its own path's package, else its
# target's.
awk -F'\t' '
	FILENAME == ARGV[1] { if (!($2 in own)) own[$2] = $1; next }
	FILENAME == ARGV[2] { brought[$0] = 1; next }
	{
		pkg = ($1 in own) ? own[$1] : (($2 in own) ? own[$2] : "")
		if (pkg == "")
			print $1 ": no Debian package owns it"
		else if (!(pkg in brought))
			print $1 ": from package " pkg ", which harness/install.sh does not install: add it there"
	}' "$tmp/owners" "$tmp/brought" "$tmp/paths" >> "$tmp/failed"
if [ -s "$tmp/failed" ]; then
	cat "$tmp/failed" >&2
	[ -s "$tmp/cpp.err" ] && grep -m 5 'error' "$tmp/cpp.err" >&2
	fail "$(wc -l < "$tmp/failed") headers or libraries not brought by harness/install.sh"
fi
echo "$me: $(LC_ALL=C sort -u "$tmp/files" | wc -l) headers and libraries, all from packages install.sh brings"
