#!/bin/sh
# Installs the Debian 12 packages that building, testing and the demo need.
# Idempotent: asks apt only for what dpkg says is missing, and runs
# `apt-get update` only when something is missing.
set -eu

BUILD="build-essential pkg-config libosip2-dev libnetfilter-queue-dev libmnl-dev
 libnftnl-dev libnetfilter-conntrack-dev libnetfilter-cthelper-dev"
TEST="libcmocka-dev sip-tester kamailio tshark nftables iptables conntrack iproute2
 sox procps psmisc valgrind clang libclang-rt-14-dev iputils-ping python3"
VM="qemu-system-x86 linux-image-amd64 linux-headers-amd64 kmod cpio libc6-dev xz-utils"

want="$BUILD $TEST"
case "${1:-all}" in
build) want="$BUILD" ;;
all) want="$BUILD $TEST $VM" ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the default answer is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
