/* sdp_rewrite.c - the SDP half of the rewrite core: which fields of one
 * SDP body change, and the media report (one rw_media per m= line).
 *
 * Owns: the SDP rules below.  Must not: do I/O or allocate outside the
 * arena (same contract as rewrite.c).
 *
 * What changes (out: private -> public; in: public -> private):
 *   o=            the address, when mapped.  A function of the address only,
 *                 so it is stable across re-offers (RFC 3264 8: o= must not
 *                 change between offers except the version).
 *   c=            session and media level, when mapped.  Never an FQDN
 *                 (conn_is_name), never 0.0.0.0 or :: (hold), never an
 *                 address outside the map.  The SDP always carries the
 *                 public IP, not the map's FQDN.
 *   m= port       only when the entry has a media port translation
 *                 (a pair priv <-> pub in media_pairs[], else the range
 *                 media_priv_lo..hi <-> media_pub_lo..) and the port is in it.
 *   a=rtcp        port like m=, address like c= (RFC 3605; also without one).
 *   a=candidate, a=remote-candidates: see ICE below.
 * A stream with port 0 (rejected or disabled, also bundle-only) is left
 * entirely alone, its own c=/a= lines included, and reported with port 0
 * so that no pinhole is made for it.  a=crypto, a=fingerprint, a=ice-*
 * and every other line are never touched.
 *
 * ICE policy.  The default destination (c= address, m= port) must be one
 * of the candidates or the peer declares ICE mismatch (RFC 8839 5.4).  We
 * rewrite every candidate address the same way as c= (and its port the
 * same way as m=): the mapping is a function of (address, port) alone, so
 * if c=/m= was the host candidate 10.0.0.5:4000 it stays equal to it after
 * both become 203.0.113.5:4000, and if c=/m= was a server-reflexive or
 * relayed candidate (not in the map) neither changes.  No mismatch can be
 * created.  Rewritten host candidates keep "typ host": the peer's checks
 * to the public address reach the phone through the static NAT and the
 * pinhole, which is the point.  raddr/rport are left as they are (RFC 8839
 * 5.1: informational only).  a=remote-candidates is mapped the same way, so
 * that an incoming re-offer names the phone's own candidates as it knows
 * them.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rw_internal.h"
#include "sdp_scan.h"

struct sect {
	struct sdp_media m;
	bool has_c;
	struct sdp_addr c;
	bool has_rtcp;
	struct sdp_rtcp rtcp;
	bool rtcp_mux;
	int mdir;		/* -1: none at media level */
};

static int direction(const uint8_t *msg, struct ss_span val)
{
	static const char *const n[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	for (int i = 0; i < 4; i++)
		if (val.len == strlen(n[i]) && strncasecmp((const char *)msg + val.off, n[i], val.len) == 0)
			return i;
	return -1;
}

/* m=/a=rtcp/candidate port translation for entry e; p unchanged if none. */
static uint16_t media_port(const struct rw_ctx *c, const struct natmap_entry *e, uint16_t p)
{
	unsigned span;

	if (!e || p == 0)
		return p;
	for (unsigned i = 0; i < e->n_media_pairs && i < NATMAP_PAIRS_MAX; i++) {
		const struct natmap_port_pair *pp = &e->media_pairs[i];

		if (p == (c->out ? pp->priv : pp->pub))
			return c->out ? pp->pub : pp->priv;
	}
	if (!e->media_priv_lo)
		return p;
	span = (unsigned)(e->media_priv_hi - e->media_priv_lo);
	if (c->out && p >= e->media_priv_lo && p <= e->media_priv_hi)
		return (uint16_t)(e->media_pub_lo + (p - e->media_priv_lo));
	if (!c->out && p >= e->media_pub_lo && p <= e->media_pub_lo + span)
		return (uint16_t)(e->media_priv_lo + (p - e->media_pub_lo));
	return p;
}

/* The entry for a literal SDP address, NULL for names, hold and unmapped. */
static const struct natmap_entry *entry_of(const struct rw_ctx *c, const struct sdp_addr *a)
{
	if (!a->is_literal || sn_addr_is_any(&a->a))
		return NULL;
	return c->out ? natmap_by_priv(c->cfg->map, &a->a) : natmap_by_pub(c->cfg->map, &a->a);
}

static void edit_addr(struct rw_ctx *c, const struct natmap_entry *e, struct ss_span s,
		      const char *where)
{
	char buf[INET6_ADDRSTRLEN];
	size_t n = rwc_fmt_addr(c, e, false, false, buf, sizeof(buf));

	rwc_edit(c, s.off, s.len, buf, n, where);
}

static void edit_port(struct rw_ctx *c, struct ss_span s, uint16_t old, uint16_t new,
		      const char *where)
{
	char buf[8];

	if (old != new)
		rwc_edit(c, s.off, s.len, buf, (size_t)snprintf(buf, sizeof(buf), "%u", new), where);
}

static void edit_cand(struct rw_ctx *c, const struct sdp_cand *k, const char *where)
{
	const struct natmap_entry *e;

	if (!k->is_literal || sn_addr_is_any(&k->a))
		return;
	e = c->out ? natmap_by_priv(c->cfg->map, &k->a) : natmap_by_pub(c->cfg->map, &k->a);
	if (!e)
		return;
	edit_addr(c, e, k->addr, where);
	edit_port(c, k->port, k->portnum, media_port(c, e, k->portnum), where);
}

static void copy_field(const uint8_t *msg, struct ss_span s, char *dst, size_t size)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;

	memcpy(dst, msg + s.off, n);
	dst[n] = '\0';
}

static struct sn_addr view_of(const struct rw_ctx *c, const struct sdp_addr *a)
{
	const struct natmap_entry *e = entry_of(c, a);
	struct sn_addr none = { 0 };

	if (!a->is_literal)
		return none;
	if (!e)
		return a->a;
	return c->out ? e->pub : e->priv;
}

/* Fills c->media[base..] from the sections once the edits are decided. */
static void report(struct rw_ctx *c, const struct sect *s, size_t n, bool has_sc,
		   const struct sdp_addr *sc, int sdir)
{
	for (size_t i = 0; i < n; i++) {
		struct rw_media *r = &c->media[c->n_media++];
		const struct sdp_addr *eff = s[i].has_c ? &s[i].c : has_sc ? sc : NULL;
		const struct natmap_entry *e = eff ? entry_of(c, eff) : NULL;
		uint16_t p = s[i].m.portnum;

		copy_field(c->msg, s[i].m.media, r->type, sizeof(r->type));
		copy_field(c->msg, s[i].m.proto, r->proto, sizeof(r->proto));
		r->l4proto = strncasecmp(r->proto, "TCP", 3) == 0 ? IPPROTO_TCP : IPPROTO_UDP;
		r->nports = s[i].m.nports;
		r->rtcp_mux = s[i].rtcp_mux;
		r->mdir = (enum rw_media_dir)(s[i].mdir >= 0 ? s[i].mdir : sdir >= 0 ? sdir : 0);
		if (eff) {
			r->conn_is_name = !eff->is_literal;
			r->hold = eff->is_literal && sn_addr_is_any(&eff->a);
			if (eff->is_literal)
				r->orig.addr = eff->a;
			/* A port-0 stream keeps its own c=; the session one may change. */
			r->rewritten.addr = (p == 0 && s[i].has_c) ? r->orig.addr : view_of(c, eff);
		}
		r->orig.port = p;
		r->rewritten.port = p ? media_port(c, e, p) : 0;
		if (s[i].has_rtcp) {
			const struct natmap_entry *re = s[i].rtcp.has_addr ? entry_of(c, &s[i].rtcp.addr) : e;

			r->rtcp_orig = s[i].rtcp.portnum;
			r->rtcp_rewritten = p ? media_port(c, re, s[i].rtcp.portnum) : r->rtcp_orig;
		}
	}
}

void rws_sdp(struct rw_ctx *c, struct ss_span body)
{
	struct sect s[RW_MAX_MEDIA];
	struct sdp_line l;
	struct sdp_addr sc, o;
	size_t pos = body.off, end = body.off + body.len, n = 0;
	bool has_sc = false;
	int sdir = -1, r;

	memset(&sc, 0, sizeof(sc));

	/* Pass 1: the effective connection of each section decides its m=
	 * port, and a media-level c= comes after its m= line. */
	while ((r = sdp_next_line(c->msg, &pos, end, &l)) == 1) {
		struct sect *cur = n ? &s[n - 1] : NULL;

		if (l.type == 'm') {
			if (n + c->n_media == RW_MAX_MEDIA) {
				c->err = RW_R_BAD_SDP;
				return;
			}
			cur = &s[n++];
			memset(cur, 0, sizeof(*cur));
			cur->mdir = -1;
			if (sdp_parse_media(c->msg, l.val, &cur->m)) {
				c->err = RW_R_BAD_SDP;
				return;
			}
		} else if (l.type == 'c') {
			struct sdp_addr *dst = cur ? &cur->c : &sc;

			if (sdp_parse_conn(c->msg, l.val, dst)) {
				memset(dst, 0, sizeof(*dst));	/* unknown type: like a name */
				dst->addr = l.val;
			}
			if (cur)
				cur->has_c = true;
			else
				has_sc = true;
		} else if (l.type == 'a') {
			int d = direction(c->msg, l.val);

			if (d >= 0 && cur)
				cur->mdir = d;
			else if (d >= 0)
				sdir = d;
			else if (cur && sdp_attr_is(c->msg, l.val, "rtcp-mux"))
				cur->rtcp_mux = true;
			else if (cur && sdp_attr_is(c->msg, l.val, "rtcp") && l.val.len > 5 &&
				 sdp_parse_rtcp(c->msg, l.val, &cur->rtcp) == 0)
				cur->has_rtcp = true;
		}
	}
	if (r < 0) {
		c->err = RW_R_BAD_SDP;
		return;
	}

	/* Pass 2: the edits, in line order. */
	pos = body.off;
	n = 0;
	while (sdp_next_line(c->msg, &pos, end, &l) == 1 && !c->err) {
		struct sect *cur = n ? &s[n - 1] : NULL;
		const struct natmap_entry *e;
		struct sdp_rtcp rt;

		if (l.type == 'm') {
			const struct sdp_addr *eff;

			cur = &s[n++];
			eff = cur->has_c ? &cur->c : has_sc ? &sc : NULL;
			e = eff ? entry_of(c, eff) : NULL;
			if (cur->m.portnum)
				edit_port(c, cur->m.port, cur->m.portnum,
					  media_port(c, e, cur->m.portnum), "sdp m=");
			continue;
		}
		if (cur && cur->m.portnum == 0)
			continue;	/* a disabled stream is never touched */
		if (l.type == 'o' && sdp_parse_origin(c->msg, l.val, &o) == 0) {
			if ((e = entry_of(c, &o)))
				edit_addr(c, e, o.addr, "sdp o=");
		} else if (l.type == 'c') {
			const struct sdp_addr *ca = cur ? &cur->c : &sc;

			if ((e = entry_of(c, ca)))
				edit_addr(c, e, ca->addr, "sdp c=");
		} else if (l.type == 'a' && cur && sdp_attr_is(c->msg, l.val, "rtcp") &&
			   l.val.len > 5 && sdp_parse_rtcp(c->msg, l.val, &rt) == 0) {
			const struct sdp_addr *eff = cur->has_c ? &cur->c : has_sc ? &sc : NULL;
			const struct natmap_entry *pe;

			e = rt.has_addr ? entry_of(c, &rt.addr) : NULL;
			pe = rt.has_addr ? e : eff ? entry_of(c, eff) : NULL;
			edit_port(c, rt.port, rt.portnum, media_port(c, pe, rt.portnum), "sdp a=rtcp");
			if (e)
				edit_addr(c, e, rt.addr.addr, "sdp a=rtcp");
		} else if (l.type == 'a' && sdp_attr_is(c->msg, l.val, "candidate")) {
			struct sdp_cand k;

			if (sdp_parse_candidate(c->msg, l.val, &k) == 0)
				edit_cand(c, &k, "sdp a=candidate");
		} else if (l.type == 'a' && sdp_attr_is(c->msg, l.val, "remote-candidates")) {
			struct sdp_cand k;

			for (size_t i = 0; sdp_remote_candidate(c->msg, l.val, i, &k) == 1; i++)
				edit_cand(c, &k, "sdp a=remote-candidates");
		}
	}
	if (!c->err)
		report(c, s, n, has_sc, &sc, sdir);
}
