/* rewrite.h - the rewrite core: one SIP message in, the forwarded bytes,
 * the list of edits and what the media streams look like out.
 *
 * Owns: deciding which bytes change between the private and the public view
 * of a static NAT, in SIP headers and SDP bodies (also inside multipart).
 * Must not: do I/O, read a clock, keep state between calls, allocate from
 * anything but the arena it is given, call dialog.c or a pinhole backend.
 * The queue loop, `nfqd rewrite` and the tests all feed this one function.
 *
 *   bytes + dir + transport + packet addresses + map
 *        |
 *     rw_rewrite() ---> out bytes (arena), edits[], sip info, media[]
 *                                                   |
 *                                   dialog.c turns media[] into pinholes
 */
#ifndef SIPNAT_REWRITE_H
#define SIPNAT_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "arena.h"
#include "natmap.h"

enum rw_dir {
	RW_OUT,		/* leaving the NATed side: private -> public view */
	RW_IN,		/* arriving from outside: public -> private view */
};

enum rw_transport { RW_UDP, RW_TCP };

struct rw_config {
	const struct natmap *map;
	bool rewrite_from_to;	/* From/To URIs too (default off) */
	bool strict;		/* unparsable -> drop instead of pass */
};

struct rw_input {
	const uint8_t *msg;
	size_t len;
	enum rw_dir dir;
	enum rw_transport transport;
	struct sn_endpoint src;	/* packet source/destination as seen at the */
	struct sn_endpoint dst;	/* hook; family 0 when unknown (files) */
};

enum rw_status {
	RW_REWRITTEN,	/* out differs from the input */
	RW_UNCHANGED,	/* parsed, nothing of the map in it: out == input */
	RW_PASSTHROUGH,	/* not parsed: out == input, reason says why */
	RW_DROP,	/* strict mode and not parsed: do not forward */
};

/* Why a message was passed through unparsed.  Keep rw_reason_name() and
 * the stats table in step when adding one. */
enum rw_reason {
	RW_OK = 0,
	RW_R_EMPTY,		/* zero bytes, or only CRLF keepalives */
	RW_R_NOT_SIP,		/* start line is neither request nor status */
	RW_R_BAD_START_LINE,	/* looks like SIP, malformed start line */
	RW_R_BAD_HEADER,	/* header line without colon, bad folding, ... */
	RW_R_BAD_VIA,
	RW_R_BAD_CSEQ,
	RW_R_BAD_CONTENT_LENGTH,	/* missing on TCP, unparsable, or larger than the body */
	RW_R_TRUNCATED,		/* no blank line ending the headers */
	RW_R_DUP_HEADER,	/* one-only header repeated with conflicting values */
	RW_R_BAD_SDP,
	RW_R_BAD_MULTIPART,
	RW_R_TOO_BIG,		/* over RW_MAX_MESSAGE */
	RW_R_NO_MEMORY,		/* the arena ran out */
	RW_R_LIBOSIP,		/* libosip2 refused the message */
	RW_R__COUNT
};

const char *rw_reason_name(enum rw_reason r);

#define RW_MAX_MESSAGE 65535

/* One changed span.  off/len index the INPUT message; the output is the
 * input with every span replaced, in order, spans never overlapping. */
struct rw_edit {
	size_t off;
	size_t len;
	const char *text;	/* replacement (arena), text_len bytes */
	size_t text_len;
	const char *where;	/* static: "request-uri", "via", "contact",
				   "record-route", "route", "refer-to", "from",
				   "to", "sdp o=", "sdp c=", "sdp m=", "sdp a=rtcp",
				   "sdp a=candidate", "content-length", ... */
};

enum rw_media_dir { RW_SENDRECV, RW_SENDONLY, RW_RECVONLY, RW_INACTIVE };

/* One m= line, in order of appearance (index = position). */
struct rw_media {
	char type[16];			/* "audio", "video", "image", ... */
	char proto[32];			/* "RTP/AVP", "UDP/TLS/RTP/SAVPF", "TCP/MSRP" */
	uint8_t l4proto;		/* IPPROTO_UDP or IPPROTO_TCP (from proto) */
	struct sn_endpoint orig;	/* effective c= address and m= port, as received */
	struct sn_endpoint rewritten;	/* the same, as forwarded */
	uint16_t nports;		/* m=<port>/<n>; 1 when absent */
	uint16_t rtcp_orig;		/* a=rtcp port as received; 0: none given */
	uint16_t rtcp_rewritten;
	bool rtcp_mux;			/* a=rtcp-mux */
	bool conn_is_name;		/* c= holds an FQDN: no pinhole possible */
	bool hold;			/* c= 0.0.0.0 or :: */
	enum rw_media_dir mdir;		/* a=sendrecv/... (media level over session) */
};

struct rw_sip {
	bool is_request;
	char method[24];		/* request method, or CSeq method of a response */
	int status;			/* 0 for requests */
	uint32_t cseq;
	const char *call_id;		/* NUL-terminated copies in the arena; */
	const char *from_tag;		/* "" when absent */
	const char *to_tag;
	bool has_sdp;			/* an SDP body (plain or a multipart part) */
	size_t n_media;
	struct rw_media *media;		/* n_media entries (arena) */
	/* Top Via sent-by (as received), for rport/received handling and for
	 * telling who sent it. */
	struct sn_endpoint via_sent_by;
	/* A REGISTER that ends every binding it names (RFC 3261 10.2.2):
	 * "Contact: *" with Expires: 0, or Contacts that each carry
	 * ;expires=0 or, lacking it, fall back on Expires: 0.  A REGISTER
	 * without Contact (a query) is not one. */
	bool deregister;
};

struct rw_result {
	enum rw_status status;
	enum rw_reason reason;		/* RW_OK unless PASSTHROUGH/DROP */
	const uint8_t *out;		/* the bytes to forward (arena, or input) */
	size_t out_len;
	const struct rw_edit *edits;	/* n_edits, in message order */
	size_t n_edits;
	struct rw_sip sip;		/* valid when status is REWRITTEN/UNCHANGED */
};

/* Rewrites one complete message.  Never fails: anything it cannot handle
 * comes back as RW_PASSTHROUGH (or RW_DROP when cfg->strict) with out ==
 * in->msg.  Rewriting an already rewritten message changes nothing. */
void rw_rewrite(const struct rw_config *cfg, const struct rw_input *in,
		struct arena *a, struct rw_result *res);

#endif
