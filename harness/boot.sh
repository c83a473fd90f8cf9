#!/bin/bash
# usage: harness/boot.sh ARCH INITRAMFS LOG [SECONDS]
#
# Boot the ARCH test kernel with INITRAMFS in QEMU (TCG) and save the
# console to LOG. The console is shown from the line "init: start" on
# (everything with VERBOSE=1). The run is killed after SECONDS (default:
# BOOT_TIMEOUT of harness/arch/ARCH.conf); a run that did not reach
# "init: done" (hang, panic, crash) fails and prints the console tail.
# Exit status: that of the guest's last run, or 1 when the guest did not
# finish. KERNEL=path boots another kernel image of ARCH (the unpatched
# benchmark kernel); QEMU_EXTRA adds QEMU options (-icount for make bench).
# An arch whose conf sets XEN_ELF (x86_64-xen) boots the Xen hypervisor
# through QEMU's multiboot loader, the kernel as its dom0: -kernel
# XEN_ELF -append XEN_CMDLINE -initrd "KERNEL CMDLINE,INITRAMFS". XEN_ELF
# is gunzipped from XEN_GZ (harness/install.sh --matrix) when missing
# or older.
. "$(dirname "$0")/lib.sh"

[ $# -ge 3 ] && [ $# -le 4 ] || die "usage: $me ARCH INITRAMFS LOG [SECONDS]"
load_arch "$1"
initramfs=$2
log=$3
secs=${4:-$BOOT_TIMEOUT}
kernel=${KERNEL:-$KBUILD/$KERNEL_IMAGE}
qemu=qemu-system-$QEMU_ARCH
need_cmd "$qemu" "$QEMU_PACKAGE"
[ -f "$kernel" ] || die "$kernel not found; run 'make build ARCH=$ARCH'"
[ -f "$initramfs" ] || die "$initramfs not found"

if [ -z "$XEN_ELF" ]; then
	# shellcheck disable=SC2206
	cmd=($qemu $QEMU_ARGS ${QEMU_EXTRA:-} -nographic -no-reboot -kernel "$kernel"
	     -initrd "$initramfs" -append "$CMDLINE ${EXTRA_CMDLINE:-}")
else
	if [ ! -f "$XEN_ELF" ] || [ "$XEN_GZ" -nt "$XEN_ELF" ]; then
		[ -f "$XEN_GZ" ] ||
			die "$ARCH: $XEN_GZ not found; run 'harness/install.sh --matrix' (package $XEN_PACKAGE)"
		mkdir -p "$(dirname "$XEN_ELF")"
		gzip -dc "$XEN_GZ" > "$XEN_ELF.tmp" || die "$ARCH: cannot gunzip $XEN_GZ"
		mv "$XEN_ELF.tmp" "$XEN_ELF"
	fi
	# QEMU's multiboot -initrd: modules separated by commas, each a file
	# name, a space and the module's command line.
	dom0="$CMDLINE${EXTRA_CMDLINE:+ $EXTRA_CMDLINE}"
	case $dom0 in
	*,*) die "$ARCH: dom0's command line '$dom0' has a comma, which QEMU's multiboot -initrd takes for the end of the module (CMDLINE in harness/arch/$ARCH.conf, EXTRA_CMDLINE)" ;;
	esac
	case $kernel$initramfs in
	*[,\ ]*) die "$ARCH: $kernel or $initramfs has a comma or a space in its path; QEMU's multiboot -initrd cannot take it" ;;
	esac
	# shellcheck disable=SC2206
	cmd=($qemu $QEMU_ARGS ${QEMU_EXTRA:-} -nographic -no-reboot -kernel "$XEN_ELF"
	     -initrd "$kernel $dom0,$initramfs" -append "$XEN_CMDLINE")
fi
info "$ARCH: ${cmd[*]}"
# sed -u, not tr: LOG is read while the guest runs (harness/e2e.sh), so
# the console gets there line by line, not in blocks of 4 KiB.
timeout -k 5 "$secs" "${cmd[@]}" </dev/null 2>&1 | sed -u 's/\r//g' | tee "$log" |
	if [ "${VERBOSE:-0}" = 1 ]; then cat; else sed -n '/^init: start$/,$p'; fi
rc=${PIPESTATUS[0]}

done_line=$(grep -a '^init: done: ' "$log" | tail -n 1 || true)
if [ -z "$done_line" ]; then
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		why="timed out after $secs s (hang?)"
	else
		why="QEMU exited with status $rc before init finished (panic or crash?)"
	fi
	echo "----- last 40 console lines ($log) -----" >&2
	tail -n 40 "$log" >&2
	echo "-----" >&2
	die "$ARCH: guest did not finish: $why"
fi
exit "${done_line##* }"
