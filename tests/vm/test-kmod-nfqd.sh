#!/bin/bash
# tests/vm/test-kmod-nfqd.sh - nfqd drives the sipnat_fp module, in one boot
# of Debian's stock kernel (boot.sh --kmod), in the lab of tests/netns: the
# example static-NAT firewall, sipnat's rules and nfqd in the router.
#  1. A call from outside to the server behind the NAT (tests/netns/calls.sh
#     call_in), IPv4 and IPv6: while it runs, `nfqd status --json` lists
#     the two flows of its RTP stream and the module's own counters (`nfqd
#     fp list`) count every RTP packet each way; the receivers count them
#     exactly as well.
#  2. The media did not take the normal path: the pinhole chain's counters
#     (media4_pass) did not move and conntrack has no entry for it; the
#     pinholes were still opened and are closed at BYE.
#  3. The BYE removes the flows: the module lists none, nfqd status counts
#     the stream as added and removed.
#  4. A longer stream keeps its pinhole open although its packets skip the
#     set (nfqd refreshes it); with --fastpath no the same call as in 1.
#     takes the pinhole chain and conntrack (a control).  The module
#     unloaded during a call: media goes on through the pinholes, and nfqd
#     uses the module again once it is back.
#  5. Masquerade (tests/netns/test-pat-two-phones.sh, run first) with the
#     module loaded: its RTP checks pass and the module's flows carried it.
# On the host it builds the module and reruns itself inside the guest.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/netns/lib.sh

if [ "${SIPNAT_VM:-}" != 1 ]; then
	require_root
	command -v qemu-system-x86_64 >/dev/null ||
		{ echo "SKIP: qemu-system-x86_64 missing"; exit $ksft_skip; }
	mkdir -p build
	make -s all >/dev/null || { echo "FAIL: make"; exit $ksft_fail; }
	if ! make -s kmod >build/kmod-nfqd-build.log 2>&1; then
		if grep -q "no kernel build directory" build/kmod-nfqd-build.log; then
			echo "SKIP: no kernel headers to build kmod against"
			exit $ksft_skip
		fi
		cat build/kmod-nfqd-build.log
		echo "FAIL: kmod does not build"
		exit $ksft_fail
	fi
	mkdir -p build/vm
	cc -std=c11 -D_GNU_SOURCE -Wall -Werror -o build/vm/udpsend tests/netns/udpsend.c ||
		{ echo "FAIL: build udpsend"; exit $ksft_fail; }
	tests/vm/boot.sh --timeout 840 --kmod kmod/sipnat_fp.ko -- "$0"
	rc=$?
	case $rc in
	0 | 1 | 4) exit $rc ;;
	126) echo "SKIP: the guest could not be set up (boot.sh exit 126)"; exit $ksft_skip ;;
	*) echo "FAIL: guest ended with status $rc (timeout, panic or WARN)"; exit $ksft_fail ;;
	esac
fi

# ---- in the guest ------------------------------------------------------
. scripts/lab.sh
# The RTP (0.14 s) follows the ACK; the flows stay until the BYE.  Under
# TCG one look at nfqd status and the module takes about a second, and
# the figures are a second old: 6 s leave room for several looks.
LAB_HOLD_MS=${LAB_HOLD_MS:-6000}
. tests/netns/calls.sh
checktool "test -x $LAB_NFQD" "run without build/nfqd/nfqd (make)"
checktool "$LAB_NFQD fp list" "talk to sipnat_fp (module not loaded?)"
checktool "command -v sipp" "run without sipp"
checktool "command -v conntrack" "run without conntrack"
checktool "command -v python3" "run without python3"
trap cleanup EXIT

# 5. Masquerade (first, before this script's own lab), when the scenario
# exists.  The fast path's evidence comes from watching every namespace's
# flows while it runs (the scenario knows nothing of the module): the most
# packets any flow of the module counted.  Its RTP checks must pass; its
# other checks (a tshark capture slow to start under TCG) are reported.
fp_watch()
{
	local ns max=0 n
	while kill -0 "$1" 2>/dev/null; do
		for ns in $(/usr/sbin/ip netns list | awk '{ print $1 }'); do
			n=$(/usr/sbin/ip netns exec "$ns" "$LAB_NFQD" fp list 2>/dev/null |
				tr ' ' '\n' | sed -n 's/^packets=//p' | sort -n | tail -n1)
			echo "$ns ${n:-none}" >>"$2.log"
			if [ -n "$n" ] && [ "$n" -gt "$max" ]; then
				max=$n
				echo "$max" >"$2"
			fi
		done
		sleep 0.2
	done
}
pat=tests/netns/test-pat-two-phones.sh
if [ -x "$pat" ]; then
	wfile=$(mktemp)
	echo 0 >"$wfile"
	timeout 400 "$pat" >"$wfile.out" 2>&1 &
	pat_pid=$!
	fp_watch "$pat_pid" "$wfile" &
	watch_pid=$!
	wait "$pat_pid"; rc=$?
	wait "$watch_pid"
	grep -E '^(PASS|FAIL|SKIP):' "$wfile.out" | sed 's/^/    pat: /'
	# The eight media checks are "X gets Y's RTP"; other lines mention RTP too.
	check_eq "masquerade: every RTP check of $pat passes with the module loaded" 8 \
		"$(grep -cE "^PASS: .* gets .*RTP" "$wfile.out")"
	check_eq "masquerade: no RTP check of $pat fails with the module loaded" 0 \
		"$(grep -cE "^FAIL: .*RTP" "$wfile.out")"
	[ $rc -ne 0 ] && echo "note: $pat exited $rc in the guest (see its FAIL lines above)"
	check_ge "masquerade: a flow of the module carried the RTP (most packets seen)" \
		$LAB_PCAP_PACKETS "$(cat "$wfile")"
	[ $ret -ne 0 ] && sort "$wfile.log" | uniq -c | tail -n 20 >&2
	rm -f "$wfile" "$wfile.out" "$wfile.log"
else
	echo "SKIP: masquerade with the fast path ($pat is not in this tree)"
fi

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
lab_sipnat_up
case $? in
0) pass "router runs the example firewall, sipnat's rules and nfqd" ;;
*) fail "router runs the example firewall, sipnat's rules and nfqd"; lab_logs; exit $ret ;;
esac
if grep -q "fastpath: sipnat_fp is loaded" "$LAB_DIR/nfqd.log"; then
	pass "nfqd found the module (log line)"
else
	fail "nfqd log: expected 'fastpath: sipnat_fp is loaded'"
fi

fp_list() { ip netns exec "$LAB_RT" "$LAB_NFQD" fp list 2>/dev/null; }
status_json() { "$LAB_NFQD" status --json --control-socket "$LAB_DIR/nfqd.sock" 2>/dev/null; }
# json_flow JSON MATCH KEY: KEY of the flow in "fastpath-flows" whose match
# is MATCH (nothing if none).
json_flow()
{
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
for f in d.get("fastpath-flows", []):
    if f["match"] == sys.argv[2]:
        print(f[sys.argv[3]]); break' "$1" "$2" "$3" 2>/dev/null
}
json_num() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2" 2>/dev/null; }
# Flow lines of the module whose match= is $1: the packets= field.
list_packets() { fp_list | tr ' ' '\n' | awk -v m="match=$1" '$0 == m { f = 1 } f && /^packets=/ { sub("packets=", ""); print; exit }'; }

# During the call: both flows listed with all RTP counted, by nfqd status
# and by the module itself (the BYE follows LAB_HOLD_MS after the ACK).
# Polled with grep (python3 takes a second to start under TCG); the JSON
# is parsed properly afterwards.
during()
{
	local j
	j=$(status_json)
	if echo "$j" | grep -qF "\"match\": \"$IN_MATCH\", \"packets\": $LAB_PCAP_PACKETS," &&
	   echo "$j" | grep -qF "\"match\": \"$OUT_MATCH\", \"packets\": $LAB_PCAP_PACKETS,"; then
		seen_json=$j
		seen_list_in=$(list_packets "$IN_MATCH")
		seen_list_out=$(list_packets "$OUT_MATCH")
		return 0
	fi
	! kill -0 "$LAB_UAC_PID" 2>/dev/null
}
ct_media() { # FAMILY: conntrack entries of the call's RTP (either port)
	ip netns exec "$LAB_RT" conntrack -L -f "$1" -p udp 2>/dev/null |
		grep -cE "dport=($LAB_RTP_SERVER|$LAB_RTP_CALLER) "
}

# fp_call WHAT SERVER SERVER_PUB CALLER FAMILY FASTPATH(1|0): the inbound
# call of calls.sh's call_in, with the fast path's evidence (or, with 0,
# the normal path's: every RTP packet through the pinhole chain).
fp_call()
{
	local what=$1 srv=$2 pub=$3 caller=$4 fam=$5 fast=$6 rc_uac rc_uas pass_before j n
	IN_MATCH=$(lab_hostport "$pub" $LAB_RTP_SERVER)		# caller -> server's public side
	OUT_MATCH=$(lab_hostport "$caller" $LAB_RTP_CALLER)	# server -> caller
	seen_json= seen_list_in= seen_list_out=
	call_reset_counters
	pass_before=$(lab_media_pass)
	ip netns exec "$LAB_RT" conntrack -F -f "$fam" >/dev/null 2>&1
	lab_uas "$LAB_IN" "$what-uas" "$srv" $LAB_SERVER_PORT $LAB_RTP_SERVER ||
		fail "$what: server listens on $srv:$LAB_SERVER_PORT"
	lab_uac "$LAB_OUT" "$what-uac" "$caller" $LAB_RTP_CALLER "$(lab_hostport "$pub" $LAB_SERVER_PUB_PORT)"
	[ "$fast" = 1 ] && busywait 30000 during
	wait_pid_exit 30 "$LAB_UAC_PID"; rc_uac=$?
	wait_pid_exit 10 "$LAB_UAS_PID"; rc_uas=$?
	check_eq "$what: call completes (caller sipp exit)" 0 $rc_uac
	check_eq "$what: call completes (server sipp exit)" 0 $rc_uas
	check_eq "$what: RTP caller -> server arrives" $LAB_PCAP_PACKETS "$(lab_counter "$LAB_IN" rtp_server)"
	check_eq "$what: RTP server -> caller arrives" $LAB_PCAP_PACKETS "$(lab_counter "$LAB_OUT" rtp_caller)"
	slowwait 10 lab_pinholes_closed
	check_eq "$what: no pinhole left after BYE" 0 "$(lab_pinholes)"
	if [ "$fast" != 1 ]; then
		check_eq "$what: control: every RTP packet took the pinhole chain (media pass counters)" \
			$((2 * LAB_PCAP_PACKETS)) $(($(lab_media_pass) - pass_before))
		check_ge "$what: control: conntrack has the media" 1 "$(ct_media "$fam")"
		n=$(lab_nfqd_status | grep -c "^fastpath")
		check_eq "$what: control: nfqd status has no fastpath lines (fastpath = no)" 0 "$n"
		return
	fi
	check_eq "$what: nfqd status --json lists the inbound flow ($IN_MATCH) with every RTP packet" \
		$LAB_PCAP_PACKETS "$(json_flow "$seen_json" "$IN_MATCH" packets)"
	check_eq "$what: nfqd status --json lists the outbound flow ($OUT_MATCH) with every RTP packet" \
		$LAB_PCAP_PACKETS "$(json_flow "$seen_json" "$OUT_MATCH" packets)"
	check_eq "$what: the module counted every RTP packet inbound (nfqd fp list)" \
		$LAB_PCAP_PACKETS "$seen_list_in"
	check_eq "$what: the module counted every RTP packet outbound (nfqd fp list)" \
		$LAB_PCAP_PACKETS "$seen_list_out"
	check_eq "$what: RTP loss seen by the module (status rtp-lost)" 0 \
		"$(json_flow "$seen_json" "$IN_MATCH" rtp-lost)"
	check_eq "$what: the media skipped the pinhole chain (media4_pass + media6_pass unchanged)" \
		0 $(($(lab_media_pass) - pass_before))
	check_eq "$what: no conntrack entry for the media" 0 "$(ct_media "$fam")"
	n=$(fp_list | grep -c "^id=")
	check_eq "$what: the BYE removed the flows (nfqd fp list)" 0 "$n"
	j=$(status_json)
	check_eq "$what: nfqd status: streams now" 0 "$(json_num "$j" fastpath-streams)"
	check_ge "$what: nfqd status: streams added" 1 "$(json_num "$j" fastpath-streams-added)"
	check_eq "$what: nfqd status: streams removed = added" \
		"$(json_num "$j" fastpath-streams-added)" "$(json_num "$j" fastpath-streams-removed)"
	check_eq "$what: nfqd status: adds refused" 0 "$(json_num "$j" fastpath-add-failed)"
	[ $ret -ne 0 ] && echo "---- $what: nfqd status during the call: $seen_json" >&2
}

fp_call fp-in-ipv4 $LAB_SERVER $LAB_SERVER_PUB $LAB_CALLER ipv4 1
fp_call fp-in-ipv6 $LAB_SERVER6 $LAB_SERVER6_PUB $LAB_CALLER6 ipv6 1
# While the fast path carries a stream its packets skip the pinhole set,
# so nfqd refreshes the pinhole: with media-timeout 6 s, media sent
# throughout the call keeps the inbound pinhole open 7 s after the flows
# appeared (without the refresh it would time out 6 s after the answer).
# The sender starts with the call (dropped until the answer opens the
# pinhole), so a slow guest cannot leave the flow idle long enough for the
# module to expire it.
kill -TERM "$LAB_NFQD_PID"
wait_pid_exit 10 "$LAB_NFQD_PID" >/dev/null
lab_nfqd_start --media-timeout 6 || fail "nfqd restarts with --media-timeout 6"
IN_MATCH=$LAB_SERVER_PUB:$LAB_RTP_SERVER OUT_MATCH=$LAB_CALLER:$LAB_RTP_CALLER
flows_listed() { status_json | grep -qF "\"match\": \"$IN_MATCH\"" || ! kill -0 "$LAB_UAC_PID" 2>/dev/null; }
LAB_HOLD_MS=15000
lab_uas "$LAB_IN" fp-long-uas $LAB_SERVER $LAB_SERVER_PORT $LAB_RTP_SERVER
lab_uac "$LAB_OUT" fp-long-uac $LAB_CALLER $LAB_RTP_CALLER $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
LAB_HOLD_MS=6000
ip netns exec "$LAB_OUT" "$top/build/vm/udpsend" $LAB_CALLER $LAB_SERVER_PUB \
	$LAB_RTP_SERVER 300 50 >/dev/null 2>&1 &
send_pid=$!
if busywait 30000 flows_listed && kill -0 "$LAB_UAC_PID" 2>/dev/null; then
	sleep 7
	kill -0 "$LAB_UAC_PID" 2>/dev/null ||
		fail "fp-long: the call ended before its checks (guest too slow?)"
	check_ge "fp-long: 7 s into the media the inbound pinhole is still open (media-timeout 6)" \
		1 "$(nft_set_elements "$LAB_RT" inet sipnat media4)"
	j=$(status_json)
	check_ge "fp-long: nfqd refreshed pinholes of fast-path media" 3 \
		"$(json_num "$j" fastpath-pinhole-refreshes)"
	check_ge "fp-long: the inbound flow carries the extra media" $((LAB_PCAP_PACKETS + 60)) \
		"$(json_flow "$j" "$IN_MATCH" packets)"
else
	fail "fp-long: the call's flows appear in nfqd status"
fi
wait_pid_exit 30 "$send_pid" >/dev/null
wait_pid_exit 40 "$LAB_UAC_PID"; rc_uac=$?
wait_pid_exit 10 "$LAB_UAS_PID"
check_eq "fp-long: call completes (caller sipp exit)" 0 $rc_uac
kill -TERM "$LAB_NFQD_PID"
wait_pid_exit 10 "$LAB_NFQD_PID" >/dev/null
lab_nfqd_start || fail "nfqd restarts"

# The module unloaded in the middle of a call: nfqd notices, the media
# goes on through the pinholes (the set counters see it), and once the
# module is back nfqd uses it again (it looks every 10 s).
loaded() { [ "$(json_num "$(status_json)" fastpath-loaded)" = "$1" ]; }
seen_json=
call_reset_counters
# Long enough for a guest slowed down by a loaded host to get through the
# checks before the BYE closes the pinholes (peers/uas.xml waits 20 s).
LAB_HOLD_MS=15000
lab_uas "$LAB_IN" fp-unl-uas $LAB_SERVER $LAB_SERVER_PORT $LAB_RTP_SERVER
lab_uac "$LAB_OUT" fp-unl-uac $LAB_CALLER $LAB_RTP_CALLER $LAB_SERVER_PUB:$LAB_SERVER_PUB_PORT
LAB_HOLD_MS=6000
if busywait 30000 during && [ -n "$seen_json" ]; then
	pass_before=$(lab_media_pass)
	if rmmod sipnat_fp; then
		slowwait 5 loaded 0
		check_eq "fp-unload: nfqd status says the module is gone" 0 \
			"$(json_num "$(status_json)" fastpath-loaded)"
		ip netns exec "$LAB_OUT" "$top/build/vm/udpsend" $LAB_CALLER $LAB_SERVER_PUB \
			$LAB_RTP_SERVER 5 20 >/dev/null 2>&1
		slowwait 3 test "$(lab_media_pass)" -ge $((pass_before + 5))
		kill -0 "$LAB_UAC_PID" 2>/dev/null || echo "note: the call ended meanwhile (slow guest)" >&2
		check_eq "fp-unload: media goes on through the pinhole (media pass counters)" 5 \
			$(($(lab_media_pass) - pass_before))
		check_eq "fp-unload: and arrives" $((LAB_PCAP_PACKETS + 5)) \
			"$(lab_counter "$LAB_IN" rtp_server)"
		insmod "$top/kmod/sipnat_fp.ko" || fail "fp-unload: the module loads again"
		slowwait 15 loaded 1
		check_eq "fp-unload: nfqd finds the module again" 1 \
			"$(json_num "$(status_json)" fastpath-loaded)"
	else
		fail "fp-unload: rmmod sipnat_fp"
	fi
else
	fail "fp-unload: the call's flows appear in nfqd status"
fi
wait_pid_exit 40 "$LAB_UAC_PID"; rc_uac=$?
wait_pid_exit 10 "$LAB_UAS_PID"
check_eq "fp-unload: call completes (caller sipp exit)" 0 $rc_uac
if grep -q "fastpath: sipnat_fp is gone" "$LAB_DIR/nfqd.log"; then
	pass "fp-unload: nfqd logged the module's going"
else
	fail "fp-unload: nfqd log: expected 'fastpath: sipnat_fp is gone'"
	tail -n 30 "$LAB_DIR/nfqd.log" >&2
	dmesg | tail -n 20 >&2
fi

# 4. Control: the same call with nfqd told not to use the module.
kill -TERM "$LAB_NFQD_PID"
wait_pid_exit 10 "$LAB_NFQD_PID" >/dev/null
lab_nfqd_start --fastpath no || fail "nfqd restarts with --fastpath no"
fp_call ctl-ipv4 $LAB_SERVER $LAB_SERVER_PUB $LAB_CALLER ipv4 0
if [ $ret -ne 0 ]; then
	lab_nfqd_status >&2
	fp_list >&2
	lab_logs
	dump_ruleset "$LAB_RT"
fi

exit $ret
