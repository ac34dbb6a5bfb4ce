// SPDX-License-Identifier: GPL-2.0
/*
 * flow.c - the per-namespace flow table: RCU hash for the hooks (doubling as
 * it fills; its lookup, fp_flow_match(), and the per-packet accounting,
 * fp_flow_seen(), are inline in fp.h), an IDR and a list for the control
 * path, per-CPU counters, idle collection.
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

static struct fp_table *fp_table_alloc(unsigned int bits, unsigned int node)
{
	struct fp_table *t;

	t = kvzalloc(struct_size(t, buckets, 1U << bits), GFP_KERNEL | __GFP_NOWARN);
	if (t) {
		t->bits = bits;
		t->node = node;
	}
	return t;
}

static inline struct fp_table *fp_table_locked(struct fp_net *fn)
{
	return rcu_dereference_protected(fn->table, lockdep_is_held(&fn->lock));
}

/*
 * Doubles the hash (see struct fp_table).  Sleeps for a grace period with
 * fp_net.lock held: that happens log2(flows) times in a namespace's life,
 * and the packet path does not take the lock.  Without memory the old table
 * simply stays (longer chains, still correct).
 */
static void fp_table_grow(struct fp_net *fn)
{
	struct fp_table *old = fp_table_locked(fn), *t;
	struct fp_flow *f;

	t = fp_table_alloc(old->bits + 1, !old->node);
	if (!t)
		return;
	/* In the order of addition, each at the head: chains keep the
	 * order they had (newest first). */
	list_for_each_entry(f, &fn->flows, lnode)
		hlist_add_head_rcu(&f->hnode[t->node],
				   fp_bucket(fn, t, f->cfg.family, &f->cfg.match_daddr,
					     f->cfg.match_dport));
	rcu_assign_pointer(fn->table, t);
	synchronize_rcu();
	kvfree(old);
}

/*
 * Latch @f to @sport if it has not latched yet and its window is open.  The
 * cmpxchg decides between CPUs racing with different ports; the full barrier
 * it implies pairs with the smp_mb() in fp_flow_add() so that a reverse flow
 * linked concurrently learns the port one way or the other.
 */
bool fp_flow_latch(struct fp_flow *f, __be16 sport)
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
 * The hooks' per-CPU route cache (hook.c checks the route is still valid
 * before each use).  The hooks use the cached route without a reference of
 * their own: they run inside an RCU read-side section, a route the cache
 * drops is freed only after a grace period (dst_release), and the skb that
 * carries it off gets its own reference from __dev_queue_xmit()
 * (skb_dst_force) if it has to wait in a queue.  That is how the flowtable
 * does it, and it keeps the route's shared reference count out of the
 * per-packet path.
 *
 * fp_flow_dst_set() caches @dst in this CPU's @c, taking over the caller's
 * reference, and drops the route cached before.
 */
void fp_flow_dst_set(struct fp_dst *c, struct dst_entry *dst, u32 cookie, u32 mtu)
{
	struct dst_entry *old = c->dst;

	c->dst = dst;
	c->cookie = cookie;
	c->mtu = mtu;
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
	struct fp_table *t = fp_table_locked(fn);
	struct hlist_head *bucket;
	struct fp_flow *f, *rev = NULL;
	struct hlist_node *n;
	int id;

	lockdep_assert_held(&fn->lock);
	if (fn->count >= fp_max_flows) {
		NL_SET_ERR_MSG(extack, "flow table full (max_flows)");
		*err = -ENOSPC;
		return NULL;
	}
	bucket = fp_bucket(fn, t, cfg->family, &cfg->match_daddr, cfg->match_dport);
	hlist_for_each(n, bucket) {
		if (fp_same_selector(&fp_flow_of(n, t->node)->cfg, cfg)) {
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
	hlist_add_head_rcu(&f->hnode[t->node], bucket);
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
	if (fn->count > (1U << t->bits) && t->bits < FP_HASH_MAX_BITS)
		fp_table_grow(fn);
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
	hlist_del_rcu(&f->hnode[fp_table_locked(fn)->node]);
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
	RCU_INIT_POINTER(fn->table, fp_table_alloc(FP_HASH_MIN_BITS, 0));
	return rcu_access_pointer(fn->table) ? 0 : -ENOMEM;
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
	kvfree(rcu_access_pointer(fn->table));
	RCU_INIT_POINTER(fn->table, NULL);
}
