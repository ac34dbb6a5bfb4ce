#!/bin/bash
# tests/vm/boot.sh: boot Debian's stock kernel under QEMU TCG and run one command in it.
#
#   tests/vm/boot.sh [--kmod FILE.ko]... [--file HOSTPATH[:GUESTPATH]]...
#                    [--timeout SECONDS] [--smp N] [--mem MIB]
#                    [--plugin SO[,ARG=VAL...]] [--plugin-log FILE] [--insncount FILE]
#                    -- GUEST-COMMAND [ARGS...]
#
# Owns the QEMU command line, the cached initramfs under build/vm/ and the job script;
# must not know what a test checks.  What the guest is:
# - Kernel: /boot/vmlinuz-$KVER of the installed linux-image-amd64 (KVER found from the
#   package, never hard-coded), panic_on_warn=1 oops=panic panic=-1: a WARN ends the boot.
#   The ELF inside it is extracted once (build/vm/vmlinux-$KVER) and booted through its
#   PVH entry: TCG is slow at the bzImage's XZ decompression.
# - Userspace: the host's root, shared read-only over 9p with a tmpfs overlay on top
#   (writes stay in the guest), so every host binary, library, the repo tree and
#   /lib/modules/$KVER are at the same paths.  Fresh tmpfs on /run; /tmp is the overlay.
#   PID 1 is tests/vm/init.c (static, in a tiny initramfs with the 9p/overlay modules).
# - The job: as root, in a login-less bash on ttyS0, cwd = the caller's cwd, env
#   SIPNAT_VM=1 and SIPNAT_KVER; tests/vm/modules preloaded (modprobe works for more);
#   each --kmod insmod'ed (a failure exits 1 before the command); each --file copied
#   (to GUESTPATH, default the same path); lo is up in the root namespace; stdin is
#   /dev/null unless boot.sh runs on a terminal (then the console is interactive).
#   The host environment is not passed in: use `-- env VAR=value CMD` for that.
# - Output: the guest console goes to stdout (\r stripped unless interactive).
# - Exit status: GUEST-COMMAND's, read from a token PID 1 writes on ttyS1 together with
#   a per-boot nonce.  No token is never a pass: 124 = timeout (QEMU is killed by PID),
#   125 = no/garbled token (panic, WARN, init failure), 126 = host-side setup failed.
# - One vCPU by default (the insncount plugin needs -smp 1); 1024 MiB; no network device.
#
# Examples (from the repo root):
#   tests/vm/boot.sh -- tests/netns/test-foo.sh       # one scenario in the guest
#   tests/vm/boot.sh -- bash                          # a shell (from a terminal;
#                                                     #   `exit` powers off, ^A x kills)
#   tests/vm/boot.sh --kmod kmod/sipnat_fp.ko -- lsmod
#   tests/vm/boot.sh --insncount build/vm/insn.log -- sh -c '"$SIPNAT_MARK"; ping -c1 ::1; "$SIPNAT_MARK"'
#       builds ../shared/tools/qemu-insncount into build/vm/insncount/, loads the plugin
#       (-plugin ... -d plugin -D FILE), forces -smp 1 and exports SIPNAT_MARK (the marker
#       program) to the guest; FILE gets one "MARK n ... insns=N" line per mark run.
#   --plugin SO[,args] / --plugin-log FILE do the same with any plugin (log default
#   build/vm/plugin.log); SIPNAT_VM_QEMU_ARGS adds raw QEMU arguments (word-split).
# Environment: SIPNAT_VM_KEEP=1 keeps the job directory build/vm/jobs/* for inspection.
# More in tests/vm/README.md (how the guest is made, timings).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
vmdir=$top/build/vm

kmods=() files=() plugin="" plugin_log="" insncount="" timeout=300 timeout_set=0 smp=1 mem=1024
usage() { sed -n '3,7p' "$0" >&2; exit 126; }
while [ $# -gt 0 ]; do
	case $1 in
	--kmod) kmods+=("$2"); shift 2 ;;
	--file) files+=("$2"); shift 2 ;;
	--timeout) timeout=$2; timeout_set=1; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--plugin) plugin=$2; shift 2 ;;
	--plugin-log) plugin_log=$2; shift 2 ;;
	--insncount) insncount=$2; shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ $# -gt 0 ] || usage
case $timeout$smp$mem in *[!0-9]*) usage ;; esac

fail() { echo "vm: $*" >&2; exit 126; }

# The kernel of the linux-image-amd64 metapackage; fall back to the newest installed one.
kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
if [ -z "$kver" ] || [ ! -e "/boot/vmlinuz-$kver" ]; then
	kver=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's,^/boot/vmlinuz-,,' | sort -V | tail -1)
fi
[ -n "$kver" ] && [ -r "/boot/vmlinuz-$kver" ] && [ -d "/lib/modules/$kver" ] ||
	fail "no Debian kernel installed (apt-get install linux-image-amd64)"
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (scripts/deps.sh)"

mkdir -p "$vmdir/jobs" || fail "cannot create $vmdir"

# Cached build of init and the initramfs, keyed by KVER; rebuilt when init.c or this
# script changes.  The lock keeps parallel boots from the same tree from racing.
initrd=$vmdir/initramfs-$kver.cpio
build_initrd() {
	local stage m i=10
	cc -static -O2 -Wall -Wextra -Werror -o "$vmdir/init.tmp" "$top/tests/vm/init.c" &&
		mv "$vmdir/init.tmp" "$vmdir/init" || return 1
	stage=$(mktemp -d "$vmdir/stage.XXXXXX") || return 1
	mkdir -p "$stage"/{dev,proc,sys,modules,host,rw,newroot}
	mknod -m 600 "$stage/dev/console" c 5 1
	cp "$vmdir/init" "$stage/init"
	for m in $(modprobe -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p overlay |
		awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'); do
		cp "$m" "$stage/modules/$i-$(basename "$m")" || return 1
		i=$((i + 1))
	done
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$initrd.tmp" &&
		mv "$initrd.tmp" "$initrd"
	local rc=$?
	rm -rf "$stage"
	return $rc
}
# TCG spends 10+ s (under load) in the bzImage's own XZ decompressor: boot the ELF
# inside it instead, through its PVH entry point, when the kernel has one.
vmlinux=$vmdir/vmlinux-$kver
extract_vmlinux() {
	local off
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "/boot/vmlinuz-$kver" | head -1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	# xz complains about the bytes after the stream; the ELF check below is the test.
	tail -c +$((off + 1)) "/boot/vmlinuz-$kver" | xz -dcq >"$vmlinux.tmp" 2>/dev/null
	# XEN_ELFNOTE_PHYS32_ENTRY (18) is what QEMU needs to boot an ELF kernel.
	readelf -n "$vmlinux.tmp" 2>/dev/null | grep -q 'Xen.*0x00000012' &&
		mv "$vmlinux.tmp" "$vmlinux"
	local rc=$?
	rm -f "$vmlinux.tmp"
	return $rc
}
(
	flock 9
	if [ ! -s "$initrd" ] || [ "$top/tests/vm/init.c" -nt "$initrd" ] || [ "$0" -nt "$initrd" ]; then
		build_initrd || exit 1
	fi
	if [ ! -s "$vmlinux" ] || [ "/boot/vmlinuz-$kver" -nt "$vmlinux" ]; then
		extract_vmlinux || true
	fi
	exit 0
) 9>"$vmdir/.lock" || fail "building the initramfs failed"
kernel=/boot/vmlinuz-$kver
[ -s "$vmlinux" ] && kernel=$vmlinux

if [ -n "$insncount" ]; then
	src=$top/../shared/tools/qemu-insncount
	[ -r "$src/insncount.c" ] || fail "$src not found"
	mkdir -p "$vmdir/insncount"
	make -s -C "$vmdir/insncount" -f "$src/Makefile" VPATH="$src" >&2 ||
		fail "building qemu-insncount failed"
	plugin=$vmdir/insncount/insncount.so
	plugin_log=$insncount
	smp=1
fi

job=$(mktemp -d "$vmdir/jobs/job.XXXXXX") || fail "mktemp"
qpidfile=$job/qemu.pid
nonce=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
cleanup() {
	local pid
	pid=$(cat "$qpidfile" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		sleep 1
		kill -KILL "$pid" 2>/dev/null
	fi
	[ "${SIPNAT_VM_KEEP:-0}" = 1 ] || rm -rf "$job"
}
trap cleanup EXIT
trap 'exit 124' INT TERM HUP

interactive=0
[ -t 0 ] && [ -t 1 ] && interactive=1

# Files are staged inside the job directory: the guest cannot see the host's /tmp if a
# caller's path is on a filesystem the overlay hides, and the copy pins the content.
mkdir -p "$job/files"
n=0
{
	echo "#!/bin/bash"
	echo "# Job script generated by tests/vm/boot.sh; run by the guest's PID 1."
	printf 'cd %q || exit 126\n' "$PWD"
	printf 'export SIPNAT_VM=1 SIPNAT_KVER=%q\n' "$kver"
	[ -n "$insncount" ] && printf 'export SIPNAT_MARK=%q\n' "$vmdir/insncount/mark"
	echo 'ip link set lo up'
	# Without a terminal nobody types on the console: give the command EOF, not a hang.
	[ $interactive = 1 ] || echo 'exec </dev/null'
	# One modprobe for all: each exec costs a lot under TCG.  Report what is missing.
	printf 'mods=$(sed -n %q %q)\n' 's/^\([^#[:space:]][^[:space:]]*\).*/\1/p' "$top/tests/vm/modules"
	echo 'modprobe -q -a $mods'
	echo 'missing=""; for m in $mods; do [ -d "/sys/module/$m" ] || missing="$missing $m"; done'
	echo '[ -n "$missing" ] && echo "vm: modules not loaded:$missing"'
	for f in "${files[@]+"${files[@]}"}"; do
		hp=${f%%:*}
		gp=${f#*:}
		[ "$gp" = "$f" ] && gp=$hp
		case $gp in /*) ;; *) gp=$PWD/$gp ;; esac
		cp -a "$hp" "$job/files/$n" || fail "--file $hp: cannot read"
		printf 'mkdir -p %q && cp -a %q %q || exit 126\n' "$(dirname "$gp")" "$job/files/$n" "$gp"
		n=$((n + 1))
	done
	for k in "${kmods[@]+"${kmods[@]}"}"; do
		cp "$k" "$job/files/$n.ko" || fail "--kmod $k: cannot read"
		printf 'insmod %q || { echo "FAIL: insmod %q"; exit 1; }\n' "$job/files/$n.ko" "$k"
		n=$((n + 1))
	done
	printf 'echo "vm: kernel $(uname -r), $(nproc) cpu, up $(cut -d" " -f1 /proc/uptime)s"\n'
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$job/run.sh" || fail "cannot write $job/run.sh"


qemu=(qemu-system-x86_64 -accel tcg -smp "$smp" -m "$mem"
	-nodefaults -no-user-config -display none -no-reboot -pidfile "$qpidfile"
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 panic_on_warn=1 oops=panic quiet loglevel=4 sipnat.job=$job/run.sh sipnat.nonce=$nonce"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot")
if [ $interactive = 1 ]; then
	qemu+=(-serial mon:stdio)
else
	qemu+=(-serial stdio)
fi
qemu+=(-serial "file:$job/result")
if [ -n "$plugin" ]; then
	qemu+=(-plugin "$plugin" -d plugin -D "${plugin_log:-$vmdir/plugin.log}")
fi
# shellcheck disable=SC2206
[ -n "${SIPNAT_VM_QEMU_ARGS:-}" ] && qemu+=(${SIPNAT_VM_QEMU_ARGS})

start=$(date +%s)
if [ $interactive = 1 ]; then
	# The terminal's foreground group must stay QEMU's, hence --foreground.
	if [ $timeout_set = 1 ]; then
		timeout --foreground -k 5 "$timeout" "${qemu[@]}"
	else
		"${qemu[@]}"
	fi
	qrc=$?
else
	# timeout(1) kills QEMU by its PID; the trap above covers our own death.
	{ timeout -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1; echo $? >"$job/qemu.rc"; } |
		sed -u "s/\r//g" &
	wait $!
	qrc=$(cat "$job/qemu.rc" 2>/dev/null || echo 1)
fi
elapsed=$(($(date +%s) - start))

line=$(grep -a '^SIPNAT-VM-EXIT ' "$job/result" 2>/dev/null | tail -1 | tr -d '\r')
case $line in
"SIPNAT-VM-EXIT nonce=$nonce status="[0-9]*)
	status=${line##*status=}
	echo "vm: guest exited with status $status after ${elapsed}s" >&2
	exit "$status"
	;;
esac
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "vm: timeout after ${timeout}s, QEMU killed" >&2
	exit 124
fi
echo "vm: no result from the guest after ${elapsed}s (QEMU exit $qrc): panic, WARN or init failure" >&2
exit 125
