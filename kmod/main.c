// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - sipnat_fp: module init/exit and the per-namespace state.
 *
 * Owns: the order in which the parts come up and go down.  Must not: hold
 * flow or packet logic.
 *
 * Up: per-namespace state and hooks first, the netlink family last, so no
 * request can arrive before there is a table to put it in.  Down in reverse:
 * with the family gone no flow can be added; then every namespace loses its
 * hooks (netfilter waits for packets inside them), its idle collector and its
 * flows; rcu_barrier() waits for the last deferred free before the code that
 * runs it goes away.  Packets of flows that were active simply take the
 * normal path from the next one on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "fp.h"

unsigned int fp_max_flows = 65536;
module_param_named(max_flows, fp_max_flows, uint, 0644);
MODULE_PARM_DESC(max_flows, "most flows per network namespace (65536)");

static unsigned int fp_net_id __read_mostly;

struct fp_net *fp_net(struct net *net)
{
	return net_generic(net, fp_net_id);
}

/* After raw rules placed before defragmentation (-450), before
 * defragmentation itself (-400) and so before conntrack. */
#define FP_HOOK_PRIORITY (NF_IP_PRI_RAW_BEFORE_DEFRAG + 30)

static int __net_init fp_net_init(struct net *net)
{
	struct fp_net *fn = fp_net(net);
	int ret;

	fn->net = net;
	fn->gen = 1;	/* 0 would mean "no dump consistency check" */
	ret = fp_flow_net_init(fn);
	if (ret)
		goto err_flow;
	fn->hooks[0] = (struct nf_hook_ops) {
		.hook = fp_hook_ipv4,
		.priv = fn,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = FP_HOOK_PRIORITY,
	};
	fn->hooks[1] = (struct nf_hook_ops) {
		.hook = fp_hook_ipv6,
		.priv = fn,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = FP_HOOK_PRIORITY,
	};
	ret = nf_register_net_hooks(net, fn->hooks, ARRAY_SIZE(fn->hooks));
	if (ret)
		goto err_hooks;
	return 0;

err_hooks:
	fp_flow_net_exit(fn);
err_flow:
	return ret;
}

static void __net_exit fp_net_exit(struct net *net)
{
	struct fp_net *fn = fp_net(net);

	nf_unregister_net_hooks(net, fn->hooks, ARRAY_SIZE(fn->hooks));
	fp_flow_net_exit(fn);
}

static struct pernet_operations fp_net_ops = {
	.init = fp_net_init,
	.exit = fp_net_exit,
	.id = &fp_net_id,
	.size = sizeof(struct fp_net),
};

static int __init fp_mod_init(void)
{
	int ret;

#ifdef DEBUG
	if (!fp_selftest()) {
		ret = -ENOTRECOVERABLE;
		goto err_selftest;
	}
#endif
	ret = register_pernet_subsys(&fp_net_ops);
	if (ret)
		goto err_pernet;
	ret = fp_genl_init();
	if (ret)
		goto err_genl;
	pr_info("loaded (genl family %s v%d)\n", SIPNAT_FP_GENL_NAME, SIPNAT_FP_GENL_VERSION);
	return 0;

err_genl:
	unregister_pernet_subsys(&fp_net_ops);
err_pernet:
#ifdef DEBUG
err_selftest:
#endif
	return ret;
}

static void __exit fp_mod_exit(void)
{
	fp_genl_exit();
	unregister_pernet_subsys(&fp_net_ops);
	rcu_barrier();
}

module_init(fp_mod_init);
module_exit(fp_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sipnat fast path: forwards programmed RTP/UDP media flows");
MODULE_AUTHOR("sipnat");
MODULE_ALIAS_GENL_FAMILY(SIPNAT_FP_GENL_NAME);
