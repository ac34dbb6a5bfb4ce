#!/bin/bash
# test-nfqd-plain-nat.sh - nfqd alone fixes SIP through a plain static NAT
# (a router without a firewall: forward accepts everything, so no pinholes
# are involved).  SIP is queued to nfqd in the router (xt NFQUEUE).
#  1. (a) A caller outside calls the server behind the NAT at
#     203.0.113.5:5060 (10.0.0.5:5062 inside): the call completes and RTP
#     arrives on both sides; the same over IPv6 (fd00::5 <-> 2001:db8::5).
#  2. (b) The phone behind the NAT calls a UA outside (IPv4 and IPv6); RTP
#     both ways.
#  3. (c) The phone registers at kamailio outside and is called through it.
#  4. A call answered with early media (183 + SDP), then rejected (486).
#  5. (d) In every case the outside link shows no mapped private address
#     in SIP or SDP, and the SDP carries the public one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../../scripts/lab.sh"
. "$here/calls.sh"

call_require_tools
trap cleanup EXIT

lab_up || { fail "lab: namespaces, links and routes come up"; exit $ret; }
if lab_nfqd_plain; then
	pass "router runs the plain static NAT, the SIP queue rule and nfqd"
else
	fail "router runs the plain static NAT, the SIP queue rule and nfqd"
	lab_logs
	exit $ret
fi

call_basic_set
call_rejected "rejected-ipv4"
call_no_leak_all

n=$(lab_nfqd_status | awk '$1 == "rewritten" { print $2 }')
check_ge "nfqd status counts rewritten messages" 8 "$n"

[ $ret -ne 0 ] && { lab_logs; dump_ruleset "$LAB_RT"; lab_nfqd_status >&2; }
exit $ret
