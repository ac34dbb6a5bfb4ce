/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fp.h - sipnat_fp's internal map: the flow object, the per-namespace table
 * and the functions each part exports to the others.  Grouped by file, so
 * this header is the map of the module.  The contract with userspace is
 * uapi/sipnat_fp.h, not this file.
 */
#ifndef SIPNAT_FP_H
#define SIPNAT_FP_H

#include <linux/idr.h>
#include <linux/jhash.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/dst.h>
#include <net/ipv6.h>

#include "rtp.h"
#include "uapi/sipnat_fp.h"

/* The hash doubles whenever it holds more flows than buckets, from
 * 2^FP_HASH_MIN_BITS (512 bytes) up to 2^FP_HASH_MAX_BITS buckets. */
#define FP_HASH_MIN_BITS	6
#define FP_HASH_MAX_BITS	20

/*
 * One generation of a namespace's hash.  A flow is linked into the current
 * table through hnode[node]; growing links every flow into the next table
 * through the other node, publishes it and waits for a grace period before
 * the old one (and its nodes) may be reused, so a reader that still walks
 * the old table never sees a chain change under it.
 */
struct fp_table {
	unsigned int bits;
	unsigned int node;		/* index into fp_flow.hnode */
	struct hlist_head buckets[];
};

/* Counters the packet path bumps without a lock: one copy per CPU. */
struct fp_pcpu {
	u64 packets;
	u64 bytes;
	struct u64_stats_sync syncp;
};

/* One CPU's route towards a flow's new destination, with the reference
 * the cache holds; the hooks use it without taking one of their own. */
struct fp_dst {
	struct dst_entry *dst;
	u32 cookie;			/* for dst_check() (IPv6) */
	u32 mtu;			/* IPv4: the forwarding MTU when cached */
};

/* What userspace asked for (netlink.c fills it, flow.c checks the table). */
struct fp_flow_cfg {
	u16 family;
	u8 has_saddr, has_sport, has_new_saddr, has_new_daddr;
	union nf_inet_addr match_daddr, match_saddr, new_saddr, new_daddr;
	__be16 match_dport, match_sport, new_sport, new_dport;	/* 0: keep */
	u32 flags;
	u8 dscp;
	u32 timeout_s, clock_rate, latch_window_ms, reverse_id;
	u32 owner;			/* netlink portid, with SIPNAT_FP_F_OWNED */
	u64 cookie;
};

#define FP_LATCHED	0x10000u	/* fp_flow.latch: latched, port in low bits */

/*
 * One direction of one media stream.  Everything but the fields marked
 * otherwise is written once before the flow is published (hlist_add_head_rcu)
 * and only read afterwards.
 */
struct fp_flow {
	struct hlist_node hnode[2];	/* fp_net.table, RCU; writers hold fp_net.lock */
	struct list_head lnode;		/* fp_net.flows, under fp_net.lock */
	struct rcu_head rcu;
	struct fp_flow_cfg cfg;
	u32 id;
	unsigned long created;		/* jiffies */
	unsigned long last_seen;	/* jiffies; packet path, WRITE_ONCE */
	unsigned long latch_until;	/* jiffies; end of the latching window */
	u32 latch;			/* 0 or FP_LATCHED|port (host order); cmpxchg */
	__be16 new_dport;		/* cfg.new_dport, or the reverse flow's
					 * latched port; READ_ONCE/WRITE_ONCE */
	struct fp_flow __rcu *reverse;	/* other direction; fp_net.lock */
	struct fp_pcpu __percpu *stats;
	struct fp_dst __percpu *route;	/* hooks only, on their own CPU */
	spinlock_t rtp_lock;		/* serialises rtp (packet path, BH) */
	struct fp_rtp rtp;
};

/* Everything sipnat_fp keeps for one network namespace. */
struct fp_net {
	struct net *net;
	struct mutex lock;		/* writers: hash, flows, ids, gen, reverse */
	struct fp_table __rcu *table;	/* RCU readers: the hooks */
	struct list_head flows;
	struct idr ids;
	u32 hash_seed;
	unsigned int count;		/* read locklessly by the hooks */
	unsigned int owned;		/* flows with SIPNAT_FP_F_OWNED */
	unsigned int gen;		/* bumped on every add/remove, for dumps */
	struct delayed_work gc;
	struct nf_hook_ops hooks[2];
};

/* main.c */
extern unsigned int fp_max_flows;
struct fp_net *fp_net(struct net *net);

/* flow.c */
int fp_flow_net_init(struct fp_net *fn);
void fp_flow_net_exit(struct fp_net *fn);
struct fp_flow *fp_flow_add(struct fp_net *fn, const struct fp_flow_cfg *cfg,
			    struct netlink_ext_ack *extack, int *err);
void fp_flow_remove(struct fp_net *fn, struct fp_flow *f);
void fp_flow_flush(struct fp_net *fn);
void fp_flow_release_owner(struct fp_net *fn, u32 portid);
bool fp_flow_latch(struct fp_flow *f, __be16 sport);
void fp_flow_stats(struct fp_flow *f, u64 *packets, u64 *bytes, struct fp_rtp *rtp);
void fp_flow_dst_set(struct fp_dst *c, struct dst_entry *dst, u32 cookie, u32 mtu);

/*
 * The table's lookup and the per-packet accounting are flow.c's, but
 * written here, inline: the hooks run them for every packet, and a call
 * into another object file costs more than their bodies.
 */
static inline bool fp_addr_eq(u16 family, const union nf_inet_addr *a,
			      const union nf_inet_addr *b)
{
	if (family == AF_INET)
		return a->ip == b->ip;
	return ipv6_addr_equal(&a->in6, &b->in6);
}

static __always_inline struct hlist_head *fp_bucket(const struct fp_net *fn, struct fp_table *t,
					   u16 family, const union nf_inet_addr *daddr,
					   __be16 dport)
{
	u32 h;

	if (family == AF_INET)
		h = jhash_2words((__force u32)daddr->ip, (__force u32)dport, fn->hash_seed);
	else
		h = jhash2((const u32 *)daddr->all, 4, fn->hash_seed ^ (__force u32)dport);
	return &t->buckets[h >> (32 - t->bits)];
}

/* The flow whose hnode[@idx] is @n. */
static inline struct fp_flow *fp_flow_of(struct hlist_node *n, unsigned int idx)
{
	return container_of(n - idx, struct fp_flow, hnode[0]);
}

/* The flow a packet belongs to, or NULL; caller in an RCU read section.
 * A flow with a source selector wins over one without. */
static __always_inline struct fp_flow *
fp_flow_match(struct fp_net *fn, u16 family, const union nf_inet_addr *saddr, __be16 sport,
	      const union nf_inet_addr *daddr, __be16 dport)
{
	struct fp_table *t = rcu_dereference(fn->table);
	struct fp_flow *f, *wild = NULL;
	struct hlist_node *n;

	__hlist_for_each_rcu(n, fp_bucket(fn, t, family, daddr, dport)) {
		f = fp_flow_of(n, t->node);
		if (f->cfg.family != family || f->cfg.match_dport != dport ||
		    !fp_addr_eq(family, &f->cfg.match_daddr, daddr))
			continue;
		if (!f->cfg.has_saddr) {
			wild = wild ?: f;
			continue;
		}
		if (!fp_addr_eq(family, &f->cfg.match_saddr, saddr))
			continue;
		if (f->cfg.has_sport && f->cfg.match_sport != sport)
			continue;
		if ((f->cfg.flags & SIPNAT_FP_F_LATCH) && !fp_flow_latch(f, sport))
			continue;
		return f;
	}
	return wild;
}

/*
 * Accounts one forwarded packet: per-CPU counters, last_seen (skipping the
 * store when it holds this jiffy already, so the line stays shared), and
 * the RTP figures from @rtp (NULL: the payload is too short).  The arrival
 * time is read only for flows with a clock rate (jitter).
 */
static __always_inline void fp_flow_seen(struct fp_flow *f, unsigned int len, const u8 *rtp)
{
	struct fp_pcpu *s = this_cpu_ptr(f->stats);
	unsigned long now = jiffies;
	u64 t;

	u64_stats_update_begin(&s->syncp);
	s->packets++;
	s->bytes += len;
	u64_stats_update_end(&s->syncp);
	if (READ_ONCE(f->last_seen) != now)
		WRITE_ONCE(f->last_seen, now);
	if (!rtp)
		return;
	t = f->cfg.clock_rate ? ktime_get_ns() : 0;
	spin_lock(&f->rtp_lock);
	fp_rtp_update(&f->rtp, rtp, FP_RTP_HDR_LEN, t, f->cfg.clock_rate);
	spin_unlock(&f->rtp_lock);
}

/* hook.c */
unsigned int fp_hook_ipv4(void *priv, struct sk_buff *skb, const struct nf_hook_state *state);
unsigned int fp_hook_ipv6(void *priv, struct sk_buff *skb, const struct nf_hook_state *state);

/* selftest.c (SELFTEST=1 builds only) */
bool __init fp_selftest(void);

/* netlink.c */
int fp_genl_init(void);
void fp_genl_exit(void);
void fp_genl_notify_expired(struct fp_net *fn, struct fp_flow *f);

#endif
