/* dialog.h - dialog and media-stream state, offer/answer, and the pinhole
 * intents that follow from it.
 *
 * Owns: dialogs keyed by Call-ID + tags, one stream per m= line, timeouts.
 * Must not: make kernel calls or read the clock (time is an argument).  It
 * returns intents; the caller hands them to a pinhole backend.
 */
#ifndef SIPNAT_DIALOG_H
#define SIPNAT_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include "natmap.h"
#include "pinhole.h"
#include "rewrite.h"

struct dialog_limits {
	size_t max_dialogs;		/* whole table */
	size_t max_pinholes_per_dialog;
	size_t max_pinholes;		/* whole table */
	uint32_t media_timeout_s;	/* pinhole element timeout (refreshed) */
	uint32_t setup_timeout_s;	/* dialog without a 2xx */
	uint32_t session_timeout_s;	/* established dialog, no SIP seen */
	/* Optional: its public addresses never get a pinhole (they are ours),
	 * and an inside party's SDP that already carries one is read as the
	 * private address behind it.  NULL: no such check. */
	const struct natmap *map;
	/* Optional: a random key (getrandom) for the Call-ID and pinhole
	 * hashes, so that keys chosen by a peer cannot make one chain long.
	 * All zero works, predictably. */
	uint64_t hash_key[2];
};

enum pin_op { PIN_OPEN, PIN_CLOSE };

struct pin_intent {
	enum pin_op op;
	struct pinhole ph;
	const char *why;		/* static: "answer", "bye", "timeout", ... */
};

struct dialog_table;

struct dialog_table *dialog_table_new(const struct dialog_limits *lim);
void dialog_table_free(struct dialog_table *t);

/* Feeds one message the core handled (status REWRITTEN or UNCHANGED).
 * Writes at most max intents to out and returns how many. */
size_t dialog_on_message(struct dialog_table *t, enum rw_dir dir,
			 const struct rw_result *r, uint64_t now_ms,
			 struct pin_intent *out, size_t max);

/* Ends dialogs whose timeouts passed; returns the close intents. */
size_t dialog_expire(struct dialog_table *t, uint64_t now_ms,
		     struct pin_intent *out, size_t max);

size_t dialog_count(const struct dialog_table *t);
size_t dialog_pinhole_count(const struct dialog_table *t);

/* Counters since dialog_table_new(), for `nfqd status`. */
struct dialog_stats {
	uint64_t dialogs_created;
	uint64_t dialogs_ended;		/* bye, cancel, failure, timeout */
	uint64_t dialogs_refused;	/* max_dialogs reached, all confirmed */
	uint64_t pins_opened;		/* PIN_OPEN intents for a new pinhole */
	uint64_t pins_closed;
	uint64_t pins_refused_cap;	/* per-dialog or table cap reached */
	uint64_t pins_refused_addr;	/* special or own public address */
	uint64_t intents_deferred;	/* out[] was full; sent on a later call */
	uint64_t ignored;		/* no Call-ID, too long, unknown dialog */
	uint64_t dialogs_evicted;	/* oldest unanswered one, for a new one */
};
void dialog_get_stats(const struct dialog_table *t, struct dialog_stats *st);

/* Intents one message can produce without deferring any: a stream opens
 * at most 4 pinholes per port pair.  Callers pass max >= this; fewer is
 * still correct (the rest is emitted by the next call of either function),
 * only later. */
#define DIALOG_INTENTS_MIN 64

#endif
