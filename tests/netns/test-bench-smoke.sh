#!/bin/bash
# test-bench-smoke.sh - `make bench` measures what it says, in a short run.
#  1. Every phase delivers every message of its paced run (sipload counts
#     each message at the far end; no call stalls).
#  2. The rewrite evidence can fail: plain forwarding leaves the phone's
#     private address in every outbound message, the kernel ALG in none.
#  3. nfqd (when it runs as a daemon) rewrites every message both ways
#     under load and loses none.
#  4. No queue program dies during its phase; the table, memory and goal
#     lines are printed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

require_root
# Under QEMU TCG (tests/vm) even nfqd's phase alone took a minute: the bench
# measures the host, and the vm layer runs nfqd's functional scenarios anyway.
if [ "${SIPNAT_VM:-}" = 1 ]; then
	echo "SKIP: the bench smoke test runs on the host only (TCG is ~10x slower)"
	exit $ksft_skip
fi
checktool "nft --version" "run test without nft"
checktool "iptables-nft --version" "run test without iptables-nft"
checktool "conntrack --version" "run test without conntrack"

out=$(mktemp /tmp/sipnat-bench-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT
BENCH_SECS=1 BENCH_ROUNDS=1 BENCH_RATE=1000 BENCH_DIALOGS=300 BENCH_RAW=1 BENCH_PHASES="alg nfq nfqd" \
	timeout 120 "$here/../../scripts/bench.sh" >"$out" 2>&1
rc=$?
check_eq "bench.sh exits 0" 0 $rc

kv() { # line key
	local w
	for w in $1; do
		case $w in "$2="*) echo "${w#*=}"; return ;; esac
	done
}

for ph in plain alg nfq nfqd; do
	line=$(grep "^round 1 $ph lat:" "$out")
	if [ -z "$line" ]; then
		if [ $ph = nfqd ]; then
			skip "nfqd phase: $(grep -m1 'nfqd does not run' "$out")"
		else
			fail "$ph: no paced run in the output"
		fi
		continue
	fi
	sent=$(kv "$line" sent)
	check_ge "$ph: paced run sent messages" 500 "$sent"
	check_eq "$ph: every message arrived" "$sent" "$(kv "$line" recvd)"
	check_eq "$ph: no call stalled (paced)" 0 "$(kv "$line" lost_calls)"
	tline=$(grep "^round 1 $ph tput:" "$out")
	check_eq "$ph: no call stalled (closed loop)" 0 "$(kv "$tline" lost_calls)"
	case $ph in
	plain)
		check_eq "plain: private address leaks in every outbound message" \
			"$(kv "$line" out_msgs)" "$(kv "$line" out_priv_leak)"
		;;
	alg | nfqd)
		check_eq "$ph: no outbound message carries the private address" 0 \
			"$(kv "$line" out_priv_leak)"
		check_eq "$ph: no inbound message carries the public address" 0 \
			"$(kv "$line" in_pub_leak)"
		check_eq "$ph: closed loop: no private address outbound" 0 \
			"$(kv "$tline" out_priv_leak)"
		;;
	esac
done

if grep -q 'WARNING: .* exited' "$out"; then
	fail "queue programs stay up: $(grep -m1 'WARNING: .* exited' "$out")"
else
	pass "queue programs stay up through their phases"
fi

if grep -q '^phase .*msgs/s.*ratio-vs-ALG' "$out" && grep -q '^goal: nfqd rate' "$out" &&
	grep -q '^memory' "$out"; then
	pass "table, memory and goal lines printed"
else
	fail "table, memory and goal lines printed"
fi
[ "${ret:-0}" -ne 0 ] && cat "$out" >&2
exit $ret
