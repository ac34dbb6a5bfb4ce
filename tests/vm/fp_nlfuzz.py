#!/usr/bin/python3
"""fp_nlfuzz.py - random requests to the sipnat_fp generic netlink family.

  fp_nlfuzz.py COUNT [SEED]

Sends COUNT requests built from random commands and attribute lists (types
mostly inside the family's range, lengths and values often plausible, so
that the handlers' checks are reached, not only the policy), reads each ack
and prints one line: "sent=N ok=N refused=N errnos=E:N,...".  Exit 0 when
every request got an ack.  Flows it manages to add are flushed at the end.

Owns: nothing but its own socket.  Must not: run outside a test namespace
(it adds and flushes flows of the namespace it runs in).
"""
import errno
import os
import random
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3


def attr(t, v):
    a = struct.pack("=HH", 4 + len(v), t) + v
    return a + b"\0" * (-len(a) % 4)


def msg(ftype, cmd, flags, seq, payload):
    body = struct.pack("=BBH", cmd, 1, 0) + payload
    return struct.pack("=IHHII", 16 + len(body), ftype, flags, seq, 0) + body


def talk(s, m):
    """The error code of the ack (0 = success); other messages skipped."""
    s.send(m)
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            ln, ty = struct.unpack_from("=IH", data, off)
            if ty == NLMSG_ERROR:
                return -struct.unpack_from("=i", data, off + 16)[0]
            if ty == NLMSG_DONE:
                return 0
            off += (ln + 3) & ~3
            if ln < 16:
                return -1


def family(s):
    s.send(msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST, 1,
               attr(CTRL_ATTR_FAMILY_NAME, b"sipnat_fp\0")))
    data = s.recv(65536)
    off = 20
    while off + 4 <= len(data):
        ln, t = struct.unpack_from("=HH", data, off)
        if t == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("=H", data, off + 4)[0]
        off += (ln + 3) & ~3
    sys.exit("no sipnat_fp family")


def value(r, t):
    """A value for attribute type t: usually the right size, sometimes not."""
    if r.random() < 0.05:
        return bytes(r.getrandbits(8) for _ in range(r.choice([0, 1, 2, 3, 5, 8, 17, 40])))
    if t == 2:
        return struct.pack("=H", r.choice([2, 10, 2, 10, 0, 17, 0xFFFF]))
    if t in (3, 5, 7, 9):
        if r.random() < 0.5:
            return bytes([10, r.randrange(3), r.randrange(3), r.randrange(1, 4)])
        return bytes([0xfd] + [r.getrandbits(8) for _ in range(15)])
    if t in (4, 6, 8, 10):
        return struct.pack("!H", r.choice([0, 1, 5000, 65535, r.getrandbits(16)]))
    if t == 12:
        return bytes([r.choice([0, 46, 63, 64, 255])])
    if t in (1, 11, 13, 14, 15, 16):
        return struct.pack("=I", r.choice([0, 1, 2, 3, 4, 7, 60, 86400, 86401,
                                           1000000, 0xFFFFFFFF, r.getrandbits(32)]))
    if t == 17:
        return struct.pack("=Q", r.choice([0, 1, 7, r.getrandbits(64)]))
    if t == 18:
        return attr(r.randrange(12), bytes(8))
    return bytes(r.getrandbits(8) for _ in range(r.randrange(12)))


def main():
    count = int(sys.argv[1])
    r = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.bind((0, 0))
    fam = family(s)
    ok = refused = 0
    errs = {}
    for seq in range(2, count + 2):
        cmd = r.choice([1] * 10 + [2, 2, 3, 3, 4, 5, 0, 200])
        attrs = [2, 3, 4] if r.random() < 0.7 else []
        attrs += [r.randrange(1, 18) if r.random() < 0.9 else r.randrange(0, 25)
                  for _ in range(r.randrange(0, 5))]
        payload = b"".join(attr(t, value(r, t)) for t in attrs)
        if r.random() < 0.05:
            payload = payload[:r.randrange(len(payload) + 1)]	# cut anywhere
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if r.random() < 0.1 else 0)
        e = talk(s, msg(fam, cmd, flags, seq, payload))
        if e == 0:
            ok += 1
        else:
            refused += 1
            name = errno.errorcode.get(e, str(e))
            errs[name] = errs.get(name, 0) + 1
    talk(s, msg(fam, 4, NLM_F_REQUEST | NLM_F_ACK, count + 2, b""))
    print("sent=%d ok=%d refused=%d errnos=%s" % (count, ok, refused,
          ",".join("%s:%d" % kv for kv in sorted(errs.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
