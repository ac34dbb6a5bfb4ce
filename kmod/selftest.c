// SPDX-License-Identifier: GPL-2.0
/*
 * selftest.c - boot-time self-test, compiled in with `make SELFTEST=1`
 * (CONFIG_SIPNAT_FP_SELFTEST, which also defines DEBUG): fp_mod_init()
 * refuses to load the module (-ENOTRECOVERABLE) if it fails.
 *
 * Owns: a table of RTP cases and a differential test of the flow table:
 * random flows go into a private fp_net (no hooks) and into a "horrible"
 * linear list whose matching rule is obviously right; random lookups must
 * agree.  Must not: touch a real namespace or send a packet.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": selftest: " fmt

#include <linux/random.h>
#include <linux/slab.h>

#include "fp.h"

#define FP_ST_FLOWS	512
#define FP_ST_LOOKUPS	20000

struct fp_st_flow {
	struct fp_flow_cfg cfg;
	struct fp_flow *f;
};

/* The rule of uapi/sipnat_fp.h, written the slow and plain way. */
static struct fp_flow *fp_st_match(struct fp_st_flow *t, int n, __be32 saddr,
				   __be16 sport, __be32 daddr, __be16 dport)
{
	struct fp_flow *wild = NULL;
	int i;

	for (i = 0; i < n; i++) {
		const struct fp_flow_cfg *c = &t[i].cfg;

		if (!t[i].f || c->match_daddr.ip != daddr || c->match_dport != dport)
			continue;
		if (!c->has_saddr) {
			if (!wild)
				wild = t[i].f;
			continue;
		}
		if (c->match_saddr.ip == saddr && (!c->has_sport || c->match_sport == sport))
			return t[i].f;
	}
	return wild;
}

static bool fp_st_rtp(void)
{
	static const u8 pkt[][FP_RTP_HDR_LEN] = {
		{ 0x80, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0x80, 0, 0, 11, 0, 0, 0, 160, 0, 0, 0, 1 },
		{ 0x80, 0, 0, 14, 0, 0, 2, 0x80, 0, 0, 0, 1 },	/* 12, 13 lost */
		{ 0x80, 0xc8, 0, 15, 0, 0, 0, 0, 0, 0, 0, 1 },	/* RTCP SR */
		{ 0x40, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 1 },	/* version 1 */
		{ 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 },	/* new SSRC */
	};
	static const int want[] = { 0, 0, 0, -1, -1, 0 };
	struct fp_rtp s = {};
	int i;

	for (i = 0; i < ARRAY_SIZE(pkt); i++)
		if (fp_rtp_update(&s, pkt[i], FP_RTP_HDR_LEN, 0, 0) != want[i])
			return false;
	return s.packets == 4 && s.lost == 2 && s.ssrc == 2 && s.ssrc_changes == 1;
}

static bool fp_st_table(void)
{
	struct fp_st_flow *t;
	struct fp_net *fn;
	bool ok = false;
	int i, err;

	t = kcalloc(FP_ST_FLOWS, sizeof(*t), GFP_KERNEL);
	fn = kzalloc(sizeof(*fn), GFP_KERNEL);
	if (!t || !fn || fp_flow_net_init(fn))
		goto out_free;

	/* Few addresses and ports, so that selectors collide and buckets
	 * fill: wildcard and specific flows for the same destination. */
	mutex_lock(&fn->lock);
	for (i = 0; i < FP_ST_FLOWS; i++) {
		struct fp_flow_cfg *c = &t[i].cfg;

		c->family = AF_INET;
		c->match_daddr.ip = htonl(0x0a000000 | get_random_u32_below(8));
		c->match_dport = htons(1000 + get_random_u32_below(16));
		c->has_saddr = get_random_u32_below(3) != 0;
		if (c->has_saddr)
			c->match_saddr.ip = htonl(0x0b000000 | get_random_u32_below(4));
		c->has_sport = c->has_saddr && get_random_u32_below(2);
		if (c->has_sport)
			c->match_sport = htons(2000 + get_random_u32_below(4));
		c->timeout_s = 60;
		t[i].f = fp_flow_add(fn, c, NULL, &err);
		if (!t[i].f && err != -EEXIST) {
			pr_err("add %d: %d\n", i, err);
			goto out_unlock;
		}
	}
	rcu_read_lock();
	for (i = 0; i < FP_ST_LOOKUPS; i++) {
		union nf_inet_addr s = {}, d = {};
		__be16 sp = htons(2000 + get_random_u32_below(5));
		__be16 dp = htons(1000 + get_random_u32_below(17));
		struct fp_flow *got, *want;

		s.ip = htonl(0x0b000000 | get_random_u32_below(5));
		d.ip = htonl(0x0a000000 | get_random_u32_below(9));
		got = fp_flow_match(fn, AF_INET, &s, sp, &d, dp);
		want = fp_st_match(t, FP_ST_FLOWS, s.ip, sp, d.ip, dp);
		/* Two specific flows may both match (one with, one without a
		 * source port): either is right, as long as it matches. */
		if (got != want && !(got && want && got->cfg.has_saddr && want->cfg.has_saddr &&
				     got->cfg.match_saddr.ip == s.ip &&
				     (!got->cfg.has_sport || got->cfg.match_sport == sp))) {
			pr_err("lookup %pI4:%u -> %pI4:%u: got flow %u, want %u\n", &s.ip,
			       ntohs(sp), &d.ip, ntohs(dp), got ? got->id : 0, want ? want->id : 0);
			rcu_read_unlock();
			goto out_unlock;
		}
	}
	rcu_read_unlock();
	ok = true;
out_unlock:
	mutex_unlock(&fn->lock);
	fp_flow_net_exit(fn);
out_free:
	kfree(fn);
	kfree(t);
	return ok;
}

bool __init fp_selftest(void)
{
	bool ok = fp_st_rtp() && fp_st_table();

	pr_info("%s\n", ok ? "pass" : "FAIL");
	return ok;
}
