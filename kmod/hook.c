// SPDX-License-Identifier: GPL-2.0
/*
 * hook.c - the packet path: match a UDP packet against the flow table,
 * rewrite it, route it and hand it to the neighbour layer.
 *
 * Owns: the decision to take a packet and every byte it writes into one.
 * Must not: sleep, allocate, take a lock other than a flow's rtp_lock, or
 * drop a packet it has a doubt about.  Every doubt is NF_ACCEPT: the packet
 * continues through the normal stack exactly as it came (nothing is written
 * before the last check), which then does the right thing for fragments,
 * options, expiring TTLs, oversized packets and unroutable destinations
 * (reassembly, ICMP errors) and next hops it has not resolved yet.
 * Modelled on the kernel's nf_flow_table_ip.c and ip_finish_output2().
 *
 * Runs at NF_IP_PRI_RAW_BEFORE_DEFRAG + 30 in prerouting: after raw rules
 * that run before defragmentation, before defragmentation and conntrack,
 * so a forwarded packet creates no conntrack entry and skips the forward and
 * postrouting hooks, like a flowtable.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/dsfield.h>
#include <net/inet_ecn.h>
#include <net/arp.h>
#include <net/ip.h>
#include <net/ip6_fib.h>
#include <net/ip6_route.h>
#include <net/ndisc.h>
#include <net/neighbour.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "fp.h"

/*
 * The IP and UDP headers are written in place.  They must sit in the linear
 * area and, in a clone (a packet socket on the input device), in a part of
 * the head no other clone reads.  Making either true costs an allocation,
 * which the packet path does not do: such packets take the normal path.
 */
static __always_inline bool fp_headers_writable(const struct sk_buff *skb, unsigned int len)
{
	return len <= skb_headlen(skb) && (!skb_cloned(skb) || skb_clone_writable(skb, len));
}

/* IPsec wants to see (and may have to encrypt) forwarded packets: with any
 * policy in the namespace, or a packet that was decrypted, stay out. */
static __always_inline bool fp_xfrm_active(const struct net *net, const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_XFRM)
	return secpath_exists(skb) ||
	       READ_ONCE(net->xfrm.policy_count[XFRM_POLICY_IN]) ||
	       READ_ONCE(net->xfrm.policy_count[XFRM_POLICY_OUT]) ||
	       READ_ONCE(net->xfrm.policy_count[XFRM_POLICY_FWD]);
#else
	return false;
#endif
}

static __always_inline const u8 *fp_rtp_peek(const struct sk_buff *skb, unsigned int off, u8 *buf)
{
	if (skb->len < off + FP_RTP_HDR_LEN)
		return NULL;
	return skb_header_pointer(skb, off, FP_RTP_HDR_LEN, buf);
}

/*
 * Checksums are patched once per packet with the one's-complement sum of
 * every change (RFC 1624), not once per changed field: fp_csum_diff() of
 * each old and new 32-bit word (a port is a 32-bit word with a zero top
 * half), added up, then applied to the IP header (addresses only) and to the
 * UDP checksum (addresses, as part of the pseudo-header, and ports).
 */
static __always_inline __wsum fp_csum_diff(__be32 from, __be32 to)
{
	return csum_add(~(__force __wsum)from, (__force __wsum)to);
}

/*
 * An IPv4 datagram may carry no checksum (0): nothing to patch, unless the
 * device is still to compute it (CHECKSUM_PARTIAL), in which case the field
 * holds the pseudo-header sum, which the port changes do not touch.  After
 * skb_forward_csum() the skb is not CHECKSUM_COMPLETE, so skb->csum needs no
 * care.  A sum that comes out 0 is sent as 0xffff (RFC 768), as
 * nf_nat_proto.c does.
 */
static __always_inline void fp_udp_csum(struct sk_buff *skb, struct udphdr *uh, __wsum addrs, __wsum ports,
			bool v6)
{
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		/* inet_proto_csum_replace4()'s pseudo-header case */
		uh->check = ~csum_fold(csum_add(addrs, csum_unfold(uh->check)));
	} else if (v6 || uh->check) {
		csum_replace_by_diff(&uh->check, csum_add(addrs, ports));
		if (!uh->check)
			uh->check = CSUM_MANGLED_0;
	}
}

/* Writes the flow's ports; returns the checksum difference. */
static __always_inline __wsum fp_rewrite_ports(struct udphdr *uh, const struct fp_flow *f)
{
	__be16 dport = READ_ONCE(f->new_dport);
	__wsum d = 0;

	if (f->cfg.new_sport && uh->source != f->cfg.new_sport) {
		d = fp_csum_diff((__force __be32)(u32)(__force u16)uh->source,
				 (__force __be32)(u32)(__force u16)f->cfg.new_sport);
		uh->source = f->cfg.new_sport;
	}
	if (dport && uh->dest != dport) {
		d = csum_add(d, fp_csum_diff((__force __be32)(u32)(__force u16)uh->dest,
					     (__force __be32)(u32)(__force u16)dport));
		uh->dest = dport;
	}
	return d;
}

/* Writes an IPv4 address; returns the checksum difference. */
static __always_inline __wsum fp_addr4(__be32 *addr, __be32 to)
{
	__wsum d = fp_csum_diff(*addr, to);

	*addr = to;
	return d;
}

/* Writes an IPv6 address; returns the checksum difference. */
static __always_inline __wsum fp_addr6(struct in6_addr *addr, const struct in6_addr *to)
{
	__wsum d = 0;
	int i;

	for (i = 0; i < 4; i++)
		d = csum_add(d, fp_csum_diff(addr->s6_addr32[i], to->s6_addr32[i]));
	*addr = *to;
	return d;
}

/*
 * The route towards the flow's new destination, without a reference (see
 * flow.c, fp_flow_dst_set()), or NULL for "not here", and in *@mtu the
 * largest packet it takes: a packet above it goes the normal path, which
 * fragments or sends the ICMP error.  Routing is by the new destination
 * alone (no source, mark or TOS), so one cached route per flow and CPU
 * serves every packet.
 *
 * IPv4: the cached route is checked the way ipv4_dst_check() does, written
 * out because that is cheaper than the call: IPv4 routes are created
 * DST_OBSOLETE_FORCE_CHK, a PMTU exception or the device going away sets
 * another value, and any change of routes, addresses, or a device's MTU or
 * state moves the namespace's route generation on (rt_cache_flush()).  The
 * MTU is ip_forward()'s (ip_dst_mtu_maybe_forward()), taken with the route,
 * or the device's current one if that is smaller.
 *
 * IPv6: dst_check() (ip6_dst_check(), the fib6 serial number in the
 * cookie), and ip6_forward()'s MTU per packet (it follows the interface's
 * IPv6 MTU, which can change without the route changing).
 */
static noinline struct rtable *fp_route4_slow(struct fp_net *fn, struct fp_flow *f,
					      __be32 daddr, unsigned int *mtu)
{
	struct flowi4 fl4 = {};
	struct rtable *rt;

	fl4.daddr = f->cfg.has_new_daddr ? f->cfg.new_daddr.ip : daddr;
	rt = ip_route_output_key(fn->net, &fl4);
	if (IS_ERR(rt))
		return NULL;
	/* Local, broadcast, multicast, or an IPv6 next hop we would have to
	 * resolve in the other table: the normal path knows how. */
	if (rt->rt_type != RTN_UNICAST || rt->rt_gw_family == AF_INET6) {
		ip_rt_put(rt);
		return NULL;
	}
	*mtu = ip_dst_mtu_maybe_forward(&rt->dst, true);
	fp_flow_dst_set(this_cpu_ptr(f->route), &rt->dst, 0, *mtu);
	return rt;
}

static __always_inline struct rtable *fp_route4(struct fp_net *fn, struct fp_flow *f,
						__be32 daddr, unsigned int *mtu)
{
	struct fp_dst *c = this_cpu_ptr(f->route);
	struct rtable *rt = (struct rtable *)c->dst;

	if (unlikely(!rt || READ_ONCE(rt->dst.obsolete) != DST_OBSOLETE_FORCE_CHK ||
		     rt->rt_genid != rt_genid_ipv4(fn->net)))
		return fp_route4_slow(fn, f, daddr, mtu);
	*mtu = min(c->mtu, READ_ONCE(rt->dst.dev->mtu));
	return rt;
}

static noinline struct dst_entry *fp_route6_slow(struct fp_net *fn, struct fp_flow *f,
						 const struct in6_addr *daddr, unsigned int *mtu)
{
	struct flowi6 fl6 = {};
	struct dst_entry *dst;

	fl6.daddr = f->cfg.has_new_daddr ? f->cfg.new_daddr.in6 : *daddr;
	dst = ip6_route_output(fn->net, NULL, &fl6);
	if (dst->error || (dst->dev->flags & IFF_LOOPBACK) ||
	    (((struct rt6_info *)dst)->rt6i_flags & (RTF_LOCAL | RTF_ANYCAST))) {
		dst_release(dst);
		return NULL;
	}
	*mtu = ip6_dst_mtu_maybe_forward(dst, true);
	fp_flow_dst_set(this_cpu_ptr(f->route), dst, rt6_get_cookie((struct rt6_info *)dst), 0);
	return dst;
}

static __always_inline struct dst_entry *fp_route6(struct fp_net *fn, struct fp_flow *f,
						   const struct in6_addr *daddr,
						   unsigned int *mtu)
{
	struct fp_dst *c = this_cpu_ptr(f->route);
	struct dst_entry *dst = c->dst;

	if (unlikely(!dst || !dst_check(dst, c->cookie)))
		return fp_route6_slow(fn, f, daddr, mtu);
	*mtu = ip6_dst_mtu_maybe_forward(dst, true);
	return dst;
}

/*
 * The neighbour the packet will go to, if it is known: an unknown or failed
 * one sends the packet the normal path, which creates and resolves it (that
 * allocates; we do not).  A stale one is fine: neigh_output() goes through
 * its state machine as ip_finish_output2() would.
 */
static __always_inline struct neighbour *fp_neigh(struct neighbour *n)
{
	return n && (READ_ONCE(n->nud_state) & NUD_VALID) ? n : NULL;
}

/* Hand the rewritten packet to the output device the way ip_finish_output2()
 * does (cached link-layer header when there is one).  Consumes @skb; @dst
 * is attached without a reference (see fp_route4()). */
static __always_inline void fp_xmit(struct sk_buff *skb, struct dst_entry *dst, struct neighbour *n)
{
	skb_dst_drop(skb);
	/* A receive timestamp must not pass for a departure time (fq). */
	skb_clear_tstamp(skb);
	skb->dev = dst->dev;
	skb_dst_set_noref(skb, dst);
	neigh_output(n, skb, false);
}

unsigned int fp_hook_ipv4(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	const unsigned int nhoff = skb_network_offset(skb);
	const unsigned int thoff = nhoff + sizeof(struct iphdr);
	struct fp_net *fn = priv;
	union nf_inet_addr saddr, daddr;
	u8 rtpbuf[FP_RTP_HDR_LEN];
	struct neighbour *neigh;
	struct net_device *dev;
	struct fp_flow *f;
	struct udphdr *uh;
	struct iphdr *iph;
	unsigned int mtu;
	struct rtable *rt;
	const u8 *rtp;
	__be32 nexthop;
	__wsum addrs = 0;

	if (!READ_ONCE(fn->count) || skb->pkt_type != PACKET_HOST || skb_is_gso(skb) ||
	    !fp_headers_writable(skb, thoff + sizeof(*uh)))
		return NF_ACCEPT;
	iph = ip_hdr(skb);
	/* Options, fragments and expiring packets need the full stack. */
	if (iph->ihl != 5 || iph->protocol != IPPROTO_UDP || ip_is_fragment(iph) ||
	    iph->ttl <= 1)
		return NF_ACCEPT;
	uh = (struct udphdr *)(skb->data + thoff);
	if (ntohs(uh->len) != skb->len - thoff || fp_xfrm_active(fn->net, skb))
		return NF_ACCEPT;

	saddr.ip = iph->saddr;
	daddr.ip = iph->daddr;
	f = fp_flow_match(fn, AF_INET, &saddr, uh->source, &daddr, uh->dest);
	if (!f)
		return NF_ACCEPT;
	rt = fp_route4(fn, f, iph->daddr, &mtu);
	if (!rt)
		return NF_ACCEPT;
	dev = rt->dst.dev;
	nexthop = rt_nexthop(rt, f->cfg.has_new_daddr ? f->cfg.new_daddr.ip : iph->daddr);
	neigh = fp_neigh(__ipv4_neigh_lookup_noref(dev, (__force u32)nexthop));
	/* Too big: the normal path fragments or sends "fragmentation needed". */
	if (!neigh || skb->len > mtu || skb_headroom(skb) < LL_RESERVED_SPACE(dev))
		return NF_ACCEPT;

	/* Committed: from here on the packet is ours. */
	rtp = fp_rtp_peek(skb, thoff + sizeof(*uh), rtpbuf);
	skb_forward_csum(skb);
	if (f->cfg.has_new_saddr)
		addrs = fp_addr4(&iph->saddr, f->cfg.new_saddr.ip);
	if (f->cfg.has_new_daddr)
		addrs = csum_add(addrs, fp_addr4(&iph->daddr, f->cfg.new_daddr.ip));
	if (f->cfg.has_new_saddr || f->cfg.has_new_daddr)
		csum_replace_by_diff(&iph->check, addrs);
	fp_udp_csum(skb, uh, addrs, fp_rewrite_ports(uh, f), false);
	if (f->cfg.flags & SIPNAT_FP_F_DSCP)
		ipv4_change_dsfield(iph, INET_ECN_MASK, f->cfg.dscp << 2);
	ip_decrease_ttl(iph);
	/* As ip_forward() does: the TOS picks the qdisc band (EF media first). */
	skb->priority = rt_tos2priority(iph->tos);
	fp_flow_seen(f, skb->len, rtp);

	fp_xmit(skb, &rt->dst, neigh);
	return NF_STOLEN;
}

unsigned int fp_hook_ipv6(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	const unsigned int nhoff = skb_network_offset(skb);
	const unsigned int thoff = nhoff + sizeof(struct ipv6hdr);
	struct fp_net *fn = priv;
	union nf_inet_addr saddr, daddr;
	u8 rtpbuf[FP_RTP_HDR_LEN];
	const struct in6_addr *nexthop;
	struct neighbour *neigh;
	struct ipv6hdr *ip6h;
	struct dst_entry *dst;
	struct fp_flow *f;
	struct udphdr *uh;
	__wsum addrs = 0;
	unsigned int mtu;
	const u8 *rtp;

	if (!READ_ONCE(fn->count) || skb->pkt_type != PACKET_HOST || skb_is_gso(skb) ||
	    !fp_headers_writable(skb, thoff + sizeof(*uh)))
		return NF_ACCEPT;
	ip6h = ipv6_hdr(skb);
	/* Extension headers (fragments included) and expiring packets need
	 * the full stack. */
	if (ip6h->nexthdr != IPPROTO_UDP || ip6h->hop_limit <= 1)
		return NF_ACCEPT;
	uh = (struct udphdr *)(skb->data + thoff);
	if (ntohs(uh->len) != skb->len - thoff || fp_xfrm_active(fn->net, skb))
		return NF_ACCEPT;

	saddr.in6 = ip6h->saddr;
	daddr.in6 = ip6h->daddr;
	f = fp_flow_match(fn, AF_INET6, &saddr, uh->source, &daddr, uh->dest);
	if (!f)
		return NF_ACCEPT;
	dst = fp_route6(fn, f, &ip6h->daddr, &mtu);
	if (!dst)
		return NF_ACCEPT;
	nexthop = rt6_nexthop((struct rt6_info *)dst,
			      f->cfg.has_new_daddr ? &f->cfg.new_daddr.in6 : &ip6h->daddr);
	neigh = fp_neigh(__ipv6_neigh_lookup_noref(dst->dev, nexthop));
	if (!neigh || skb->len > mtu || skb_headroom(skb) < LL_RESERVED_SPACE(dst->dev))
		return NF_ACCEPT;

	rtp = fp_rtp_peek(skb, thoff + sizeof(*uh), rtpbuf);
	skb_forward_csum(skb);
	if (f->cfg.has_new_saddr)
		addrs = fp_addr6(&ip6h->saddr, &f->cfg.new_saddr.in6);
	if (f->cfg.has_new_daddr)
		addrs = csum_add(addrs, fp_addr6(&ip6h->daddr, &f->cfg.new_daddr.in6));
	fp_udp_csum(skb, uh, addrs, fp_rewrite_ports(uh, f), true);
	if (f->cfg.flags & SIPNAT_FP_F_DSCP)
		ipv6_change_dsfield(ip6h, INET_ECN_MASK, f->cfg.dscp << 2);
	ip6h->hop_limit--;
	fp_flow_seen(f, skb->len, rtp);

	fp_xmit(skb, dst, neigh);
	return NF_STOLEN;
}
