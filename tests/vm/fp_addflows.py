#!/usr/bin/python3
"""fp_addflows.py - adds many sipnat_fp flows at once, for bench-kmod.sh.

  fp_addflows.py FLOWS MATCH_DADDR DPORT0 SADDR SPORT NEW_SADDR [CLOCK_RATE]

Adds FLOWS IPv4 flows: destination MATCH_DADDR, ports DPORT0..DPORT0+FLOWS-1,
from SADDR:SPORT, source rewritten to NEW_SADDR (as nfqd programs an
outbound media stream), with an RTP clock rate if given.  Requests go out
100 per send(); prints "added N" and exits 0 only if every one was acked
with success.  `nfqd fp add` does one flow per process, which is too slow
for 10k flows in the guest.

Owns: nothing but its own socket.  Must not: run outside a test namespace.
"""
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
# uapi/sipnat_fp.h
CMD_ADD = 1
A_FAMILY, A_MATCH_DADDR, A_MATCH_DPORT, A_MATCH_SADDR, A_MATCH_SPORT = 2, 3, 4, 5, 6
A_NEW_SADDR, A_CLOCK_RATE = 7, 14
BATCH = 100


def attr(t, v):
    a = struct.pack("=HH", 4 + len(v), t) + v
    return a + b"\0" * (-len(a) % 4)


def msg(ftype, cmd, flags, seq, payload):
    body = struct.pack("=BBH", cmd, 1, 0) + payload
    return struct.pack("=IHHII", 16 + len(body), ftype, flags, seq, 0) + body


def acks(s, want):
    """Reads acks until `want` arrived; returns the non-zero error codes."""
    errs = []
    while want:
        data = s.recv(1 << 20)
        off = 0
        while off + 16 <= len(data):
            ln, ty = struct.unpack_from("=IH", data, off)
            if ln < 16:
                raise SystemExit("fp_addflows: bad netlink message")
            if ty == NLMSG_ERROR:
                want -= 1
                err = struct.unpack_from("=i", data, off + 16)[0]
                if err:
                    errs.append(err)
            off += (ln + 3) & ~3
    return errs


def main():
    if len(sys.argv) not in (7, 8):
        raise SystemExit(__doc__)
    flows, dport0, sport = int(sys.argv[1]), int(sys.argv[3]), int(sys.argv[5])
    daddr, saddr, nsaddr = (socket.inet_aton(a) for a in (sys.argv[2], sys.argv[4], sys.argv[6]))
    clock = int(sys.argv[7]) if len(sys.argv) == 8 else 0
    if flows <= 0 or dport0 + flows - 1 > 65535:
        raise SystemExit("fp_addflows: bad FLOWS/DPORT0")
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.send(msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST, 1,
               attr(CTRL_ATTR_FAMILY_NAME, b"sipnat_fp\0")))
    data = s.recv(65536)
    fam, off = None, 20
    while off + 4 <= len(data):
        ln, ty = struct.unpack_from("=HH", data, off)
        if ln < 4:
            break
        if ty == CTRL_ATTR_FAMILY_ID:
            fam = struct.unpack_from("=H", data, off + 4)[0]
        off += (ln + 3) & ~3
    if fam is None:
        raise SystemExit("fp_addflows: no sipnat_fp family (module not loaded?)")
    fixed = (attr(A_FAMILY, struct.pack("=H", socket.AF_INET)) + attr(A_MATCH_DADDR, daddr) +
             attr(A_MATCH_SADDR, saddr) + attr(A_MATCH_SPORT, struct.pack(">H", sport)) +
             attr(A_NEW_SADDR, nsaddr))
    if clock:
        fixed += attr(A_CLOCK_RATE, struct.pack("=I", clock))
    added = 0
    for start in range(0, flows, BATCH):
        n = min(BATCH, flows - start)
        s.send(b"".join(msg(fam, CMD_ADD, NLM_F_REQUEST | NLM_F_ACK, 2 + start + i,
                            fixed + attr(A_MATCH_DPORT, struct.pack(">H", dport0 + start + i)))
                        for i in range(n)))
        errs = acks(s, n)
        if errs:
            raise SystemExit("fp_addflows: %d errors, first %d" % (len(errs), errs[0]))
        added += n
    print("added %d" % added)


if __name__ == "__main__":
    main()
