// SPDX-License-Identifier: GPL-2.0
/*
 * flow.c - the per-namespace flow table: RCU hash for the hooks, an IDR and a
 * list for the control path, per-CPU counters, idle collection.
 *
 * Owns: flow lifetime (add, link, latch, remove, free after a grace period)
 * and the table's lock.  Must not: parse netlink (netlink.c hands it a
 * checked fp_flow_cfg) or look into packets beyond what hook.c passes in.
 *
 * Locking: writers hold fp_net.lock (a mutex: the control path and the GC
 * work sleep).  The hooks only read, under the RCU read lock netfilter holds
 * for them, and write three things: per-CPU counters, last_seen (one word,
 * WRITE_ONCE; a lost race loses a jiffy) and, once, the latch (cmpxchg).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jhash.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/ipv6.h>

#include "fp.h"
#include "uapi/sipnat_fp.h"

static inline bool fp_addr_eq(u16 family, const union nf_inet_addr *a,
			      const union nf_inet_addr *b)
{
	if (family == AF_INET)
		return a->ip == b->ip;
	return ipv6_addr_equal(&a->in6, &b->in6);
}

static inline struct hlist_head *fp_bucket(const struct fp_net *fn, u16 family,
					   const union nf_inet_addr *daddr, __be16 dport)
{
	u32 h;

	if (family == AF_INET)
		h = jhash_2words((__force u32)daddr->ip, (__force u32)dport, fn->hash_seed);
	else
		h = jhash2((const u32 *)daddr->all, 4, fn->hash_seed ^ (__force u32)dport);
	return &fn->hash[h >> (32 - FP_HASH_BITS)];
}

/*
 * Latch @f to @sport if it has not latched yet and its window is open.  The
 * cmpxchg decides between CPUs racing with different ports; the full barrier
 * it implies pairs with the smp_mb() in fp_flow_add() so that a reverse flow
 * linked concurrently learns the port one way or the other.
 */
static bool fp_flow_latch(struct fp_flow *f, __be16 sport)
{
	u32 want = FP_LATCHED | ntohs(sport);
	u32 cur = READ_ONCE(f->latch);
	struct fp_flow *rev;

	if (cur)
		return cur == want;
	if (!sport || time_after_eq(jiffies, f->latch_until))
		return false;
	cur = cmpxchg(&f->latch, 0, want);
	if (cur)
		return cur == want;
	rev = rcu_dereference(f->reverse);
	if (rev)
		WRITE_ONCE(rev->new_dport, sport);
	return true;
}

struct fp_flow *fp_flow_match(struct fp_net *fn, u16 family,
			      const union nf_inet_addr *saddr, __be16 sport,
			      const union nf_inet_addr *daddr, __be16 dport)
{
	struct fp_flow *f, *wild = NULL;

	hlist_for_each_entry_rcu(f, fp_bucket(fn, family, daddr, dport), hnode) {
		if (f->cfg.family != family || f->cfg.match_dport != dport ||
		    !fp_addr_eq(family, &f->cfg.match_daddr, daddr))
			continue;
		if (!f->cfg.has_saddr) {
			wild = wild ?: f;	/* a source selector wins */
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

void fp_flow_seen(struct fp_flow *f, unsigned int len, const u8 *rtp, size_t rtplen)
{
	struct fp_pcpu *s = this_cpu_ptr(f->stats);
	unsigned long now = jiffies;
	u64 t;

	u64_stats_update_begin(&s->syncp);
	s->packets++;
	s->bytes += len;
	u64_stats_update_end(&s->syncp);
	/* Most packets of a stream arrive within the same jiffy as another:
	 * skip the store and keep the cache line shared. */
	if (READ_ONCE(f->last_seen) != now)
		WRITE_ONCE(f->last_seen, now);
	if (!rtp)
		return;
	t = f->cfg.clock_rate ? ktime_get_ns() : 0;
	spin_lock(&f->rtp_lock);
	fp_rtp_update(&f->rtp, rtp, rtplen, t, f->cfg.clock_rate);
	spin_unlock(&f->rtp_lock);
}

void fp_flow_stats(struct fp_flow *f, u64 *packets, u64 *bytes, struct fp_rtp *rtp)
{
	unsigned int cpu, start;
	u64 p, b;

	*packets = *bytes = 0;
	for_each_possible_cpu(cpu) {
		const struct fp_pcpu *s = per_cpu_ptr(f->stats, cpu);

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			p = s->packets;
			b = s->bytes;
		} while (u64_stats_fetch_retry(&s->syncp, start));
		*packets += p;
		*bytes += b;
	}
	spin_lock_bh(&f->rtp_lock);
	*rtp = f->rtp;
	spin_unlock_bh(&f->rtp_lock);
}

/*
 * The hooks' route for @f on this CPU, or NULL.  No reference is taken: the
 * caller is inside an RCU read-side section, a route the cache drops is
 * freed only after a grace period (dst_release), and the skb that carries it
 * off gets its own reference from __dev_queue_xmit() (skb_dst_force) if it
 * has to wait in a queue.  That is how the flowtable does it, and it keeps
 * the route's shared reference count out of the per-packet path.
 */
struct dst_entry *fp_flow_dst(struct fp_flow *f)
{
	struct fp_dst *c = this_cpu_ptr(f->route);
	struct dst_entry *dst = c->dst;

	if (dst && unlikely(READ_ONCE(dst->obsolete) && !dst->ops->check(dst, c->cookie))) {
		c->dst = NULL;
		dst_release(dst);
		return NULL;
	}
	return dst;
}

/* Caches @dst for this CPU, taking over the caller's reference. */
void fp_flow_dst_set(struct fp_flow *f, struct dst_entry *dst, u32 cookie)
{
	struct fp_dst *c = this_cpu_ptr(f->route);
	struct dst_entry *old = c->dst;

	c->dst = dst;
	c->cookie = cookie;
	dst_release(old);
}

static bool fp_same_selector(const struct fp_flow_cfg *a, const struct fp_flow_cfg *b)
{
	return a->family == b->family && a->match_dport == b->match_dport &&
	       fp_addr_eq(a->family, &a->match_daddr, &b->match_daddr) &&
	       a->has_saddr == b->has_saddr &&
	       (!a->has_saddr || fp_addr_eq(a->family, &a->match_saddr, &b->match_saddr)) &&
	       a->has_sport == b->has_sport &&
	       (!a->has_sport || a->match_sport == b->match_sport);
}

static void fp_flow_free_rcu(struct rcu_head *head)
{
	struct fp_flow *f = container_of(head, struct fp_flow, rcu);
	int cpu;

	for_each_possible_cpu(cpu)
		dst_release(per_cpu_ptr(f->route, cpu)->dst);
	free_percpu(f->route);
	free_percpu(f->stats);
	kfree(f);
}

static struct fp_flow *fp_flow_alloc(void)
{
	struct fp_flow *f;
	int cpu;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->stats = alloc_percpu(struct fp_pcpu);
	if (!f->stats)
		goto err_stats;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(f->stats, cpu)->syncp);
	f->route = alloc_percpu(struct fp_dst);
	if (!f->route)
		goto err_dst;
	spin_lock_init(&f->rtp_lock);
	return f;

err_dst:
	free_percpu(f->stats);
err_stats:
	kfree(f);
	return NULL;
}

struct fp_flow *fp_flow_add(struct fp_net *fn, const struct fp_flow_cfg *cfg,
			    struct netlink_ext_ack *extack, int *err)
{
	struct hlist_head *bucket;
	struct fp_flow *f, *rev = NULL;
	int id;

	lockdep_assert_held(&fn->lock);
	if (fn->count >= fp_max_flows) {
		NL_SET_ERR_MSG(extack, "flow table full (max_flows)");
		*err = -ENOSPC;
		return NULL;
	}
	bucket = fp_bucket(fn, cfg->family, &cfg->match_daddr, cfg->match_dport);
	hlist_for_each_entry_rcu(f, bucket, hnode, lockdep_is_held(&fn->lock)) {
		if (fp_same_selector(&f->cfg, cfg)) {
			NL_SET_ERR_MSG(extack, "a flow with this match exists");
			*err = -EEXIST;
			return NULL;
		}
	}
	if (cfg->reverse_id) {
		rev = idr_find(&fn->ids, cfg->reverse_id);
		*err = !rev ? -ENOENT :
		       rev->cfg.family != cfg->family ? -EAFNOSUPPORT :
		       rcu_access_pointer(rev->reverse) ? -EBUSY : 0;
		if (*err) {
			NL_SET_ERR_MSG_MOD(extack, "reverse flow unusable");
			return NULL;
		}
	}

	f = fp_flow_alloc();
	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	id = idr_alloc_cyclic(&fn->ids, f, 1, 0, GFP_KERNEL);
	if (id < 0) {
		fp_flow_free_rcu(&f->rcu);	/* never published */
		*err = id;
		return NULL;
	}
	f->cfg = *cfg;
	f->id = id;
	f->created = f->last_seen = jiffies;
	f->latch_until = f->created + msecs_to_jiffies(cfg->latch_window_ms);
	f->new_dport = cfg->new_dport;
	if (rev) {
		u32 latch = READ_ONCE(rev->latch);

		if (latch)
			f->new_dport = htons(latch & 0xffff);
		RCU_INIT_POINTER(f->reverse, rev);
	}
	list_add_tail(&f->lnode, &fn->flows);
	hlist_add_head_rcu(&f->hnode, bucket);
	if (rev) {
		u32 latch;

		rcu_assign_pointer(rev->reverse, f);
		/* Pairs with the cmpxchg in fp_flow_latch(): a latch that
		 * happened after the read above either saw rev->reverse == f
		 * and wrote f->new_dport itself, or this read sees it. */
		smp_mb();
		latch = READ_ONCE(rev->latch);
		if (latch)
			WRITE_ONCE(f->new_dport, htons(latch & 0xffff));
	}
	WRITE_ONCE(fn->count, fn->count + 1);
	fn->owned += !!(cfg->flags & SIPNAT_FP_F_OWNED);
	fn->gen++;
	if (fn->count == 1)
		queue_delayed_work(system_power_efficient_wq, &fn->gc, HZ);
	*err = 0;
	return f;
}

void fp_flow_remove(struct fp_net *fn, struct fp_flow *f)
{
	struct fp_flow *rev;

	lockdep_assert_held(&fn->lock);
	rev = rcu_dereference_protected(f->reverse, lockdep_is_held(&fn->lock));
	if (rev)
		RCU_INIT_POINTER(rev->reverse, NULL);
	hlist_del_rcu(&f->hnode);
	list_del(&f->lnode);
	idr_remove(&fn->ids, f->id);
	WRITE_ONCE(fn->count, fn->count - 1);
	fn->owned -= !!(f->cfg.flags & SIPNAT_FP_F_OWNED);
	fn->gen++;
	/* Hooks on other CPUs may still hold f (and reach it through
	 * rev->reverse): free it after they left their RCU sections. */
	call_rcu(&f->rcu, fp_flow_free_rcu);
}

void fp_flow_flush(struct fp_net *fn)
{
	struct fp_flow *f, *tmp;

	lockdep_assert_held(&fn->lock);
	list_for_each_entry_safe(f, tmp, &fn->flows, lnode)
		fp_flow_remove(fn, f);
}

/* The netlink socket @portid was closed: its owned flows go with it.  Every
 * generic netlink socket's close comes here, hence the counter check. */
void fp_flow_release_owner(struct fp_net *fn, u32 portid)
{
	struct fp_flow *f, *tmp;

	lockdep_assert_held(&fn->lock);
	if (!fn->owned)
		return;
	list_for_each_entry_safe(f, tmp, &fn->flows, lnode)
		if ((f->cfg.flags & SIPNAT_FP_F_OWNED) && f->cfg.owner == portid)
			fp_flow_remove(fn, f);
}

static void fp_flow_gc(struct work_struct *work)
{
	struct fp_net *fn = container_of(to_delayed_work(work), struct fp_net, gc);
	struct fp_flow *f, *tmp;
	unsigned long now;

	mutex_lock(&fn->lock);
	now = jiffies;
	list_for_each_entry_safe(f, tmp, &fn->flows, lnode) {
		unsigned long idle_until = READ_ONCE(f->last_seen) + f->cfg.timeout_s * HZ;

		if (!time_after(now, idle_until))
			continue;
		fp_genl_notify_expired(fn, f);
		fp_flow_remove(fn, f);
	}
	if (fn->count)
		queue_delayed_work(system_power_efficient_wq, &fn->gc, HZ);
	mutex_unlock(&fn->lock);
}

int fp_flow_net_init(struct fp_net *fn)
{
	mutex_init(&fn->lock);
	INIT_LIST_HEAD(&fn->flows);
	idr_init(&fn->ids);
	INIT_DELAYED_WORK(&fn->gc, fp_flow_gc);
	fn->hash_seed = get_random_u32();
	fn->hash = kvcalloc(1U << FP_HASH_BITS, sizeof(*fn->hash), GFP_KERNEL);
	return fn->hash ? 0 : -ENOMEM;
}

/* The hooks are unregistered (and netfilter waited for their readers) and
 * no netlink request can reach this namespace any more. */
void fp_flow_net_exit(struct fp_net *fn)
{
	cancel_delayed_work_sync(&fn->gc);
	mutex_lock(&fn->lock);
	fp_flow_flush(fn);
	mutex_unlock(&fn->lock);
	idr_destroy(&fn->ids);
	kvfree(fn->hash);
	fn->hash = NULL;
}
