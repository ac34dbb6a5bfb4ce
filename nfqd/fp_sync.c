/* fp_sync.c - see fp_sync.h.
 *
 * Pinholes are kept in one hash keyed by (inside address, outside
 * address, inside port): an inbound pinhole's inside port is its dport,
 * an outbound one's its sport, so the two pinholes of one stream land in
 * the same chain and find each other in one lookup.  A pair (stream) is
 * made when both are open and fp_stream_flows accepts them; it carries a
 * cookie of its own, so one DEL removes both of its flows.
 *
 * Pair life: NEW (queued for add) -> LIVE (in the module) -> OFF (the
 * module refused it, expired it for idleness, or went away: media takes
 * the normal path and its pinholes age out as usual) ; a closed pinhole
 * makes any of them GONE (queued for delete if it was ever added).
 */
#include "fp_sync.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "../kmod/uapi/sipnat_fp.h"
#include "log.h"
#include "siphash.h"

#define PIN_BUCKETS 4096	/* chains stay short up to ~10k pinholes */
#define COOKIE_BUCKETS 1024
/* The module computes jitter only with the stream's RTP clock, which the
 * pinholes do not carry: 8 kHz is G.711/G.729's (the usual voice call);
 * other codecs' jitter figures are then in 8 kHz units, not theirs. */
#define FPS_CLOCK_RATE 8000

enum pstate { P_NEW, P_LIVE, P_OFF, P_GONE };

struct fps_pair;

struct fps_pin {
	struct fps_pin *next;		/* hash chain */
	struct pinhole ph;
	bool inbound;
	struct fps_pair *pair;
};

struct fps_pair {
	struct fps_pair *next, *prev;	/* every pair not GONE */
	struct fps_pair *cnext;		/* cookie chain */
	struct fps_pair *qnext;		/* pending queue */
	bool queued, added;
	enum pstate state;
	uint64_t cookie;
	struct fps_pin *pin[2];		/* [0] inbound, [1] outbound; NULL when GONE */
	struct fp_flow f[2];		/* the flows, with their last figures */
	bool seen[2];			/* in the last dump */
	uint64_t refreshed_pk[2], refreshed_ms[2];
};

struct fp_sync {
	struct fp_sync_conf conf;
	struct fp_client c;
	bool open;
	uint64_t last_tick, last_probe;
	uint64_t cookie;
	struct fps_pin *pins[PIN_BUCKETS];
	struct fps_pair *cookies[COOKIE_BUCKETS];
	struct fps_pair *all;
	struct fps_pair *qhead, *qtail;
	struct fp_sync_stats st;
	struct ratelimit rl;
	uint64_t now;			/* for the dump callback */
	const struct pinhole_ops *pin;
	void *pin_ctx;
};

/* ---- the pinhole hash ------------------------------------------------ */

static size_t pin_bucket(const struct fp_sync *s, const struct sn_addr *inside,
			 const struct sn_addr *outside, uint16_t port)
{
	struct {
		uint8_t fam, pad;
		uint16_t port;
		uint8_t in[16], out[16];
	} k;

	memset(&k, 0, sizeof(k));
	k.fam = (uint8_t)inside->family;
	k.port = port;
	memcpy(k.in, inside->u.bytes, sizeof(k.in));
	memcpy(k.out, outside->u.bytes, sizeof(k.out));
	return (size_t)(sn_siphash(s->conf.hash_key, &k, sizeof(k)) & (PIN_BUCKETS - 1));
}

/* The chain a pinhole (inbound or not) belongs to. */
static size_t pin_slot(const struct fp_sync *s, const struct pinhole *ph, bool inbound)
{
	return inbound ? pin_bucket(s, &ph->dst, &ph->src, ph->dport)
		       : pin_bucket(s, &ph->src, &ph->dst, ph->sport);
}

static bool same_pin(const struct pinhole *a, const struct pinhole *b)
{
	return a->l4proto == b->l4proto && a->dport == b->dport &&
	       sn_addr_equal(&a->src, &b->src) && sn_addr_equal(&a->dst, &b->dst);
}

/* Would in and out be the two pinholes of one stream? */
static bool partners(const struct fps_pin *in, const struct fps_pin *out)
{
	return in->inbound && !out->inbound && in->ph.dport == out->ph.sport &&
	       sn_addr_equal(&in->ph.dst, &out->ph.src) &&
	       sn_addr_equal(&in->ph.src, &out->ph.dst);
}

/* ---- pairs ------------------------------------------------------------ */

static struct fps_pair **cookie_slot(struct fp_sync *s, uint64_t cookie)
{
	return &s->cookies[cookie & (COOKIE_BUCKETS - 1)];
}

static struct fps_pair *pair_by_cookie(struct fp_sync *s, uint64_t cookie)
{
	for (struct fps_pair *p = *cookie_slot(s, cookie); p; p = p->cnext)
		if (p->cookie == cookie)
			return p;
	return NULL;
}

static void enqueue(struct fp_sync *s, struct fps_pair *p)
{
	if (p->queued)
		return;
	p->queued = true;
	p->qnext = NULL;
	if (s->qtail)
		s->qtail->qnext = p;
	else
		s->qhead = p;
	s->qtail = p;
}

static void pair_new(struct fp_sync *s, struct fps_pin *in, struct fps_pin *out)
{
	struct fps_pair *p = calloc(1, sizeof(*p));
	struct fps_pair **slot;

	if (!p)
		return;		/* the stream stays on the normal path */
	p->cookie = ++s->cookie;
	if (fp_stream_flows(s->conf.map, &in->ph, &out->ph, p->cookie, s->conf.timeout_s,
			    FPS_CLOCK_RATE, &p->f[0], &p->f[1])) {
		free(p);
		s->st.unpaired++;
		return;
	}
	p->state = P_NEW;
	p->pin[0] = in;
	p->pin[1] = out;
	in->pair = out->pair = p;
	slot = cookie_slot(s, p->cookie);
	p->cnext = *slot;
	*slot = p;
	p->next = s->all;
	if (s->all)
		s->all->prev = p;
	s->all = p;
	enqueue(s, p);
}

/* A pinhole of p closed: p leaves every index and is queued for its
 * delete (or dropped at once if it never reached the module). */
static void pair_gone(struct fp_sync *s, struct fps_pair *p)
{
	struct fps_pair **pp;

	for (int k = 0; k < 2; k++)
		if (p->pin[k]) {
			p->pin[k]->pair = NULL;
			p->pin[k] = NULL;
		}
	for (pp = cookie_slot(s, p->cookie); *pp && *pp != p; pp = &(*pp)->cnext)
		;
	if (*pp)
		*pp = p->cnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		s->all = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
	if (p->state == P_LIVE)
		s->st.removed++;
	p->state = P_GONE;
	enqueue(s, p);	/* freed when taken */
}

/* ---- the pure part ------------------------------------------------------ */

struct fp_sync *fp_sync_new(const struct fp_sync_conf *c)
{
	struct fp_sync *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->conf = *c;
	s->cookie = c->cookie_base;
	s->rl = (struct ratelimit)RATELIMIT_INIT;
	return s;
}

void fp_sync_free(struct fp_sync *s)
{
	struct fps_pair *p, *n;

	if (!s)
		return;
	fp_close(&s->c);	/* owned flows go with the socket */
	for (size_t i = 0; i < PIN_BUCKETS; i++)
		while (s->pins[i]) {
			struct fps_pin *pin = s->pins[i];

			s->pins[i] = pin->next;
			if (pin->pair)
				pair_gone(s, pin->pair);
			free(pin);
		}
	for (p = s->qhead; p; p = n) {
		n = p->qnext;
		free(p);
	}
	free(s);
}

void fp_sync_pin(struct fp_sync *s, bool open, const struct pinhole *ph)
{
	bool inbound = ph->pub.addr.family || natmap_by_priv(s->conf.map, &ph->dst);
	struct fps_pin **pp, *pin, *o;
	size_t slot;

	/* The module forwards UDP only; an outbound pinhole without sport
	 * names no inbound partner. */
	if (ph->l4proto != IPPROTO_UDP || (!inbound && !ph->sport))
		return;
	slot = pin_slot(s, ph, inbound);
	for (pp = &s->pins[slot]; *pp; pp = &(*pp)->next)
		if ((*pp)->inbound == inbound && same_pin(&(*pp)->ph, ph))
			break;
	if (!open) {
		if (!*pp)
			return;
		pin = *pp;
		*pp = pin->next;
		if (pin->pair)
			pair_gone(s, pin->pair);
		free(pin);
		return;
	}
	if (*pp)
		return;		/* a refresh: nothing changes for the module */
	pin = calloc(1, sizeof(*pin));
	if (!pin)
		return;
	pin->ph = *ph;
	pin->inbound = inbound;
	pin->next = s->pins[slot];
	s->pins[slot] = pin;
	for (o = pin->next; o; o = o->next)
		if (!o->pair && (inbound ? partners(pin, o) : partners(o, pin))) {
			if (inbound)
				pair_new(s, pin, o);
			else
				pair_new(s, o, pin);
			return;
		}
}

/* The next queued pair, or NULL.  GONE pairs that never reached the
 * module are freed here without being returned. */
static struct fps_pair *pop(struct fp_sync *s)
{
	struct fps_pair *p;

	while ((p = s->qhead)) {
		s->qhead = p->qnext;
		if (!s->qhead)
			s->qtail = NULL;
		p->queued = false;
		if (p->state == P_GONE && !p->added) {
			free(p);
			continue;
		}
		return p;
	}
	return NULL;
}

bool fp_sync_take(struct fp_sync *s, struct fp_change *c)
{
	struct fps_pair *p;

	while ((p = pop(s))) {
		memset(c, 0, sizeof(*c));
		c->cookie = p->cookie;
		if (p->state == P_GONE) {
			free(p);
			return true;
		}
		if (p->state != P_NEW)
			continue;
		c->add = true;
		c->in = p->f[0];
		c->out = p->f[1];
		p->state = P_LIVE;
		p->added = true;
		return true;
	}
	return false;
}

bool fp_sync_seen(struct fp_sync *s, const struct fp_flow *f, uint64_t now_ms,
		  struct pinhole *refresh)
{
	struct fps_pair *p = pair_by_cookie(s, f->cookie);
	uint64_t every = s->conf.timeout_s * 1000ULL / 4;
	int k;

	if (!p || p->state != P_LIVE)
		return false;
	/* Which direction: the match is unique per namespace (EEXIST). */
	for (k = 0; k < 2; k++)
		if (sn_addr_equal(&f->match_dst.addr, &p->f[k].match_dst.addr) &&
		    f->match_dst.port == p->f[k].match_dst.port)
			break;
	if (k == 2)
		return false;
	p->seen[k] = true;
	p->f[k].id = f->id;
	p->f[k].st = f->st;
	if (every < 1000)
		every = 1000;
	/* Packets since the last refresh: the stream is alive on the fast
	 * path, which the pinhole's set no longer sees. */
	if (f->st.packets <= p->refreshed_pk[k] || now_ms - p->refreshed_ms[k] < every)
		return false;
	p->refreshed_pk[k] = f->st.packets;
	p->refreshed_ms[k] = now_ms;
	s->st.refreshed++;
	*refresh = p->pin[k]->ph;
	return true;
}

void fp_sync_get_stats(const struct fp_sync *s, struct fp_sync_stats *st)
{
	*st = s->st;
	st->streams = 0;
	for (const struct fps_pair *p = s->all; p; p = p->next)
		st->streams += p->state == P_LIVE;
}

/* ---- talking to the module ------------------------------------------ */

int fp_sync_start(struct fp_sync *s)
{
	if (fp_open(&s->c) < 0)
		return -1;
	s->open = true;
	return 0;
}

bool fp_sync_active(const struct fp_sync *s)
{
	return s->open;
}

/* The family is gone (module unloaded): its flows went with it. */
static void module_gone(struct fp_sync *s)
{
	fp_close(&s->c);
	s->open = false;
	for (struct fps_pair *p = s->all; p; p = p->next)
		if (p->state == P_LIVE || p->state == P_NEW)
			p->state = P_OFF;
	log_info("fastpath: sipnat_fp is gone; media takes the normal path (pinholes kept)");
}

static bool family_gone(int e)
{
	return e == ENOENT || e == EOPNOTSUPP || e == ENODEV;
}

/* 0, or the errno of the add the module refused. */
static int commit_add(struct fp_sync *s, struct fps_pair *p)
{
	struct fp_flow in = p->f[0], out = p->f[1];
	char m[SN_ADDRSTRLEN];
	int e;

	p->state = P_OFF;
	if (!s->open)
		return 0;
	if (fp_add(&s->c, &in) == 0) {
		out.reverse_id = in.id;
		if (fp_add(&s->c, &out) == 0) {
			p->f[0].id = in.id;
			p->f[1].id = out.id;
			p->f[1].reverse_id = in.id;
			p->state = P_LIVE;
			p->seen[0] = p->seen[1] = true;
			p->refreshed_ms[0] = p->refreshed_ms[1] = now_ms();
			s->st.added++;
			log_debug("fastpath: stream %" PRIu64 " flows %" PRIu32 "/%" PRIu32,
				  p->cookie, in.id, out.id);
			return 0;
		}
		e = errno;
		fp_del(&s->c, in.id);
	} else {
		e = errno;
	}
	s->st.failed++;
	sn_endpoint_format(&p->f[0].match_dst, m, sizeof(m));
	log_rl(&s->rl, LOG_L_WARN, "fastpath: stream to %s stays on the normal path: %s", m,
	       strerror(e));
	return e;
}

void fp_sync_commit(struct fp_sync *s)
{
	struct fps_pair *p;

	while ((p = pop(s))) {
		if (p->state == P_NEW) {
			p->added = true;
			if (family_gone(commit_add(s, p)))
				module_gone(s);
		} else if (p->state == P_GONE) {
			if (s->open && fp_del_cookie(&s->c, p->cookie) < 0 && errno != ENOENT)
				log_rl(&s->rl, LOG_L_WARN, "fastpath: remove stream %" PRIu64 ": %s",
				       p->cookie, strerror(errno));
			free(p);
		}
	}
}

static int dump_cb(const struct fp_flow *f, void *arg)
{
	struct fp_sync *s = arg;
	struct pinhole ph;

	if (fp_sync_seen(s, f, s->now, &ph) && s->pin &&
	    s->pin->add(s->pin_ctx, &ph) < 0)
		log_rl(&s->rl, LOG_L_WARN, "fastpath: refresh pinhole port %u: %s", ph.dport,
		       strerror(errno));
	return 0;
}

void fp_sync_tick(struct fp_sync *s, uint64_t now_ms, const struct pinhole_ops *pin,
		  void *pin_ctx)
{
	bool intr = false, live = false;

	if (now_ms - s->last_tick < 1000)
		return;
	s->last_tick = now_ms;
	if (!s->open) {
		if (now_ms - s->last_probe < FP_SYNC_PROBE_MS)
			return;
		s->last_probe = now_ms;
		if (fp_sync_start(s) == 0)
			log_info("fastpath: sipnat_fp is loaded; new media streams use it");
		return;
	}
	for (struct fps_pair *p = s->all; p; p = p->next)
		if (p->state == P_LIVE) {
			p->seen[0] = p->seen[1] = false;
			live = true;
		}
	if (!live)
		return;
	s->now = now_ms;
	s->pin = pin;
	s->pin_ctx = pin_ctx;
	if (fp_dump(&s->c, false, 0, dump_cb, s, &intr) < 0) {
		if (family_gone(errno))
			module_gone(s);
		else
			log_rl(&s->rl, LOG_L_WARN, "fastpath: list flows: %s", strerror(errno));
		for (struct fps_pair *p = s->all; p; p = p->next)
			p->seen[0] = p->seen[1] = true;	/* not known to be gone */
		return;
	}
	if (intr)
		return;		/* a flow may have been missed: judge next time */
	/* Both flows gone: the module expired them (idle).  The pinholes are
	 * no longer refreshed and age out unless media resumes on the normal
	 * path, which refreshes them itself. */
	for (struct fps_pair *p = s->all; p; p = p->next)
		if (p->state == P_LIVE && !p->seen[0] && !p->seen[1]) {
			p->state = P_OFF;
			s->st.expired++;
			log_debug("fastpath: stream %" PRIu64 " idle, removed by the module",
				  p->cookie);
		}
}

/* ---- status ------------------------------------------------------------ */

struct fmt_out {
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct fmt_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Whole items or nothing: a cut JSON object would spoil the reply. */
static void put(struct fmt_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->buf[o->len] = '\0';
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

size_t fp_sync_format(const struct fp_sync *s, bool json, char *buf, size_t size)
{
	struct fmt_out o = { buf, size, 0, false };
	char line[512], m[SN_ADDRSTRLEN];
	int shown = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (const struct fps_pair *p = s->all; p && shown < FP_SYNC_STATUS_MAX; p = p->next) {
		if (p->state != P_LIVE)
			continue;
		shown++;
		for (int k = 0; k < 2; k++) {
			const struct fp_flow *f = &p->f[k];
			const char *dir = k ? "out" : "in";

			if (!p->seen[k])
				continue;	/* expired in the module */
			if (!json) {
				if (fp_format(f, line, sizeof(line)) < 0)
					continue;
				put(&o, "fastpath-flow dir=%s %s\n", dir, line);
				continue;
			}
			sn_endpoint_format(&f->match_dst, m, sizeof(m));
			put(&o, "%s{\"id\": %" PRIu32 ", \"dir\": \"%s\", \"cookie\": %" PRIu64
			    ", \"match\": \"%s\", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
			    ", \"idle-ms\": %" PRIu64 ", \"rtp-packets\": %" PRIu64
			    ", \"rtp-lost\": %" PRIu64 ", \"jitter\": %" PRIu32
			    ", \"ssrc-changes\": %" PRIu32 "}",
			    o.len ? ", " : "", f->id, dir, f->cookie, m, f->st.packets,
			    f->st.bytes, f->st.idle_ms, f->st.rtp_packets, f->st.rtp_lost,
			    f->st.has_jitter ? f->st.rtp_jitter : 0, f->st.rtp_ssrc_changes);
		}
	}
	return o.len;
}
