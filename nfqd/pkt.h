/* pkt.h - the IP and UDP headers of one queued packet.
 *
 * Owns: finding the UDP payload in an IPv4 or IPv6 packet (bounded and
 * checked), and building the packet again around a new payload with the
 * IP/UDP lengths and checksums fixed.
 * Must not: know SIP, allocate, or do I/O.  The caller owns every buffer.
 *
 *   IPv4:  | IPv4 hdr (ihl*4) | UDP hdr 8 | payload |
 *   IPv6:  | IPv6 hdr 40 | ext hdrs (hop-by-hop, dest opts, routing
 *            with segments left 0, atomic fragment) | UDP hdr 8 | payload |
 */
#ifndef SIPNAT_PKT_H
#define SIPNAT_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Why a packet's payload cannot be handed to the core.  Keep
 * pkt_status_name() in step. */
enum pkt_status {
	PKT_OK = 0,
	PKT_SHORT,		/* shorter than the headers it announces */
	PKT_BAD_VERSION,	/* neither IPv4 nor IPv6 */
	PKT_BAD_IP_HEADER,	/* IPv4 ihl < 5, length fields that do not add up */
	PKT_FRAGMENT,		/* a fragment (the queue should see reassembled packets) */
	PKT_EXT_HEADER,		/* IPv6 extension header we do not walk */
	PKT_NOT_UDP,
	PKT_BAD_UDP_LENGTH,	/* UDP length disagrees with the IP length */
	PKT__COUNT
};

const char *pkt_status_name(enum pkt_status s);

struct pkt_info {
	int family;		/* AF_INET or AF_INET6 */
	size_t ip_len;		/* the packet's length per its IP header */
	size_t l4_off;		/* offset of the UDP header */
	size_t payload_off;
	size_t payload_len;
	struct sn_endpoint src;
	struct sn_endpoint dst;
};

/* Largest IP packet pkt_rebuild writes (IPv4 total length, or IPv6 40 +
 * payload length, both 16 bits; no jumbograms). */
#define PKT_MAX (65535 + 40)

/* Parses len bytes starting at the IP header.  Bytes past the IP
 * length are ignored.  Returns PKT_OK and fills pi, or the reason. */
enum pkt_status pkt_parse(const uint8_t *buf, size_t len, struct pkt_info *pi);

/* Writes into out the packet pi describes with its UDP payload replaced by
 * payload[0..plen): headers copied, IPv4 total length / IPv6 payload length
 * and UDP length set, IPv4 header checksum and UDP checksum recomputed (an
 * IPv4 UDP checksum of 0, "none", stays 0).  Returns the new length, or 0
 * when it would not fit in cap or exceed the IP length field. */
size_t pkt_rebuild(const uint8_t *pkt, const struct pkt_info *pi,
		   const uint8_t *payload, size_t plen, uint8_t *out, size_t cap);

/* Checks the IPv4 header checksum and the UDP checksum of a parsed packet
 * (for tests and for debugging).  Returns 0 when both hold. */
int pkt_verify_checksums(const uint8_t *buf, const struct pkt_info *pi);

#endif
