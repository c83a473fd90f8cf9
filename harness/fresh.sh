#!/bin/bash
# usage: harness/fresh.sh [ROOT]        (default: /srv/pt-reclaim-fresh)
#
# make check on a fresh Debian bookworm: a root made by debootstrap
# --variant=minbase (the essential packages and apt, nothing else), with
# the sources of a standard install (bookworm, bookworm-updates,
# bookworm-security: linux-source-6.12 comes from the last), `make`
# added (what it takes to type the command; harness/install.sh brings
# everything else, from gcc on) and this repository's HEAD cloned into
# it. There, as root, `make check` runs as CI runs it (.ci/run), with
# an empty ccache: every package installed, every object compiled.
# Then its last lines and the packages the run installed. ROOT is made
# when missing or empty (debootstrap needs the network to Debian's
# archive) and kept (rerun: a new clone, the packages already there); a
# directory this script did not make is refused. FRESH_CMD: a
# command to run there instead (in the clone), for trying the root out.
# Needs root, debootstrap (installed here when missing) and about 15 GB
# in ROOT. About 50 minutes, most of it make check cold; writes
# results/check/fresh.md, and ROOT/pt-reclaim/build/check-status.md
# (make status STATUS=that file publishes it).
. "$(dirname "$0")/lib.sh"

root=${1:-/srv/pt-reclaim-fresh}
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
mkdir -p "$root"
root=$(realpath "$root")
case $root in
/ | /usr | /usr/* | /dev | /dev/* | /proc | /proc/* | /sys | /sys/* | /etc | /etc/*)
	die "$root cannot be the fresh root: give a new directory" ;;
esac
marker=$root/.pt-reclaim-fresh
[ -e "$marker" ] || [ -z "$(ls -A "$root")" ] ||
	die "$root is neither empty nor a root this script made ($marker missing); give a new directory, or remove it"
# The mounts below in a mount namespace of their own, private: none
# reaches the host's tree, and all end with this process, however it ends.
if [ -z "${FRESH_UNSHARED:-}" ]; then
	FRESH_UNSHARED=1 exec unshare --mount --propagation private "$0" "$@"
fi
[ -z "$(git -C "$TOP" status --porcelain -- . ':!results')" ] ||
	warn "uncommitted changes: the root gets HEAD ($(git -C "$TOP" rev-parse --short HEAD)) without them"

if [ ! -e "$marker" ]; then
	command -v debootstrap > /dev/null || apt-get install -y -q debootstrap > /dev/null ||
		die "cannot install debootstrap"
	info "debootstrap --variant=minbase bookworm $root (a few minutes)"
	debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian \
		> "$root.debootstrap.log" 2>&1 ||
		{ tail -n 5 "$root.debootstrap.log" >&2; die "debootstrap failed; see $root.debootstrap.log"; }
	rm -f "$root/etc/apt/sources.list"
	mkdir -p "$root/etc/apt/sources.list.d"
	cat > "$root/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	date -u > "$marker"
fi
cp --remove-destination /etc/resolv.conf "$root/etc/resolv.conf"

mounted=()
umount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || true
	done
}
trap umount_all EXIT
# mnt WHAT DIR ARGS: mount WHAT on ROOT/DIR, private (no mount under it
# reaches the host's tree, or the host's reaches it). /dev is a tmpfs
# with the few nodes a program expects, not the host's /dev (a bind of
# it, or a devtmpfs, which is the host's too, would let a change there
# reach the host), and the ptys a new devpts instance.
mnt() {
	mkdir -p "$root$2"
	mount "${@:3}" "$1" "$root$2" || die "cannot mount $1 on $root$2"
	mounted+=("$root$2")
	mount --make-private "$root$2"
}
mnt proc /proc -t proc
mnt sysfs /sys -t sysfs -o ro
mnt tmpfs /dev -t tmpfs -o mode=0755,nosuid
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
	IFS=: read -r name major minor <<<"$n"
	mknod -m 0666 "$root/dev/$name" c "$major" "$minor" || die "cannot make $root/dev/$name"
done
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mnt devpts /dev/pts -t devpts -o newinstance,ptmxmode=0666
mnt tmpfs /dev/shm -t tmpfs
mnt tmpfs /tmp -t tmpfs

in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		TERM=dumb LANG=C.UTF-8 "$@"
}
in_root dpkg-query -W -f='${Package}\n' | LC_ALL=C sort > "$root.before"
if ! in_root sh -c 'command -v make' > /dev/null; then
	info "apt-get install make (the one package added by hand)"
	in_root sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make' \
		> "$root.make.log" 2>&1 || { tail -n 5 "$root.make.log" >&2; die "cannot install make in $root"; }
fi

dst=$root/pt-reclaim
rm -rf "$dst"
git clone -q "$TOP" "$dst" || die "cannot clone $TOP into $dst"
info "make check in $root (chroot; log: $root/check.log)"
s=$(date +%s)
rc=0
in_root sh -c "cd /pt-reclaim && ${FRESH_CMD:-rm -rf /root/ccache-fresh && CCACHE_DIR=/root/ccache-fresh .ci/run}" \
	> "$root/check.log" 2>&1 || rc=$?
info "make check in $root: status $rc after $(( $(date +%s) - s )) s"
tail -n 25 "$root/check.log"
in_root dpkg-query -W -f='${Package}\n' | LC_ALL=C sort |
	LC_ALL=C comm -13 "$root.before" - > "$root.installed"
info "packages the run installed: $(wc -l < "$root.installed") ($root.installed)"

# The record: results/check/fresh.md (not of a FRESH_CMD run).
[ -z "${FRESH_CMD:-}" ] || exit "$rc"
res=$TOP/results/check/fresh.md
mkdir -p "$(dirname "$res")"
{
	echo "# make check in a fresh Debian bookworm root"
	echo
	echo "Made by harness/fresh.sh (\`make fresh\`) on $(date -u '+%Y-%m-%d %H:%M') UTC"
	echo "from $(git -C "$dst" rev-parse --short=12 HEAD) (the clone in the root), kernel"
	echo "$(sed -n 's/^KERNEL_VERSION=//p' "$dst/BASE"): \`debootstrap --variant=minbase bookworm\`, the"
	echo "standard sources, \`make\` added by hand; \`.ci/run\` there as root with an"
	echo "empty ccache. Exit status $rc after $(( ($(date +%s) - s + 30) / 60 )) min (packages, unpacking"
	echo "and make check); its count and what failed:"
	echo
	count=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$root/check.log" | tail -n 1 || true)
	echo "    ${count:-(no count: make check did not finish; $root/check.log)}"
	sed -n '/^what failed/,/^[0-9]* passed, /p' "$root/check.log" | sed '$d; s/^/    /'
	echo
	echo "Packages the run installed (harness/install.sh and their"
	echo "dependencies): $(wc -l < "$root.installed"), all from Debian's archive."
	echo "Its times (build/check-times):"
	echo
	sed 's/^/    /' "$dst/build/check-times" 2>/dev/null || echo "    (none: the run ended early)"
} > "$res"
info "record: $res (commit it)"
exit "$rc"
