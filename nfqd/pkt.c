/* pkt.c - IPv4/IPv6 + UDP parsing and rebuilding; see pkt.h.
 *
 * Owns: header arithmetic and the internet checksum.
 * Must not: look into the payload, allocate, or trust any length field
 * before checking it against the bytes actually there.
 */
#include "pkt.h"

#include <string.h>
#include <sys/socket.h>

static const char *const status_names[PKT__COUNT] = {
	[PKT_OK] = "ok",
	[PKT_SHORT] = "short",
	[PKT_BAD_VERSION] = "bad-ip-version",
	[PKT_BAD_IP_HEADER] = "bad-ip-header",
	[PKT_FRAGMENT] = "fragment",
	[PKT_EXT_HEADER] = "ipv6-ext-header",
	[PKT_NOT_UDP] = "not-udp",
	[PKT_BAD_UDP_LENGTH] = "bad-udp-length",
};

const char *pkt_status_name(enum pkt_status s)
{
	return (unsigned)s < PKT__COUNT ? status_names[s] : "?";
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ones' complement sum of len bytes added to sum, not folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
		/* Fold early so 64 KiB of 0xffff cannot overflow 32 bits. */
		if (sum & 0x80000000u)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	if (i < len)
		sum += (uint32_t)(p[i] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* UDP checksum over the pseudo header and udp_len bytes at udp (whose
 * checksum field is taken as 0). */
static uint16_t udp_csum(const uint8_t *ip, int family, const uint8_t *udp, size_t udp_len)
{
	uint32_t sum = 0;
	uint8_t zero[2] = { 0, 0 };

	if (family == AF_INET) {
		sum = csum_add(sum, ip + 12, 8);
		sum += 17;
		sum += (uint32_t)udp_len;
	} else {
		sum = csum_add(sum, ip + 8, 32);
		sum += (uint32_t)(udp_len >> 16);
		sum += (uint32_t)(udp_len & 0xffff);
		sum += 17;
	}
	sum = csum_add(sum, udp, 6);
	sum = csum_add(sum, zero, 2);
	sum = csum_add(sum, udp + 8, udp_len - 8);
	return csum_fold(sum);
}

static enum pkt_status parse_v4(const uint8_t *b, size_t len, struct pkt_info *pi)
{
	size_t ihl, tot;
	uint16_t frag;

	if (len < 20)
		return PKT_SHORT;
	ihl = (size_t)(b[0] & 0x0f) * 4;
	tot = get16(b + 2);
	if (ihl < 20 || tot < ihl)
		return PKT_BAD_IP_HEADER;
	if (tot > len)
		return PKT_SHORT;
	frag = get16(b + 6);
	if (frag & 0x3fff)	/* MF set or an offset: a fragment */
		return PKT_FRAGMENT;
	if (b[9] != 17)
		return PKT_NOT_UDP;
	pi->family = AF_INET;
	pi->ip_len = tot;
	pi->l4_off = ihl;
	pi->src.addr.family = pi->dst.addr.family = AF_INET;
	memcpy(&pi->src.addr.u.v4, b + 12, 4);
	memcpy(&pi->dst.addr.u.v4, b + 16, 4);
	return PKT_OK;
}

static enum pkt_status parse_v6(const uint8_t *b, size_t len, struct pkt_info *pi)
{
	size_t off = 40, tot;
	uint8_t nh;

	if (len < 40)
		return PKT_SHORT;
	tot = 40 + (size_t)get16(b + 4);
	if (tot == 40 && b[6] == 0)
		return PKT_EXT_HEADER;	/* payload length 0: a jumbogram */
	if (tot > len)
		return PKT_SHORT;
	nh = b[6];
	/* Bounded: each header moves off by at least 8 within tot. */
	for (;;) {
		if (nh == 17)
			break;
		if (nh == 0 || nh == 60 || nh == 43) {
			size_t hlen;

			if (off + 8 > tot)
				return PKT_SHORT;
			hlen = ((size_t)b[off + 1] + 1) * 8;
			if (off + hlen > tot)
				return PKT_SHORT;
			/* A routing header with segments left changes the
			 * destination the checksum is computed for. */
			if (nh == 43 && b[off + 3] != 0)
				return PKT_EXT_HEADER;
			nh = b[off];
			off += hlen;
		} else if (nh == 44) {
			if (off + 8 > tot)
				return PKT_SHORT;
			if (get16(b + off + 2) & 0xfff9)	/* offset or M: a real fragment */
				return PKT_FRAGMENT;
			nh = b[off];
			off += 8;
		} else if (nh == 6 || nh == 58 || nh == 59 || nh == 132) {
			return PKT_NOT_UDP;
		} else {
			return PKT_EXT_HEADER;
		}
	}
	pi->family = AF_INET6;
	pi->ip_len = tot;
	pi->l4_off = off;
	pi->src.addr.family = pi->dst.addr.family = AF_INET6;
	memcpy(&pi->src.addr.u.v6, b + 8, 16);
	memcpy(&pi->dst.addr.u.v6, b + 24, 16);
	return PKT_OK;
}

enum pkt_status pkt_parse(const uint8_t *buf, size_t len, struct pkt_info *pi)
{
	enum pkt_status st;
	size_t ulen;

	memset(pi, 0, sizeof(*pi));
	if (len < 1)
		return PKT_SHORT;
	switch (buf[0] >> 4) {
	case 4:
		st = parse_v4(buf, len, pi);
		break;
	case 6:
		st = parse_v6(buf, len, pi);
		break;
	default:
		return PKT_BAD_VERSION;
	}
	if (st != PKT_OK)
		return st;
	if (pi->l4_off + 8 > pi->ip_len)
		return PKT_SHORT;
	ulen = get16(buf + pi->l4_off + 4);
	/* The UDP length must cover exactly the rest of the IP packet;
	 * trailing padding inside the IP length is not something a SIP
	 * sender produces, and guessing which one is right is worse. */
	if (ulen != pi->ip_len - pi->l4_off)
		return PKT_BAD_UDP_LENGTH;
	pi->src.port = get16(buf + pi->l4_off);
	pi->dst.port = get16(buf + pi->l4_off + 2);
	pi->payload_off = pi->l4_off + 8;
	pi->payload_len = ulen - 8;
	return PKT_OK;
}

size_t pkt_rebuild(const uint8_t *pkt, const struct pkt_info *pi,
		   const uint8_t *payload, size_t plen, uint8_t *out, size_t cap)
{
	size_t hdr = pi->payload_off, total = hdr + plen;
	size_t udp_len = 8 + plen;
	uint8_t *udp;
	uint16_t c;

	if (total > cap || udp_len > 65535)
		return 0;
	if (pi->family == AF_INET ? total > 65535 : total - 40 > 65535)
		return 0;
	memmove(out + hdr, payload, plen);	/* payload may live in out */
	if (out != pkt)
		memcpy(out, pkt, hdr);
	udp = out + pi->l4_off;
	put16(udp + 4, (uint16_t)udp_len);
	if (pi->family == AF_INET) {
		put16(out + 2, (uint16_t)total);
		put16(out + 10, 0);
		put16(out + 10, csum_fold(csum_add(0, out, pi->l4_off)));
		if (get16(udp + 6) == 0)
			return total;	/* sender sent no checksum: keep it so */
	} else {
		put16(out + 4, (uint16_t)(total - 40));
	}
	c = udp_csum(out, pi->family, udp, udp_len);
	put16(udp + 6, c ? c : 0xffff);
	return total;
}

int pkt_verify_checksums(const uint8_t *buf, const struct pkt_info *pi)
{
	const uint8_t *udp = buf + pi->l4_off;
	size_t udp_len = pi->ip_len - pi->l4_off;
	uint16_t want = get16(udp + 6), c;

	if (pi->family == AF_INET) {
		if (csum_fold(csum_add(0, buf, pi->l4_off)) != 0)
			return -1;
		if (want == 0)
			return 0;
	}
	c = udp_csum(buf, pi->family, udp, udp_len);
	return (c ? c : 0xffff) == want ? 0 : -1;
}
