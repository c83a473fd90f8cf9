#!/bin/bash
# usage: harness/install.sh [--list] [--matrix] [--go]
#
# Install with apt-get the Debian packages the harness needs, when they
# are missing. Needs root for that; says which packages when it is not,
# and which package apt cannot provide when one is missing from the
# archive. (Never install gcc-multilib: it removes the s390x cross
# compiler.) The packages of each architecture (QEMU, cross compiler)
# come from its harness/arch/*.conf (QEMU_PACKAGE, CROSS_PACKAGES) and
# from the builds of harness/matrix/*.build (PACKAGE). --matrix (make
# matrix) adds the Xen hypervisor that make matrix's x86_64-xen boots
# (XEN_PACKAGE of harness/arch/x86_64-xen.conf), asked for only there:
# its package runs update-grub, which adds Xen entries to the boot menu
# of a host with GRUB. --go (make alloc) adds golang-go for the Go
# workload of the allocator matrix (allocators/go), which make check does
# not run: a fresh machine's make check does not fetch a compiler it
# never uses.
. "$(dirname "$0")/lib.sh"

# arch_packages [--xen]: the packages the confs and matrix entries name
# (--xen: only the confs' XEN_PACKAGE).
arch_packages() {
	local conf
	for conf in "$HARNESS"/arch/*.conf; do
		(
			load_arch "$(basename "$conf" .conf)"
			if [ "${1:-}" = --xen ]; then
				echo "${XEN_PACKAGE:-}"
			else
				echo "$QEMU_PACKAGE $CROSS_PACKAGES"
			fi
		) || exit 1
	done
	if [ "${1:-}" != --xen ]; then
		for conf in "$HARNESS"/matrix/*.build; do
			(
				# shellcheck source=/dev/null
				. "$conf"
				echo "${PACKAGE:?$conf: PACKAGE is not set}"
			) || exit 1
		done
	fi
}

read_base
arch=$(arch_packages) || die "cannot read the packages of harness/arch/*.conf and harness/matrix/*.build"
PACKAGES="$PACKAGE
	make gcc libc6-dev git patch binutils python3 xz-utils rsync ccache
	flex bison bc cpio kmod libelf-dev libssl-dev dwarves
	$arch
	libnuma-dev libcap-dev
	libjemalloc2 libjemalloc-dev libtcmalloc-minimal4 libmimalloc2.0
	sparse python3-sphinx python3-sphinx-rtd-theme python3-yaml python3-ply python3-git
	gnuplot-nox
	manpages-dev man-db groff-base mandoc
	socat systemd procps"

list=
for arg in "$@"; do
	case $arg in
	--list) list=1 ;;
	--matrix) PACKAGES="$PACKAGES $(arch_packages --xen)" ||
		die "cannot read XEN_PACKAGE of harness/arch/*.conf" ;;
	--go) PACKAGES="$PACKAGES golang-go" ;;
	*) die "usage: $me [--list] [--matrix] [--go]" ;;
	esac
done

# Each package once, in the order first named (the arch confs name
# their QEMU and cross compiler each).
# shellcheck disable=SC2086 # one package a word
PACKAGES=$(printf '%s\n' $PACKAGES | awk '!seen[$0]++')

# --list: only print the packages, one a line (harness/tests/packages.sh).
if [ -n "$list" ]; then
	# shellcheck disable=SC2086 # one package a word
	printf '%s\n' $PACKAGES
	exit 0
fi

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	die "missing packages:$missing; run as root, or: sudo apt-get install$missing"
fi
mkdir -p "$BUILD"
info "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >"$BUILD/apt.log" 2>&1 || { tail -5 "$BUILD/apt.log" >&2; die "apt-get update failed; see $BUILD/apt.log"; }
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >>"$BUILD/apt.log" 2>&1; then
	for p in $missing; do
		if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
			die "package $p is not available from the configured apt sources (/etc/apt/sources.list*); the harness needs it"
		fi
	done
	tail -5 "$BUILD/apt.log" >&2
	die "apt-get install$missing failed; see $BUILD/apt.log"
fi
