#!/bin/sh
# Install the Debian packages evoclaw needs to build, test and benchmark,
# only when something is missing (idempotent; quick when all is there).
set -eu
packages="build-essential pkg-config clang libclang-rt-14-dev
libjansson-dev libseccomp-dev libcurl4-openssl-dev libcriterion-dev libsqlite3-dev libmicrohttpd-dev zlib1g-dev libsodium-dev curl
busybox-static bubblewrap hyperfine wrk iproute2 procps python3
chromium fonts-dejavu-core libmosquitto-dev mosquitto mosquitto-clients"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# Node runs the e2b SDK compatibility tests. A node already on the machine
# (Debian's or NodeSource's, which carries its own npm) will do.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run as root (or: sudo $0)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine; refresh them once.
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
