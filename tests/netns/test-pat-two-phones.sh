#!/bin/bash
# test-pat-two-phones.sh - masquerade with port address translation by nfqd
# (`masquerade`, nft map backend): two phones behind one public address,
# both on port 5060 and the same RTP port.
#  1. Both register at kamailio outside; the Contacts it stores carry the
#     router's public address with two different public ports.
#  2. Both are called through kamailio at the same time: each call
#     completes and each phone receives its own caller's RTP (counted per
#     phone), and each caller receives RTP.
#  3. Both call out at the same time: same checks the other way.
#  4. nfqd's snat/dnat map elements (table inet sipnat, pat_snat4 and
#     pat_dnat4) are there during the calls, and no private address is
#     seen in SIP or SDP on the outside link.
#  5. Once the calls ended (BYE), their media leases and map elements are
#     gone, the phones' signalling leases stay; after phone1 de-registers
#     (Expires: 0, answered 200) its signalling lease and elements are gone
#     too, phone2's stay.
# PAT_TIMEOUT=10 makes nfqd renew its map elements during the run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../scripts/lab.sh"
. "$here/calls.sh"

call_require_tools
trap cleanup EXIT

PH1=10.0.0.21 PH2=10.0.0.22		# the phones
C1=198.51.100.20 C2=198.51.100.40	# their callers (C1 is the lab's caller)
PUB=$LAB_RT_OUT				# the router's outside address
RTP_PH=22000 RTP_C=30000

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
ip -n "$LAB_IN" addr add $PH1/24 dev eth0
ip -n "$LAB_IN" addr add $PH2/24 dev eth0
ip -n "$LAB_OUT" addr add $C2/24 dev eth0
slowwait 5 ip netns exec "$LAB_RT" ping -q -c1 -W1 $PH2 >/dev/null
slowwait 5 ip netns exec "$LAB_RT" ping -q -c1 -W1 $C2 >/dev/null
# Media per phone and per caller: same ports, so count by address too.
ip netns exec "$LAB_IN" nft -f - <<EOF2
table inet pat_rx {
	counter ph1 { }
	counter ph2 { }
	chain input {
		type filter hook input priority 0; policy accept;
		ip daddr $PH1 udp dport $RTP_PH counter name ph1
		ip daddr $PH2 udp dport $RTP_PH counter name ph2
	}
}
EOF2
ip netns exec "$LAB_OUT" nft -f - <<EOF2
table inet pat_rx {
	counter c1 { }
	counter c2 { }
	chain input {
		type filter hook input priority 0; policy accept;
		ip daddr $C1 udp dport $RTP_C counter name c1
		ip daddr $C2 udp dport $RTP_C counter name c2
	}
}
EOF2

# The router: the admin's masquerade, forward accepts all; sipnat's rules
# (maps, SIP queue) and nfqd masquerading 10.0.0.0/24 behind $PUB.
ip netns exec "$LAB_RT" nft -f - <<EOF2 || fail "router: masquerade table loads"
table ip lab_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.0.0.0/24 oifname "out0" masquerade
	}
}
EOF2
# Without sipnat's maps nfqd refuses to start (before binding the queue).
out=$(ip netns exec "$LAB_RT" timeout 10 "$LAB_NFQD" -c /dev/null --media-backend none \
	--masquerade 10.0.0.0/24=$PUB --control-socket "$LAB_DIR/early.sock" 2>&1)
rc=$?
case "$rc $out" in
"1 "*pat_snat4*"sipnat-rules load"*) pass "nfqd without sipnat's maps: exit 1, names the map and the fix" ;;
*) fail "nfqd without sipnat's maps: expected exit 1 naming pat_snat4, found $rc: $out" ;;
esac
if ip netns exec "$LAB_RT" "$LAB_TOP/scripts/sipnat-rules" load --queue "$LAB_QNUM" \
	--sip-ports 5060 >>"$LAB_DIR/sipnat-rules.log" 2>&1 &&
	lab_nfqd_start --masquerade 10.0.0.0/24=$PUB --pat-ports 40000-40999 \
	--pat-timeout "${PAT_TIMEOUT:-1800}" --log-level debug; then
	pass "router runs masquerade, sipnat's rules and nfqd with masquerade"
else
	fail "router runs masquerade, sipnat's rules and nfqd with masquerade"
	cat "$LAB_DIR/sipnat-rules.log" "$LAB_DIR/nfqd.log" >&2
	exit $ret
fi

pat_rx() { nft_counter_packets "$1" inet pat_rx "$2"; }
pat_reset()
{
	ip netns exec "$LAB_IN" nft reset counters table inet pat_rx >/dev/null
	ip netns exec "$LAB_OUT" nft reset counters table inet pat_rx >/dev/null
}
# pat_elems MAP: elements in one of nfqd's maps (" : " once per element,
# once in the type line).
pat_elems()
{
	local n
	n=$(ip netns exec "$LAB_RT" nft list map inet sipnat "$1" 2>/dev/null | grep -o ' : ' | wc -l)
	echo $((n > 0 ? n - 1 : 0))
}
# Both maps read in one poll: the media elements go at BYE, and in the
# slow QEMU guest a second look may come after it.
pat_elems_ge6()
{
	PAT_DNAT=$(pat_elems pat_dnat4) PAT_SNAT=$(pat_elems pat_snat4)
	[ "$PAT_DNAT" -ge 6 ] && [ "$PAT_SNAT" -ge 6 ]
}

call_capture
lab_kamailio "$LAB_OUT" $LAB_REGISTRAR || fail "kamailio listens on $LAB_REGISTRAR:5060"

# 1. registrations
lab_register "$LAB_IN" reg1 $PH1 5060 phone1 $LAB_REGISTRAR:5060
check_eq "phone1 registers (sipp exit)" 0 $?
lab_register "$LAB_IN" reg2 $PH2 5060 phone2 $LAB_REGISTRAR:5060
check_eq "phone2 registers (sipp exit)" 0 $?
ct1=$(grep -o "REGISTER sip:phone1@.* contact <sip:phone1@[^>]*>" "$LAB_DIR/kamailio.log" |
	sed 's/.*<sip:phone1@//; s/>.*//' | tail -n1)
ct2=$(grep -o "REGISTER sip:phone2@.* contact <sip:phone2@[^>]*>" "$LAB_DIR/kamailio.log" |
	sed 's/.*<sip:phone2@//; s/>.*//' | tail -n1)
case "$ct1 $ct2" in
"$PUB:"*" $PUB:"*)
	if [ "${ct1#*:}" != "${ct2#*:}" ] && [ "${ct1#*:}" != 5060 ]; then
		pass "kamailio stores distinct public Contacts: $ct1 and $ct2"
	else
		fail "kamailio's Contacts: expected $PUB with two distinct leased ports, found '$ct1' '$ct2'"
	fi ;;
*) fail "kamailio's Contacts: expected $PUB:PORT each, found '$ct1' '$ct2'" ;;
esac

# 2. both phones called through kamailio at once; the calls last 4 s, so
# that both phones' media leases are seen together (they end at BYE)
pat_reset
LAB_HOLD_MS=4000 lab_uas "$LAB_IN" in1-uas $PH1 5060 $RTP_PH; u1=$LAB_UAS_PID
LAB_HOLD_MS=4000 lab_uas "$LAB_IN" in2-uas $PH2 5060 $RTP_PH; u2=$LAB_UAS_PID
LAB_HOLD_MS=4000 lab_uac "$LAB_OUT" in1-uac $C1 $RTP_C $LAB_REGISTRAR:5060 $C1 phone1; c1=$LAB_UAC_PID
LAB_HOLD_MS=4000 lab_uac "$LAB_OUT" in2-uac $C2 $RTP_C $LAB_REGISTRAR:5060 $C2 phone2; c2=$LAB_UAC_PID
slowwait 20 pat_elems_ge6
check_ge "nft map pat_dnat4 holds signalling and media of both phones" 6 "${PAT_DNAT:-0}"
check_ge "nft map pat_snat4 likewise" 6 "${PAT_SNAT:-0}"
wait_pid_exit 30 $c1; r1=$?
wait_pid_exit 30 $c2; r2=$?
wait_pid_exit 10 $u1; r3=$?
wait_pid_exit 10 $u2; r4=$?
check_eq "call to phone1 via kamailio completes (caller, phone sipp exits)" "0 0" "$r1 $r3"
check_eq "call to phone2 via kamailio completes (caller, phone sipp exits)" "0 0" "$r2 $r4"
check_eq "phone1 gets its caller's RTP, only that" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_IN" ph1)"
check_eq "phone2 gets its caller's RTP, only that" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_IN" ph2)"
check_eq "caller1 gets phone1's RTP" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_OUT" c1)"
check_eq "caller2 gets phone2's RTP" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_OUT" c2)"

# 3. both phones call out at once (from 5060, the same RTP port)
pat_reset
lab_uas "$LAB_OUT" out1-uas $C1 5060 $RTP_C; u1=$LAB_UAS_PID
lab_uas "$LAB_OUT" out2-uas $C2 5060 $RTP_C; u2=$LAB_UAS_PID
lab_uac "$LAB_IN" out1-uac $PH1 $RTP_PH $C1:5060; c1=$LAB_UAC_PID
lab_uac "$LAB_IN" out2-uac $PH2 $RTP_PH $C2:5060; c2=$LAB_UAC_PID
wait_pid_exit 30 $c1; r1=$?
wait_pid_exit 30 $c2; r2=$?
wait_pid_exit 10 $u1; r3=$?
wait_pid_exit 10 $u2; r4=$?
check_eq "phone1 calls out (phone, callee sipp exits)" "0 0" "$r1 $r3"
check_eq "phone2 calls out (phone, callee sipp exits)" "0 0" "$r2 $r4"
check_eq "phone1 gets its callee's RTP" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_IN" ph1)"
check_eq "phone2 gets its callee's RTP" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_IN" ph2)"
check_eq "callee1 gets phone1's RTP" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_OUT" c1)"
check_eq "callee2 gets phone2's RTP" $LAB_PCAP_PACKETS "$(pat_rx "$LAB_OUT" c2)"

# 4. the outside link: no private address, and the phones' SDP carries
# leased public media ports only (distinct: each call's pair is released at
# its BYE, so a phone's next call may get another pair)
lab_capture_sync calls
n=$(tshark -n -r "$LAB_DIR/calls.pcap" -Y sip -V 2>/dev/null |
	grep -E "(^|[^0-9.])10\.0\.0\.[0-9]+([^0-9]|\$)" | sed 's/^ *//' | sort -u | head -n 3 | tr '\n' ';')
check_eq "no private address in SIP/SDP on the outside link" "" "$n"
m=$(tshark -n -r "$LAB_DIR/calls.pcap" -Y "sdp && ip.src == $PUB" -T fields \
	-e sdp.connection_info.address -e sdp.media.port 2>/dev/null | sort -u)
nports=$(echo "$m" | awk -v pub=$PUB '$1 == pub && $2 != '$RTP_PH' { print $2 }' | sort -u | wc -l)
nother=$(echo "$m" | awk -v pub=$PUB 'NF && ($1 != pub || $2 == '$RTP_PH')' | wc -l)
check_ge "phones' SDP outside: $PUB with distinct leased media ports ($(echo $m))" \
	2 "$nports"
check_eq "phones' SDP outside: no other address or the private RTP port" 0 "$nother"

# 5. leases released when no longer needed (nfqd/masq.h rules 1, 2, 4)
stv() { lab_nfqd_status | awk -v k="$1" '$1 == k { print $2 }'; }
leases_are() { [ "$(stv masquerade-leases-active)" = "$1" ]; }
slowwait 5 leases_are 2
check_eq "after the calls: only the phones' 2 signalling leases are active (nfqd status)" 2 \
	"$(stv masquerade-leases-active)"
check_eq "after the calls: 8 media leases released (2 calls x 2 phones x RTP+RTCP)" 8 \
	"$(stv masquerade-released-media)"
check_eq "after the calls: pat_dnat4 and pat_snat4 hold the 2 signalling elements only" "2 2" \
	"$(pat_elems pat_dnat4) $(pat_elems pat_snat4)"
sed 's/^Expires: 300$/Expires: 0/' "$LAB_PEERS/register.xml" >"$LAB_DIR/deregister.xml"
lab_sipp "$LAB_IN" dereg1 -sf "$LAB_DIR/deregister.xml" -i $PH1 -p 5060 \
	-key contact_host "$PH1:5060" -s phone1 $LAB_REGISTRAR:5060
wait_pid_exit 20 "$LAB_PID"
check_eq "phone1 de-registers with Expires: 0 (sipp exit)" 0 $?
slowwait 5 leases_are 1
check_eq "after phone1's de-registration: 1 lease left, 1 signalling release (nfqd status)" "1 1" \
	"$(stv masquerade-leases-active) $(stv masquerade-released-signalling)"
elems=$(ip netns exec "$LAB_RT" nft list map inet sipnat pat_dnat4 2>/dev/null)
check_eq "after phone1's de-registration: pat_dnat4/pat_snat4 hold phone2's element only" \
	"1 1 0 1" "$(pat_elems pat_dnat4) $(pat_elems pat_snat4) $(grep -c "$PH1 " <<<"$elems") $(grep -c "$PH2 " <<<"$elems")"
check_eq "nfqd status: no lease or kernel failures" "0 0" \
	"$(stv masquerade-lease-failed) $(stv masquerade-kernel-failed)"

if [ "${PAT_TIMEOUT:-1800}" -le 10 ]; then
	n=$(grep -c "masquerade: renewed map elements" "$LAB_DIR/nfqd.log")
	check_ge "pat-timeout $PAT_TIMEOUT: nfqd renewed map elements during the run" 1 "$n"
fi

kill -TERM "$LAB_KAMAILIO_PID" 2>/dev/null
[ $ret -ne 0 ] && { lab_logs; dump_ruleset "$LAB_RT"; lab_nfqd_status >&2; }
exit $ret
