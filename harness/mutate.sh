#!/bin/bash
# usage: harness/mutate.sh [VARIANT...]
#
# The mutation suite: each harness/mutate/VARIANT.patch breaks the
# feature on purpose (a re-check taken out, a table freed too early);
# the feature's tests must catch it. For each variant: the patch is
# applied to a scratch copy of the tree (build/mutate/src, a git
# worktree of build/src at the commit that holds the overlay), the
# kernel of the variant's arch is built from it into
# build/mutate/ARCH/kernel with the test kernel's .config (paths laid out
# as build/src and build/ARCH/kernel are, so that ccache hits all but the
# changed files), booted with the variant's test lists, and judged by
# harness/verdict.sh: a variant is caught when anything failed (a test
# case, a kernel report, a KUnit suite at boot); the catchers are named.
# Before the first variant of an arch, its control: the tree unmutated,
# built the same way and booted with every list and Run: line of the
# arch's variants, must pass (else the arch's variants are
# not run: a test failing there would catch anything).
#
# A variant's header (the lines before its diff):
#   What: what the variant breaks, one line
#   Arch: the harness/arch conf whose kernel it builds (default x86_64)
#   Lists: harness/selftests/*.tests to run (default pt_reclaim)
#   Run: an init.tests line to run after the lists (any number)
#   Uncatchable: why no test under QEMU TCG can see it (then not being
#     caught is its expected outcome, and being caught is reported too)
#   Quick: with MUTATE_QUICK=1, the only runs to keep (init's run
#     names, "pt_reclaim": the selftest without the torture run and the
#     rest), a variant those runs catch; make check's variant has it
#
# A variant that does not apply, does not build, or is not caught (and
# is not marked Uncatchable) fails the command. Prints a line per
# variant (also as KTAP: build/ktap/mutate.ktap, harness/lib-results.sh
# ktap_start), writes the table to results/mutate/results.md (the
# variants run now replace their rows) and, last, "N passed, N failed". Builds
# the test kernel and selftests of each arch named first (harness/build.sh,
# harness/selftests.sh), for the .config and the test programs.
# The first variant of an arch in a run starts from a copy of the test
# kernel's build (harness/lib-kbuild.sh kbuild_copy), when build/src is at its
# overlay commit (else from what build/mutate/ARCH/kernel holds, through
# ccache): then each variant compiles only the files it changes, and its
# time is mostly the guest's, about 3 minutes.
# MUTATE_QUICK=1 (harness/check.sh, which runs one variant): no control
# run (make check has just run the arch's lists on the unmutated kernel,
# and failed if they failed) and no rows written to results/.
. "$(dirname "$0")/lib.sh"

dir=$HARNESS/mutate
if [ $# -gt 0 ]; then
	variants=$*
else
	variants=$(cd "$dir" && ls -- *.patch | sed 's/\.patch$//')
fi
for v in $variants; do
	[ -f "$dir/$v.patch" ] ||
		die "unknown variant '$v'; known: $(cd "$dir" && ls -- *.patch | sed 's/\.patch$//' | tr '\n' ' ')"
done

# The commit of build/src that holds the overlay (harness/base.sh).
read -r commit hash < "$(overlay_state)" 2>/dev/null ||
	die "$SRC holds no applied overlay; run 'make tree'"
[ "$hash" = "$(overlay_hash)" ] ||
	die "$SRC's applied overlay is not the overlay's current state; run 'make tree'"
mut=$BUILD/mutate
wt=$mut/src
mkdir -p "$mut"
# A worktree of another $SRC (make base unpacked it again) goes.
if [ -d "$wt" ] && [ "$(git -C "$wt" rev-parse --git-common-dir 2>/dev/null)" != \
	"$(git -C "$SRC" rev-parse --absolute-git-dir)" ]; then
	rm -rf "$wt"
fi
if [ ! -d "$wt" ]; then
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$wt" "$commit" ||
		die "cannot make the worktree $wt"
fi
# restore: the worktree back at the overlay's commit, nothing else in it
# (also after a run stopped with a variant applied).
restore() {
	git -C "$wt" checkout -q -f --detach "$commit" &&
		git -C "$wt" clean -q -fdx
}
restore || die "cannot reset $wt to $commit"

# header FILE KEY: the values of KEY's lines in FILE's header.
header() {
	sed -n '/^--- /q; s/^'"$2"': *//p' "$1"
}

res=$TOP/results/mutate
mkdir -p "$res"
tcommit=$(tree_commit)
# The work: before the first variant of each arch, its control: the
# unmutated tree, built and booted the same way, which must pass (a test
# that fails there would "catch" every variant).
# The control runs every list and Run: line its arch's variants run.
work='' seen=''
declare -A clists cruns
for v in $variants; do
	arch=$(header "$dir/$v.patch" Arch | head -n 1)
	arch=${arch:-x86_64}
	case " $seen " in
	*" $arch "*) ;;
	*)
		[ "${MUTATE_QUICK:-0}" = 1 ] || work="$work control-$arch"
		seen="$seen $arch"
		;;
	esac
	work="$work $v"
	l=$(header "$dir/$v.patch" Lists | head -n 1)
	for l in ${l:-pt_reclaim}; do
		case " ${clists[$arch]:-} " in *" $l "*) ;; *) clists[$arch]="${clists[$arch]:-} $l" ;; esac
	done
	r=$(header "$dir/$v.patch" Run)
	[ -z "$r" ] || cruns[$arch]="${cruns[$arch]:-}$r"$'\n'
done

pass=0 fail=0 rows='' built='' bad_control=''
ktap_start mutate
for v in $work; do
	s=$(date +%s)
	case $v in
	control-*)
		p=/dev/null arch=${v#control-} why=''
		lists=${clists[$arch]# }
		what="nothing: the tree as it is, built and booted as the variants are (it must pass)"
		;;
	*)
		p=$dir/$v.patch
		what=$(header "$p" What | head -n 1)
		arch=$(header "$p" Arch | head -n 1)
		arch=${arch:-x86_64}
		lists=$(header "$p" Lists | head -n 1)
		lists=${lists:-pt_reclaim}
		why=$(header "$p" Uncatchable | head -n 1)
		[ -n "$what" ] || die "$p: no 'What:' line"
		;;
	esac
	load_arch "$arch"
	[ -z "$KERNEL_OF" ] || die "$p: Arch: $arch boots another conf's kernel ($KERNEL_OF); name that one"
	mkb=$mut/$arch/kernel
	# The test kernel (its .config) and the selftests, built once a run.
	# Then the arch's build directory here starts as a copy of the test
	# kernel's, when that was built from the very tree the worktree holds
	# (nothing changed in $SRC since its overlay commit), so that only
	# what a variant changes is compiled (else, in a new build directory,
	# every object once more from ccache: minutes). A file a variant of
	# another arch left changed in the worktree is rewritten by restore
	# below, after the copy, so kbuild remakes it; later variants of the
	# arch build on in the directory the same way.
	case " $built " in
	*" $arch "*) ;;
	*)
		kernel_and_selftests "$arch" >"$mut/$arch-build.log" 2>&1 ||
			die "$arch: the test kernel or its selftests do not build; see $mut/$arch-build.log"
		built="$built $arch"
		if [ "$(git -C "$SRC" rev-parse HEAD)" = "$commit" ] &&
			[ -z "$(git -C "$SRC" status --porcelain)" ]; then
			info "$v: copying the $arch test kernel's build to $mkb"
			kbuild_copy "$KBUILD" "$mkb" "$SRC" "$wt" ||
				die "cannot copy $KBUILD to $mkb for $wt"
		fi
		;;
	esac
	vdir=$mut/$v
	rm -rf "$vdir"
	mkdir -p "$vdir"
	outcome='' catchers=''
	case " $bad_control " in
	*" $arch "*)
		outcome=failed catchers="not run: the unmutated $arch kernel failed (control-$arch)"
		;;
	esac
	restore || die "cannot reset $wt to $commit"
	if [ -z "$outcome" ] && ! patch -s -p1 -d "$wt" --forward --fuzz=0 --no-backup-if-mismatch <"$p" \
		>"$vdir/patch.log" 2>&1; then
		outcome=failed catchers="does not apply to the tree (log: $vdir/patch.log); regenerate it from a worktree edit with git diff"
	fi
	if [ -z "$outcome" ]; then
		mkdir -p "$mkb"
		cmp -s "$KBUILD/.config" "$mkb/.config" || cp "$KBUILD/.config" "$mkb/.config"
		info "$v: building the $arch kernel (log: $vdir/build.log)"
		if ! (SRC=$wt KBUILD=$mkb; kmake olddefconfig && kmake -j"$(nproc)") \
			>"$vdir/build.log" 2>&1 || [ ! -f "$mkb/$KERNEL_IMAGE" ]; then
			tail -n 20 "$vdir/build.log" >&2
			outcome=failed catchers="does not build (log: $vdir/build.log)"
		fi
	fi
	if [ -z "$outcome" ]; then
		quick=
		[ "${MUTATE_QUICK:-0}" != 1 ] || [ "$p" = /dev/null ] || quick=$(header "$p" Quick | head -n 1)
		{
			# shellcheck disable=SC2086 # lists: a list a word
			init_tests "$arch" $lists
			if [ "$p" = /dev/null ]; then
				printf '%s' "${cruns[$arch]:-}"
			else
				header "$p" Run
			fi
		} > "$vdir/init.tests"
		if [ -n "$quick" ]; then
			# MUTATE_QUICK=1 and a "Quick:" header: only the runs
			# it names (init's "run NAME ..." and "runas UID NAME
			# ..." lines; the other directives kept).
			awk -v keep=" $quick " '
				$1 == "run" && !index(keep, " " $2 " ") { next }
				$1 == "runas" && !index(keep, " " $3 " ") { next }
				{ print }' "$vdir/init.tests" > "$vdir/init.tests.quick"
			mv "$vdir/init.tests.quick" "$vdir/init.tests"
			grep -qE '^(run|runas) ' "$vdir/init.tests" || die "$v: no run left in $vdir/init.tests (Quick: $quick)"
		fi
		"$HARNESS/initramfs.sh" "$arch" "$vdir/initramfs.cpio.gz" "$vdir/init.tests" \
			"/t=$BUILD/$arch/selftests"
		info "$v: booting it with $lists${quick:+ (runs: $quick)} (console: $vdir/console.log)"
		KERNEL=$mkb/$KERNEL_IMAGE "$HARNESS/boot.sh" "$arch" "$vdir/initramfs.cpio.gz" \
			"$vdir/console.log" 1800 > "$vdir/progress.log" 2>&1 || true
		# shellcheck disable=SC2086 # KUNIT_SUITES: a suite a word
		VMLINUX=$mkb/vmlinux "$HARNESS/verdict.sh" "$v" "$vdir/console.log" $KUNIT_SUITES \
			> "$vdir/verdict.log" 2>&1 || true
		# The catchers: the failed cases (KTAP "not ok", as "run: case"
		# for a run's failed subtests), and what verdict.sh said failed
		# beyond the cases.
		catchers=$({
			awk '
			function desc(l) { sub(/^ *not ok [0-9]+ /, "", l); sub(/ #.*/, "", l); return l }
			/^ +not ok [0-9]+ / { c[n++] = desc($0); next }
			/^not ok [0-9]+ / {
				r = desc($0)
				if (!n) print r
				for (i = 0; i < n; i++) print r ": " c[i]
				n = 0; next
			}
			/^ok [0-9]+ / { n = 0 }
			' "$vdir/console.log"
			# A kernel report: its first line, which follows.
			awk '/kernel report in/ {
				while ((getline) > 0 && /cut here/)
					;
				print "kernel: " $0; next
			}
			/KUnit at boot|did not finish|no results|init reports/ { sub(/^[^:]*: /, ""); print }' \
				"$vdir/verdict.log" | cut -c1-100
		} | awk '!seen[$0]++ { n++; if (n <= 5) print } END { if (n > 5) print "and " n - 5 " more" }' |
			paste -sd';' | sed 's/;/; /g')
		read -r _ _ f _ <<<"$(grep '^verdict ' "$vdir/verdict.log" | tail -n 1)"
		if [ "$p" = /dev/null ]; then
			if [ "${f:-1}" = 0 ]; then
				outcome=passed catchers="-"
			else
				outcome=failed catchers="the unmutated kernel fails: $catchers"
				bad_control="$bad_control $arch"
			fi
		elif [ "${f:-1}" != 0 ]; then
			outcome=caught
			[ -n "$catchers" ] || catchers="see $vdir/verdict.log"
		elif [ -n "$why" ]; then
			outcome="not caught (uncatchable under TCG)"
			catchers=$why
		else
			outcome=failed catchers="NOT CAUGHT: every test passed (console: $vdir/console.log)"
		fi
	fi
	mins=$(( ($(date +%s) - s + 30) / 60 ))
	if [ "$outcome" = failed ]; then
		echo "FAILED: $v ($arch): $catchers"
		ktap_add fail "$v ($arch): $catchers"
		fail=$((fail + 1))
	else
		echo "ok: $v ($arch): $outcome: $catchers"
		ktap_add ok "$v ($arch): $outcome: $catchers"
		pass=$((pass + 1))
	fi
	rows+="| $v | $arch | $what | $outcome | $catchers | $tcommit | $(date -u +%Y-%m-%d) | $mins |"$'\n'
done
restore || warn "cannot reset $wt to $commit"
ktap_write > /dev/null

if [ "${MUTATE_QUICK:-0}" = 1 ]; then
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
kver=$(make -s -C "$SRC" kernelversion 2>/dev/null || echo unknown)
# The variants run now replace their rows; the others' stay.
results_table "$res/results.md" \
	"| variant | arch | what it breaks | outcome | caught by | commit | date | minutes |" \
	"$work" "$rows" <<EOF
# make mutate

Kernel $kver; made by harness/mutate.sh; each row from the commit and the
date (UTC) it names. A variant is harness/mutate/NAME.patch (its header
says what it breaks); "caught by" names the failed cases and kernel
reports of the run, or why nothing under QEMU TCG can catch it.
EOF
info "table: $res/results.md"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
