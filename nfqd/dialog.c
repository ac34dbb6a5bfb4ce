/* dialog.c - SIP dialogs, SDP offer/answer per m= line, and the media
 * pinholes that follow from them (see dialog.h).
 *
 * Owns: the dialog table, offer/answer state, and which pinholes each
 * dialog holds; pintable.c counts the references (two dialogs may want
 * the same pinhole) and turns them into intents.
 * Must not: make kernel calls, read the clock, or look at message bytes;
 * everything comes from struct rw_result and now_ms.
 *
 * Views.  Pinholes are matched in the forward hook, where an inbound
 * packet already carries the private destination (after DNAT) and an
 * outbound one still carries the private source (before SNAT).  So the
 * inside party is stored as its private endpoint and the outside party
 * as its real one:
 *   dir OUT (sender inside):   media[].orig is the private view;
 *   dir IN  (sender outside):  media[].orig is what the peer sent.
 *
 * Dialogs.  Key: Call-ID, caller tag, callee tag, and on which side the
 * caller is (a call that leaves and comes back through a proxy is two
 * dialogs here).  An INVITE without To-tag makes a "proto" dialog that
 * holds the offer; each To-tag in a response to it forks an early dialog
 * from it (forking), with its own answer and pinholes.  A 2xx confirms
 * its dialog and ends the other early ones of the same INVITE; a final
 * failure or a CANCEL ends all early ones.
 *
 * Offer/answer.  SDP from a side with no offer pending is an offer
 * (INVITE, UPDATE, PRACK, or a 18x/2xx answering an INVITE without SDP:
 * late offer); SDP from the other side then is the answer.  The same
 * answer repeated in a later response of one transaction (183 then 200)
 * or a retransmitted offer changes nothing.  A failure response to the
 * request carrying a pending offer withdraws it.  Pinholes exist once a
 * dialog has had an answer; during a later offer, the offerer's new SDP
 * already counts (RFC 3264 s8: it must be ready to receive on it).
 */
#include "dialog.h"
#include "pintable.h"
#include "siphash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#define DLG_MAX_STREAMS 16	/* m= lines tracked per SDP; later ones ignored */
#define DLG_ID_MAX 255		/* longest Call-ID / tag kept; longer: ignored */
#define DLG_FORK_LINGER_MS 32000 /* proto dialog after a 2xx: 64*T1, late 2xx of other forks */

enum side { INSIDE = 0, OUTSIDE = 1 };

struct stream {
	bool usable;		/* port, address and direction allow pinholes */
	bool rtcp_mux;
	uint8_t l4proto;
	uint8_t mclass;		/* enum pin_class, from the m= media type */
	uint16_t nports;
	uint16_t rtcp;		/* 0: no separate RTCP port */
	struct sn_endpoint rtp;	/* in the forward hook's view */
	/* Inside party only: its RTP and RTCP as announced outside (family 0
	 * for the outside party). */
	struct sn_endpoint pub;
	uint16_t rtcp_pub;
};

/* One side's SDP, immutable once built and shared by reference between
 * the offer, the negotiated state and forked dialogs (a dialog stays a
 * few hundred bytes however many m= lines the call has).  NULL: none. */
struct sdp {
	uint32_t refs;
	uint32_t n;
	struct stream s[];
};

struct txn_ref {		/* which transaction carried an offer/answer */
	bool valid;
	uint8_t side;
	bool in_request;
	uint32_t cseq;
	char method[24];
};

enum dstate { D_PROTO, D_EARLY, D_CONFIRMED };

struct dialog {
	struct dialog *next;	/* bucket chain */
	char *call_id, *caller_tag, *callee_tag;
	uint8_t caller_side;
	enum dstate state;
	uint32_t invite_cseq;	/* the INVITE that created it */
	uint64_t expires_ms;
	bool lingering;		/* proto dialog after a 2xx: only late forks */
	struct sdp *cur[2];	/* negotiated, by side */
	struct sdp *pend;	/* offer waiting for its answer (pend_txn.valid) */
	struct txn_ref pend_txn, last_offer, last_answer;
	struct pinhole *pins;	/* pinholes this dialog holds a reference on */
	size_t npins;
	/* PROTO and EARLY dialogs, oldest first: the ones a full table evicts */
	struct dialog *sprev, *snext;
	bool in_setup;
};

struct dialog_table {
	struct dialog_limits lim;
	struct dialog **dbuckets;
	size_t ndbuckets;
	size_t ndialogs;
	struct pintable *pins;
	struct dialog *setup_head, *setup_tail;
	uint64_t next_due;	/* no dialog expires before this */
	struct dialog_stats st;
};

/* Where intents go during one call. */
struct emit {
	struct dialog_table *t;
	struct pin_emit pe;
};

/* ---- hashing ---------------------------------------------------------- */

static size_t pow2_at_least(size_t n, size_t lo, size_t hi)
{
	size_t v = lo;

	while (v < n && v < hi)
		v <<= 1;
	return v;
}

/* ---- turning SDP into streams and pinholes --------------------------- */

static bool own_public(const struct dialog_table *t, const struct sn_addr *a)
{
	return t->lim.map && natmap_is_public(t->lim.map, a);
}

/* The inside party's endpoint in the forward hook's view: private.  An
 * inside party that already wrote its public address (it knows the NAT)
 * still receives on the private one after DNAT. */
static struct sn_endpoint inside_view(const struct dialog_table *t, struct sn_endpoint ep)
{
	const struct natmap_entry *me = t->lim.map ? natmap_by_pub(t->lim.map, &ep.addr) : NULL;

	if (!me)
		return ep;
	ep.addr = me->priv;
	if (me->media_priv_lo && ep.port >= me->media_pub_lo &&
	    ep.port - me->media_pub_lo <= me->media_priv_hi - me->media_priv_lo)
		ep.port = (uint16_t)(me->media_priv_lo + (ep.port - me->media_pub_lo));
	return ep;
}

static void sdp_put(struct sdp *s)
{
	if (s && --s->refs == 0)
		free(s);
}

/* *slot = s, keeping the counts right (s may be *slot itself). */
static void sdp_set(struct sdp **slot, struct sdp *s)
{
	if (s)
		s->refs++;
	sdp_put(*slot);
	*slot = s;
}

/* audio and video are the calls' bulk; anything else (image for T.38,
 * application, text, message, types not yet named) is the small class. */
static uint8_t media_class(const char *type)
{
	return strcasecmp(type, "audio") == 0 || strcasecmp(type, "video") == 0 ?
	       PIN_CLASS_AV : PIN_CLASS_OTHER;
}

/* A new SDP with one reference, or NULL when out of memory. */
static struct sdp *sdp_from_result(const struct dialog_table *t, enum side from,
				   const struct rw_sip *sip)
{
	size_t n = sip->n_media < DLG_MAX_STREAMS ? sip->n_media : DLG_MAX_STREAMS;
	struct sdp *out = calloc(1, sizeof(*out) + n * sizeof(out->s[0]));

	if (!out)
		return NULL;
	out->refs = 1;
	out->n = (uint32_t)n;
	for (size_t i = 0; i < out->n; i++) {
		const struct rw_media *m = &sip->media[i];
		struct stream *s = &out->s[i];
		struct sn_endpoint rtcp_ep = { .addr = m->orig.addr, .port = m->rtcp_orig };

		s->l4proto = m->l4proto;
		s->mclass = media_class(m->type);
		s->rtp = m->orig;
		s->nports = m->nports ? m->nports : 1;
		s->rtcp_mux = m->rtcp_mux;
		if (from == INSIDE) {
			s->rtp = inside_view(t, s->rtp);
			rtcp_ep = inside_view(t, rtcp_ep);
			s->pub = m->rewritten;
		}
		if (s->nports == 1 && m->rtcp_orig) {
			s->rtcp = rtcp_ep.port;
			s->rtcp_pub = from == INSIDE ? m->rtcp_rewritten : 0;
		} else if (s->rtp.port < 65535) {
			s->rtcp = (uint16_t)(s->rtp.port + 1);
			if (from == INSIDE && s->pub.port < 65535)
				s->rtcp_pub = (uint16_t)(s->pub.port + 1);
		}
		/* a=inactive: no media either way.  Other directions keep both
		 * ways open: RTCP reports flow back even to a sendonly party. */
		s->usable = !m->hold && !m->conn_is_name && s->rtp.port != 0 &&
			    m->mdir != RW_INACTIVE &&
			    (m->l4proto == IPPROTO_UDP || m->l4proto == IPPROTO_TCP) &&
			    (s->rtp.addr.family == AF_INET || s->rtp.addr.family == AF_INET6);
	}
	return out;
}

/* With a map, an SDP may not aim a pinhole at a host the NAT does not
 * expose: the inside party must be a mapped private address (an unmapped
 * one has no public presence, so no media could reach it legitimately),
 * and the outside party must not claim one of our private addresses. */
static bool addrs_allowed(const struct dialog_table *t, const struct sn_addr *inside,
			  const struct sn_addr *outside)
{
	const struct natmap *m = t->lim.map;

	if (!m || (m->n == 0 && m->n_masq == 0))
		return true;
	return natmap_is_inside(m, inside) && !natmap_is_inside(m, outside);
}

struct pinset {
	struct pinhole *p;
	size_t n, cap;
	bool capped;
};

/* pub: family 0, or the public address with pport; sport: 0, or the
 * inside party's own port of the stream (both: see pinhole.h). */
static void pinset_add(struct dialog_table *t, struct pinset *ps, uint8_t proto, uint8_t mclass,
		       const struct sn_addr *src, const struct sn_addr *dst, uint32_t dport,
		       const struct sn_endpoint *pub, uint32_t pport, uint32_t sport)
{
	struct pinhole ph;

	if (dport == 0 || dport > 65535)
		return;
	if (sn_addr_is_special(src) || sn_addr_is_special(dst) ||
	    own_public(t, src) || own_public(t, dst)) {
		t->st.pins_refused_addr++;
		return;
	}
	memset(&ph, 0, sizeof(ph));
	ph.l4proto = proto;
	ph.mclass = mclass;
	ph.src = *src;
	ph.dst = *dst;
	ph.dport = (uint16_t)dport;
	if (pub && pub->addr.family && pport && pport <= 65535) {
		ph.pub.addr = pub->addr;
		ph.pub.port = (uint16_t)pport;
	}
	if (sport <= 65535)
		ph.sport = (uint16_t)sport;
	for (size_t i = 0; i < ps->n; i++)
		if (pinhole_equal(&ps->p[i], &ph))
			return;
	if (ps->n >= ps->cap) {
		ps->capped = true;
		return;
	}
	ps->p[ps->n++] = ph;
}

/* The pinholes two SDPs call for, in a stable order, at most ps->cap. */
static void pins_for(struct dialog_table *t, const struct sdp *in, const struct sdp *outs,
		     struct pinset *ps)
{
	size_t n = in->n < outs->n ? in->n : outs->n;

	for (size_t i = 0; i < n; i++) {
		const struct stream *a = &in->s[i], *b = &outs->s[i];
		bool mux = a->rtcp_mux && b->rtcp_mux;
		/* Both ends' m= lines of a pair should name the same type; if
		 * they do not, the smaller class is the safe one. */
		uint8_t mc = a->mclass == PIN_CLASS_AV && b->mclass == PIN_CLASS_AV ?
			     PIN_CLASS_AV : PIN_CLASS_OTHER;

		if (!a->usable || !b->usable || a->l4proto != b->l4proto ||
		    a->rtp.addr.family != b->rtp.addr.family)
			continue;
		if (!addrs_allowed(t, &a->rtp.addr, &b->rtp.addr)) {
			t->st.pins_refused_addr++;
			continue;
		}
		for (uint32_t k = 0; k < a->nports || k < b->nports; k++) {
			if (k < a->nports) {	/* outside -> inside */
				pinset_add(t, ps, a->l4proto, mc, &b->rtp.addr, &a->rtp.addr,
					   a->rtp.port + 2 * k, &a->pub,
					   a->pub.port ? a->pub.port + 2 * k : 0, 0);
				if (!mux && a->rtcp)
					pinset_add(t, ps, a->l4proto, mc, &b->rtp.addr, &a->rtp.addr,
						   a->rtcp + 2 * k, &a->pub,
						   a->rtcp_pub ? a->rtcp_pub + 2 * k : 0, 0);
			}
			if (k < b->nports) {	/* inside -> outside */
				bool own = k < a->nports;	/* the inside party's port k */

				pinset_add(t, ps, a->l4proto, mc, &a->rtp.addr, &b->rtp.addr,
					   b->rtp.port + 2 * k, NULL, 0,
					   own ? a->rtp.port + 2 * k : 0);
				if (!mux && b->rtcp)
					pinset_add(t, ps, a->l4proto, mc, &a->rtp.addr, &b->rtp.addr,
						   b->rtcp + 2 * k, NULL, 0,
						   own && a->rtcp ? a->rtcp + 2 * k : 0);
			}
			if (k > 256)
				break;	/* m=<port>/<n> with absurd n */
		}
	}
}

/* The index of ph in v, or -1. */
static long pin_index(const struct pinhole *v, size_t n, const struct pinhole *ph)
{
	for (size_t i = 0; i < n; i++)
		if (pinhole_equal(&v[i], ph))
			return (long)i;
	return -1;
}

static bool has_pin(const struct pinhole *v, size_t n, const struct pinhole *ph)
{
	return pin_index(v, n, ph) >= 0;
}

/* Moves the dialog's references from what it holds to what its SDP now
 * calls for.  refresh: re-emit opens for kept pinholes too. */
static void dialog_apply(struct emit *e, struct dialog *d, bool refresh, const char *why)
{
	struct dialog_table *t = e->t;
	size_t cap = t->lim.max_pinholes_per_dialog;
	struct pinset want = { 0 };
	struct pinhole *held;
	size_t nheld = 0;
	const struct sdp *in = d->cur[INSIDE], *outs = d->cur[OUTSIDE];
	bool answered = d->last_answer.valid && in && outs;

	if (cap > 0 && (answered || d->pend_txn.valid)) {
		want.p = calloc(cap, sizeof(*want.p));
		if (!want.p)
			return;	/* keep what is held; the next message retries */
		want.cap = cap;
	}
	/* During a pending offer both the old streams and the offerer's new
	 * ones stay open (RFC 3264 s8: it listens on both until the answer). */
	if (want.p && answered)
		pins_for(t, in, outs, &want);
	if (want.p && d->pend_txn.valid && d->pend) {
		if (d->pend_txn.side == INSIDE)
			in = d->pend;
		else
			outs = d->pend;
		if (in && outs && d->last_answer.valid)
			pins_for(t, in, outs, &want);
	}
	if (want.capped)
		t->st.pins_refused_cap++;
	held = calloc(want.n ? want.n : 1, sizeof(*held));
	if (!held) {
		free(want.p);
		return;
	}
	for (size_t i = 0; i < d->npins; i++)
		if (!has_pin(want.p, want.n, &d->pins[i]))
			pintable_unref(e->t->pins, &e->pe, &d->pins[i], why);
	for (size_t i = 0; i < want.n; i++) {
		long j = pin_index(d->pins, d->npins, &want.p[i]);

		if (j >= 0) {
			const struct sn_endpoint *was = &d->pins[j].pub;

			held[nheld++] = want.p[i];
			/* A moved public port (medport.c) must reach the
			 * backend even without a refresh. */
			if (refresh || was->port != want.p[i].pub.port ||
			    !sn_addr_equal(&was->addr, &want.p[i].pub.addr))
				pintable_refresh(e->t->pins, &e->pe, &want.p[i], why);
		} else if (pintable_ref(e->t->pins, &e->pe, &want.p[i], why)) {
			held[nheld++] = want.p[i];
		} else {
			t->st.pins_refused_cap++;
		}
	}
	free(d->pins);
	free(want.p);
	d->pins = held;
	d->npins = nheld;
}

/* ---- the dialog table ------------------------------------------------ */

static struct dialog **dbucket(struct dialog_table *t, const char *call_id)
{
	return &t->dbuckets[sn_siphash(t->lim.hash_key, call_id, strlen(call_id)) &
			    (t->ndbuckets - 1)];
}

static struct dialog *dlg_find(struct dialog_table *t, const char *call_id,
			       const char *caller_tag, const char *callee_tag, uint8_t caller_side)
{
	for (struct dialog *d = *dbucket(t, call_id); d; d = d->next)
		if (d->caller_side == caller_side && !strcmp(d->call_id, call_id) &&
		    !strcmp(d->caller_tag, caller_tag) && !strcmp(d->callee_tag, callee_tag))
			return d;
	return NULL;
}

static void setup_unlink(struct dialog_table *t, struct dialog *d)
{
	if (!d->in_setup)
		return;
	if (d->sprev)
		d->sprev->snext = d->snext;
	else
		t->setup_head = d->snext;
	if (d->snext)
		d->snext->sprev = d->sprev;
	else
		t->setup_tail = d->sprev;
	d->sprev = d->snext = NULL;
	d->in_setup = false;
}

static void dlg_end(struct emit *e, struct dialog *d, const char *why);

/* A new dialog, or NULL.  A full table evicts its oldest dialog still in
 * setup (never keep, never a confirmed one): a flood of INVITEs that are
 * never answered must not lock established calls, or new ones, out. */
static struct dialog *dlg_new(struct emit *e, const char *call_id,
			      const char *caller_tag, const char *callee_tag,
			      uint8_t caller_side, enum dstate st, const struct dialog *keep)
{
	struct dialog_table *t = e->t;
	struct dialog *d, **b;

	if (t->ndialogs >= t->lim.max_dialogs) {
		struct dialog *victim = t->setup_head;

		if (victim && victim == keep)
			victim = victim->snext;
		if (!victim || t->lim.max_dialogs == 0) {
			t->st.dialogs_refused++;
			return NULL;
		}
		dlg_end(e, victim, "evicted");
		t->st.dialogs_evicted++;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->call_id = strdup(call_id);
	d->caller_tag = strdup(caller_tag);
	d->callee_tag = strdup(callee_tag);
	if (!d->call_id || !d->caller_tag || !d->callee_tag) {
		free(d->call_id);
		free(d->caller_tag);
		free(d->callee_tag);
		free(d);
		return NULL;
	}
	d->caller_side = caller_side;
	d->state = st;
	if (st != D_CONFIRMED) {
		d->in_setup = true;
		d->sprev = t->setup_tail;
		if (t->setup_tail)
			t->setup_tail->snext = d;
		else
			t->setup_head = d;
		t->setup_tail = d;
	}
	b = dbucket(t, call_id);
	d->next = *b;
	*b = d;
	t->ndialogs++;
	t->st.dialogs_created++;
	return d;
}

static void dlg_free(struct dialog *d)
{
	sdp_put(d->cur[0]);
	sdp_put(d->cur[1]);
	sdp_put(d->pend);
	free(d->pins);
	free(d->call_id);
	free(d->caller_tag);
	free(d->callee_tag);
	free(d);
}

/* Releases every pinhole, unlinks and frees the dialog. */
static void dlg_end(struct emit *e, struct dialog *d, const char *why)
{
	struct dialog_table *t = e->t;
	struct dialog **pp = dbucket(t, d->call_id);

	for (size_t i = 0; i < d->npins; i++)
		pintable_unref(e->t->pins, &e->pe, &d->pins[i], why);
	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
	setup_unlink(t, d);
	dlg_free(d);
	t->ndialogs--;
	t->st.dialogs_ended++;
}

/* Ends the proto dialog and early dialogs of one INVITE.  keep: a dialog
 * spared (the one a 2xx confirmed), or NULL. */
static void end_early(struct emit *e, const char *cid, const char *ctag,
		      uint8_t caller_side, uint32_t cseq, const struct dialog *keep,
		      bool include_proto, const char *why)
{
	char call_id[DLG_ID_MAX + 1], caller_tag[DLG_ID_MAX + 1];
	struct dialog *d, *next;

	/* cid/ctag may belong to a dialog this loop frees */
	snprintf(call_id, sizeof(call_id), "%s", cid);
	snprintf(caller_tag, sizeof(caller_tag), "%s", ctag);
	d = *dbucket(e->t, call_id);

	for (; d; d = next) {
		next = d->next;
		if (d == keep || d->state == D_CONFIRMED || d->caller_side != caller_side ||
		    d->invite_cseq != cseq || strcmp(d->call_id, call_id) ||
		    strcmp(d->caller_tag, caller_tag))
			continue;
		if (d->state == D_PROTO && !include_proto)
			continue;
		dlg_end(e, d, why);
	}
}

static void txn_set(struct txn_ref *r, uint8_t side, const struct rw_sip *sip)
{
	r->valid = true;
	r->side = side;
	r->in_request = sip->is_request;
	r->cseq = sip->cseq;
	memcpy(r->method, sip->method, sizeof(r->method));
	r->method[sizeof(r->method) - 1] = '\0';
}

static bool txn_same(const struct txn_ref *r, uint8_t side, const struct rw_sip *sip)
{
	return r->valid && r->side == side && r->in_request == sip->is_request &&
	       r->cseq == sip->cseq && !strcasecmp(r->method, sip->method);
}

static bool is_method(const struct rw_sip *sip, const char *m)
{
	return !strcasecmp(sip->method, m);
}

enum sdp_role { SDP_IGNORED, SDP_OFFER, SDP_ANSWER };

/* One SDP body from side `from` within dialog d. */
static enum sdp_role on_sdp(struct dialog_table *t, struct dialog *d, uint8_t from,
		   const struct rw_sip *sip)
{
	/* An ACK can only answer. */
	bool answer_only = sip->is_request && is_method(sip, "ACK");
	enum sdp_role role = SDP_IGNORED;
	struct sdp *s = sdp_from_result(t, from, sip);

	if (!s)
		return SDP_IGNORED;	/* out of memory: as if unseen */
	if (d->pend_txn.valid && d->pend_txn.side != from) {	/* the answer */
		sdp_set(&d->cur[d->pend_txn.side], d->pend);
		sdp_set(&d->cur[from], s);
		sdp_set(&d->pend, NULL);
		d->last_offer = d->pend_txn;
		d->pend_txn.valid = false;
		txn_set(&d->last_answer, from, sip);
		role = SDP_ANSWER;
	} else if (!d->pend_txn.valid && txn_same(&d->last_answer, from, sip)) {
		sdp_set(&d->cur[from], s);	/* same answer again: 183 then 200 */
		role = SDP_ANSWER;
	} else if (!d->pend_txn.valid && txn_same(&d->last_offer, from, sip)) {
		role = SDP_IGNORED;		/* retransmitted offer */
	} else if (!answer_only) {
		sdp_set(&d->pend, s);		/* a new offer (or one replacing its own) */
		txn_set(&d->pend_txn, from, sip);
		role = SDP_OFFER;
	}
	sdp_put(s);
	return role;
}

static void refresh_expiry(struct dialog_table *t, struct dialog *d, uint64_t now)
{
	uint64_t s = d->state == D_CONFIRMED ? t->lim.session_timeout_s : t->lim.setup_timeout_s;

	if (d->lingering)
		return;
	d->expires_ms = now + s * 1000u;
}

static bool id_ok(const char *s, bool may_be_empty)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, DLG_ID_MAX + 1);
	return n <= DLG_ID_MAX && (may_be_empty || n > 0);
}

/* Finds the dialog a message belongs to, creating it when the message
 * starts one.  NULL: nothing to do for this message. */
static struct dialog *dlg_for_message(struct emit *e, const struct rw_sip *sip,
				      uint8_t sender, uint64_t now)
{
	struct dialog_table *t = e->t;
	const char *ft = sip->from_tag, *tt = sip->to_tag;
	uint8_t other = sender ^ 1;
	struct dialog *d, *proto;

	/* From-tag is the caller's (requests from the caller, responses to
	 * them), or else the callee's. */
	d = dlg_find(t, sip->call_id, ft, tt, sip->is_request ? sender : other);
	if (!d && tt[0])
		d = dlg_find(t, sip->call_id, tt, ft, sip->is_request ? other : sender);
	if (d) {
		if (d->state == D_PROTO && !sip->is_request && sip->status < 300)
			return NULL;	/* 100 Trying: no To-tag, no dialog */
		return d;
	}
	if (!tt[0]) {
		if (!sip->is_request || !is_method(sip, "INVITE"))
			return NULL;
		d = dlg_new(e, sip->call_id, ft, "", sender, D_PROTO, NULL);
		if (d)
			d->invite_cseq = sip->cseq;
		return d;
	}
	if (!sip->is_request && is_method(sip, "INVITE")) {
		proto = dlg_find(t, sip->call_id, ft, "", other);
		if (!proto || proto->invite_cseq != sip->cseq || sip->status <= 100)
			return NULL;
		if (sip->status >= 300)
			return proto;	/* e.g. 486 without a 18x first */
		/* a new To-tag answering a known INVITE: fork an early dialog */
		d = dlg_new(e, sip->call_id, ft, tt, other, D_EARLY, proto);
		if (!d)
			return NULL;
		d->invite_cseq = proto->invite_cseq;
		sdp_set(&d->cur[0], proto->cur[0]);
		sdp_set(&d->cur[1], proto->cur[1]);
		sdp_set(&d->pend, proto->pend);
		d->pend_txn = proto->pend_txn;
		d->last_offer = proto->last_offer;
		refresh_expiry(t, d, now);
		return d;
	}
	if (sip->is_request && (is_method(sip, "INVITE") || is_method(sip, "UPDATE")) &&
	    sip->has_sdp) {
		/* An in-dialog offer for a dialog we never saw start (nfqd
		 * restarted): adopt it, so its next offer/answer gets media. */
		d = dlg_new(e, sip->call_id, ft, tt, sender, D_CONFIRMED, NULL);
		if (d)
			d->invite_cseq = sip->cseq;
		return d;
	}
	return NULL;
}

size_t dialog_on_message(struct dialog_table *t, enum rw_dir dir,
			 const struct rw_result *r, uint64_t now_ms,
			 struct pin_intent *out, size_t max)
{
	struct emit e = { .t = t, .pe = { .out = out, .max = out ? max : 0,
					  .timeout_s = t->lim.media_timeout_s } };
	struct rw_sip sipv = r->sip;
	const struct rw_sip *sip = &sipv;
	uint8_t sender = dir == RW_OUT ? INSIDE : OUTSIDE;
	struct dialog *d;
	enum sdp_role role = SDP_IGNORED;

	if (!sipv.from_tag)
		sipv.from_tag = "";
	if (!sipv.to_tag)
		sipv.to_tag = "";
	pintable_flush(t->pins, &e.pe);
	if ((r->status != RW_REWRITTEN && r->status != RW_UNCHANGED) ||
	    !id_ok(sip->call_id, false) || !id_ok(sip->from_tag, true) ||
	    !id_ok(sip->to_tag, true) || (sip->n_media && !sip->media)) {
		t->st.ignored++;
		return e.pe.n;
	}

	/* CANCEL of an INVITE (no To-tag): every early dialog of it ends. */
	if (sip->is_request && is_method(sip, "CANCEL")) {
		if (!sip->to_tag[0])
			end_early(&e, sip->call_id, sip->from_tag, sender, sip->cseq,
				  NULL, true, "cancel");
		return e.pe.n;
	}

	d = dlg_for_message(&e, sip, sender, now_ms);
	if (!d) {
		t->st.ignored++;
		return e.pe.n;
	}

	if (sip->is_request && is_method(sip, "BYE")) {
		dlg_end(&e, d, "bye");
		return e.pe.n;
	}

	if (!sip->is_request && sip->status >= 300) {
		bool initial = is_method(sip, "INVITE") && d->state != D_CONFIRMED &&
			       sip->cseq == d->invite_cseq;

		if (initial) {	/* non-2xx final: all early dialogs of it end */
			end_early(&e, d->call_id, d->caller_tag, d->caller_side,
				  d->invite_cseq, NULL, true, "failure");
			return e.pe.n;
		}
		if (d->state == D_CONFIRMED && (sip->status == 481 || sip->status == 408)) {
			dlg_end(&e, d, "dialog gone");	/* RFC 3261 12.2.1.2 */
			return e.pe.n;
		}
		if (d->pend_txn.valid && d->pend_txn.in_request &&
		    d->pend_txn.cseq == sip->cseq && !strcasecmp(d->pend_txn.method, sip->method)) {
			d->pend_txn.valid = false;	/* offer rejected: back to the old one */
			sdp_set(&d->pend, NULL);
			dialog_apply(&e, d, false, "offer rejected");
		}
		refresh_expiry(t, d, now_ms);
		return e.pe.n;
	}

	if (sip->has_sdp) {
		/* An SDP without m= lines (or unparsed media) still counts as
		 * an offer/answer with no streams: everything closes. */
		role = on_sdp(t, d, sender, sip);
	}

	bool confirmed_now = false;

	if (!sip->is_request && is_method(sip, "INVITE") && sip->status >= 200 &&
	    sip->status < 300 && d->state != D_CONFIRMED && d->state != D_PROTO) {
		confirmed_now = true;
		struct dialog *proto = dlg_find(t, d->call_id, d->caller_tag, "", d->caller_side);

		d->state = D_CONFIRMED;
		setup_unlink(t, d);
		/* The forking proxy cancels the other branches: their early
		 * media stops now, not when the 487s arrive. */
		end_early(&e, d->call_id, d->caller_tag, d->caller_side, d->invite_cseq,
			  d, false, "other fork answered");
		if (proto && proto->invite_cseq == d->invite_cseq && !proto->lingering) {
			proto->lingering = true;
			proto->expires_ms = now_ms + DLG_FORK_LINGER_MS;
			if (proto->expires_ms < t->next_due)
				t->next_due = proto->expires_ms;
		}
	}
	/* An answer re-emits the opens it keeps: their element timeouts may
	 * have run out while the phone rang without early media. */
	if (role != SDP_IGNORED)
		dialog_apply(&e, d, role == SDP_ANSWER, role == SDP_ANSWER ? "answer" : "offer");
	else if (confirmed_now)	/* answer was in a reliable 18x: rang for long? */
		dialog_apply(&e, d, true, "confirmed");
	refresh_expiry(t, d, now_ms);
	if (d->expires_ms < t->next_due)
		t->next_due = d->expires_ms;
	return e.pe.n;
}

size_t dialog_expire(struct dialog_table *t, uint64_t now_ms,
		     struct pin_intent *out, size_t max)
{
	struct emit e = { .t = t, .pe = { .out = out, .max = out ? max : 0,
					  .timeout_s = t->lim.media_timeout_s } };
	uint64_t next = UINT64_MAX;

	pintable_flush(t->pins, &e.pe);
	if (now_ms < t->next_due)
		return e.pe.n;
	for (size_t b = 0; b < t->ndbuckets; b++) {
		struct dialog *d = t->dbuckets[b], *nx;

		for (; d; d = nx) {
			nx = d->next;
			if (d->expires_ms > now_ms) {
				if (d->expires_ms < next)
					next = d->expires_ms;
				continue;
			}
			dlg_end(&e, d, "timeout");
		}
	}
	t->next_due = next;
	return e.pe.n;
}

struct dialog_table *dialog_table_new(const struct dialog_limits *lim)
{
	struct dialog_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->lim = *lim;
	t->ndbuckets = pow2_at_least(lim->max_dialogs / 2, 64, 1u << 18);
	t->dbuckets = calloc(t->ndbuckets, sizeof(*t->dbuckets));
	t->pins = pintable_new(lim->max_pinholes, lim->hash_key);
	if (!t->dbuckets || !t->pins) {
		free(t->dbuckets);
		pintable_free(t->pins);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->next_due = UINT64_MAX;
	return t;
}

void dialog_table_free(struct dialog_table *t)
{
	if (!t)
		return;
	for (size_t b = 0; b < t->ndbuckets; b++) {
		struct dialog *d = t->dbuckets[b], *nx;

		for (; d; d = nx) {
			nx = d->next;
			dlg_free(d);
		}
	}
	free(t->dbuckets);
	pintable_free(t->pins);
	free(t);
}

size_t dialog_count(const struct dialog_table *t)
{
	return t->ndialogs;
}

size_t dialog_pinhole_count(const struct dialog_table *t)
{
	return pintable_count(t->pins);
}

void dialog_get_stats(const struct dialog_table *t, struct dialog_stats *st)
{
	struct pintable_stats ps;

	pintable_get_stats(t->pins, &ps);
	*st = t->st;
	st->pins_opened = ps.opened;
	st->pins_closed = ps.closed;
	st->intents_deferred = ps.deferred;
}
