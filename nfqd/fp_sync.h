/* fp_sync.h - keeps the sipnat_fp module in step with nfqd's media
 * pinholes: a stream whose two pinholes are open (inbound towards the
 * inside party, outbound towards the outside one) gets its two fast-path
 * flows; closing either pinhole removes them.
 *
 *   pinhole intents (apply_intents) -> fp_sync_pin: pair the pinholes
 *       -> pending changes -> fp_sync_commit: fp_add in, fp_add out
 *          (reverse = in), or fp_del_cookie (both flows of the stream)
 *   1 s tick -> fp_sync_tick: dump our flows, keep their figures for
 *       `nfqd status`, refresh the pinholes of streams the fast path
 *       carries (their packets skip the nft set that would refresh them),
 *       notice flows the module expired (idle) or lost (module unloaded)
 *
 * Owns: the pairing (an outbound pinhole's sport names the inbound one's
 * dport, pinhole.h), one cookie per stream, the flows' last figures.
 * Must not: know SIP or dialogs, speak netlink other than through
 * fastpath.c, or change what the pinhole backend holds except refreshing
 * pinholes that are open.  Without the module it only tracks pinholes.
 */
#ifndef SIPNAT_FP_SYNC_H
#define SIPNAT_FP_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastpath.h"
#include "natmap.h"
#include "pinhole.h"

struct fp_sync_conf {
	const struct natmap *map;	/* for pinholes without pub */
	uint32_t timeout_s;		/* flow idle timeout: media-timeout */
	uint64_t hash_key[2];		/* SipHash key (addresses come off the wire) */
	uint64_t cookie_base;		/* first cookie - 1 (e.g. pid << 32) */
};

struct fp_sync_stats {
	uint64_t streams;		/* gauge: streams whose flows are programmed */
	uint64_t added;			/* streams programmed */
	uint64_t removed;		/* streams removed because a pinhole closed */
	uint64_t expired;		/* streams the module removed for idleness */
	uint64_t failed;		/* adds the module refused */
	uint64_t refreshed;		/* pinhole refreshes for fast-path media */
	uint64_t unpaired;		/* pinholes open without a partner */
};

/* One change for the module, as fp_sync_take returns it. */
struct fp_change {
	bool add;			/* false: remove the flows with cookie */
	uint64_t cookie;
	struct fp_flow in, out;		/* add: the flows (out.reverse_id unset) */
};

struct fp_sync;

/* NULL with errno ENOMEM.  Does not talk to the module (fp_sync_start). */
struct fp_sync *fp_sync_new(const struct fp_sync_conf *c);
/* Closes the module socket: the module removes our flows (they are
 * SIPNAT_FP_F_OWNED) and media takes the normal path, pinholes intact. */
void fp_sync_free(struct fp_sync *s);

/* Opens the module's netlink family.  0; or -1 with errno ENOENT when it
 * is not loaded (then fp_sync_tick looks again every FP_SYNC_PROBE_MS). */
int fp_sync_start(struct fp_sync *s);
bool fp_sync_active(const struct fp_sync *s);

/* Pure: one pinhole opened (or refreshed) or closed.  Queues the changes
 * it calls for; fp_sync_commit sends them. */
void fp_sync_pin(struct fp_sync *s, bool open, const struct pinhole *ph);
/* Pure: the next queued change, false when none.  A taken add counts as
 * programmed (for tests; fp_sync_commit does the same and talks). */
bool fp_sync_take(struct fp_sync *s, struct fp_change *c);
/* Sends the queued changes (or, without the module, drops them). */
void fp_sync_commit(struct fp_sync *s);

/* Every tick (it acts at most once per second): reads our flows' figures,
 * refreshes the pinholes (pin->add) of directions that carried packets
 * since the last refresh, at most every timeout_s / 4. */
void fp_sync_tick(struct fp_sync *s, uint64_t now_ms, const struct pinhole_ops *pin,
		  void *pin_ctx);

/* Pure: what fp_sync_tick does with one flow of a dump (exposed for the
 * tests): records its figures; true when the pinhole of that direction
 * should be refreshed now. */
bool fp_sync_seen(struct fp_sync *s, const struct fp_flow *f, uint64_t now_ms,
		  struct pinhole *refresh);

void fp_sync_get_stats(const struct fp_sync *s, struct fp_sync_stats *st);

/* For `nfqd status`: our flows with their last figures, "fastpath-flow
 * id=... dir=in ..." lines, or (json) the elements of a JSON array
 * without the brackets.  At most FP_SYNC_STATUS_MAX streams.  Returns the
 * length written (whole lines or objects only; always terminated). */
#define FP_SYNC_STATUS_MAX 64
size_t fp_sync_format(const struct fp_sync *s, bool json, char *buf, size_t size);

#define FP_SYNC_PROBE_MS 10000

#endif
