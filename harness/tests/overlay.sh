#!/bin/bash
# The overlay round trip and base.sh's refusals, on a sparse worktree of
# build/src (only mm/ and the mm selftests are checked out):
#  1. tree -> export -> tree is lossless: a modified, a new (no final
#     newline), a deleted file and a new selftest come back identical,
#     and exporting again gives the same overlay byte for byte;
#  2. a recorded base version that differs from the tree is reported;
#  3. a patch whose context does not match stops with the file and hunk;
#  4. edits that were not exported are never overwritten.
. "$(dirname "$0")/../lib.sh"

[ -e "$SRC/.git" ] || die "$SRC not unpacked; run 'make base'"
tmp=$(mktemp -d)
cleanup() {
	git -C "$SRC" worktree remove --force "$tmp/src" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# VERBOSE=1 shows the messages the test provokes.
show() {
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$tmp/err" >&2
	return 0
}

git -C "$SRC" worktree add -q --no-checkout --detach "$tmp/src" base
git -C "$tmp/src" sparse-checkout set --cone mm tools/testing/selftests/mm
git -C "$tmp/src" checkout -q --detach base
export SRC=$tmp/src OVERLAY=$tmp/overlay
mkdir -p "$OVERLAY/mm"

# Content of the whole work tree, as a git tree id.
snapshot() {
	local idx=$tmp/index
	rm -f "$idx"
	GIT_INDEX_FILE=$idx git -C "$SRC" read-tree HEAD
	GIT_INDEX_FILE=$idx git -C "$SRC" add -A
	GIT_INDEX_FILE=$idx git -C "$SRC" write-tree
}

"$HARNESS/base.sh" 2>"$tmp/err" || { cat "$tmp/err"; fail "base.sh on an empty overlay"; }

# 1. Round trip.
sed -i '1a /* round trip: a changed line */' "$SRC/mm/madvise.c"
printf 'new file\nwithout a final newline' > "$SRC/mm/rt_new.c"
git -C "$SRC" rm -q mm/dmapool_test.c
printf 'int main(void) { return 0; }\n' > "$SRC/tools/testing/selftests/mm/rt_test.c"
want=$(snapshot)
"$HARNESS/export.sh" || fail "export.sh"
for f in mm/madvise.c.patch mm/rt_new.c mm/dmapool_test.c.patch \
	 tools/testing/selftests/mm/rt_test.c; do
	[ -f "$OVERLAY/$f" ] || fail "export did not write $f"
done
[ "$(cd "$OVERLAY" && find . -type f | wc -l)" -eq 4 ] || fail "export wrote extra files: $(cd "$OVERLAY" && find . -type f)"
cp -a "$OVERLAY" "$tmp/overlay1"

# Back to a bare base tree, then apply the exported overlay.
git -C "$SRC" checkout -q --detach base
git -C "$SRC" reset -q --hard base
git -C "$SRC" clean -q -fd
rm -f "$(git -C "$SRC" rev-parse --path-format=absolute --git-path pt-overlay)"
"$HARNESS/base.sh" 2>"$tmp/err" || { cat "$tmp/err"; fail "base.sh on the exported overlay"; }
[ "$(snapshot)" = "$want" ] || fail "tree -> export -> tree changed the tree"
"$HARNESS/export.sh" 2>/dev/null || fail "second export.sh"
diff -r "$tmp/overlay1" "$OVERLAY" >&2 || fail "exporting twice gave different overlays"

# 2. A base version that is not the tree's is reported. (And a patched
# file that the new overlay leaves as it was keeps its mtime: no rebuild.)
sed 's/^KERNEL_VERSION=.*/KERNEL_VERSION=6.12.1/' "$TOP/BASE" > "$tmp/BASE"
echo "/* changed overlay */" >> "$OVERLAY/mm/rt_new.c"
touch -m -d @1000000000 "$SRC/mm/madvise.c"
BASE_FILE=$tmp/BASE "$HARNESS/base.sh" 2>"$tmp/err" || { cat "$tmp/err"; fail "base.sh with another base version"; }
[ "$(stat -c %Y "$SRC/mm/madvise.c")" = 1000000000 ] ||
	fail "re-applying the overlay touched mm/madvise.c, which it did not change"
grep -q "changed overlay" "$SRC/mm/rt_new.c" || fail "the changed overlay file was not applied"
show
grep -q "the overlay was made against 6.12.1" "$tmp/err" ||
	{ cat "$tmp/err"; fail "no message about the base version"; }

# 3. A patch whose context does not match names the file and the hunk.
awk '/^@@/ { hunk = 1 } hunk && /^ / && !done { $0 = " a context line that is not there"; done = 1 } 1' \
	"$tmp/overlay1/mm/madvise.c.patch" > "$OVERLAY/mm/madvise.c.patch"
if "$HARNESS/base.sh" 2>"$tmp/err"; then
	fail "base.sh applied a patch whose context does not match"
fi
show
grep -q "mm/madvise.c.patch does not apply" "$tmp/err" &&
	grep -q "patch failed: mm/madvise.c:[0-9]" "$tmp/err" ||
	{ cat "$tmp/err"; fail "the failure does not name the patch and its hunk"; }
cp "$tmp/overlay1/mm/madvise.c.patch" "$OVERLAY/mm/madvise.c.patch"
"$HARNESS/base.sh" 2>"$tmp/err" || { cat "$tmp/err"; fail "base.sh after the patch was fixed"; }

# 4. Edits not exported are kept, and a changed overlay is then refused.
echo "/* not exported */" >> "$SRC/mm/rt_new.c"
"$HARNESS/base.sh" 2>"$tmp/err" || { cat "$tmp/err"; fail "base.sh with edits"; }
grep -q "not exported" "$SRC/mm/rt_new.c" || fail "base.sh dropped an edit"
echo "/* overlay moved on */" >> "$OVERLAY/mm/rt_new.c"
if "$HARNESS/base.sh" 2>"$tmp/err"; then
	fail "base.sh went on with both unexported edits and a changed overlay"
fi
grep -q "not exported" "$SRC/mm/rt_new.c" || fail "base.sh dropped an edit"
show
grep -q "make export" "$tmp/err" || { cat "$tmp/err"; fail "the refusal does not say what to do"; }

# 5. A tarball that is not the one BASE names for its version (sha256)
# stops the unpacking, naming both sums (also when dpkg knows no version);
# BASE's own is the installed one.
mkdir -p "$tmp/tb/linux" "$tmp/b5"
echo "VERSION = 6" > "$tmp/tb/linux/Makefile"
tar -C "$tmp/tb" -cJf "$tmp/fake.tar.xz" linux
# shellcheck source=/dev/null
. "$TOP/BASE"
have=$(dpkg-query -W -f='${Version}' "$PACKAGE" 2>/dev/null || true)
[ -z "$have" ] || [ "$have" != "$DEB_VERSION" ] ||
	[ "$(sha256sum < "$TARBALL" | cut -d' ' -f1)" = "$TARBALL_SHA256" ] ||
	fail "BASE's TARBALL_SHA256 is not the sha256 of the installed $TARBALL ($DEB_VERSION)"
sed -e "s@^TARBALL=.*@TARBALL=$tmp/fake.tar.xz@" -e "s@^DEB_VERSION=.*@DEB_VERSION=${have:-$DEB_VERSION}@" \
	"$TOP/BASE" > "$tmp/BASE5"
if BASE_FILE=$tmp/BASE5 BUILD=$tmp/b5 SRC=$tmp/b5/src "$HARNESS/base.sh" 2>"$tmp/err"; then
	fail "base.sh unpacked a tarball whose sha256 is not BASE's"
fi
show
grep -q "BASE says $TARBALL_SHA256" "$tmp/err" || { cat "$tmp/err"; fail "the refusal does not name the sums"; }
echo "$me: round trip lossless; version, hunk, unexported-edit and tarball-sum messages seen"
