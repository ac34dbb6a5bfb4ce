#!/bin/bash
# tests/vm/guest-checks.sh: the guest half of test-stock-kernel.sh (runs inside
# tests/vm/boot.sh, never on the host: it refuses without SIPNAT_VM=1).
#
# 1. The stock kernel really has what the host kernel lacks: the preloaded modules,
#    the options tests/netns/config lists,
#    nft's `queue` statement, a `ct helper` object, a userspace helper registered
#    through nfnetlink_cthelper and named by an nft ct helper object, NFQA_CT on a
#    queue, ctnetlink expectation listing.  One PASS:/FAIL: vm/kernel/... line each
#    (only with SIPNAT_VM_KERNEL_CHECKS=1, the first boot of test-stock-kernel.sh).
# 2. The scenarios named (tests/netns/test-*.sh), in that order, each under its own
#    timeout, reported as PASS:/FAIL:/SKIP: vm/netns/<name> (seconds in brackets);
#    the script's own lines are indented below it.  A scenario starts only while
#    SIPNAT_VM_BUDGET (seconds of this boot) lasts; the first one always starts.
#    The ones left get no line here: the host boots again for them.
# 3. Then the kernel log is free of splats that did not panic (BUG:, lockdep, hung task).
#    A failure of a scenario listed in tests/vm/xfail (with its reason) is reported
#    as XFAIL: and does not fail the run; remove the line when it passes again.
# Exit 1 if any line failed, else 0.  Usage: guest-checks.sh NLPROBE SCENARIO...
set -u
[ "${SIPNAT_VM:-}" = 1 ] || { echo "guest-checks.sh: run me through tests/vm/boot.sh" >&2; exit 2; }
cd "$(dirname "$0")/../.." || exit 1
nlprobe=$1
shift
ret=0
per_test=${SIPNAT_VM_TEST_TIMEOUT:-480}
budget=${SIPNAT_VM_BUDGET:-480}

pass() { echo "PASS: vm/$1"; }
fail() { echo "FAIL: vm/$1${2:+ ($2)}"; ret=1; }

# check NAME CMD...: one line for one kernel feature; the command's output on failure.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "kernel/$name"
	else
		fail "kernel/$name"
		printf '%s\n' "$out" | sed 's/^/    | /'
	fi
}

# Each probe runs in a scratch namespace and leaves nothing behind in the root one.
in_scratch_ns() { unshare -n -- "$@"; }

modules_loaded() {
	local m missing=""
	while read -r m _; do
		case $m in "" | \#*) continue ;; esac
		[ -d "/sys/module/$m" ] || missing="$missing $m"
	done <tests/vm/modules
	[ -z "$missing" ] || { echo "not loaded:$missing"; return 1; }
}

nft_queue() {
	nft -f - <<-'EOF' && nft list chain inet probe q | grep -q 'queue flags bypass to 3'
	table inet probe {
		chain q { type filter hook forward priority 0; policy accept;
			udp dport 5060 queue flags bypass to 3;
		}
	}
	EOF
}

ct_helper_sip() {
	nft -f - <<-'EOF' && nft list ruleset | grep -q 'type "sip" protocol udp'
	table inet probe {
		ct helper sip-5060 { type "sip" protocol udp; l3proto ip; }
		chain pre { type filter hook prerouting priority 0; policy accept;
			udp dport 5060 ct helper set "sip-5060";
		}
	}
	EOF
}

# A userspace helper is only useful if nft can attach it: register, name it in a ct
# helper object, then tear both down in order (the object holds a reference).
userspace_helper() {
	"$nlprobe" cthelper-add sipnat-probe || return 1
	local rc=0
	nft -f - <<-'EOF' || rc=1
	table inet probe {
		ct helper sipnat { type "sipnat-probe" protocol udp; l3proto ip; }
		chain pre { type filter hook prerouting priority 0; policy accept;
			udp dport 5060 ct helper set "sipnat";
		}
	}
	EOF
	nft delete table inet probe 2>/dev/null
	"$nlprobe" cthelper-del sipnat-probe || rc=1
	return $rc
}

expect_list() {
	local out
	out=$(conntrack -L expect 2>&1) || { echo "$out"; return 1; }
	! grep -qi 'not supported\|error' <<<"$out"
}

# tests/netns/config (kselftest style) against this kernel's config: every option is
# y or m.  An option this kernel does not know at all (merged away upstream, e.g.
# NFT_COUNTER) is named, not failed.
netns_config() {
	local cfg=/boot/config-$(uname -r) c bad="" gone=""
	[ -r "$cfg" ] || { echo "$cfg missing"; return 1; }
	for c in $(grep -o '^CONFIG_[A-Za-z0-9_]*' tests/netns/config 2>/dev/null); do
		if grep -Eq "^$c=(y|m)$" "$cfg"; then
			continue
		elif grep -q "^# $c is not set" "$cfg"; then
			bad="$bad $c"
		else
			gone="$gone $c"
		fi
	done
	[ -z "$gone" ] || echo "unknown to $(uname -r) (ignored):$gone"
	[ -z "$bad" ] || { echo "not set:$bad"; return 1; }
}

panic_on_warn() { [ "$(cat /proc/sys/kernel/panic_on_warn)" = 1 ]; }

export nlprobe
export -f nft_queue ct_helper_sip userspace_helper expect_list
if [ "${SIPNAT_VM_KERNEL_CHECKS:-1}" = 1 ]; then
	check modules modules_loaded
	check netns-config netns_config
	check panic_on_warn panic_on_warn
	check nft-queue in_scratch_ns bash -c nft_queue
	check ct-helper-sip in_scratch_ns bash -c ct_helper_sip
	check nfnetlink_cthelper in_scratch_ns bash -c userspace_helper
	check nfqa-ct in_scratch_ns "$nlprobe" queue-ct 3
	check conntrack-expect in_scratch_ns bash -c expect_list
fi

# 3. (after the scenarios) the kernel log has no splat that did not panic: BUG: lines
#    (sleeping in atomic context, ...), lockdep, hung tasks.
dmesg_clean() {
	! dmesg | grep -E 'BUG:|WARNING:|Oops|general protection fault|Call Trace|INFO: task .* blocked'
}

# 2. scenarios, in the order given (test-stock-kernel.sh puts the known guest
# failures of tests/vm/xfail last: they tell the least).  Under TCG on shared
# cores a scenario takes 1-5 min: scenarios start while this boot's budget
# lasts, the first one always; the host boots again for the rest.
xfail_reason() { awk -v n="$1" '$1 == n { $1 = ""; sub(/^ +/, ""); print; exit }' tests/vm/xfail 2>/dev/null; }
budget_end=$(($(cut -d. -f1 /proc/uptime) + budget))
started=0
for t in "$@"; do
	t0=$(cut -d. -f1 /proc/uptime)
	if [ $started -gt 0 ] && [ "$t0" -ge "$budget_end" ]; then
		echo "vm: this boot's ${budget}s scenario budget is spent: $# left for the next boot"
		break
	fi
	started=$((started + 1))
	shift
	name=netns/$(basename "$t" .sh)
	echo "---- vm/$name"
	timeout -k 5 "$per_test" "$t" </dev/null 2>&1 | sed -u 's/^/    | /'
	rc=${PIPESTATUS[0]}
	secs=$(($(cut -d. -f1 /proc/uptime) - t0))
	why=$(xfail_reason "$name")
	case $rc in
	0) pass "$name (${secs}s${why:+; listed in tests/vm/xfail, remove it})" ;;
	4) echo "SKIP: vm/$name (${secs}s)" ;;
	*)
		if [ -n "$why" ]; then
			echo "XFAIL: vm/$name (exit $rc, ${secs}s; known: $why)"
		elif [ $rc = 124 ] || [ $rc = 137 ]; then
			fail "$name" "timeout after ${per_test}s"
		else
			fail "$name" "exit $rc, ${secs}s"
		fi
		;;
	esac
done
check "dmesg-clean${SIPNAT_VM_BOOT:+ (boot $SIPNAT_VM_BOOT)}" dmesg_clean
exit $ret
