#!/bin/bash
# tests/vm/test-stock-kernel.sh: Debian's stock kernel (tests/vm/boot.sh)
# 1. has the features the host kernel lacks (nft queue, ct helper objects,
#    nfnetlink_cthelper, NFQA_CT, conntrack -L expect, the preloaded modules),
# 2. runs every executable tests/netns/test-*.sh inside the guest (the known guest
#    failures of tests/vm/xfail last),
# reported as PASS:/FAIL:/SKIP: vm/... lines (tests/vm/guest-checks.sh).
# Usage: test-stock-kernel.sh [tests/netns/test-x.sh...] (default: all).
#
# Every scenario runs, however slow the machine, with no list to keep: a boot
# starts scenarios while its budget lasts (the first always), then the host boots
# again with the ones that have no result line yet.  A boot that panics, WARNs
# or times out is a FAIL of the scenario it was running; the next boot goes on
# with the rest.  A scenario that is not run is a FAIL, never a SKIP.
# Bounds (environment): SIPNAT_VM_TEST_TIMEOUT one scenario (480 s);
# SIPNAT_VM_BUDGET scenarios start within it in one boot (480 s); a boot then
# lasts at most budget + scenario timeout + 120 s; SIPNAT_VM_TOTAL all boots
# (2400 s): a boot starts only if its worst case fits, the scenarios left are FAIL
# lines.  run.sh gives this script the time below, so these FAIL lines come first.
# SIPNAT_VM_SMP vCPUs (2).  SKIP (exit 4) only when the harness cannot run at all:
# not root, no QEMU or no Debian kernel.
# timeout=2700
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

per_test=${SIPNAT_VM_TEST_TIMEOUT:-480}
budget=${SIPNAT_VM_BUDGET:-480}
total=${SIPNAT_VM_TOTAL:-2400}
boot_timeout=$((budget + per_test + 120))
ret=0

name() { echo "netns/$(basename "$1" .sh)"; }
[ $# -gt 0 ] || set -- tests/netns/test-*.sh
first=() last=()
for t in "$@"; do
	if [ ! -x "$t" ]; then
		[ -e "$t" ] || { echo "FAIL: vm/$(name "$t") (no such scenario: $t)"; ret=1; }
		continue
	fi
	if awk -v n="$(name "$t")" '$1 == n { f = 1 } END { exit !f }' tests/vm/xfail 2>/dev/null; then
		last+=("$t")
	else
		first+=("$t")
	fi
done
left=("${first[@]+"${first[@]}"}" "${last[@]+"${last[@]}"}")

out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
boot=0
while [ $boot = 0 ] || [ ${#left[@]} -gt 0 ]; do
	boot=$((boot + 1))
	t0=$(date +%s)
	if [ $((t0 - start + boot_timeout)) -gt "$total" ]; then
		for t in "${left[@]}"; do
			echo "FAIL: vm/$(name "$t") (not run: a boot $boot would end after the ${total}s of SIPNAT_VM_TOTAL)"
		done
		ret=1
		break
	fi
	tests/vm/boot.sh --timeout "$boot_timeout" --smp "${SIPNAT_VM_SMP:-2}" -- \
		env SIPNAT_VM_BUDGET="$budget" SIPNAT_VM_TEST_TIMEOUT="$per_test" \
		SIPNAT_VM_KERNEL_CHECKS=$((boot == 1)) SIPNAT_VM_BOOT=$boot \
		tests/vm/guest-checks.sh "$PWD/build/vm/nlprobe" "${left[@]+"${left[@]}"}" | tee "$out"
	rc=${PIPESTATUS[0]}
	echo "vm: boot $boot: $(($(date +%s) - t0))s, exit $rc"
	rest=()
	running=""
	for t in "${left[@]+"${left[@]}"}"; do
		n=$(name "$t")
		if grep -qE "^(PASS|FAIL|SKIP|XFAIL): vm/$n \(" "$out"; then
			continue
		elif grep -qxF -- "---- vm/$n" "$out"; then
			running=$t
		else
			rest+=("$t")
		fi
	done
	case $rc in
	0) ;;
	1) ret=1 ;;
	*)
		ret=1
		if [ -n "$running" ]; then
			echo "FAIL: vm/$(name "$running") (boot $boot ended during it: boot.sh exit $rc, see the console above)"
		else
			echo "FAIL: vm/boot (boot $boot ended before a scenario started: boot.sh exit $rc)"
			for t in "${rest[@]+"${rest[@]}"}"; do echo "FAIL: vm/$(name "$t") (not run)"; done
			break
		fi
		;;
	esac
	if [ -n "$running" ] && [ $rc -le 1 ]; then
		echo "FAIL: vm/$(name "$running") (started in boot $boot, no result line)"
		ret=1
	fi
	if [ -z "$running" ] && [ ${#rest[@]} -gt 0 ] && [ ${#rest[@]} = ${#left[@]} ]; then
		for t in "${rest[@]}"; do echo "FAIL: vm/$(name "$t") (boot $boot started no scenario)"; done
		ret=1
		break
	fi
	left=("${rest[@]+"${rest[@]}"}")
done
echo "vm: $boot boot(s), $(($(date +%s) - start))s"
exit $ret
