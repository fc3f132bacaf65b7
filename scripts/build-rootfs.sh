#!/bin/sh
# Build the read-only template layers from this machine's packages.
#   minimal: busybox (static) and nothing else
#   base:    a skeleton (/etc, users, symlinks) shown over the host's /usr,
#            which templates/base.json mounts read-only at /usr
# Usage: scripts/build-rootfs.sh OUTDIR
set -eu
out=${1:?usage: build-rootfs.sh OUTDIR}
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

users() {
	# $1: rootfs dir. root, the E2B-style "user" (uid 1000), and nobody.
	mkdir -p "$1/etc"
	cat >"$1/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/bash
user:x:1000:1000:user:/home/user:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PW
	cat >"$1/etc/group" <<'GR'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
GR
	chmod 644 "$1/etc/passwd" "$1/etc/group"
}

# ---- minimal ----------------------------------------------------------
m="$tmp/minimal"
mkdir -p "$m/bin" "$m/etc" "$m/home/user" "$m/root" "$m/tmp" "$m/proc" "$m/dev" "$m/usr/bin"
cp /bin/busybox "$m/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$m/bin/$applet"
done
users "$m"
sed -i 's|/bin/bash|/bin/sh|' "$m/etc/passwd"

# ---- base -------------------------------------------------------------
b="$tmp/base"
mkdir -p "$b/usr" "$b/etc" "$b/home/user" "$b/root" "$b/tmp" "$b/proc" "$b/dev" "$b/run" \
	"$b/var/tmp" "$b/var/lib" "$b/opt" "$b/mnt" "$b/srv"
# Debian's merged /usr: the top-level dirs are symlinks into it.
for d in bin sbin lib lib32 lib64 libx32; do
	[ -L "/$d" ] && [ -e "/$d" ] && ln -s "usr/$d" "$b/$d"
done
users "$b"
# What programs read from /etc, copied (never bind-mounted) so the sandbox
# sees a snapshot and nothing else of the host's /etc.
for f in ld.so.cache ld.so.conf ld.so.conf.d alternatives bash.bashrc profile profile.d \
	nsswitch.conf shells inputrc localtime timezone mime.types ssl/certs \
	ca-certificates.conf host.conf environment login.defs magic python3 python3.11 \
	debian_version os-release; do
	if [ -e "/etc/$f" ] || [ -L "/etc/$f" ]; then
		mkdir -p "$b/etc/$(dirname "$f")"
		cp -a "/etc/$f" "$b/etc/$f"
	fi
done
# os-release is usually a symlink into /usr, which the sandbox has too.
printf 'PS1='"'"'\\u@\\h:\\w\\$ '"'"'\n' >"$b/home/user/.bashrc"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "rootfs layers built in $out: $(ls "$out" | tr '\n' ' ')"
