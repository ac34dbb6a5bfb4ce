// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the generic netlink family "sipnat_fp" (uapi/sipnat_fp.h is
 * its manual).
 *
 * Owns: the policies, turning attributes into a checked fp_flow_cfg and flows
 * back into attributes, and the "events" group.  Must not: touch packets or
 * the table's internals; flow.c does, under fp_net.lock, which every handler
 * here takes around its calls.
 *
 * Validation is two-layered.  The per-command policies (strict: an attribute
 * not listed is refused, as are trailing bytes and a nonzero reserved field)
 * check types, lengths and ranges; fp_nl_parse() then checks what a policy
 * cannot express: lengths that depend on FAMILY, attributes that need or
 * exclude others, addresses that must be unicast.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/notifier.h>
#include <linux/rwsem.h>
#include <net/genetlink.h>
#include <net/ipv6.h>

#include "fp.h"

static struct genl_family fp_genl_family;

/* Expiry notifications may race with module unload: fp_genl_exit() turns
 * them off under the write side before it unregisters the family. */
static DECLARE_RWSEM(fp_events_sem);
static bool fp_events_off;

static struct netlink_range_validation fp_timeout_range = {
	.min = 1, .max = SIPNAT_FP_TIMEOUT_MAX,
};
static struct netlink_range_validation fp_clock_range = {
	.min = 1, .max = SIPNAT_FP_CLOCK_RATE_MAX,
};
static struct netlink_range_validation fp_window_range = {
	.min = 1, .max = SIPNAT_FP_LATCH_WINDOW_MAX,
};

/* 4 or 16 bytes; which one FAMILY says, checked in fp_nl_addr(). */
#define FP_ADDR_POLICY NLA_POLICY_RANGE(NLA_BINARY, sizeof(struct in_addr), \
					sizeof(struct in6_addr))

static const struct nla_policy fp_add_policy[SIPNAT_FP_A_MAX + 1] = {
	[SIPNAT_FP_A_FAMILY]		= { .type = NLA_U16 },
	[SIPNAT_FP_A_MATCH_DADDR]	= FP_ADDR_POLICY,
	[SIPNAT_FP_A_MATCH_DPORT]	= { .type = NLA_BE16 },
	[SIPNAT_FP_A_MATCH_SADDR]	= FP_ADDR_POLICY,
	[SIPNAT_FP_A_MATCH_SPORT]	= { .type = NLA_BE16 },
	[SIPNAT_FP_A_NEW_SADDR]		= FP_ADDR_POLICY,
	[SIPNAT_FP_A_NEW_SPORT]		= { .type = NLA_BE16 },
	[SIPNAT_FP_A_NEW_DADDR]		= FP_ADDR_POLICY,
	[SIPNAT_FP_A_NEW_DPORT]		= { .type = NLA_BE16 },
	[SIPNAT_FP_A_FLAGS]		= { .type = NLA_U32 },
	[SIPNAT_FP_A_DSCP]		= NLA_POLICY_MAX(NLA_U8, 63),
	[SIPNAT_FP_A_TIMEOUT]		= NLA_POLICY_FULL_RANGE(NLA_U32, &fp_timeout_range),
	[SIPNAT_FP_A_CLOCK_RATE]	= NLA_POLICY_FULL_RANGE(NLA_U32, &fp_clock_range),
	[SIPNAT_FP_A_LATCH_WINDOW]	= NLA_POLICY_FULL_RANGE(NLA_U32, &fp_window_range),
	[SIPNAT_FP_A_REVERSE]		= NLA_POLICY_MIN(NLA_U32, 1),
	[SIPNAT_FP_A_COOKIE]		= { .type = NLA_U64 },
	/* ID, STATS, PAD: replies only; left out, strict parsing refuses them. */
};

static const struct nla_policy fp_sel_policy[SIPNAT_FP_A_MAX + 1] = {
	[SIPNAT_FP_A_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[SIPNAT_FP_A_COOKIE]		= { .type = NLA_U64 },
};

/* FLUSH takes no attribute: an all-empty policy refuses every one. */
static const struct nla_policy fp_none_policy[SIPNAT_FP_A_MAX + 1] = {};

static bool fp_addr_unicast(u16 family, const union nf_inet_addr *a)
{
	if (family == AF_INET)
		return !(ipv4_is_zeronet(a->ip) || ipv4_is_multicast(a->ip) ||
			 ipv4_is_lbcast(a->ip) || ipv4_is_loopback(a->ip));
	return !(ipv6_addr_any(&a->in6) || ipv6_addr_is_multicast(&a->in6) ||
		 ipv6_addr_loopback(&a->in6) || ipv6_addr_v4mapped(&a->in6));
}

static int fp_nl_addr(const struct nlattr *a, u16 family, union nf_inet_addr *out,
		      u8 *has, struct netlink_ext_ack *extack)
{
	int alen = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);

	if (!a)
		return 0;
	if (nla_len(a) != alen) {
		NL_SET_ERR_MSG_ATTR(extack, a, "address length does not match FAMILY");
		return -EINVAL;
	}
	memcpy(out, nla_data(a), alen);
	if (!fp_addr_unicast(family, out)) {
		NL_SET_ERR_MSG_ATTR(extack, a, "not a unicast address");
		return -EINVAL;
	}
	if (has)
		*has = 1;
	return 0;
}

static int fp_nl_port(const struct nlattr *a, __be16 *out, u8 *has,
		      struct netlink_ext_ack *extack)
{
	if (!a)
		return 0;
	*out = nla_get_be16(a);
	if (!*out) {
		NL_SET_ERR_MSG_ATTR(extack, a, "port 0");
		return -EINVAL;
	}
	if (has)
		*has = 1;
	return 0;
}

static int fp_nl_parse(struct nlattr **tb, struct fp_flow_cfg *c,
		       struct netlink_ext_ack *extack)
{
	u8 has_dummy;
	int ret;

	memset(c, 0, sizeof(*c));
	if (!tb[SIPNAT_FP_A_FAMILY] || !tb[SIPNAT_FP_A_MATCH_DADDR] ||
	    !tb[SIPNAT_FP_A_MATCH_DPORT]) {
		NL_SET_ERR_MSG_MOD(extack, "FAMILY, MATCH_DADDR and MATCH_DPORT are required");
		return -EINVAL;
	}
	c->family = nla_get_u16(tb[SIPNAT_FP_A_FAMILY]);
	if (c->family != AF_INET && c->family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, tb[SIPNAT_FP_A_FAMILY], "only AF_INET and AF_INET6");
		return -EOPNOTSUPP;
	}
	ret = fp_nl_addr(tb[SIPNAT_FP_A_MATCH_DADDR], c->family, &c->match_daddr, &has_dummy, extack) ?:
	      fp_nl_addr(tb[SIPNAT_FP_A_MATCH_SADDR], c->family, &c->match_saddr, &c->has_saddr, extack) ?:
	      fp_nl_addr(tb[SIPNAT_FP_A_NEW_SADDR], c->family, &c->new_saddr, &c->has_new_saddr, extack) ?:
	      fp_nl_addr(tb[SIPNAT_FP_A_NEW_DADDR], c->family, &c->new_daddr, &c->has_new_daddr, extack) ?:
	      fp_nl_port(tb[SIPNAT_FP_A_MATCH_DPORT], &c->match_dport, NULL, extack) ?:
	      fp_nl_port(tb[SIPNAT_FP_A_MATCH_SPORT], &c->match_sport, &c->has_sport, extack) ?:
	      fp_nl_port(tb[SIPNAT_FP_A_NEW_SPORT], &c->new_sport, NULL, extack) ?:
	      fp_nl_port(tb[SIPNAT_FP_A_NEW_DPORT], &c->new_dport, NULL, extack);
	if (ret)
		return ret;
	if (c->has_sport && !c->has_saddr) {
		NL_SET_ERR_MSG_ATTR(extack, tb[SIPNAT_FP_A_MATCH_SPORT], "needs MATCH_SADDR");
		return -EINVAL;
	}

	if (tb[SIPNAT_FP_A_FLAGS])
		c->flags = nla_get_u32(tb[SIPNAT_FP_A_FLAGS]);
	if (c->flags & ~__SIPNAT_FP_F_ALL) {
		NL_SET_ERR_MSG_ATTR(extack, tb[SIPNAT_FP_A_FLAGS], "unknown flag");
		return -EOPNOTSUPP;
	}
	if (c->flags & SIPNAT_FP_F_LATCH) {
		/* Latching only ever takes a port, and only from the address
		 * the call negotiated: an address from anywhere would let any
		 * host on the path steal the stream. */
		if (!c->has_saddr || c->has_sport) {
			NL_SET_ERR_MSG_ATTR(extack, tb[SIPNAT_FP_A_FLAGS],
					    "LATCH needs MATCH_SADDR and no MATCH_SPORT");
			return -EINVAL;
		}
		c->latch_window_ms = tb[SIPNAT_FP_A_LATCH_WINDOW] ?
			nla_get_u32(tb[SIPNAT_FP_A_LATCH_WINDOW]) : SIPNAT_FP_LATCH_WINDOW_DEFAULT;
	} else if (tb[SIPNAT_FP_A_LATCH_WINDOW]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[SIPNAT_FP_A_LATCH_WINDOW], "needs the LATCH flag");
		return -EINVAL;
	}
	if (!(c->flags & SIPNAT_FP_F_DSCP) != !tb[SIPNAT_FP_A_DSCP]) {
		NL_SET_ERR_MSG_MOD(extack, "the DSCP flag and the DSCP attribute go together");
		return -EINVAL;
	}
	if (tb[SIPNAT_FP_A_DSCP])
		c->dscp = nla_get_u8(tb[SIPNAT_FP_A_DSCP]);
	c->timeout_s = tb[SIPNAT_FP_A_TIMEOUT] ?
		nla_get_u32(tb[SIPNAT_FP_A_TIMEOUT]) : SIPNAT_FP_TIMEOUT_DEFAULT;
	if (tb[SIPNAT_FP_A_CLOCK_RATE])
		c->clock_rate = nla_get_u32(tb[SIPNAT_FP_A_CLOCK_RATE]);
	if (tb[SIPNAT_FP_A_REVERSE])
		c->reverse_id = nla_get_u32(tb[SIPNAT_FP_A_REVERSE]);
	if (tb[SIPNAT_FP_A_COOKIE])
		c->cookie = nla_get_u64(tb[SIPNAT_FP_A_COOKIE]);
	return 0;
}

static int fp_nl_put_stats(struct sk_buff *skb, struct fp_flow *f)
{
	struct nlattr *nest;
	struct fp_rtp rtp;
	u64 packets, bytes;
	u32 latch;

	fp_flow_stats(f, &packets, &bytes, &rtp);
	nest = nla_nest_start(skb, SIPNAT_FP_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, SIPNAT_FP_S_PACKETS, packets, SIPNAT_FP_S_PAD) ||
	    nla_put_u64_64bit(skb, SIPNAT_FP_S_BYTES, bytes, SIPNAT_FP_S_PAD) ||
	    nla_put_u64_64bit(skb, SIPNAT_FP_S_IDLE_MS,
			      jiffies_to_msecs(jiffies - READ_ONCE(f->last_seen)),
			      SIPNAT_FP_S_PAD) ||
	    nla_put_u64_64bit(skb, SIPNAT_FP_S_RTP_PACKETS, rtp.packets, SIPNAT_FP_S_PAD) ||
	    (rtp.have_ssrc && nla_put_u32(skb, SIPNAT_FP_S_RTP_SSRC, rtp.ssrc)) ||
	    nla_put_u32(skb, SIPNAT_FP_S_RTP_SSRC_CHANGES, rtp.ssrc_changes) ||
	    nla_put_u64_64bit(skb, SIPNAT_FP_S_RTP_LOST, rtp.lost, SIPNAT_FP_S_PAD) ||
	    (f->cfg.clock_rate &&
	     nla_put_u32(skb, SIPNAT_FP_S_RTP_JITTER, fp_rtp_jitter(&rtp))))
		goto err;
	latch = READ_ONCE(f->latch);
	if (latch && nla_put_be16(skb, SIPNAT_FP_S_LATCHED_SPORT, htons(latch & 0xffff)))
		goto err;
	nla_nest_end(skb, nest);
	return 0;
err:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int fp_nl_put_addr(struct sk_buff *skb, int type, const struct fp_flow *f,
			  const union nf_inet_addr *a)
{
	return nla_put(skb, type, f->cfg.family == AF_INET ? 4 : 16, a);
}

/* Called with fp_net.lock held: f and f->reverse stay put. */
static int fp_nl_fill(struct sk_buff *skb, struct fp_net *fn, struct fp_flow *f,
		      u32 portid, u32 seq, int flags, u8 cmd, struct netlink_callback *cb)
{
	const struct fp_flow_cfg *c = &f->cfg;
	struct fp_flow *rev;
	__be16 dport;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &fp_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	rev = rcu_dereference_protected(f->reverse, lockdep_is_held(&fn->lock));
	dport = READ_ONCE(f->new_dport);
	if (nla_put_u32(skb, SIPNAT_FP_A_ID, f->id) ||
	    nla_put_u16(skb, SIPNAT_FP_A_FAMILY, c->family) ||
	    fp_nl_put_addr(skb, SIPNAT_FP_A_MATCH_DADDR, f, &c->match_daddr) ||
	    nla_put_be16(skb, SIPNAT_FP_A_MATCH_DPORT, c->match_dport) ||
	    (c->has_saddr && fp_nl_put_addr(skb, SIPNAT_FP_A_MATCH_SADDR, f, &c->match_saddr)) ||
	    (c->has_sport && nla_put_be16(skb, SIPNAT_FP_A_MATCH_SPORT, c->match_sport)) ||
	    (c->has_new_saddr && fp_nl_put_addr(skb, SIPNAT_FP_A_NEW_SADDR, f, &c->new_saddr)) ||
	    (c->new_sport && nla_put_be16(skb, SIPNAT_FP_A_NEW_SPORT, c->new_sport)) ||
	    (c->has_new_daddr && fp_nl_put_addr(skb, SIPNAT_FP_A_NEW_DADDR, f, &c->new_daddr)) ||
	    (dport && nla_put_be16(skb, SIPNAT_FP_A_NEW_DPORT, dport)) ||
	    nla_put_u32(skb, SIPNAT_FP_A_FLAGS, c->flags) ||
	    ((c->flags & SIPNAT_FP_F_DSCP) && nla_put_u8(skb, SIPNAT_FP_A_DSCP, c->dscp)) ||
	    nla_put_u32(skb, SIPNAT_FP_A_TIMEOUT, c->timeout_s) ||
	    (c->clock_rate && nla_put_u32(skb, SIPNAT_FP_A_CLOCK_RATE, c->clock_rate)) ||
	    ((c->flags & SIPNAT_FP_F_LATCH) &&
	     nla_put_u32(skb, SIPNAT_FP_A_LATCH_WINDOW, c->latch_window_ms)) ||
	    (rev && nla_put_u32(skb, SIPNAT_FP_A_REVERSE, rev->id)) ||
	    nla_put_u64_64bit(skb, SIPNAT_FP_A_COOKIE, c->cookie, SIPNAT_FP_A_PAD) ||
	    fp_nl_put_stats(skb, f)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int fp_nl_add(struct sk_buff *skb, struct genl_info *info)
{
	struct fp_net *fn = fp_net(genl_info_net(info));
	struct fp_flow_cfg cfg;
	struct sk_buff *msg;
	struct fp_flow *f;
	int ret;

	ret = fp_nl_parse(info->attrs, &cfg, info->extack);
	if (ret)
		return ret;
	if (cfg.flags & SIPNAT_FP_F_OWNED)
		cfg.owner = info->snd_portid;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&fn->lock);
	f = fp_flow_add(fn, &cfg, info->extack, &ret);
	if (f) {
		ret = fp_nl_fill(msg, fn, f, info->snd_portid, info->snd_seq, 0,
				 SIPNAT_FP_CMD_ADD, NULL);
		if (ret)	/* all or nothing: no flow the caller never heard of */
			fp_flow_remove(fn, f);
	}
	mutex_unlock(&fn->lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int fp_nl_del(struct sk_buff *skb, struct genl_info *info)
{
	struct fp_net *fn = fp_net(genl_info_net(info));
	struct nlattr *id = info->attrs[SIPNAT_FP_A_ID];
	struct nlattr *cookie = info->attrs[SIPNAT_FP_A_COOKIE];
	struct fp_flow *f, *tmp;
	int ret = -ENOENT;
	u64 c;

	if (!id == !cookie) {
		NL_SET_ERR_MSG_MOD(info->extack, "exactly one of ID and COOKIE");
		return -EBADR;
	}
	mutex_lock(&fn->lock);
	if (id) {
		f = idr_find(&fn->ids, nla_get_u32(id));
		if (f) {
			fp_flow_remove(fn, f);
			ret = 0;
		}
	} else {
		c = nla_get_u64(cookie);
		list_for_each_entry_safe(f, tmp, &fn->flows, lnode) {
			if (f->cfg.cookie != c)
				continue;
			fp_flow_remove(fn, f);
			ret = 0;
		}
	}
	mutex_unlock(&fn->lock);
	return ret;
}

static int fp_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct fp_net *fn = fp_net(genl_info_net(info));
	struct sk_buff *msg;
	struct fp_flow *f;
	int ret = -ENOENT;

	if (!info->attrs[SIPNAT_FP_A_ID] || info->attrs[SIPNAT_FP_A_COOKIE]) {
		NL_SET_ERR_MSG_MOD(info->extack, "GET takes ID; COOKIE filters dumps");
		return -EINVAL;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&fn->lock);
	f = idr_find(&fn->ids, nla_get_u32(info->attrs[SIPNAT_FP_A_ID]));
	if (f)
		ret = fp_nl_fill(msg, fn, f, info->snd_portid, info->snd_seq, 0,
				 SIPNAT_FP_CMD_GET, NULL);
	mutex_unlock(&fn->lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: the next ID to emit.  IDs are stable, so a dump resumes where
 * it stopped even if flows came and went in between (then DUMP_INTR). */
static int fp_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *di = genl_dumpit_info(cb);
	struct fp_net *fn = fp_net(sock_net(skb->sk));
	const struct nlattr *cookie = di->attrs[SIPNAT_FP_A_COOKIE];
	struct fp_flow *f;
	int id = cb->args[0];

	if (di->attrs[SIPNAT_FP_A_ID]) {
		NL_SET_ERR_MSG_MOD(cb->extack, "a dump takes no ID");
		return -EINVAL;
	}
	mutex_lock(&fn->lock);
	cb->seq = fn->gen;
	for (; (f = idr_get_next(&fn->ids, &id)); id++) {
		if (cookie && f->cfg.cookie != nla_get_u64(cookie))
			continue;
		if (fp_nl_fill(skb, fn, f, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			       NLM_F_MULTI, SIPNAT_FP_CMD_GET, cb))
			break;
	}
	cb->args[0] = id;
	mutex_unlock(&fn->lock);
	return skb->len;
}

static int fp_nl_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct fp_net *fn = fp_net(genl_info_net(info));

	mutex_lock(&fn->lock);
	fp_flow_flush(fn);
	mutex_unlock(&fn->lock);
	return 0;
}

void fp_genl_notify_expired(struct fp_net *fn, struct fp_flow *f)
{
	struct sk_buff *msg;

	lockdep_assert_held(&fn->lock);
	down_read(&fp_events_sem);
	if (fp_events_off || !genl_has_listeners(&fp_genl_family, fn->net, 0))
		goto out;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out;	/* a lost event; GET/dump remain the truth */
	if (fp_nl_fill(msg, fn, f, 0, 0, 0, SIPNAT_FP_CMD_EXPIRED, NULL)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_multicast_netns(&fp_genl_family, fn->net, msg, 0, 0, GFP_KERNEL);
out:
	up_read(&fp_events_sem);
}

static int fp_nl_release(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct fp_net *fn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC || !n->portid)
		return NOTIFY_DONE;
	/* The closing socket holds its namespace: fp_net is still there. */
	fn = fp_net(n->net);
	mutex_lock(&fn->lock);
	fp_flow_release_owner(fn, n->portid);
	mutex_unlock(&fn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block fp_nl_notifier = {
	.notifier_call = fp_nl_release,
};

static const struct genl_ops fp_genl_ops[] = {
	{
		.cmd = SIPNAT_FP_CMD_ADD,
		.doit = fp_nl_add,
		.policy = fp_add_policy,
		.maxattr = SIPNAT_FP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = SIPNAT_FP_CMD_DEL,
		.doit = fp_nl_del,
		.policy = fp_sel_policy,
		.maxattr = SIPNAT_FP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = SIPNAT_FP_CMD_GET,
		.doit = fp_nl_get,
		.dumpit = fp_nl_dump,
		.policy = fp_sel_policy,
		.maxattr = SIPNAT_FP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = SIPNAT_FP_CMD_FLUSH,
		.doit = fp_nl_flush,
		.policy = fp_none_policy,
		.maxattr = SIPNAT_FP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group fp_genl_mcgrps[] = {
	{ .name = SIPNAT_FP_MCGRP_EVENTS, .flags = GENL_UNS_ADMIN_PERM },
};

static struct genl_family fp_genl_family __ro_after_init = {
	.name = SIPNAT_FP_GENL_NAME,
	.version = SIPNAT_FP_GENL_VERSION,
	.maxattr = SIPNAT_FP_A_MAX,
	.netnsok = true,
	/* Every command is new: strict header checks for all of them. */
	.resv_start_op = SIPNAT_FP_CMD_ADD,
	.module = THIS_MODULE,
	.ops = fp_genl_ops,
	.n_ops = ARRAY_SIZE(fp_genl_ops),
	.mcgrps = fp_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(fp_genl_mcgrps),
};

int __init fp_genl_init(void)
{
	int ret;

	ret = netlink_register_notifier(&fp_nl_notifier);
	if (ret)
		goto err_notifier;
	ret = genl_register_family(&fp_genl_family);
	if (ret)
		goto err_family;
	return 0;

err_family:
	netlink_unregister_notifier(&fp_nl_notifier);
err_notifier:
	return ret;
}

/* Family first: no new flow, owned or not, after this; then the notifier
 * (unregistering waits for a release in progress). */
void fp_genl_exit(void)
{
	down_write(&fp_events_sem);
	fp_events_off = true;
	up_write(&fp_events_sem);
	genl_unregister_family(&fp_genl_family);
	netlink_unregister_notifier(&fp_nl_notifier);
}
