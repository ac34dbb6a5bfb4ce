/* rw_internal.h - what rewrite.c and sdp_rewrite.c share: the per-call
 * context and the edit/lookup helpers.  Not a public interface.
 *
 * Owns: the context struct of one rw_rewrite() call.
 * Must not: be included outside the rewrite core.
 */
#ifndef SIPNAT_RW_INTERNAL_H
#define SIPNAT_RW_INTERNAL_H

#include "rewrite.h"
#include "sip_scan.h"

#define RW_MAX_EDITS 512	/* edits per message */
#define RW_MAX_MEDIA 64		/* m= lines per message, all parts together */
#define RW_MAX_PARTS 16		/* multipart parts */

struct rw_ctx {
	const struct rw_config *cfg;
	const uint8_t *msg;
	struct arena *a;
	bool out;			/* dir == RW_OUT */
	struct rw_edit *ed;
	size_t n_ed;
	struct rw_media *media;
	size_t n_media;
	int err;			/* enum rw_reason once something failed */
};

/* Records an edit of [off, off+len) with a copy of text. */
void rwc_edit(struct rw_ctx *c, size_t off, size_t len, const char *text, size_t tlen,
	      const char *where);
/* The map entry whose near-side view is this host text (IPv6 may be in
 * brackets); names match only when names_ok and on the way in. */
const struct natmap_entry *rwc_lookup(const struct rw_ctx *c, const uint8_t *p, size_t n,
				      bool names_ok);
/* The far-side view of e's address (the FQDN in SIP headers on the way
 * out when set); returns the length written. */
size_t rwc_fmt_addr(const struct rw_ctx *c, const struct natmap_entry *e, bool sip_header,
		    bool brackets, char *buf, size_t size);

/* sdp_rewrite.c: edits one SDP body and appends its m= lines to c->media. */
void rws_sdp(struct rw_ctx *c, struct ss_span body);

#endif
