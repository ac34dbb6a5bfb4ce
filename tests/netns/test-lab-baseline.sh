#!/bin/bash
# test-lab-baseline.sh - the lab itself, and the problem sipnat solves.
# No sipnat: the router runs a plain 1:1 static NAT (scripts/lab.sh) and
# forwards everything.
#  1. The lab works: a caller outside calls the server behind the NAT at its
#     public address 203.0.113.5:5060 (DNAT to 10.0.0.5:5062); when the
#     server's SDP is written by hand with the public address, RTP arrives
#     on both sides (nft counters in the receiving namespaces).
#  2. The NAT breaks SIP: when the server writes its own address (as every
#     server does), the SDP seen on the outside link carries the private
#     10.0.0.5, and the caller's RTP never reaches the server.
#  3. The registrar peer works: the phone behind the NAT registers at
#     kamailio outside with a Contact written by hand with its public address
#     and receives a call through kamailio, with RTP both ways.
#  4. The same lab works over IPv6 (NAT66 fd00::5 <-> 2001:db8::5).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../scripts/lab.sh"

require_root
checktool "nft --version" "run test without nft"
checktool "command -v sipp" "run test without sipp (sip-tester)"
checktool "command -v tshark" "run test without tshark"
checktool "ip link add sntest$$ type veth peer name sntestp$$ && ip link del sntest$$" \
	"run test without veth"
trap cleanup EXIT

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
lab_plain_nat || { fail "lab: plain static NAT loads"; exit $ret; }
pass "lab: namespaces, links, routes and a plain static NAT are up"

# 1. the lab works when the SDP is right
lab_uas "$LAB_IN" uas1 $LAB_SERVER $LAB_SERVER_PORT $LAB_RTP_SERVER $LAB_SERVER_PUB ||
	fail "UAS listens on $LAB_SERVER:$LAB_SERVER_PORT"
lab_uac "$LAB_OUT" uac1 $LAB_CALLER $LAB_RTP_CALLER $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
check_eq "call through the static NAT completes (caller sipp exit)" 0 $rc_uac
check_eq "call through the static NAT completes (server sipp exit)" 0 $rc_uas
check_eq "RTP caller -> server arrives (public SDP by hand)" $LAB_PCAP_PACKETS \
	"$(lab_counter "$LAB_IN" rtp_server)"
check_eq "RTP server -> caller arrives" $LAB_PCAP_PACKETS "$(lab_counter "$LAB_OUT" rtp_caller)"

# 2. without help, the private address leaks and media is lost
ip netns exec "$LAB_IN" nft reset counters table inet lab_rx >/dev/null
ip netns exec "$LAB_OUT" nft reset counters table inet lab_rx >/dev/null
lab_capture_start "$LAB_RT" out0 out || fail "tshark captures on the outside link"
lab_uas "$LAB_IN" uas2 $LAB_SERVER $LAB_SERVER_PORT $LAB_RTP_SERVER
lab_uac "$LAB_OUT" uac2 $LAB_CALLER $LAB_RTP_CALLER $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
wait_pid_exit 10 "$LAB_UAS_PID"
lab_capture_stop out
check_eq "signalling still completes without sipnat (caller sipp exit)" 0 $rc_uac
sdp=$(lab_sdp_addrs out | sort -u | tr '\n' ' ')
case " $sdp" in
*" $LAB_SERVER "*) pass "without sipnat the server's SDP leaks $LAB_SERVER to the outside link" ;;
*) fail "without sipnat: expected $LAB_SERVER in an SDP c= outside, found: ${sdp:-none}" ;;
esac
check_eq "without sipnat RTP caller -> server is lost" 0 "$(lab_counter "$LAB_IN" rtp_server)"
leaks=$(lab_private_leaks out)
if [ -n "$leaks" ]; then
	pass "the leak detector of the sipnat tests sees the private address (${leaks%%;*})"
else
	fail "leak detector: expected lines naming $LAB_SERVER, found none"
fi

# 3. kamailio as registrar and proxy, with hand-written public addresses
ip netns exec "$LAB_IN" nft reset counters table inet lab_rx >/dev/null
ip netns exec "$LAB_OUT" nft reset counters table inet lab_rx >/dev/null
lab_kamailio "$LAB_OUT" $LAB_REGISTRAR || fail "kamailio listens on $LAB_REGISTRAR:5060"
lab_register "$LAB_IN" reg3 $LAB_PHONE 5060 phone $LAB_REGISTRAR:5060 $LAB_PHONE_PUB:5060
check_eq "phone registers at kamailio through the NAT (sipp exit)" 0 $?
lab_uas "$LAB_IN" uas3 $LAB_PHONE 5060 $LAB_RTP_PHONE $LAB_PHONE_PUB $LAB_PHONE_PUB:5060
lab_uac "$LAB_OUT" uac3 $LAB_CALLER $LAB_RTP_CALLER $LAB_REGISTRAR:5060 $LAB_CALLER phone
wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
check_eq "call through kamailio to the phone completes (caller sipp exit)" 0 $rc_uac
check_eq "call through kamailio to the phone completes (phone sipp exit)" 0 $rc_uas
check_eq "RTP caller -> phone arrives" $LAB_PCAP_PACKETS "$(lab_counter "$LAB_IN" rtp_phone)"
check_eq "RTP phone -> caller arrives" $LAB_PCAP_PACKETS "$(lab_counter "$LAB_OUT" rtp_caller)"

# 4. IPv6, hand-written public addresses
ip netns exec "$LAB_IN" nft reset counters table inet lab_rx >/dev/null
ip netns exec "$LAB_OUT" nft reset counters table inet lab_rx >/dev/null
lab_uas "$LAB_IN" uas4 $LAB_SERVER6 $LAB_SERVER_PORT $LAB_RTP_SERVER $LAB_SERVER6_PUB \
	"$(lab_hostport $LAB_SERVER6_PUB $LAB_SERVER_PUB_PORT)" ||
	fail "UAS listens on [$LAB_SERVER6]:$LAB_SERVER_PORT"
lab_uac "$LAB_OUT" uac4 $LAB_CALLER6 $LAB_RTP_CALLER "$(lab_hostport $LAB_SERVER6_PUB $LAB_SERVER_PUB_PORT)"
wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
check_eq "IPv6 call through NAT66 completes (caller sipp exit)" 0 $rc_uac
check_eq "IPv6 call through NAT66 completes (server sipp exit)" 0 $rc_uas
check_eq "IPv6 RTP caller -> server arrives" $LAB_PCAP_PACKETS "$(lab_counter "$LAB_IN" rtp_server)"
check_eq "IPv6 RTP server -> caller arrives" $LAB_PCAP_PACKETS "$(lab_counter "$LAB_OUT" rtp_caller)"

[ $ret -ne 0 ] && { lab_logs; dump_ruleset "$LAB_RT"; }
exit $ret
