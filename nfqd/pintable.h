/* pintable.h - the set of pinholes the dialogs want, each with a
 * reference count, and the intents that keep the kernel in step with it.
 *
 * Owns: which distinct pinholes exist (two dialogs on one flow share one:
 * ending either must not close the other's media), what the kernel has
 * been told, and the intents that did not fit in the caller's array.
 * Must not: know SIP or SDP, make kernel calls.  Used by dialog.c only.
 */
#ifndef SIPNAT_PINTABLE_H
#define SIPNAT_PINTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dialog.h"

/* Where intents go during one call; n counts those written. */
struct pin_emit {
	struct pin_intent *out;
	size_t max, n;
	uint32_t timeout_s;	/* put into every PIN_OPEN */
};

struct pintable_stats {
	uint64_t opened;	/* PIN_OPEN for a pinhole the kernel lacked */
	uint64_t closed;
	uint64_t deferred;	/* queued because out[] was full */
};

struct pintable;

/* NULL with errno ENOMEM.  max: distinct pinholes at most; key: the
 * hash key (see dialog_limits.hash_key). */
struct pintable *pintable_new(size_t max, const uint64_t key[2]);
void pintable_free(struct pintable *pt);

/* Takes a reference (opening the pinhole on the first one, refreshing it
 * otherwise); false when the table is full, nothing taken. */
bool pintable_ref(struct pintable *pt, struct pin_emit *e, const struct pinhole *ph,
		  const char *why);
/* Drops a reference; the last one closes the pinhole. */
void pintable_unref(struct pintable *pt, struct pin_emit *e, const struct pinhole *ph,
		    const char *why);
/* Re-emits an open for a pinhole already open (its timeout restarts);
 * best effort, skipped when out[] is full.  When ph's pub differs from
 * the held one: a close of the old and an open with the new pub. */
void pintable_refresh(struct pintable *pt, struct pin_emit *e, const struct pinhole *ph,
		      const char *why);
/* Emits queued intents while out[] has room. */
void pintable_flush(struct pintable *pt, struct pin_emit *e);
bool pintable_pending(const struct pintable *pt);

size_t pintable_count(const struct pintable *pt);	/* with refs > 0 */
void pintable_get_stats(const struct pintable *pt, struct pintable_stats *st);

/* Same protocol, addresses and port (timeout_s ignored). */
bool pinhole_equal(const struct pinhole *a, const struct pinhole *b);

#endif
