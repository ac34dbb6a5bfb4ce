/* masq.h - masquerade for SIP phones: the per-packet glue between the
 * queue loop, the PAT allocator (pat.c), the rewrite core and the kernel
 * maps (pat_nft.c).
 *
 * On the host kernel there is no NFQA_CT, so nfqd cannot learn which port
 * the kernel's masquerade picked; it owns the PAT for phones in a
 * `masquerade` network instead:
 *   out (phone -> outside, seen before SNAT): lease a public port for the
 *     packet's source endpoint, rewrite with a one-entry map (private
 *     ip:sport <-> public ip:leased port); if the SDP names media of the
 *     phone, lease an even/odd pair per stream and rewrite again with the
 *     pairs; program snat+dnat map elements for all of them before the
 *     verdict;
 *   in (outside -> phone, seen after DNAT): the same entry from the lease
 *     of the destination endpoint, with the phone's media leases as pairs.
 * Owns: that sequence.  Must not: look into SIP itself (the core does) or
 * speak netlink (pat_nft.c does).
 */
#ifndef SIPNAT_MASQ_H
#define SIPNAT_MASQ_H

#include "arena.h"
#include "conf.h"
#include "pkt.h"
#include "rewrite.h"

struct masq;

enum masq_dir { MASQ_NONE, MASQ_OUT, MASQ_IN };

/* *out stays NULL when the configuration has no masquerade.  0, or -1
 * with a one-line reason in err.  c must outlive the masq (reload updates
 * it in place; the pool and timeout change only on restart). */
int masq_open(struct masq **out, const struct conf *c, char *err, size_t errlen);
void masq_close(struct masq *m);

/* Which way the packet goes for a masqueraded phone; MASQ_NONE when
 * neither end is in a masquerade network (or both are). */
enum masq_dir masq_dir(const struct masq *m, const struct pkt_info *pi);

/* rw_rewrite() for such a packet, with the leases applied and the kernel
 * programmed.  Never fails: without a lease it rewrites with the static
 * map alone. */
void masq_rewrite(struct masq *m, const struct rw_config *cfg, const struct rw_input *in,
		  struct arena *a, struct rw_result *res, uint64_t now_ms);

/* Ends expired leases and removes their elements (bounded per call). */
void masq_expire(struct masq *m, uint64_t now_ms);

struct masq_stats {
	uint64_t leased, lease_failed, kernel_failed;
	size_t active;
};
void masq_get_stats(const struct masq *m, struct masq_stats *st);

#endif
