#!/bin/bash
# tests/vm/test-kmod.sh - the sipnat_fp module in Debian's stock kernel.
#
# Proves, in a guest booted by boot.sh, with phone -- router -- provider
# namespaces and a masquerade + DNAT ruleset on the router:
# 1. programmed flows carry RTP both ways (IPv4 and IPv6) through the fast
#    path: the flow counters count every packet, the forward chain's counter
#    does not move, the receiver sees the rewritten addresses, TTL-1 and
#    valid checksums; RTP gaps are counted; doubtful packets (TTL 1, IP
#    options, fragments) are left to the normal path;
# 2. malformed or unprivileged netlink requests are refused with the
#    documented errors, and nothing is half added;
# 3. latching takes the first source port from the negotiated address only,
#    the reverse flow follows it; removal by cookie (a BYE) and idle expiry
#    send the media back to the normal path;
# 4. unloading the module during traffic leaves the media flowing through
#    the normal path and the kernel without a warning (panic_on_warn);
# 5. the build with the in-kernel self-test loads (it refuses to otherwise);
# 6. cached routes follow route and MTU changes; devices and namespaces go
#    away cleanly under flows with cached routes.
# On the host it builds the module and reruns itself inside the guest.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/netns/lib.sh

if [ "${SIPNAT_VM:-}" != 1 ]; then
	mkdir -p build
	if ! make -s kmod >build/kmod-build.log 2>&1; then
		if grep -q "no kernel build directory" build/kmod-build.log; then
			echo "SKIP: no kernel headers to build kmod against"
			exit $ksft_skip
		fi
		cat build/kmod-build.log
		echo "FAIL: kmod does not build"
		exit $ksft_fail
	fi
	# The same sources with the boot-time self-test compiled in, built in a
	# copy so that kmod/sipnat_fp.ko stays the production build.
	rm -rf build/kmod-selftest && cp -r kmod build/kmod-selftest &&
		make -s -C build/kmod-selftest clean >/dev/null 2>&1
	make -s -C build/kmod-selftest SELFTEST=1 >>build/kmod-build.log 2>&1 ||
		{ cat build/kmod-build.log; echo "FAIL: kmod SELFTEST=1 does not build"; exit $ksft_fail; }
	tests/vm/boot.sh --timeout 400 --kmod kmod/sipnat_fp.ko -- "$0"
	rc=$?
	case $rc in
	0 | 1 | 4) exit $rc ;;
	126) echo "SKIP: the guest could not be set up (boot.sh exit 126)"; exit $ksft_skip ;;
	*) echo "FAIL: guest ended with status $rc (timeout, panic or WARN)"; exit $ksft_fail ;;
	esac
fi

# ---- in the guest ------------------------------------------------------
nfqd=$top/build/nfqd/nfqd
pkt="/usr/bin/python3 $top/tests/vm/fp_pkt.py"
checktool "$nfqd fp list" "talk to sipnat_fp (module not loaded?)"
checktool "nft --version" "run without nft"
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT

setup_ns phone router prov
ip link add ra netns "$router" type veth peer name pa netns "$phone"
ip link add rb netns "$router" type veth peer name pb netns "$prov"
ip -n "$phone" addr add 10.0.1.2/24 dev pa
ip -n "$phone" addr add fd00:1::2/64 dev pa nodad
ip -n "$router" addr add 10.0.1.1/24 dev ra
ip -n "$router" addr add fd00:1::1/64 dev ra nodad
ip -n "$router" addr add 10.0.2.1/24 dev rb
ip -n "$router" addr add fd00:2::1/64 dev rb nodad
ip -n "$prov" addr add 10.0.2.2/24 dev pb
ip -n "$prov" addr add fd00:2::2/64 dev pb nodad
for l in "$phone pa" "$router ra" "$router rb" "$prov pb"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$phone" route add default via 10.0.1.1
ip -n "$phone" -6 route add default via fd00:1::1
ip -n "$prov" route add default via 10.0.2.1
ip -n "$prov" -6 route add default via fd00:2::1
ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# The normal path: masquerade outbound, a static DNAT for the phone's media
# port inbound, and a counter on everything forwarded.
ip netns exec "$router" nft -f - <<'NFT' || { echo "FAIL: router ruleset"; exit 1; }
table inet t {
	counter forwarded { }
	chain forward { type filter hook forward priority 0; counter name forwarded; }
	chain pre { type nat hook prerouting priority -100;
		iifname "rb" ip daddr 10.0.2.1 udp dport { 4000, 4002 } dnat ip to 10.0.1.2; }
	chain post { type nat hook postrouting priority 100;
		oifname "rb" meta nfproto ipv4 masquerade; }
}
NFT
fwd() { nft_counter_packets "$router" inet t forwarded; }
fp() { ip netns exec "$router" "$nfqd" fp "$@"; }
field() { # FLOW-LINE KEY
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
flowget() { fp get "$1" 2>/dev/null; }

# recv_start NS IFACE DPORT NAME [COUNT]: background capture that ends after
# COUNT datagrams or RECV_TIMEOUT seconds; returns once it listens.  TCG on a
# shared machine is slow: the bound is generous, the count ends it early.
recv_start() {
	rm -f "$tmp/$4.ready"
	ip netns exec "$1" $pkt recv "$2" "$3" --ready "$tmp/$4.ready" --timeout "${RECV_TIMEOUT:-15}" \
		${5:+--count $5} >"$tmp/$4.out" 2>&1 &
	eval "recv_pid_$4=$!"
	slowwait 10 test -e "$tmp/$4.ready"
}
recv_result() { # NAME
	local p
	eval "p=\$recv_pid_$1"
	wait_pid_exit 60 "$p" >/dev/null
	cat "$tmp/$1.out"
}
send() { # NS ARGS...
	local ns=$1
	shift
	ip netns exec "$ns" $pkt send "$@" >/dev/null
}

# ---- 0. the normal path works before any flow -----------------------------
recv_start "$prov" pb 30000 base 5
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --count 5
r=$(recv_result base)
check_eq "normal path: provider receives the masqueraded media" \
	"got=5 bad_csum=0 ttl=63 src=10.0.2.1:4000" "$(echo "$r" | cut -d' ' -f1-4)"
base_fwd=$(fwd)
check_eq "normal path: the forward chain counted it" 5 "$base_fwd"

# ---- 1. IPv4 both ways through the fast path ------------------------------
out=$(fp add match=10.0.2.2:30000 src=10.0.1.2:4000 snat=10.0.2.1 clock=8000 cookie=7 timeout=900)
in=$(fp add match=10.0.2.1:4000 src=10.0.2.2:30000 dnat=10.0.1.2 reverse="$out" cookie=7 timeout=900)
if [ -z "$out" ] || [ -z "$in" ]; then
	fail "adding the IPv4 flows (out=$out in=$in)"
	exit 1
fi
pass "IPv4 flows added (ids $out, $in)"

recv_start "$prov" pb 30000 o4 50
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --count 50 --gap-at 20:3
r=$(recv_result o4)
check_eq "fast path out: 50 packets, rewritten source, TTL 63, checksums valid" \
	"got=50 bad_csum=0 ttl=63 src=10.0.2.1:4000 dst=10.0.2.2:30000" "$(echo "$r" | cut -d' ' -f1-5)"
l=$(flowget "$out")
check_eq "fast path out: the flow counted 50 packets" 50 "$(field "$l" packets)"
check_eq "fast path out: bytes (50 x 200)" 10000 "$(field "$l" bytes)"
check_eq "fast path out: RTP packets" 50 "$(field "$l" rtp)"
check_eq "fast path out: RTP gap of 3 counted as lost" 3 "$(field "$l" lost)"
check_eq "fast path out: SSRC seen" 0x00005151 "$(field "$l" ssrc)"
check_eq "fast path out: jitter reported (clock given)" 1 "$(field "$l" jitter | grep -c .)"

recv_start "$phone" pa 4000 i4 20
send "$prov" 10.0.2.2 30000 10.0.2.1 4000 --count 20
r=$(recv_result i4)
check_eq "fast path in: 20 packets to the phone, TTL 63, checksums valid" \
	"got=20 bad_csum=0 ttl=63 src=10.0.2.2:30000 dst=10.0.1.2:4000" "$(echo "$r" | cut -d' ' -f1-5)"
check_eq "fast path in: the flow counted 20 packets" 20 "$(field "$(flowget "$in")" packets)"
check_eq "fast path: the forward chain saw none of them" "$base_fwd" "$(fwd)"

# A socket's datagrams leave the phone CHECKSUM_PARTIAL (veth offload): the
# UDP field holds the pseudo-header sum, which the fast path patches for the
# new address.  With rb's TX checksum offload off (ETHTOOL_STXCSUM) the
# router completes the checksum in software, and the receiver checks it.
txcsum() { # NS DEV 0|1
	ip netns exec "$1" python3 -c '
import array, fcntl, socket, struct, sys
v = array.array("I", [0x17, int(sys.argv[2])])
fcntl.ioctl(socket.socket(), 0x8946, struct.pack("16sP16x", sys.argv[1].encode(), v.buffer_info()[0]))
' "$2" "$3"
}
before=$(field "$(flowget "$out")" packets)
if txcsum "$router" rb 0; then
	recv_start "$prov" pb 30000 pc 5
	ip netns exec "$phone" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.1.2", 4000))
for i in range(5):
    s.sendto(bytes([0x80, 0, 0, 60 + i]) + bytes(168), ("10.0.2.2", 30000))
'
	r=$(recv_result pc)
	txcsum "$router" rb 1
	check_eq "socket sender (CHECKSUM_PARTIAL): rewritten, checksums valid" \
		"got=5 bad_csum=0 ttl=63 src=10.0.2.1:4000" "$(echo "$r" | cut -d' ' -f1-4)"
	check_eq "socket sender: carried by the fast path" $((before + 5)) \
		"$(field "$(flowget "$out")" packets)"
else
	fail "cannot turn rb's TX checksum offload off (ETHTOOL_STXCSUM)"
fi

# Doubtful packets go the normal path untouched: TTL 1 (ICMP from the
# stack), IP options, a fragment.
before=$(field "$(flowget "$out")" packets)
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --ttl 1
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --options
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --frag
sleep 0.5
check_eq "TTL 1, IP options, fragment: not taken by the fast path" "$before" \
	"$(field "$(flowget "$out")" packets)"

# DSCP marking on a second flow from another port.
ds=$(fp add match=10.0.2.2:30010 src=10.0.1.2 snat=10.0.2.1 dscp=46 timeout=900)
recv_start "$prov" pb 30010 ds 3
send "$phone" 10.0.1.2 4010 10.0.2.2 30010 --count 3
r=$(recv_result ds)
check_eq "DSCP: EF written" "got=3 bad_csum=0" "$(echo "$r" | cut -d' ' -f1-2)"
check_eq "DSCP: value at the receiver" "dscp=46" "$(echo "$r" | tr ' ' '\n' | grep '^dscp=')"
fp del "$ds" >/dev/null

# ---- 1b. IPv6 --------------------------------------------------------------
# The fast path never resolves a next hop itself (that allocates); the
# router learns the provider's address first, as earlier media would do.
ip netns exec "$router" ping -6 -c1 -W2 fd00:2::2 >/dev/null 2>&1
out6=$(fp add "match=[fd00:2::2]:30000" "src=[fd00:1::2]:4000" "snat=[fd00:2::1]:4100" timeout=900)
recv_start "$prov" pb 30000 o6 10
send "$phone" fd00:1::2 4000 fd00:2::2 30000 --count 10
r=$(recv_result o6)
check_eq "IPv6 fast path: hop limit 63, source and port rewritten, checksum valid" \
	"got=10 bad_csum=0 ttl=63 src=[fd00:2::1]:4100" "$(echo "$r" | cut -d' ' -f1-4)"
check_eq "IPv6 fast path: the flow counted 10" 10 "$(field "$(flowget "$out6")" packets)"
send "$phone" fd00:1::2 4000 fd00:2::2 30000 --ttl 1
check_eq "IPv6 hop limit 1: not taken by the fast path" 10 "$(field "$(flowget "$out6")" packets)"

# Larger than the output route's MTU: the normal path fragments it.  (An
# MTU under 1280 removes the link's IPv6 addresses: IPv6 is done by now.)
before=$(field "$(flowget "$out")" packets)
ip -n "$router" link set rb mtu 180
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --count 2
ip -n "$router" link set rb mtu 1500
check_eq "over the route MTU: not taken by the fast path" "$before" \
	"$(field "$(flowget "$out")" packets)"
# The cached route and its MTU follow a route change on the same device:
# a host route with a smaller MTU stops the fast path, its removal resumes it.
ip -n "$router" route add 10.0.2.2/32 dev rb mtu 180
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --count 2
sleep 0.5
check_eq "new route with a smaller MTU: not taken by the fast path" "$before" \
	"$(field "$(flowget "$out")" packets)"
ip -n "$router" route del 10.0.2.2/32 dev rb
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --count 2
sleep 0.5
check_eq "route removed again: the fast path takes the packets" $((before + 2)) \
	"$(field "$(flowget "$out")" packets)"
fp del "$out6" >/dev/null

# ---- 2. malformed and unprivileged requests ---------------------------------
# attr TYPE HEXVALUE: one attribute as the kernel reads it (length and type
# little-endian, value as given, padded to 4 bytes).  Types and value
# encodings: kmod/uapi/sipnat_fp.h.
attr() {
	local len=$((4 + ${#2} / 2)) i
	printf '%02x%02x%02x%02x%s' $((len & 255)) $((len >> 8)) $(($1 & 255)) $(($1 >> 8)) "$2"
	for ((i = len; i % 4; i++)); do printf 00; done
}
FAM4=$(attr 2 0200)			# FAMILY = AF_INET (u16)
DADDR4=$(attr 3 0a000201)		# MATCH_DADDR = 10.0.2.1
DPORT=$(attr 4 1388)			# MATCH_DPORT = 5000 (be16)
raw() { fp raw "$@" 2>/dev/null | tail -n1; }
count0=$(fp list | wc -l)
check_eq "raw: a well-formed ADD is accepted (the raw path works)" OK "$(raw add "$FAM4$DADDR4$DPORT")"
fp del cookie=0 >/dev/null 2>&1	# the flow just added; every other has a cookie
check_eq "malformed: unknown attribute type" EINVAL "$(raw add "$FAM4$DADDR4$DPORT$(attr 30 00000000)")"
check_eq "malformed: IPv6-sized address for AF_INET" EINVAL \
	"$(raw add "$FAM4$(attr 3 fd000002000000000000000000000002)$DPORT")"
check_eq "malformed: 3-byte address" ERANGE "$(raw add "$FAM4$(attr 3 0a0002)$DPORT")"
check_eq "malformed: attribute longer than the message" EINVAL "$(raw add "${FAM4}40000300")"
check_eq "malformed: reply-only STATS in a request" EINVAL "$(raw add "$FAM4$DADDR4$DPORT$(attr 18 '')")"
check_eq "malformed: DSCP 64" ERANGE "$(raw add "$FAM4$DADDR4$DPORT$(attr 11 02000000)$(attr 12 40)")"
check_eq "malformed: port 0" EINVAL "$(raw add "$FAM4$DADDR4$(attr 4 0000)")"
check_eq "malformed: multicast destination" EINVAL "$(raw add "$FAM4$(attr 3 e0000001)$DPORT")"
check_eq "malformed: missing MATCH_DPORT" EINVAL "$(raw add "$FAM4$DADDR4")"
check_eq "malformed: TIMEOUT 0" ERANGE "$(raw add "$FAM4$DADDR4$DPORT$(attr 13 00000000)")"
check_eq "malformed: u16 FAMILY sent as u32" EINVAL "$(raw add "$(attr 2 02000000)$DADDR4$DPORT")"
check_eq "unknown flag bit" EOPNOTSUPP "$(raw add "$FAM4$DADDR4$DPORT$(attr 11 00010000)")"
check_eq "family AF_PACKET" EOPNOTSUPP "$(raw add "$(attr 2 1100)$DADDR4$DPORT")"
check_eq "LATCH without MATCH_SADDR" EINVAL "$(raw add "$FAM4$DADDR4$DPORT$(attr 11 01000000)")"
check_eq "DEL with both ID and COOKIE" EBADR "$(raw del "$(attr 1 01000000)$(attr 17 0100000000000000)")"
check_eq "DEL with neither" EBADR "$(raw del "")"
check_eq "FLUSH with an attribute" EINVAL "$(raw flush "$(attr 1 01000000)")"
check_eq "EXPIRED is not a request" EOPNOTSUPP "$(raw expired "")"
check_eq "duplicate flow" EEXIST \
	"$(fp add match=10.0.2.2:30000 src=10.0.1.2:4000 snat=10.0.2.1 2>/dev/null | tail -n1)"
check_eq "REVERSE naming no flow" ENOENT \
	"$(fp add match=10.0.2.2:30020 reverse=999999 2>/dev/null | tail -n1)"
check_eq "REVERSE already linked" EBUSY \
	"$(fp add match=10.0.2.2:30021 reverse="$out" 2>/dev/null | tail -n1)"
check_eq "refused requests left no flow behind" "$count0" "$(fp list | wc -l)"
r=$(ip netns exec "$router" setpriv --bounding-set=-net_admin "$nfqd" fp list 2>/dev/null |
	tail -n1)
check_eq "without CAP_NET_ADMIN: even a dump is refused" EPERM "$r"

# Random requests (in the phone's namespace: flows are per namespace, and it
# flushes what it manages to add).  panic_on_warn turns any kernel warning
# into a failed boot.
r=$(ip netns exec "$phone" /usr/bin/python3 "$top/tests/vm/fp_nlfuzz.py" 3000 "$RANDOM" 2>&1)
echo "fuzz: $r"
ok=$(echo "$r" | sed -n 's/.* ok=\([0-9]*\) refused=\([0-9]*\).*/\1 \2/p')
set -- $ok
if [ "${1:-0}" -gt 0 ] && [ "${2:-0}" -gt 0 ] && echo "$r" | grep -q "^sent=3000 "; then
	pass "3000 random requests: every one answered, some accepted, some refused"
else
	fail "random requests: $r"
fi
check_eq "the router's flows untouched by the other namespace" 2 "$(fp list | wc -l)"

# ---- 3. latching, removal, expiry ------------------------------------------
lat=$(fp add match=10.0.2.1:4002 src=10.0.2.2 dnat=10.0.1.2 latch=60000 cookie=9 timeout=900)
ret2=$(fp add match=10.0.2.2:30002 src=10.0.1.2:4002 snat=10.0.2.1 dnat=:30002 reverse="$lat" cookie=9 timeout=900)
send "$prov" 10.0.2.2 31000 10.0.2.1 4002 --count 2
l=$(flowget "$lat")
check_eq "latch: the first source port is taken" 31000 "$(field "$l" latched)"
check_eq "latch: its packets are forwarded" 2 "$(field "$l" packets)"
send "$prov" 10.0.2.2 31001 10.0.2.1 4002 --count 2
check_eq "latch: another source port is not" 2 "$(field "$(flowget "$lat")" packets)"
recv_start "$prov" pb 31000 lr 4
send "$phone" 10.0.1.2 4002 10.0.2.2 30002 --count 4
r=$(recv_result lr)
check_eq "latch: the reverse flow now sends to the latched port" \
	"got=4 bad_csum=0 ttl=63 src=10.0.2.1:4002 dst=10.0.2.2:31000" "$(echo "$r" | cut -d' ' -f1-5)"
check_eq "latch: reverse flow shows the new destination port" :31000 \
	"$(field "$(flowget "$ret2")" dnat)"

# A BYE: nfqd removes the dialog's flows by cookie; media falls back.
fp del cookie=7 >/dev/null
check_eq "BYE: the dialog's flows are gone" "ENOENT" "$(fp get "$out" 2>/dev/null | tail -n1)"
f0=$(fwd)
recv_start "$prov" pb 30000 bye 5
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --count 5
r=$(recv_result bye)
check_eq "after BYE: media still arrives (normal path, masqueraded)" \
	"got=5 bad_csum=0 ttl=63 src=10.0.2.1:4000" "$(echo "$r" | cut -d' ' -f1-4)"
check_eq "after BYE: the forward chain carries it" $((f0 + 5)) "$(fwd)"

# A dump longer than one message buffer resumes where it stopped.
ip netns exec "$router" bash -c "for p in \$(seq 40001 40120); do
	$nfqd fp add match=10.0.2.2:\$p cookie=12 >/dev/null || echo ERR; done"
check_eq "dump of 120 flows over several messages: each once" "120 120" \
	"$(fp list cookie=12 | awk '{ print $1 }' | sort | uniq | wc -l) $(fp list | grep -c ' cookie=12 ')"
fp del cookie=12 >/dev/null
check_eq "delete by cookie removed all 120" 0 "$(fp list | grep -c ' cookie=12 ')"

# An owned flow ends with the socket that added it (a daemon exiting or
# crashing); `nfqd fp add` exits at once, so its flow must be gone already.
own=$(fp add match=10.0.2.2:30031 owned)
keep=$(fp add match=10.0.2.2:30032)
check_eq "owned flow removed when its socket closed" ENOENT "$(fp get "$own" 2>/dev/null | tail -n1)"
check_eq "a flow without the flag stays" "$keep" "$(field "$(flowget "$keep")" id)"
fp del "$keep" >/dev/null

fp events 20 >"$tmp/events" 2>&1 &
events=$!
sleep 1		# let it join the group before the flow can expire
idle=$(fp add match=10.0.2.2:30030 timeout=1 cookie=11)
slowwait 8 eval "! fp get $idle >/dev/null 2>&1"
check_eq "idle flow removed after its timeout" ENOENT "$(fp get "$idle" 2>/dev/null | tail -n1)"
slowwait 5 grep -q "^id=$idle " "$tmp/events"
check_eq "its expiry announced on the events group, with figures" "$idle 11 0" \
	"$(l=$(grep "^id=$idle " "$tmp/events"); echo "$(field "$l" id) $(field "$l" cookie) $(field "$l" packets)")"
kill "$events" 2>/dev/null
wait "$events" 2>/dev/null
fp del cookie=9 >/dev/null

# ---- 4. unload during traffic -----------------------------------------------
out=$(fp add match=10.0.2.2:30000 src=10.0.1.2:4000 snat=10.0.2.1)
RECV_TIMEOUT=40 recv_start "$prov" pb 30000 unl 300
send "$phone" 10.0.1.2 4000 10.0.2.2 30000 --count 300 --interval 0.02 &
sender=$!
sleep 2
f0=$(fwd)
if rmmod sipnat_fp; then
	pass "rmmod with a flow active and traffic flowing"
else
	fail "rmmod refused"
fi
wait_pid_exit 30 "$sender" >/dev/null
r=$(recv_result unl)
got=$(echo "$r" | sed -n 's/^got=\([0-9]*\).*/\1/p')
check_ge "unload: media kept arriving (of 300)" 295 "$got"
check_eq "unload: checksums valid on both paths" "bad_csum=0" "$(echo "$r" | cut -d' ' -f2)"
check_ge "unload: the normal path took over" $((f0 + 50)) "$(fwd)"
grep -q sipnat_fp /proc/modules && fail "module still listed" || pass "module gone"
# ---- 5. the in-kernel self-test (flow table against a linear reference) ----
if insmod "$top/build/kmod-selftest/sipnat_fp.ko"; then
	check_eq "self-test build: loads and passes" 1 "$(dmesg | grep -c 'sipnat_fp: selftest: pass')"
	rmmod sipnat_fp
else
	fail "self-test build refused to load: $(dmesg | grep 'selftest' | tail -n2)"
fi

# ---- 6. devices and namespaces going away under cached routes ---------------
# The flows cache routes per CPU; a device must still unregister at once
# (a leaked reference makes `ip link del` wait forever), and a namespace
# with flows must go away cleanly, module loaded.
if insmod "$top/kmod/sipnat_fp.ko"; then
	fin=$(fp add match=10.0.2.1:4000 src=10.0.2.2 dnat=10.0.1.2 timeout=900)
	send "$prov" 10.0.2.2 30000 10.0.2.1 4000 --count 3
	check_eq "route cached: the flow forwarded" 3 "$(field "$(flowget "$fin")" packets)"
	t0=$(date +%s)
	timeout 30 ip -n "$router" link del ra
	check_eq "device with a cached route unregisters at once" 1 $(($(date +%s) - t0 < 5))
	send "$prov" 10.0.2.2 30000 10.0.2.1 4000 --count 2
	check_eq "route gone: packets left to the normal path" 3 "$(field "$(flowget "$fin")" packets)"
	stop_ns_pids "$router"
	ip netns del "$router"
	slowwait 20 eval "! ip netns list | grep -q '^$router'"
	sleep 2		# namespace cleanup runs in a workqueue
	if rmmod sipnat_fp; then
		pass "namespace with flows deleted, then module unloaded"
	else
		fail "rmmod after namespace deletion"
	fi
else
	fail "reloading the module"
fi

if dmesg | grep -E "WARNING|BUG|Oops|waiting for .* to become free" >/dev/null; then
	dmesg | tail -40
	fail "kernel log has a warning"
else
	pass "kernel log clean"
fi
exit $ret
