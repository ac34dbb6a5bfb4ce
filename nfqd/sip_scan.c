/* sip_scan.c - see sip_scan.h.  Read-only and bounded: every loop stops at
 * the length it was given; nothing here allocates or writes the message.
 *
 * The checks here are the ones that make an in-place edit safe, plus the
 * RFC 4475 "invalid" cases a careful element must refuse to act on: a
 * start line with extra blanks, a version other than SIP/2.0, a status code
 * that is not three digits, unbalanced quotes or <>, a Request-URI carrying
 * <> or URI headers, an unbracketed IPv6 host, a CSeq over 2^31 or naming
 * another method, conflicting copies of one-only headers, a Content-Length
 * that is negative, repeated with another value or larger than the body.
 */
#include "sip_scan.h"

#include <string.h>
#include <strings.h>

#include "rewrite.h"

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool span_ieq(const uint8_t *msg, struct ss_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp((const char *)msg + s.off, lit, n) == 0;
}

static enum ss_hdr header_id(const uint8_t *msg, struct ss_span n)
{
	static const struct {
		const char *full, *compact;
		enum ss_hdr id;
	} tab[] = {
		{ "via", "v", SS_H_VIA },
		{ "contact", "m", SS_H_CONTACT },
		{ "from", "f", SS_H_FROM },
		{ "to", "t", SS_H_TO },
		{ "call-id", "i", SS_H_CALL_ID },
		{ "cseq", NULL, SS_H_CSEQ },
		{ "content-length", "l", SS_H_CONTENT_LENGTH },
		{ "content-type", "c", SS_H_CONTENT_TYPE },
		{ "record-route", NULL, SS_H_RECORD_ROUTE },
		{ "route", NULL, SS_H_ROUTE },
		{ "refer-to", "r", SS_H_REFER_TO },
		{ "max-forwards", NULL, SS_H_MAX_FORWARDS },
		{ "path", NULL, SS_H_PATH },
		{ "p-asserted-identity", NULL, SS_H_IDENTITY },
		{ "p-preferred-identity", NULL, SS_H_IDENTITY },
		{ "remote-party-id", NULL, SS_H_IDENTITY },
		{ "expires", NULL, SS_H_EXPIRES },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (span_ieq(msg, n, tab[i].full) ||
		    (tab[i].compact && span_ieq(msg, n, tab[i].compact)))
			return tab[i].id;
	return SS_H_OTHER;
}

/* ---- start line and header table ---- */

static int scan_start_line(const uint8_t *msg, size_t s, size_t e, struct ss_msg *m)
{
	size_t i = s;

	if (e - s >= 8 && memcmp(msg + s, "SIP/", 4) == 0) {
		unsigned code = 0;

		if (memcmp(msg + s, "SIP/2.0 ", 8) != 0)
			return RW_R_BAD_START_LINE;
		for (i = s + 8; i < e && is_digit(msg[i]) && i < s + 11; i++)
			code = code * 10 + (unsigned)(msg[i] - '0');
		if (i != s + 11 || code < 100 || code > 699 || (i < e && msg[i] != ' '))
			return RW_R_BAD_START_LINE;
		m->is_request = false;
		m->status = (int)code;
		return 0;
	}
	{
		/* Not SIP at all unless the last word looks like "SIP/x". */
		size_t w, we = e;

		while (we > s && (msg[we - 1] == ' ' || msg[we - 1] == '\t'))
			we--;
		w = we;
		while (w > s && msg[w - 1] != ' ' && msg[w - 1] != '\t')
			w--;
		if (we - w < 4 || memcmp(msg + w, "SIP/", 4) != 0)
			return RW_R_NOT_SIP;
	}
	while (i < e && ss_is_token(msg[i]))
		i++;
	if (i == s || i == e || msg[i] != ' ')
		return RW_R_BAD_START_LINE;
	m->is_request = true;
	m->method = (struct ss_span){ s, i - s };
	m->ruri.off = ++i;
	while (i < e && msg[i] != ' ' && msg[i] != '\t')
		i++;
	m->ruri.len = i - m->ruri.off;
	if (m->ruri.len == 0 || e - i != 8 || memcmp(msg + i, " SIP/2.0", 8) != 0)
		return RW_R_BAD_START_LINE;
	for (size_t k = m->ruri.off; k < i; k++)
		if (msg[k] == '<' || msg[k] == '>' || msg[k] == '"' || msg[k] < 0x21 || msg[k] > 0x7e)
			return RW_R_BAD_START_LINE;
	{
		struct ss_uri u;
		int r = ss_uri_parse(msg, m->ruri, &u);
		size_t k;

		if (r < 0)
			return RW_R_BAD_START_LINE;
		if (r == 0) {
			/* RFC 3261 19.1.1: no headers in a Request-URI. */
			for (k = u.host.off; k < i && msg[k] != '?'; k++)
				;
			if (k < i)
				return RW_R_BAD_START_LINE;
		}
	}
	return 0;
}

static int parse_uint(const uint8_t *msg, size_t i, size_t end, size_t *next, uint64_t *v)
{
	size_t s = i;

	*v = 0;
	while (i < end && is_digit(msg[i])) {
		if (i - s >= 12)
			return -1;
		*v = *v * 10 + (uint64_t)(msg[i] - '0');
		i++;
	}
	*next = i;
	return i > s ? 0 : -1;
}

static bool span_eq(const uint8_t *msg, struct ss_span a, struct ss_span b)
{
	return a.len == b.len && memcmp(msg + a.off, msg + b.off, a.len) == 0;
}

/* Checks the headers whose values the rewrite reads or edits. */
static int check_headers(const uint8_t *msg, size_t len, bool stream, struct ss_msg *m)
{
	int first[SS_H__COUNT];
	uint64_t clen = 0;

	for (int k = 0; k < SS_H__COUNT; k++)
		first[k] = -1;
	for (size_t h = 0; h < m->n_hdrs; h++) {
		const struct ss_header *hd = &m->hdrs[h];
		struct ss_span v = hd->value, item, uri;
		size_t pos = v.off;
		struct ss_uri u;
		struct ss_via via;

		switch (hd->id) {
		case SS_H_CALL_ID:
		case SS_H_FROM:
		case SS_H_TO:
		case SS_H_CSEQ:
		case SS_H_CONTENT_LENGTH:
			if (first[hd->id] >= 0 && !span_eq(msg, v, m->hdrs[first[hd->id]].value))
				return hd->id == SS_H_CONTENT_LENGTH ? RW_R_BAD_CONTENT_LENGTH
								     : RW_R_DUP_HEADER;
			break;
		default:
			break;
		}
		if (first[hd->id] < 0)
			first[hd->id] = (int)h;
		switch (hd->id) {
		case SS_H_VIA:
			while (ss_next_value(msg, v, &pos, &item))
				if (ss_via_parse(msg, item, &via))
					return RW_R_BAD_VIA;
			break;
		case SS_H_FROM:
		case SS_H_TO:
			/* Only the shape: a From host folded over lines (seen
			 * from fuzzers and tolerated by servers) does not stop
			 * us; such a URI is then just not rewritten. */
			if (ss_value_uri(msg, v, &uri))
				return RW_R_BAD_HEADER;
			break;
		case SS_H_CONTACT:
			if (v.len == 1 && msg[v.off] == '*')
				break;
			/* fall through */
		case SS_H_ROUTE:
		case SS_H_RECORD_ROUTE:
		case SS_H_PATH:
		case SS_H_REFER_TO:
			while (ss_next_value(msg, v, &pos, &item))
				if (ss_value_uri(msg, item, &uri) || ss_uri_parse(msg, uri, &u) < 0)
					return RW_R_BAD_HEADER;
			break;
		case SS_H_CALL_ID:
			if (v.len == 0)
				return RW_R_BAD_HEADER;
			break;
		case SS_H_CSEQ: {
			size_t i, e = v.off + v.len, ms;
			uint64_t n;

			if (parse_uint(msg, v.off, e, &i, &n) || n > 0x7fffffffu ||
			    i == e || !ss_is_blank(msg[i]))
				return RW_R_BAD_CSEQ;
			ms = i = ss_skip_blank(msg, i, e);
			while (i < e && ss_is_token(msg[i]))
				i++;
			if (i != e || i == ms)
				return RW_R_BAD_CSEQ;
			if (m->is_request && !span_eq(msg, (struct ss_span){ ms, e - ms }, m->method))
				return RW_R_BAD_CSEQ;
			break;
		}
		case SS_H_CONTENT_LENGTH: {
			size_t i;

			if (parse_uint(msg, v.off, v.off + v.len, &i, &clen) || i != v.off + v.len)
				return RW_R_BAD_CONTENT_LENGTH;
			m->has_clen = true;
			m->clen_hdr = m->clen_hdr < 0 ? (int)h : m->clen_hdr;
			break;
		}
		default:
			break;
		}
	}
	if (first[SS_H_VIA] < 0)
		return RW_R_BAD_VIA;
	if (first[SS_H_CSEQ] < 0)
		return RW_R_BAD_CSEQ;
	if (first[SS_H_CALL_ID] < 0 || first[SS_H_FROM] < 0 || first[SS_H_TO] < 0)
		return RW_R_BAD_HEADER;
	if (m->has_clen) {
		if (clen > len - m->body_off)
			return RW_R_BAD_CONTENT_LENGTH;
		m->body_len = (size_t)clen;
	} else {
		if (stream)
			return RW_R_BAD_CONTENT_LENGTH;
		m->body_len = len - m->body_off;
	}
	return 0;
}

int ss_scan(const uint8_t *msg, size_t len, bool stream, struct ss_header *hdrs,
	    size_t max_hdrs, struct ss_msg *m)
{
	size_t i = 0, ls, le;
	int r;

	memset(m, 0, sizeof(*m));
	m->hdrs = hdrs;
	m->clen_hdr = -1;
	/* RFC 3261 7.5: CRLFs before the start line are ignored (keepalives). */
	while (i < len && (msg[i] == '\r' || msg[i] == '\n'))
		i++;
	if (i == len)
		return RW_R_EMPTY;
	ls = i;
	while (i < len && msg[i] != '\n')
		i++;
	if (i == len)
		return RW_R_TRUNCATED;
	le = (i > ls && msg[i - 1] == '\r') ? i - 1 : i;
	r = scan_start_line(msg, ls, le, m);
	if (r)
		return r;
	i++;
	for (;;) {
		struct ss_header *h;
		size_t e;

		if (i >= len)
			return RW_R_TRUNCATED;
		ls = i;
		while (i < len && msg[i] != '\n')
			i++;
		if (i == len)
			return RW_R_TRUNCATED;
		le = (i > ls && msg[i - 1] == '\r') ? i - 1 : i;
		i++;
		if (le == ls)
			break;	/* the blank line */
		if (msg[ls] == ' ' || msg[ls] == '\t') {
			/* A continuation line: extends the previous value. */
			if (m->n_hdrs == 0)
				return RW_R_BAD_HEADER;
			h = &hdrs[m->n_hdrs - 1];
			e = le;
			while (e > ls && (msg[e - 1] == ' ' || msg[e - 1] == '\t'))
				e--;
			if (e > ls) {
				if (h->value.len == 0)
					h->value.off = ss_skip_blank(msg, ls, e);
				h->value.len = e - h->value.off;
			}
			continue;
		}
		if (m->n_hdrs == max_hdrs)
			return RW_R_BAD_HEADER;
		h = &hdrs[m->n_hdrs++];
		e = ls;
		while (e < le && ss_is_token(msg[e]))
			e++;
		h->name = (struct ss_span){ ls, e - ls };
		while (e < le && (msg[e] == ' ' || msg[e] == '\t'))
			e++;
		if (h->name.len == 0 || e == le || msg[e] != ':')
			return RW_R_BAD_HEADER;
		h->id = header_id(msg, h->name);
		e = ss_skip_blank(msg, e + 1, le);
		h->value.off = e;
		while (le > e && (msg[le - 1] == ' ' || msg[le - 1] == '\t'))
			le--;
		h->value.len = le - e;
	}
	m->body_off = i;
	return check_headers(msg, len, stream, m);
}
