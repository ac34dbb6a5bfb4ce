#!/bin/bash
# test-corpus.sh - every message of ../shared/corpus/sip through `nfqd rewrite`,
# both directions, with the map in map.args.
#
# For each message and direction (one PASS:/FAIL: line each) it proves:
#  1. nfqd rewrite exits 0, no crash, no sanitizer report, and forwards exactly
#     the bytes of the core (rwcheck runs the same core in-process and checks
#     tests/fuzz/rw_check.h: out is the input with exactly the listed spans
#     replaced, Content-Length follows the body, a second pass changes nothing,
#     no replacement carries an address of the side the message leaves);
#  2. the --explain edit lines name exactly those spans and texts;
#  3. no Contact, Record-Route, SDP o= or c= of a parsed message keeps a
#     mapped address of the side it leaves;
#  4. messages INDEX.tsv calls invalid (torture-invalid, no) pass byte-identical;
#  5. what changed (expected/<name>.<dir>: status, each edit old -> new, media,
#     mapped addresses left and where) and the --explain text
#     (expected/<name>.<dir>.explain) match the reviewed files;
#  6. out, with the map as a config file and --strict: unparsable messages
#     are dropped, all others forwarded as with --map flags;
#  7. the opposite direction undoes every edit (a request's Via and an inbound
#     Route excepted: only the other direction rewrites those), except where
#     roundtrip.skip says why not.
# Then the properties of 1 hold with the other transport and From/To
# rewriting on (no expected files for those).  Then per direction, tshark as
# an independent judge: each valid message, rewritten, dissects as its
# original did (malformed and expert findings, method, status, CSeq, Call-ID,
# URIs, Via, SDP lines compared with every mapped address and all ports
# folded to tokens), and no outbound SDP c= (no inbound one) of a rewritten
# message still holds a mapped private (public) address.
#
# usage: test-corpus.sh [-g] [-s] [NAME-GLOB...]
#   -g  (re)write the expected files from this run; review `git diff` after
#   -s  use the ASan+UBSan build (build-san/); tshark is left to the plain run
# Exit: 0 pass, 1 fail, 4 skip (no corpus, or no tshark for the plain run).
set -u
cd "$(dirname "$0")/../.."
here=tests/corpus
corpus=../shared/corpus/sip
ksft_skip=4

gen=0 san=0
while getopts gs o; do
	case $o in
	g) gen=1 ;;
	s) san=1 ;;
	*) echo "usage: $0 [-g] [-s] [NAME-GLOB...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

if [ ! -f "$corpus/INDEX.tsv" ]; then
	echo "SKIP: corpus $corpus not found (a checkout beside ../shared)"
	exit $ksft_skip
fi

if [ $san = 1 ]; then
	build=build-san
	make -s SAN=1 corpus-bins >/dev/null || { echo "FAIL: make SAN=1 corpus-bins"; exit 1; }
	export ASAN_OPTIONS=abort_on_error=0:exitcode=99:detect_leaks=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98
else
	build=build
	make -s corpus-bins >/dev/null || { echo "FAIL: make corpus-bins"; exit 1; }
fi
nfqd=$build/nfqd/nfqd
rwcheck=$build/tests/rwcheck
tshark_ok=0
if [ $san = 0 ]; then
	if command -v tshark >/dev/null; then
		tshark_ok=1
	else
		echo "SKIP: tshark not installed (the dissector checks need it)"
	fi
fi

[ $gen = 1 ] && mkdir -p $here/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# map arguments, comments and blank lines dropped; one argument per word
mapargs=()
read_args() { # file -> appends to mapargs
	local l
	while IFS= read -r l; do
		l=${l%%#*}
		# shellcheck disable=SC2206
		[ -n "${l// /}" ] && mapargs+=($l)
	done <"$1"
}
read_args $here/map.args
# the same map as nfqd.conf keys ("--map X" -> "map = X")
for ((k = 0; k + 1 < ${#mapargs[@]}; k += 2)); do
	echo "${mapargs[$k]#--} = ${mapargs[$((k + 1))]}"
done >"$tmp/map.conf"

# INDEX.tsv: transport hint and validity per file
declare -A transport valid
while IFS=$'\t' read -r f _ t _ v _; do
	transport[$f]=$t
	valid[$f]=$v
done < <(tail -n +2 "$corpus/INDEX.tsv")

declare -A rtskip
if [ -f $here/roundtrip.skip ]; then
	while read -r n d _; do
		case $n in '' | '#'*) continue ;; esac
		rtskip[$n.$d]=1
	done <$here/roundtrip.skip
fi

ret=0 npass=0 nfail=0
valid_names=()

one() { # file dir
	local f=$1 dir=$2 name base t rc why=()
	base=$(basename "$f")
	name=${base%.sip}
	t=tcp
	case ${transport[$base]:-UDP} in UDP) t=udp ;; esac
	local args=("${mapargs[@]}")
	if [ -f $here/maps/$name.args ]; then
		local save=("${mapargs[@]}")
		mapargs=()
		read_args $here/maps/$name.args
		args+=("${mapargs[@]}")
		mapargs=("${save[@]}")
	fi
	local o=$tmp/$name.$dir
	"$nfqd" rewrite --dir "$dir" --transport $t "${args[@]}" --explain "$f" \
		>"$o.fwd" 2>"$o.explain"
	rc=$?
	[ $rc -ne 0 ] && why+=("nfqd rewrite exit $rc: $(head -c 300 "$o.explain" | tr '\n' ' ')")
	"$rwcheck" --dir "$dir" --transport $t "${args[@]}" --write "$o.core" "$f" \
		>"$o.rec" 2>"$o.err"
	rc=$?
	[ $rc -ne 0 ] && why+=("rwcheck exit $rc: $(head -c 600 "$o.err" | tr '\n' ' ')")
	if [ -f "$o.core" ] && ! cmp -s "$o.fwd" "$o.core"; then
		why+=("nfqd rewrite forwards other bytes than the core produced")
	fi
	case ${valid[$base]:-yes} in
	yes) ;;
	*) cmp -s "$o.fwd" "$f" || why+=("invalid message (${valid[$base]}) was not passed byte-identical") ;;
	esac
	# --explain ("edit WHERE OFF+LEN OLD -> NEW", spaces in WHERE as _)
	# lists exactly the spans the core changed, with the same texts
	if [ -f "$o.core" ] && ! diff <(grep '^edit ' "$o.rec") \
		<(perl -ne 'if (/^edit (\S+) (\d+\+\d+) (.*)$/) { ($w = $1) =~ tr/_/ /; print "edit $2 $w $3\n" }' \
			"$o.explain") >"$o.xdiff"; then
		why+=("--explain does not list the core's edits:$(head -10 "$o.xdiff" | sed 's/^/    /; 1s/^/\n/')")
	fi
	# Via is rewritten out in requests and in in responses, Route only in:
	# the way back leaving those is the policy, anything else must be undone
	local rt
	rt=$(grep -E '^roundtrip (mismatch|extra|kept)' "$o.rec" |
		grep -v -E '^roundtrip kept (via|route)( |$)')
	if [ -n "$rt" ] && [ -z "${rtskip[$name.$dir]:-}" ]; then
		why+=("the opposite direction does not undo the rewrite (not in roundtrip.skip):$(sed 's/^/    /; 1s/^/\n/' <<<"$rt")")
	fi
	# Contact, Record-Route and SDP o=/c= are rewritten in both directions
	# whatever the message: a mapped address of the side the message leaves
	# must not survive there (other headers are the policy's call, and the
	# expected record shows them)
	local left
	if ! grep -q '^status passthrough' "$o.rec"; then
		left=$(grep -E '^left .* in (contact|m|record-route|body c=|body o=)$' "$o.rec")
		[ -n "$left" ] && why+=("mapped address not rewritten:$(sed 's/^/    /; 1s/^/\n/' <<<"$left")")
	fi
	# The same map from a config file, in strict mode: what the core could
	# not parse is dropped (nothing forwarded), everything else is forwarded
	# exactly as with --map flags.
	if [ "$dir" = out ] && [ -f "$o.core" ] && [ ! -f $here/maps/$name.args ]; then
		"$nfqd" rewrite --dir out --transport $t --config "$tmp/map.conf" --strict \
			"$f" >"$o.strict" 2>"$o.serr"
		rc=$?
		if [ $rc -ne 0 ]; then
			why+=("nfqd rewrite --config --strict exit $rc: $(head -c 300 "$o.serr" | tr '\n' ' ')")
		elif grep -q '^status passthrough' "$o.rec"; then
			[ -s "$o.strict" ] && why+=("--strict forwarded a message the core could not parse")
		elif ! cmp -s "$o.strict" "$o.fwd"; then
			why+=("--config --strict forwards other bytes than --map flags")
		fi
	fi
	local e=$here/expected/$name.$dir
	if [ $gen = 1 ]; then
		cp "$o.rec" "$e"
		sed "s|$tmp/||g" "$o.explain" >"$e.explain"
	else
		if [ ! -f "$e" ]; then
			why+=("no $e (write it with -g, then review)")
		elif ! diff -u "$e" "$o.rec" >"$o.diff"; then
			why+=("record differs from $e:$(head -20 "$o.diff" | sed 's/^/    /; 1s/^/\n/')")
		fi
		if [ -f "$e.explain" ] && ! diff -u "$e.explain" "$o.explain" >"$o.diff"; then
			why+=("--explain differs from $e.explain:$(head -20 "$o.diff" | sed 's/^/    /; 1s/^/\n/')")
		fi
	fi
	if [ ${#why[@]} -eq 0 ]; then
		echo "PASS: $dir $name"
		npass=$((npass + 1))
	else
		local w
		for w in "${why[@]}"; do
			echo "FAIL: $dir $name: $w"
		done | tee -a "$tmp/fails"
		nfail=$((nfail + 1))
		ret=1
	fi
}

files=()
for f in "$corpus"/*.sip; do
	base=$(basename "$f" .sip)
	if [ $# -gt 0 ]; then
		m=0
		for g in "$@"; do
			# shellcheck disable=SC2053
			[[ $base == $g ]] && m=1
		done
		[ $m = 1 ] || continue
	fi
	files+=("$f")
done
[ ${#files[@]} -eq 0 ] && { echo "FAIL: no corpus message matches $*"; exit 1; }

for f in "${files[@]}"; do
	for dir in out in; do
		one "$f" $dir
	done
	[ "${valid[$(basename "$f")]:-yes}" = yes ] && valid_names+=("$(basename "$f" .sip)")
done

# ---- variants: the other transport, From/To rewriting on ----
# No expected files: rw_check.h's properties must hold in every setting.
nvar=0 vbad=0
for f in "${files[@]}"; do
	case ${transport[$(basename "$f")]:-UDP} in UDP) t=tcp ;; *) t=udp ;; esac
	for dir in out in; do
		nvar=$((nvar + 1))
		if ! "$rwcheck" --dir $dir --transport $t --rewrite-from-to "${mapargs[@]}" "$f" \
			>/dev/null 2>"$tmp/var.err"; then
			echo "FAIL: variant $dir $t --rewrite-from-to $(basename "$f" .sip):"
			sed 's/^/    /' "$tmp/var.err" | head -5
			vbad=$((vbad + 1))
		fi
	done
done
if [ $vbad -eq 0 ]; then
	echo "PASS: variants: $nvar runs with the other transport and --rewrite-from-to keep every property"
else
	ret=1
fi

# ---- tshark: rewritten valid messages dissect as their originals ----
# Every mapped private or public address, FQDN, and the port after it, becomes
# "<A:n>" (n = its map entry); rport values and media ports (m=, a=rtcp, a
# candidate's port) go too, as --media-ports may move them; Content-Length is
# not compared.  rwcheck and the expected records pin all of those exactly.
normalizer() {
	local i=0 pairs=() a
	for ((k = 0; k < ${#mapargs[@]}; k++)); do
		case ${mapargs[$k]} in
		--map)
			a=${mapargs[$((k + 1))]}
			local priv=${a%%=*} pub=${a#*=}
			i=$((i + 1))
			for x in "$priv" "$pub"; do
				case $x in
				\[*) x=${x#[}; x=${x%%]*} ;;
				*) x=${x%%:*} ;;
				esac
				pairs+=("$x" "$i")
			done
			;;
		--public-name)
			a=${mapargs[$((k + 1))]}
			# the name belongs to the entry whose public address it names
			pairs+=("${a#*=}" "@${a%%=*}")
			;;
		esac
	done
	printf '%s\n' "${pairs[@]}"
}

tshark_fields=(-e _ws.malformed -e _ws.expert.message -e sip.Method -e sip.Status-Code
	-e sip.CSeq -e sip.Call-ID -e sip.r-uri -e sip.Via -e sip.Contact -e sip.Record-Route
	-e sip.Route -e sip.From -e sip.To -e sdp.owner -e sdp.connection_info -e sdp.media
	-e sdp.media_attr)

dissect() { # pcap -> one line per packet
	tshark -n -r "$1" -T fields -E separator='|' -E occurrence=a -E aggregator=, \
		"${tshark_fields[@]}" 2>/dev/null
}

judge() { # dir
	local dir=$1 n origs=() outs=()
	for n in "${valid_names[@]}"; do
		origs+=("$corpus/$n.sip")
		outs+=("$tmp/$n.$dir.fwd")
	done
	"$rwcheck" --pcap "$tmp/orig.pcap" "${origs[@]}" &&
		"$rwcheck" --pcap "$tmp/$dir.pcap" "${outs[@]}" || {
		echo "FAIL: tshark $dir: cannot write the pcaps"
		ret=1
		return
	}
	normalizer >"$tmp/pairs"
	# perl-base is Essential in Debian; one substitution pass per line
	local norm='
		BEGIN { open my $p, "<", $ENV{PAIRS} or die; my @l = map { chomp; $_ } <$p>;
			my (%tok, %pubtok);
			for (my $i = 0; $i < @l; $i += 2) { $tok{lc $l[$i]} = $l[$i+1]; }
			for my $k (keys %tok) { $tok{$k} = $tok{lc substr($tok{$k}, 1)} if $tok{$k} =~ /^@/; }
			our %T = %tok;
			our $re = join "|", map { quotemeta } sort { length $b <=> length $a } keys %tok; }
		s{(?<![0-9A-Za-z.-])($re)(?![0-9A-Za-z-]|\.[0-9A-Za-z]|:[0-9a-fA-F]*:)\]?(?::[0-9]+)?}{"<A:" . $T{lc $1} . ">"}gie;
		s/rport=[0-9]+/rport=/g;
		s/(?<=[|,])(audio|video|image|text|application|message) [0-9]+/$1 P/g;
		s/rtcp:[0-9]+/rtcp:P/g; s/(<A:[^>]*>) [0-9]+/$1 P/g;'
	dissect "$tmp/orig.pcap" | PAIRS=$tmp/pairs perl -pe "$norm" >"$tmp/orig.txt"
	dissect "$tmp/$dir.pcap" | PAIRS=$tmp/pairs perl -pe "$norm" >"$tmp/$dir.txt"
	local want=${#valid_names[@]} got
	got=$(wc -l <"$tmp/$dir.txt")
	if [ "$got" != "$want" ] || [ "$(wc -l <"$tmp/orig.txt")" != "$want" ]; then
		echo "FAIL: tshark $dir: dissected $got packets, wrote $want"
		ret=1
		return
	fi
	local i=0 bad=0 line
	while IFS= read -r line; do
		local o
		o=$(sed -n "$((i + 1))p" "$tmp/orig.txt")
		if [ "$line" != "$o" ]; then
			echo "FAIL: tshark $dir ${valid_names[$i]}: dissects unlike the original"
			diff <(tr '|' '\n' <<<"$o") <(tr '|' '\n' <<<"$line") | sed 's/^/    /' | head -12
			bad=$((bad + 1))
		fi
		i=$((i + 1))
	done <"$tmp/$dir.txt"
	# c= of the side the message leaves
	local side=priv
	[ "$dir" = in ] && side=pub
	local leftc
	leftc=$(tshark -n -r "$tmp/$dir.pcap" -T fields -E occurrence=a -E aggregator=' ' \
		-e frame.number -e sdp.connection_info.address 2>/dev/null |
		while read -r fr addrs; do
			for a in $addrs; do
				for ((k = 0; k < ${#mapargs[@]}; k++)); do
					[ "${mapargs[$k]}" = --map ] || continue
					local s=${mapargs[$((k + 1))]} x
					if [ $side = priv ]; then x=${s%%=*}; else x=${s#*=}; fi
					case $x in \[*) x=${x#[}; x=${x%%]*} ;; *) x=${x%%:*} ;; esac
					local vn=${valid_names[$((fr - 1))]}
					# a message the core passed through was not rewritten
					[ "$a" = "$x" ] && grep -q '^status rewritten' "$tmp/$vn.$dir.rec" &&
						echo "$vn:$a"
				done
			done
		done)
	if [ -n "$leftc" ]; then
		echo "FAIL: tshark $dir: SDP c= still holds a mapped $side address:" $leftc
		bad=$((bad + 1))
	fi
	if [ $bad -eq 0 ]; then
		echo "PASS: tshark $dir: ${#valid_names[@]} valid messages dissect as their originals"
	else
		ret=1
	fi
}

if [ $tshark_ok = 1 ] && [ ${#valid_names[@]} -gt 0 ]; then
	judge out
	judge in
fi

echo "# $npass passed, $nfail failed (message x direction)"
if [ $gen = 0 ] && grep -q 'differs from tests/corpus/expected' "$tmp/fails" 2>/dev/null; then
	echo "# the core's output changed: if that is intended, run tests/corpus/test-corpus.sh -g,"
	echo "# review git diff tests/corpus/expected, and commit it with the core change"
fi
[ $gen = 1 ] && echo "# expected files written to $here/expected/: review them with git diff"
exit $ret
