#!/bin/bash
# usage: harness/base.sh
#
# Make $SRC (build/src) the base kernel plus this repository's overlay.
#
# The tarball named in BASE is unpacked once into a git repository whose
# first commit, tagged "base", is the pristine tree. The overlay is then
# applied on top and committed; its hash is recorded so that an unchanged
# overlay is not applied again (and nothing is rebuilt).
#
# Overlay rules: a file F.patch is a diff against the base applied to F
# (no fuzz: context must match, offsets are allowed); any other file is
# new and is copied. A tree with edits that were not exported (see
# harness/export.sh) is left alone and reported, never overwritten.
. "$(dirname "$0")/lib.sh"

read_base
need_cmd git git
need_cmd xz xz-utils

[ -f "$TARBALL" ] ||
	die "$TARBALL not found; run 'make install' (package $PACKAGE)"

installed=$(dpkg-query -W -f='${Version}' "$PACKAGE" 2>/dev/null || true)
if [ -n "$installed" ] && [ "$installed" != "$DEB_VERSION" ]; then
	warn "installed $PACKAGE is $installed, the overlay was made against $DEB_VERSION (BASE); patches may not apply"
fi

git_src() {
	git -C "$SRC" -c user.name=harness -c user.email=harness@localhost \
		-c core.autocrlf=false "$@"
}

# Unpack the tarball into a fresh git repository, once per tarball.
unpack() {
	local stamp=$BUILD/src.tarball
	local sum
	sum=$(stat -c '%s %Y' "$TARBALL")
	if [ -e "$SRC/.git" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
		return 0
	fi
	if [ -e "$SRC/.git" ] && [ -f "$stamp" ]; then
		info "$TARBALL changed since $SRC was unpacked; unpacking again"
	fi
	# The tarball BASE names, byte for byte (TARBALL_SHA256): a tarball
	# of the same Debian version that differs is damaged or not Debian's.
	local have
	have=$(sha256sum < "$TARBALL" | cut -d' ' -f1)
	if [ "$have" != "$TARBALL_SHA256" ]; then
		[ -n "$installed" ] ||
			die "$TARBALL has sha256 $have, BASE says $TARBALL_SHA256, and dpkg knows no $PACKAGE to tell its version; install it (apt-get install $PACKAGE)"
		[ "$installed" != "$DEB_VERSION" ] ||
			die "$TARBALL ($PACKAGE $installed) has sha256 $have, BASE says $TARBALL_SHA256 for that version; reinstall it (apt-get install --reinstall $PACKAGE)"
		warn "$TARBALL is $PACKAGE $installed, not BASE's $DEB_VERSION (sha256 $have); see BASE for how to move the overlay to it"
	fi
	info "unpacking $TARBALL into $SRC (once; about a minute)"
	rm -rf "$SRC" "$stamp"
	mkdir -p "$SRC"
	tar -C "$SRC" --strip-components=1 -xf "$TARBALL"
	# Debian's .gitignore ends by ignoring everything at the top level
	# ("/*"), which would hide new files from 'make export'. Drop that
	# block; nothing else of the tarball is changed.
	sed -i '/^# Debian packaging/,$d' "$SRC/.gitignore"
	git_src init -q
	# No automatic gc: the commit below leaves ~90000 loose objects,
	# which would start a repack of the whole tree in the background
	# (95 CPU-seconds on this machine, 2026-12-05, taken from the first
	# kernel build of make check).
	git_src config gc.auto 0
	git_src add -A -f
	git_src commit -q -m "base: $PACKAGE $installed"
	git_src tag -f base >/dev/null
	echo "$sum" > "$stamp"
}

# The kernel version of the unpacked tree, from its Makefile.
tree_version() {
	awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} /^SUBLEVEL =/{s=$3}
	     END{print v "." p "." s}' "$SRC/Makefile"
}

# Apply every overlay file to the tree, which is at "base".
apply_overlay() {
	local f target out
	overlay_files | while IFS= read -r f; do
		case $f in
		*.patch)
			target=${f%.patch}
			# A patch may only touch the file it is named after.
			out=$(git_src apply --numstat "$OVERLAY/$f" 2>&1) ||
				die "$f: not a valid patch: $out"
			if [ "$(printf '%s\n' "$out" | cut -f3)" != "$target" ]; then
				die "$f: must change only $target, but changes: $(printf '%s\n' "$out" | cut -f3 | tr '\n' ' ')"
			fi
			if ! out=$(git_src apply --whitespace=nowarn "$OVERLAY/$f" 2>&1); then
				# patch(1) names the hunks by number.
				hunks=$(patch -d "$SRC" -p1 --dry-run --fuzz=0 \
					<"$OVERLAY/$f" 2>&1 | grep -i 'hunk.*failed' || true)
				die "$f does not apply to $KVER$since:
$out${hunks:+
$hunks}
fix: 'make tree', rebase the change in $SRC by hand, 'make export'"
			fi
			;;
		*)
			if git_src cat-file -e "base:$f" 2>/dev/null; then
				die "$f: overlay file replaces a file of the base tree; store it as $f.patch ('make export' does)"
			fi
			mkdir -p "$SRC/$(dirname "$f")"
			cp "$OVERLAY/$f" "$SRC/$f"
			git_src add -f -- "$f"
			;;
		esac
	done
}

unpack
KVER=$(tree_version)
since=
if [ "$KVER" != "$KERNEL_VERSION" ]; then
	since=" (the overlay was made against $KERNEL_VERSION)"
	warn "base tree is $KVER, the overlay was made against $KERNEL_VERSION (BASE)"
fi

state=$(overlay_state)
want=$(overlay_hash)
read -r applied_commit applied_hash 2>/dev/null < "$state" || true

if [ -n "${applied_commit:-}" ]; then
	edits=$(git_src status --porcelain=v1 --untracked-files=all)
	if [ -n "$edits" ] || [ "$(git_src rev-parse HEAD)" != "$applied_commit" ]; then
		if [ "$applied_hash" != "$want" ]; then
			die "$SRC has edits that are not exported and the overlay changed since it was applied; run 'make export' (keeps the edits, overwrites the overlay) or 'git -C $SRC stash' first"
		fi
		info "$SRC has edits not exported yet (run 'make export' to keep them):"
		printf '%s\n' "$edits" | head -20 >&2
		exit 0
	fi
	[ "$applied_hash" = "$want" ] && exit 0
fi

info "applying the overlay from $OVERLAY to $SRC"
# Files the applied overlay changed, with their content and mtime: those
# that come out the same get their mtime back, so that make rebuilds only
# what the new overlay really changed.
kept=$(mktemp)
trap 'rm -f "$kept"' EXIT
if [ -n "${applied_commit:-}" ]; then
	git_src diff --name-only base "$applied_commit" | while IFS= read -r f; do
		[ -f "$SRC/$f" ] || continue
		printf '%s\t%s\t%s\n' "$(git_src rev-parse "$applied_commit:$f")" \
			"$(stat -c %Y "$SRC/$f")" "$f"
	done > "$kept"
fi
git_src checkout -q --detach base
git_src reset -q --hard base
git_src clean -q -fd
apply_overlay
while IFS=$'\t' read -r blob mtime f; do
	[ -f "$SRC/$f" ] && [ "$(git_src hash-object "$SRC/$f")" = "$blob" ] &&
		touch -m -d "@$mtime" "$SRC/$f"
done < "$kept"
git_src add -A
git_src commit -q --allow-empty -m "overlay $want"
echo "$(git_src rev-parse HEAD) $want" > "$state"
