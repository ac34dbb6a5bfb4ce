/* pat.c - see pat.h.
 *
 * Layout: one slot per public port and protocol (the pool is at most
 * 65535 ports, so slots are an array indexed by port - lo: pat_by_pub()
 * is O(1)), and a hash of private keys chaining through the slots.  The
 * keys come from the inside (the phones' own addresses and ports), not
 * from arbitrary peers, so a plain FNV-1a hash is enough here.
 *
 * A slot is free, live (in the hash) or dead: a lease that expired or was
 * moved, waiting for pat_expire() to hand it to the caller, so the kernel
 * element for that port is gone before the port is leased again.
 */
#include "pat.h"

#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

enum { S_FREE, S_LIVE, S_DEAD };

struct slot {
	struct pat_key key;
	uint64_t expires_ms;
	uint64_t stamp;		/* the caller's (pat_stamp) */
	int32_t next;		/* hash chain, -1 ends it */
	uint8_t state;
};

struct pool {
	struct slot *s;		/* n slots: public port lo + i */
	int32_t *head;		/* nb buckets */
	uint32_t cursor;	/* next-fit start */
	size_t live;
};

struct pat {
	struct pat_conf c;
	uint32_t n, nb;
	struct pool pool[2];	/* UDP, TCP */
};

static struct pool *pool_of(struct pat *p, uint8_t proto)
{
	if (proto == IPPROTO_UDP)
		return &p->pool[0];
	if (proto == IPPROTO_TCP)
		return &p->pool[1];
	return NULL;
}

static uint32_t hash(const struct pat_key *k, uint32_t nb)
{
	uint32_t h = 2166136261u;
	size_t alen = k->addr.family == AF_INET6 ? 16 : 4;
	uint8_t tail[3] = { (uint8_t)(k->port >> 8), (uint8_t)k->port, k->proto };

	for (size_t i = 0; i < alen; i++)
		h = (h ^ k->addr.u.bytes[i]) * 16777619u;
	for (size_t i = 0; i < sizeof(tail); i++)
		h = (h ^ tail[i]) * 16777619u;
	return h & (nb - 1);
}

static bool key_eq(const struct pat_key *a, const struct pat_key *b)
{
	return a->port == b->port && a->proto == b->proto && sn_addr_equal(&a->addr, &b->addr);
}

struct pat *pat_new(const struct pat_conf *c)
{
	struct pat *p;

	if (!c || c->lo == 0 || c->hi < c->lo)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->c = *c;
	p->n = (uint32_t)(c->hi - c->lo) + 1;
	p->nb = 1;
	while (p->nb < p->n)
		p->nb <<= 1;
	for (int i = 0; i < 2; i++) {
		p->pool[i].s = calloc(p->n, sizeof(struct slot));
		p->pool[i].head = malloc(p->nb * sizeof(int32_t));
		if (!p->pool[i].s || !p->pool[i].head) {
			pat_free(p);
			return NULL;
		}
		memset(p->pool[i].head, 0xff, p->nb * sizeof(int32_t));	/* -1 */
	}
	return p;
}

void pat_free(struct pat *p)
{
	if (!p)
		return;
	for (int i = 0; i < 2; i++) {
		free(p->pool[i].s);
		free(p->pool[i].head);
	}
	free(p);
}

static int32_t find(const struct pat *p, const struct pool *pl, const struct pat_key *k)
{
	for (int32_t i = pl->head[hash(k, p->nb)]; i >= 0; i = pl->s[i].next)
		if (key_eq(&pl->s[i].key, k))
			return i;
	return -1;
}

static void unlink_slot(struct pat *p, struct pool *pl, int32_t i)
{
	int32_t *pp = &pl->head[hash(&pl->s[i].key, p->nb)];

	while (*pp >= 0 && *pp != i)
		pp = &pl->s[*pp].next;
	if (*pp == i)
		*pp = pl->s[i].next;
	pl->s[i].next = -1;
}

/* Live -> dead: out of the hash, handed back by the next pat_expire(). */
static void kill_slot(struct pat *p, struct pool *pl, int32_t i)
{
	unlink_slot(p, pl, i);
	pl->s[i].state = S_DEAD;
	pl->s[i].expires_ms = 0;
	pl->live--;
}

static void take(struct pat *p, struct pool *pl, int32_t i, const struct pat_key *k,
		 uint64_t now_ms)
{
	uint32_t h = hash(k, p->nb);

	pl->s[i].key = *k;
	pl->s[i].stamp = 0;
	pl->s[i].state = S_LIVE;
	pl->s[i].expires_ms = now_ms + (uint64_t)p->c.ttl_s * 1000u;
	pl->s[i].next = pl->head[h];
	pl->head[h] = i;
	pl->live++;
}

/* A free slot (step 1) or a free even/odd pair (step 2), next-fit from
 * the cursor; -1 when there is none. */
static int32_t find_free(const struct pat *p, struct pool *pl, bool pair)
{
	for (uint32_t n = 0; n < p->n; n++) {
		uint32_t i = (pl->cursor + n) % p->n;

		if (pl->s[i].state != S_FREE)
			continue;
		if (!pair) {
			pl->cursor = (i + 1) % p->n;
			return (int32_t)i;
		}
		if (((p->c.lo + i) & 1) == 0 && i + 1 < p->n && pl->s[i + 1].state == S_FREE) {
			pl->cursor = (i + 2) % p->n;
			return (int32_t)i;
		}
	}
	return -1;
}

uint16_t pat_get(struct pat *p, const struct pat_key *k, uint64_t now_ms, bool *is_new)
{
	struct pool *pl = pool_of(p, k->proto);
	int32_t i;

	if (is_new)
		*is_new = false;
	if (!pl || k->port == 0)
		return 0;
	i = find(p, pl, k);
	if (i >= 0) {
		pl->s[i].expires_ms = now_ms + (uint64_t)p->c.ttl_s * 1000u;
		return (uint16_t)(p->c.lo + i);
	}
	i = find_free(p, pl, false);
	if (i < 0)
		return 0;
	take(p, pl, i, k, now_ms);
	if (is_new)
		*is_new = true;
	return (uint16_t)(p->c.lo + i);
}

uint16_t pat_get_pair(struct pat *p, const struct pat_key *k, uint64_t now_ms, bool *is_new)
{
	struct pool *pl = pool_of(p, k->proto);
	struct pat_key k2;
	int32_t a, b;

	if (is_new)
		*is_new = false;
	if (!pl || k->port == 0 || k->port == 65535)
		return 0;
	k2 = *k;
	k2.port++;
	a = find(p, pl, k);
	b = find(p, pl, &k2);
	if (a >= 0 && ((p->c.lo + a) & 1) == 0 && (b == a + 1 ||
	    (b < 0 && (uint32_t)a + 1 < p->n && pl->s[a + 1].state == S_FREE))) {
		uint64_t exp = now_ms + (uint64_t)p->c.ttl_s * 1000u;

		pl->s[a].expires_ms = exp;
		if (b < 0) {
			take(p, pl, a + 1, &k2, now_ms);
			if (is_new)
				*is_new = true;
		} else {
			pl->s[b].expires_ms = exp;
		}
		return (uint16_t)(p->c.lo + a);
	}
	/* Not a pair (yet): find a fresh one before giving up the old. */
	{
		int32_t i = find_free(p, pl, true);

		if (i < 0)
			return 0;
		if (a >= 0)
			kill_slot(p, pl, a);
		if (b >= 0)
			kill_slot(p, pl, b);
		take(p, pl, i, k, now_ms);
		take(p, pl, i + 1, &k2, now_ms);
		if (is_new)
			*is_new = true;
		return (uint16_t)(p->c.lo + i);
	}
}

uint16_t pat_lookup(const struct pat *p, const struct pat_key *k)
{
	const struct pool *pl = pool_of((struct pat *)p, k->proto);
	int32_t i = pl ? find(p, pl, k) : -1;

	return i >= 0 ? (uint16_t)(p->c.lo + i) : 0;
}

bool pat_by_pub(const struct pat *p, uint16_t pub_port, uint8_t proto, struct pat_key *out)
{
	const struct pool *pl = pool_of((struct pat *)p, proto);
	uint32_t i;

	if (!pl || pub_port < p->c.lo || pub_port > p->c.hi)
		return false;
	i = (uint32_t)(pub_port - p->c.lo);
	if (pl->s[i].state != S_LIVE)
		return false;
	if (out)
		*out = pl->s[i].key;
	return true;
}

size_t pat_leases_of(const struct pat *p, const struct sn_addr *a, uint8_t proto,
		     struct pat_lease *out, size_t max)
{
	const struct pool *pl = pool_of((struct pat *)p, proto);
	size_t n = 0;

	if (!pl || pl->live == 0)
		return 0;
	for (uint32_t i = 0; i < p->n && n < max; i++)
		if (pl->s[i].state == S_LIVE && sn_addr_equal(&pl->s[i].key.addr, a))
			out[n++] = (struct pat_lease){ pl->s[i].key, (uint16_t)(p->c.lo + i),
						       pl->s[i].expires_ms };
	return n;
}

bool pat_release(struct pat *p, const struct pat_key *k, struct pat_lease *out)
{
	struct pool *pl = pool_of(p, k->proto);
	int32_t i = pl ? find(p, pl, k) : -1;

	if (i < 0)
		return false;
	if (out)
		*out = (struct pat_lease){ pl->s[i].key, (uint16_t)(p->c.lo + i),
					   pl->s[i].expires_ms };
	unlink_slot(p, pl, i);
	pl->s[i].state = S_FREE;
	pl->live--;
	return true;
}

size_t pat_expire(struct pat *p, uint64_t now_ms, struct pat_lease *out, size_t max)
{
	size_t n = 0;

	for (int k = 0; k < 2; k++) {
		struct pool *pl = &p->pool[k];

		for (uint32_t i = 0; i < p->n && n < max; i++) {
			struct slot *s = &pl->s[i];

			if (s->state == S_FREE || (s->state == S_LIVE && s->expires_ms > now_ms))
				continue;
			out[n++] = (struct pat_lease){ s->key, (uint16_t)(p->c.lo + i),
						       s->expires_ms };
			if (s->state == S_LIVE) {
				unlink_slot(p, pl, (int32_t)i);
				pl->live--;
			}
			s->state = S_FREE;
		}
	}
	return n;
}

uint64_t pat_stamp(const struct pat *p, const struct pat_key *k)
{
	const struct pool *pl = pool_of((struct pat *)p, k->proto);
	int32_t i = pl ? find(p, pl, k) : -1;

	return i >= 0 ? pl->s[i].stamp : 0;
}

void pat_set_stamp(struct pat *p, const struct pat_key *k, uint64_t v)
{
	struct pool *pl = pool_of(p, k->proto);
	int32_t i = pl ? find(p, pl, k) : -1;

	if (i >= 0)
		pl->s[i].stamp = v;
}

size_t pat_count(const struct pat *p)
{
	return p->pool[0].live + p->pool[1].live;
}
