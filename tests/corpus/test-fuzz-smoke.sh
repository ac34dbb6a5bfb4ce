#!/bin/bash
# test-fuzz-smoke.sh - a short bounded fuzz run of every libFuzzer target in
# tests/fuzz (the rewrite core both ways, the scanners), seeded from the corpus.
#
# Proves: 1. the targets build with clang -fsanitize=fuzzer,address,undefined;
#         2. SIPNAT_FUZZ_TIME (default 15) seconds each find no crash, hang,
#            leak, sanitizer report or broken rw_check.h property.
# Longer runs: make fuzz FUZZ_TIME=600.  Exit 0 pass, 1 fail, 4 skip.
set -u
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! command -v clang >/dev/null; then
	echo "SKIP: clang not installed (scripts/deps.sh installs clang, libclang-rt-14-dev)"
	exit 4
fi
if ! make -s FUZZ=1 fuzz-bins >/dev/null 2>"$log"; then
	# no libFuzzer runtime is a missing tool, anything else a failure
	if grep -q 'libclang_rt.fuzzer' "$log"; then
		echo "SKIP: libFuzzer runtime missing (libclang-rt-14-dev)"
		exit 4
	fi
	cat "$log"
	echo "FAIL: make FUZZ=1 fuzz-bins"
	exit 1
fi
echo "PASS: fuzz targets build"
tests/fuzz/run.sh "${SIPNAT_FUZZ_TIME:-15}"
