/* sip_scan.h - a bounded, read-only scanner for SIP messages that returns
 * spans (offset, length) into the message instead of a parsed copy.
 *
 * Owns: the start line, the header table (compact names, case-insensitive
 * names, folded continuation lines, CRLF or bare LF), the split of list
 * headers into their comma-separated values, the URI host/port and Via
 * sent-by/params inside one value, and the structural checks that decide
 * whether a message is well-formed enough to edit in place.
 * Must not: allocate (the caller hands in the header table), modify the
 * message, know about the NAT map.  Every scan is bounded by a length.
 *
 * sip_scan.c reads the message (start line, header table, checks);
 * sip_value.c reads one header value.
 *
 * Why a scanner of our own next to libosip2: libosip2 (the parser of
 * record) gives no byte offsets and re-serialises what it parses, so it
 * cannot say which bytes to replace and keep the rest byte-identical.
 */
#ifndef SIPNAT_SIP_SCAN_H
#define SIPNAT_SIP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ss_span {
	size_t off;
	size_t len;
};

enum ss_hdr {
	SS_H_OTHER = 0,
	SS_H_VIA,
	SS_H_CONTACT,
	SS_H_FROM,
	SS_H_TO,
	SS_H_CALL_ID,
	SS_H_CSEQ,
	SS_H_CONTENT_LENGTH,
	SS_H_CONTENT_TYPE,
	SS_H_RECORD_ROUTE,
	SS_H_ROUTE,
	SS_H_REFER_TO,
	SS_H_MAX_FORWARDS,
	SS_H_PATH,		/* RFC 3327 */
	SS_H_IDENTITY,		/* P-Asserted-/P-Preferred-Identity, Remote-Party-ID */
	SS_H_EXPIRES,		/* read only (de-registrations: rw_sip.deregister) */
	SS_H__COUNT
};

struct ss_header {
	enum ss_hdr id;
	struct ss_span name;	/* as written ("v", "VIA", ...) */
	/* From the first non-blank byte after the colon to the last non-blank
	 * byte of the header, continuation lines included (so a value may
	 * contain CR/LF followed by blanks). */
	struct ss_span value;
};

#define SS_MAX_HEADERS 256

struct ss_msg {
	bool is_request;
	struct ss_span method;		/* requests */
	struct ss_span ruri;		/* requests */
	int status;			/* responses */
	size_t n_hdrs;
	struct ss_header *hdrs;
	size_t body_off;		/* first byte after the blank line */
	size_t body_len;		/* Content-Length, or the rest of the message */
	bool has_clen;
	int clen_hdr;			/* index of the (first) Content-Length, -1 */
};

/* Scans the start line and headers.  Returns 0 (RW_OK) or an enum
 * rw_reason value saying why the message cannot be edited. */
int ss_scan(const uint8_t *msg, size_t len, bool stream, struct ss_header *hdrs,
	    size_t max_hdrs, struct ss_msg *m);

/* Next comma-separated value of a list header.  *pos starts at value.off;
 * returns false when there are no more.  Commas inside quotes and <> do not
 * split.  The value span is trimmed of blanks. */
bool ss_next_value(const uint8_t *msg, struct ss_span list, size_t *pos, struct ss_span *out);

/* The URI of a name-addr or addr-spec value: inside <> when present, else
 * up to the first ';' (header params).  Returns -1 when malformed. */
int ss_value_uri(const uint8_t *msg, struct ss_span v, struct ss_span *uri);

struct ss_uri {
	bool sip;		/* sip: or sips: */
	bool sips;
	struct ss_span host;	/* brackets included for IPv6 */
	struct ss_span port;	/* digits only; len 0 when absent */
	uint16_t portnum;	/* 0 when absent */
	struct ss_span params;	/* ";a=b;c" after the host/port, up to '?' */
};

/* Host and port of a sip:/sips: URI.  Returns 0, 1 for a URI of another
 * scheme (tel:, mailto:, ...: nothing to map), -1 when malformed. */
int ss_uri_parse(const uint8_t *msg, struct ss_span uri, struct ss_uri *u);

struct ss_via {
	struct ss_span transport;	/* "UDP", "TLS", ... */
	struct ss_span host;		/* sent-by host, brackets included */
	struct ss_span port;		/* len 0 when absent */
	uint16_t portnum;
	struct ss_span received;	/* param value; len 0 when absent */
	struct ss_span rport;		/* param value; len 0 when absent or valueless */
	struct ss_span maddr;		/* param value; len 0 when absent */
	bool has_rport;
	bool has_branch;
};

/* One Via value ("SIP/2.0/UDP host:port;params").  0 or -1. */
int ss_via_parse(const uint8_t *msg, struct ss_span v, struct ss_via *via);

/* A host as written in a URI or sent-by: true when it is a syntactically
 * valid IPv4 literal, bracketed IPv6 literal, or host name. */
bool ss_host_valid(const uint8_t *msg, struct ss_span host);

/* Case-insensitive parameter lookup in ";a=b;c" style text starting at
 * params.off.  Returns true and the value span (len 0 for a bare name). */
bool ss_param(const uint8_t *msg, struct ss_span params, const char *name,
	      struct ss_span *val);

bool ss_is_blank(uint8_t c);	/* SP, HT, CR, LF: LWS inside a value */
bool ss_is_token(uint8_t c);	/* RFC 3261 token character */
size_t ss_skip_blank(const uint8_t *msg, size_t i, size_t end);

#endif
