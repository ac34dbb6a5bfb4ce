/* masq.c - see masq.h. */
#include "masq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "log.h"
#include "pat.h"
#include "pat_nft.h"
#include "patuse.h"

#define MASQ_USES_MAX 16384	/* live pinholes towards phones patuse.c keeps */
#define MASQ_CLOSED_MAX 64	/* closes of one intent batch (DIALOG_INTENTS_MIN) */
#define DEREG_MAX 16		/* de-registrations waiting for their 2xx or a release */
#define DEREG_WAIT_MS 64000	/* an unanswered one is forgotten after 64*T1 */

/* A phone's de-registration (masq.h rule 4). */
struct dereg {
	bool used, answered;
	struct pat_key sig;
	uint32_t cseq;
	uint64_t since_ms;
	char call_id[128];
};

struct closed {
	struct pat_key k;
	uint16_t pub;		/* the closed pinhole's public port; 0: unknown */
};

struct masq {
	const struct conf *conf;
	struct pat *pat;
	struct pat_nft *nft;
	uint32_t ttl_s;
	struct masq_stats st;
	struct ratelimit rl;
	struct natmap pm;	/* the per-packet map: [0] the phone, then the static map */
	/* Leases whose elements this packet's batch carries: their stamps
	 * are cleared if it fails, so the next message tries again. */
	struct pat_key put[NATMAP_PAIRS_MAX + 4];
	size_t nput;
	struct patuse *use;
	struct closed closed[MASQ_CLOSED_MAX];
	size_t nclosed;
	struct dereg dereg[DEREG_MAX];
	bool lossy_logged;
	uint64_t last_keepalive;
};

int masq_open(struct masq **out, const struct conf *c, char *err, size_t errlen)
{
	struct pat_conf pc = { 0 };
	struct masq *m;

	*out = NULL;
	err[0] = '\0';
	if (c->map.n_masq == 0)
		return 0;
	if (conf_pat_ports(c->pat_ports, &pc.lo, &pc.hi)) {
		snprintf(err, errlen, "pat-ports: bad range '%s'", c->pat_ports);
		return -1;
	}
	pc.ttl_s = c->pat_timeout_s;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->pat = pat_new(&pc))) {
		snprintf(err, errlen, "masquerade: out of memory");
		free(m);
		return -1;
	}
	if (!(m->use = patuse_new(MASQ_USES_MAX))) {
		snprintf(err, errlen, "masquerade: out of memory");
		pat_free(m->pat);
		free(m);
		return -1;
	}
	m->conf = c;
	m->ttl_s = pc.ttl_s;
	m->rl = (struct ratelimit)RATELIMIT_INIT;
	if (pat_nft_open(&m->nft, c->table, err, errlen)) {
		patuse_free(m->use);
		pat_free(m->pat);
		free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void masq_close(struct masq *m)
{
	if (!m)
		return;
	pat_nft_close(m->nft);
	patuse_free(m->use);
	pat_free(m->pat);
	free(m);
}

enum masq_dir masq_dir(const struct masq *m, const struct pkt_info *pi)
{
	const struct natmap *map = &m->conf->map;
	bool s = natmap_masq_by_priv(map, &pi->src.addr) != NULL;
	bool d = natmap_masq_by_priv(map, &pi->dst.addr) != NULL;

	if (s == d)
		return MASQ_NONE;
	return s ? MASQ_OUT : MASQ_IN;
}

/* pm = [0] the phone's entry, then the static map (first match wins, and
 * the masquerade address is never a static one: natmap.c refuses it). */
static struct natmap_entry *pm_build(struct masq *m, const struct sn_endpoint *priv,
				     const struct sn_addr *pub, uint16_t pub_port)
{
	const struct natmap *sm = &m->conf->map;
	size_t n = sm->n < NATMAP_MAX - 1 ? sm->n : NATMAP_MAX - 1;
	struct natmap_entry *e = &m->pm.e[0];

	memset(e, 0, sizeof(*e));
	e->priv = priv->addr;
	e->pub = *pub;
	e->priv_port = priv->port;
	e->pub_port = pub_port;
	memcpy(&m->pm.e[1], sm->e, n * sizeof(sm->e[0]));
	m->pm.n = n + 1;
	m->pm.n_masq = 0;
	return e;
}

/* The kernel elements of a lease: added when new, renewed once half the
 * lease lifetime has passed since the last time, else left alone (no
 * syscall per message).  They live 1.5 lifetimes, so they outlast the
 * lease between renewals; masq_expire() removes them with the lease. */
static void lease_put(struct masq *m, const struct pat_key *k, uint16_t pub_port,
		      const struct sn_addr *pub, uint64_t now_ms)
{
	struct pat_lease l = { *k, pub_port, 0 };
	uint64_t stamp = pat_stamp(m->pat, k);

	if (stamp && now_ms - stamp < (uint64_t)m->ttl_s * 500u)
		return;
	if (m->nput == sizeof(m->put) / sizeof(m->put[0]))
		return;
	pat_nft_put(m->nft, &l, pub, m->ttl_s + m->ttl_s / 2, stamp != 0);
	if (stamp) {
		char a[SN_ADDRSTRLEN];

		sn_addr_format(&k->addr, a, sizeof(a));
		log_debug("masquerade: renewed map elements of %s:%u/%u -> port %u", a, k->port,
			  k->proto, pub_port);
	}
	pat_set_stamp(m->pat, k, now_ms ? now_ms : 1);
	m->put[m->nput++] = *k;
}

/* Sends the queued elements; on failure the next use tries again. */
static void puts_commit(struct masq *m)
{
	if (pat_nft_commit(m->nft)) {
		for (size_t i = 0; i < m->nput; i++)
			pat_set_stamp(m->pat, &m->put[i], 0);
		m->st.kernel_failed++;
		log_rl(&m->rl, LOG_L_WARN, "masquerade: nft map elements: %s", strerror(errno));
	}
	m->nput = 0;
}

/* Leases for the phone's streams in res (pass 1): RTP and RTCP as an
 * even/odd pair, a separate a=rtcp port on its own; puts them into e. */
static void lease_media(struct masq *m, struct natmap_entry *e, const struct rw_result *res,
			const struct sn_addr *pub, uint64_t now_ms)
{
	for (size_t i = 0; i < res->sip.n_media; i++) {
		const struct rw_media *md = &res->sip.media[i];
		struct pat_key k = { md->orig.addr, md->orig.port, md->l4proto };
		uint16_t p;
		bool isnew;

		if (!md->orig.port || md->hold || md->conn_is_name ||
		    !sn_addr_equal(&md->orig.addr, &e->priv) ||
		    e->n_media_pairs + 3 > NATMAP_PAIRS_MAX)
			continue;
		p = pat_get_pair(m->pat, &k, now_ms, &isnew);
		if (!p) {
			m->st.lease_failed++;
			continue;
		}
		m->st.leased += isnew;
		natmap_entry_add_pair(e, k.port, p);
		natmap_entry_add_pair(e, (uint16_t)(k.port + 1), (uint16_t)(p + 1));
		lease_put(m, &k, p, pub, now_ms);
		k.port++;
		lease_put(m, &k, (uint16_t)(p + 1), pub, now_ms);
		if (md->rtcp_orig && md->rtcp_orig != md->orig.port + 1) {
			k.port = md->rtcp_orig;
			if ((p = pat_get(m->pat, &k, now_ms, &isnew))) {
				natmap_entry_add_pair(e, k.port, p);
				lease_put(m, &k, p, pub, now_ms);
			}
		}
	}
}

/* Ends k's lease before its time and removes its map elements. */
static bool release(struct masq *m, const struct pat_key *k, const char *why)
{
	const struct natmap_masq *q = natmap_masq_by_priv(&m->conf->map, &k->addr);
	struct pat_lease l;
	char a[SN_ADDRSTRLEN];

	if (!pat_release(m->pat, k, &l))
		return false;
	if (q && pat_nft_del(m->nft, &l, &q->pub))
		m->st.kernel_failed++;
	sn_addr_format(&k->addr, a, sizeof(a));
	log_debug("masquerade: released %s:%u/%u (public port %u): %s", a, k->port, k->proto,
		  l.pub_port, why);
	return true;
}

static bool key_equal(const struct pat_key *a, const struct pat_key *b)
{
	return a->port == b->port && a->proto == b->proto && sn_addr_equal(&a->addr, &b->addr);
}

static struct dereg *dereg_find(struct masq *m, const struct pat_key *sig)
{
	for (size_t i = 0; i < DEREG_MAX; i++)
		if (m->dereg[i].used && key_equal(&m->dereg[i].sig, sig))
			return &m->dereg[i];
	return NULL;
}

/* Rule 4: releases d's signalling lease if nothing else of the phone is
 * left.  true when d is done (released, or its lease already gone). */
static bool dereg_try(struct masq *m, struct dereg *d)
{
	static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP };
	struct pat_lease l[2];

	if (!pat_lookup(m->pat, &d->sig))
		return true;
	if (!patuse_reliable(m->use) || patuse_count_addr(m->use, &d->sig.addr))
		return false;
	for (size_t p = 0; p < sizeof(protos); p++) {
		size_t n = pat_leases_of(m->pat, &d->sig.addr, protos[p], l, 2);

		for (size_t i = 0; i < n; i++)
			if (!key_equal(&l[i].key, &d->sig))
				return false;
	}
	if (release(m, &d->sig, "de-registered"))
		m->st.released_signalling++;
	return true;
}

/* Follows a phone's de-registration: its REGISTER (out), the 2xx (in). */
static void dereg_track(struct masq *m, bool out, const struct pat_key *sig,
			const struct rw_result *res, uint64_t now_ms)
{
	const struct rw_sip *s = &res->sip;
	struct dereg *d = dereg_find(m, sig);

	if (res->status != RW_REWRITTEN && res->status != RW_UNCHANGED)
		return;
	if (out && s->is_request && s->deregister) {
		if (strlen(s->call_id) >= sizeof(d->call_id)) {
			if (d)
				d->used = false;	/* not matched reliably: timeout only */
			return;
		}
		if (!d) {	/* a free slot, else the oldest */
			d = &m->dereg[0];
			for (size_t i = 1; i < DEREG_MAX && d->used; i++)
				if (!m->dereg[i].used || m->dereg[i].since_ms < d->since_ms)
					d = &m->dereg[i];
		}
		*d = (struct dereg){ .used = true, .sig = *sig, .cseq = s->cseq, .since_ms = now_ms };
		memcpy(d->call_id, s->call_id, strlen(s->call_id) + 1);
		return;
	}
	if (!d)
		return;
	if (out) {
		/* A new registration or dialog from the phone: it stays. */
		if (s->is_request && (!strcmp(s->method, "REGISTER") || !strcmp(s->method, "INVITE") ||
				      !strcmp(s->method, "SUBSCRIBE") || !strcmp(s->method, "REFER")))
			d->used = false;
		return;
	}
	if (!s->is_request && !d->answered && s->status >= 200 && s->status < 300 &&
	    !strcmp(s->method, "REGISTER") && s->cseq == d->cseq && !strcmp(s->call_id, d->call_id)) {
		d->answered = true;
		if (dereg_try(m, d))
			d->used = false;
	}
}

void masq_rewrite(struct masq *m, const struct rw_config *cfg, const struct rw_input *in,
		  struct arena *a, struct rw_result *res, uint64_t now_ms)
{
	bool out = in->dir == RW_OUT;
	const struct sn_endpoint *priv = out ? &in->src : &in->dst;
	const struct natmap_masq *q = natmap_masq_by_priv(&m->conf->map, &priv->addr);
	struct pat_key sig = { priv->addr, priv->port, IPPROTO_UDP };
	struct rw_config c2 = *cfg;
	struct natmap_entry *e;
	uint16_t p;
	bool isnew = false;

	if (!q || !(p = out ? pat_get(m->pat, &sig, now_ms, &isnew) : pat_lookup(m->pat, &sig))) {
		if (q && out)
			m->st.lease_failed++;
		rw_rewrite(cfg, in, a, res);
		return;
	}
	if (!out)
		pat_get(m->pat, &sig, now_ms, NULL);	/* refresh: calls keep it alive */
	m->st.leased += isnew;
	m->nput = 0;
	e = pm_build(m, priv, &q->pub, p);
	c2.map = &m->pm;
	lease_put(m, &sig, p, &q->pub, now_ms);
	if (out) {
		rw_rewrite(&c2, in, a, res);
		if ((res->status == RW_REWRITTEN || res->status == RW_UNCHANGED) &&
		    res->sip.n_media) {
			lease_media(m, e, res, &q->pub, now_ms);
			if (e->n_media_pairs)
				rw_rewrite(&c2, in, a, res);	/* pass 2, with the pairs */
		}
	} else {
		struct pat_lease l[NATMAP_PAIRS_MAX + 1];
		size_t n = pat_leases_of(m->pat, &priv->addr, IPPROTO_UDP, l, NATMAP_PAIRS_MAX + 1);

		for (size_t i = 0; i < n; i++)
			if (l[i].key.port != sig.port)
				natmap_entry_add_pair(e, l[i].key.port, l[i].pub_port);
		rw_rewrite(&c2, in, a, res);
	}
	/* Before the verdict: the packet's own NAT (postrouting) and media
	 * that follows at once need the elements. */
	puts_commit(m);
	dereg_track(m, out, &sig, res, now_ms);
}

void masq_pin(struct masq *m, bool open, const struct pinhole *ph)
{
	struct sn_endpoint ep = { ph->dst, ph->dport };

	/* Only pinholes towards a phone: they name its leased media port. */
	if (!natmap_masq_by_priv(&m->conf->map, &ph->dst))
		return;
	if (open) {
		if (!patuse_open(m->use, &ph->src, &ep, ph->l4proto) && !m->lossy_logged) {
			m->lossy_logged = true;
			log_warn("masquerade: more than %d media pinholes towards phones; leases "
				 "end by pat-timeout only until they close", MASQ_USES_MAX);
		}
		return;
	}
	if (!patuse_close(m->use, &ph->src, &ep, ph->l4proto) || m->nclosed == MASQ_CLOSED_MAX)
		return;
	if (patuse_reliable(m->use))
		m->lossy_logged = false;
	m->closed[m->nclosed++] = (struct closed){ { ph->dst, ph->dport, ph->l4proto },
						   ph->pub.addr.family ? ph->pub.port : 0 };
}

void masq_pins_done(struct masq *m)
{
	for (size_t i = 0; i < m->nclosed && patuse_reliable(m->use); i++) {
		struct pat_key k = m->closed[i].k;
		struct sn_endpoint ep = { k.addr, k.port };
		uint16_t pub;

		if (patuse_count(m->use, &ep, k.proto))
			continue;	/* rule 1: another dialog's pinhole uses it */
		pub = pat_lookup(m->pat, &k);
		if (!pub || (m->closed[i].pub && m->closed[i].pub != pub))
			continue;
		if (release(m, &k, "media closed"))
			m->st.released_media++;
		/* rule 2: the RTCP half of the pair, if nothing uses it */
		if (pub % 2 == 0 && k.port < 65535) {
			k.port++;
			ep.port = k.port;
			if (pat_lookup(m->pat, &k) == pub + 1 && !patuse_count(m->use, &ep, k.proto) &&
			    release(m, &k, "media closed (rtcp)"))
				m->st.released_media++;
		}
	}
	m->nclosed = 0;
}

/* Media leases with a live pinhole outlive their timeout (masq.h). */
static void keepalive(struct masq *m, uint64_t now_ms)
{
	size_t n = patuse_size(m->use);

	if (now_ms - m->last_keepalive < (uint64_t)m->ttl_s * 250u)
		return;
	m->last_keepalive = now_ms;
	m->nput = 0;
	for (size_t i = 0; i < n; i++) {
		const struct natmap_masq *q;
		struct sn_endpoint ep;
		struct pat_key k;
		uint16_t p;

		patuse_at(m->use, i, &ep, &k.proto);
		k.addr = ep.addr;
		k.port = ep.port;
		q = natmap_masq_by_priv(&m->conf->map, &k.addr);
		if (!q || !pat_lookup(m->pat, &k))
			continue;	/* never leased, or already handed back */
		p = pat_get(m->pat, &k, now_ms, NULL);
		if (m->nput == sizeof(m->put) / sizeof(m->put[0]))
			puts_commit(m);
		lease_put(m, &k, p, &q->pub, now_ms);
	}
	if (m->nput)
		puts_commit(m);
}

void masq_expire(struct masq *m, uint64_t now_ms)
{
	struct pat_lease l[64];
	size_t n;

	keepalive(m, now_ms);
	n = pat_expire(m->pat, now_ms, l, 64);

	for (size_t i = 0; i < n; i++) {
		const struct natmap_masq *q = natmap_masq_by_priv(&m->conf->map, &l[i].key.addr);

		if (q && pat_nft_del(m->nft, &l[i], &q->pub))
			m->st.kernel_failed++;
	}
	for (size_t i = 0; i < DEREG_MAX; i++) {
		struct dereg *d = &m->dereg[i];

		if (d->used && (d->answered ? dereg_try(m, d) : now_ms - d->since_ms > DEREG_WAIT_MS))
			d->used = false;
	}
}

void masq_get_stats(const struct masq *m, struct masq_stats *st)
{
	*st = m->st;
	st->active = pat_count(m->pat);
}
