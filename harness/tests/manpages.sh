#!/bin/bash
# The madvise(2) and process_madvise(2) text for MADV_PT_RECLAIM
# (man-pages/): it applies to the man-pages release it is made against
# (harness/man.sh), passes the man-pages project's own lints (mandoc
# -Tlint, groff -ww with CHECKSTYLE) with nothing to say, and man renders
# it with the paragraphs in place. What the text says about the kernel
# (the release, the architectures) is checked against the overlay.
. "$(dirname "$0")/../lib.sh"

need_cmd man man-db
need_cmd mandoc mandoc
need_cmd groff groff-base
scratch_dir
"$HARNESS/man.sh" "$tmp/mp" 2>"$tmp/err" || fail "harness/man.sh: $(cat "$tmp/err")"
cd "$tmp/mp" || fail "no $tmp/mp"

# render PAGE: what man shows for it, 80 columns, plain text; no
# hyphenation or justification, so that phrases can be looked for.
render() {
	MANWIDTH=80 man --warnings --nh --nj -l "$1" 2>"$tmp/man.err" ||
		fail "man -l $1 failed: $(cat "$tmp/man.err")"
	[ ! -s "$tmp/man.err" ] || fail "man -l $1 warns: $(cat "$tmp/man.err")"
}
# section TEXT FROM TO: the lines of TEXT from the one starting FROM up
# to the next one starting TO (excluded).
section() {
	printf '%s\n' "$1" | awk -v from="$2" -v to="$3" '
		index($0, from) == 1 { on = 1; print; next }
		on && index($0, to) == 1 { exit }
		on'
}
# has TEXT WHAT PHRASE...: each PHRASE is in TEXT, spaces and line breaks
# as the renderer set them.
has() {
	local text=$1 what=$2 p flat
	shift 2
	flat=$(printf '%s\n' "$text" | tr -s ' \n' '  ')
	for p in "$@"; do
		case $flat in
		*"$p"*) ;;
		*) fail "$what does not say \"$p\"" ;;
		esac
	done
}

pages=$(git diff --name-only base HEAD)
[ -n "$pages" ] || fail "the man-pages commit changes nothing"
for page in $pages; do
	# The base renders without the advice: the checks below can fail.
	git show "base:$page" > "$tmp/base.page"
	render "$tmp/base.page" | grep -q MADV_PT_RECLAIM &&
		fail "$page already mentions MADV_PT_RECLAIM before the patch"
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1) ||
		fail "mandoc -Tlint: $out"
	out=$(groff -man -t -ww -z -rCHECKSTYLE=3 "$page" 2>&1)
	[ -z "$out" ] || fail "groff -ww -rCHECKSTYLE=3 $page: $out"
done

# madvise(2): the advice among the Linux-specific values, its error.
text=$(render man2/madvise.2)
desc=$(section "$text" "DESCRIPTION" "RETURN VALUE")
entry=$(section "$desc" "       MADV_PT_RECLAIM (since Linux" "       MADV_")
[ -n "$entry" ] || fail "madvise(2): no MADV_PT_RECLAIM entry in DESCRIPTION"
section "$desc" "   Linux-specific advice values" "RETURN VALUE" |
	grep -q '^       MADV_PT_RECLAIM (since' ||
	fail "madvise(2): MADV_PT_RECLAIM is not under \"Linux-specific advice values\""
[ "$(printf '%s\n' "$entry" | wc -l)" -ge 30 ] ||
	fail "madvise(2): the MADV_PT_RECLAIM entry has less than 30 lines: $entry"
# Its paragraphs are all the entry's (.IP, not .PP): indented under it.
bad=$(printf '%s\n' "$entry" | sed 1d | grep -v '^$' | grep -v '^              ' | head -n 1) || true
[ -z "$bad" ] || fail "madvise(2): a line of the MADV_PT_RECLAIM entry is not indented as its body: $bad"
has "$entry" "madvise(2) MADV_PT_RECLAIM" \
	"MADV_DONTNEED" "all keep their table" "Tables that are kept are not an error" \
	"discards nothing" "VmPTE" "CONFIG_MADV_PT_RECLAIM" "process_madvise(2)"
errors=$(section "$text" "ERRORS" "VERSIONS")
has "$errors" "madvise(2) ERRORS" \
	"EINVAL advice is MADV_PT_RECLAIM, but the kernel was not configured with CONFIG_MADV_PT_RECLAIM."

# process_madvise(2): in the list of advice values, and the 2 GiB cap.
text=$(render man2/process_madvise.2)
section "$(section "$text" "DESCRIPTION" "RETURN VALUE")" "       MADV_PT_RECLAIM (since Linux" "       MADV_WILLNEED" |
	grep -q 'See madvise(2)' ||
	fail "process_madvise(2): MADV_PT_RECLAIM is not in the advice list, before MADV_WILLNEED, with \"See madvise(2)\""
has "$(section "$text" "RETURN VALUE" "ERRORS")" "process_madvise(2) RETURN VALUE" \
	"at most 2 GiB less one page"

# What the text says of the kernel: the release of the base, and the
# architectures that select ARCH_SUPPORTS_MADV_PT_RECLAIM in the overlay.
read_base
release=${KERNEL_VERSION%.*}
has "$entry" "madvise(2) MADV_PT_RECLAIM" "MADV_PT_RECLAIM (since Linux $release)"
want=
for k in "$OVERLAY"/arch/*/Kconfig.patch; do
	grep -q '^+.*select ARCH_SUPPORTS_MADV_PT_RECLAIM' "$k" || continue
	a=$(basename "$(dirname "$k")")
	case $a in
	x86) a=x86-64 ;;	# selected by config X86_64
	esac
	want="$want$a"$'\n'
done
[ -n "$want" ] || fail "no arch/*/Kconfig.patch selects ARCH_SUPPORTS_MADV_PT_RECLAIM"
said=$(printf '%s\n' "$entry" | tr -s ' \n' '  ' |
	sed -n 's/.*architectures that support it (\([^)]*\)).*/\1/p')
said=$(printf '%s\n' "$said" | sed 's/,* and /, /g' | tr ',' '\n' | tr -d ' ' | sort | xargs)
want=$(printf '%s' "$want" | sort | xargs)
[ "$said" = "$want" ] ||
	fail "madvise(2) MADV_PT_RECLAIM names the architectures \"$said\"; the overlay enables it on \"$want\""
