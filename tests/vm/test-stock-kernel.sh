#!/bin/bash
# tests/vm/test-stock-kernel.sh: one boot of Debian's stock kernel (tests/vm/boot.sh) that
# 1. checks the features the host kernel lacks are really there (nft queue, ct helper
#    objects, nfnetlink_cthelper, NFQA_CT, conntrack -L expect, the preloaded modules),
# 2. runs every executable tests/netns/test-*.sh inside the guest,
# and reports each as a PASS:/FAIL:/SKIP: vm/... line (tests/vm/guest-checks.sh).
# A boot that panics, WARNs, times out or ends without its result token is a FAIL.
# SKIP (exit 4) only when the harness cannot run at all: not root, no QEMU or no
# Debian kernel.  Usage: test-stock-kernel.sh [tests/netns/test-x.sh...] (default: all).
# Environment: SIPNAT_VM_SMP (vCPUs, default 2), SIPNAT_VM_TIMEOUT (the whole boot, default
# 840 s: below run.sh's 900 so our own FAIL line is printed), SIPNAT_VM_TEST_TIMEOUT (one
# scenario in the guest, default 360 s), SIPNAT_VM_BUDGET (scenarios start only within the
# first 360 s; the rest are SKIP lines, run them by name).  Worst case: ~60 + 360 + 360 s.
set -u
cd "$(dirname "$0")/../.." || exit 1

[ "$(id -u)" = 0 ] || { echo "SKIP: vm/stock-kernel (needs root)"; exit 4; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "SKIP: vm/stock-kernel (qemu-system-x86_64 missing; scripts/deps.sh)"; exit 4; }
ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 ||
	{ echo "SKIP: vm/stock-kernel (no Debian kernel; apt-get install linux-image-amd64)"; exit 4; }

# The scenarios use the project's binaries; the guest sees the host's build/ tree.
make -s all >/dev/null || { echo "FAIL: vm/build (make)"; exit 1; }
mkdir -p build/vm
if [ ! -x build/vm/nlprobe ] || [ tests/vm/nlprobe.c -nt build/vm/nlprobe ]; then
	cc -std=c11 -O2 -Wall -Wextra -Werror -o build/vm/nlprobe.tmp tests/vm/nlprobe.c &&
		mv build/vm/nlprobe.tmp build/vm/nlprobe || { echo "FAIL: vm/build (nlprobe)"; exit 1; }
fi

start=$(date +%s)
tests/vm/boot.sh --timeout "${SIPNAT_VM_TIMEOUT:-840}" --smp "${SIPNAT_VM_SMP:-2}" -- \
	env SIPNAT_VM_BUDGET="${SIPNAT_VM_BUDGET:-360}" SIPNAT_VM_TEST_TIMEOUT="${SIPNAT_VM_TEST_TIMEOUT:-360}" \
	tests/vm/guest-checks.sh "$PWD/build/vm/nlprobe" "$@"
rc=$?
echo "vm: one boot, $(($(date +%s) - start))s"
case $rc in
0 | 1) exit $rc ;;
*) echo "FAIL: vm/boot (boot.sh exit $rc: see the console output above)"; exit 1 ;;
esac
