#!/usr/bin/python3
"""insnprof.py - where each forwarding path spends its instructions.

  insnprof.py LOG OUT COUNT [TOP]

LOG is the insnprof.c plugin's log of a bench-kmod.sh run, OUT the guest's
output of the same run (its "PHASE FLOWS NAME NS" lines, in mark order, and
the "KSYMS <base64 gzip of /proc/kallsyms text symbols>" line).  Prints, per
flow count, the guest instructions per packet of each kernel function (and
of user space as one row) in every path, the reference phase subtracted,
the TOP (25) functions that differ most; COUNT is the packets per round.

Owns: turning translated-block counts into a per-function table.  Must not:
run anything.
"""
import base64
import bisect
import collections
import gzip
import sys

PATHS = ("routing", "conntrack", "flowtable", "fastpath")


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    log, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) == 5 else 25
    phases, ksyms = [], None
    with open(out, errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) == 4 and w[0] == "PHASE":
                phases.append((int(w[1]), w[2]))
            elif len(w) == 2 and w[0] == "KSYMS":
                ksyms = w[1]
    if not phases or not ksyms:
        raise SystemExit("insnprof: no PHASE or KSYMS lines in " + out)
    syms = []
    for line in gzip.decompress(base64.b64decode(ksyms)).decode().splitlines():
        w = line.split()
        if len(w) >= 3:
            syms.append((int(w[0], 16), w[2] + (" " + w[3] if len(w) > 3 else "")))
    syms.sort()
    addrs = [a for a, _ in syms]

    def name(va):
        if va < 0xFFFF800000000000:
            return "(user space)"
        i = bisect.bisect_right(addrs, va) - 1
        return syms[i][1] if i >= 0 else "?"

    # Mark 2k+2 closes phase k; a phase's rounds are added up.
    per = collections.defaultdict(collections.Counter)
    rounds = collections.Counter(phases)
    cache = {}
    with open(log) as f:
        for line in f:
            if not line.startswith("TB "):
                continue
            _, mark, va, n, execs = line.split()
            mark = int(mark)
            if mark % 2 or mark // 2 > len(phases):
                continue
            va = int(va, 16)
            if va not in cache:
                cache[va] = name(va)
            per[phases[mark // 2 - 1]][cache[va]] += int(n) * int(execs)
    for flows in sorted({fl for fl, _ in phases}):
        ref = per[(flows, "reference")]
        paths = [p for p in PATHS if (flows, p) in per]
        npk = {p: count * rounds[(flows, p)] for p in paths + ["reference"]}
        rows = []
        for fn in set(ref).union(*(per[(flows, p)] for p in paths)):
            d = [per[(flows, p)][fn] / npk[p] - ref[fn] / npk["reference"] for p in paths]
            rows.append((max(abs(x) for x in d), fn, d))
        rows.sort(key=lambda r: -r[0])
        print("\n%d flows: instructions/packet by function, reference subtracted (top %d)"
              % (flows, top))
        print("%-44s" % "function" + "".join("%11s" % p for p in paths))
        for _, fn, d in rows[:top]:
            print("%-44s" % fn[:44] + "".join("%11.0f" % x for x in d))
        print("%-44s" % "(all functions)" +
              "".join("%11.0f" % sum(r[2][i] for r in rows) for i in range(len(paths))))


if __name__ == "__main__":
    main()
