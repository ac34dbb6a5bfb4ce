#!/bin/bash
# scripts/demo.sh - `make demo`: one real call through a static NAT, first
# without sipnat (the SDP leaks the private address, audio goes one way),
# then with sipnat (nfqd rewrites SIP/SDP, pinholes let the audio through
# both ways).  Prints a short report, removes the lab on exit or Ctrl-C.
#
# Owns: the story told to a newcomer.  Must not: touch anything outside the
# namespaces scripts/lab.sh creates.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/netns/lib.sh"
. "$top/scripts/lab.sh"

require_root
for t in nft sipp tshark ip; do
	command -v $t >/dev/null || { echo "demo: $t is missing (run scripts/deps.sh)"; exit 1; }
done
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM

# 7 s of real G.711 audio each way instead of the tests' 10 DTMF packets.
LAB_PCAP=/usr/share/sip-tester/g711a.pcap
LAB_HOLD_MS=7500
audio_packets=$(capinfos -c -M "$LAB_PCAP" 2>/dev/null | awk '/Number of packets/ { print $NF }')

say() { printf '%s\n' "$*"; }
die() { say "demo: $*"; lab_logs; exit 1; }

# one_call TAG: the caller outside calls the server's public address; RTP
# plays both ways; captures on both router links.
one_call()
{
	ip netns exec "$LAB_IN" nft reset counters table inet lab_rx >/dev/null
	ip netns exec "$LAB_OUT" nft reset counters table inet lab_rx >/dev/null
	lab_capture_start "$LAB_RT" in0 "$1-in" "$LAB_RT" $LAB_SERVER || die "tshark did not start"
	lab_capture_start "$LAB_RT" out0 "$1-out" || die "tshark did not start"
	lab_uas "$LAB_IN" "$1-uas" $LAB_SERVER $LAB_SERVER_PORT $LAB_RTP_SERVER ||
		die "the server did not start"
	lab_uac "$LAB_OUT" "$1-uac" $LAB_CALLER $LAB_RTP_CALLER $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
	say "   calling sip:service@$LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT from $LAB_CALLER (about 8 s of audio) ..."
	wait_pid_exit 40 "$LAB_UAC_PID"
	call_rc=$?
	wait_pid_exit 10 "$LAB_UAS_PID"
	lab_capture_stop "$1-in"
	lab_capture_stop "$1-out"
	to_server=$(lab_counter "$LAB_IN" rtp_server)
	to_caller=$(lab_counter "$LAB_OUT" rtp_caller)
}

audio_report()
{
	say "   audio caller -> server: ${to_server:-0} of $audio_packets RTP packets arrived"
	say "   audio server -> caller: ${to_caller:-0} of $audio_packets RTP packets arrived"
}

say "sipnat demo: a SIP server behind a 1:1 static NAT, called from outside"
say ""
say "  inside                 router                              outside"
say "  server $LAB_SERVER:$LAB_SERVER_PORT -- NAT $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT <-> $LAB_SERVER:$LAB_SERVER_PORT -- caller $LAB_CALLER"
say "  (three network namespaces; nothing leaves this machine)"
say ""

lab_up || die "could not build the lab"

say "1) a router with a plain static NAT and no SIP help"
lab_plain_nat || die "could not load the plain NAT"
one_call plain
say "   SDP addresses the caller received (outside link):"
lab_sdp_addrs plain-out | sort -u | while read -r a; do
	case $a in
	10.*) say "     c=$a   <- the server's PRIVATE address: unreachable from outside" ;;
	*) say "     c=$a" ;;
	esac
done
audio_report
say "   => one-way audio: the caller sends to a private address."
say ""

ip netns exec "$LAB_RT" nft delete table ip lab_nat
ip netns exec "$LAB_RT" nft delete table ip6 lab_nat

say "2) the same router with sipnat: a firewall that drops what it does not know,"
say "   sipnat's rules (SIP to nfqd, media pinholes) and nfqd rewriting SIP/SDP"
lab_sipnat_up
case $? in
0) ;;
4) say "   sipnat is not complete in this tree yet (nfqd or the rules are missing)"
   exit 0 ;;
*) die "could not start sipnat" ;;
esac
one_call sipnat
[ "$call_rc" = 0 ] || die "the call failed (sipp exit $call_rc)"
say "   SIP on the inside link (what the server sees and sends):"
lab_sip_summary sipnat-in
say "   the same messages on the outside link (what the caller sees):"
lab_sip_summary sipnat-out
leaks=$(lab_private_leaks sipnat-out)
audio_report
say "   media pinholes left after BYE: $(lab_pinholes)"
say ""
say "   nfqd's counters (nfqd status):"
lab_nfqd_status | awk '$1 ~ /^(seen|out|in|rewritten|unchanged|pinholes-opened|pinholes-closed)$/ {
	printf "     %-16s %s\n", $1, $2 }'
say ""
if [ -n "$leaks" ]; then
	say "=> a private address still left the router: ${leaks%%;*}"
	exit 1
fi
if [ "${to_server:-0}" -gt 0 ] && [ "${to_caller:-0}" -gt 0 ]; then
	say "=> audio flowed both ways through the NAT and its firewall, and no private"
	say "   address left the router (checked in every SIP/SDP message outside)."
else
	say "=> audio did not flow both ways: see the counts above."
	exit 1
fi
