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

#include "pinhole.h"
#include "rewrite.h"

struct dialog_limits {
	size_t max_dialogs;		/* whole table */
	size_t max_pinholes_per_dialog;
	size_t max_pinholes;		/* whole table */
	uint32_t media_timeout_s;	/* pinhole element timeout (refreshed) */
	uint32_t setup_timeout_s;	/* dialog without a 2xx */
	uint32_t session_timeout_s;	/* established dialog, no SIP seen */
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

#endif
