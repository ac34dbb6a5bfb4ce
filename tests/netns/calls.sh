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
