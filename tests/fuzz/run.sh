#!/bin/bash
# run.sh - a bounded libFuzzer run of every target built by `make FUZZ=1
# fuzz-bins` (build/fuzz/tests/fuzz_*), seeded from ../shared/corpus/sip.
#
# usage: tests/fuzz/run.sh [SECONDS-PER-TARGET]   (default 20)
# One PASS:/FAIL: line per target.  New inputs and crash reproducers go to a
# temporary directory, never into the repository; on a finding that directory
# is kept and named, so the reproducer can be replayed:
#   build/fuzz/tests/fuzz_rewrite CRASHFILE
# Exit: 0 no finding, 1 a finding, 4 no targets built.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-20}
seeds=../shared/corpus/sip
ret=0

shopt -s nullglob
bins=(build/fuzz/tests/fuzz_*)
if [ ${#bins[@]} -eq 0 ]; then
	echo "SKIP: no fuzz targets built (make FUZZ=1 fuzz-bins)"
	exit 4
fi
[ -d "$seeds" ] || seeds=

# an interrupted run leaves nothing behind (a finding's directory is kept)
work=
trap '[ -n "$work" ] && rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

for b in "${bins[@]}"; do
	name=$(basename "$b")
	work=$(mktemp -d "${TMPDIR:-/tmp}/sipnat-$name.XXXXXX")
	mkdir "$work/new"
	# -timeout: one input taking a second is a finding (a hang) for a
	# per-packet path; rss limit keeps a leak from eating the shared box.
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		timeout $((secs + 60)) "$b" -max_total_time="$secs" -timeout=2 \
		-rss_limit_mb=1024 -max_len=65600 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/new" ${seeds:+"$seeds"} >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	if [ $rc -eq 0 ]; then
		echo "PASS: $name: ${runs:-?} inputs in ${secs}s, no finding"
		rm -rf "$work"
		work=
	else
		echo "FAIL: $name: exit $rc after ${runs:-?} inputs; reproducers and log in $work"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_|.*runtime error)' "$work/log" | head -10 | sed 's/^/    /'
		ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | sed "s|^|    $work/|"
		ret=1
		work=
	fi
done
exit $ret
