#!/bin/bash
# usage: harness/export.sh
#
# Write the changes of $SRC (build/src) against the base back into the
# overlay: a file new in the tree is copied whole to its path; a changed
# or deleted base file becomes <path>.patch (git diff against tag
# "base"); overlay files whose change is gone from the tree are removed.
# Committed and uncommitted edits and untracked files are all exported;
# then the tree's state is committed in $SRC as the new "overlay" commit,
# so that 'make build' and 'make check' take it as up to date. Nothing is
# lost: earlier commits stay in $SRC's history. Then, in the repository:
# git status, git diff.
. "$(dirname "$0")/lib.sh"

[ -e "$SRC/.git" ] || die "$SRC is not a tree; run 'make tree' first"
git_src() {
	git -C "$SRC" "$@"
}

state=$(overlay_state)
[ -f "$state" ] || die "$SRC has no overlay applied; run 'make tree' first"

# Stage the whole work tree in a private index: the user's index and
# HEAD stay as they are.
index=$(mktemp)
trap 'rm -f "$index"' EXIT
export GIT_INDEX_FILE=$index
git_src read-tree HEAD
git_src add -A

changed=$(git_src diff --cached --no-renames --name-status base)
[ -n "$changed" ] || warn "$SRC does not differ from the base"

# Every path the overlay should have, as "overlay-file" lines.
want=$(mktemp)
trap 'rm -f "$index" "$want"' EXIT
printf '%s\n' "$changed" | while IFS=$'\t' read -r status path; do
	[ -n "$path" ] || continue
	case $status in
	A)
		mkdir -p "$OVERLAY/$(dirname "$path")"
		cp "$SRC/$path" "$OVERLAY/$path"
		echo "$path"
		;;
	M|D|T)
		mkdir -p "$OVERLAY/$(dirname "$path")"
		# --abbrev: the index line's abbreviation fixed (git's default
		# grows with the object count: a fresh unpack and an old tree
		# would write the same change differently)
		git_src diff --cached --no-renames --no-color --no-ext-diff \
			--abbrev=9 base -- "$path" > "$OVERLAY/$path.patch"
		echo "$path.patch"
		;;
	*)
		die "$path: unexpected change '$status' in $SRC"
		;;
	esac
done > "$want"

# Drop overlay files that no longer stand for a change in the tree.
overlay_files | while IFS= read -r f; do
	if ! grep -qxF -- "$f" "$want"; then
		info "removing $f: the tree no longer has this change"
		rm -f "$OVERLAY/$f"
		rmdir -p "$(dirname "$OVERLAY/$f")" 2>/dev/null || true
	fi
done

unset GIT_INDEX_FILE
git_src add -A
git_src -c user.name=harness -c user.email=harness@localhost \
	commit -q --allow-empty -m "overlay (exported)"
echo "$(git_src rev-parse HEAD) $(overlay_hash)" > "$state"
info "exported $(wc -l < "$want") files to $OVERLAY"
