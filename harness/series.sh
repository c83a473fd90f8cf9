#!/bin/bash
# usage: harness/series.sh
#
# Make the patch series from the overlay, as series/map says: each patch
# committed in turn on tag "base" in the worktree build/series/src, then
# git format-patch with the cover letter (series/cover-letter.txt) into
# build/series/out. The final state of every file is the one the overlay
# gives (the commit base.sh made, not build/src's working tree, which may
# hold unexported edits); intermediate states are the final one less the
# lines later patches claim. Dates are those of this repository's HEAD
# commit, so the same repository gives the same series, byte for byte.
# Fails, naming the map line, when the map does not cover the overlay or a
# block does not match; and when the last patch does not leave the tree
# exactly as the overlay does. The man-pages change (man-pages/,
# harness/man.sh) is formatted into build/series/out/man-pages.
. "$(dirname "$0")/lib.sh"

map=$TOP/series/map
cover=$TOP/series/cover-letter.txt
out=$BUILD/series/out
wt=$BUILD/series/src
[ -f "$map" ] || die "$map not found"
[ -f "$cover" ] || die "$cover not found"
[ -e "$SRC/.git" ] || die "no kernel tree in $SRC; run 'make base'"

# The overlay's commit, checked to be the overlay as it is now.
state=$(overlay_state)
read -r final final_hash 2>/dev/null < "$state" ||
	die "$SRC has no applied overlay; run 'make base'"
[ "$final_hash" = "$(overlay_hash)" ] ||
	die "the overlay changed since it was applied to $SRC; run 'make base' (or 'make export' first to keep edits made there)"

# --- read the map ---
# patches: names in order; per patch: subject, and entries "PATH<TAB>BLOCK"
# (BLOCK empty for a plain entry) in entries_NAME.
patches=()
declare -A subject entries lineno
n=0
cur=
while IFS= read -r line || [ -n "$line" ]; do
	n=$((n + 1))
	case $line in
	'#'* | '') continue ;;
	'author: '*) ;;	# series_identity reads it
	'patch '*)
		cur=${line#patch }
		[ -f "$TOP/series/$cur.msg" ] || die "series/map:$n: series/$cur.msg not found"
		[ -z "${subject[$cur]+x}" ] || die "series/map:$n: patch $cur given twice"
		patches+=("$cur")
		subject[$cur]=
		entries[$cur]=
		;;
	'subject: '*)
		[ -n "$cur" ] || die "series/map:$n: subject before any patch"
		subject[$cur]=${line#subject: }
		;;
	*)
		[ -n "$cur" ] || die "series/map:$n: file before any patch"
		path=${line%% *}
		block=
		[ "$path" = "$line" ] || block=${line#* }
		entries[$cur]+="$path"$'\t'"$block"$'\n'
		lineno["$cur $path $block"]=$n
		;;
	esac
done < "$map"
[ ${#patches[@]} -gt 0 ] || die "series/map: no patch"
for p in "${patches[@]}"; do
	[ -n "${subject[$p]}" ] || die "series/map: patch $p has no subject"
	[ -n "${entries[$p]}" ] || die "series/map: patch $p has no file"
done

# Every file the overlay changes, and no other, is in the map; a file's
# plain entry is its first.
changed=$(git -C "$SRC" diff --name-only base "$final")
declare -A seen
for p in "${patches[@]}"; do
	while IFS=$'\t' read -r path block; do
		[ -n "$path" ] || continue
		printf '%s\n' "$changed" | grep -qxF "$path" ||
			die "series/map:${lineno["$p $path $block"]}: $path is not changed by the overlay"
		if [ -z "${seen[$path]+x}" ] && [ -n "$block" ]; then
			die "series/map:${lineno["$p $path $block"]}: the first entry of $path must be plain (the rest of its change)"
		fi
		if [ -n "${seen[$path]+x}" ] && [ -z "$block" ]; then
			die "series/map:${lineno["$p $path $block"]}: $path has a plain entry already (patch ${seen[$path]})"
		fi
		[ -n "${seen[$path]+x}" ] || seen[$path]=$p
	done <<< "${entries[$p]}"
done
while IFS= read -r f; do
	[ -n "${seen[$f]+x}" ] || die "series/map: $f is changed by the overlay but in no patch; add it"
done <<< "$changed"

# strip FILE BLOCK...: FILE less the lines of each BLOCK ("/START/,/END/",
# "/START/,$" or "/LINE/"); a block that matches nothing or is ambiguous
# fails.
strip() {
	local file=$1
	shift
	awk -v blocks="$(printf '%s\n' "$@")" -f "$HARNESS/series-strip.awk" "$file"
}

# --- commit the patches ---
info "making the series in $wt"
mkdir -p "$BUILD/series"
if [ ! -e "$wt/.git" ]; then
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$wt" base ||
		die "cannot make the worktree $wt"
fi
g() {
	git -C "$wt" -c core.autocrlf=false "$@"
}
g checkout -q --detach base
g reset -q --hard base
g clean -q -fdx
series_identity
tmpf=$(mktemp)
trap 'rm -f "$tmpf"' EXIT
for i in "${!patches[@]}"; do
	p=${patches[$i]}
	while IFS=$'\t' read -r path block; do
		[ -n "$path" ] || continue
		# The blocks of this file that later patches add.
		later=()
		for q in "${patches[@]:$((i + 1))}"; do
			while IFS=$'\t' read -r qpath qblock; do
				[ "$qpath" = "$path" ] && later+=("$qblock")
			done <<< "${entries[$q]}"
		done
		mkdir -p "$wt/$(dirname "$path")"
		git -C "$SRC" show "$final:$path" > "$tmpf"
		if [ ${#later[@]} -gt 0 ]; then
			strip "$tmpf" "${later[@]}" > "$wt/$path" ||
				die "series/map: $path: a block of a later patch (${later[*]}) does not match the overlay's $path"
		else
			cp "$tmpf" "$wt/$path"
		fi
		# Keep the mode (run_vmtests.sh is executable).
		mode=$(git -C "$SRC" ls-tree "$final" -- "$path" | cut -d' ' -f1)
		[ "$mode" = 100755 ] && chmod +x "$wt/$path"
		g add -f -- "$path"
	done <<< "${entries[$p]}"
	g diff --cached --quiet &&
		die "series/map: patch $p changes nothing"
	{
		printf '%s\n\n' "${subject[$p]}"
		cat "$TOP/series/$p.msg"
		printf '\nSigned-off-by: %s\n' "$SERIES_AUTHOR"
	} | g commit -q -F - || die "cannot commit patch $p"
done

# The series ends where the overlay is.
if ! g diff --quiet HEAD "$final"; then
	g diff --stat HEAD "$final" >&2
	die "the series does not end at the overlay's tree (above: what differs); fix series/map"
fi

# --- format ---
rm -rf "$out"
g format-patch -q --cover-letter --no-signature -o "$out" base..HEAD ||
	die "git format-patch failed"
letter=$(ls "$out"/0000-*.patch)
csubject=$(head -n 1 "$cover")
awk -v subj="$csubject" -v blurb="$cover" '
	/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subj) }
	/^\*\*\* BLURB HERE \*\*\*$/ {
		getline l < blurb	# the subject line
		getline l < blurb	# the blank line after it
		while ((getline l < blurb) > 0)
			print l
		next
	}
	{ print }' "$letter" > "$tmpf" && cat "$tmpf" > "$letter"
grep -q '\*\*\*' "$letter" && die "$letter: the cover letter template was not filled"

# The man-pages change: a mail of its own, for the man-pages project.
"$HARNESS/man.sh" "$BUILD/series/man-pages"
git -C "$BUILD/series/man-pages" format-patch -q --no-signature --subject-prefix="RFC PATCH" \
	-o "$out/man-pages" base..HEAD || die "git format-patch of the man-pages change failed"

info "$((${#patches[@]})) patches and the cover letter in $out, the man-pages patch in $out/man-pages:"
ls "$out" "$out/man-pages" >&2
