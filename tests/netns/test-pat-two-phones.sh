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

PUB=$PHONES_PUB

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
phones_up || { fail "lab: the phones' and second caller's addresses, counters"; exit $ret; }

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

# 1. registrations
phones_register

# 2. both phones called through kamailio at once; nfqd's map elements
# while the calls are up; the calls last 4 s, so that both phones' media
# leases are seen together (they end at BYE)
pat_during()
{
	slowwait 20 pat_elems_ge6
	check_ge "$1: nft map pat_dnat4 holds signalling and media of both phones" 6 "${PAT_DNAT:-0}"
	check_ge "$1: nft map pat_snat4 likewise" 6 "${PAT_SNAT:-0}"
}
LAB_HOLD_MS=4000 PHONES_DURING=pat_during phones_in in $C2 $C_RTP 5060

# 3. both phones call out at once (from 5060, the same RTP port)
phones_out out

# 4. the outside link: no private address, and the phones' SDP carries
# leased public media ports only (distinct: each call's pair is released at
# its BYE, so a phone's next call may get another pair)
phones_no_leak
phones_via
m=$(phones_sdp)
nports=$(echo "$m" | awk -v pub=$PUB '$1 == pub && $2 != '$PH_RTP' { print $2 }' | sort -u | wc -l)
nother=$(echo "$m" | awk -v pub=$PUB 'NF && ($1 != pub || $2 == '$PH_RTP')' | wc -l)
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
