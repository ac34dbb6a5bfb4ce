/* medport.c - see medport.h.
 *
 * Layout: a fixed array of entries, each in up to two hash chains:
 *   by party  (public address, private address, protocol): a lease, so one
 *     party's few leases share a chain (lookup by port walks it, and
 *     medport_claims() reads one chain, not the table);
 *   by public (public address, public port, protocol): a lease or a
 *     refused mark, so "who holds public port P" is one short walk.
 * The keys come partly off the wire (SDP ports), hence SipHash with the
 * caller's random key.  Unused entries form a free list through knext.
 * Time passes lazily too: an entry whose time is up is freed as soon as a
 * walk meets it, so a stale lease never blocks a port.
 */
#include "medport.h"

#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "siphash.h"

enum { E_FREE, E_LEASE, E_BUSY };

struct ent {
	struct medport_key k;	/* E_BUSY: only pub and proto */
	uint16_t pub_port;
	uint8_t state;
	uint64_t expires_ms;
	int32_t knext, pnext;	/* chains; -1 ends them */
};

struct medport {
	struct medport_conf c;
	struct ent *e;
	int32_t *kb, *pb;	/* nb buckets each */
	uint32_t nb;
	int32_t free_head;
	uint32_t nfree;
	uint32_t cursor;	/* next-fit start in the pool */
	struct medport_stats st;
};

static size_t alen(const struct sn_addr *a)
{
	return a->family == AF_INET6 ? 16 : 4;
}

/* buf <- family, address bytes; returns the length used. */
static size_t put_addr(uint8_t *buf, const struct sn_addr *a)
{
	buf[0] = (uint8_t)a->family;
	memcpy(buf + 1, a->u.bytes, alen(a));
	return 1 + alen(a);
}

static uint32_t hash_party(const struct medport *m, const struct sn_addr *pub,
			   const struct sn_addr *priv, uint8_t proto)
{
	uint8_t b[40];
	size_t n = put_addr(b, pub);

	n += put_addr(b + n, priv);
	b[n++] = proto;
	return (uint32_t)sn_siphash(m->c.hash_key, b, n) & (m->nb - 1);
}

static uint32_t hash_pub(const struct medport *m, const struct sn_addr *pub, uint16_t port,
			 uint8_t proto)
{
	uint8_t b[24];
	size_t n = put_addr(b, pub);

	b[n++] = (uint8_t)(port >> 8);
	b[n++] = (uint8_t)port;
	b[n++] = proto;
	return (uint32_t)sn_siphash(m->c.hash_key, b, n) & (m->nb - 1);
}

struct medport *medport_new(const struct medport_conf *c)
{
	struct medport *m;

	if (!c || c->lo == 0 || c->hi < c->lo || c->max == 0 || c->max > (1u << 24))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->c = *c;
	m->nb = 16;
	while (m->nb < c->max)
		m->nb <<= 1;
	m->e = calloc(c->max, sizeof(*m->e));
	m->kb = malloc(m->nb * sizeof(int32_t));
	m->pb = malloc(m->nb * sizeof(int32_t));
	if (!m->e || !m->kb || !m->pb) {
		medport_free(m);
		return NULL;
	}
	memset(m->kb, 0xff, m->nb * sizeof(int32_t));	/* -1 */
	memset(m->pb, 0xff, m->nb * sizeof(int32_t));
	for (uint32_t i = 0; i < c->max; i++)
		m->e[i].knext = i + 1 < c->max ? (int32_t)(i + 1) : -1;
	m->free_head = 0;
	m->nfree = c->max;
	return m;
}

void medport_free(struct medport *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->kb);
	free(m->pb);
	free(m);
}

/* Takes entry i out of the chain starting at *head linked through the
 * member at offset off (knext or pnext). */
static void chain_unlink(struct medport *m, int32_t *head, int32_t i, size_t off)
{
	int32_t *pp = head;

	while (*pp >= 0 && *pp != i)
		pp = (int32_t *)((char *)&m->e[*pp] + off);
	if (*pp == i)
		*pp = *(int32_t *)((char *)&m->e[i] + off);
}

static int32_t *pub_head(struct medport *m, const struct ent *x)
{
	return &m->pb[hash_pub(m, &x->k.pub, x->pub_port, x->k.proto)];
}

static void ent_free(struct medport *m, int32_t i)
{
	struct ent *x = &m->e[i];

	chain_unlink(m, pub_head(m, x), i, offsetof(struct ent, pnext));
	if (x->state == E_LEASE) {
		chain_unlink(m, &m->kb[hash_party(m, &x->k.pub, &x->k.priv, x->k.proto)], i,
			     offsetof(struct ent, knext));
		m->st.active--;
	} else {
		m->st.busy--;
	}
	memset(x, 0, sizeof(*x));
	x->knext = m->free_head;
	m->free_head = i;
	m->nfree++;
}

static int32_t ent_alloc(struct medport *m)
{
	int32_t i = m->free_head;

	if (i < 0)
		return -1;
	m->free_head = m->e[i].knext;
	m->nfree--;
	return i;
}

static void pub_link(struct medport *m, int32_t i)
{
	int32_t *h = pub_head(m, &m->e[i]);

	m->e[i].pnext = *h;
	*h = i;
}

/* The lease of k, or -1; a lease whose time is up is freed on the way. */
static int32_t find_lease(struct medport *m, const struct medport_key *k, uint64_t now_ms)
{
	int32_t i = m->kb[hash_party(m, &k->pub, &k->priv, k->proto)];

	while (i >= 0) {
		struct ent *x = &m->e[i];
		int32_t next = x->knext;

		if (x->k.port == k->port && sn_addr_equal(&x->k.priv, &k->priv) &&
		    sn_addr_equal(&x->k.pub, &k->pub) && x->k.proto == k->proto) {
			if (x->expires_ms > now_ms)
				return i;
			ent_free(m, i);
			return -1;
		}
		i = next;
	}
	return -1;
}

/* Public port on pub may go to lease `mine` (-1: a new one): no other
 * live lease holds it and it is not refused. */
static bool pub_usable(struct medport *m, const struct sn_addr *pub, uint16_t port,
		       uint8_t proto, int32_t mine, uint64_t now_ms)
{
	int32_t i = m->pb[hash_pub(m, pub, port, proto)];

	if (port == 0)
		return false;
	while (i >= 0) {
		struct ent *x = &m->e[i];
		int32_t next = x->pnext;

		if (x->pub_port == port && x->k.proto == proto && sn_addr_equal(&x->k.pub, pub)) {
			if (x->expires_ms <= now_ms)
				ent_free(m, i);
			else if (x->state == E_BUSY || i != mine)
				return false;
		}
		i = next;
	}
	return true;
}

/* Puts lease i (or a new one for k when i < 0) on public port p. */
static void place(struct medport *m, int32_t i, const struct medport_key *k, uint16_t p,
		  uint64_t now_ms)
{
	struct ent *x;

	if (i < 0) {
		int32_t *h = &m->kb[hash_party(m, &k->pub, &k->priv, k->proto)];

		i = ent_alloc(m);	/* the caller made sure there is one */
		x = &m->e[i];
		memset(x, 0, sizeof(*x));
		x->k = *k;
		x->state = E_LEASE;
		x->knext = *h;
		*h = i;
		m->st.active++;
	} else {
		x = &m->e[i];
		if (x->pub_port == p)
			goto refresh;
		chain_unlink(m, pub_head(m, x), i, offsetof(struct ent, pnext));
	}
	x->pub_port = p;
	pub_link(m, i);
	if (p != k->port)
		m->st.moved++;
refresh:
	x->expires_ms = now_ms + (uint64_t)m->c.ttl_s * 1000u;
}

/* n consecutive public ports from p on for k (and k + 1 when n is 2),
 * whose current leases are a and b. */
static bool fits(struct medport *m, const struct medport_key *k, uint32_t p, int n, int32_t a,
		 int32_t b, uint64_t now_ms)
{
	if (p == 0 || p + (uint32_t)n - 1 > 65535)
		return false;
	return pub_usable(m, &k->pub, (uint16_t)p, k->proto, a, now_ms) &&
	       (n == 1 || pub_usable(m, &k->pub, (uint16_t)(p + 1), k->proto, b, now_ms));
}

/* A public port (n == 1) or an even pair (n == 2) for k: its own port
 * first, then at most MEDPORT_PROBES candidates of the pool, next-fit.
 * 0 when none fits. */
static uint16_t choose(struct medport *m, const struct medport_key *k, int n, int32_t a, int32_t b,
		       uint64_t now_ms)
{
	uint32_t span = (uint32_t)(m->c.hi - m->c.lo) + 1;

	if (fits(m, k, k->port, n, a, b, now_ms))
		return k->port;
	for (uint32_t t = 0; t < MEDPORT_PROBES && t < span; t++) {
		uint32_t p = m->c.lo + (m->cursor + t) % span;

		if (n == 2 && (p & 1)) {
			if (++p > m->c.hi)
				continue;
		}
		if (p + (uint32_t)n - 1 > m->c.hi || !fits(m, k, p, n, a, b, now_ms))
			continue;
		m->cursor = (p - m->c.lo + (uint32_t)n) % span;
		return (uint16_t)p;
	}
	/* Those were taken: the next search starts past them. */
	m->cursor = (m->cursor + MEDPORT_PROBES) % span;
	return 0;
}

/* The lease x still serves: its port not refused meanwhile. */
static bool still_good(struct medport *m, int32_t i, uint64_t now_ms)
{
	const struct ent *x = &m->e[i];

	return pub_usable(m, &x->k.pub, x->pub_port, x->k.proto, i, now_ms);
}

uint16_t medport_get_pair(struct medport *m, const struct medport_key *k, uint64_t now_ms)
{
	struct medport_key k2;
	int32_t a, b;
	uint16_t p;

	if (k->port == 0 || k->port == 65535)
		return 0;
	k2 = *k;
	k2.port++;
	a = find_lease(m, k, now_ms);
	b = find_lease(m, &k2, now_ms);
	if (a >= 0 && b >= 0 && m->e[b].pub_port == m->e[a].pub_port + 1 &&
	    still_good(m, a, now_ms) && still_good(m, b, now_ms)) {
		place(m, a, k, m->e[a].pub_port, now_ms);
		place(m, b, &k2, m->e[b].pub_port, now_ms);
		return m->e[a].pub_port;
	}
	if (m->nfree < (uint32_t)(a < 0) + (uint32_t)(b < 0) || !(p = choose(m, k, 2, a, b, now_ms))) {
		m->st.failed++;
		return 0;
	}
	place(m, a, k, p, now_ms);
	place(m, b, &k2, (uint16_t)(p + 1), now_ms);
	return p;
}

uint16_t medport_get(struct medport *m, const struct medport_key *k, uint64_t now_ms)
{
	int32_t a;
	uint16_t p;

	if (k->port == 0)
		return 0;
	a = find_lease(m, k, now_ms);
	if (a >= 0 && still_good(m, a, now_ms)) {
		place(m, a, k, m->e[a].pub_port, now_ms);
		return m->e[a].pub_port;
	}
	if ((a < 0 && m->nfree == 0) || !(p = choose(m, k, 1, a, -1, now_ms))) {
		m->st.failed++;
		return 0;
	}
	place(m, a, k, p, now_ms);
	return p;
}

size_t medport_claims(struct medport *m, const struct sn_addr *pub, const struct sn_addr *priv,
		      uint8_t proto, uint64_t now_ms, struct medport_claim *out, size_t max)
{
	int32_t i = m->kb[hash_party(m, pub, priv, proto)];
	size_t n = 0;

	while (i >= 0) {
		struct ent *x = &m->e[i];
		int32_t next = x->knext;

		if (x->k.proto == proto && sn_addr_equal(&x->k.priv, priv) &&
		    sn_addr_equal(&x->k.pub, pub)) {
			if (x->expires_ms <= now_ms) {
				ent_free(m, i);
			} else {
				x->expires_ms = now_ms + (uint64_t)m->c.ttl_s * 1000u;
				if (x->pub_port != x->k.port && n < max)
					out[n++] = (struct medport_claim){ x->k.port, x->pub_port };
			}
		}
		i = next;
	}
	return n;
}

bool medport_refused(struct medport *m, const struct sn_addr *pub, uint16_t port, uint8_t proto,
		     uint64_t now_ms)
{
	int32_t i = m->pb[hash_pub(m, pub, port, proto)];
	struct ent *x;

	m->st.refused++;
	while (i >= 0) {
		x = &m->e[i];
		if (x->state == E_BUSY && x->pub_port == port && x->k.proto == proto &&
		    sn_addr_equal(&x->k.pub, pub) && x->expires_ms > now_ms)
			return false;
		i = x->pnext;
	}
	if ((i = ent_alloc(m)) < 0)
		return false;
	x = &m->e[i];
	memset(x, 0, sizeof(*x));
	x->k.pub = *pub;
	x->k.proto = proto;
	x->pub_port = port;
	x->state = E_BUSY;
	x->expires_ms = now_ms + (uint64_t)m->c.busy_s * 1000u;
	x->knext = -1;
	pub_link(m, i);
	m->st.busy++;
	return true;
}

size_t medport_expire(struct medport *m, uint64_t now_ms, size_t max)
{
	size_t n = 0;

	for (uint32_t i = 0; i < m->c.max && n < max; i++)
		if (m->e[i].state != E_FREE && m->e[i].expires_ms <= now_ms) {
			ent_free(m, (int32_t)i);
			n++;
		}
	return n;
}

void medport_get_stats(const struct medport *m, struct medport_stats *st)
{
	*st = m->st;
}
