#!/bin/bash
# test-daemon-queue.sh - nfqd on a real NFQUEUE forwards exactly what
# `nfqd rewrite` produces.  Lab (scripts/lab.sh): caller outside, router
# with a 1:1 static NAT, server 10.0.0.5:5062 / fd00::5 inside; the router
# queues SIP (xt NFQUEUE in mangle FORWARD, --queue-bypass) to nfqd.
#  1. A message in each direction, IPv4 and IPv6, arrives byte for byte as
#     `nfqd rewrite` writes it for the same input, direction and addresses;
#     so does a 3 KB message that crosses the link in IP fragments.
#  2. `nfqd status` (text and JSON) counts what was queued, and the
#     kernel's rule counter shows the packets went through the queue.
#  3. The offer/answer of the IPv4 call opens pinholes (elements of the
#     nft set media4 in table inet sipnat) and its BYE closes them.
#  4. SIGHUP reloads, SIGTERM exits 0, keeps open calls' pinholes, removes the
#     control socket; with nfqd gone the queue is bypassed and messages
#     pass unchanged.
#  5. -n checks a configuration; a bad one exits 2 with FILE:LINE: KEY.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../scripts/lab.sh"

NFQD=$LAB_NFQD
# Debian's python3 directly: a version-manager shim in PATH can take
# seconds per start on a loaded machine, and dialog timeouts are timed.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
QNUM=$((1000 + RANDOM % 1000))

require_root
checktool "test -x $NFQD" "run test without build/nfqd/nfqd (make)"
checktool "nft --version" "run test without nft"
checktool "iptables-nft --version" "run test without iptables-nft"
checktool "ip6tables-nft --version" "run test without ip6tables-nft"
checktool "$PY -c 'import socket'" "run test without python3"
trap cleanup EXIT

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
lab_plain_nat || { fail "lab: plain static NAT loads"; exit $ret; }
W=$LAB_DIR

# The queue rule: xt NFQUEUE through nft_compat (the host kernel has no
# nft `queue` statement).  Ports 5060/5062 in either direction.
for ipt in iptables-nft ip6tables-nft; do
	if ! ip netns exec "$LAB_RT" $ipt -t mangle -A FORWARD -p udp -m multiport \
		--ports 5060,5062 -j NFQUEUE --queue-num $QNUM --queue-bypass; then
		echo "SKIP: $ipt cannot load an NFQUEUE rule"
		exit $ksft_skip
	fi
done

if ! ip netns exec "$LAB_RT" nft -f "$here/../../nft-rules/sipnat.nft"; then
	fail "nft-rules/sipnat.nft loads in the router"
	exit $ret
fi

MAPS=(--map $LAB_SERVER:$LAB_SERVER_PORT=$LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
	--map $LAB_PHONE=$LAB_PHONE_PUB
	--map "[$LAB_SERVER6]:$LAB_SERVER_PORT=[$LAB_SERVER6_PUB]:$LAB_SERVER_PUB_PORT"
	--map $LAB_PHONE6=$LAB_PHONE6_PUB)
SOCK=$W/nfqd.sock

# 5. configuration checks (no kernel needed)
cat >"$W/good.conf" <<EOF
# lab
map = $LAB_SERVER:$LAB_SERVER_PORT=$LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
queue = $QNUM
EOF
out=$("$NFQD" -n -c "$W/good.conf" 2>&1)
check_eq "nfqd -n accepts a good configuration" "configuration OK" "$out"
printf 'map = %s\nqueue = 70000\n' "$LAB_SERVER=$LAB_SERVER_PUB" >"$W/bad.conf"
out=$("$NFQD" -n -c "$W/bad.conf" 2>&1); rc=$?
check_eq "nfqd -n refuses a bad configuration (exit)" 2 $rc
check_eq "nfqd -n names file, line and key" \
	"nfqd: $W/bad.conf:2: queue: expected a number from 0 to 65535, not '70000'" "$out"

start_nfqd()
{
	ip netns exec "$LAB_RT" "$NFQD" --queue $QNUM "${MAPS[@]}" --control-socket "$SOCK" \
		--log-level debug "$@" >>"$W/nfqd.log" 2>&1 &
	NFQD_PID=$!
	slowwait 5 test -S "$SOCK"
}

# recv_one NS ADDR PORT FILE: a background receiver of one datagram.  It
# waits 30 s: under QEMU TCG on a busy machine the sender's interpreter
# alone can take longer than 5 s to start.
recv_one()
{
	ip netns exec "$1" "$PY" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(30)
try:
    data = s.recv(70000)
except socket.timeout:
    sys.exit(1)
open(sys.argv[3], "wb").write(data)
' "$2" "$3" "$4" &
	RECV_PID=$!
	wait_udp_listen "$1" "$2" "$3"
}

# send_one NS SRC SPORT DST DPORT FILE
send_one()
{
	ip netns exec "$1" "$PY" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(open(sys.argv[5], "rb").read(), (sys.argv[3], int(sys.argv[4])))
' "$2" "$3" "$4" "$5" "$6"
}

# expect_rewrite DIR SRC DST IN OUT: what the core makes of IN.
expect_rewrite()
{
	"$NFQD" rewrite --dir "$1" "${MAPS[@]}" --src "$2" --dst "$3" "$4" >"$5" 2>"$5.err" &&
		return 0
	cat "$5.err" >&2
	return 1
}

# crlf: stdin with LF line ends -> CRLF, Content-Length filled in.
crlf()
{
	"$PY" -c '
import sys
t = sys.stdin.read().replace("\n", "\r\n")
h, b = t.split("\r\n\r\n", 1)
sys.stdout.write(h.replace("Content-Length: X", "Content-Length: %d" % len(b.encode())) + "\r\n\r\n" + b)
'
}

# make_msgs FAMILY: writes $W/in.FAMILY.sip (caller -> server, public
# addresses) and $W/out.FAMILY.sip (server -> caller, private addresses).
make_msgs()
{
	local f=$1 srv srvpub caller hp_srvpub hp_srv hp_caller
	if [ "$f" = 4 ]; then
		srv=$LAB_SERVER srvpub=$LAB_SERVER_PUB caller=$LAB_CALLER
		hp_srvpub=$srvpub hp_srv=$srv hp_caller=$caller ipv=IP4
	else
		srv=$LAB_SERVER6 srvpub=$LAB_SERVER6_PUB caller=$LAB_CALLER6
		hp_srvpub="[$srvpub]" hp_srv="[$srv]" hp_caller="[$caller]" ipv=IP6
	fi
	crlf >"$W/in.$f.sip" <<EOF
INVITE sip:service@$hp_srvpub:$LAB_SERVER_PUB_PORT SIP/2.0
Via: SIP/2.0/UDP $hp_caller:5060;branch=z9hG4bK-in-$f
Max-Forwards: 70
From: <sip:caller@$hp_caller>;tag=c1
To: <sip:service@$hp_srvpub:$LAB_SERVER_PUB_PORT>
Call-ID: daemon-queue-$f@$hp_caller
CSeq: 1 INVITE
Contact: <sip:caller@$hp_caller:5060>
Content-Type: application/sdp
Content-Length: X

v=0
o=caller 1 1 IN $ipv $caller
s=-
c=IN $ipv $caller
t=0 0
m=audio $LAB_RTP_CALLER RTP/AVP 0
a=sendrecv
EOF
	crlf >"$W/bye.$f.sip" <<EOF
BYE sip:service@$hp_srvpub:$LAB_SERVER_PUB_PORT SIP/2.0
Via: SIP/2.0/UDP $hp_caller:5060;branch=z9hG4bK-bye-$f
Max-Forwards: 70
From: <sip:caller@$hp_caller>;tag=c1
To: <sip:service@$hp_srvpub:$LAB_SERVER_PUB_PORT>;tag=s1
Call-ID: daemon-queue-$f@$hp_caller
CSeq: 2 BYE
Content-Length: X

EOF
	crlf >"$W/out.$f.sip" <<EOF
SIP/2.0 200 OK
Via: SIP/2.0/UDP $hp_caller:5060;branch=z9hG4bK-in-$f
From: <sip:caller@$hp_caller>;tag=c1
To: <sip:service@$hp_srvpub:$LAB_SERVER_PUB_PORT>;tag=s1
Call-ID: daemon-queue-$f@$hp_caller
CSeq: 1 INVITE
Contact: <sip:service@$hp_srv:$LAB_SERVER_PORT>
Content-Type: application/sdp
Content-Length: X

v=0
o=server 1 1 IN $ipv $srv
s=-
c=IN $ipv $srv
t=0 0
m=audio $LAB_RTP_SERVER RTP/AVP 0
a=sendrecv
EOF
}

# exchange NAME DIR: sends $W/NAME.sip across the router and compares
# what arrives with `nfqd rewrite`'s output (or with the input, when
# EXPECT_UNCHANGED=1).  DIR is in (caller -> server) or out.
exchange()
{
	local name=$1 dir=$2 fam=$3 tx_ns rx_ns src dst hook_src hook_dst want
	local caller=$LAB_CALLER srv=$LAB_SERVER srvpub=$LAB_SERVER_PUB
	[ "$fam" = 6 ] && caller=$LAB_CALLER6 srv=$LAB_SERVER6 srvpub=$LAB_SERVER6_PUB
	if [ "$dir" = in ]; then
		tx_ns=$LAB_OUT rx_ns=$LAB_IN
		src=$caller:5060 dst=$srvpub:$LAB_SERVER_PUB_PORT rx=$srv:$LAB_SERVER_PORT
		# at the FORWARD hook: after DNAT
		hook_src=$(lab_hostport $caller 5060) hook_dst=$(lab_hostport $srv $LAB_SERVER_PORT)
	else
		tx_ns=$LAB_IN rx_ns=$LAB_OUT
		src=$srv:$LAB_SERVER_PORT dst=$caller:5060 rx=$caller:5060
		# at the FORWARD hook: before SNAT
		hook_src=$(lab_hostport $srv $LAB_SERVER_PORT) hook_dst=$(lab_hostport $caller 5060)
	fi
	rm -f "$W/$name.got"
	recv_one "$rx_ns" "${rx%:*}" "${rx##*:}" "$W/$name.got"
	send_one "$tx_ns" "${src%:*}" "${src##*:}" "${dst%:*}" "${dst##*:}" "$W/$name.sip"
	wait_pid_exit 35 $RECV_PID
	if [ "${EXPECT_UNCHANGED:-0}" = 1 ]; then
		want=$W/$name.sip
	else
		want=$W/$name.want
		if ! expect_rewrite "$dir" "$hook_src" "$hook_dst" "$W/$name.sip" "$want"; then
			fail "$name: nfqd rewrite runs"
			return
		fi
	fi
	if [ ! -s "$W/$name.got" ]; then
		fail "$name: message arrives"
	elif cmp -s "$want" "$W/$name.got"; then
		cmp -s "$W/$name.sip" "$W/$name.got" || N_CHANGED=$((N_CHANGED + 1))
		pass "$name: arrives exactly as expected ($(wc -c <"$W/$name.got") bytes$(
			cmp -s "$W/$name.sip" "$W/$name.got" && echo ", unchanged" || echo ", rewritten"))"
	else
		fail "$name: arrived bytes differ from the expected ones"
		diff <(cat -A "$want") <(cat -A "$W/$name.got") | head -20 >&2
	fi
}

status_value()
{
	ip netns exec "$LAB_RT" "$NFQD" status --control-socket "$SOCK" 2>/dev/null |
		awk -v k="$1" '$1 == k { print $2 }'
}

# --probe reports and changes nothing (its nft check is a batch the kernel
# validates and aborts).
before=$(ip netns exec "$LAB_RT" nft list ruleset)
probe=$(ip netns exec "$LAB_RT" "$NFQD" --probe --queue $QNUM 2>&1); rc=$?
check_eq "nfqd --probe exits 0" 0 $rc
case $probe in
*"nft table inet sipnat: yes"*) pass "nfqd --probe sees the sipnat table" ;;
*) fail "nfqd --probe sees the sipnat table: $probe" ;;
esac
check_eq "nfqd --probe leaves the ruleset as it was" "$before" \
	"$(ip netns exec "$LAB_RT" nft list ruleset)"
echo "$probe" | sed 's/^/    probe: /'

# 1. both directions, both families
N_CHANGED=0
if ! start_nfqd; then
	fail "nfqd starts and opens its control socket"
	cat "$W/nfqd.log"
	exit $ret
fi
pass "nfqd starts and opens its control socket"
make_msgs 4
make_msgs 6
exchange in.4 in 4
exchange out.4 out 4
pins4=$(nft_set_elements "$LAB_RT" inet sipnat media4)
pins4_open=$pins4
check_ge "pinholes: the answered IPv4 call has elements in media4" 2 "$pins4"
exchange bye.4 in 4
pins4=$(nft_set_elements "$LAB_RT" inet sipnat media4)
check_eq "pinholes: the BYE closes them" 0 "$pins4"
exchange in.6 in 6
exchange out.6 out 6
pins6=$(nft_set_elements "$LAB_RT" inet sipnat media6)
check_ge "pinholes: the answered IPv6 call has elements in media6" 2 "$pins6"
# A second nfqd on the same queue must fail without touching the first
# one's pinholes.
ip netns exec "$LAB_RT" timeout 10 "$NFQD" --queue $QNUM "${MAPS[@]}" \
	--control-socket "$W/second.sock" >"$W/second.log" 2>&1; rc=$?
check_eq "a second nfqd on a bound queue exits 1" 1 $rc
if grep -q "bound by another process" "$W/second.log"; then
	pass "a second nfqd says the queue is bound by another process"
else
	fail "a second nfqd says why it failed: $(cat "$W/second.log")"
fi
check_eq "a second nfqd leaves the first one's pinholes alone" "$pins6" \
	"$(nft_set_elements "$LAB_RT" inet sipnat media6)"

# A message larger than the link MTU: fragments are reassembled before the
# queue and the rewritten packet is fragmented again on the way out.
"$PY" -c '
import sys
m = open(sys.argv[1], "rb").read()
head, body = m.split(b"\r\n\r\n", 1)
pad = b"".join(b"X-Pad-%02d: %s\r\n" % (i, b"%060d" % i) for i in range(40))
head = head.replace(b"\r\nContent-Type", b"\r\n" + pad + b"Content-Type")
sys.stdout.buffer.write(head + b"\r\n\r\n" + body)
' "$W/in.4.sip" >"$W/big.sip"
exchange big in 4

# Not SIP at all: forwarded unchanged (not strict) and counted.
printf 'hello, this is not SIP\r\n' >"$W/junk.sip"
exchange junk in 4

# 2. counters
seen=$(status_value seen)
check_ge "nfqd status: seen counts the queued packets" 5 "$seen"
check_ge "nfqd status: in counts inbound messages" 3 "$(status_value in)"
check_ge "nfqd status: out counts outbound messages" 2 "$(status_value out)"
check_eq "nfqd status: rewritten counts the messages that changed" $N_CHANGED \
	"$(status_value rewritten)"
check_eq "nfqd status: pinholes-opened counts the elements added" $((${pins4_open:-0} + ${pins6:-0})) \
	"$(status_value pinholes-opened)"
check_eq "nfqd status: pinholes-closed counts the BYE's" "${pins4_open:-0}" \
	"$(status_value pinholes-closed)"
check_ge "nfqd status: dialogs-active counts the open IPv6 call" 1 "$(status_value dialogs-active)"
check_eq "nfqd status: passthrough-not-sip counts the junk" 1 "$(status_value passthrough-not-sip)"
json=$(ip netns exec "$LAB_RT" "$NFQD" status --json --control-socket "$SOCK")
jseen=$(echo "$json" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["seen"])' 2>/dev/null)
check_eq "nfqd status --json is JSON with the same counter" "$seen" "$jseen"
qpk=$(ip netns exec "$LAB_RT" iptables-nft -t mangle -L FORWARD -v -n -x |
	awk '/NFQUEUE/ { print $1; exit }')
check_ge "kernel: the IPv4 NFQUEUE rule matched the IPv4 messages" 3 "$qpk"
out=$(printf 'x%.0s' $(seq 200) | ip netns exec "$LAB_RT" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.read().encode())
print(s.recv(100))' "$SOCK" 2>&1)
if kill -0 $NFQD_PID 2>/dev/null && [ -n "$(status_value seen)" ]; then
	pass "control socket: an overlong request does not hurt the daemon"
else
	fail "control socket: nfqd died or stopped answering after an overlong request ($out)"
fi

# 3. signals and bypass
kill -HUP $NFQD_PID
if slowwait 5 grep -q "reloaded configuration" "$W/nfqd.log"; then
	pass "SIGHUP reloads the configuration"
else
	fail "SIGHUP reloads the configuration"
fi
held6=$(nft_set_elements "$LAB_RT" inet sipnat media6)
[ "$held6" -gt 0 ] || fail "an open IPv6 call holds pinholes before SIGTERM (found $held6)"
kill -TERM $NFQD_PID
wait_pid_exit 5 $NFQD_PID; rc=$?
check_eq "SIGTERM: nfqd exits 0" 0 $rc
if [ -e "$SOCK" ]; then fail "SIGTERM: control socket removed"; else pass "SIGTERM: control socket removed"; fi
# A restart must not cut calls in progress: the pinholes stay and age out.
check_eq "SIGTERM: the open call's pinholes stay" "$held6" "$(nft_set_elements "$LAB_RT" inet sipnat media6)"
EXPECT_UNCHANGED=1 exchange out.4 out 4
EXPECT_UNCHANGED=1 exchange in.6 in 6

# The same after SIGKILL (no chance to unbind): the kernel unbinds with
# the socket and the bypass holds.
start_nfqd || fail "nfqd restarts"
kill -KILL $NFQD_PID
wait $NFQD_PID 2>/dev/null
EXPECT_UNCHANGED=1 exchange in.4 in 4

# strict drops what is not SIP; dialog timeouts close pinholes.
start_nfqd --strict --setup-timeout 5 || fail "nfqd starts with --strict --setup-timeout 5"
rm -f "$W/junk.got"
recv_one "$LAB_IN" $LAB_SERVER $LAB_SERVER_PORT "$W/junk.got"
send_one "$LAB_OUT" $LAB_CALLER 5060 $LAB_SERVER_PUB $LAB_SERVER_PUB_PORT "$W/junk.sip"
# Not waiting out the receiver: once nfqd counts the drop, nothing comes.
dropped_one() { [ "$(status_value dropped)" = 1 ]; }
slowwait 30 dropped_one
kill $RECV_PID 2>/dev/null
wait_pid_exit 5 $RECV_PID
if [ -e "$W/junk.got" ]; then
	fail "strict: a message that is not SIP is dropped"
else
	pass "strict: a message that is not SIP is dropped"
fi
check_eq "strict: nfqd status counts it as dropped" 1 "$(status_value dropped)"
sed 's|^SIP/2.0 200 OK|SIP/2.0 183 Session Progress|' "$W/out.4.sip" >"$W/ringing.sip"
exchange in.4 in 4
exchange ringing out 4
pins4=$(nft_set_elements "$LAB_RT" inet sipnat media4)
check_ge "timeouts: an early answer (183) opens pinholes" 2 "$pins4"
media4_empty() { [ "$(nft_set_elements "$LAB_RT" inet sipnat media4)" = 0 ]; }
if slowwait 12 media4_empty; then
	pass "timeouts: setup-timeout closes the pinholes of an unanswered call"
else
	fail "timeouts: setup-timeout closes the pinholes of an unanswered call"
fi
check_eq "timeouts: nfqd status counts them as expired" "$pins4" \
	"$(status_value pinholes-expired)"

# SIGHUP with a broken file keeps the running configuration; a key that
# needs a restart is kept and named.
printf 'log-level = debug\n' >"$W/reload.conf"
kill -TERM $NFQD_PID
wait_pid_exit 5 $NFQD_PID
start_nfqd -c "$W/reload.conf" || fail "nfqd starts with -c"
printf 'log-level = loud\n' >"$W/reload.conf"
kill -HUP $NFQD_PID
if slowwait 5 grep -q "reload: $W/reload.conf:1: log-level: .*keeping the running" "$W/nfqd.log"; then
	pass "SIGHUP with a bad file names the error and keeps running"
else
	fail "SIGHUP with a bad file names the error and keeps running"
fi
printf 'log-level = debug\nmedia-timeout = 30\n' >"$W/reload.conf"
kill -HUP $NFQD_PID
if slowwait 5 grep -q "reload: media-timeout changes only on restart" "$W/nfqd.log"; then
	pass "SIGHUP names a key that needs a restart"
else
	fail "SIGHUP names a key that needs a restart"
fi
check_eq "after the reloads nfqd still serves queue $QNUM" $QNUM "$(status_value queue)"
kill -TERM $NFQD_PID
wait_pid_exit 5 $NFQD_PID

if [ $ret -ne 0 ]; then
	echo "---- nfqd log" >&2
	cat "$W/nfqd.log" >&2
	dump_ruleset "$LAB_RT"
fi
exit $ret
