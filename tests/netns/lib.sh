# tests/netns/lib.sh - shared helpers for the network-namespace tests and the demo.
#
# Owns: namespace creation with a random suffix and their cleanup, bounded
# polling (busywait/slowwait), tool checks that SKIP, and the PASS:/FAIL:
# reporting with kselftest exit codes.
# Must not: touch the root namespace's nftables ruleset or sysctls, or send
# traffic anywhere but into namespaces it created.
#
# Source it from bash: `. "$(dirname "$0")/lib.sh"`; then `trap cleanup EXIT`.

# kselftest exit codes
ksft_pass=0
ksft_fail=1
ksft_xfail=2
ksft_skip=4

ret=${ret:-0}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-10}	# seconds, default bound of slowwait
NS_LIST=()
CLEANUP_HOOKS=()

# setup_ns VAR...: creates one namespace per VAR, named VAR-<random>, and sets
# VAR to that name (one random suffix per call, in NS_SUFFIX).  Loopback is
# brought up; the namespace is remembered for cleanup.  The random suffix
# keeps parallel and leftover runs apart.
setup_ns()
{
	local v name
	NS_SUFFIX=$(tr -dc 'a-z0-9' </dev/urandom 2>/dev/null | head -c 6)
	for v in "$@"; do
		name="$v-$NS_SUFFIX"
		if ! ip netns add "$name"; then
			echo "SKIP: cannot create network namespace $name"
			exit $ksft_skip
		fi
		NS_LIST+=("$name")
		ip -n "$name" link set lo up
		printf -v "$v" '%s' "$name"
	done
}

# stop_ns_pids NS: SIGTERM every process inside NS, then SIGKILL what is left
# after at most 2 s.  A process started with `ip netns exec` keeps a deleted
# namespace alive, so this runs before `ip netns del`.
stop_ns_pids()
{
	local ns=$1 pids i
	pids=$(ip netns pids "$ns" 2>/dev/null)
	[ -z "$pids" ] && return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for i in $(seq 20); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	sleep 0.1
}

cleanup_all_ns()
{
	local ns
	for ns in "${NS_LIST[@]}"; do
		stop_ns_pids "$ns"
	done
	for ns in "${NS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NS_LIST=()
}

# on_cleanup CMD: runs CMD (a string, eval'd) at cleanup, after the
# processes in the namespaces stopped (e.g. to remove a temporary directory).
on_cleanup()
{
	CLEANUP_HOOKS+=("$1")
}

# cleanup: the EXIT trap.  Processes in the namespaces stop first, so the
# hooks can remove what they were writing.
cleanup()
{
	local h ns
	for ns in "${NS_LIST[@]}"; do
		stop_ns_pids "$ns"
	done
	for h in "${CLEANUP_HOOKS[@]}"; do
		eval "$h" 2>/dev/null
	done
	CLEANUP_HOOKS=()
	cleanup_all_ns
}

# checktool "CMD" "what is skipped": SKIP (exit 4) when CMD fails.
checktool()
{
	if ! eval "$1" >/dev/null 2>&1; then
		echo "SKIP: could not $2 ('$1' failed)"
		exit $ksft_skip
	fi
}

# require_root: namespaces need CAP_SYS_ADMIN.
require_root()
{
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (network namespaces)"
		exit $ksft_skip
	fi
}

# busywait TIMEOUT_MS CMD...: runs CMD every 50 ms until it succeeds or the
# time is up; returns CMD's last status.
busywait()
{
	local timeout_ms=$1 start now rc
	shift
	start=$(date +%s%3N)
	while :; do
		"$@" && return 0
		rc=$?
		now=$(date +%s%3N)
		[ $((now - start)) -ge "$timeout_ms" ] && return $rc
		sleep 0.05
	done
}

# slowwait TIMEOUT_S CMD...: the same with a 100 ms period and seconds.
slowwait()
{
	local timeout_s=$1
	shift
	busywait $((timeout_s * 1000)) "$@"
}

# wait_udp_listen NS ADDR PORT: true once something listens on ADDR:PORT/udp.
udp_listening()
{
	local hp="$2:$3"
	case $2 in *:*) hp="[$2]:$3" ;; esac
	ip netns exec "$1" ss -Hnlu 2>/dev/null | awk '{ print $4 }' | grep -qxF "$hp"
}
wait_udp_listen()
{
	slowwait "$WAIT_TIMEOUT" udp_listening "$@"
}

# wait_pid_exit TIMEOUT_S PID: waits for a background job of this shell and
# returns its exit status, or 124 (and kills it) if it outlives the bound.
wait_pid_exit()
{
	local timeout_s=$1 pid=$2
	if slowwait "$timeout_s" eval "! kill -0 $pid 2>/dev/null"; then
		wait "$pid"
		return $?
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

# Reporting: one line per check.  A failure sets ret=1 and the script carries
# on; it ends with `exit $ret`.
pass()
{
	echo "PASS: $*"
}

fail()
{
	echo "FAIL: $*"
	ret=$ksft_fail
}

skip()
{
	echo "SKIP: $*"
}

# check_eq WHAT EXPECTED FOUND
check_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: expected $2, found $3"
	fi
}

# check_ge WHAT MIN FOUND: FOUND (an integer) is at least MIN.
check_ge()
{
	if [ -n "$3" ] && [ "$3" -ge "$2" ] 2>/dev/null; then
		pass "$1"
	else
		fail "$1: expected at least $2, found ${3:-nothing}"
	fi
}

# nft_counter_packets NS FAMILY TABLE COUNTER: the packet count of a named
# counter, or nothing if it does not exist.
nft_counter_packets()
{
	ip netns exec "$1" nft list counter "$2" "$3" "$4" 2>/dev/null |
		sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p' | head -n1
}

# nft_set_elements NS FAMILY TABLE SET: the number of elements in a set
# (nothing if the set does not exist).  Elements are comma-separated inside
# "elements = { ... }" and never contain a comma themselves.
nft_set_elements()
{
	local out
	out=$(ip netns exec "$1" nft list set "$2" "$3" "$4" 2>/dev/null) || return 1
	echo "$out" | tr '\n' ' ' | awk '{
		i = index($0, "elements = {")
		if (i == 0) { print 0; exit }
		s = substr($0, i + 12)
		s = substr(s, 1, index(s, "}") - 1)
		print gsub(/,/, ",", s) + 1
	}'
}

# dump_ruleset NS: to stderr, as evidence after a failed check.
dump_ruleset()
{
	echo "---- nft list ruleset in $1" >&2
	ip netns exec "$1" nft list ruleset >&2 2>&1
}
