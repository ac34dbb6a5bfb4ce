/* sip_value.c - the value-level half of the SIP scanner (sip_scan.h):
 * comma lists, name-addr/addr-spec URIs, sip:/sips: host and port, Via
 * sent-by and params, generic ";name=value" lookup.
 *
 * Owns: reading one header value; bounded by the span it is given.
 * Must not: allocate, write the message, know about the NAT map.
 *
 * Leniency, on purpose and only where nothing we edit depends on it: Via
 * param values may hold '/', '=', '+' (real branches) or "addr:port"
 * (received= from some proxies); an RFC 2543 comment "(...)" may end a
 * Via; blanks (a folded line) may follow the host inside <> before ';'.
 */
#include "sip_scan.h"

#include <string.h>
#include <strings.h>

#include "addr.h"

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
bool ss_is_token(uint8_t c)
{
	return is_alnum(c) || (c && strchr("-.!%*_+`'~", c));
}

static bool span_ieq(const uint8_t *msg, struct ss_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp((const char *)msg + s.off, lit, n) == 0;
}

size_t ss_skip_blank(const uint8_t *msg, size_t i, size_t end)
{
	while (i < end && ss_is_blank(msg[i]))
		i++;
	return i;
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
	i = ss_skip_blank(msg, i, end);
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
	i = ss_skip_blank(msg, i, end);
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
			i = ss_skip_blank(msg, i + 1, end);
			continue;
		}
		if (msg[i] != ';')
			return -1;
		i = ss_skip_blank(msg, i + 1, end);
		name.off = i;
		while (i < end && ss_is_token(msg[i]))
			i++;
		name.len = i - name.off;
		if (name.len == 0)
			return -1;
		i = ss_skip_blank(msg, i, end);
		if (i < end && msg[i] == '=') {
			i = ss_skip_blank(msg, i + 1, end);
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
			i = ss_skip_blank(msg, i, end);
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

	i = ss_skip_blank(msg, i, end);
	if (end - i < n || strncasecmp((const char *)msg + i, lit, n) != 0)
		return 0;
	return ss_skip_blank(msg, i + n, end);
}

int ss_via_parse(const uint8_t *msg, struct ss_span v, struct ss_via *via)
{
	size_t i = v.off, end = v.off + v.len, t;

	memset(via, 0, sizeof(*via));
	if (!(i = expect_lit(msg, i, end, "SIP")) || !(i = expect_lit(msg, i, end, "/")) ||
	    !(i = expect_lit(msg, i, end, "2.0")) || !(i = expect_lit(msg, i, end, "/")))
		return -1;
	t = i;
	while (i < end && ss_is_token(msg[i]))
		i++;
	via->transport = (struct ss_span){ t, i - t };
	if (via->transport.len == 0 || i == end || !ss_is_blank(msg[i]))
		return -1;
	i = ss_skip_blank(msg, i, end);
	i = scan_hostport(msg, i, end, &via->host, &via->port, &via->portnum);
	if (i == 0)
		return -1;
	i = ss_skip_blank(msg, i, end);
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
		i = ss_skip_blank(msg, i + 1, end);
		s = i;
		while (i < end && ss_is_token(msg[i]))
			i++;
		e = i;
		i = ss_skip_blank(msg, i, end);
		if (e - s == n && strncasecmp((const char *)msg + s, name, n) == 0) {
			if (i < end && msg[i] == '=') {
				size_t vs = ss_skip_blank(msg, i + 1, end), ve = vs;

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
