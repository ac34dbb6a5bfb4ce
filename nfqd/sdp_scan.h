/* sdp_scan.h - a bounded, read-only scanner for SDP bodies (RFC 8866) and
 * for the parts of a multipart MIME body (RFC 2046) that carry one.
 *
 * Owns: splitting a body into lines (CRLF or bare LF), and the fields of
 * the lines the NAT rewrite touches or reports: o=, c=, m=, a=rtcp (RFC
 * 3605), a=candidate (RFC 8839), a=remote-candidates, a=rtcp-mux and the
 * direction attributes; and finding the application/sdp parts of a
 * multipart body without touching its boundaries.
 * Must not: allocate, modify the body, know about the NAT map.
 * All spans index the whole SIP message.
 */
#ifndef SIPNAT_SDP_SCAN_H
#define SIPNAT_SDP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "sip_scan.h"

struct sdp_line {
	char type;		/* 'v', 'o', 'c', 'm', 'a', ... */
	struct ss_span line;	/* whole line, end of line excluded */
	struct ss_span val;	/* after "x=" */
};

/* Next line of the SDP in [*pos, end).  Empty lines are skipped.  Returns
 * 1 with a line, 0 at the end, -1 for a line not of the form "x=...". */
int sdp_next_line(const uint8_t *msg, size_t *pos, size_t end, struct sdp_line *l);

struct sdp_addr {
	struct ss_span addr;	/* the address (or name) field, /ttl excluded */
	bool ip6;		/* addrtype IP6 */
	bool is_literal;	/* addr parsed as a literal of the right family */
	struct sn_addr a;
};

/* "IN IP4 addr[/ttl[/n]]" (c=) or the tail of o= / a=rtcp. */
int sdp_parse_conn(const uint8_t *msg, struct ss_span val, struct sdp_addr *c);
/* o=<user> <sess-id> <sess-version> IN <addrtype> <addr> */
int sdp_parse_origin(const uint8_t *msg, struct ss_span val, struct sdp_addr *c);

struct sdp_media {
	struct ss_span media;	/* "audio" */
	struct ss_span port;	/* digits */
	uint16_t portnum;	/* may be 0 */
	uint16_t nports;	/* 1 unless /n given */
	struct ss_span proto;	/* "RTP/AVP" */
};

int sdp_parse_media(const uint8_t *msg, struct ss_span val, struct sdp_media *m);

/* a=rtcp:<port> [IN IP4 <addr>]; val is after "a=". */
struct sdp_rtcp {
	struct ss_span port;
	uint16_t portnum;
	bool has_addr;
	struct sdp_addr addr;
};
int sdp_parse_rtcp(const uint8_t *msg, struct ss_span val, struct sdp_rtcp *r);

/* a=candidate:<foundation> <component> <transport> <prio> <addr> <port> typ ... */
struct sdp_cand {
	struct ss_span addr;
	struct ss_span port;
	uint16_t portnum;
	struct sn_addr a;
	bool is_literal;
};
int sdp_parse_candidate(const uint8_t *msg, struct ss_span val, struct sdp_cand *c);

/* a=remote-candidates:<comp> <addr> <port> ...: the i-th (addr, port)
 * pair; returns 1 with it, 0 when there are no more, -1 when malformed. */
int sdp_remote_candidate(const uint8_t *msg, struct ss_span val, size_t idx, struct sdp_cand *c);

/* Is attribute val ("rtcp:..." etc, after "a=") named name? */
bool sdp_attr_is(const uint8_t *msg, struct ss_span val, const char *name);

/* ---- multipart ---- */

struct mime_part {
	struct ss_span body;	/* content of the part */
	bool is_sdp;		/* Content-Type: application/sdp */
};

/* Splits a multipart body whose boundary is given.  Returns the number of
 * parts written (at most max), or -1 when the body is not a well-formed
 * multipart with a closing delimiter. */
int mime_split(const uint8_t *msg, struct ss_span body, struct ss_span boundary,
	       struct mime_part *parts, size_t max);

/* Is this Content-Type value application/sdp, or multipart/... (then the
 * boundary span is filled)?  Matches types case-insensitively. */
bool ct_is_sdp(const uint8_t *msg, struct ss_span ct);
bool ct_is_multipart(const uint8_t *msg, struct ss_span ct, struct ss_span *boundary);

#endif
