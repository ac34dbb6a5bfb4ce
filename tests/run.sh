#!/bin/bash
# Runs the test layers named on the command line (default: all of them) and
# prints one PASS:/FAIL:/SKIP: line per test and a closing count line.
#
# A test is: each tests/unit/test_*.c (built with ASan+UBSan, run as is), and
# each executable tests/<layer>/test-*.sh for the other layers.  Scripts use
# the kselftest exit codes: 0 pass, 1 fail, 4 skip (anything else is a fail).
set -u
cd "$(dirname "$0")/.."
top=$PWD
layers=("$@")
[ ${#layers[@]} -eq 0 ] && layers=(unit corpus netns vm)

pass=0 fail=0 skip=0
failed=()
logdir=${SIPNAT_TEST_LOGS:-$top/build/test-logs}
mkdir -p "$logdir"

record() { # name rc
	case $2 in
	0) pass=$((pass + 1)); echo "PASS: $1" ;;
	4) skip=$((skip + 1)); echo "SKIP: $1" ;;
	*) fail=$((fail + 1)); failed+=("$1"); echo "FAIL: $1 (exit $2, log $logdir/${1//\//_}.log)" ;;
	esac
}

run_unit() {
	if ! make -s SAN=1 unit-bins >"$logdir/unit-build.log" 2>&1; then
		cat "$logdir/unit-build.log" >&2
		record unit/build 1
		return
	fi
	local b name
	for b in build-san/tests/test_*; do
		[ -x "$b" ] || continue
		name=unit/$(basename "$b")
		timeout 300 "$b" >"$logdir/${name//\//_}.log" 2>&1
		local rc=$?
		[ $rc -ne 0 ] && tail -30 "$logdir/${name//\//_}.log" >&2
		record "$name" $rc
	done
}

# A script's time: SIPNAT_TEST_TIMEOUT, else its own "# timeout=SECONDS" line
# (a script that bounds itself says how long, so its FAIL lines come before
# this kill), else 900 s.
script_timeout() {
	local n
	n=$(grep -m1 -o '^# timeout=[0-9][0-9]*$' "$1" | cut -d= -f2)
	echo "${SIPNAT_TEST_TIMEOUT:-${n:-900}}"
}

run_scripts() { # layer
	local t name rc
	for t in tests/"$1"/test-*.sh; do
		[ -x "$t" ] || continue
		name=$1/$(basename "$t" .sh)
		echo "---- $name" >&2
		timeout "$(script_timeout "$t")" "$t" >"$logdir/${name//\//_}.log" 2>&1
		rc=$?
		grep -E '^(PASS|FAIL|SKIP|XFAIL):' "$logdir/${name//\//_}.log" | sed 's/^/    /' >&2
		[ $rc -ne 0 ] && [ $rc -ne 4 ] && tail -40 "$logdir/${name//\//_}.log" >&2
		record "$name" $rc
	done
}

make -s all >"$logdir/build.log" 2>&1 || { cat "$logdir/build.log" >&2; record build 1; }
for l in "${layers[@]}"; do
	case $l in
	unit) run_unit ;;
	corpus | netns | vm) run_scripts "$l" ;;
	*) echo "run.sh: unknown layer '$l' (unit corpus netns vm)" >&2; exit 2 ;;
	esac
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
