#!/bin/bash
# test-expect-backend.sh - nfqd as the userspace conntrack helper "sipnat"
# (media-backend expect, no `map`: the NAT mapping comes from conntrack)
# behind the example static-NAT firewall (forward policy drop; related
# flows accepted).  Needs nfnetlink_cthelper and NFQA_CT: SKIP on kernels
# without them (the CI host); runs in the stock-kernel guest.
#  1. nfqd registers the helper, sipnat-rules (auto) attaches it; calls
#     in (server 5060 -> 5062 inside), out and through a registrar complete
#     over IPv4 and IPv6, with RTP both ways on the right private ports,
#     carried by flows made from expectations (ct status expected).
#  2. `conntrack -L expect` lists sipnat's expectations during each call,
#     none after its BYE.
#  3. nfqd killed with SIGKILL mid-call: the media flow it set up still
#     passes (a new flow does not), and a restarted nfqd handles the next
#     call.
#  4. A call with an audio and an image (T.38) stream: the kernel reports
#     (`conntrack -L expect`, class=) class 0 for the audio expectations and
#     class 1 for the image ones; packets to the image port reach the phone
#     through its expectation, and nfqd does not see them (not queued).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
. "$top/scripts/lab.sh"
. "$here/calls.sh"

require_root
checktool "test -x $LAB_NFQD" "run test without build/nfqd/nfqd (make)"
checktool "nft --version" "run test without nft"
checktool "command -v conntrack" "run test without conntrack (conntrack-tools)"
checktool "command -v sipp" "run test without sipp (sip-tester)"
checktool "command -v tshark" "run test without tshark"
checktool "command -v kamailio" "run test without kamailio"
checktool "command -v cc" "build udpsend without a C compiler"
trap cleanup EXIT

LAB_QNUM=$((20 + RANDOM % 1000))
lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
if ! lab_expect_supported; then
	echo "SKIP: this kernel has no userspace conntrack helpers or no NFQA_CT (nfqd --probe)"
	exit $ksft_skip
fi
bin=$(mktemp -d /tmp/sipnat-expect.XXXXXX)
on_cleanup "rm -rf '$bin'"
cc -std=c11 -D_GNU_SOURCE -Wall -Werror -o "$bin/udpsend" "$here/udpsend.c" ||
	{ fail "build udpsend"; exit $ret; }
slowwait 5 ip netns exec "$LAB_RT" ping -6 -q -c1 -W1 $LAB_SERVER6 >/dev/null &&
	slowwait 5 ip netns exec "$LAB_RT" ping -6 -q -c1 -W1 $LAB_CALLER6 >/dev/null ||
	fail "lab: the router reaches both sides over IPv6"

on_cleanup lab_helper_unregister

ip netns exec "$LAB_RT" nft -f "$top/nft-rules/example-static-nat.nft" ||
	{ fail "router loads the example firewall"; exit $ret; }
lab_nfqd_expect_start || { fail "nfqd starts with media-backend expect"; cat "$LAB_DIR/nfqd.log" >&2; exit $ret; }
pass "nfqd starts with media-backend expect and no map"
out=$(ip netns exec "$LAB_RT" "$top/scripts/sipnat-rules" load --queue "$LAB_QNUM" \
	--sip-ports $LAB_SERVER_PUB_PORT,$LAB_SERVER_PORT 2>&1)
if grep -q 'conntrack helper "sipnat"' <<<"$out"; then
	pass "sipnat-rules load (auto) attaches the registered helper"
else
	fail "sipnat-rules load: expected helper mode, found: $out"
	cat "$LAB_DIR/nfqd.log" >&2
	exit $ret
fi
# Media of flows made from expectations, both directions (the evidence
# that expectations, not an open firewall, let it through).
ip netns exec "$LAB_RT" nft -f - <<-EOF
table inet exptest {
	counter media_pass { }
	chain media_fwd {
		type filter hook forward priority filter - 5; policy accept;
		ct status expected meta l4proto udp counter name media_pass
	}
}
EOF

# calls.sh's pinhole checks, on expectations: sipnat's in `conntrack -L
# expect` (minus EXP_BASE left by an earlier nfqd), media of expected flows.
EXP_BASE=0
lab_pinholes() { echo $(($(lab_expectations) - EXP_BASE)); }
lab_media_pass() { nft_counter_packets "$LAB_RT" inet exptest media_pass; }
CALL_PINHOLES=1

call_basic_set

# 4. Expectation classes.  Both peers offer/answer audio plus
# "m=image <rtp+4> udptl t38"; the image stream's RTCP-style pinhole at +5
# is opened too (dialog.c pairs every UDP stream).  They send no RTP, so
# no expectation is used up before it is listed.
for x in uac uas; do
	sed -e 's|^a=fmtp:101 0-15$|&\nm=image [media_port+4] udptl t38\na=T38FaxVersion:0|' \
		-e 's|<exec play_pcap_audio="[^"]*"/>|<exec command="true"/>|' \
		"$here/peers/$x.xml" >"$bin/$x-t38.xml"
done
t38_phone=$((LAB_RTP_PHONE + 4)) t38_caller=$((LAB_RTP_CALLER + 4))
ip netns exec "$LAB_IN" nft add counter inet lab_rx t38_phone
ip netns exec "$LAB_IN" nft add rule inet lab_rx input udp dport $t38_phone counter name t38_phone
# Packets nfqd passed unread (not SIP, too short, ...): queued T.38 would
# count here; the call's own SIP never does.
nfqd_unread() { ip netns exec "$LAB_RT" "$LAB_NFQD" status --control-socket "$LAB_DIR/nfqd.sock" 2>/dev/null | awk '$1 ~ /^passthrough-/ { n += $2 } END { print n + 0 }'; }
exp_all() { [ "$(lab_pinholes)" -ge 8 ]; }
LAB_HOLD_MS=15000 LAB_UAS_XML=$bin/uas-t38 lab_uas "$LAB_OUT" class-uas $LAB_CALLER 5060 $LAB_RTP_CALLER ||
	fail "class: outside UA listens"
LAB_HOLD_MS=15000 LAB_UAC_XML=$bin/uac-t38 lab_uac "$LAB_IN" class-uac $LAB_PHONE $LAB_RTP_PHONE \
	$LAB_CALLER:5060
busywait 30000 exp_all
# Quickly, while the call holds (15 s; the QEMU guest is slow): the list,
# then T.38 from the caller's image port to the phone's public one.
unread=$(nfqd_unread)
exps=$(ip netns exec "$LAB_RT" conntrack -L expect -f ipv4 2>/dev/null | grep sipnat)
ip netns exec "$LAB_OUT" "$bin/udpsend" $LAB_CALLER $LAB_PHONE_PUB $t38_phone 5 10 $t38_caller
kill -0 "$LAB_UAC_PID" 2>/dev/null ||
	fail "class: the call ended before the T.38 packets were sent (raise LAB_HOLD_MS)"
for pc in $LAB_RTP_PHONE:0 $((LAB_RTP_PHONE + 1)):0 $LAB_RTP_CALLER:0 $((LAB_RTP_CALLER + 1)):0 \
	$t38_phone:1 $((t38_phone + 1)):1 $t38_caller:1 $((t38_caller + 1)):1; do
	found=$(grep "sport=0 dport=${pc%:*} " <<<"$exps" | grep -o 'class=[0-9]*' | head -n1)
	check_eq "class: expectation to port ${pc%:*} (${pc#*:} = $([ ${pc#*:} = 0 ] && echo audio || echo image))" \
		"class=${pc#*:}" "${found:-none}"
done
t38_at_least() { [ "$(lab_counter "$LAB_IN" t38_phone)" -ge "$1" ]; }
slowwait 5 t38_at_least 5
check_eq "class: T.38 packets reach the phone through the class-1 expectation" 5 \
	"$(lab_counter "$LAB_IN" t38_phone)"
check_eq "class: nfqd saw none of the T.38 packets (status passthrough-*)" "$unread" "$(nfqd_unread)"
wait_pid_exit 40 "$LAB_UAC_PID"
check_eq "class: the audio+image call completes (phone sipp exit)" 0 $?
wait_pid_exit 10 "$LAB_UAS_PID"
slowwait 5 lab_pinholes_closed
check_eq "class: no expectation left after BYE" 0 "$(lab_pinholes)"

# 3. SIGKILL mid-call, once the answer opened the expectations.  The peers are then
# stopped too (by PID, freeing their RTP ports), and the caller's side of
# the media flow is continued by udpsend from the same port.
call_reset_counters
LAB_HOLD_MS=20000 lab_uas "$LAB_IN" kill-uas $LAB_SERVER $LAB_SERVER_PORT $LAB_RTP_SERVER
LAB_HOLD_MS=20000 lab_uac "$LAB_OUT" kill-uac $LAB_CALLER $LAB_RTP_CALLER \
	$LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
# Killed as soon as the answer opened the expectations: the media starts
# while nfqd is dead, and no BYE reaches it (which would end the media).
exp_open() { [ "$(lab_pinholes)" -gt 0 ]; }
rtp_at_least() { [ "$(lab_counter "$LAB_IN" rtp_server)" -ge "$1" ]; }
busywait 30000 exp_open
kill -KILL "$LAB_NFQD_PID"
wait_pid_exit 5 "$LAB_NFQD_PID" >/dev/null
slowwait 30 rtp_at_least $LAB_PCAP_PACKETS
check_eq "kill: media reaches the server with nfqd killed mid-call" $LAB_PCAP_PACKETS \
	"$(lab_counter "$LAB_IN" rtp_server)"
# the caller's source port of that flow, as conntrack has it
sport=$(ip netns exec "$LAB_RT" conntrack -L -p udp 2>/dev/null |
	grep -o "src=$LAB_CALLER dst=$LAB_SERVER_PUB sport=[0-9]* dport=$LAB_RTP_SERVER" |
	head -n1 | sed 's/.*sport=\([0-9]*\).*/\1/')
[ -n "$sport" ] || { fail "kill: the media flow is in conntrack"; ip netns exec "$LAB_RT" conntrack -L >&2; }
kill -KILL "$LAB_UAC_PID" "$LAB_UAS_PID" 2>/dev/null
wait_pid_exit 5 "$LAB_UAC_PID" >/dev/null
wait_pid_exit 5 "$LAB_UAS_PID" >/dev/null
ip netns exec "$LAB_OUT" "$bin/udpsend" $LAB_CALLER $LAB_SERVER_PUB $LAB_RTP_SERVER 5 10 "${sport:-$LAB_RTP_CALLER}"
slowwait 3 rtp_at_least $((LAB_PCAP_PACKETS + 5))
check_eq "kill: the media flow keeps passing after nfqd died (RTP caller -> server)" \
	$((LAB_PCAP_PACKETS + 5)) "$(lab_counter "$LAB_IN" rtp_server)"
# control: media to a port no expectation names is dropped by the firewall
before=$(nft_counter_packets "$LAB_RT" inet sipnat_example dropped)
ip netns exec "$LAB_OUT" "$bin/udpsend" $LAB_CALLER $LAB_SERVER_PUB $((LAB_RTP_SERVER + 10)) 5 10
fw_dropped_at_least() { [ "$(nft_counter_packets "$LAB_RT" inet sipnat_example dropped)" -ge "$1" ]; }
slowwait 3 fw_dropped_at_least $((before + 5))
check_eq "kill: media to a port without expectation is dropped (firewall counter)" 5 \
	$(($(nft_counter_packets "$LAB_RT" inet sipnat_example dropped) - before))
EXP_BASE=$(lab_expectations)
if lab_nfqd_expect_start; then
	pass "nfqd restarts after SIGKILL (takes the registered helper over)"
else
	fail "nfqd restarts after SIGKILL"
fi
call_out "after-restart-ipv4" $LAB_PHONE $LAB_PHONE_PUB $LAB_CALLER

kill -TERM "$LAB_NFQD_PID" 2>/dev/null
wait_pid_exit 5 "$LAB_NFQD_PID" >/dev/null
if grep -q "stays registered: the ruleset names it" "$LAB_DIR/nfqd.log"; then
	pass "nfqd stops cleanly; the helper stays while the ruleset names it"
else
	fail "nfqd stop: expected the helper kept for the ruleset; log: $(tail -n 3 "$LAB_DIR/nfqd.log")"
fi

[ $ret -ne 0 ] && { lab_logs; dump_ruleset "$LAB_RT"; ip netns exec "$LAB_RT" conntrack -L >&2; ip netns exec "$LAB_RT" conntrack -L expect >&2; tail -n 80 "$LAB_DIR/nfqd.log" >&2; }
exit $ret
