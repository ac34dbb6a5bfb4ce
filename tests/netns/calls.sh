# tests/netns/calls.sh - the call scenarios of the sipnat end-to-end tests,
# each a function that places one call in the lab (scripts/lab.sh) and
# prints its PASS:/FAIL: lines.  The router must already be set up.
#
# Owns: what a correct call through the NAT looks like from outside.
# Must not: set up the router; the test script picks plain NAT or firewall.
#
# CALL_PINHOLES=1 adds the pinhole checks (sets media4/media6 in table inet
# sipnat): elements while the call is up, none after BYE.

CALL_PINHOLES=${CALL_PINHOLES:-0}

# A call lasts 1 s after the ACK.  In the QEMU TCG guest one look at the
# pinhole sets takes about 1 s, which a 1 s call can slip between: calls
# there last 3 s.
if [ -z "${LAB_HOLD_MS:-}" ] && [ "${SIPNAT_VM:-}" = 1 ]; then
	LAB_HOLD_MS=3000
fi

# call_require_tools: root and every tool a call scenario uses (SKIP, exit 4,
# naming the first one missing).
call_require_tools()
{
	require_root
	checktool "test -x $LAB_NFQD" "run test without build/nfqd/nfqd (make)"
	checktool "nft --version" "run test without nft"
	checktool "iptables-nft --version" "run test without iptables-nft"
	checktool "command -v sipp" "run test without sipp (sip-tester)"
	checktool "command -v tshark" "run test without tshark"
	checktool "command -v kamailio" "run test without kamailio"
}

call_reset_counters()
{
	CALL_MEDIA_PASS=0
	[ "$CALL_PINHOLES" = 1 ] && CALL_MEDIA_PASS=$(lab_media_pass)
	ip netns exec "$LAB_IN" nft reset counters table inet lab_rx >/dev/null
	ip netns exec "$LAB_OUT" nft reset counters table inet lab_rx >/dev/null
}

# call_pinholes_during WHAT: while a call runs (after lab_uac), pinholes
# appear before the caller's sipp ends (bounded: 30 s; a slow machine, e.g.
# the QEMU TCG guest, may take seconds to get to the answer).
call_pinholes_seen()
{
	lab_pinholes_open && { CALL_SEEN=1; return 0; }
	! kill -0 "$LAB_UAC_PID" 2>/dev/null
}
call_pinholes_during()
{
	[ "$CALL_PINHOLES" = 1 ] || return 0
	CALL_SEEN=0
	busywait 30000 call_pinholes_seen
	if [ "$CALL_SEEN" = 1 ]; then
		pass "$1: media pinholes open during the call"
	else
		fail "$1: media pinholes during the call: expected at least 1, found 0"
	fi
}

call_pinholes_after()
{
	[ "$CALL_PINHOLES" = 1 ] || return 0
	slowwait 5 lab_pinholes_closed
	check_eq "$1: no media pinhole left after BYE" 0 "$(lab_pinholes)"
	# Every media packet, both ways, went through a pinhole (sipnat's
	# counters media4_pass/media6_pass).
	check_eq "$1: RTP packets through pinholes (counters media4_pass + media6_pass)" \
		$((2 * LAB_PCAP_PACKETS)) $(($(lab_media_pass) - CALL_MEDIA_PASS))
}

# One capture on the outside link serves every call of a test (reading it
# with tshark takes seconds in the QEMU guest); a call's messages are told
# apart by their Call-ID, which lab_sipp makes "N-PID@NAME.lab" from the
# peer's name, and every peer of call WHAT is named WHAT-something.
call_capture()
{
	[ -n "${CALL_CAPTURING:-}" ] && return 0
	lab_capture_start "$LAB_RT" out0 calls || { fail "tshark captures on the outside link"; return 1; }
	CALL_CAPTURING=1
}

# call_no_leak WHAT PUB: no mapped private address in the SIP/SDP of call
# WHAT on the outside link, and its SDP there carries PUB.
call_no_leak()
{
	local n out f="sip.Call-ID contains \"@$1-\""
	# One decode for both checks: tshark takes seconds in the QEMU guest.
	lab_capture_decode calls "$f" out
	n=$(lab_leak_lines <<<"$out")
	if [ -z "$n" ]; then
		pass "$1: no private address in SIP/SDP on the outside link"
	else
		fail "$1: private address on the outside link: expected none, found: $n"
	fi
	n=$(sed -n 's/^ *Connection Address: //p' <<<"$out" | sort -u | tr '\n' ' ')
	case " $n" in
	*" $2 "*) pass "$1: SDP on the outside link carries $2" ;;
	*) fail "$1: SDP c= outside: expected $2, found: ${n:-none}" ;;
	esac
}

# call_in WHAT SERVER SERVER_PUB CALLER: (a) the caller outside calls the
# server at its public address and port 5060 (5062 inside); RTP both ways.
call_in()
{
	local what=$1 srv=$2 pub=$3 caller=$4 rc_uac rc_uas target
	target=$(lab_hostport "$pub" $LAB_SERVER_PUB_PORT)
	call_reset_counters
	call_capture
	lab_uas "$LAB_IN" "$what-uas" "$srv" $LAB_SERVER_PORT $LAB_RTP_SERVER ||
		fail "$what: server listens on $srv:$LAB_SERVER_PORT"
	lab_uac "$LAB_OUT" "$what-uac" "$caller" $LAB_RTP_CALLER "$target"
	call_pinholes_during "$what"
	wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
	wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
	check_eq "$what: call to $target completes (caller sipp exit)" 0 $rc_uac
	check_eq "$what: call completes (server sipp exit)" 0 $rc_uas
	check_eq "$what: RTP caller -> server arrives" $LAB_PCAP_PACKETS \
		"$(lab_counter "$LAB_IN" rtp_server)"
	check_eq "$what: RTP server -> caller arrives" $LAB_PCAP_PACKETS \
		"$(lab_counter "$LAB_OUT" rtp_caller)"
	call_pinholes_after "$what"
	call_no_leak "$what" "$pub"
}

# call_out WHAT PHONE PHONE_PUB REMOTE: (b) the phone behind the NAT calls a
# UA outside at REMOTE port 5060; RTP both ways.
call_out()
{
	local what=$1 phone=$2 pub=$3 remote=$4 rc_uac rc_uas
	call_reset_counters
	call_capture
	lab_uas "$LAB_OUT" "$what-uas" "$remote" 5060 $LAB_RTP_CALLER ||
		fail "$what: outside UA listens on $remote:5060"
	lab_uac "$LAB_IN" "$what-uac" "$phone" $LAB_RTP_PHONE "$(lab_hostport "$remote" 5060)"
	call_pinholes_during "$what"
	wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
	wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
	check_eq "$what: call from the phone to $remote completes (phone sipp exit)" 0 $rc_uac
	check_eq "$what: call completes (outside UA sipp exit)" 0 $rc_uas
	check_eq "$what: RTP outside UA -> phone arrives" $LAB_PCAP_PACKETS \
		"$(lab_counter "$LAB_IN" rtp_phone)"
	check_eq "$what: RTP phone -> outside UA arrives" $LAB_PCAP_PACKETS \
		"$(lab_counter "$LAB_OUT" rtp_caller)"
	call_pinholes_after "$what"
	call_no_leak "$what" "$pub"
}

# call_registrar WHAT: (c) the phone registers at kamailio outside with its
# own (private) Contact, then receives a call through kamailio.
call_registrar()
{
	local what=$1 rc rc_uac rc_uas
	call_reset_counters
	call_capture
	lab_kamailio "$LAB_OUT" $LAB_REGISTRAR || fail "$what: kamailio listens on $LAB_REGISTRAR:5060"
	lab_register "$LAB_IN" "$what-reg" $LAB_PHONE 5060 phone $LAB_REGISTRAR:5060
	rc=$?
	check_eq "$what: phone registers at kamailio (sipp exit)" 0 $rc
	if grep -q "REGISTER sip:phone@.* contact <sip:phone@$LAB_PHONE_PUB:5060>" "$LAB_DIR/kamailio.log"; then
		pass "$what: kamailio stored the public Contact $LAB_PHONE_PUB:5060"
	else
		fail "$what: kamailio's REGISTER log: expected contact $LAB_PHONE_PUB:5060, found: $(grep -o 'contact .*' "$LAB_DIR/kamailio.log" | head -n1)"
	fi
	lab_uas "$LAB_IN" "$what-uas" $LAB_PHONE 5060 $LAB_RTP_PHONE ||
		fail "$what: phone listens on $LAB_PHONE:5060"
	lab_uac "$LAB_OUT" "$what-uac" $LAB_CALLER $LAB_RTP_CALLER $LAB_REGISTRAR:5060 $LAB_CALLER phone
	call_pinholes_during "$what"
	wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
	wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
	check_eq "$what: call through kamailio to the phone completes (caller sipp exit)" 0 $rc_uac
	check_eq "$what: call completes (phone sipp exit)" 0 $rc_uas
	check_eq "$what: RTP caller -> phone arrives" $LAB_PCAP_PACKETS \
		"$(lab_counter "$LAB_IN" rtp_phone)"
	check_eq "$what: RTP phone -> caller arrives" $LAB_PCAP_PACKETS \
		"$(lab_counter "$LAB_OUT" rtp_caller)"
	call_pinholes_after "$what"
	call_no_leak "$what" $LAB_PHONE_PUB
	kill -TERM "$LAB_KAMAILIO_PID" 2>/dev/null
	wait_pid_exit 5 "$LAB_KAMAILIO_PID" >/dev/null 2>&1
}

# call_basic_set: the calls every NAT set-up must carry, each with its own
# PASS/FAIL lines: in and out over IPv4 and IPv6, and one via the registrar.
call_basic_set()
{
	call_in "in-ipv4" $LAB_SERVER $LAB_SERVER_PUB $LAB_CALLER
	call_in "in-ipv6" $LAB_SERVER6 $LAB_SERVER6_PUB $LAB_CALLER6
	call_out "out-ipv4" $LAB_PHONE $LAB_PHONE_PUB $LAB_CALLER
	call_out "out-ipv6" $LAB_PHONE6 $LAB_PHONE6_PUB $LAB_CALLER6
	call_registrar "registrar-ipv4"
}

# call_rejected WHAT: the caller outside calls the server, which answers
# with early media (183 with SDP, RTP to the caller) and then rejects the
# call (486); the pinholes opened for the early media must close.
call_rejected()
{
	local what=$1 rc_uac rc_uas
	call_reset_counters
	call_capture
	LAB_UAS_XML=uas-early-reject lab_uas "$LAB_IN" "$what-uas" $LAB_SERVER $LAB_SERVER_PORT \
		$LAB_RTP_SERVER || fail "$what: server listens on $LAB_SERVER:$LAB_SERVER_PORT"
	LAB_UAC_XML=uac-rejected lab_uac "$LAB_OUT" "$what-uac" $LAB_CALLER $LAB_RTP_CALLER \
		$LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
	call_pinholes_during "$what"
	wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
	wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
	check_eq "$what: 183 with early media, then 486 (caller sipp exit)" 0 $rc_uac
	check_eq "$what: 183 with early media, then 486 (server sipp exit)" 0 $rc_uas
	check_eq "$what: early media server -> caller arrives" $LAB_PCAP_PACKETS \
		"$(lab_counter "$LAB_OUT" rtp_caller)"
	if [ "$CALL_PINHOLES" = 1 ]; then
		slowwait 5 lab_pinholes_closed
		check_eq "$what: no media pinhole left after the 486" 0 "$(lab_pinholes)"
	fi
	call_no_leak "$what" $LAB_SERVER_PUB
}

# call_no_leak_all: no mapped private address in any SIP/SDP message the
# outside link carried during the test (whatever its Call-ID).
call_no_leak_all()
{
	local n
	[ -n "${CALL_CAPTURING:-}" ] || return 0
	lab_capture_sync calls
	n=$(lab_private_leaks calls)
	if [ -z "$n" ]; then
		pass "no private address in any SIP/SDP on the outside link ($(lab_sip_count calls) messages)"
	else
		fail "private address on the outside link: expected none, found: $n"
	fi
}

# ---- Two phones behind one masquerade address (test-pat-two-phones.sh with
# nfqd's PAT, test-expect-two-phones.sh with the kernel's masquerade and
# expectations): both on SIP port 5060 and RTP port PH_RTP.  Their callers
# outside: C1 (the lab's caller) and C2, RTP on C_RTP; C1 also calls from
# SIP port 5070 with RTP on C_RTP_B, so two calls' media come from one
# address (equal public media ports would make identical expectations).
PH1=10.0.0.21 PH2=10.0.0.22
C1=$LAB_CALLER C2=198.51.100.40
PH_RTP=22000 C_RTP=30000 C_RTP_B=30010
PHONES_PUB=$LAB_RT_OUT	# the router's outside address

# phones_up: the phones' and C2's addresses, and media counters per phone
# (ph1, ph2; ph1_own/ph2_own only from that phone's own caller: C1 but not
# from C_RTP_B for phone1, C2 or C1:C_RTP_B for phone2; the source port of
# a peer may be changed by conntrack when an earlier call's flow between
# the same private and outside endpoints still holds the tuple) and per
# caller (c1, c2, c1b), in table inet pat_rx.
phones_up()
{
	ip -n "$LAB_IN" addr add $PH1/24 dev eth0
	ip -n "$LAB_IN" addr add $PH2/24 dev eth0
	ip -n "$LAB_OUT" addr add $C2/24 dev eth0
	slowwait 5 ip netns exec "$LAB_RT" ping -q -c1 -W1 $PH1 >/dev/null &&
		slowwait 5 ip netns exec "$LAB_RT" ping -q -c1 -W1 $PH2 >/dev/null &&
		slowwait 5 ip netns exec "$LAB_RT" ping -q -c1 -W1 $C2 >/dev/null || return 1
	ip netns exec "$LAB_IN" nft -f - <<-EOF2 || return 1
	table inet pat_rx {
		counter ph1 { }
		counter ph2 { }
		counter ph1_own { }
		counter ph2_own { }
		chain input {
			type filter hook input priority 0; policy accept;
			ip daddr $PH1 udp dport $PH_RTP counter name ph1
			ip daddr $PH2 udp dport $PH_RTP counter name ph2
			ip daddr $PH1 udp dport $PH_RTP ip saddr $C1 udp sport != $C_RTP_B counter name ph1_own
			ip daddr $PH2 udp dport $PH_RTP ip saddr $C2 counter name ph2_own
			ip daddr $PH2 udp dport $PH_RTP ip saddr . udp sport { $C1 . $C_RTP_B } counter name ph2_own
		}
	}
	EOF2
	ip netns exec "$LAB_OUT" nft -f - <<-EOF2
	table inet pat_rx {
		counter c1 { }
		counter c2 { }
		counter c1b { }
		chain input {
			type filter hook input priority 0; policy accept;
			ip daddr $C1 udp dport $C_RTP counter name c1
			ip daddr $C2 udp dport $C_RTP counter name c2
			ip daddr $C1 udp dport $C_RTP_B counter name c1b
		}
	}
	EOF2
}

phones_rx() { nft_counter_packets "$1" inet pat_rx "$2"; }
phones_reset()
{
	ip netns exec "$LAB_IN" nft reset counters table inet pat_rx >/dev/null
	ip netns exec "$LAB_OUT" nft reset counters table inet pat_rx >/dev/null
}

# phones_register: kamailio outside, both phones register there (as phone1,
# phone2).  kamailio must store two distinct public Contacts, each the
# address:port the REGISTER came from (what the NAT really uses).
phones_register()
{
	local n ct from ct1 ct2 from1 from2
	call_capture
	lab_kamailio "$LAB_OUT" $LAB_REGISTRAR || fail "kamailio listens on $LAB_REGISTRAR:5060"
	lab_register "$LAB_IN" reg1 $PH1 5060 phone1 $LAB_REGISTRAR:5060
	check_eq "phone1 registers (sipp exit)" 0 $?
	lab_register "$LAB_IN" reg2 $PH2 5060 phone2 $LAB_REGISTRAR:5060
	check_eq "phone2 registers (sipp exit)" 0 $?
	for n in 1 2; do
		# (no process substitution: the guest has no /dev/fd)
		read -r ct from <<<"$(sed -n "s/.*REGISTER sip:phone$n@.* contact <sip:phone$n@\([^>]*\)> from \([^ ]*\)$/\1 \2/p" \
			"$LAB_DIR/kamailio.log" | tail -n1)"
		printf -v "ct$n" '%s' "${ct:-}"
		printf -v "from$n" '%s' "${from:-}"
	done
	case "$ct1 $ct2" in
	"$PHONES_PUB:"*" $PHONES_PUB:"*)
		if [ "${ct1#*:}" != "${ct2#*:}" ]; then
			pass "kamailio stores distinct public Contacts: $ct1 and $ct2"
		else
			fail "kamailio's Contacts: expected $PHONES_PUB with two distinct ports, found '$ct1' '$ct2'"
		fi ;;
	*) fail "kamailio's Contacts: expected $PHONES_PUB:PORT each, found '$ct1' '$ct2'" ;;
	esac
	if [ -n "$ct1" ] && [ -n "$ct2" ] && [ "$ct1 $ct2" = "$from1 $from2" ]; then
		pass "each Contact is the address:port its REGISTER came from"
	else
		fail "Contacts vs where the REGISTERs came from: expected equal, found '$ct1' '$ct2' vs '$from1' '$from2'"
	fi
}

# phones_in WHAT SRC2 RTP2 SIPPORT2: both phones called through kamailio at
# the same time, phone1 by C1 (SIP 5060, RTP C_RTP), phone2 by SRC2 from
# SIP port SIPPORT2 with RTP on RTP2.  PHONES_DURING (a command), if set,
# runs while the calls are up.  Each call completes, each phone gets its
# own caller's RTP only, and each caller gets RTP.
phones_in()
{
	local what=$1 src2=$2 rtp2=$3 sport2=$4 u1 u2 c1 c2 r1 r2 r3 r4 cnt2
	cnt2=$([ "$src2" = $C2 ] && echo c2 || echo c1b)
	phones_reset
	call_capture
	lab_uas "$LAB_IN" "$what-1-uas" $PH1 5060 $PH_RTP; u1=$LAB_UAS_PID
	lab_uas "$LAB_IN" "$what-2-uas" $PH2 5060 $PH_RTP; u2=$LAB_UAS_PID
	lab_uac "$LAB_OUT" "$what-1-uac" $C1 $C_RTP $LAB_REGISTRAR:5060 $C1 phone1; c1=$LAB_UAC_PID
	LAB_UAC_PORT=$sport2 lab_uac "$LAB_OUT" "$what-2-uac" "$src2" "$rtp2" $LAB_REGISTRAR:5060 \
		"$src2" phone2; c2=$LAB_UAC_PID
	[ -z "${PHONES_DURING:-}" ] || $PHONES_DURING "$what" $c1 $c2
	wait_pid_exit 30 $c1; r1=$?
	wait_pid_exit 30 $c2; r2=$?
	wait_pid_exit 10 $u1; r3=$?
	wait_pid_exit 10 $u2; r4=$?
	check_eq "$what: call to phone1 via kamailio completes (caller, phone sipp exits)" "0 0" "$r1 $r3"
	check_eq "$what: call to phone2 via kamailio completes (caller, phone sipp exits)" "0 0" "$r2 $r4"
	check_eq "$what: phone1 gets its caller's RTP, only that (all, own)" \
		"$LAB_PCAP_PACKETS $LAB_PCAP_PACKETS" "$(phones_rx "$LAB_IN" ph1) $(phones_rx "$LAB_IN" ph1_own)"
	check_eq "$what: phone2 gets its caller's RTP, only that (all, own)" \
		"$LAB_PCAP_PACKETS $LAB_PCAP_PACKETS" "$(phones_rx "$LAB_IN" ph2) $(phones_rx "$LAB_IN" ph2_own)"
	check_eq "$what: caller1 gets phone1's RTP" $LAB_PCAP_PACKETS "$(phones_rx "$LAB_OUT" c1)"
	check_eq "$what: caller2 ($src2:$rtp2) gets phone2's RTP" $LAB_PCAP_PACKETS \
		"$(phones_rx "$LAB_OUT" $cnt2)"
}

# phones_out WHAT: both phones call out at the same time (from 5060, the
# same RTP port), phone1 to C1, phone2 to C2; same checks the other way.
phones_out()
{
	local what=$1 u1 u2 c1 c2 r1 r2 r3 r4
	phones_reset
	call_capture
	lab_uas "$LAB_OUT" "$what-1-uas" $C1 5060 $C_RTP; u1=$LAB_UAS_PID
	lab_uas "$LAB_OUT" "$what-2-uas" $C2 5060 $C_RTP; u2=$LAB_UAS_PID
	lab_uac "$LAB_IN" "$what-1-uac" $PH1 $PH_RTP $C1:5060; c1=$LAB_UAC_PID
	lab_uac "$LAB_IN" "$what-2-uac" $PH2 $PH_RTP $C2:5060; c2=$LAB_UAC_PID
	[ -z "${PHONES_DURING:-}" ] || $PHONES_DURING "$what" $c1 $c2
	wait_pid_exit 30 $c1; r1=$?
	wait_pid_exit 30 $c2; r2=$?
	wait_pid_exit 10 $u1; r3=$?
	wait_pid_exit 10 $u2; r4=$?
	check_eq "$what: phone1 calls out (phone, callee sipp exits)" "0 0" "$r1 $r3"
	check_eq "$what: phone2 calls out (phone, callee sipp exits)" "0 0" "$r2 $r4"
	check_eq "$what: phone1 gets its callee's RTP, only that (all, own)" \
		"$LAB_PCAP_PACKETS $LAB_PCAP_PACKETS" "$(phones_rx "$LAB_IN" ph1) $(phones_rx "$LAB_IN" ph1_own)"
	check_eq "$what: phone2 gets its callee's RTP, only that (all, own)" \
		"$LAB_PCAP_PACKETS $LAB_PCAP_PACKETS" "$(phones_rx "$LAB_IN" ph2) $(phones_rx "$LAB_IN" ph2_own)"
	check_eq "$what: callee1 gets phone1's RTP" $LAB_PCAP_PACKETS "$(phones_rx "$LAB_OUT" c1)"
	check_eq "$what: callee2 gets phone2's RTP" $LAB_PCAP_PACKETS "$(phones_rx "$LAB_OUT" c2)"
}

# phones_via: the phones' REGISTERs on the outside link have the Via
# sent-by they came from (the public address:port).  Read after the calls:
# in the guest reading the capture takes long enough for the
# registrations' conntrack entries to time out.
phones_via()
{
	local via
	lab_capture_sync calls
	via=$(tshark -n -r "$LAB_DIR/calls.pcap" -Y "sip.Method == REGISTER && ip.src == $PHONES_PUB" \
		-T fields -e sip.Via -e ip.src -e udp.srcport 2>/dev/null |
		awk -F'\t' '{ v = $1; sub(/;.*/, "", v); sub(/.* /, "", v); n++ }
			v != $2 ":" $3 { bad = bad v " from " $2 ":" $3 ";" }
			END { print (n >= 2 ? "both" : n + 0), (bad == "" ? "ok" : bad) }')
	check_eq "the phones' REGISTERs outside: Via sent-by is their public address:port" "both ok" "$via"
}

# phones_sdp [WHAT]: "c= m=port" of every SDP the phones sent out (source
# PHONES_PUB on the outside link; only call WHAT's if given), unique lines.
phones_sdp()
{
	local f="sdp && ip.src == $PHONES_PUB"
	[ -n "${1:-}" ] && f="$f && sip.Call-ID contains \"@$1-\""
	lab_capture_sync calls
	tshark -n -r "$LAB_DIR/calls.pcap" -Y "$f" -T fields \
		-e sdp.connection_info.address -e sdp.media.port 2>/dev/null | sort -u
}

# phones_no_leak: no private address of the inside net in any SIP/SDP on
# the outside link.
phones_no_leak()
{
	local n
	lab_capture_sync calls
	n=$(tshark -n -r "$LAB_DIR/calls.pcap" -Y sip -V 2>/dev/null |
		grep -E "(^|[^0-9.])10\.0\.0\.[0-9]+([^0-9]|\$)" | sed 's/^ *//' | sort -u | head -n 3 | tr '\n' ';')
	check_eq "no private address in SIP/SDP on the outside link ($(lab_sip_count calls) messages)" "" "$n"
}
