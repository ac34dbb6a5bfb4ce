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

#include "addr.h"
#include "rewrite.h"

bool ss_is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3261 token characters. */
static bool is_token(uint8_t c)
{
	return is_alnum(c) || (c && strchr("-.!%*_+`'~", c));
}

static bool span_ieq(const uint8_t *msg, struct ss_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp((const char *)msg + s.off, lit, n) == 0;
}

static size_t skip_blank(const uint8_t *msg, size_t i, size_t end)
{
	while (i < end && ss_is_blank(msg[i]))
		i++;
	return i;
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
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (span_ieq(msg, n, tab[i].full) ||
		    (tab[i].compact && span_ieq(msg, n, tab[i].compact)))
			return tab[i].id;
	return SS_H_OTHER;
}

bool ss_host_valid(const uint8_t *msg, struct ss_span h)
{
	struct sn_addr a;

	if (h.len == 0)
		return false;
	if (msg[h.off] == '[')
		return h.len > 2 && msg[h.off + h.len - 1] == ']' &&
		       sn_addr_parse(&a, (const char *)msg + h.off + 1, h.len - 2) == 0 &&
		       a.family == AF_INET6;
	for (size_t i = 0; i < h.len; i++) {
		uint8_t c = msg[h.off + i];

		/* '_' is not in the grammar but real devices use it in names. */
		if (!is_alnum(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	return true;
}

static int parse_port(const uint8_t *msg, struct ss_span p, uint16_t *out)
{
	unsigned v = 0;

	if (p.len == 0 || p.len > 5)
		return -1;
	for (size_t i = 0; i < p.len; i++) {
		if (!is_digit(msg[p.off + i]))
			return -1;
		v = v * 10 + (unsigned)(msg[p.off + i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* host [":" port] starting at i; stops at the first byte that cannot be
 * part of either.  Returns the index after it, or 0 on a malformed one. */
static size_t scan_hostport(const uint8_t *msg, size_t i, size_t end,
			    struct ss_span *host, struct ss_span *port, uint16_t *portnum)
{
	size_t h = i;

	if (i < end && msg[i] == '[') {
		while (i < end && msg[i] != ']')
			i++;
		if (i == end)
			return 0;
		i++;
	} else {
		while (i < end && (is_alnum(msg[i]) || msg[i] == '-' || msg[i] == '.' ||
				   msg[i] == '_'))
			i++;
	}
	*host = (struct ss_span){ h, i - h };
	*port = (struct ss_span){ i, 0 };
	*portnum = 0;
	if (!ss_host_valid(msg, *host))
		return 0;
	if (i < end && msg[i] == ':') {
		size_t p = ++i;

		while (i < end && is_digit(msg[i]))
			i++;
		*port = (struct ss_span){ p, i - p };
		if (parse_port(msg, *port, portnum))
			return 0;
	}
	return i;
}

int ss_uri_parse(const uint8_t *msg, struct ss_span uri, struct ss_uri *u)
{
	size_t i = uri.off, end = uri.off + uri.len, at;

	memset(u, 0, sizeof(*u));
	while (i < end && msg[i] != ':')
		i++;
	if (i == end || i == uri.off)
		return -1;
	if (span_ieq(msg, (struct ss_span){ uri.off, i - uri.off }, "sips"))
		u->sips = true;
	else if (!span_ieq(msg, (struct ss_span){ uri.off, i - uri.off }, "sip"))
		return 1;
	u->sip = true;
	i++;
	/* The first '@' ends the userinfo: neither params nor URI headers may
	 * hold an unescaped one, while the user part may hold ';' and '?'. */
	for (at = i; at < end && msg[at] != '@'; at++)
		;
	if (at < end)
		i = at + 1;
	i = scan_hostport(msg, i, end, &u->host, &u->port, &u->portnum);
	if (i == 0)
		return -1;
	i = skip_blank(msg, i, end);
	if (i < end && msg[i] != ';' && msg[i] != '?')
		return -1;
	u->params.off = i;
	while (i < end && msg[i] != '?')
		i++;
	u->params.len = i - u->params.off;
	/* Blanks may follow in params: a folded line in the middle of a
	 * Record-Route URI is seen in the wild; the Request-URI is checked
	 * for blanks by the start line scanner. */
	for (; i < end; i++)
		if (msg[i] == '<' || msg[i] == '>')
			return -1;
	return 0;
}

/* Finds the closing quote of a quoted string opening at i; end if none. */
static size_t skip_quoted(const uint8_t *msg, size_t i, size_t end)
{
	for (i++; i < end; i++) {
		if (msg[i] == '\\')
			i++;
		else if (msg[i] == '"')
			return i;
	}
	return end;
}

bool ss_next_value(const uint8_t *msg, struct ss_span list, size_t *pos, struct ss_span *out)
{
	size_t end = list.off + list.len, i = *pos, start, stop;
	bool ang = false;

	if (i > end)
		return false;
	i = skip_blank(msg, i, end);
	start = i;
	for (; i < end; i++) {
		uint8_t c = msg[i];

		if (c == '"') {
			i = skip_quoted(msg, i, end);
			if (i == end)
				break;
		} else if (c == '<') {
			ang = true;
		} else if (c == '>') {
			ang = false;
		} else if (c == ',' && !ang) {
			break;
		}
	}
	stop = i;
	while (stop > start && ss_is_blank(msg[stop - 1]))
		stop--;
	*out = (struct ss_span){ start, stop - start };
	*pos = i + 1;	/* past the comma; past end when the list is done */
	return true;
}

/* True when quotes and <> balance, with no nested <. */
static bool balanced(const uint8_t *msg, struct ss_span v)
{
	size_t end = v.off + v.len;
	bool ang = false;

	for (size_t i = v.off; i < end; i++) {
		if (msg[i] == '"') {
			i = skip_quoted(msg, i, end);
			if (i == end)
				return false;
		} else if (msg[i] == '<') {
			if (ang)
				return false;
			ang = true;
		} else if (msg[i] == '>') {
			if (!ang)
				return false;
			ang = false;
		}
	}
	return !ang;
}

int ss_value_uri(const uint8_t *msg, struct ss_span v, struct ss_span *uri)
{
	size_t end = v.off + v.len, i;

	if (!balanced(msg, v))
		return -1;
	for (i = v.off; i < end; i++) {
		if (msg[i] == '"')
			i = skip_quoted(msg, i, end);
		else if (msg[i] == '<')
			break;
	}
	if (i < end) {
		size_t s = i + 1;

		while (i < end && msg[i] != '>')
			i++;
		*uri = (struct ss_span){ s, i - s };
		return uri->len ? 0 : -1;
	}
	/* addr-spec form: params after ';' belong to the header, and a URI
	 * with headers ('?') must have been put in <> (RFC 3261 20.10). */
	for (i = v.off; i < end && msg[i] != ';'; i++)
		if (msg[i] == '?' || msg[i] == ',')
			return -1;
	while (i > v.off && ss_is_blank(msg[i - 1]))
		i--;
	*uri = (struct ss_span){ v.off, i - v.off };
	return uri->len ? 0 : -1;
}

/* One ";name[=value]" list from i to end; records the Via params we use.
 * Returns -1 on an empty name or value. */
static int scan_params(const uint8_t *msg, size_t i, size_t end, struct ss_via *via)
{
	while (i < end) {
		struct ss_span name, val = { 0, 0 };

		if (msg[i] == '(') {
			/* An RFC 2543 comment ("(NTA 1.0)"), still seen. */
			while (i < end && msg[i] != ')')
				i++;
			if (i == end)
				return -1;
			i = skip_blank(msg, i + 1, end);
			continue;
		}
		if (msg[i] != ';')
			return -1;
		i = skip_blank(msg, i + 1, end);
		name.off = i;
		while (i < end && is_token(msg[i]))
			i++;
		name.len = i - name.off;
		if (name.len == 0)
			return -1;
		i = skip_blank(msg, i, end);
		if (i < end && msg[i] == '=') {
			i = skip_blank(msg, i + 1, end);
			val.off = i;
			if (i < end && msg[i] == '"') {
				i = skip_quoted(msg, i, end);
				if (i == end)
					return -1;
				i++;
			} else if (i < end && msg[i] == '[') {
				while (i < end && msg[i] != ']')
					i++;
				if (i == end)
					return -1;
				i++;
			} else {
				/* Lenient: real branches carry '/', '=' and '+',
				 * and received= sometimes "addr:port". */
				while (i < end && msg[i] != ';' && msg[i] != '(' &&
				       !ss_is_blank(msg[i]))
					i++;
			}
			val.len = i - val.off;
			if (val.len == 0)
				return -1;
			i = skip_blank(msg, i, end);
		}
		if (!via)
			continue;
		if (span_ieq(msg, name, "received"))
			via->received = val;
		else if (span_ieq(msg, name, "rport")) {
			via->rport = val;
			via->has_rport = true;
		} else if (span_ieq(msg, name, "maddr"))
			via->maddr = val;
		else if (span_ieq(msg, name, "branch"))
			via->has_branch = true;
	}
	return 0;
}

static size_t expect_lit(const uint8_t *msg, size_t i, size_t end, const char *lit)
{
	size_t n = strlen(lit);

	i = skip_blank(msg, i, end);
	if (end - i < n || strncasecmp((const char *)msg + i, lit, n) != 0)
		return 0;
	return skip_blank(msg, i + n, end);
}

int ss_via_parse(const uint8_t *msg, struct ss_span v, struct ss_via *via)
{
	size_t i = v.off, end = v.off + v.len, t;

	memset(via, 0, sizeof(*via));
	if (!(i = expect_lit(msg, i, end, "SIP")) || !(i = expect_lit(msg, i, end, "/")) ||
	    !(i = expect_lit(msg, i, end, "2.0")) || !(i = expect_lit(msg, i, end, "/")))
		return -1;
	t = i;
	while (i < end && is_token(msg[i]))
		i++;
	via->transport = (struct ss_span){ t, i - t };
	if (via->transport.len == 0 || i == end || !ss_is_blank(msg[i]))
		return -1;
	i = skip_blank(msg, i, end);
	i = scan_hostport(msg, i, end, &via->host, &via->port, &via->portnum);
	if (i == 0)
		return -1;
	i = skip_blank(msg, i, end);
	return scan_params(msg, i, end, via);
}

bool ss_param(const uint8_t *msg, struct ss_span p, const char *name, struct ss_span *val)
{
	size_t i = p.off, end = p.off + p.len, n = strlen(name);

	while (i < end) {
		size_t s, e;

		while (i < end && msg[i] != ';')
			i = (msg[i] == '"') ? skip_quoted(msg, i, end) + 1 : i + 1;
		if (i >= end)
			return false;
		i = skip_blank(msg, i + 1, end);
		s = i;
		while (i < end && is_token(msg[i]))
			i++;
		e = i;
		i = skip_blank(msg, i, end);
		if (e - s == n && strncasecmp((const char *)msg + s, name, n) == 0) {
			if (i < end && msg[i] == '=') {
				size_t vs = skip_blank(msg, i + 1, end), ve = vs;

				if (ve < end && msg[ve] == '"') {
					ve = skip_quoted(msg, ve, end);
					if (ve == end)
						return false;
					*val = (struct ss_span){ vs + 1, ve - vs - 1 };
					return true;
				}
				while (ve < end && msg[ve] != ';' && !ss_is_blank(msg[ve]))
					ve++;
				*val = (struct ss_span){ vs, ve - vs };
			} else {
				*val = (struct ss_span){ i, 0 };
			}
			return true;
		}
	}
	return false;
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
		size_t w = e;

		while (w > s && msg[w - 1] != ' ' && msg[w - 1] != '\t')
			w--;
		if (e - w < 4 || memcmp(msg + w, "SIP/", 4) != 0)
			return RW_R_NOT_SIP;
	}
	while (i < e && is_token(msg[i]))
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
			ms = i = skip_blank(msg, i, e);
			while (i < e && is_token(msg[i]))
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
					h->value.off = skip_blank(msg, ls, e);
				h->value.len = e - h->value.off;
			}
			continue;
		}
		if (m->n_hdrs == max_hdrs)
			return RW_R_BAD_HEADER;
		h = &hdrs[m->n_hdrs++];
		e = ls;
		while (e < le && is_token(msg[e]))
			e++;
		h->name = (struct ss_span){ ls, e - ls };
		while (e < le && (msg[e] == ' ' || msg[e] == '\t'))
			e++;
		if (h->name.len == 0 || e == le || msg[e] != ':')
			return RW_R_BAD_HEADER;
		h->id = header_id(msg, h->name);
		e = skip_blank(msg, e + 1, le);
		h->value.off = e;
		while (le > e && (msg[le - 1] == ' ' || msg[le - 1] == '\t'))
			le--;
		h->value.len = le - e;
	}
	m->body_off = i;
	return check_headers(msg, len, stream, m);
}
