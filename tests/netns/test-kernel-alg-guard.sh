#!/bin/bash
# test-kernel-alg-guard.sh - nfqd refuses to start, with a clear message,
# when the router's nftables ruleset attaches the kernel's own SIP ALG
# (nf_conntrack_sip, through a `ct helper` object of type "sip" and a
# `ct helper set` rule): two ALGs on one flow undo each other's rewrites.
#  1. sip helper object + `ct helper set` rule: nfqd exits 1 and its error
#     line names the table, the object and the chain; `nfqd --probe` says so.
#  2. The same with --allow-kernel-alg: nfqd starts (control socket up).
#  3. A map (`ct helper set udp dport map { ... }`) is found too.
#  4. iptables-nft `-j CT --helper sip` in the raw table is found.
#  5. Only an "ftp" helper object and rule: nfqd starts; --probe says no.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

NFQD=${NFQD:-$here/../../build/nfqd/nfqd}
QNUM=$((2000 + RANDOM % 1000))

require_root
checktool "test -x $NFQD" "run test without build/nfqd/nfqd (make)"
checktool "nft --version" "run test without nft"
trap cleanup EXIT

W=$(mktemp -d /tmp/sipnat-algguard.XXXXXX)
on_cleanup "rm -rf '$W'"
setup_ns rt
SOCK=$W/nfqd.sock

# The stock kernel has the SIP and FTP helpers as modules; the host has
# them built in (modprobe fails there, harmlessly).
modprobe -q nf_conntrack_sip 2>/dev/null
modprobe -q nf_conntrack_ftp 2>/dev/null

load()
{
	ip netns exec "$rt" nft flush ruleset &&
		ip netns exec "$rt" nft -f - <<<"$1"
}

# run_nfqd ARGS...: starts nfqd in the router; 0 once it serves its control
# socket (then stopped by PID), else its exit status (124: neither).
run_nfqd()
{
	local pid rc
	rm -f "$SOCK"
	: >"$W/nfqd.log"
	ip netns exec "$rt" "$NFQD" -c /dev/null --queue $QNUM --map 10.0.0.5=198.51.100.5 \
		--media-backend none --control-socket "$SOCK" "$@" >>"$W/nfqd.log" 2>&1 &
	pid=$!
	if slowwait 5 eval "test -S '$SOCK' || ! kill -0 $pid 2>/dev/null" && test -S "$SOCK"; then
		kill -TERM $pid
		wait_pid_exit 5 $pid >/dev/null
		return 0
	fi
	wait_pid_exit 5 $pid
	rc=$?
	return $rc
}

SIP_RULESET='table inet fw {
	ct helper sip-5060 { type "sip" protocol udp; l3proto inet; }
	chain prerouting { type filter hook prerouting priority 0; udp dport 5060 ct helper set "sip-5060"; }
}'
if ! load "$SIP_RULESET"; then
	echo "SKIP: cannot load a ct helper object of type sip"
	exit $ksft_skip
fi

# 1. refused, naming where
run_nfqd; rc=$?
check_eq "nfqd refuses to start with the kernel SIP ALG attached (exit)" 1 $rc
if grep -q 'kernel.s SIP ALG is attached in table inet fw (ct helper "sip-5060", chain prerouting).*--allow-kernel-alg' "$W/nfqd.log"; then
	pass "the error line names table, object and chain"
else
	fail "the error line names table, object and chain: $(cat "$W/nfqd.log")"
fi
out=$(ip netns exec "$rt" "$NFQD" --probe -c /dev/null --queue $QNUM 2>&1)
if grep -q 'kernel SIP ALG in the ruleset: yes, table inet fw (ct helper "sip-5060", chain prerouting)' <<<"$out"; then
	pass "nfqd --probe reports the kernel SIP ALG"
else
	fail "nfqd --probe reports the kernel SIP ALG: $out"
fi

# 2. allowed
run_nfqd --allow-kernel-alg; rc=$?
check_eq "nfqd starts with --allow-kernel-alg" 0 $rc
if grep -q 'allowed by allow-kernel-alg' "$W/nfqd.log"; then
	pass "--allow-kernel-alg still warns"
else
	fail "--allow-kernel-alg still warns: $(cat "$W/nfqd.log")"
fi

# 3. through a map
load 'table ip nat4 {
	ct helper sip-a { type "sip" protocol udp; }
	chain pre { type filter hook prerouting priority 0; ct helper set udp dport map { 5060 : "sip-a" }; }
}'
run_nfqd; rc=$?
check_eq "nfqd refuses a ct helper map with a sip object (exit)" 1 $rc
if grep -q 'attached in table ip nat4 (ct helper map @.*, chain pre)' "$W/nfqd.log"; then
	pass "the error line names the map's table and chain"
else
	fail "the error line names the map's table and chain: $(cat "$W/nfqd.log")"
fi

# 4. iptables-nft -j CT --helper sip (nft_compat target)
if ip netns exec "$rt" nft flush ruleset &&
	ip netns exec "$rt" iptables-nft -t raw -A PREROUTING -p udp --dport 5060 \
		-j CT --helper sip 2>/dev/null; then
	run_nfqd; rc=$?
	check_eq "nfqd refuses iptables -j CT --helper sip (exit)" 1 $rc
	if grep -q 'attached in table ip raw (iptables -j CT --helper sip, chain PREROUTING)' "$W/nfqd.log"; then
		pass "the error line names the raw table and chain"
	else
		fail "the error line names the raw table and chain: $(cat "$W/nfqd.log")"
	fi
else
	skip "iptables-nft cannot load -j CT --helper sip here"
fi

# 5. only ftp: no finding
if load 'table inet fw {
	ct helper ftp-21 { type "ftp" protocol tcp; l3proto inet; }
	chain prerouting { type filter hook prerouting priority 0; tcp dport 21 ct helper set "ftp-21"; }
}'; then
	run_nfqd; rc=$?
	check_eq "nfqd starts with only an ftp ct helper" 0 $rc
	out=$(ip netns exec "$rt" "$NFQD" --probe -c /dev/null --queue $QNUM 2>&1)
	if grep -q 'kernel SIP ALG in the ruleset: no' <<<"$out"; then
		pass "nfqd --probe reports no kernel SIP ALG with only ftp"
	else
		fail "nfqd --probe reports no kernel SIP ALG with only ftp: $out"
	fi
else
	skip "cannot load a ct helper object of type ftp"
fi

exit $ret
