#!/usr/bin/python3
"""fp_pkt.py - crafted RTP/UDP senders and a checking receiver for test-kmod.sh.

  fp_pkt.py send SRC SPORT DST DPORT [--count N] [--seq S] [--gap-at I:K]
                 [--ttl T] [--interval S] [--ssrc X] [--frag] [--options]
      IPv4 or IPv6 packets built byte by byte (raw socket, header included),
      so the UDP checksum on the wire is complete: the receiver can check
      what the router made of it.  --gap-at I:K skips K sequence numbers
      after the I-th packet.  --frag sets IPv4 "more fragments", --options
      adds an IPv4 NOP option: packets the fast path must leave alone.
  fp_pkt.py recv IFACE DPORT --ready FILE [--timeout S] [--count N]
      Captures on IFACE (AF_PACKET) the UDP datagrams to DPORT that arrive,
      checks IPv4 header and UDP checksums, and prints one line:
      got=N bad_csum=N ttl=T[,T...] src=A:P[,...] dst=A:P[,...] dscp=D[,...]
      A UDP socket bound to DPORT absorbs the datagrams (no ICMP errors).

Owns: packet bytes for the kmod guest test.  Must not: send anywhere but to
the addresses given (the test's namespaces).
"""
import argparse
import os
import select
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp(src, dst, sport, dport, payload, v6):
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    if v6:
        pseudo = src + dst + struct.pack("!I3xB", length, 17)
    else:
        pseudo = src + dst + struct.pack("!xBH", 17, length)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def cmd_send(a):
    v6 = ":" in a.src
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    src, dst = socket.inet_pton(fam, a.src), socket.inet_pton(fam, a.dst)
    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if not v6:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    gap_at, gap = (int(x) for x in a.gap_at.split(":")) if a.gap_at else (-1, 0)
    seq, ts = a.seq, 1000
    for i in range(a.count):
        rtp = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts, a.ssrc) + bytes(160)
        seg = udp(src, dst, a.sport, a.dport, rtp, v6)
        if v6:
            pkt = struct.pack("!IHBB", 6 << 28, len(seg), 17, a.ttl) + src + dst + seg
        else:
            opts = b"\x01\x01\x01\x00" if a.options else b""
            ihl = 5 + len(opts) // 4
            frag = 0x2000 if a.frag else 0
            h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(seg), i & 0xFFFF,
                            frag, a.ttl, 17, 0, src, dst) + opts
            h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
            pkt = h + seg
        s.sendto(pkt, (a.dst, 0))
        seq += 1 + (gap if i == gap_at else 0)
        ts += 160
        if a.interval:
            time.sleep(a.interval)
    print("sent=%d" % a.count)


def check(frame, dport):
    """(ok, ttl, src, dst, dscp) for a UDP datagram to dport, else None."""
    eth_type = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if eth_type == 0x0800 and len(p) >= 28 and p[9] == 17:
        ihl = (p[0] & 15) * 4
        total = struct.unpack("!H", p[2:4])[0]
        p = p[:total]
        seg = p[ihl:]
        if struct.unpack("!H", seg[2:4])[0] != dport:
            return None
        ok = csum(p[:ihl]) == 0
        if struct.unpack("!H", seg[6:8])[0]:
            ok = ok and csum(p[12:20] + struct.pack("!xBH", 17, len(seg)) + seg) == 0
        src = "%s:%d" % (socket.inet_ntop(socket.AF_INET, p[12:16]), struct.unpack("!H", seg[0:2])[0])
        dst = "%s:%d" % (socket.inet_ntop(socket.AF_INET, p[16:20]), dport)
        return ok, p[8], src, dst, p[1] >> 2
    if eth_type == 0x86DD and len(p) >= 48 and p[6] == 17:
        seg = p[40:40 + struct.unpack("!H", p[4:6])[0]]
        if struct.unpack("!H", seg[2:4])[0] != dport:
            return None
        ok = csum(p[8:40] + struct.pack("!I3xB", len(seg), 17) + seg) == 0
        src = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, p[8:24]), struct.unpack("!H", seg[0:2])[0])
        dst = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, p[24:40]), dport)
        tc = (struct.unpack("!I", p[0:4])[0] >> 20) & 0xFF
        return ok, p[7], src, dst, tc >> 2
    return None


def cmd_recv(a):
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    cap.bind((a.iface, 0))
    sinks = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        u.bind((addr, a.dport))
        u.setblocking(False)
        sinks.append(u)
    with open(a.ready, "w") as f:
        f.write("ready\n")
    got = bad = 0
    ttl, src, dst, dscp = set(), set(), set(), set()
    end = time.monotonic() + a.timeout
    while got < a.count and time.monotonic() < end:
        r, _, _ = select.select([cap] + sinks, [], [], max(0.0, end - time.monotonic()))
        for s in r:
            if s is not cap:
                try:
                    s.recv(4096)
                except BlockingIOError:
                    pass
                continue
            frame, addr = cap.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            res = check(frame, a.dport)
            if res is None:
                continue
            got += 1
            bad += not res[0]
            ttl.add(str(res[1]))
            src.add(res[2])
            dst.add(res[3])
            dscp.add(str(res[4]))
    print("got=%d bad_csum=%d ttl=%s src=%s dst=%s dscp=%s" % (
        got, bad, ",".join(sorted(ttl)), ",".join(sorted(src)),
        ",".join(sorted(dst)), ",".join(sorted(dscp))))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("src")
    s.add_argument("sport", type=int)
    s.add_argument("dst")
    s.add_argument("dport", type=int)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--seq", type=int, default=100)
    s.add_argument("--gap-at")
    s.add_argument("--ttl", type=int, default=64)
    s.add_argument("--interval", type=float, default=0)
    s.add_argument("--ssrc", type=lambda x: int(x, 0), default=0x5151)
    s.add_argument("--frag", action="store_true")
    s.add_argument("--options", action="store_true")
    r = sub.add_parser("recv")
    r.add_argument("iface")
    r.add_argument("dport", type=int)
    r.add_argument("--ready", required=True)
    r.add_argument("--timeout", type=float, default=5)
    r.add_argument("--count", type=int, default=1 << 30)
    a = ap.parse_args()
    (cmd_send if a.cmd == "send" else cmd_recv)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
