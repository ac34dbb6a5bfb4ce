/* pintable.c - see pintable.h.
 *
 * Each pinhole is a node in a hash table with a reference count and a
 * note of whether the kernel has it.  pin_sync() brings the two in line
 * by emitting an intent, or queues the node when out[] is full; queued
 * nodes are retried by pintable_flush() before anything else.  A node is
 * freed only when nobody needs it, the kernel does not have it and it is
 * not queued.
 */
#include "pintable.h"
#include "siphash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

struct pin_node {
	struct pin_node *next;	/* bucket chain */
	struct pin_node *qnext;	/* pending queue */
	struct pinhole ph;	/* timeout_s 0: not part of the key */
	uint32_t refs;
	bool in_kernel;		/* an open was emitted and no close since */
	bool queued;
};

struct pintable {
	struct pin_node **buckets;
	size_t nbuckets;
	size_t max;
	uint64_t key[2];
	size_t npins;		/* distinct pinholes with refs > 0 */
	struct pin_node *qhead, *qtail;	/* intents that did not fit in out[] */
	struct pintable_stats st;
};

static size_t pow2_at_least(size_t n, size_t lo, size_t hi)
{
	size_t v = lo;

	while (v < n && v < hi)
		v <<= 1;
	return v;
}

static size_t addr_len(const struct sn_addr *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

bool pinhole_equal(const struct pinhole *a, const struct pinhole *b)
{
	return a->l4proto == b->l4proto && a->dport == b->dport &&
	       sn_addr_equal(&a->src, &b->src) && sn_addr_equal(&a->dst, &b->dst);
}

static uint32_t pin_hash(const struct pintable *t, const struct pinhole *p)
{
	uint8_t k[36];
	size_t alen = addr_len(&p->src), blen = addr_len(&p->dst);

	k[0] = p->l4proto;
	k[1] = (uint8_t)(p->dport >> 8);
	k[2] = (uint8_t)p->dport;
	k[3] = (uint8_t)alen;
	memcpy(k + 4, p->src.u.bytes, alen);
	memcpy(k + 4 + alen, p->dst.u.bytes, blen);
	return (uint32_t)sn_siphash(t->key, k, 4 + alen + blen);
}

static bool emit_one(struct pin_emit *e, enum pin_op op, const struct pinhole *ph,
		     const char *why)
{
	struct pin_intent *pi;

	if (e->n >= e->max)
		return false;
	pi = &e->out[e->n++];
	memset(pi, 0, sizeof(*pi));
	pi->op = op;
	pi->ph = *ph;
	pi->ph.timeout_s = op == PIN_OPEN ? e->timeout_s : 0;
	pi->why = why;
	return true;
}

static void pin_enqueue(struct pintable *t, struct pin_node *n)
{
	if (n->queued)
		return;
	n->queued = true;
	n->qnext = NULL;
	if (t->qtail)
		t->qtail->qnext = n;
	else
		t->qhead = n;
	t->qtail = n;
	t->st.deferred++;
}

static void pin_unlink_free(struct pintable *t, struct pin_node *n)
{
	struct pin_node **pp = &t->buckets[pin_hash(t, &n->ph) & (t->nbuckets - 1)];

	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp)
		*pp = n->next;
	free(n);
}

/* Brings the kernel's view of one pinhole in line with its count, or
 * queues it when out[] is full.  Frees nodes nobody needs any more. */
static void pin_sync(struct pintable *t, struct pin_emit *e, struct pin_node *n,
		     const char *why)
{
	if (n->refs > 0 && !n->in_kernel) {
		if (emit_one(e, PIN_OPEN, &n->ph, why)) {
			n->in_kernel = true;
			t->st.opened++;
		} else {
			pin_enqueue(t, n);
		}
	} else if (n->refs == 0 && n->in_kernel) {
		if (emit_one(e, PIN_CLOSE, &n->ph, why)) {
			n->in_kernel = false;
			t->st.closed++;
		} else {
			pin_enqueue(t, n);
		}
	}
	if (n->refs == 0 && !n->in_kernel && !n->queued)
		pin_unlink_free(t, n);
}

void pintable_flush(struct pintable *t, struct pin_emit *e)
{
	while (t->qhead && e->n < e->max) {
		struct pin_node *n = t->qhead;

		t->qhead = n->qnext;
		if (!t->qhead)
			t->qtail = NULL;
		n->queued = false;
		pin_sync(t, e, n, n->refs ? "deferred" : "deferred close");
	}
}

static struct pin_node *pin_find(struct pintable *t, const struct pinhole *ph)
{
	struct pin_node *n = t->buckets[pin_hash(t, ph) & (t->nbuckets - 1)];

	while (n && !pinhole_equal(&n->ph, ph))
		n = n->next;
	return n;
}

/* Takes a reference; false when the table is full (nothing taken). */
bool pintable_ref(struct pintable *t, struct pin_emit *e, const struct pinhole *ph,
		  const char *why)
{
	struct pin_node *n = pin_find(t, ph);

	if (!n) {
		size_t b;

		if (t->npins >= t->max)
			return false;
		n = calloc(1, sizeof(*n));
		if (!n)
			return false;
		n->ph = *ph;
		n->ph.timeout_s = 0;
		b = pin_hash(t, ph) & (t->nbuckets - 1);
		n->next = t->buckets[b];
		t->buckets[b] = n;
	}
	if (n->refs == UINT32_MAX)
		return false;
	if (n->refs++ == 0)
		t->npins++;
	if (n->in_kernel && !n->queued)
		emit_one(e, PIN_OPEN, &n->ph, why);	/* another dialog's: refresh */
	pin_sync(t, e, n, why);
	return true;
}

void pintable_unref(struct pintable *t, struct pin_emit *e, const struct pinhole *ph,
		    const char *why)
{
	struct pin_node *n = pin_find(t, ph);

	if (!n || n->refs == 0)
		return;
	if (--n->refs == 0)
		t->npins--;
	pin_sync(t, e, n, why);
}

/* Re-emits an open for a pinhole already in the kernel, so its element
 * timeout starts again.  Best effort: skipped when out[] is full.
 * A new public endpoint (pub is not part of the identity, but backends
 * that translate program it: the inside party's media port moved) is a
 * close of the old one and an open of the new. */
void pintable_refresh(struct pintable *t, struct pin_emit *e, const struct pinhole *ph,
		      const char *why)
{
	struct pin_node *n = pin_find(t, ph);
	bool moved;

	if (!n)
		return;
	moved = n->ph.pub.port != ph->pub.port || !sn_addr_equal(&n->ph.pub.addr, &ph->pub.addr);
	if (moved && (!n->in_kernel || n->queued)) {
		n->ph.pub = ph->pub;	/* its pending open carries the new one */
		return;
	}
	if (!n->in_kernel || n->queued)
		return;
	if (moved) {
		if (e->n + 2 > e->max)
			return;	/* the next offer tries again */
		emit_one(e, PIN_CLOSE, &n->ph, why);
		n->ph.pub = ph->pub;
	}
	emit_one(e, PIN_OPEN, &n->ph, why);
}


struct pintable *pintable_new(size_t max, const uint64_t key[2])
{
	struct pintable *t = calloc(1, sizeof(*t));

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->max = max;
	t->key[0] = key[0];
	t->key[1] = key[1];
	t->nbuckets = pow2_at_least(max / 2, 64, 1u << 20);
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void pintable_free(struct pintable *t)
{
	if (!t)
		return;
	for (size_t b = 0; b < t->nbuckets; b++) {
		struct pin_node *n = t->buckets[b], *nx;

		for (; n; n = nx) {
			nx = n->next;
			free(n);
		}
	}
	free(t->buckets);
	free(t);
}

bool pintable_pending(const struct pintable *t)
{
	return t->qhead != NULL;
}

size_t pintable_count(const struct pintable *t)
{
	return t->npins;
}

void pintable_get_stats(const struct pintable *t, struct pintable_stats *st)
{
	*st = t->st;
}
