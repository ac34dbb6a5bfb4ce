#!/bin/bash
# test-pinholes.sh - media pinholes in nft sets, end to end with real UDP.
# The lab router (scripts/lab.sh) runs the example firewall
# (nft-rules/example-static-nat.nft: static NAT, forward policy drop) and
# sipnat's rules loaded by scripts/sipnat-rules; pinholes are added and
# deleted through nfqd's nft set backend (pin_nftset.c, via tests/netns/pinctl).
#  1. The loader picks a queue method this kernel has (nft queue, else
#     iptables-nft NFQUEUE), is idempotent and keeps pinholes over a reload;
#     the backend refuses to open before the rules are loaded.
#  2. Media from the outside to the inside (after DNAT) and from the inside
#     out is dropped without a pinhole, passes with one, is dropped again on
#     another port and after the pinhole is deleted: IPv4 and IPv6.  The
#     evidence is nft counters: receive counters in the end namespaces, the
#     sipnat table's media4_pass/media6_pass and the firewall's drop counter.
#     A flow that conntrack already sees as established (both directions)
#     is cut as soon as its pinhole goes, although the firewall accepts
#     "ct state established" first.
#  3. A pinhole closes by itself after its idle timeout, and traffic keeps
#     it open meanwhile (the chain refreshes the element).
#  4. SIP signalling passes the example firewall with the port translation
#     (203.0.113.5:5060 -> 10.0.0.5:5062) while no nfqd runs (fail-open),
#     and is dropped with --fail-closed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
. "$top/scripts/lab.sh"

require_root
checktool "nft --version" "run test without nft"
checktool "command -v cc" "build the test helpers without a C compiler"
checktool "test -r $top/build/libnfqd.a" "run without build/libnfqd.a (run make first)"
checktool "ip link add sntest$$ type veth peer name sntestp$$ && ip link del sntest$$" \
	"run test without veth"
trap cleanup EXIT

bin=$(mktemp -d /tmp/sipnat-pinholes.XXXXXX)
on_cleanup "rm -rf '$bin'"
# shellcheck disable=SC2046
if ! cc -std=c11 -D_GNU_SOURCE -Wall -Werror -I"$top/nfqd" -o "$bin/pinctl" \
	"$here/pinctl.c" "$top/build/libnfqd.a" $(pkg-config --libs libnftnl libmnl) ||
	! cc -std=c11 -D_GNU_SOURCE -Wall -Werror -o "$bin/udpsend" "$here/udpsend.c"; then
	fail "build pinctl and udpsend"
	exit $ret
fi

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
# resolve the IPv6 neighbours now (lab_up does it for IPv4)
slowwait 5 ip netns exec "$LAB_RT" ping -6 -q -c1 -W1 $LAB_SERVER6 >/dev/null &&
	slowwait 5 ip netns exec "$LAB_RT" ping -6 -q -c1 -W1 $LAB_CALLER6 >/dev/null ||
	fail "lab: the router reaches both sides over IPv6"
RT=$LAB_RT IN=$LAB_IN OUT=$LAB_OUT
rules=$top/scripts/sipnat-rules
pinctl() { ip netns exec "$RT" "$bin/pinctl" "$@"; }
send() { ip netns exec "$1" "$bin/udpsend" "${@:2}"; }
cnt() { nft_counter_packets "$1" inet "$2" "$3"; }
# cnt_reach NS TABLE COUNTER TARGET: the counter once it reaches TARGET, or
# its value after 3 s (delivery can lag the sender, e.g. behind neighbour
# discovery, on a loaded machine).
cnt_reach()
{
	busywait 3000 test "$(cnt "$1" "$2" "$3")" -ge "$4"
	cnt "$1" "$2" "$3"
}

# receive counters for ports lab.sh does not count
ip netns exec "$IN" nft -f - <<EOF || fail "extra receive counters load"
table inet ph_rx {
	counter sip5062 { }
	counter rtp20002 { }
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 5062 counter name sip5062
		udp dport 20002 counter name rtp20002
	}
}
EOF

# 1. rules and loader
out=$(pinctl open 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "sipnat-rules load"; then
	pass "backend refuses to open without the ruleset, telling to load it"
else
	fail "backend open without the ruleset: expected an error naming sipnat-rules load, got: $out"
fi

if ! ip netns exec "$RT" nft -f "$top/nft-rules/example-static-nat.nft"; then
	fail "example-static-nat.nft loads"
	exit $ret
fi
pass "example-static-nat.nft loads"

load_out=$(ip netns exec "$RT" "$rules" load --sip-ports 5060,5062 --queue 7 2>&1)
rc=$?
echo "$load_out"
check_eq "sipnat-rules load exits 0" 0 $rc
if ip netns exec "$RT" nft -c -f - >/dev/null 2>&1 <<<'table inet snprobe { chain c { type filter hook forward priority 0; queue num 7 bypass; }; }'; then
	method=nft
else
	method=xt
fi
case $method in
nft) ip netns exec "$RT" nft list chain inet sipnat sip_queue 2>/dev/null |
	grep -qE 'udp dport \{ 5060, 5062 \}.*queue (flags bypass to 7|num 7 bypass)' ;;
xt) ip netns exec "$RT" iptables-nft -t mangle -S SIPNAT 2>/dev/null |
	grep -q -- '--dport 5062 -j NFQUEUE --queue-num 7 --queue-bypass' &&
	ip netns exec "$RT" ip6tables-nft -t mangle -S FORWARD 2>/dev/null | grep -q -- '-j SIPNAT' ;;
esac
check_eq "loader queues SIP with the method this kernel has ($method)" 0 $?
echo "$load_out" | grep -q "queue: .*$([ $method = nft ] && echo 'nft queue' || echo iptables-nft)"
check_eq "loader says which queue method it chose" 0 $?
echo "$load_out" | grep -q warning && fail "loader warns although the example firewall accepts the mark"

check_eq "backend opens once the rules are loaded" 0 "$(pinctl open >/dev/null 2>&1; echo $?)"
pinctl add udp 192.0.2.99 10.0.0.5 40000 || fail "pinctl add"
ip netns exec "$RT" "$rules" load --sip-ports 5060,5062 --queue 7 >/dev/null 2>&1
check_eq "second load exits 0" 0 $?
nrules=$(ip netns exec "$RT" nft list chain inet sipnat media | grep -c 'meta mark set')
check_eq "second load leaves one copy of each marking rule" 2 "$nrules"
ip netns exec "$RT" nft list set inet sipnat media4 | grep -q '192.0.2.99 . 10.0.0.5 . udp . 40000'
check_eq "a reload keeps open pinholes" 0 $?
if [ $method = xt ]; then
	n=$(ip netns exec "$RT" iptables-nft -t mangle -S | grep -c -- '-j SIPNAT')
	check_eq "a reload keeps one jump to SIPNAT" 1 "$n"
fi
pinctl add udp 192.0.2.98 10.0.0.5 40002 5 && pinctl add udp 192.0.2.98 10.0.0.5 40002 50 ||
	fail "pinctl add twice"
el=$(ip netns exec "$RT" nft list set inet sipnat media4 | grep -o '192.0.2.98 . 10.0.0.5 . udp . 40002 timeout [0-9]*s')
case $el in
*"timeout 50s") pass "adding an open pinhole again restarts its timeout" ;;
*"timeout 5s") skip "this kernel keeps an existing element's expiry on re-add (media refreshes it)" ;;
*) fail "adding an open pinhole again: element is '$el'" ;;
esac
pinctl del udp 192.0.2.98 10.0.0.5 40002
pinctl del udp 192.0.2.99 10.0.0.5 40000 || fail "pinctl del"
pinctl del udp 192.0.2.99 10.0.0.5 40000
check_eq "deleting an absent pinhole succeeds" 0 $?
check_eq "deleted pinhole is gone" 0 "$(nft_set_elements "$RT" inet sipnat media4)"

# 2. media through pinholes
# media_case NAME SEND_NS SRC DST_SENT PORT RECV_NS RECV_TABLE RECV_COUNTER PIN_SRC PIN_DST PASSCTR
media_case()
{
	local name=$1 sns=$2 src=$3 dst=$4 port=$5 rns=$6 rtab=$7 rctr=$8 psrc=$9 pdst=${10} pass_ctr=${11}
	local r0 r1 p0 p1 d0 d1 n=5

	r0=$(cnt "$rns" "$rtab" "$rctr"); d0=$(cnt "$RT" sipnat_example dropped)
	send "$sns" "$src" "$dst" "$port" $n
	r1=$(cnt "$rns" "$rtab" "$rctr"); d1=$(cnt "$RT" sipnat_example dropped)
	check_eq "$name: no pinhole, nothing arrives" 0 $((r1 - r0))
	check_ge "$name: no pinhole, the firewall drops it" $n $((d1 - d0))

	pinctl add udp "$psrc" "$pdst" "$port" || fail "$name: pinctl add"
	r0=$r1; p0=$(cnt "$RT" sipnat "$pass_ctr")
	send "$sns" "$src" "$dst" "$port" $n
	r1=$(cnt_reach "$rns" "$rtab" "$rctr" $((r0 + n))); p1=$(cnt "$RT" sipnat "$pass_ctr")
	check_eq "$name: with a pinhole, all arrive" $n $((r1 - r0))
	check_eq "$name: with a pinhole, $pass_ctr counts them" $n $((p1 - p0))

	pinctl del udp "$psrc" "$pdst" "$port" || fail "$name: pinctl del"
	r0=$r1
	send "$sns" "$src" "$dst" "$port" $n
	r1=$(cnt "$rns" "$rtab" "$rctr")
	check_eq "$name: pinhole deleted, nothing arrives" 0 $((r1 - r0))
	[ "$ret" = 0 ] || dump_ruleset "$RT"
}

media_case "v4 in" "$OUT" $LAB_CALLER $LAB_SERVER_PUB $LAB_RTP_SERVER "$IN" lab_rx rtp_server \
	$LAB_CALLER $LAB_SERVER media4_pass
media_case "v4 out" "$IN" $LAB_SERVER $LAB_CALLER $LAB_RTP_CALLER "$OUT" lab_rx rtp_caller \
	$LAB_SERVER $LAB_CALLER media4_pass
media_case "v6 in" "$OUT" $LAB_CALLER6 $LAB_SERVER6_PUB $LAB_RTP_SERVER "$IN" lab_rx rtp_server \
	$LAB_CALLER6 $LAB_SERVER6 media6_pass
media_case "v6 out" "$IN" $LAB_SERVER6 $LAB_CALLER6 $LAB_RTP_CALLER "$OUT" lab_rx rtp_caller \
	$LAB_SERVER6 $LAB_CALLER6 media6_pass

# An established flow (RTP both ways on one 5-tuple) ends with its pinhole,
# in both directions, though the example firewall accepts established first.
pinctl add udp $LAB_CALLER $LAB_SERVER $LAB_RTP_SERVER
r0=$(cnt "$IN" lab_rx rtp_server); c0=$(cnt "$OUT" lab_rx rtp_caller)
send "$OUT" $LAB_CALLER $LAB_SERVER_PUB $LAB_RTP_SERVER 3 20 $LAB_RTP_CALLER
send "$IN" $LAB_SERVER $LAB_CALLER $LAB_RTP_CALLER 3 20 $LAB_RTP_SERVER
check_eq "v4 flow through an inbound pinhole: media in" 3 \
	$(($(cnt_reach "$IN" lab_rx rtp_server $((r0 + 3))) - r0))
check_eq "v4 flow through an inbound pinhole: the replies on the same flow" 3 \
	$(($(cnt_reach "$OUT" lab_rx rtp_caller $((c0 + 3))) - c0))
pinctl del udp $LAB_CALLER $LAB_SERVER $LAB_RTP_SERVER
r0=$(cnt "$IN" lab_rx rtp_server); c0=$(cnt "$OUT" lab_rx rtp_caller); k0=$(cnt "$RT" sipnat media_closed)
send "$OUT" $LAB_CALLER $LAB_SERVER_PUB $LAB_RTP_SERVER 3 20 $LAB_RTP_CALLER
send "$IN" $LAB_SERVER $LAB_CALLER $LAB_RTP_CALLER 3 20 $LAB_RTP_SERVER
check_eq "established flow, pinhole deleted: nothing more comes in" 0 $(($(cnt "$IN" lab_rx rtp_server) - r0))
check_eq "established flow, pinhole deleted: no replies go out" 0 $(($(cnt "$OUT" lab_rx rtp_caller) - c0))
check_eq "media_closed counts the packets of the closed flow" 6 $(($(cnt "$RT" sipnat media_closed) - k0))

# Only the pinholed port and peer pass.
pinctl add udp $LAB_CALLER $LAB_SERVER $LAB_RTP_SERVER
r0=$(cnt "$IN" ph_rx rtp20002)
send "$OUT" $LAB_CALLER $LAB_SERVER_PUB 20002 5
check_eq "v4 in: another port of the same host stays closed" 0 $(($(cnt "$IN" ph_rx rtp20002) - r0))
r0=$(cnt "$IN" lab_rx rtp_server)
send "$OUT" $LAB_REGISTRAR $LAB_SERVER_PUB $LAB_RTP_SERVER 5
check_eq "v4 in: another outside address stays closed" 0 $(($(cnt "$IN" lab_rx rtp_server) - r0))
pinctl flush
check_eq "flush empties both sets" "0 0" \
	"$(nft_set_elements "$RT" inet sipnat media4) $(nft_set_elements "$RT" inet sipnat media6)"

# 3. idle timeout, refreshed by traffic (longer under QEMU TCG, where
# starting a process takes ~10x longer)
T=2
[ -n "${SIPNAT_VM:-}" ] && T=6
ip netns exec "$RT" "$rules" load --sip-ports 5060,5062 --queue 7 --media-timeout $T >/dev/null ||
	fail "reload with --media-timeout $T"
pinctl add udp $LAB_CALLER $LAB_SERVER $LAB_RTP_SERVER $T
r0=$(cnt "$IN" lab_rx rtp_server)
send "$OUT" $LAB_CALLER $LAB_SERVER_PUB $LAB_RTP_SERVER 16 $((T * 125))	# 2T of media
check_eq "media keeps a ${T} s pinhole open for $((2 * T)) s" 16 \
	$(($(cnt_reach "$IN" lab_rx rtp_server $((r0 + 16))) - r0))
slowwait $((T + 5)) test "$(nft_set_elements "$RT" inet sipnat media4)" = 0
check_eq "idle pinhole expired from the set" 0 "$(nft_set_elements "$RT" inet sipnat media4)"
r0=$(cnt "$IN" lab_rx rtp_server)
send "$OUT" $LAB_CALLER $LAB_SERVER_PUB $LAB_RTP_SERVER 5
check_eq "after the idle timeout nothing arrives" 0 $(($(cnt "$IN" lab_rx rtp_server) - r0))
ip netns exec "$RT" "$rules" load --sip-ports 5060,5062 --queue 7 >/dev/null

# 4. SIP through the example firewall, without nfqd
r0=$(cnt "$IN" ph_rx sip5062)
send "$OUT" $LAB_CALLER $LAB_SERVER_PUB 5060 3
check_eq "SIP to 203.0.113.5:5060 reaches 10.0.0.5:5062 (fail-open, no nfqd)" 3 \
	$(($(cnt_reach "$IN" ph_rx sip5062 $((r0 + 3))) - r0))
ip netns exec "$RT" "$rules" load --sip-ports 5060,5062 --queue 7 --fail-closed >/dev/null ||
	fail "reload with --fail-closed"
r0=$(cnt "$IN" ph_rx sip5062)
send "$OUT" $LAB_CALLER $LAB_SERVER_PUB 5060 3
check_eq "SIP is dropped with --fail-closed and no nfqd" 0 $(($(cnt "$IN" ph_rx sip5062) - r0))

# status and unload
st=$(ip netns exec "$RT" "$rules" status 2>&1)
echo "$st" | grep -q "queue method: $method" && echo "$st" | grep -q 'mark: 0x00100000'
check_eq "status shows the queue method and the mark" 0 $?
ip netns exec "$RT" "$rules" unload >/dev/null && ip netns exec "$RT" "$rules" unload >/dev/null
check_eq "unload twice exits 0" 0 $?
left=$(ip netns exec "$RT" nft list ruleset | grep -c -e 'table inet sipnat ' -e SIPNAT)
check_eq "unload leaves no sipnat table or SIPNAT chain" 0 "$left"
ip netns exec "$RT" "$rules" status >/dev/null 2>&1
check_eq "status after unload says not loaded (exit 3)" 3 $?

exit $ret
