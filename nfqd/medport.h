/* medport.h - public media ports in conntrack helper mode (media-backend
 * expect), where the kernel's NAT (masquerade) picks the signalling ports
 * and nfqd only has to keep the media ports of inside parties apart.
 *
 * Two inside hosts behind one public address that announce the same RTP
 * port would both be advertised as public:that_port; their expectations
 * (peer:* -> public:port) then clash in the kernel (EBUSY) and the second
 * call's media is lost.  This allocator gives each private media endpoint
 * (private address, port, protocol) a public port on its public address:
 *   - its own port when no other private endpoint holds it there (so a
 *     1:1 NAT, or one phone, is forwarded byte for byte as before);
 *   - else a free even/odd pair (RTP, RTCP: RFC 3550 11) from the pool
 *     [lo, hi], or one port for a separate a=rtcp;
 *   - the same port again while the lease lives (a re-offer is stable);
 *     every get refreshes it, leases end ttl_s after their last use;
 *   - a port the kernel refused (medport_refused: EBUSY on the expectation,
 *     someone nfqd does not know holds it) counts as taken for busy_s, so
 *     the next offer of the stream that had it moves elsewhere.
 * Bounded: at most max entries (leases and refused marks), allocated in
 * medport_new(); a search for a free pair tries at most MEDPORT_PROBES
 * candidates; a full table fails (0) rather than evicting a live lease.
 * Pure: no I/O, no clock (time is an argument), no kernel calls.
 */
#ifndef SIPNAT_MEDPORT_H
#define SIPNAT_MEDPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define MEDPORT_PROBES 64

struct medport_conf {
	uint16_t lo, hi;	/* pool of moved ports (pat-ports), lo <= hi */
	uint32_t ttl_s;		/* lease lifetime from its last use */
	uint32_t busy_s;	/* how long a refused port stays taken */
	uint32_t max;		/* entries: leases plus refused marks */
	uint64_t hash_key[2];	/* siphash key (the caller picks it) */
};

struct medport_key {
	struct sn_addr pub;	/* the public address the party appears as */
	struct sn_addr priv;	/* its private address */
	uint16_t port;		/* its private media port */
	uint8_t proto;		/* IPPROTO_UDP / IPPROTO_TCP */
};

struct medport_claim {
	uint16_t priv, pub;
};

struct medport_stats {
	uint64_t moved;		/* leases placed off their private port */
	uint64_t failed;	/* gets that found no port (pool or table full) */
	uint64_t refused;	/* ports the kernel refused (medport_refused) */
	size_t active;		/* live leases */
	size_t busy;		/* live refused marks */
};

struct medport;

/* NULL on a bad conf (lo == 0, hi < lo, max == 0) or out of memory. */
struct medport *medport_new(const struct medport_conf *c);
void medport_free(struct medport *m);

/* RTP and RTCP: public P for k and P + 1 for k with port + 1, leased now
 * or refreshed.  P is k->port when that pair is free on k->pub; otherwise
 * an even pair of the pool.  0 when none is free (or k->port is 0 or
 * 65535). */
uint16_t medport_get_pair(struct medport *m, const struct medport_key *k, uint64_t now_ms);

/* One port (a separate a=rtcp): as medport_get_pair, any free pool port. */
uint16_t medport_get(struct medport *m, const struct medport_key *k, uint64_t now_ms);

/* The leases of one party (pub, priv, proto) whose public port differs
 * from the private one, refreshed (the party is still in use): at most
 * max written to out; returns how many. */
size_t medport_claims(struct medport *m, const struct sn_addr *pub, const struct sn_addr *priv,
		      uint8_t proto, uint64_t now_ms, struct medport_claim *out, size_t max);

/* The kernel refused public port on pub (EBUSY): taken for busy_s.  true
 * when the mark is new (the caller logs it once), false when it was
 * already marked or the table is full. */
bool medport_refused(struct medport *m, const struct sn_addr *pub, uint16_t port, uint8_t proto,
		     uint64_t now_ms);

/* Frees at most max entries whose time passed; returns how many. */
size_t medport_expire(struct medport *m, uint64_t now_ms, size_t max);

void medport_get_stats(const struct medport *m, struct medport_stats *st);

#endif
