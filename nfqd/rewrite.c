/* rewrite.c - the pure rewrite core (contract in rewrite.h).
 *
 * Owns: deciding which spans of a SIP message change between the private
 * and the public view of the static map, producing the edited copy, the
 * edit list and the per-m= media report dialog.c opens pinholes from.
 * Must not: do I/O, read a clock, keep globals, call malloc (the arena
 * only), call dialog.c or a pinhole backend.  libosip2 is not called here
 * on purpose: it allocates with malloc and needs a global parser_init();
 * the unit tests cross-check our scanner against it instead.
 *
 * Rules (dir out = private -> public; in = the exact inverse):
 *   request-URI            out: requests          in: requests (IP or FQDN)
 *   maddr= of those URIs and of the top Via, like the host
 *   top Via sent-by        out: requests          in: responses (+received/rport)
 *   Contact, Record-Route, Path, Refer-To: every value, both directions
 *   Route                  in only (our Record-Route coming back as a route set)
 *   From/To                only with cfg->rewrite_from_to, and with it the
 *                          identity headers (P-Asserted-Identity,
 *                          P-Preferred-Identity, Remote-Party-ID)
 *   SDP (sdp_rewrite.c)    o=, c=, a=rtcp, a=candidate; m= ports only with a
 *                          media port translation; never FQDNs, 0.0.0.0/::,
 *                          port-0 streams.
 * Hosts outside the map and non-sip URIs (tel:, mailto:) are left alone;
 * Call-ID, branch and tags are never touched.
 *
 * Port policy.  A map "10.0.0.5:5062=203.0.113.5:5060" maps the address for
 * every port and the port 5062 <-> 5060 on it.  A URI or sent-by without a
 * port means the default (5060, 5061 for sips: or TLS).  When the port
 * translates, the result always carries the port explicitly:
 * out "10.0.0.5:5062" -> "203.0.113.5:5060", in "203.0.113.5" ->
 * "10.0.0.5:5062".  Explicit, because an explicit port also stops a peer
 * from doing DNS SRV lookups on the FQDN we may put there (RFC 3263 4.2),
 * and because it keeps the edit one span.  Other ports pass unchanged;
 * note that with such a map the private 10.0.0.5:5060 goes out as
 * 203.0.113.5:5060, which comes back as 10.0.0.5:5062: the map itself says
 * public 5060 is private 5062, so do not use both private ports.
 *
 * One message per call: bytes after the body (UDP: to be discarded by the
 * receiver, RFC 3261 18.3; a stream: the next message) are forwarded as
 * they are.
 *
 * Via received=/rport= policy (RFC 3581), responses arriving (in): when the
 * top Via's sent-by was one of ours (public address or name of the map)
 * and is turned back to the private one, received= holding a public map
 * address becomes the private one and rport= equal to the public port of a
 * port translation becomes the private port.  The phone then sees a
 * NAT-free world, as with the kernel's nf_nat_sip, and does not start its
 * own NAT traversal (advertising public addresses itself) behind our back.
 * A sent-by that is not ours keeps its received/rport as they are.
 */
#include "rewrite.h"

#include <stdio.h>
#include <string.h>

#include "rw_internal.h"
#include "sdp_scan.h"
#include "sip_scan.h"

const char *rw_reason_name(enum rw_reason r)
{
	static const char *const names[RW_R__COUNT] = {
		[RW_OK] = "ok",
		[RW_R_EMPTY] = "empty",
		[RW_R_NOT_SIP] = "not-sip",
		[RW_R_BAD_START_LINE] = "bad-start-line",
		[RW_R_BAD_HEADER] = "bad-header",
		[RW_R_BAD_VIA] = "bad-via",
		[RW_R_BAD_CSEQ] = "bad-cseq",
		[RW_R_BAD_CONTENT_LENGTH] = "bad-content-length",
		[RW_R_TRUNCATED] = "truncated",
		[RW_R_DUP_HEADER] = "dup-header",
		[RW_R_BAD_SDP] = "bad-sdp",
		[RW_R_BAD_MULTIPART] = "bad-multipart",
		[RW_R_TOO_BIG] = "too-big",
		[RW_R_NO_MEMORY] = "no-memory",
		[RW_R_LIBOSIP] = "libosip",
	};

	return (unsigned)r < RW_R__COUNT && names[r] ? names[r] : "unknown";
}

void rwc_edit(struct rw_ctx *c, size_t off, size_t len, const char *text, size_t tlen,
	      const char *where)
{
	char *t;

	if (c->err)
		return;
	if (c->n_ed == RW_MAX_EDITS || !(t = arena_alloc(c->a, tlen + 1))) {
		c->err = RW_R_NO_MEMORY;
		return;
	}
	memcpy(t, text, tlen);
	c->ed[c->n_ed++] = (struct rw_edit){ off, len, t, tlen, where };
}

const struct natmap_entry *rwc_lookup(const struct rw_ctx *c, const uint8_t *p, size_t n,
				      bool names_ok)
{
	struct sn_addr a;

	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	if (sn_addr_parse(&a, (const char *)p, n) == 0)
		return c->out ? natmap_by_priv(c->cfg->map, &a) : natmap_by_pub(c->cfg->map, &a);
	if (!c->out && names_ok)
		return natmap_by_name(c->cfg->map, (const char *)p, n);
	return NULL;
}

/* The other view of an entry's address: FQDN in SIP headers when one is
 * set (out only), brackets around IPv6 when asked. */
size_t rwc_fmt_addr(const struct rw_ctx *c, const struct natmap_entry *e, bool sip_header,
		    bool brackets, char *buf, size_t size)
{
	const struct sn_addr *a = c->out ? &e->pub : &e->priv;
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (c->out && sip_header && e->fqdn[0])
		n = snprintf(buf, size, "%s", e->fqdn);
	else if (a->family == AF_INET6 && brackets)
		n = (sn_addr_format(a, ip, sizeof(ip)), snprintf(buf, size, "[%s]", ip));
	else
		n = (int)sn_addr_format(a, buf, size);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* Maps host[:port] of a URI or sent-by; returns the entry used, or NULL
 * when the host is not ours. */
static const struct natmap_entry *map_hostport(struct rw_ctx *c, struct ss_span host,
					       struct ss_span port, uint16_t portnum,
					       uint16_t defport, const char *where)
{
	const struct natmap_entry *e = rwc_lookup(c, c->msg + host.off, host.len, true);
	uint16_t from, to, p = portnum ? portnum : defport;
	char buf[NATMAP_FQDN_MAX + 16];
	size_t n;

	if (!e)
		return NULL;
	n = rwc_fmt_addr(c, e, true, true, buf, sizeof(buf));
	from = c->out ? e->priv_port : e->pub_port;
	to = c->out ? e->pub_port : e->priv_port;
	if (from && from != to && p == from) {
		size_t end = port.len ? port.off + port.len : host.off + host.len;

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":%u", to);
		rwc_edit(c, host.off, end - host.off, buf, n, where);
	} else {
		rwc_edit(c, host.off, host.len, buf, n, where);
	}
	return e;
}

/* maddr= (RFC 3261 19.1.1) overrides the host as the destination: an
 * address of ours there needs the same view as the host. */
static void map_maddr(struct rw_ctx *c, struct ss_span v, const char *where)
{
	const struct natmap_entry *e;
	char buf[NATMAP_FQDN_MAX + 3];

	if (v.len && (e = rwc_lookup(c, c->msg + v.off, v.len, true)))
		rwc_edit(c, v.off, v.len, buf, rwc_fmt_addr(c, e, true, true, buf, sizeof(buf)),
			 where);
}

static void map_uri(struct rw_ctx *c, struct ss_span uri, const char *where)
{
	struct ss_uri u;
	struct ss_span maddr;

	if (ss_uri_parse(c->msg, uri, &u) != 0)
		return;
	map_hostport(c, u.host, u.port, u.portnum, u.sips ? 5061 : 5060, where);
	if (ss_param(c->msg, u.params, "maddr", &maddr))
		map_maddr(c, maddr, where);
}

/* One name-addr / addr-spec value (Contact, Route, From, ...). */
static void map_value(struct rw_ctx *c, struct ss_span v, const char *where)
{
	struct ss_span uri;

	if (v.len == 1 && c->msg[v.off] == '*')
		return;
	if (ss_value_uri(c->msg, v, &uri) == 0)
		map_uri(c, uri, where);
}

static void map_list(struct rw_ctx *c, struct ss_span list, const char *where)
{
	struct ss_span v;
	size_t pos = list.off;

	while (ss_next_value(c->msg, list, &pos, &v))
		map_value(c, v, where);
}

static bool is_tls(const uint8_t *msg, struct ss_span t)
{
	return t.len == 3 && (msg[t.off] | 0x20) == 't' && (msg[t.off + 1] | 0x20) == 'l' &&
	       (msg[t.off + 2] | 0x20) == 's';
}

static void map_top_via(struct rw_ctx *c, struct ss_span list)
{
	struct ss_span v;
	size_t pos = list.off;
	struct ss_via via;
	const struct natmap_entry *e;

	if (!ss_next_value(c->msg, list, &pos, &v) || ss_via_parse(c->msg, v, &via))
		return;
	e = map_hostport(c, via.host, via.port, via.portnum,
			 is_tls(c->msg, via.transport) ? 5061 : 5060, "via");
	map_maddr(c, via.maddr, "via maddr=");
	if (!e || c->out)
		return;
	if (via.received.len) {
		const struct natmap_entry *r = rwc_lookup(c, c->msg + via.received.off,
							  via.received.len, false);
		char buf[SN_ADDRSTRLEN];
		size_t n;

		if (r) {
			n = rwc_fmt_addr(c, r, false, c->msg[via.received.off] == '[', buf,
					 sizeof(buf));
			rwc_edit(c, via.received.off, via.received.len, buf, n, "via received=");
			e = r;
		}
	}
	if (via.rport.len && e->pub_port && e->pub_port != e->priv_port) {
		unsigned p = 0;
		char buf[8];

		for (size_t i = 0; i < via.rport.len && p <= 65535; i++) {
			uint8_t d = c->msg[via.rport.off + i];

			p = d >= '0' && d <= '9' ? p * 10 + (unsigned)(d - '0') : 70000;
		}
		if (p == e->pub_port)
			rwc_edit(c, via.rport.off, via.rport.len, buf,
				 (size_t)snprintf(buf, sizeof(buf), "%u", e->priv_port), "via rport=");
	}
}

static void rewrite_headers(struct rw_ctx *c, const struct ss_msg *m)
{
	bool first_via = true;

	if (m->is_request)
		map_uri(c, m->ruri, "request-uri");
	for (size_t i = 0; i < m->n_hdrs && !c->err; i++) {
		const struct ss_header *h = &m->hdrs[i];

		switch (h->id) {
		case SS_H_VIA:
			if (first_via && m->is_request == c->out)
				map_top_via(c, h->value);
			first_via = false;
			break;
		case SS_H_CONTACT:
			map_list(c, h->value, "contact");
			break;
		case SS_H_RECORD_ROUTE:
			map_list(c, h->value, "record-route");
			break;
		case SS_H_PATH:
			/* An inside edge proxy's Path (RFC 3327) is its
			 * Record-Route for registrations. */
			map_list(c, h->value, "path");
			break;
		case SS_H_ROUTE:
			if (!c->out)
				map_list(c, h->value, "route");
			break;
		case SS_H_REFER_TO:
			map_list(c, h->value, "refer-to");
			break;
		case SS_H_FROM:
			if (c->cfg->rewrite_from_to)
				map_value(c, h->value, "from");
			break;
		case SS_H_TO:
			if (c->cfg->rewrite_from_to)
				map_value(c, h->value, "to");
			break;
		case SS_H_IDENTITY:
			/* The same identity as From, asserted: same switch.
			 * Not checked by the scanner, so a malformed one is
			 * just left alone. */
			if (c->cfg->rewrite_from_to)
				map_list(c, h->value, "identity");
			break;
		default:
			break;
		}
	}
}

/* ---- what dialog.c needs ---- */

static const char *dup_span(struct rw_ctx *c, struct ss_span s)
{
	char *p = arena_alloc(c->a, s.len + 1);

	if (!p) {
		c->err = RW_R_NO_MEMORY;
		return "";
	}
	memcpy(p, c->msg + s.off, s.len);
	return p;
}

static void copy_span(const uint8_t *msg, struct ss_span s, char *dst, size_t size)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;

	memcpy(dst, msg + s.off, n);
	dst[n] = '\0';
}

static const char *tag_of(struct rw_ctx *c, struct ss_span v)
{
	struct ss_span uri, params, tag;
	size_t p;

	if (ss_value_uri(c->msg, v, &uri))
		return "";
	p = uri.off + uri.len;
	if (p < v.off + v.len && c->msg[p] == '>')
		p++;
	params = (struct ss_span){ p, v.off + v.len - p };
	if (!ss_param(c->msg, params, "tag", &tag))
		return "";
	return dup_span(c, tag);
}

/* A delta-seconds value: 0, a positive number (capped), or -1 when it
 * is not a number. */
static long delta_seconds(const uint8_t *msg, struct ss_span v)
{
	long n = 0;

	if (v.len == 0)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (msg[v.off + i] < '0' || msg[v.off + i] > '9')
			return -1;
		if (n < 1000000000L)
			n = n * 10 + (msg[v.off + i] - '0');
	}
	return n;
}

/* rw_sip.deregister of a REGISTER.  Each Contact's own expires= wins over
 * the Expires header; a value that does not parse is not a zero. */
static bool is_deregister(const uint8_t *msg, const struct ss_msg *m)
{
	long hdr = -1;
	size_t contacts = 0, zero = 0;
	bool star = false;

	for (size_t i = 0; i < m->n_hdrs; i++)
		if (m->hdrs[i].id == SS_H_EXPIRES) {
			hdr = delta_seconds(msg, m->hdrs[i].value);
			break;
		}
	for (size_t i = 0; i < m->n_hdrs; i++) {
		const struct ss_header *h = &m->hdrs[i];
		size_t pos = h->value.off;
		struct ss_span v, uri, params, ex;

		if (h->id != SS_H_CONTACT)
			continue;
		while (ss_next_value(msg, h->value, &pos, &v)) {
			size_t p;

			contacts++;
			if (v.len == 1 && msg[v.off] == '*') {
				star = true;
				zero += hdr == 0;
				continue;
			}
			if (ss_value_uri(msg, v, &uri))
				continue;
			p = uri.off + uri.len;
			if (p < v.off + v.len && msg[p] == '>')
				p++;
			params = (struct ss_span){ p, v.off + v.len - p };
			if (ss_param(msg, params, "expires", &ex))
				zero += delta_seconds(msg, ex) == 0;
			else
				zero += hdr == 0;
		}
	}
	return contacts > 0 && zero == contacts && (!star || contacts == 1);
}

static void fill_sip(struct rw_ctx *c, const struct ss_msg *m, struct rw_sip *s)
{
	bool via_done = false;

	s->is_request = m->is_request;
	s->status = m->is_request ? 0 : m->status;
	s->call_id = s->from_tag = s->to_tag = "";
	if (m->is_request)
		copy_span(c->msg, m->method, s->method, sizeof(s->method));
	s->deregister = m->is_request && strcmp(s->method, "REGISTER") == 0 &&
			is_deregister(c->msg, m);
	for (size_t i = 0; i < m->n_hdrs; i++) {
		const struct ss_header *h = &m->hdrs[i];

		switch (h->id) {
		case SS_H_CALL_ID:
			if (!*s->call_id)
				s->call_id = dup_span(c, h->value);
			break;
		case SS_H_FROM:
			if (!*s->from_tag)
				s->from_tag = tag_of(c, h->value);
			break;
		case SS_H_TO:
			if (!*s->to_tag)
				s->to_tag = tag_of(c, h->value);
			break;
		case SS_H_CSEQ: {
			size_t k = h->value.off, e = h->value.off + h->value.len, ms;

			s->cseq = 0;
			while (k < e && c->msg[k] >= '0' && c->msg[k] <= '9')
				s->cseq = s->cseq * 10 + (uint32_t)(c->msg[k++] - '0');
			while (k < e && ss_is_blank(c->msg[k]))
				k++;
			ms = k;
			if (!m->is_request)
				copy_span(c->msg, (struct ss_span){ ms, e - ms }, s->method,
					  sizeof(s->method));
			break;
		}
		case SS_H_VIA:
			if (!via_done) {
				struct ss_span v;
				size_t pos = h->value.off;
				struct ss_via via;

				via_done = true;
				if (ss_next_value(c->msg, h->value, &pos, &v) &&
				    ss_via_parse(c->msg, v, &via) == 0) {
					const uint8_t *hp = c->msg + via.host.off;
					size_t hl = via.host.len;

					if (hl >= 2 && hp[0] == '[') {
						hp++;
						hl -= 2;
					}
					if (sn_addr_parse(&s->via_sent_by.addr, (const char *)hp, hl))
						memset(&s->via_sent_by.addr, 0, sizeof(s->via_sent_by.addr));
					s->via_sent_by.port = via.portnum;
				}
			}
			break;
		default:
			break;
		}
	}
}

/* ---- bodies ---- */

static void rewrite_body(struct rw_ctx *c, const struct ss_msg *m, struct rw_sip *s)
{
	struct ss_span body = { m->body_off, m->body_len }, ct = { 0, 0 }, boundary;
	struct mime_part parts[RW_MAX_PARTS];
	int n;

	if (body.len == 0)
		return;
	for (size_t i = 0; i < m->n_hdrs; i++)
		if (m->hdrs[i].id == SS_H_CONTENT_TYPE) {
			ct = m->hdrs[i].value;
			break;
		}
	if (ct.len == 0)
		return;	/* no type: we cannot know it is SDP, leave it */
	if (ct_is_sdp(c->msg, ct)) {
		s->has_sdp = true;
		rws_sdp(c, body);
		return;
	}
	if (!ct_is_multipart(c->msg, ct, &boundary))
		return;
	n = mime_split(c->msg, body, boundary, parts, RW_MAX_PARTS);
	if (n < 0) {
		c->err = RW_R_BAD_MULTIPART;
		return;
	}
	for (int i = 0; i < n && !c->err; i++)
		if (parts[i].is_sdp) {
			s->has_sdp = true;
			rws_sdp(c, parts[i].body);
		}
}

static void fix_content_length(struct rw_ctx *c, const struct ss_msg *m)
{
	long delta = 0;
	char buf[24];
	size_t n;

	for (size_t i = 0; i < c->n_ed; i++)
		if (c->ed[i].off >= m->body_off)
			delta += (long)c->ed[i].text_len - (long)c->ed[i].len;
	if (delta == 0 || !m->has_clen)
		return;	/* without the header (UDP) the body is the rest */
	n = (size_t)snprintf(buf, sizeof(buf), "%zu", (size_t)((long)m->body_len + delta));
	for (size_t i = 0; i < m->n_hdrs; i++)
		if (m->hdrs[i].id == SS_H_CONTENT_LENGTH)
			rwc_edit(c, m->hdrs[i].value.off, m->hdrs[i].value.len, buf, n,
				 "content-length");
}

/* Sorts the edits by offset (few, nearly sorted: insertion sort) and
 * builds the output.  Returns -1 on overlapping edits. */
static int apply(struct rw_ctx *c, const struct rw_input *in, struct rw_result *res)
{
	size_t total = in->len, o = 0, last = 0;
	uint8_t *out;

	for (size_t i = 1; i < c->n_ed; i++) {
		struct rw_edit t = c->ed[i];
		size_t j = i;

		while (j > 0 && c->ed[j - 1].off > t.off) {
			c->ed[j] = c->ed[j - 1];
			j--;
		}
		c->ed[j] = t;
	}
	for (size_t i = 0; i < c->n_ed; i++) {
		if (c->ed[i].off < last)
			return -1;
		last = c->ed[i].off + c->ed[i].len;
		total = total - c->ed[i].len + c->ed[i].text_len;
	}
	if (total > RW_MAX_MESSAGE) {
		c->err = RW_R_TOO_BIG;
		return -1;
	}
	out = arena_alloc(c->a, total ? total : 1);
	if (!out) {
		c->err = RW_R_NO_MEMORY;
		return -1;
	}
	last = 0;
	for (size_t i = 0; i < c->n_ed; i++) {
		const struct rw_edit *e = &c->ed[i];

		memcpy(out + o, in->msg + last, e->off - last);
		o += e->off - last;
		memcpy(out + o, e->text, e->text_len);
		o += e->text_len;
		last = e->off + e->len;
	}
	memcpy(out + o, in->msg + last, in->len - last);
	res->out = out;
	res->out_len = total;
	res->edits = c->ed;
	res->n_edits = c->n_ed;
	return 0;
}

static void pass(const struct rw_config *cfg, const struct rw_input *in,
		 struct rw_result *res, int reason)
{
	memset(res, 0, sizeof(*res));
	/* Strict drops what the sender got wrong, not what we cannot do:
	 * CRLF keepalives (RFC 5626 4.4.1) keep flows alive, and running out
	 * of edit slots or arena is our limit, so both are always forwarded. */
	res->status = cfg->strict && reason != RW_R_EMPTY && reason != RW_R_NO_MEMORY
			      ? RW_DROP : RW_PASSTHROUGH;
	res->reason = (enum rw_reason)reason;
	res->out = in->msg;
	res->out_len = in->len;
	res->sip.call_id = res->sip.from_tag = res->sip.to_tag = "";
}

void rw_rewrite(const struct rw_config *cfg, const struct rw_input *in,
		struct arena *a, struct rw_result *res)
{
	struct rw_ctx c = { .cfg = cfg, .msg = in->msg, .a = a, .out = in->dir == RW_OUT };
	struct ss_header *hdrs;
	struct ss_msg m;
	int r;

	if (in->len > RW_MAX_MESSAGE)
		return pass(cfg, in, res, RW_R_TOO_BIG);
	hdrs = arena_alloc(a, SS_MAX_HEADERS * sizeof(*hdrs));
	c.ed = arena_alloc(a, RW_MAX_EDITS * sizeof(*c.ed));
	c.media = arena_alloc(a, RW_MAX_MEDIA * sizeof(*c.media));
	if (!hdrs || !c.ed || !c.media)
		return pass(cfg, in, res, RW_R_NO_MEMORY);
	r = ss_scan(in->msg, in->len, in->transport == RW_TCP, hdrs, SS_MAX_HEADERS, &m);
	if (r)
		return pass(cfg, in, res, r);
	memset(res, 0, sizeof(*res));
	fill_sip(&c, &m, &res->sip);
	rewrite_headers(&c, &m);
	rewrite_body(&c, &m, &res->sip);
	if (!c.err)
		fix_content_length(&c, &m);
	if (c.err || apply(&c, in, res))
		return pass(cfg, in, res, c.err ? c.err : RW_R_BAD_HEADER);
	res->sip.media = c.media;
	res->sip.n_media = c.n_media;
	res->status = c.n_ed ? RW_REWRITTEN : RW_UNCHANGED;
	res->reason = RW_OK;
	if (!c.n_ed)
		res->out = in->msg;
}
