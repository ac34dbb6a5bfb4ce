#!/bin/bash
# tests/vm/bench-kmod.sh - forwarding cost by path, side by side in one run
# of Debian's stock kernel under QEMU TCG: plain routing, conntrack + NAT +
# stateful filter, the nft flowtable, and the sipnat_fp fast path, each with
# 1k and 10k media flows of 200-byte UDP (G.711 RTP sized) packets.
#
# Two figures per path (issue 4): packets/s (wall clock, the whole
# phone -> router -> provider chain; TCG rates swing 20-40% within a run)
# and the router's guest instructions per forwarded packet, counted with
# ../shared/tools/qemu-insncount (they repeat within ~1%), with ratios.
#
# Method (../shared/tools/qemu-insncount/README.md): phone -> router ->
# provider namespaces; COUNT datagrams per round from a lean sender
# (fp_flood, sendmmsg), round-robin over FLOWS destination ports, each flow
# an RTP stream of its own.  In every phase the last hop's frames carry a
# foreign MAC (static neighbour entry), so the receiver drops them right
# after the driver; the reference phase sends the phone's frames to a
# foreign MAC, so the router drops them the same way.  Phase minus reference
# is the router's own forwarding work.  Every phase first sends one packet
# per flow unmeasured (route caches, flowtable entries), then ROUNDS
# measured rounds; the smallest instruction count and the best rate are
# kept (background work only ever adds).  The fast path's flows are
# programmed as nfqd programs an outbound stream (match destination and
# source, new source address, RTP clock rate, so jitter is computed).
#
#   tests/vm/bench-kmod.sh [COUNT [ROUNDS [FLOWS...]]]
#                               (default 20000 3 1000 10000; `make bench`)
#   BENCH_KMOD_PROFILE=1 tests/vm/bench-kmod.sh ...
#       counts with tests/vm/insnprof.c instead, and after the table prints
#       each path's instructions per packet by kernel function
#       (tests/vm/insnprof.py; slower, the figures are the same).
#
# Prints the table and the goal lines (met / NOT met, as measured); exit 0
# if the figures were measured, 1 if something did not work, 4 if the guest
# cannot run.  Not part of `make test`: a run takes a few minutes.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
count=${1:-20000}
rounds=${2:-3}
shift $(($# < 2 ? $# : 2))
flowsets=${*:-1000 10000}

if [ "${SIPNAT_VM:-}" != 1 ]; then
	mkdir -p build/vm
	make -s kmod >build/kmod-build.log 2>&1 || { cat build/kmod-build.log; exit 1; }
	make -s >/dev/null || exit 1
	cc -O2 -Wall -Wextra -Werror -o build/vm/fp_flood tests/vm/fp_flood.c || exit 1
	log=build/vm/kmod-insn.log
	rm -f "$log"
	if [ "${BENCH_KMOD_PROFILE:-0}" = 1 ]; then
		mkdir -p build/vm/insncount
		make -s -C build/vm/insncount -f "$top/../shared/tools/qemu-insncount/Makefile" \
			VPATH="$top/../shared/tools/qemu-insncount" mark >&2 &&
			cc -O2 -shared -fPIC -Wall -Wextra -Werror -o build/vm/insnprof.so \
				tests/vm/insnprof.c || exit 1
		out=$(tests/vm/boot.sh --timeout 2400 --plugin build/vm/insnprof.so --plugin-log "$log" \
			-- env SIPNAT_MARK="$top/build/vm/insncount/mark" SIPNAT_PROFILE=1 \
			"$top/tests/vm/bench-kmod.sh" "$count" "$rounds" $flowsets)
	else
		out=$(tests/vm/boot.sh --timeout 1800 --insncount "$log" -- \
			"$top/tests/vm/bench-kmod.sh" "$count" "$rounds" $flowsets)
	fi
	rc=$?
	echo "$out" | grep -E '^(ERROR|vm:)|Error' >&2
	[ $rc = 126 ] && { echo "SKIP: the guest could not be set up"; exit 4; }
	[ $rc = 0 ] || { echo "$out" | tail -30; echo "FAIL: guest exit $rc"; exit 1; }
	phases=$(echo "$out" | sed -n 's/^PHASE \([0-9]* [a-z]* [0-9]*\)$/\1/p')
	marks=$(sed -n 's/^MARK [0-9]* .*insns=\([0-9]*\)$/\1/p' "$log")
	[ -n "$phases" ] && [ "$(echo "$marks" | wc -l)" = $(($(echo "$phases" | wc -l) * 2)) ] ||
		{ echo "$out" | tail -30; echo "FAIL: marks and phases do not pair up"; exit 1; }
	checks=$(echo "$out" | grep -E '^(FLOWPKTS|OFFLOAD) ')
	paste -d' ' <(echo "$phases") <(echo "$marks" | paste -d' ' - -) |
	awk -v n="$count" -v rounds="$rounds" -v kv="$(ls /lib/modules | sort -V | tail -1)" \
		-v checks="$checks" '
		# FLOWS NAME NS BEFORE AFTER
		{
			k = $1 " " $2
			if (!($1 in seen)) { seen[$1] = 1; fl[++nf] = $1 }
			i = $5 - $4
			if (!(k in insn) || i < insn[k]) insn[k] = i
			if (!(k in ns) || $3 < ns[k]) ns[k] = $3
		}
		END {
			split("routing conntrack flowtable fastpath", path, " ")
			label["routing"] = "plain routing"
			label["conntrack"] = "conntrack+NAT+firewall"
			label["flowtable"] = "nft flowtable"
			label["fastpath"] = "sipnat_fp fast path"
			nc = split(checks, cl, "\n")
			for (j = 1; j <= nc; j++) { split(cl[j], w, " "); chk[w[1] " " w[2]] = w[3] }
			printf "sipnat_fp bench: 200-byte UDP, %d packets per round, best of %d, Debian %s, QEMU TCG 1 vCPU\n", n, rounds, kv
			printf "pkts/s: wall clock, sender + router + receiver (TCG: +-20-40%%); insns/pkt: the router'"'"'s, reference phase subtracted (+-1%%)\n"
			bad = 0
			for (f = 1; f <= nf; f++) {
				F = fl[f]
				ref = insn[F " reference"] / n
				for (p = 1; p <= 4; p++) {
					k = F " " path[p]
					if (!(k in insn)) { printf "ERROR: no %s phase for %s flows\n", path[p], F; bad = 1; continue }
					v[path[p]] = insn[k] / n - ref
					pps[path[p]] = ns[k] > 0 ? n / (ns[k] / 1e9) : 0
				}
				if (bad) continue
				printf "\n%-6s flows               pkts/s  vs conntrack   insns/pkt  vs conntrack  vs flowtable\n", F
				for (p = 1; p <= 4; p++) {
					q = path[p]
					printf "%-26s %9.0f %12.2fx %11.0f %12.2fx %12.2fx\n", label[q], pps[q],
						pps[q] / pps["conntrack"], v[q], v[q] / v["conntrack"], v[q] / v["flowtable"]
				}
				printf "goal (%s flows): fast path <= 0.5 x conntrack: %.2fx %s; below the flowtable: %.2fx %s\n", F,
					v["fastpath"] / v["conntrack"], v["fastpath"] <= 0.5 * v["conntrack"] ? "met" : "NOT met",
					v["fastpath"] / v["flowtable"], v["fastpath"] < v["flowtable"] ? "met" : "NOT met"
				if (chk["FLOWPKTS " F] != n * rounds + F)
					printf "WARNING: the fast-path flows counted %s packets, not %d\n", chk["FLOWPKTS " F], n * rounds + F
				if (chk["OFFLOAD " F] < F)
					printf "WARNING: the flowtable offloaded %s of %s flows\n", chk["OFFLOAD " F], F
			}
			exit bad
		}' || exit 1
	if [ "${BENCH_KMOD_PROFILE:-0}" = 1 ]; then
		python3 tests/vm/insnprof.py "$log" <(echo "$out") "$count" || exit 1
	fi
	exit 0
fi

# ---- in the guest --------------------------------------------------------
. tests/netns/lib.sh
trap cleanup EXIT
flood=$top/build/vm/fp_flood
nfqd=$top/build/nfqd/nfqd
mark=${SIPNAT_MARK:?boot.sh --insncount exports SIPNAT_MARK}
foreign=02:00:00:00:00:99

# 10k flows and their replies need more conntrack entries than a 1-2 GiB
# guest gets by default (the limits are global, not per namespace).
sysctl -qw net.netfilter.nf_conntrack_max=262144
echo 65536 >/sys/module/nf_conntrack/parameters/hashsize

setup_ns phone router prov
ip link add ra netns "$router" type veth peer name pa netns "$phone"
ip link add rb netns "$router" type veth peer name pb netns "$prov"
ip -n "$phone" addr add 10.0.1.2/24 dev pa
ip -n "$router" addr add 10.0.1.1/24 dev ra
ip -n "$router" addr add 10.0.2.1/24 dev rb
ip -n "$prov" addr add 10.0.2.2/24 dev pb
for l in "$phone pa" "$router ra" "$router rb" "$prov pb"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$phone" route add default via 10.0.1.1
ip -n "$prov" route add default via 10.0.2.1
ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1
ra_mac=$(ip netns exec "$router" cat /sys/class/net/ra/address)
pb_mac=$(ip netns exec "$prov" cat /sys/class/net/pb/address)

# The streams' RTP sequence numbers go on from run to run.
rtpseq=0
send() { # FLOWS PACKETS
	ip netns exec "$phone" "$flood" -f "$1" -q $rtpseq 10.0.1.2 4000 10.0.2.2 30000 "$2" ||
		echo "ERROR: sender failed"
	rtpseq=$((rtpseq + ($2 + $1 - 1) / $1))
}
# phase FLOWS NAME: one packet per flow unmeasured, then ROUNDS times COUNT
# packets between two marks; the wall time includes only the marks besides.
phase() {
	local i t0 t1
	send "$1" "$1"
	for i in $(seq "$rounds"); do
		t0=$(date +%s%N)
		"$mark"
		send "$1" "$count"
		"$mark"
		t1=$(date +%s%N)
		echo "PHASE $1 $2 $((t1 - t0))"
	done
}
# A reply from the provider on every flow makes the conntrack entries
# established, as in a call (and lets the flowtable take them).
reply() { # FLOWS
	ip -n "$router" neigh replace 10.0.2.2 dev rb lladdr "$pb_mac" nud permanent
	send "$1" "$1"
	ip netns exec "$prov" "$flood" -s -f "$1" 10.0.2.2 30000 10.0.2.1 4000 ||
		echo "ERROR: replies failed"
	send "$1" "$1"
	ip -n "$router" neigh replace 10.0.2.2 dev rb lladdr $foreign nud permanent
}
rules() { # [flowtable]
	local ft="" fa=""
	if [ -n "${1:-}" ]; then
		ft='flowtable ft { hook ingress priority 0; devices = { ra, rb }; }'
		fa='meta l4proto udp flow add @ft'
	fi
	ip netns exec "$router" nft -f - <<NFT 2>&1 || echo "ERROR: ruleset"
flush ruleset
table inet t {
	$ft
	chain forward {
		type filter hook forward priority 0; policy drop;
		$fa
		ct state established,related counter accept
		ct state new iifname "ra" counter accept
	}
	chain post {
		type nat hook postrouting priority 100;
		oifname "rb" masquerade
	}
}
NFT
}

for flows in $flowsets; do
	rmmod sipnat_fp 2>/dev/null	# loaded only for its own phase
	ip netns exec "$router" nft flush ruleset
	ip netns exec "$router" conntrack -F 2>/dev/null
	ip -n "$router" neigh replace 10.0.2.2 dev rb lladdr $foreign nud permanent
	ip -n "$phone" neigh replace 10.0.1.1 dev pa lladdr $foreign nud permanent
	phase "$flows" reference
	ip -n "$phone" neigh replace 10.0.1.1 dev pa lladdr "$ra_mac" nud permanent
	phase "$flows" routing
	rules
	reply "$flows"
	phase "$flows" conntrack
	rules flowtable
	reply "$flows"
	phase "$flows" flowtable
	echo "OFFLOAD $flows $(ip netns exec "$router" conntrack -L -p udp 2>/dev/null | grep -c OFFLOAD)"
	rules
	insmod "$top/kmod/sipnat_fp.ko" || echo "ERROR: insmod"
	ip netns exec "$router" python3 "$top/tests/vm/fp_addflows.py" "$flows" \
		10.0.2.2 30000 10.0.1.2 4000 10.0.2.1 8000 >/dev/null || echo "ERROR: adding flows"
	phase "$flows" fastpath
	echo "FLOWPKTS $flows $(ip netns exec "$router" "$nfqd" fp list | tr ' ' '\n' |
		sed -n 's/^packets=//p' | awk '{ s += $1 } END { print s + 0 }')"
	ip netns exec "$router" "$nfqd" fp flush
done
# The symbols insnprof.py names the profile's addresses with.
[ "${SIPNAT_PROFILE:-0}" = 1 ] &&
	echo "KSYMS $(grep -i ' [tw] ' /proc/kallsyms | gzip -1 | base64 -w 0)"
exit 0
