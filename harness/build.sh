#!/bin/bash
# usage: harness/build.sh ARCH
#
# Configure and build the test kernel for ARCH from $SRC into
# build/ARCH/kernel: tinyconfig, then the fragments named by
# harness/arch/ARCH.conf merged with scripts/kconfig/merge_config.sh,
# then olddefconfig. Fails, naming them, when options of a fragment did
# not end up in .config (a missing dependency drops them silently).
# Compiles through ccache.
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $me ARCH"
load_arch "$1"
[ -f "$SRC/Makefile" ] || die "$SRC is not unpacked; run 'make base'"
need_cmd ccache ccache
need_cmd "${CROSS_COMPILE}gcc" "${CROSS_PACKAGES%% *}"

mkdir -p "$KBUILD"

frags=
for f in $KCONFIG_FRAGMENTS; do
	[ -f "$HARNESS/configs/$f" ] || die "harness/configs/$f (named in harness/arch/$ARCH.conf) is missing"
	frags="$frags $HARNESS/configs/$f"
done
# Extra fragments for this build only (for example the debug fragment).
for f in ${EXTRA_FRAGMENTS:-}; do
	[ -f "$f" ] || die "extra fragment $f is missing"
	frags="$frags $f"
done

# Configure only when the fragments changed: olddefconfig rewrites
# .config and would trigger a rebuild of everything.
stamp=$KBUILD/.fragments
want=$(cat $frags | sha256sum | cut -d' ' -f1)
if [ ! -f "$KBUILD/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	info "$ARCH: configuring (tinyconfig +$(for f in $frags; do printf ' %s' "$(basename "$f")"; done))"
	kmake -s tinyconfig >"$KBUILD/config.log" 2>&1 ||
		die "$ARCH: make tinyconfig failed; see $KBUILD/config.log"
	# shellcheck disable=SC2086
	ARCH=$LINUX_ARCH CROSS_COMPILE=$CROSS_COMPILE \
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" \
		"$KBUILD/.config" $frags >>"$KBUILD/config.log" 2>&1 ||
		die "$ARCH: merge_config.sh failed; see $KBUILD/config.log"
	echo "$want" > "$stamp"
fi

# Also when only the kernel's Kconfig changed (a new option of the
# overlay): take defaults without asking, then check the fragments again.
kmake -s olddefconfig >>"$KBUILD/config.log" 2>&1 ||
	die "$ARCH: make olddefconfig failed; see $KBUILD/config.log"
# Every line of a fragment must be in .config as written, unless a later
# fragment sets the same option (merge_config.sh lets the last one win:
# nosplit.config's NR_CPUS=2 over x86_64.config's 8).
# shellcheck disable=SC2086
missing=$(cat $frags | grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set)' |
	awk '{ o = $0; sub(/^# /, "", o); sub(/[= ].*/, "", o); last[o] = $0; if (!(o in seen)) { seen[o] = 1; order[++n] = o } }
	     END { for (i = 1; i <= n; i++) print last[order[i]] }' |
	LC_ALL=C sort -u | while IFS= read -r line; do
		case $line in
		"# "*) opt=${line#\# }; opt=${opt%% *}
		       grep -q "^$opt=" "$KBUILD/.config" && echo "$line" ;;
		*)     grep -qxF "$line" "$KBUILD/.config" || echo "$line" ;;
		esac
	done)
if [ -n "$missing" ]; then
	rm -f "$stamp"
	die "$ARCH: these fragment lines did not stick in $KBUILD/.config (unmet dependency?):
$missing"
fi

info "$ARCH: building kernel in $KBUILD (log: $KBUILD/build.log)"
start=$(date +%s)
if ! kmake -j"$(nproc)" >"$KBUILD/build.log" 2>&1; then
	tail -n 40 "$KBUILD/build.log" >&2
	die "$ARCH: kernel build failed; see $KBUILD/build.log"
fi
[ -f "$KBUILD/$KERNEL_IMAGE" ] || die "$ARCH: build produced no $KERNEL_IMAGE"
info "$ARCH: kernel built in $(( $(date +%s) - start )) s: $KBUILD/$KERNEL_IMAGE"
