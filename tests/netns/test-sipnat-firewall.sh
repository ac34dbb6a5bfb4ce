#!/bin/bash
# test-sipnat-firewall.sh - sipnat as deployed: the example static-NAT
# firewall (forward policy drop, nft-rules/example-static-nat.nft), sipnat's
# rules loaded by scripts/sipnat-rules and nfqd in the router.
#  1. (a) A call from outside to the server at 203.0.113.5:5060 (5062
#     inside) and (b) the phone calling out, over IPv4 and IPv6, and (c) the
#     phone registered at kamailio and called through it each complete with
#     RTP both ways: the media got through only because nfqd opened pinholes.
#  2. Pinholes (sets media4/media6) exist during each call and are gone
#     after its BYE.
#  3. (d) No mapped private address in SIP/SDP on the outside link.
#     A call answered with early media (183 + SDP) and then rejected (486)
#     gets its early media through, and its pinholes close with the 486.
#  4. (e) Media to a port no dialog opened is dropped by the firewall (its
#     counter "dropped" grows by exactly the packets sent; none arrive).
#  5. Control: with nfqd running but opening no pinholes (media-backend
#     none), the same inbound call completes and its RTP is dropped both ways.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../scripts/lab.sh"
. "$here/calls.sh"

call_require_tools
trap cleanup EXIT

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
lab_sipnat_up
case $? in
0) pass "router runs the example firewall, sipnat's rules and nfqd" ;;
4) echo "SKIP: this tree lacks the example firewall, sipnat-rules or nfqd"; exit $ksft_skip ;;
*) fail "router runs the example firewall, sipnat's rules and nfqd"; lab_logs; exit $ret ;;
esac
CALL_PINHOLES=1

call_basic_set
call_rejected "rejected-ipv4"
call_no_leak_all

# (e) stray media: 5 datagrams to the server's media port, no dialog open.
call_reset_counters
before=$(lab_fw_dropped)
ip netns exec "$LAB_OUT" bash -c "for i in 1 2 3 4 5; do echo stray >/dev/udp/$LAB_SERVER_PUB/$LAB_RTP_SERVER; done"
slowwait 2 test "$(lab_fw_dropped)" -ge $((before + 5))
check_eq "media to a port no dialog opened is dropped (firewall counter dropped grows)" 5 \
	$(($(lab_fw_dropped) - before))
check_eq "media to a port no dialog opened never arrives" 0 "$(lab_counter "$LAB_IN" rtp_server)"

# 5. control: the pinholes are what lets media through
kill -TERM "$LAB_NFQD_PID"
wait_pid_exit 5 "$LAB_NFQD_PID" >/dev/null
lab_nfqd_start --media-backend none || fail "nfqd restarts with media-backend none"
call_reset_counters
lab_uas "$LAB_IN" ctl-uas $LAB_SERVER $LAB_SERVER_PORT $LAB_RTP_SERVER
lab_uac "$LAB_OUT" ctl-uac $LAB_CALLER $LAB_RTP_CALLER $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
wait_pid_exit 10 "$LAB_UAS_PID"
check_eq "control: without pinholes the call still completes (caller sipp exit)" 0 $rc_uac
check_eq "control: without pinholes RTP caller -> server is dropped" 0 \
	"$(lab_counter "$LAB_IN" rtp_server)"
check_eq "control: without pinholes RTP server -> caller is dropped" 0 \
	"$(lab_counter "$LAB_OUT" rtp_caller)"

[ $ret -ne 0 ] && { lab_logs; dump_ruleset "$LAB_RT"; lab_nfqd_status >&2; }
exit $ret
