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
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/dst.h>

#include "rtp.h"
#include "uapi/sipnat_fp.h"

#define FP_HASH_BITS	10	/* buckets per namespace: 8 KiB on 64-bit */

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
	u32 cookie;			/* for dst->ops->check (IPv6) */
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
	struct hlist_node hnode;	/* fp_net.hash, RCU; writers hold fp_net.lock */
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
	struct hlist_head *hash;	/* RCU readers: the hooks */
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
struct fp_flow *fp_flow_match(struct fp_net *fn, u16 family,
			       const union nf_inet_addr *saddr, __be16 sport,
			       const union nf_inet_addr *daddr, __be16 dport);
void fp_flow_seen(struct fp_flow *f, unsigned int len, const u8 *rtp, size_t rtplen);
void fp_flow_stats(struct fp_flow *f, u64 *packets, u64 *bytes, struct fp_rtp *rtp);
struct dst_entry *fp_flow_dst(struct fp_flow *f);
void fp_flow_dst_set(struct fp_flow *f, struct dst_entry *dst, u32 cookie);

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
