/* ctmap.c - see ctmap.h.
 *
 * Owns: the CTA tuple layout (linux/netfilter/nfnetlink_conntrack.h):
 *
 *   NFQA_CT payload: CTA_TUPLE_ORIG { CTA_TUPLE_IP { CTA_IP_V4_SRC/DST |
 *                                                    CTA_IP_V6_SRC/DST },
 *                                     CTA_TUPLE_PROTO { CTA_PROTO_NUM,
 *                                       CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT } }
 *                    CTA_TUPLE_REPLY { same }  ... (other CTA_*: skipped)
 *
 * Must not: do I/O.  Every attribute is checked for its length before it
 * is read; unknown ones are skipped (newer kernels add some).
 */
#include "ctmap.h"

#include <arpa/inet.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#define CT_IS_REPLY 3	/* IP_CT_IS_REPLY of enum ip_conntrack_info */

struct tb {
	const struct nlattr *a[CTA_MAX + 1];
	uint16_t max;
};

static int collect(const struct nlattr *attr, void *data)
{
	struct tb *tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= tb->max)
		tb->a[type] = attr;
	return MNL_CB_OK;
}

static int nested(const struct nlattr *attr, struct tb *tb, uint16_t max)
{
	memset(tb, 0, sizeof(*tb));
	tb->max = max;
	return mnl_attr_parse_nested(attr, collect, tb) < 0 ? -1 : 0;
}

static int get_addr(const struct nlattr *a, sa_family_t fam, struct sn_addr *out)
{
	size_t alen = fam == AF_INET ? 4 : 16;

	if (!a || mnl_attr_get_payload_len(a) != alen)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = fam;
	memcpy(out->u.bytes, mnl_attr_get_payload(a), alen);
	return 0;
}

static int get_port(const struct nlattr *a, uint16_t *port)
{
	if (!a || mnl_attr_get_payload_len(a) != sizeof(uint16_t))
		return -1;
	*port = ntohs(mnl_attr_get_u16(a));
	return 0;
}

static int parse_tuple(const struct nlattr *attr, struct ct_tuple *t)
{
	struct tb tt, ip, pr;
	sa_family_t fam;

	memset(t, 0, sizeof(*t));
	if (!attr || nested(attr, &tt, CTA_TUPLE_MAX) || !tt.a[CTA_TUPLE_IP] ||
	    !tt.a[CTA_TUPLE_PROTO] || nested(tt.a[CTA_TUPLE_IP], &ip, CTA_IP_MAX) ||
	    nested(tt.a[CTA_TUPLE_PROTO], &pr, CTA_PROTO_MAX))
		return -1;
	fam = ip.a[CTA_IP_V4_SRC] ? AF_INET : AF_INET6;
	if (get_addr(ip.a[fam == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], fam, &t->src.addr) ||
	    get_addr(ip.a[fam == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST], fam, &t->dst.addr))
		return -1;
	if (!pr.a[CTA_PROTO_NUM] || mnl_attr_get_payload_len(pr.a[CTA_PROTO_NUM]) != 1)
		return -1;
	t->l4proto = mnl_attr_get_u8(pr.a[CTA_PROTO_NUM]);
	if (t->l4proto == IPPROTO_UDP || t->l4proto == IPPROTO_TCP) {
		if (get_port(pr.a[CTA_PROTO_SRC_PORT], &t->src.port) ||
		    get_port(pr.a[CTA_PROTO_DST_PORT], &t->dst.port))
			return -1;
	}
	return 0;
}

int ctmap_parse(const void *ct, size_t len, struct ct_tuple *orig, struct ct_tuple *reply)
{
	struct tb top;

	if (!ct || len == 0)
		return -1;
	memset(&top, 0, sizeof(top));
	top.max = CTA_MAX;
	if (mnl_attr_parse_payload(ct, len, collect, &top) < 0)
		return -1;
	if (parse_tuple(top.a[CTA_TUPLE_ORIG], orig) || parse_tuple(top.a[CTA_TUPLE_REPLY], reply))
		return -1;
	if (orig->src.addr.family != reply->src.addr.family || orig->l4proto != reply->l4proto)
		return -1;
	return 0;
}

bool ctmap_is_reply(uint32_t ctinfo)
{
	return ctinfo >= CT_IS_REPLY;
}

static bool ep_equal(const struct sn_endpoint *a, const struct sn_endpoint *b)
{
	return a->port == b->port && sn_addr_equal(&a->addr, &b->addr);
}

int ctmap_view(const struct ct_tuple *orig, const struct ct_tuple *reply, bool pkt_is_reply,
	       struct ctmap_view *v)
{
	bool snat = !ep_equal(&orig->src, &reply->dst);	/* orig sender translated */
	bool dnat = !ep_equal(&orig->dst, &reply->src);	/* orig receiver translated */
	struct sn_endpoint priv, pub, outside;
	bool inside_sends_orig;

	memset(v, 0, sizeof(*v));
	if (snat == dnat)
		return -1;
	if (snat) {
		priv = orig->src;
		pub = reply->dst;
		outside = orig->dst;
		inside_sends_orig = true;
	} else {
		priv = reply->src;
		pub = orig->dst;
		outside = orig->src;
		inside_sends_orig = false;
	}
	if (priv.addr.family != pub.addr.family)
		return -1;
	v->dir = pkt_is_reply != inside_sends_orig ? RW_OUT : RW_IN;
	v->src = v->dir == RW_OUT ? priv : outside;
	v->dst = v->dir == RW_OUT ? outside : priv;
	v->entry.priv = priv.addr;
	v->entry.pub = pub.addr;
	if (priv.port != pub.port) {
		v->entry.priv_port = priv.port;
		v->entry.pub_port = pub.port;
	}
	v->master.orig = *orig;
	v->master.outside_dir = inside_sends_orig ? 1 : 0;
	v->master.inside = priv.addr;
	return 0;
}
