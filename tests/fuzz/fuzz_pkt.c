/* fuzz_pkt.c - libFuzzer target for pkt.c, the headers around every queued
 * packet.
 *
 * Input: byte 0 picks the mode.  Odd: the rest is a raw packet for
 * pkt_parse().  Even: the rest is a UDP payload wrapped in an IPv4 or IPv6
 * header (bit 1; bit 2 adds an IPv6 hop-by-hop header), so the rebuild path
 * gets well-formed packets of every size whatever the seeds are.
 * Whenever a packet parses, it is rebuilt with its own payload and with a
 * shorter and a longer one; each result must parse again, carry exactly
 * that payload and pass pkt_verify_checksums().  Findings: crashes,
 * sanitizer reports, a broken invariant (abort).
 *
 * Owns: nothing the daemon uses.  Must not: write files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t in[PKT_MAX + 64], out[PKT_MAX + 64], pay[70000];

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_pkt: %s\n", what);
		abort();
	}
}

static void rebuild(const uint8_t *pkt, const struct pkt_info *pi, const uint8_t *p, size_t plen)
{
	struct pkt_info po;
	size_t n = pkt_rebuild(pkt, pi, p, plen, out, sizeof(out));

	if (n == 0) {
		/* only refusing what cannot fit the length fields */
		check(pi->payload_off + plen > 65535 || 8 + plen > 65535 ||
		      (pi->family == AF_INET6 && pi->payload_off + plen - 40 > 65535) ||
		      pi->payload_off + plen > sizeof(out), "rebuild refused a packet that fits");
		return;
	}
	check(n == pi->payload_off + plen, "rebuilt length");
	check(pkt_parse(out, n, &po) == PKT_OK, "rebuilt packet does not parse");
	check(po.payload_len == plen && po.payload_off == pi->payload_off, "rebuilt offsets");
	check(memcmp(out + po.payload_off, p, plen) == 0, "rebuilt payload differs");
	check(pkt_verify_checksums(out, &po) == 0, "rebuilt checksums");
	check(memcmp(out + 6, pkt + 6, pi->l4_off - 6) == 0 || pi->family == AF_INET,
	      "IPv6 headers changed beyond the payload length");
}

static size_t wrap(const uint8_t *p, size_t plen, uint8_t mode)
{
	size_t off = 0, ulen = 8 + plen;

	memset(in, 0, 48 + 8);
	if (!(mode & 2)) {
		in[0] = 0x45;
		in[2] = (uint8_t)((20 + ulen) >> 8);
		in[3] = (uint8_t)(20 + ulen);
		in[8] = 64;
		in[9] = 17;
		memcpy(in + 12, "\x0a\x00\x00\x05\xcb\x00\x71\x09", 8);
		off = 20;
	} else {
		size_t ext = (mode & 4) ? 8 : 0;

		in[0] = 0x60;
		in[4] = (uint8_t)((ext + ulen) >> 8);
		in[5] = (uint8_t)(ext + ulen);
		in[6] = ext ? 0 : 17;
		in[7] = 64;
		in[8] = 0xfd;
		in[23] = 5;
		in[24] = 0x20;
		in[25] = 0x01;
		in[39] = 9;
		off = 40;
		if (ext) {
			in[40] = 17;
			in[42] = 1;	/* PadN option filling the header */
			in[43] = 4;
			off = 48;
		}
	}
	in[off] = 0x13;
	in[off + 1] = 0xc6;	/* 5062 */
	in[off + 2] = 0x13;
	in[off + 3] = 0xc4;	/* 5060 */
	in[off + 4] = (uint8_t)(ulen >> 8);
	in[off + 5] = (uint8_t)ulen;
	memcpy(in + off + 8, p, plen);
	return off + ulen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	size_t len;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		len = size - 1 < sizeof(in) ? size - 1 : sizeof(in);
		memcpy(in, data + 1, len);
	} else {
		size_t plen = size - 1 < 65000 ? size - 1 : 65000;

		len = wrap(data + 1, plen, data[0]);
		check(pkt_parse(in, len, &pi) == PKT_OK, "wrapped packet does not parse");
	}
	if (pkt_parse(in, len, &pi) != PKT_OK)
		return 0;
	check(pi.payload_off <= pi.ip_len && pi.ip_len <= len &&
	      pi.payload_off + pi.payload_len == pi.ip_len, "parsed offsets outside the packet");
	memcpy(pay, in + pi.payload_off, pi.payload_len);
	rebuild(in, &pi, pay, pi.payload_len);
	rebuild(in, &pi, pay, pi.payload_len / 2);
	memcpy(pay + pi.payload_len, pay, pi.payload_len < 1000 ? pi.payload_len : 1000);
	rebuild(in, &pi, pay, pi.payload_len + (pi.payload_len < 1000 ? pi.payload_len : 1000));
	return 0;
}
