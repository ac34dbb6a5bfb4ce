#!/bin/bash
# bench.sh - `make bench`: SIP messages/s and added latency through a NAT
# router namespace, four ways side by side in one run, and nfqd's memory
# with 10k open dialogs.
#
#   phone ns 10.0.0.5 --veth-- router ns (static NAT 10.0.0.5 <-> 203.0.113.5)
#                                  --veth-- server ns 198.51.100.10
#
# Phases (each router configuration is applied, measured, then removed):
#   plain     static NAT forwarding, no SIP processing (the baseline)
#   alg       plus the kernel's SIP ALG (nft `ct helper` "sip")
#   nfq       plus sipnat's rules (scripts/sipnat-rules: NFQUEUE, pinhole
#             table) and tests/bench/nfq_accept bound (accept only)
#   nfqd      plus the same rules and nfqd rewriting with the static map
#   nfqd-rt   the same with nfqd under `chrt -f 10` (SCHED_FIFO): on a busy
#             machine, tells nfqd's own latency from waiting for a CPU
# In each phase tests/bench/sipload runs calls (INVITE+SDP, 200+SDP, ACK,
# BYE, 200: 5 messages, both directions, new Call-ID per call) twice:
#   1. closed loop, $BENCH_WINDOW calls in flight: the message rate;
#   2. fixed $BENCH_RATE messages/s: latency p50/p99 of every message.
# Phases are run $BENCH_ROUNDS times interleaved; the table shows medians.
# Added latency = phase latency - plain forwarding latency.
#
# Environment: BENCH_SECS (3) per run, BENCH_ROUNDS (3), BENCH_RATE (2000),
# BENCH_WINDOW (32), BENCH_DIALOGS (10000), BENCH_PHASES (plain alg nfq nfqd
# nfqd-rt; plain is always run), BENCH_RAW=1 (also print sipload's own lines),
# BENCH_QUEUE_PRIO (a command prefix for both queue programs, e.g.
# "chrt -f 10" or "nice -n -10"; default none: normal priority, as
# nfqd.service runs it), BENCH_NFQD_ARGS (more nfqd options, e.g.
# "--media-backend none" to leave the pinholes out).
# Needs root.  Not a test (tests/netns/test-bench-smoke.sh checks it works).
set -u
cd "$(dirname "$0")/.." || exit 1
top=$PWD
BUILD=${BUILD:-build}
SECS=${BENCH_SECS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
RATE=${BENCH_RATE:-2000}
WINDOW=${BENCH_WINDOW:-32}
DIALOGS=${BENCH_DIALOGS:-10000}
QPRIO=${BENCH_QUEUE_PRIO:-}
RTPRIO="chrt -f 10"	# phase nfqd-rt: is a p99 miss nfqd's work or waiting for a CPU?
QNUM=7

PRIV=10.0.0.5 PUB=203.0.113.5 SRV=198.51.100.10
SIPLOAD=$top/$BUILD/tests/bench/sipload
NFQACCEPT=$top/$BUILD/tests/bench/nfq_accept
NFQD=$top/$BUILD/nfqd/nfqd

[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 4; }
for t in ip nft iptables-nft ip6tables-nft conntrack; do
	command -v $t >/dev/null || { echo "bench: $t missing (scripts/deps.sh)" >&2; exit 4; }
done
make -s all bench-bins || exit 1

suffix=$(mktemp -u XXXXXX)
PH=snb-ph-$suffix RT=snb-rt-$suffix SV=snb-sv-$suffix
tmp=$(mktemp -d /tmp/sipnat-bench.XXXXXX)
pids=()

cleanup() {
	local p ns
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for ns in $PH $RT $SV; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

rt() { ip netns exec "$RT" "$@"; }

stop_pid() { # pid: SIGTERM, wait up to 3 s, then SIGKILL
	local p=$1
	kill "$p" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	local keep=() q
	for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
	pids=("${keep[@]}")
}

setup() {
	ip netns add "$PH" && ip netns add "$RT" && ip netns add "$SV" || return 1
	ip -n "$PH" link add ph0 type veth peer name rt-in netns "$RT" || return 1
	ip -n "$SV" link add sv0 type veth peer name rt-out netns "$RT" || return 1
	ip -n "$PH" addr add $PRIV/24 dev ph0
	ip -n "$RT" addr add 10.0.0.1/24 dev rt-in
	ip -n "$RT" addr add 198.51.100.1/24 dev rt-out
	ip -n "$RT" addr add $PUB/32 dev rt-out	# the router answers ARP for it
	ip -n "$SV" addr add $SRV/24 dev sv0
	for ns in $PH $RT $SV; do ip -n "$ns" link set lo up; done
	ip -n "$PH" link set ph0 up
	ip -n "$SV" link set sv0 up
	ip -n "$RT" link set rt-in up
	ip -n "$RT" link set rt-out up
	ip -n "$PH" route add default via 10.0.0.1
	ip -n "$SV" route add default via 198.51.100.1
	rt sysctl -qw net.ipv4.ip_forward=1 || return 1
	rt nft -f - <<-EOF || return 1
	table ip bnat {
		chain pre { type nat hook prerouting priority dstnat; policy accept;
			iifname "rt-out" ip daddr $PUB dnat to $PRIV; }
		chain post { type nat hook postrouting priority srcnat; policy accept;
			oifname "rt-out" ip saddr $PRIV snat to $PUB; }
	}
	EOF
}

# ---- per-phase router configuration -----------------------------------

phase_on() { # phase
	rt conntrack -F >/dev/null 2>&1
	case $1 in
	plain) ;;
	alg)
		rt nft -f - <<-EOF || return 1
		table inet balg {
			ct helper sip { type "sip" protocol udp; l3proto ip; }
			chain pre { type filter hook prerouting priority filter; policy accept;
				udp dport 5060 ct helper set "sip"; }
		}
		EOF
		;;
	nfq | nfqd | nfqd-rt)
		queue_rules_on || return 1
		start_queue_prog "$1" || return 1
		;;
	esac
}

# Both queue phases use sipnat's own rules (scripts/sipnat-rules: mangle
# FORWARD NFQUEUE with --queue-bypass on this kernel, plus the pinhole
# table), so nfq and nfqd differ only in the program bound to the queue.
queue_rules_on() {
	rt "$top/scripts/sipnat-rules" load --queue $QNUM --method xt >"$tmp/rules.log" 2>&1 ||
		{ cat "$tmp/rules.log" >&2; return 1; }
}
queue_rules_off() {
	rt "$top/scripts/sipnat-rules" unload >/dev/null 2>&1
}

nfqd_status() {
	"$NFQD" status -c "$tmp/nfqd.conf" --control-socket "$tmp/nfqd.sock" 2>/dev/null
}

phase_off() { # phase
	if [ "$1" = nfqd ] && [ -n "${qpid:-}" ]; then
		nfqd_status >"$tmp/status"
		{ echo "nfqd status:"; cat "$tmp/status"; } >>"$tmp/raw"
		# What nfqd did with what it saw, without the zero counters.
		NFQD_COUNTS=$(awk '$2 != 0 && $1 ~ /^(seen|rewritten|unchanged|passthrough|skipped|dropped|verdict-errors|queue-enobufs|kernel-queue-dropped|kernel-user-dropped|pinholes-failed)/ {
			printf "%s %s  ", $1, $2 }' "$tmp/status")
	fi
	if [ -n "${qpid:-}" ] && ! kill -0 "$qpid" 2>/dev/null; then
		wait "$qpid"
		local rc=$?
		DIED+=("$1 exited with status $rc during round ${round:-?}: $(tail -3 "$tmp/${1%-rt}.log" | tr '\n' ' ')")
		echo "bench: $1 exited (status $rc) during its phase" >&2
	fi
	case $1 in
	alg) rt nft delete table inet balg ;;
	nfq | nfqd | nfqd-rt)
		[ -n "${qpid:-}" ] && stop_pid "$qpid"
		qpid=
		queue_rules_off
		;;
	esac
	rt conntrack -F >/dev/null 2>&1
}

queue_bound() { # is our queue bound to a process in the router namespace?
	rt cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk -v q=$QNUM '$1 == q { found = 1 } END { exit !found }'
}

nfqd_args() { # an empty config file: a host's /etc/sipnat/nfqd.conf must not count
	: >"$tmp/nfqd.conf"
	echo "-c $tmp/nfqd.conf --queue $QNUM --map $PRIV=$PUB --control-socket $tmp/nfqd.sock --log-level warn ${BENCH_NFQD_ARGS:-}"
}

start_queue_prog() { # nfq|nfqd|nfqd-rt; sets qpid
	local prio=$QPRIO
	[ "$1" = nfqd-rt ] && prio=$RTPRIO
	if queue_bound; then
		echo "bench: queue $QNUM is already bound in $RT (a stray process?)" >&2
		return 1
	fi
	# Not through rt(): a backgrounded function is a subshell, and $! must
	# be the PID of the program itself (ip netns exec execs it).
	if [ "$1" = nfq ]; then
		# shellcheck disable=SC2086
		ip netns exec "$RT" $prio "$NFQACCEPT" $QNUM >>"$tmp/nfq.log" 2>&1 &
	else
		# shellcheck disable=SC2046,SC2086
		ip netns exec "$RT" $prio "$NFQD" $(nfqd_args) >>"$tmp/nfqd.log" 2>&1 &
	fi
	qpid=$!
	pids+=("$qpid")
	for _ in $(seq 50); do
		queue_bound && return 0
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: $1 did not bind queue $QNUM:" >&2
	cat "$tmp/${1%-rt}.log" >&2
	stop_pid "$qpid"
	qpid=
	return 1
}

nfqd_available() {
	[ -x "$NFQD" ] || return 1
	# An nfqd that cannot run here exits instead of binding the queue.
	queue_rules_on || return 1
	local ok=1
	start_queue_prog nfqd 2>"$tmp/nfqd-probe.err" && ok=0
	[ -n "${qpid:-}" ] && stop_pid "$qpid"
	qpid=
	queue_rules_off
	return $ok
}

sipload() { # label extra-args...
	local label=$1
	shift
	"$SIPLOAD" --tx-ns "$PH" --rx-ns "$SV" --tx $PRIV:5060 --rx $SRV:5060 \
		--pub $PUB --label "$label" "$@"
}

kv() { # line key
	local w
	for w in $1; do
		case $w in "$2="*) echo "${w#*=}"; return ;; esac
	done
	echo 0
}

median() { # numbers...
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ---- the run ----------------------------------------------------------

setup || { echo "bench: namespace setup failed" >&2; exit 1; }

want=" ${BENCH_PHASES:-plain alg nfq nfqd nfqd-rt} "
phases=plain
for ph in alg nfq; do
	[[ $want == *" $ph "* ]] && phases="$phases $ph"
done
have_nfqd=0
if [[ $want == *" nfqd "* ]]; then
	if nfqd_available; then
		phases="$phases nfqd"
		have_nfqd=1
		if [[ $want == *" nfqd-rt "* ]] && [ -z "$QPRIO" ] && $RTPRIO true 2>/dev/null; then
			phases="$phases nfqd-rt"
		fi
	else
		echo "bench: nfqd does not run as a daemon ($(head -1 "$tmp/nfqd.log" 2>/dev/null)); phase skipped" >&2
	fi
fi

echo "sipnat bench: $(nproc) CPUs, kernel $(uname -r), $ROUNDS rounds x ${SECS}s per run, medians shown"
echo "load: calls of 5 messages (INVITE+SDP, 200+SDP, ACK, BYE, 200), new Call-ID each, UDP, IPv4"
echo "rate: closed loop with $WINDOW calls in flight; latency: fixed $RATE msgs/s, send to kernel receive stamp"
echo "queue programs run ${QPRIO:-at normal priority}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

DIED=()
declare -A R_RATE R_P50 R_P99 R_LOST R_LEAK R_LRATE R_CPUMSG R_CPUPCT R_CSW R_TCPU

cpu_ns() { # on-CPU time of the queue program (nothing in other phases)
	[ -n "${qpid:-}" ] && awk '{ print $1 }' "/proc/$qpid/schedstat" 2>/dev/null
}
ksoftirqd_ns() { # softirq work deferred to ksoftirqd (all namespaces: noise)
	local p t=0 v
	for p in $(pgrep -x 'ksoftirqd/[0-9]+' 2>/dev/null); do
		read -r v _ <"/proc/$p/schedstat" 2>/dev/null && t=$((t + v))
	done
	echo $t
}
ctx_sw() { # its voluntary and involuntary context switches
	[ -n "${qpid:-}" ] && awk '/^voluntary_ctxt/ { v = $2 } /^nonvoluntary_ctxt/ { n = $2 }
		END { print v + 0, n + 0 }' "/proc/$qpid/status" 2>/dev/null
}
for round in $(seq "$ROUNDS"); do
	for ph in $phases; do
		if ! phase_on "$ph"; then
			echo "bench: phase $ph could not be set up" >&2
			phase_off "$ph"
			continue
		fi
		c0=$(cpu_ns)
		k0=$(ksoftirqd_ns)
		l1=$(sipload "$ph" --window "$WINDOW" --duration "$SECS")
		k1=$(ksoftirqd_ns)
		c1=$(cpu_ns)
		# Everything the closed loop cost: sipload with the router work
		# done in its sendto()s, the queue program, ksoftirqd.
		R_TCPU[$ph]="${R_TCPU[$ph]:-} $(awk -v s="$(kv "$l1" cpu_ns)" -v a="${c0:-0}" -v b="${c1:-0}" \
			-v k="$((k1 - k0))" -v n="$(kv "$l1" recvd)" \
			'BEGIN { printf "%.2f", (n > 0 ? (s + b - a + k) / n / 1000 : 0) }')"
		x1=$(ctx_sw)
		l2=$(sipload "$ph" --rate "$RATE" --duration "$SECS")
		c2=$(cpu_ns)
		x2=$(ctx_sw)
		if [ -n "$c0" ] && [ -n "$c2" ]; then
			R_CPUMSG[$ph]="${R_CPUMSG[$ph]:-} $(awk -v a="$c0" -v b="$c1" -v n="$(kv "$l1" recvd)" \
				'BEGIN { printf "%.2f", (n > 0 ? (b - a) / n / 1000 : 0) }')"
			R_CPUPCT[$ph]="${R_CPUPCT[$ph]:-} $(awk -v a="$c1" -v b="$c2" -v t="$(kv "$l2" secs)" \
				'BEGIN { printf "%.2f", (t > 0 ? (b - a) / t / 1e7 : 0) }')"
			# shellcheck disable=SC2086
			R_CSW[$ph]="${R_CSW[$ph]:-} $(echo $x1 $x2 "$(kv "$l2" recvd)" | awk '{
				n = $5 > 0 ? $5 : 1; printf "%.2f/%.2f", ($3 - $1) / n, ($4 - $2) / n }')"
		fi
		phase_off "$ph"
		echo "round $round $ph tput: $l1" >>"$tmp/raw"
		echo "round $round $ph lat:  $l2" >>"$tmp/raw"
		R_RATE[$ph]="${R_RATE[$ph]:-} $(kv "$l1" rate)"
		R_P50[$ph]="${R_P50[$ph]:-} $(kv "$l2" p50_us)"
		R_P99[$ph]="${R_P99[$ph]:-} $(kv "$l2" p99_us)"
		R_LRATE[$ph]="${R_LRATE[$ph]:-} $(kv "$l2" rate)"
		R_LOST[$ph]="${R_LOST[$ph]:-} $(($(kv "$l1" lost_calls) + $(kv "$l2" lost_calls)))"
		R_LEAK[$ph]="$(kv "$l2" out_priv_leak)/$(kv "$l2" out_msgs) $(kv "$l2" in_pub_leak)/$(kv "$l2" in_msgs)"
		printf '  round %d %-7s %8.0f msgs/s  p50 %7.1f us  p99 %8.1f us\n' "$round" "$ph" \
			"$(kv "$l1" rate)" "$(kv "$l2" p50_us)" "$(kv "$l2" p99_us)" >&2
	done
done

declare -A M_RATE M_P50 M_P99
for ph in $phases; do
	# shellcheck disable=SC2086
	M_RATE[$ph]=$(median ${R_RATE[$ph]:-0})
	# shellcheck disable=SC2086
	M_P50[$ph]=$(median ${R_P50[$ph]:-0})
	# shellcheck disable=SC2086
	M_P99[$ph]=$(median ${R_P99[$ph]:-0})
done

printf '%-7s %8s %15s %13s %9s %9s %13s %13s %5s\n' phase "msgs/s" "(min-max)" "ratio-vs-ALG" \
	"p50 (us)" "p99 (us)" "p50 add (us)" "p99 add (us)" lost
for ph in $phases; do
	alg=${M_RATE[alg]:-0}
	ratio=$(awk -v a="${M_RATE[$ph]}" -v b="$alg" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	a50=$(awk -v a="${M_P50[$ph]}" -v b="${M_P50[plain]}" 'BEGIN { printf "%.1f", a - b }')
	a99=$(awk -v a="${M_P99[$ph]}" -v b="${M_P99[plain]}" 'BEGIN { printf "%.1f", a - b }')
	# shellcheck disable=SC2086
	lost=$(echo ${R_LOST[$ph]} | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }')
	# shellcheck disable=SC2086
	range=$(echo ${R_RATE[$ph]} | awk '{ lo = hi = $1; for (i = 2; i <= NF; i++) {
		if ($i < lo) lo = $i; if ($i > hi) hi = $i }; printf "(%d-%d)", lo, hi }')
	printf '%-7s %8.0f %15s %13s %9.1f %9.1f %13s %13s %5s\n' "$ph" "${M_RATE[$ph]}" "$range" "$ratio" \
		"${M_P50[$ph]}" "${M_P99[$ph]}" "$a50" "$a99" "$lost"
done
echo "(msgs/s: closed loop, both directions; latencies: paced run; add = minus plain;"
echo " lost = calls that stalled over all rounds, a message never arrived)"
echo
echo "rewrite evidence, last paced run: messages with the private address at the server,"
echo "and with the public address at the phone (plain and nfq do not rewrite: they leak)"
for ph in $phases; do
	printf '  %-7s %s\n' "$ph" "${R_LEAK[$ph]}"
done
[ -n "${NFQD_COUNTS:-}" ] && echo "  nfqd's counters, last round: $NFQD_COUNTS"
for d in "${DIED[@]}"; do
	echo "  WARNING: $d (the queue was bypassed from then on)"
done
echo
echo "CPU per message on the whole path (closed loop: load generator incl. the router work its"
echo "sendto()s do, queue program, ksoftirqd), medians; steadier than msgs/s on a shared machine:"
for ph in $phases; do
	# shellcheck disable=SC2086
	t=$(median ${R_TCPU[$ph]:-0})
	# shellcheck disable=SC2086
	ta=$(median ${R_TCPU[alg]:-0})
	printf '  %-7s %6.2f us/msg  %s\n' "$ph" "$t" "$(awk -v a="$t" -v b="$ta" \
		'BEGIN { if (a > 0 && b > 0) printf "ALG/phase = %.2f (rate-equivalent ratio)", b / a }')"
done
if [ -n "${R_CPUMSG[nfq]:-}${R_CPUMSG[nfqd]:-}" ]; then
	echo
	echo "queue program CPU (/proc/PID/schedstat; includes the kernel work its verdicts do), medians;"
	echo "context switches (/proc/PID/status) per message of the last paced run:"
	for ph in nfq nfqd nfqd-rt; do
		[ -n "${R_CPUMSG[$ph]:-}" ] || continue
		# shellcheck disable=SC2086
		printf '  %-7s %6.2f us/msg closed loop, %5.1f%% of a CPU at %d msgs/s, %s sleeps/preemptions per msg (last)\n' \
			"$ph" "$(median ${R_CPUMSG[$ph]})" "$(median ${R_CPUPCT[$ph]})" "$RATE" \
			"$(echo ${R_CSW[$ph]} | awk '{ print $NF }')"
	done
fi
echo

# ---- memory with open dialogs -------------------------------------------

mem_line() { # pid
	awk '/^VmRSS|^VmHWM/ { printf "%s %s kB  ", $1, $2 }' "/proc/$1/status" 2>/dev/null
}

mem_ok=0
if [ $have_nfqd = 1 ]; then
	phase_on nfqd && {
		before=$(mem_line "$qpid")
		rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$qpid/status")
		lm=$(sipload mem --mix dialog --window 64 --calls "$DIALOGS")
		echo "memory run: $lm" >"$tmp/rawmem"
		sleep 0.5
		after=$(mem_line "$qpid")
		rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$qpid/status")
		status=$(nfqd_status |
			grep -E '^(dialogs-active|pinholes-active|pinholes-failed)' | tr -s ' \n' '  ')
		echo "memory: nfqd (the running daemon, /proc/PID/status) with $(kv "$lm" "done") of $DIALOGS INVITE/200/ACK dialogs left open"
		echo "  before: $before"
		echo "  after:  $after"
		awk -v a="$rss0" -v b="$rss1" -v n="$(kv "$lm" "done")" 'BEGIN {
			if (n > 0) printf "  growth: %d kB, %.0f bytes per dialog\n", b - a, (b - a) * 1024 / n }'
		[ -n "$status" ] && echo "  nfqd status: $status"
		echo "  (nfqd keeps each answered INVITE's no-To-tag dialog 32 s for late forks:"
		echo "   right after a burst of N calls dialogs-active is 2N; RSS is measured then)"
		mem_ok=1
		phase_off nfqd
	}
fi
if [ $mem_ok = 0 ]; then
	if make -s "$BUILD/tests/bench/dialog_mem" >"$tmp/dm.log" 2>&1; then
		echo "memory: in-process (rewrite core + dialog table, no daemon), $DIALOGS INVITE/200 pairs:"
		"$top/$BUILD/tests/bench/dialog_mem" "$DIALOGS" | sed 's/^/  /'
	else
		echo "memory: not measured (no nfqd daemon, and the core/dialog table do not link yet)"
	fi
fi
echo

# ---- goals ----------------------------------------------------------------

if [ $have_nfqd = 1 ]; then
	if [ -n "${M_RATE[alg]:-}" ]; then
		awk -v a="${M_RATE[nfqd]}" -v b="${M_RATE[alg]}" 'BEGIN {
			r = b > 0 ? a / b : 0
			printf "goal: nfqd rate >= 0.5x kernel ALG: %.2fx: %s\n", r, (r >= 0.5 ? "met" : "NOT met") }'
		# shellcheck disable=SC2086
		awk -v a="$(median ${R_TCPU[nfqd]:-0})" -v b="$(median ${R_TCPU[alg]:-0})" 'BEGIN {
			if (a > 0 && b > 0)
				printf "      (by CPU per message, steadier here: ALG/nfqd = %.2fx: %s)\n", b / a, (b / a >= 0.5 ? "met" : "NOT met") }'
	else
		echo "goal: nfqd rate >= 0.5x kernel ALG: not measured (alg phase not run)"
	fi
	awk -v a="${M_P99[nfqd]}" -v b="${M_P99[plain]}" -v r="$RATE" 'BEGIN {
		d = a - b
		printf "goal: nfqd p99 added latency < 1000 us at %d msgs/s: %.1f us: %s\n", r, d, (d < 1000 ? "met" : "NOT met") }'
	if [ -n "${M_P99[nfqd-rt]:-}" ]; then
		awk -v a="${M_P99[nfqd-rt]}" -v b="${M_P99[plain]}" 'BEGIN {
			d = a - b
			printf "      (nfqd under SCHED_FIFO, phase nfqd-rt: %.1f us: %s)\n", d, (d < 1000 ? "met" : "NOT met") }'
	fi
else
	echo "goal: nfqd rate >= 0.5x kernel ALG: not measured (no nfqd daemon)"
	echo "goal: nfqd p99 added latency < 1 ms at $RATE msgs/s: not measured (no nfqd daemon)"
fi
echo "note: $(nproc) CPUs shared with whatever else runs (load average now $(cut -d' ' -f1 /proc/loadavg)): msgs/s"
echo "and p99 swing between rounds (see min-max); compare phases within one run. Raw lines: BENCH_RAW=1."
[ "${BENCH_RAW:-0}" = 1 ] && cat "$tmp/raw" "$tmp/rawmem" 2>/dev/null
exit 0
