#!/bin/bash
# scripts/lab.sh - the lab network of the netns tests and of `make demo`:
# a static-NAT deployment in three network namespaces.
#
#   $LAB_IN (inside)              $LAB_RT (router)                  $LAB_OUT (outside)
#   10.0.0.5   server :5062  eth0 --- in0 10.0.0.1    out0 198.51.100.1 --- eth0 198.51.100.20 caller
#   10.0.0.10  phone  :5060           fd00::1         2001:db8::1            198.51.100.30 registrar
#   fd00::5, fd00::10                 owns 203.0.113.5, 203.0.113.10,        2001:db8::20, ::30
#                                     2001:db8::5, 2001:db8::10 (public)
#
# 1:1 static NAT: 10.0.0.5 <-> 203.0.113.5 with SIP port 5060 (public) <->
# 5062 (private), 10.0.0.10 <-> 203.0.113.10; fd00::5 <-> 2001:db8::5,
# fd00::10 <-> 2001:db8::10.  Each endpoint namespace counts the media it
# receives (table inet lab_rx, counters rtp_server, rtp_phone, rtp_caller).
#
# Owns: the topology, the plain NAT (no sipnat) and the start of sipnat's
# pieces (rules, nfqd) inside the router, the start of the SIP peers.
# Must not: touch the root namespace (its ruleset, sysctls, routes); every
# address used lives in the namespaces made here.
#
# Sourced (after tests/netns/lib.sh) by the tests and scripts/demo.sh.  Run
# directly, `scripts/lab.sh up [plain|sipnat|none]` builds a lab and leaves it
# for manual poking (it prints the namespace names);
# `scripts/lab.sh down SUFFIX` removes it again.

LAB_TOP=${LAB_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LAB_PEERS=$LAB_TOP/tests/netns/peers

LAB_SERVER=10.0.0.5 LAB_SERVER_PORT=5062
LAB_SERVER_PUB=203.0.113.5 LAB_SERVER_PUB_PORT=5060
LAB_PHONE=10.0.0.10 LAB_PHONE_PUB=203.0.113.10
LAB_CALLER=198.51.100.20 LAB_REGISTRAR=198.51.100.30
LAB_RT_IN=10.0.0.1 LAB_RT_OUT=198.51.100.1
LAB_SERVER6=fd00::5 LAB_SERVER6_PUB=2001:db8::5
LAB_PHONE6=fd00::10 LAB_PHONE6_PUB=2001:db8::10
LAB_CALLER6=2001:db8::20 LAB_REGISTRAR6=2001:db8::30
LAB_RT_IN6=fd00::1 LAB_RT_OUT6=2001:db8::1
# RTP ports each peer receives on (m= lines); the counters key on them.
LAB_RTP_SERVER=20000 LAB_RTP_PHONE=22000 LAB_RTP_CALLER=30000
# the pcap each side plays after the ACK: 10 RTP packets in 0.14 s
LAB_PCAP_PACKETS=10

LAB_NFQD=${LAB_NFQD:-$LAB_TOP/build/nfqd/nfqd}

# lab_up: makes the namespaces (sets LAB_IN, LAB_RT, LAB_OUT), links,
# addresses, routes, forwarding, and the receive counters.  No NAT yet.
lab_up()
{
	setup_ns sn_in sn_rt sn_out
	LAB_IN=$sn_in LAB_RT=$sn_rt LAB_OUT=$sn_out
	LAB_DIR=$(mktemp -d "/tmp/sipnat-lab-$NS_SUFFIX.XXXXXX")
	on_cleanup "rm -rf '$LAB_DIR'"

	ip link add in0 netns "$LAB_RT" type veth peer name eth0 netns "$LAB_IN" || return 1
	ip link add out0 netns "$LAB_RT" type veth peer name eth0 netns "$LAB_OUT" || return 1

	# nodad: IPv6 addresses are usable at once, no 1-2 s of tentative state.
	ip -n "$LAB_IN" addr add $LAB_SERVER/24 dev eth0
	ip -n "$LAB_IN" addr add $LAB_PHONE/24 dev eth0
	ip -n "$LAB_IN" addr add $LAB_SERVER6/64 dev eth0 nodad
	ip -n "$LAB_IN" addr add $LAB_PHONE6/64 dev eth0 nodad
	ip -n "$LAB_RT" addr add $LAB_RT_IN/24 dev in0
	ip -n "$LAB_RT" addr add $LAB_RT_IN6/64 dev in0 nodad
	ip -n "$LAB_RT" addr add $LAB_RT_OUT/24 dev out0
	ip -n "$LAB_RT" addr add $LAB_RT_OUT6/64 dev out0 nodad
	# The router owns the public addresses it NATs for, so it answers ARP/ND.
	ip -n "$LAB_RT" addr add $LAB_SERVER_PUB/32 dev out0
	ip -n "$LAB_RT" addr add $LAB_PHONE_PUB/32 dev out0
	ip -n "$LAB_RT" addr add $LAB_SERVER6_PUB/128 dev out0 nodad
	ip -n "$LAB_RT" addr add $LAB_PHONE6_PUB/128 dev out0 nodad
	ip -n "$LAB_OUT" addr add $LAB_CALLER/24 dev eth0
	ip -n "$LAB_OUT" addr add $LAB_REGISTRAR/24 dev eth0
	ip -n "$LAB_OUT" addr add $LAB_CALLER6/64 dev eth0 nodad
	ip -n "$LAB_OUT" addr add $LAB_REGISTRAR6/64 dev eth0 nodad

	local ns
	for ns in "$LAB_IN" "$LAB_RT" "$LAB_OUT"; do
		ip -n "$ns" link set dev lo up
	done
	ip -n "$LAB_IN" link set eth0 up
	ip -n "$LAB_OUT" link set eth0 up
	ip -n "$LAB_RT" link set in0 up
	ip -n "$LAB_RT" link set out0 up

	ip -n "$LAB_IN" route add default via $LAB_RT_IN
	ip -n "$LAB_IN" -6 route add default via $LAB_RT_IN6
	# The outside knows only the public addresses: 10.0.0.0/8 and fd00::/8
	# are not routed there, as on the Internet.
	ip -n "$LAB_OUT" route add 203.0.113.0/24 via $LAB_RT_OUT

	ip netns exec "$LAB_RT" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$LAB_RT" sysctl -qw net.ipv6.conf.all.forwarding=1

	ip netns exec "$LAB_IN" nft -f - <<-EOF || return 1
	table inet lab_rx {
		counter rtp_server { }
		counter rtp_phone { }
		chain input {
			type filter hook input priority 0; policy accept;
			udp dport $LAB_RTP_SERVER counter name rtp_server
			udp dport $LAB_RTP_PHONE counter name rtp_phone
		}
	}
	EOF
	ip netns exec "$LAB_OUT" nft -f - <<-EOF || return 1
	table inet lab_rx {
		counter rtp_caller { }
		chain input {
			type filter hook input priority 0; policy accept;
			udp dport $LAB_RTP_CALLER counter name rtp_caller
		}
	}
	EOF
	lab_ping
}

# lab_ping: the links work (router to every lab address, both families).
# This also fills the neighbour caches, so a test's first packets do not
# wait for ARP/ND (and arrive after a counter was read).
lab_ping()
{
	local a
	for a in $LAB_SERVER $LAB_PHONE $LAB_CALLER $LAB_REGISTRAR \
		$LAB_SERVER6 $LAB_PHONE6 $LAB_CALLER6 $LAB_REGISTRAR6; do
		slowwait 5 ip netns exec "$LAB_RT" ping -q -c1 -W1 "$a" >/dev/null || return 1
	done
}

# lab_plain_nat: the static NAT of a router without any SIP help, and a
# forward chain that lets everything through.  This is what breaks SIP.
lab_plain_nat()
{
	ip netns exec "$LAB_RT" nft -f - <<-EOF
	table ip lab_nat {
		chain prerouting {
			type nat hook prerouting priority dstnat; policy accept;
			ip daddr $LAB_SERVER_PUB udp dport $LAB_SERVER_PUB_PORT dnat to $LAB_SERVER:$LAB_SERVER_PORT
			ip daddr $LAB_SERVER_PUB dnat to $LAB_SERVER
			ip daddr $LAB_PHONE_PUB dnat to $LAB_PHONE
		}
		chain postrouting {
			type nat hook postrouting priority srcnat; policy accept;
			ip saddr $LAB_SERVER udp sport $LAB_SERVER_PORT snat to $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
			ip saddr $LAB_SERVER snat to $LAB_SERVER_PUB
			ip saddr $LAB_PHONE snat to $LAB_PHONE_PUB
		}
	}
	table ip6 lab_nat {
		chain prerouting {
			type nat hook prerouting priority dstnat; policy accept;
			ip6 daddr $LAB_SERVER6_PUB udp dport $LAB_SERVER_PUB_PORT dnat to [$LAB_SERVER6]:$LAB_SERVER_PORT
			ip6 daddr $LAB_SERVER6_PUB dnat to $LAB_SERVER6
			ip6 daddr $LAB_PHONE6_PUB dnat to $LAB_PHONE6
		}
		chain postrouting {
			type nat hook postrouting priority srcnat; policy accept;
			ip6 saddr $LAB_SERVER6 udp sport $LAB_SERVER_PORT snat to [$LAB_SERVER6_PUB]:$LAB_SERVER_PUB_PORT
			ip6 saddr $LAB_SERVER6 snat to $LAB_SERVER6_PUB
			ip6 saddr $LAB_PHONE6 snat to $LAB_PHONE6_PUB
		}
	}
	EOF
}

# lab_nfqd_start [ARGS...]: nfqd in the router with the lab's map (both
# families), its control socket and log in LAB_DIR; waits for the socket.
# From/To are rewritten too, so no private address leaves the router.
LAB_QNUM=${LAB_QNUM:-0}
lab_nfqd_start()
{
	ip netns exec "$LAB_RT" "$LAB_NFQD" -c /dev/null --queue "$LAB_QNUM" \
		--map $LAB_SERVER:$LAB_SERVER_PORT=$LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT \
		--map $LAB_PHONE=$LAB_PHONE_PUB \
		--map "[$LAB_SERVER6]:$LAB_SERVER_PORT=[$LAB_SERVER6_PUB]:$LAB_SERVER_PUB_PORT" \
		--map $LAB_PHONE6=$LAB_PHONE6_PUB \
		--rewrite-from-to \
		--control-socket "$LAB_DIR/nfqd.sock" --log-level "${LAB_NFQD_LOG:-info}" \
		"$@" >>"$LAB_DIR/nfqd.log" 2>&1 &
	LAB_NFQD_PID=$!
	slowwait 5 test -S "$LAB_DIR/nfqd.sock"
}

# lab_expect_supported: true when this kernel has userspace conntrack
# helpers and NFQA_CT (nfqd --probe), which media-backend expect needs.
lab_expect_supported()
{
	local probe
	probe=$(ip netns exec "$LAB_RT" "$LAB_NFQD" -c /dev/null --probe --queue "$LAB_QNUM" 2>&1)
	grep -q 'nfnetlink_cthelper): yes' <<<"$probe" &&
		grep -q 'NFQA_CFG_F_CONNTRACK): yes' <<<"$probe"
}

# lab_nfqd_expect_start [ARGS...]: nfqd as the conntrack helper "sipnat"
# (media-backend expect), without a map: the NAT view comes from conntrack.
# It registers the helper, so start it before `sipnat-rules load` names it.
lab_nfqd_expect_start()
{
	rm -f "$LAB_DIR/nfqd.sock"
	ip netns exec "$LAB_RT" "$LAB_NFQD" -c /dev/null --queue "$LAB_QNUM" \
		--media-backend expect --rewrite-from-to \
		--control-socket "$LAB_DIR/nfqd.sock" --log-level debug "$@" \
		>>"$LAB_DIR/nfqd.log" 2>&1 &
	LAB_NFQD_PID=$!
	slowwait 10 test -S "$LAB_DIR/nfqd.sock"
}

# lab_helper_unregister: the helper is global to the kernel and would turn
# later tests' `sipnat-rules load` (auto) into helper mode: once the ruleset
# is gone, a short nfqd run unregisters it (nfqd unregisters on exit when
# nothing names the helper).  For on_cleanup after lab_nfqd_expect_start.
lab_helper_unregister()
{
	local d pid
	ip netns exec "$LAB_RT" nft delete table inet sipnat 2>/dev/null
	d=$(mktemp -d /tmp/sipnat-unreg.XXXXXX) || return
	ip netns exec "$LAB_RT" "$LAB_NFQD" -c /dev/null --queue "$LAB_QNUM" \
		--media-backend expect --control-socket "$d/s" >"$d/log" 2>&1 &
	pid=$!
	slowwait 10 test -S "$d/s"
	kill -TERM $pid 2>/dev/null
	wait_pid_exit 5 $pid >/dev/null
	grep -q "unregistered" "$d/log" || echo "warning: helper sipnat still registered" >&2
	rm -rf "$d"
}

# lab_expect_list: the router's expectations, both families.
lab_expect_list()
{
	ip netns exec "$LAB_RT" conntrack -L expect -f ipv4 2>/dev/null
	ip netns exec "$LAB_RT" conntrack -L expect -f ipv6 2>/dev/null
}

# lab_expectations: how many of them are sipnat's.
lab_expectations()
{
	lab_expect_list | grep -c 'sipnat'
}

# lab_queue_sip: SIP (UDP 5060/5062, either direction) to nfqd's queue, with
# xt NFQUEUE through nft_compat (the host kernel has no nft `queue`), in
# mangle FORWARD: outbound before SNAT, inbound after DNAT.
lab_queue_sip()
{
	local ipt
	for ipt in iptables-nft ip6tables-nft; do
		ip netns exec "$LAB_RT" $ipt -t mangle -A FORWARD -p udp -m multiport \
			--ports $LAB_SERVER_PUB_PORT,$LAB_SERVER_PORT \
			-j NFQUEUE --queue-num "$LAB_QNUM" --queue-bypass || return 1
	done
}

# lab_nfqd_plain: the plain static NAT (forward accepts all) with nfqd
# rewriting SIP; no firewall, so no pinholes (media-backend none).
lab_nfqd_plain()
{
	[ -x "$LAB_NFQD" ] || return 4
	lab_plain_nat || return 1
	lab_queue_sip || return 1
	lab_nfqd_start --media-backend none
}

# lab_sipnat_up: the router as deployed with sipnat: the example static-NAT
# firewall (nft-rules/example-static-nat.nft, forward policy drop; its
# defaults are this lab), sipnat's own rules (pinhole sets, SIP to NFQUEUE)
# loaded by scripts/sipnat-rules, and nfqd with the lab's map.  Returns 4
# when this tree lacks one of those pieces.
lab_sipnat_up()
{
	local fw=$LAB_TOP/nft-rules/example-static-nat.nft
	local loader=$LAB_TOP/scripts/sipnat-rules
	[ -r "$fw" ] && [ -x "$loader" ] && [ -x "$LAB_NFQD" ] || return 4
	ip netns exec "$LAB_RT" nft -f "$fw" || return 1
	ip netns exec "$LAB_RT" "$loader" load --queue "$LAB_QNUM" \
		--sip-ports $LAB_SERVER_PUB_PORT,$LAB_SERVER_PORT \
		>>"$LAB_DIR/sipnat-rules.log" 2>&1 || return 1
	lab_nfqd_start
}

# lab_media_pass: packets that matched a pinhole (table inet sipnat's
# counters media4_pass + media6_pass).
lab_media_pass()
{
	local n4 n6
	n4=$(nft_counter_packets "$LAB_RT" inet sipnat media4_pass)
	n6=$(nft_counter_packets "$LAB_RT" inet sipnat media6_pass)
	echo $((${n4:-0} + ${n6:-0}))
}

# lab_fw_dropped: packets the example firewall's forward chain dropped.
lab_fw_dropped()
{
	nft_counter_packets "$LAB_RT" inet sipnat_example dropped
}

# lab_pinholes: media pinholes (elements of sets media4 and media6 in table
# inet sipnat) in the router.
lab_pinholes()
{
	local n4 n6
	n4=$(nft_set_elements "$LAB_RT" inet sipnat media4)
	n6=$(nft_set_elements "$LAB_RT" inet sipnat media6)
	echo $((${n4:-0} + ${n6:-0}))
}

lab_pinholes_open() { [ "$(lab_pinholes)" -gt 0 ]; }
lab_pinholes_closed() { [ "$(lab_pinholes)" -eq 0 ]; }

# lab_private_leaks NAME [FILTER]: every line of the decoded SIP/SDP in a
# capture (only messages matching the tshark display FILTER, if given) that
# names a mapped private address (IPv4 or IPv6), at most 5; nothing when
# there is none.
lab_private_leaks()
{
	tshark -n -r "$LAB_DIR/$1.pcap" -Y "sip${2:+ && ($2)}" -V 2>/dev/null | lab_leak_lines
}

# lab_leak_lines: the lines of decoded (tshark -V) text on stdin that name a
# mapped private address, as lab_private_leaks prints them.
lab_leak_lines()
{
	grep -E "(^|[^0-9.])(${LAB_SERVER//./\\.}|${LAB_PHONE//./\\.})([^0-9]|\$)|fd00::" |
		sed 's/^ *//' | sort -u | head -n 5 | tr '\n' ';'
}

# lab_nfqd_status: `nfqd status` of the lab's daemon.
lab_nfqd_status()
{
	"$LAB_NFQD" status --control-socket "$LAB_DIR/nfqd.sock" 2>&1
}

# lab_counter NS COUNTER: packets of a lab_rx counter.
lab_counter()
{
	nft_counter_packets "$1" inet lab_rx "$2"
}

# lab_sipp NS NAME ARGS...: starts sipp in the background inside NS, in
# LAB_DIR, with its screen and message trace in $LAB_DIR/NAME.*; sets LAB_PID.
# Every run is bounded by -timeout (30 s more than the hold, so a long hold
# in the slow QEMU guest is not cut short); a call lasts LAB_HOLD_MS (1000)
# after the ACK.  The Call-ID names no address (it is an opaque token that no NAT
# helper rewrites), so a private address seen outside is a real leak.
lab_sipp()
{
	local ns=$1 name=$2
	shift 2
	(cd "$LAB_DIR" && exec ip netns exec "$ns" sipp -nostdin -m 1 \
		-timeout "$((30 + ${LAB_HOLD_MS:-1000} / 1000))s" \
		-d "${LAB_HOLD_MS:-1000}" -cid_str "%u-%p@$name.lab" \
		-trace_msg -message_file "$LAB_DIR/$name.msg" \
		-trace_err -error_file "$LAB_DIR/$name.err" \
		"$@" >"$LAB_DIR/$name.out" 2>&1) &
	LAB_PID=$!
}

# lab_hostport IP PORT: IP:PORT, IPv6 in brackets.
lab_hostport()
{
	case $1 in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

# lab_uas NS NAME IP PORT RTP_PORT [SDP_IP [CONTACT_HOST]]: a UAS answering
# one call; SDP_IP and CONTACT_HOST (HOST:PORT) default to its own address.
# LAB_UAS_XML / LAB_UAC_XML pick another scenario of peers/ (default uas, uac).
lab_uas()
{
	local ns=$1 name=$2 ip=$3 port=$4 rtp=$5 sdp=${6:-$3}
	local contact=${7:-$(lab_hostport "$3" "$4")}
	lab_sipp "$ns" "$name" -sf "$(lab_scenario "${LAB_UAS_XML:-uas}")" -i "$ip" -p "$port" \
		-mi "$ip" -mp "$rtp" -key sdp_ip "$sdp" -key contact_host "$contact"
	LAB_UAS_PID=$LAB_PID
	wait_udp_listen "$ns" "$ip" "$port"
}

# lab_uac NS NAME IP RTP_PORT TARGET [SDP_IP] [SERVICE]: one call to TARGET
# (host:port), from SIP port LAB_UAC_PORT (5060).  Sets LAB_UAC_PID; wait
# for it with wait_pid_exit.
lab_uac()
{
	local ns=$1 name=$2 ip=$3 rtp=$4 target=$5 sdp=${6:-$3} svc=${7:-service}
	lab_sipp "$ns" "$name" -sf "$(lab_scenario "${LAB_UAC_XML:-uac}")" -i "$ip" -p "${LAB_UAC_PORT:-5060}" \
		-mi "$ip" -mp "$rtp" -key sdp_ip "$sdp" -s "$svc" "$target"
	LAB_UAC_PID=$LAB_PID
}

# lab_register NS NAME IP PORT USER REGISTRAR [CONTACT_HOST]: one REGISTER
# of USER at REGISTRAR (host:port); waits for sipp and returns its status.
lab_register()
{
	local ns=$1 name=$2 ip=$3 port=$4 user=$5 reg=$6
	local contact=${7:-$(lab_hostport "$3" "$4")}
	lab_sipp "$ns" "$name" -sf "$LAB_PEERS/register.xml" -i "$ip" -p "$port" \
		-key contact_host "$contact" -s "$user" "$reg"
	wait_pid_exit 20 "$LAB_PID"
}

# lab_kamailio NS ADDR: the registrar/proxy, foreground, logging to
# $LAB_DIR/kamailio.log; waits until it listens.
lab_kamailio()
{
	local ns=$1 addr=$2
	sed "s/LISTEN_ADDR/$addr/g" "$LAB_PEERS/kamailio.cfg" >"$LAB_DIR/kamailio.cfg"
	ip netns exec "$ns" kamailio -f "$LAB_DIR/kamailio.cfg" -DD -E -m 16 -M 4 \
		-w "$LAB_DIR" -Y "$LAB_DIR" -P "$LAB_DIR/kamailio.pid" \
		>"$LAB_DIR/kamailio.log" 2>&1 &
	LAB_KAMAILIO_PID=$!
	wait_udp_listen "$ns" "$addr" 5060
}

# lab_capture_start NS IFACE NAME [PROBE_NS PROBE_DST]: dumpcap on IFACE
# into $LAB_DIR/NAME.pcap (at most LAB_CAPTURE_MAX, 600 s).  The capture needs
# a moment before it really captures, so this returns only once a probe ping
# from PROBE_NS to PROBE_DST (default: the router to the caller) shows up in
# the file (bounded by LAB_CAPTURE_WAIT seconds, per step).  dumpcap, not
# `tshark -i`: tshark first runs each of Wireshark's extcap programs
# (androiddump, sshdump, ... 15 execs), which took 7-11 s in the QEMU TCG
# guest and, on a loaded machine, more than the 60 s bound; dumpcap writes the
# same file (tshark -w runs it too) and starts at once.
LAB_CAPTURE_WAIT=${LAB_CAPTURE_WAIT:-60}
lab_capture_start()
{
	local ns=$1 ifc=$2 name=$3 probe_ns=${4:-$LAB_RT} probe_dst=${5:-$LAB_CALLER}
	local f=$LAB_DIR/$name.pcap v=LAB_CAP_${name//[^a-zA-Z0-9_]/_}
	ip netns exec "$ns" dumpcap -q -i "$ifc" -a duration:"${LAB_CAPTURE_MAX:-600}" -w "$f" \
		>"$LAB_DIR/$name.capture.log" 2>&1 &
	printf -v "$v" '%s' "$! $probe_ns $probe_dst"
	slowwait "$LAB_CAPTURE_WAIT" grep -q "Capturing on" "$LAB_DIR/$name.capture.log" || return 1
	slowwait "$LAB_CAPTURE_WAIT" lab_capture_probe "$f" "$probe_ns" "$probe_dst" 56
}

# lab_capture_probe FILE NS DST SIZE: one ping of SIZE bytes, then true if
# the capture file holds one of that size.
lab_capture_probe()
{
	ip netns exec "$2" ping -q -c1 -W1 -s "$4" "$3" >/dev/null 2>&1
	[ -s "$1" ] && tshark -n -r "$1" -Y "icmp && frame.len == $(($4 + 42))" 2>/dev/null |
		grep -q .
}

# lab_capture_sync NAME: returns once a fresh probe (a ping of a size not
# used before) is in the file, so every packet sent before it is written
# and the file can be read while the capture goes on.
LAB_PROBE_SIZE=1000
lab_capture_sync()
{
	local v=LAB_CAP_${1//[^a-zA-Z0-9_]/_} pid probe_ns probe_dst
	[ -n "${!v:-}" ] || return 0
	read -r pid probe_ns probe_dst <<<"${!v}"
	LAB_PROBE_SIZE=$((LAB_PROBE_SIZE + 1))
	slowwait "$LAB_CAPTURE_WAIT" lab_capture_probe "$LAB_DIR/$1.pcap" "$probe_ns" \
		"$probe_dst" $LAB_PROBE_SIZE
}

# lab_capture_decode NAME FILTER VAR: sets VAR to the SIP messages of a capture
# that match the tshark display FILTER, decoded (tshark -V), once every packet
# sent before the call is in the file.  One tshark run does both (under TCG
# each takes seconds): a fresh probe (as lab_capture_sync) is decoded with the
# messages and tried again until it shows, at most LAB_CAPTURE_WAIT seconds;
# then VAR gets the last decode anyway.  Not in a $(...) subshell: the probe
# size must count up for the next call.
lab_capture_decode()
{
	# Locals start with _: VAR is set by name and must not be one of them.
	local _v=LAB_CAP_${1//[^a-zA-Z0-9_]/_} _pid _ns _dst _dec _end _f=$LAB_DIR/$1.pcap
	if [ -z "${!_v:-}" ]; then
		_dec=$(tshark -n -r "$_f" -Y "sip && ($2)" -V 2>/dev/null)
		printf -v "$3" '%s' "$_dec"
		return
	fi
	read -r _pid _ns _dst <<<"${!_v}"
	LAB_PROBE_SIZE=$((LAB_PROBE_SIZE + 1))
	_end=$(($(date +%s) + LAB_CAPTURE_WAIT))
	while :; do
		ip netns exec "$_ns" ping -q -c1 -W1 -s "$LAB_PROBE_SIZE" "$_dst" >/dev/null 2>&1
		_dec=$(tshark -n -r "$_f" -V \
			-Y "(sip && ($2)) || (icmp.type == 8 && frame.len == $((LAB_PROBE_SIZE + 42)))" 2>/dev/null)
		grep -q "Type: 8 (Echo (ping) request)" <<<"$_dec" && break
		[ "$(date +%s)" -lt "$_end" ] || break
		sleep 0.1
	done
	printf -v "$3" '%s' "$_dec"
}

# lab_capture_stop NAME: stops a capture once a last probe is in the file
# (so every packet before it is written), with SIGTERM.
lab_capture_stop()
{
	local v=LAB_CAP_${1//[^a-zA-Z0-9_]/_} pid
	[ -n "${!v:-}" ] || return 0
	lab_capture_sync "$1"
	read -r pid _ <<<"${!v}"
	kill -TERM "$pid" 2>/dev/null
	wait_pid_exit 10 "$pid" >/dev/null 2>&1
	printf -v "$v" '%s' ""
}

# lab_sip_count NAME: SIP messages in a capture.
lab_sip_count()
{
	tshark -n -r "$LAB_DIR/$1.pcap" -Y sip 2>/dev/null | wc -l
}

# lab_sdp_addrs NAME [FILTER]: the c= addresses of every SDP in a capture
# (matching FILTER, if given), one a line.
lab_sdp_addrs()
{
	tshark -n -r "$LAB_DIR/$1.pcap" -Y "sdp${2:+ && ($2)}" -T fields \
		-e sdp.connection_info.address 2>/dev/null
}

# lab_scenario NAME: the path of peers/NAME.xml (NAME.xml if NAME is an
# absolute path, for a scenario a test writes); with LAB_PCAP set, a copy
# in LAB_DIR that plays that pcap instead of the 10-packet default.
lab_scenario()
{
	local src=$LAB_PEERS/$1.xml
	case $1 in /*) src=$1.xml ;; esac
	if [ -z "${LAB_PCAP:-}" ]; then
		echo "$src"
		return
	fi
	sed "s|/usr/share/sip-tester/dtmf_2833_1.pcap|$LAB_PCAP|" "$src" \
		>"$LAB_DIR/pcap-${1##*/}.xml"
	echo "$LAB_DIR/pcap-${1##*/}.xml"
}

# lab_sip_summary NAME: one line per SIP message in a capture: the first
# line, the Contact and the SDP c= address it carries.
lab_sip_summary()
{
	tshark -n -r "$LAB_DIR/$1.pcap" -Y sip -T fields -E separator='|' \
		-e sip.Request-Line -e sip.Status-Line -e sip.Contact \
		-e sdp.connection_info.address 2>/dev/null |
		awk -F'|' '{
			line = ($1 != "") ? $1 : $2
			sub(/ SIP\/2\.0$/, "", line); sub(/^SIP\/2\.0 /, "", line)
			printf "     %-36s", substr(line, 1, 36)
			if ($3 != "") printf "  Contact %s", $3
			if ($4 != "") printf "  c=%s", $4
			printf "\n"
		}'
}

# lab_logs: what the peers printed, to stderr, after a failure.
lab_logs()
{
	local f
	for f in "$LAB_DIR"/*.out "$LAB_DIR"/*.err "$LAB_DIR"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $f" >&2
		tail -n 30 "$f" >&2
	done
	# Packets conntrack itself dropped (insert_failed: two new entries for
	# one flow, the later one lost) pass every nft counter of the forward
	# hook: the sum over CPUs tells such a loss from a firewall drop.
	[ -n "${LAB_RT:-}" ] && ip netns exec "$LAB_RT" conntrack -S 2>/dev/null |
		awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } }
		END { printf "---- router conntrack -S: drop=%d insert_failed=%d clash_resolve=%d invalid=%d\n",
			s["drop"], s["insert_failed"], s["clash_resolve"], s["invalid"] }' >&2
}

# Direct use: build a lab and leave it up, or remove one.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	. "$LAB_TOP/tests/netns/lib.sh"
	case "${1:-}" in
	up)
		require_root
		trap cleanup EXIT
		lab_up || exit 1
		case ${2:-plain} in
		plain) lab_plain_nat || exit 1 ;;
		sipnat) lab_sipnat_up || { echo "lab: sipnat did not start (make?)" >&2; exit 1; } ;;
		none) ;;
		*) echo "lab: up plain|sipnat|none" >&2; exit 2 ;;
		esac
		trap - EXIT
		echo "LAB_IN=$LAB_IN LAB_RT=$LAB_RT LAB_OUT=$LAB_OUT LAB_DIR=$LAB_DIR"
		echo "remove with: $0 down ${LAB_IN##*-}"
		;;
	down)
		[ -n "${2:-}" ] || { echo "usage: $0 down SUFFIX" >&2; exit 2; }
		NS_LIST=("sn_in-$2" "sn_rt-$2" "sn_out-$2")
		cleanup_all_ns
		rm -rf "/tmp/sipnat-lab-$2".*
		;;
	*)
		echo "usage: $0 up [plain|sipnat|none] | down SUFFIX" >&2
		exit 2
		;;
	esac
fi
