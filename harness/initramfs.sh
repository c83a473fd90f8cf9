#!/bin/bash
# usage: harness/initramfs.sh ARCH OUT CONTROL [DEST=SRC ...]
#
# Make the guest's initramfs OUT (gzip'ed cpio) with the kernel's own
# usr/gen_init_cpio, no root needed: /init (harness/guest/init.c, static
# for ARCH), CONTROL as /etc/init.tests, and each SRC at DEST. A SRC that
# is a directory is added with everything below it.
. "$(dirname "$0")/lib.sh"

[ $# -ge 3 ] || die "usage: $me ARCH OUT CONTROL [DEST=SRC ...]"
load_arch "$1"
out=$2
control=$3
shift 3
[ -f "$control" ] || die "control file $control not found"
need_cmd "$CC_USER" "$CROSS_PACKAGES"

guest=$BUILD/$ARCH/guest
mkdir -p "$guest"
gen=$BUILD/gen_init_cpio
if [ ! -x "$gen" ] || [ "$SRC/usr/gen_init_cpio.c" -nt "$gen" ]; then
	gcc -O2 -o "$gen" "$SRC/usr/gen_init_cpio.c" ||
		die "cannot build $SRC/usr/gen_init_cpio.c"
fi
if [ ! -x "$guest/init" ] || [ "$HARNESS/guest/init.c" -nt "$guest/init" ]; then
	$CC_USER -static -O2 -Wall -o "$guest/init" "$HARNESS/guest/init.c" ||
		die "$ARCH: cannot build harness/guest/init.c with $CC_USER"
fi

list=$out.list
dirs=" "
adddir() {
	local d=$1
	[ "$d" = / ] || [ "$d" = . ] && return 0
	case $dirs in *" $d "*) return 0 ;; esac
	adddir "$(dirname "$d")"
	dirs="$dirs$d "
	echo "dir $d 0755 0 0"
}
addfile() {
	local dest=$1 src=$2 mode
	[ -e "$src" ] || die "$src (for $dest in the initramfs) not found"
	adddir "$(dirname "$dest")"
	mode=$(stat -c %a "$src")
	echo "file $dest $(realpath "$src") $mode 0 0"
}
{
	for d in /dev /proc /sys /tmp /t /bin /etc /root; do
		adddir "$d"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/null 0666 0 0 c 1 3"
	addfile /init "$guest/init"
	addfile /etc/init.tests "$control"
	# Some tests read these (protection_keys maps /etc/passwd).
	addfile /etc/passwd "$HARNESS/guest/passwd"
	addfile /etc/group "$HARNESS/guest/group"
	for arg in "$@"; do
		dest=${arg%%=*}
		src=${arg#*=}
		[ "$dest" != "$arg" ] && [ -n "$dest" ] || die "bad argument '$arg'; want DEST=SRC"
		if [ -d "$src" ]; then
			adddir "$dest"
			while IFS= read -r f; do
				f=${f#./}
				if [ -d "$src/$f" ]; then
					adddir "$dest/$f"
				else
					addfile "$dest/$f" "$src/$f"
				fi
			done < <(cd "$src" && find . -mindepth 1 | LC_ALL=C sort)
		else
			addfile "$dest" "$src"
		fi
	done
} > "$list"
"$gen" "$list" | gzip -1 > "$out.tmp" || die "gen_init_cpio failed on $list"
mv "$out.tmp" "$out"
