/* sdp_scan.c - see sdp_scan.h.  Read-only and bounded by the spans given. */
#include "sdp_scan.h"

#include <string.h>
#include <strings.h>

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_sp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

int sdp_next_line(const uint8_t *msg, size_t *pos, size_t end, struct sdp_line *l)
{
	size_t i = *pos, s, e;

	for (;;) {
		if (i >= end)
			return 0;
		s = i;
		while (i < end && msg[i] != '\n')
			i++;
		e = i;
		if (e > s && msg[e - 1] == '\r')
			e--;
		if (i < end)
			i++;
		if (e > s)
			break;
	}
	*pos = i;
	if (e - s < 2 || msg[s + 1] != '=' || msg[s] < 'a' || msg[s] > 'z')
		return -1;
	l->type = (char)msg[s];
	l->line = (struct ss_span){ s, e - s };
	l->val = (struct ss_span){ s + 2, e - s - 2 };
	return 1;
}

/* Next space-separated field of [*i, end). */
static bool field(const uint8_t *msg, size_t *i, size_t end, struct ss_span *f)
{
	size_t k = *i;

	while (k < end && is_sp(msg[k]))
		k++;
	f->off = k;
	while (k < end && !is_sp(msg[k]))
		k++;
	f->len = k - f->off;
	*i = k;
	return f->len > 0;
}

static bool span_ieq(const uint8_t *msg, struct ss_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp((const char *)msg + s.off, lit, n) == 0;
}

static int parse_u16(const uint8_t *msg, struct ss_span s, uint16_t *out, bool zero_ok)
{
	unsigned v = 0;

	if (s.len == 0 || s.len > 5)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (!is_digit(msg[s.off + i]))
			return -1;
		v = v * 10 + (unsigned)(msg[s.off + i] - '0');
	}
	if (v > 65535 || (v == 0 && !zero_ok))
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* <nettype> <addrtype> <addr> from position i. */
static int conn_tail(const uint8_t *msg, size_t i, size_t end, struct sdp_addr *c)
{
	struct ss_span nt, at, ad;

	memset(c, 0, sizeof(*c));
	if (!field(msg, &i, end, &nt) || !field(msg, &i, end, &at) || !field(msg, &i, end, &ad))
		return -1;
	if (span_ieq(msg, at, "IP6"))
		c->ip6 = true;
	else if (!span_ieq(msg, at, "IP4"))
		return -1;	/* unknown address type: we cannot map it */
	if (!span_ieq(msg, nt, "IN"))
		return -1;
	for (size_t k = 0; k < ad.len; k++)
		if (msg[ad.off + k] == '/') {
			ad.len = k;	/* multicast /ttl/n */
			break;
		}
	c->addr = ad;
	c->is_literal = sn_addr_parse(&c->a, (const char *)msg + ad.off, ad.len) == 0 &&
			c->a.family == (c->ip6 ? AF_INET6 : AF_INET);
	return 0;
}

int sdp_parse_conn(const uint8_t *msg, struct ss_span val, struct sdp_addr *c)
{
	return conn_tail(msg, val.off, val.off + val.len, c);
}

int sdp_parse_origin(const uint8_t *msg, struct ss_span val, struct sdp_addr *c)
{
	size_t i = val.off, end = val.off + val.len;
	struct ss_span f;

	for (int k = 0; k < 3; k++)
		if (!field(msg, &i, end, &f))
			return -1;
	return conn_tail(msg, i, end, c);
}

int sdp_parse_media(const uint8_t *msg, struct ss_span val, struct sdp_media *m)
{
	size_t i = val.off, end = val.off + val.len;
	struct ss_span pf;

	memset(m, 0, sizeof(*m));
	if (!field(msg, &i, end, &m->media) || !field(msg, &i, end, &pf) ||
	    !field(msg, &i, end, &m->proto))
		return -1;
	m->port = pf;
	m->nports = 1;
	for (size_t k = 0; k < pf.len; k++)
		if (msg[pf.off + k] == '/') {
			m->port.len = k;
			if (parse_u16(msg, (struct ss_span){ pf.off + k + 1, pf.len - k - 1 },
				      &m->nports, false))
				return -1;
			break;
		}
	return parse_u16(msg, m->port, &m->portnum, true);
}

bool sdp_attr_is(const uint8_t *msg, struct ss_span val, const char *name)
{
	size_t n = strlen(name);

	return val.len >= n && strncasecmp((const char *)msg + val.off, name, n) == 0 &&
	       (val.len == n || msg[val.off + n] == ':');
}

int sdp_parse_rtcp(const uint8_t *msg, struct ss_span val, struct sdp_rtcp *r)
{
	size_t i = val.off + 5, end = val.off + val.len;	/* after "rtcp:" */

	memset(r, 0, sizeof(*r));
	if (!field(msg, &i, end, &r->port) || parse_u16(msg, r->port, &r->portnum, false))
		return -1;
	while (i < end && is_sp(msg[i]))
		i++;
	if (i == end)
		return 0;
	r->has_addr = true;
	return conn_tail(msg, i, end, &r->addr);
}

static void cand_addr(const uint8_t *msg, struct sdp_cand *c)
{
	c->is_literal = sn_addr_parse(&c->a, (const char *)msg + c->addr.off, c->addr.len) == 0;
}

int sdp_parse_candidate(const uint8_t *msg, struct ss_span val, struct sdp_cand *c)
{
	size_t i = val.off + 10, end = val.off + val.len;	/* after "candidate:" */
	struct ss_span f;

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < 4; k++)	/* foundation, component, transport, priority */
		if (!field(msg, &i, end, &f))
			return -1;
	if (!field(msg, &i, end, &c->addr) || !field(msg, &i, end, &c->port) ||
	    parse_u16(msg, c->port, &c->portnum, true))
		return -1;
	cand_addr(msg, c);
	return 0;
}

int sdp_remote_candidate(const uint8_t *msg, struct ss_span val, size_t idx, struct sdp_cand *c)
{
	size_t i = val.off + 18, end = val.off + val.len;	/* "remote-candidates:" */
	struct ss_span comp;

	for (size_t k = 0;; k++) {
		memset(c, 0, sizeof(*c));
		if (!field(msg, &i, end, &comp))
			return 0;
		if (!field(msg, &i, end, &c->addr) || !field(msg, &i, end, &c->port) ||
		    parse_u16(msg, c->port, &c->portnum, true))
			return -1;
		if (k == idx) {
			cand_addr(msg, c);
			return 1;
		}
	}
}

/* ---- Content-Type and multipart ---- */

static struct ss_span ct_type(const uint8_t *msg, struct ss_span ct)
{
	size_t e = ct.off;

	while (e < ct.off + ct.len && msg[e] != ';' && !ss_is_blank(msg[e]))
		e++;
	return (struct ss_span){ ct.off, e - ct.off };
}

bool ct_is_sdp(const uint8_t *msg, struct ss_span ct)
{
	return span_ieq(msg, ct_type(msg, ct), "application/sdp");
}

bool ct_is_multipart(const uint8_t *msg, struct ss_span ct, struct ss_span *boundary)
{
	struct ss_span t = ct_type(msg, ct);

	if (t.len < 10 || strncasecmp((const char *)msg + t.off, "multipart/", 10) != 0)
		return false;
	return ss_param(msg, (struct ss_span){ t.off + t.len, ct.len - t.len }, "boundary",
			boundary) && boundary->len > 0 && boundary->len <= 70;
}

/* Is there a delimiter line "--boundary" at i?  Sets *close for "--b--". */
static bool delim_at(const uint8_t *msg, size_t i, size_t end, struct ss_span b, bool *close)
{
	if (end - i < b.len + 2 || msg[i] != '-' || msg[i + 1] != '-' ||
	    memcmp(msg + i + 2, msg + b.off, b.len) != 0)
		return false;
	i += 2 + b.len;
	*close = end - i >= 2 && msg[i] == '-' && msg[i + 1] == '-';
	return true;
}

/* Part headers from s up to the blank line: is Content-Type application/sdp?
 * Returns the offset of the part content, or 0 when there is no blank line. */
static size_t part_headers(const uint8_t *msg, size_t s, size_t end, bool *is_sdp)
{
	size_t i = s;

	*is_sdp = false;
	/* A part may start with no headers at all: an immediate blank line. */
	while (i < end) {
		size_t ls = i, le;

		while (i < end && msg[i] != '\n')
			i++;
		le = (i > ls && msg[i - 1] == '\r') ? i - 1 : i;
		if (i < end)
			i++;
		if (le == ls)
			return i;
		if (le - ls > 13 && strncasecmp((const char *)msg + ls, "content-type", 12) == 0) {
			size_t c = ls + 12;

			while (c < le && is_sp(msg[c]))
				c++;
			if (c < le && msg[c] == ':') {
				c++;
				while (c < le && is_sp(msg[c]))
					c++;
				*is_sdp = ct_is_sdp(msg, (struct ss_span){ c, le - c });
			}
		}
	}
	return 0;
}

int mime_split(const uint8_t *msg, struct ss_span body, struct ss_span b,
	       struct mime_part *parts, size_t max)
{
	size_t i = body.off, end = body.off + body.len, n = 0;
	bool close = false, in_part = false;
	size_t part_start = 0;

	/* Delimiters sit at the start of the body or right after a line end;
	 * the line end before a delimiter belongs to the delimiter. */
	while (i < end) {
		bool at_line = i == body.off || msg[i - 1] == '\n';

		if (at_line && delim_at(msg, i, end, b, &close)) {
			if (in_part) {
				size_t pe = i;
				bool sdp;
				size_t cs;

				if (pe > part_start && msg[pe - 1] == '\n')
					pe--;
				if (pe > part_start && msg[pe - 1] == '\r')
					pe--;
				cs = part_headers(msg, part_start, pe, &sdp);
				if (cs == 0)
					return -1;
				if (n == max)
					return -1;
				parts[n].body = (struct ss_span){ cs, pe - cs };
				parts[n].is_sdp = sdp;
				n++;
			}
			if (close)
				return (int)n;
			while (i < end && msg[i] != '\n')
				i++;
			if (i == end)
				return -1;
			part_start = ++i;
			in_part = true;
			continue;
		}
		i++;
	}
	return -1;
}
