/* pat.h - port address translation: leases of public ports for private
 * endpoints behind one public address (masquerade), for the SIP phones
 * whose signalling and media nfqd translates itself.
 *
 * Owns: which public port of the pool belongs to which private endpoint
 * (address, port, l4 protocol), for how long.  Pure: no I/O, no clock
 * (time is an argument), no kernel; the caller programs the kernel with
 * what it gets back (nft dnat/snat map elements, conntrack expectations)
 * and tells the allocator when a lease is to go.
 *
 * Guarantees:
 *   - stable: while a lease lives, the same private endpoint gets the same
 *     public port (and get() refreshes it);
 *   - no clashes: one public port (per protocol pool) is leased to at most
 *     one private endpoint at a time;
 *   - bounded: the pool is [lo, hi]; nothing is allocated after pat_new();
 *     when the pool is full get() fails (0) rather than evicting a live
 *     lease;
 *   - RTP/RTCP: pat_get_pair() leases an even public port P for (a, p) and
 *     P+1 for (a, p+1) together (RFC 3550 11: RTCP on the next odd port);
 *   - expired leases are reused only after pat_expire() handed them back,
 *     so the caller always learns about a lease it has to remove from the
 *     kernel before that port is handed out again.
 * One pool serves UDP and TCP separately: the key includes the protocol
 * and so does the public side (UDP 40000 and TCP 40000 are two leases).
 */
#ifndef SIPNAT_PAT_H
#define SIPNAT_PAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct pat_key {
	struct sn_addr addr;	/* private address */
	uint16_t port;		/* private port */
	uint8_t proto;		/* IPPROTO_UDP / IPPROTO_TCP */
};

struct pat_lease {
	struct pat_key key;
	uint16_t pub_port;
	uint64_t expires_ms;
};

struct pat_conf {
	uint16_t lo, hi;	/* public port pool, lo <= hi */
	uint32_t ttl_s;		/* lease lifetime from its last get() */
};

struct pat;

/* NULL on a bad pool (lo == 0, hi < lo) or out of memory. */
struct pat *pat_new(const struct pat_conf *c);
void pat_free(struct pat *p);

/* The public port of k, leased now or refreshed (expiry now + ttl).
 * *is_new (optional) says it was leased by this call, so the kernel needs
 * it.  0 when the pool has no free port for k's protocol. */
uint16_t pat_get(struct pat *p, const struct pat_key *k, uint64_t now_ms, bool *is_new);

/* RTP and RTCP: k and k with port + 1 get public P (even) and P + 1.  An
 * existing lease of either keeps its port when it already fits the pair
 * (so a re-offer keeps both); otherwise both move to a fresh pair.
 * Returns P, or 0 (pool full, or k->port is 65535).  *is_new as above,
 * for either of the two. */
uint16_t pat_get_pair(struct pat *p, const struct pat_key *k, uint64_t now_ms, bool *is_new);

/* Lookups without refreshing: the public port of k (0: none), and the
 * private endpoint behind a public port (false: none).  Expired leases
 * not yet handed back by pat_expire() still count. */
uint16_t pat_lookup(const struct pat *p, const struct pat_key *k);
bool pat_by_pub(const struct pat *p, uint16_t pub_port, uint8_t proto, struct pat_key *out);

/* Every live lease of one private address and protocol (at most max),
 * e.g. to map a phone's media ports in a message towards it.  Returns how
 * many were written. */
size_t pat_leases_of(const struct pat *p, const struct sn_addr *a, uint8_t proto,
		     struct pat_lease *out, size_t max);

/* Ends k's lease now (dialog or registration over).  true if there was one;
 * *out (optional) gets it, so the caller removes it from the kernel. */
bool pat_release(struct pat *p, const struct pat_key *k, struct pat_lease *out);

/* Hands back at most max leases whose expiry passed and frees their
 * ports.  Returns how many were written to out. */
size_t pat_expire(struct pat *p, uint64_t now_ms, struct pat_lease *out, size_t max);

/* An opaque stamp per live lease, for the caller (masq.c: when it last
 * programmed the kernel for it).  0 on a new lease and when k has none;
 * setting it on a key without a lease does nothing. */
uint64_t pat_stamp(const struct pat *p, const struct pat_key *k);
void pat_set_stamp(struct pat *p, const struct pat_key *k, uint64_t v);

size_t pat_count(const struct pat *p);

#endif
