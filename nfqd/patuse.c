/* patuse.c - see patuse.h.
 *
 * A flat array searched linearly: it holds the inbound media pinholes of
 * masqueraded phones only (a few per call), and is looked at once per
 * pinhole intent, not per packet.  Grows by doubling up to max.
 */
#include "patuse.h"

#include <stdlib.h>
#include <string.h>

struct use {
	struct sn_addr peer;
	struct sn_endpoint ep;
	uint8_t proto;
};

struct patuse {
	struct use *v;
	size_t n, cap, max;
	bool lossy;
};

struct patuse *patuse_new(size_t max)
{
	struct patuse *u = calloc(1, sizeof(*u));

	if (u)
		u->max = max;
	return u;
}

void patuse_free(struct patuse *u)
{
	if (!u)
		return;
	free(u->v);
	free(u);
}

static bool ep_equal(const struct sn_endpoint *a, const struct sn_endpoint *b)
{
	return a->port == b->port && sn_addr_equal(&a->addr, &b->addr);
}

static long find(const struct patuse *u, const struct sn_addr *peer,
		 const struct sn_endpoint *ep, uint8_t proto)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i].proto == proto && ep_equal(&u->v[i].ep, ep) &&
		    sn_addr_equal(&u->v[i].peer, peer))
			return (long)i;
	return -1;
}

bool patuse_open(struct patuse *u, const struct sn_addr *peer, const struct sn_endpoint *ep,
		 uint8_t proto)
{
	if (find(u, peer, ep, proto) >= 0)
		return true;
	if (u->n == u->cap) {
		size_t nc = u->cap ? u->cap * 2 : 16;
		struct use *nv;

		if (nc > u->max)
			nc = u->max;
		if (nc <= u->cap || !(nv = realloc(u->v, nc * sizeof(*nv)))) {
			u->lossy = true;
			return false;
		}
		u->v = nv;
		u->cap = nc;
	}
	u->v[u->n++] = (struct use){ *peer, *ep, proto };
	return true;
}

bool patuse_close(struct patuse *u, const struct sn_addr *peer, const struct sn_endpoint *ep,
		  uint8_t proto)
{
	long i = find(u, peer, ep, proto);

	if (i < 0)
		return false;
	u->v[i] = u->v[--u->n];
	if (u->n == 0)
		u->lossy = false;	/* nothing unseen can be left */
	return true;
}

size_t patuse_count(const struct patuse *u, const struct sn_endpoint *ep, uint8_t proto)
{
	size_t c = 0;

	for (size_t i = 0; i < u->n; i++)
		c += u->v[i].proto == proto && ep_equal(&u->v[i].ep, ep);
	return c;
}

size_t patuse_count_addr(const struct patuse *u, const struct sn_addr *addr)
{
	size_t c = 0;

	for (size_t i = 0; i < u->n; i++)
		c += sn_addr_equal(&u->v[i].ep.addr, addr);
	return c;
}

void patuse_at(const struct patuse *u, size_t i, struct sn_endpoint *ep, uint8_t *proto)
{
	*ep = u->v[i].ep;
	*proto = u->v[i].proto;
}

bool patuse_reliable(const struct patuse *u)
{
	return !u->lossy;
}

size_t patuse_size(const struct patuse *u)
{
	return u->n;
}
