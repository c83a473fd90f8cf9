#!/bin/bash
# usage: harness/matrix.sh [ENTRY...]
#
# The kernels that do not fit in make check's 45 cold minutes, each run
# as make check runs an arch (harness/check.sh with CHECK_ARCHES=ENTRY
# and CHECK_KERNELS_ONLY=1: build, selftests, boot, the arch's test
# lists, harness/verdict.sh). An entry is a harness/arch/*.conf; default
# (MATRIX): every build-only entry (below), then every conf make check
# does not run (harness/lib.sh confs_in), each by name; they are
# x86_64-debug, the x86_64 test kernel with KASAN, lockdep,
# DEBUG_VM and PAGE_TABLE_CHECK running the feature's tests;
# x86_64-kcsan, the x86_64 test kernel with KCSAN running them and a
# 2-minute torture run (15 min cold; its base-code reports against
# harness/selftests/kcsan-base.txt, harness/verdict.sh); and
# x86_64-nosplit, the same without split page-table locks (each about
# 10 min cold, 2 warm); x86_64-mm-slow, the slowest base mm selftests
# on the x86_64 test kernel (5 min); s390x-mm, the base kernel's mm
# selftests on the s390x test kernel (7 min); s390x-debug, the s390x
# test kernel with debug.config running the feature's tests; arm64-n1,
# the feature's tests on the arm64 kernel with QEMU's Neoverse N1 model
# (3 min); arm64-16k and arm64-64k, the arm64 test kernel with 16 and 64
# KiB pages running them (8 min cold each);
# x86_64-nonx, the feature's tests on the x86_64 kernel on a CPU without
# NX (the walk's flush per PMD table's worth, as on arm64; 2 min);
# x86_64-la57, the feature's tests on the x86_64 kernel with five-level
# paging, and a reclaim above 2^52 (3 min);
# x86_64-xen, the feature's tests in a Xen PV dom0 (the x86_64 kernel with
# XEN_PV, booted under Xen 4.17 by harness/boot.sh: 9 to 13 min cold, 2
# warm). An entry that is a harness/matrix/NAME.build is built only: the
# arch's defconfig with the file's CONFIG lines (each must stick) and its
# REFUSED options asked for (each must be dropped: the feature on an arch
# that does not select it), then make of its TARGETS (mm/ and the arch's
# mm code: what the series changes), and of W1 (the series' own objects)
# again with W=1, where a warning in their sources fails; default: m68k,
# sparc32, i386, xen-pv, x86_64 without the feature, without its
# MADV_DONTNEED part, without THP and without SMP, arm64's defconfig with
# 16 and 64 KiB pages (arm64-16k-defconfig, arm64-64k-defconfig) (a few
# minutes each cold). Each entry's output goes to build/matrix/ENTRY.log;
# the table (entry: passed, failed, skipped, minutes) with the commit, the
# kernel and the date to results/matrix/results.md. Prints "N passed, N
# failed" over all entries last; exits 1 when any check failed.
. "$(dirname "$0")/lib.sh"

# The default: every build-only entry, then every conf make check does
# not run.
default_entries() {
	local c a check
	check=" $(confs_in check) "
	(cd "$HARNESS/matrix" && LC_ALL=C ls -- *.build | sed 's/\.build$//')
	for c in "$HARNESS"/arch/*.conf; do
		a=$(basename "$c" .conf)
		case $check in *" $a "*) ;; *) echo "$a" ;; esac
	done
}
entries=${*:-${MATRIX:-$(default_entries | paste -sd' ')}}
for e in $entries; do
	[ -f "$HARNESS/arch/$e.conf" ] || [ -f "$HARNESS/matrix/$e.build" ] ||
		die "unknown matrix entry '$e'; known: $(cd "$HARNESS" && ls -- arch/*.conf matrix/*.build | sed 's@^[a-z]*/@@; s/\.[a-z]*$//' | tr '\n' ' ')"
done

# build_only NAME: configure and build harness/matrix/NAME.build's
# targets in build/matrix/NAME; prints "N passed, N failed" as check.sh
# does (one check).
build_only() {
	local conf=$HARNESS/matrix/$1.build c missing=
	# shellcheck disable=SC2034 # LINUX_ARCH, CROSS_COMPILE: kmake's
	unset LINUX_ARCH CROSS_COMPILE PACKAGE DEFCONFIG CONFIG TARGETS W1 REFUSED
	# shellcheck source=/dev/null
	. "$conf"
	for c in LINUX_ARCH PACKAGE DEFCONFIG TARGETS; do
		[ -n "${!c:-}" ] || die "$conf: $c is not set"
	done
	need_cmd "${CROSS_COMPILE}gcc" "$PACKAGE"
	KBUILD=$BUILD/matrix/$1
	mkdir -p "$KBUILD"
	want=$(sha256sum < "$conf")
	if [ "$(cat "$KBUILD/.stamp" 2>/dev/null)" != "$want" ]; then
		kmake "$DEFCONFIG" || { echo "FAILED: $1: make $DEFCONFIG"; echo "0 passed, 1 failed"; return; }
		for c in $CONFIG; do
			case ${c#*=} in
			y) "$SRC/scripts/config" --file "$KBUILD/.config" --enable "${c%%=*}" ;;
			n) "$SRC/scripts/config" --file "$KBUILD/.config" --disable "${c%%=*}" ;;
			*) "$SRC/scripts/config" --file "$KBUILD/.config" --set-val "${c%%=*}" "${c#*=}" ;;
			esac
		done
		for c in ${REFUSED:-}; do
			"$SRC/scripts/config" --file "$KBUILD/.config" --enable "$c"
		done
		kmake olddefconfig || { echo "FAILED: $1: make olddefconfig"; echo "0 passed, 1 failed"; return; }
		echo "$want" > "$KBUILD/.stamp"
	fi
	for c in $CONFIG; do
		case $c in
		*=n) grep -q "^${c%=n}=" "$KBUILD/.config" && missing="$missing $c" ;;
		*) grep -qx "$c" "$KBUILD/.config" || missing="$missing $c" ;;
		esac
	done
	if [ -n "$missing" ]; then
		rm -f "$KBUILD/.stamp"
		echo "FAILED: $1: did not stick in $KBUILD/.config:$missing"
		echo "0 passed, 1 failed"
		return
	fi
	for c in ${REFUSED:-}; do
		grep -q "^$c=" "$KBUILD/.config" && missing="$missing $c"
	done
	if [ -n "$missing" ]; then
		rm -f "$KBUILD/.stamp"
		echo "FAILED: $1: asked for, and kept by Kconfig, in $KBUILD/.config:$missing"
		echo "0 passed, 1 failed"
		return
	fi
	# shellcheck disable=SC2086 # TARGETS: one make target a word
	if ! kmake $TARGETS -j"$(nproc)"; then
		echo "FAILED: $1: $TARGETS do not build (log: $BUILD/matrix/$1.log)"
		echo "0 passed, 1 failed"
		return
	fi
	# W1: objects of the series' own files, built again with W=1; a
	# warning in their sources fails (other files' W=1 warnings, in the
	# headers they include, are the base's).
	if [ -n "${W1:-}" ]; then
		# shellcheck disable=SC2086 # W1: an object a word
		kmake W=1 $W1 > "$KBUILD/w1.log" 2>&1 ||
			{ echo "FAILED: $1: W=1 build of $W1 (log: $KBUILD/w1.log)"; echo "0 passed, 1 failed"; return; }
		# shellcheck disable=SC2086
		w=$(grep -E "(^|/)($(printf '%s\n' $W1 | sed 's/\.o$/.c/' | paste -sd'|')):[0-9]+:[0-9]+: warning:" "$KBUILD/w1.log" || true)
		if [ -n "$w" ]; then
			printf '%s\n' "$w"
			echo "FAILED: $1: W=1 warnings in $W1 (log: $KBUILD/w1.log)"
			echo "0 passed, 1 failed"
			return
		fi
	fi
	echo "ok: $1: $TARGETS build ($DEFCONFIG$( [ -n "$CONFIG" ] && echo " + $CONFIG"))${REFUSED:+, $REFUSED refused by Kconfig}${W1:+, $W1 with W=1 without warnings}"
	echo "1 passed, 0 failed"
}
log=$BUILD/matrix
res=$TOP/results/matrix
mkdir -p "$log" "$res"
commit=$(tree_commit)
kver=$(make -s -C "$SRC" kernelversion 2>/dev/null || echo unknown)
pass=0 fail=0 skip=0 rows=''
for e in $entries; do
	s=$(date +%s)
	if [ -f "$HARNESS/matrix/$e.build" ]; then
		(build_only "$e") > "$log/$e.log" 2>&1 || true
	else
		CHECK_ARCHES=$e CHECK_KERNELS_ONLY=1 "$HARNESS/check.sh" > "$log/$e.log" 2>&1 || true
	fi
	mins=$(( ($(date +%s) - s + 30) / 60 ))
	grep -E '^(FAILED|not ok|verdict|[0-9]+ passed)|kernel report|KUnit|error:' "$log/$e.log" | grep -v '^ok ' | tail -n 20
	read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log/$e.log" | tail -n 1)
	k=$(sed -n 's/.*; \([0-9]*\) skipped (reasons.*/\1/p' "$log/$e.log" | tail -n 1)
	k=${k:-0}
	if [ -z "${p:-}" ]; then
		echo "FAILED: matrix entry $e did not finish; see $log/$e.log"
		p=0 f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
	rows+="| $e | $commit | $(date -u +%Y-%m-%d) | $p | $f | $k | $mins |"$'\n'
	info "$e: $p passed, $f failed, $k skipped in $mins min (log: $log/$e.log)"
done
# The entries run now replace their rows; the others' rows stay, each
# with the commit and date it was made on.
results_table "$res/results.md" "| entry | commit | date | passed | failed | skipped | minutes |" \
	"$entries" "$rows" <<EOF
# make matrix

Kernel $kver; made by harness/matrix.sh; each row from the commit and
the date (UTC) it names (a later run of an entry replaces its row).
EOF
info "table: $res/results.md"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
