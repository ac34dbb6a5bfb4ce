#!/bin/bash
# test-expect-two-phones.sh - two phones behind the kernel's own masquerade
# (the admin's `masquerade` of 10.0.0.0/24), both on SIP port 5060 and the
# same RTP port, with nfqd as the conntrack helper "sipnat" (media-backend
# expect, no map and no masquerade keys: the NAT view comes from conntrack).
# Needs nfnetlink_cthelper and NFQA_CT: SKIP on kernels without them (the
# CI host); runs in the stock-kernel guest.
#  1. Both register at kamailio outside: distinct public Contacts, each the
#     address:port the kernel's masquerade gave that phone, as in its Via.
#  2. Both are called through kamailio at the same time, by two callers
#     and then by one caller address twice (SIP 5060 and 5070, RTP on two
#     ports: equal public media ports would make identical expectations),
#     and both call out at the same time: calls complete, each phone gets
#     its own peer's RTP only, each peer gets RTP, all of it in flows made
#     from expectations.
#  3. `conntrack -L expect` lists sipnat's expectations of both phones
#     during the calls (from one caller address: on distinct public
#     ports), none after the BYEs; the phones' SDP outside carries the
#     public address (two distinct media ports for the one caller) and no
#     private address leaves.
set -u
# Calls hold 4 s in the guest (calls.sh: 3 s), so a look at the
# expectations in a loaded TCG guest fits inside each call.
if [ -z "${LAB_HOLD_MS:-}" ] && [ "${SIPNAT_VM:-}" = 1 ]; then
	LAB_HOLD_MS=4000
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../scripts/lab.sh"
. "$here/calls.sh"

call_require_tools
checktool "command -v conntrack" "run test without conntrack (conntrack-tools)"
trap cleanup EXIT

PUB=$PHONES_PUB
LAB_QNUM=$((20 + RANDOM % 1000))
lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
if ! lab_expect_supported; then
	echo "SKIP: this kernel has no userspace conntrack helpers or no NFQA_CT (nfqd --probe)"
	exit $ksft_skip
fi
phones_up || { fail "lab: the phones' and second caller's addresses, counters"; exit $ret; }
# tshark first: a late start would let the registrations' conntrack
# entries (the phones' public ports) time out before kamailio calls the
# phones.  Its first start in a fresh guest reads its libraries over 9p
# under TCG: allow it longer than the later probes.
LAB_CAPTURE_WAIT=180 call_capture || { lab_logs; exit $ret; }

# The router: the admin's masquerade and a forward chain that lets new
# flows out only; media in comes through expectations (counted per flow
# made from one, both directions).  Then nfqd (registers the helper) and
# sipnat's ruleset in helper mode.
on_cleanup lab_helper_unregister
ip netns exec "$LAB_RT" nft -f - <<EOF || { fail "router: masquerade and firewall load"; exit $ret; }
table ip lab_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.0.0.0/24 oifname "out0" masquerade
	}
}
table inet lab_fw {
	counter media_expected { }
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct status expected meta l4proto udp counter name media_expected
		ct state established,related accept
		iifname "in0" oifname "out0" accept
	}
}
EOF
if lab_nfqd_expect_start &&
	ip netns exec "$LAB_RT" "$LAB_TOP/scripts/sipnat-rules" load --method helper \
		--queue "$LAB_QNUM" --sip-ports 5060 >>"$LAB_DIR/sipnat-rules.log" 2>&1; then
	pass "router runs masquerade, nfqd (media-backend expect, no map) and sipnat's helper rules"
else
	fail "router runs masquerade, nfqd (media-backend expect, no map) and sipnat's helper rules"
	cat "$LAB_DIR/sipnat-rules.log" "$LAB_DIR/nfqd.log" >&2
	exit $ret
fi
# Phones keep their public ports alive by re-registering; these register
# once, and a slow guest can take longer than the 30 s an unreplied-to UDP
# flow lives between the REGISTER and kamailio's INVITE.
ip netns exec "$LAB_RT" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=120
media_expected() { nft_counter_packets "$LAB_RT" inet lab_fw media_expected; }

# PHONES_DURING hook: while the calls of round WHAT are up, sipnat's
# expectations for media towards each phone (dst = the public address,
# master-src = the phone) appear; every listing is kept in
# $LAB_DIR/WHAT.expect (each look takes a while in the guest, and the
# expectations for RTP go at its first packet: one look may miss some).
exp_in_seen()
{
	grep " dst=$PUB " "$LAB_DIR/$1.expect" | grep -q "master-src=$2 "
}
exp_both()
{
	lab_expect_list | grep 'sipnat' >>"$LAB_DIR/$1.expect"
	exp_in_seen "$1" $PH1 && exp_in_seen "$1" $PH2 && return 0
	! kill -0 "$2" 2>/dev/null && ! kill -0 "$3" 2>/dev/null
}
exp_during()
{
	local what=$1 n
	: >"$LAB_DIR/$what.expect"
	busywait 30000 exp_both "$what" "$2" "$3"
	n=$( (exp_in_seen "$what" $PH1 && echo phone1; exp_in_seen "$what" $PH2 && echo phone2) | tr '\n' ' ')
	check_eq "$what: conntrack -L expect lists sipnat's expectations for media to both phones during the calls" \
		"phone1 phone2 " "$n"
}
# exp_after WHAT MEDIA0: none left after the BYEs; the media of all four
# streams (2 x 2 x LAB_PCAP_PACKETS) in flows made from expectations.
exp_after()
{
	slowwait 5 eval '[ "$(lab_expectations)" -eq 0 ]'
	check_eq "$1: no sipnat expectation left after the BYEs" 0 "$(lab_expectations)"
	check_eq "$1: RTP in flows made from expectations (ct status expected)" \
		$((4 * LAB_PCAP_PACKETS)) $(($(media_expected) - $2))
}
# inbound_ports LISTING PHONE: the public ports of the expectations for
# media towards PHONE (dst = the public address), sorted.
inbound_ports()
{
	grep "master-src=$2 " "$1" 2>/dev/null | grep " dst=$PUB " |
		sed -n 's/.* dst=[^ ]* sport=[0-9]* dport=\([0-9]*\) .*/\1/p' | sort -un | tr '\n' ' '
}

# No expectation before the calls (this also brings conntrack(8) into the
# guest's page cache: its first run there is slow enough to miss a call).
check_eq "no sipnat expectation before the calls" 0 "$(lab_expectations)"

# 1. registrations
phones_register

# 2. both phones called through kamailio at once, by two callers
m0=$(media_expected)
PHONES_DURING=exp_during phones_in in $C2 $C_RTP 5060
exp_after in "$m0"

# ... and by one caller address (SIP 5060 and 5070, RTP C_RTP and C_RTP_B)
m0=$(media_expected)
PHONES_DURING=exp_during phones_in same $C1 $C_RTP_B 5070
exp_after same "$m0"
p1=$(inbound_ports "$LAB_DIR/same.expect" $PH1)
p2=$(inbound_ports "$LAB_DIR/same.expect" $PH2)
common=
for p in $p1; do
	case " $p2" in *" $p "*) common="$common $p" ;; esac
done
if [ -n "$p1" ] && [ -n "$p2" ] && [ -z "$common" ]; then
	pass "same: expectations from $C1 towards the phones on distinct public ports ($p1/ $p2)"
else
	fail "same: expectations from $C1 to $PUB: expected distinct ports per phone, found phone1 '$p1' phone2 '$p2'"
fi
m=$(phones_sdp same)
nports=$(echo "$m" | awk -v pub=$PUB '$1 == pub { print $2 }' | sort -u | wc -l)
nother=$(echo "$m" | awk -v pub=$PUB 'NF && $1 != pub' | wc -l)
check_eq "same: phones' SDP outside: $PUB with two distinct media ports ($(echo $m))" \
	"2 0" "$nports $nother"

# 3. both phones call out at once (from 5060, the same RTP port)
m0=$(media_expected)
PHONES_DURING=exp_during phones_out out
exp_after out "$m0"

phones_no_leak
phones_via
m=$(phones_sdp)
check_eq "phones' SDP outside: c= is $PUB in every one" "" \
	"$(echo "$m" | awk -v pub=$PUB 'NF && $1 != pub' | tr '\n' ' ')"
check_eq "nfqd status: no pinhole failures" 0 \
	"$(lab_nfqd_status | awk '$1 == "pinholes-failed" { print $2 }')"

kill -TERM "$LAB_KAMAILIO_PID" 2>/dev/null
[ $ret -ne 0 ] && { lab_logs; dump_ruleset "$LAB_RT"; lab_nfqd_status >&2;
	ip netns exec "$LAB_RT" conntrack -L >&2; cat "$LAB_DIR"/*.expect >&2 2>/dev/null; }
exit $ret
