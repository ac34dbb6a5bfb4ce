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
 * Owns: that sequence, and when a lease ends early.  Must not: look into
 * SIP itself (the core does) or speak netlink (pat_nft.c does).
 *
 * Leases end by pat-timeout after their last use, and earlier by these
 * rules (each release also removes the lease's pat_snat4/pat_dnat4
 * elements at once; the port may be leased again right after):
 *   1. media: a lease of a phone's media port (address, port, protocol)
 *      ends when the last live pinhole towards that port closes (BYE,
 *      CANCEL, a failure or re-offer that drops the stream, a dialog
 *      timeout), and only if that pinhole carried the lease's public port.
 *      Pinholes of every dialog count (patuse.c), so a port another live
 *      dialog of the same phone still uses stays.  The releases of one
 *      batch of intents are decided after the whole batch, so a re-offer
 *      that closes and reopens the same port keeps its lease.
 *   2. the RTCP half of a pair (public port + 1) goes with its RTP half
 *      unless a live pinhole uses it (rtcp-mux streams open none for it).
 *   3. a lease no pinhole ever used (an offer never answered, a call
 *      refused before any answer) ends by timeout only.
 *   4. signalling: a phone's signalling lease ends when a 2xx answers its
 *      de-registration (a REGISTER from that endpoint ending all its
 *      bindings: Expires: 0 / ;expires=0, same Call-ID and CSeq), once the
 *      phone's address has no live pinhole and no other lease (media of a
 *      call, or another signalling port).  If it still has one, the check
 *      is repeated each tick until it has none; any other message from the
 *      phone's signalling endpoint first cancels it.
 *   5. nothing is released while patuse.c is lossy (full): timeouts only.
 * And one the other way: a media lease with a live pinhole is kept alive
 * (refreshed every quarter pat-timeout, its elements renewed) however long
 * the call goes without SIP; the dialog's own timeouts bound that.
 */
#ifndef SIPNAT_MASQ_H
#define SIPNAT_MASQ_H

#include "arena.h"
#include "conf.h"
#include "pinhole.h"
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

/* Ends expired leases and removes their elements (bounded per call);
 * retries the signalling releases rule 4 left pending. */
void masq_expire(struct masq *m, uint64_t now_ms);

/* The dialog layer's pinhole intents, each as the backend got it (opens
 * and closes, refreshes included); then masq_pins_done() once per batch,
 * which applies rules 1 and 2. */
void masq_pin(struct masq *m, bool open, const struct pinhole *ph);
void masq_pins_done(struct masq *m);

struct masq_stats {
	uint64_t leased, lease_failed, kernel_failed;
	uint64_t released_media, released_signalling;	/* before their timeout */
	size_t active;
};
void masq_get_stats(const struct masq *m, struct masq_stats *st);

#endif
