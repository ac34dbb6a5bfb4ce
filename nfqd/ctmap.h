/* ctmap.h - the NAT mapping of one SIP flow, read from its conntrack.
 *
 * With the userspace helper (cthelper.c) every queued packet carries its
 * conntrack (NFQA_CT): the original and reply tuples.  Where they differ the
 * kernel translated: that difference is the whole NAT map this packet
 * needs, so masquerade and port translation work without `map` lines.
 *
 *   orig  10.0.0.10:5060 -> 198.51.100.20:5060    (SNAT: orig.src != reply.dst)
 *   reply 198.51.100.20:5060 -> 203.0.113.10:5060     inside = orig.src
 *
 *   orig  198.51.100.20:5060 -> 203.0.113.5:5060  (DNAT: orig.dst != reply.src)
 *   reply 10.0.0.5:5062 -> 198.51.100.20:5060          inside = reply.src
 *
 * Owns: parsing the NFQA_CT payload (CTA_TUPLE_ORIG/REPLY) and turning the
 * tuples and the packet's direction into the rewrite direction, the
 * endpoints as the forward hook would see them (private inside address,
 * real outside address) and a one-entry natmap.
 * Must not: do I/O or keep state (pure; tests/unit/test_ctmap.c).
 */
#ifndef SIPNAT_CTMAP_H
#define SIPNAT_CTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "natmap.h"
#include "rewrite.h"

struct ct_tuple {
	struct sn_endpoint src, dst;
	uint8_t l4proto;
};

/* Master flow of expectations, as pin_expect.c needs it. */
struct ct_master {
	struct ct_tuple orig;	/* CTA_EXPECT_MASTER */
	/* The conntrack direction (0 original, 1 reply) in which the
	 * outside party sends: CTA_EXPECT_NAT_DIR of inbound media. */
	uint8_t outside_dir;
	struct sn_addr inside;	/* the inside party's private address */
};

struct ctmap_view {
	enum rw_dir dir;		/* RW_OUT: the packet comes from inside */
	struct sn_endpoint src, dst;	/* pre-NAT view for rw_input */
	struct natmap_entry entry;	/* priv <-> pub (ports only if they differ) */
	struct ct_master master;
};

/* Parses the payload of NFQA_CT.  0, or -1 when a tuple is missing or
 * malformed (families differ, lengths wrong). */
int ctmap_parse(const void *ct, size_t len, struct ct_tuple *orig, struct ct_tuple *reply);

/* ctinfo (enum ip_conntrack_info) -> true for packets in the reply
 * direction. */
bool ctmap_is_reply(uint32_t ctinfo);

/* 0 and *v filled, or -1 when the tuples show no translation, or one on
 * both ends (nothing tells inside from outside then). */
int ctmap_view(const struct ct_tuple *orig, const struct ct_tuple *reply, bool pkt_is_reply,
	       struct ctmap_view *v);

#endif
