/* pin_expect.c - the pinhole backend over conntrack expectations
 * (ctnetlink, built with libmnl), hung off the SIP flow of the userspace
 * helper "sipnat" (cthelper.c).  Stock kernels only.
 *
 * Owns: the IPCTNL_MSG_EXP_NEW/DELETE messages, the deferral of add/del
 * until the queue's verdicts are sent, the choice of NAT expect function.
 * Must not: decide which pinholes exist (dialog.c does), or touch nft.
 *
 * Why libmnl and not libnetfilter_conntrack: 1.0.9 silently drops
 * CTA_EXPECT_NAT, CTA_EXPECT_FN and CTA_EXPECT_CLASS, and then the media
 * lands on the public port instead of the private one.
 *
 * One pinhole, one expectation:
 *   towards the inside party (pub set): tuple  peer:* -> pub.addr:pub.port,
 *     NAT (CTA_EXPECT_NAT_DIR = the master direction the outside party
 *     sends in, CTA_EXPECT_NAT_TUPLE src = dst:dport) with expect function
 *     "sip" (nf_nat_sip: DNAT to exactly that address:port) or, where
 *     nf_nat_sip is not loaded, "nat-follow-master" (DNAT to the master's
 *     inside address, port from the tuple);
 *   towards the outside party: tuple  src:* -> dst:dport, no NAT (the
 *     ruleset's SNAT applies to the new flow as to any other).
 * Either makes the media flow RELATED, which a firewall's
 * "ct state established,related accept" lets through.
 *
 * Class: the pinhole's (CTA_EXPECT_CLASS: 0 audio/video, 1 other media).
 * Class 1 also names the disabled helper CTHELPER_MEDIA_NAME, without
 * which older kernels file it under class 0 (cthelper.h).
 * Where that helper is missing (EOPNOTSUPP: registered by an older nfqd)
 * the expectation is made in class 0, as before, and stays so.
 *
 * Deferral: the first packet's conntrack is unconfirmed while it sits in
 * the queue, and ctnetlink answers ENOENT for it as a master.  add/del
 * only record the operation (with the master of the current packet);
 * commit(), called after the burst's verdicts went out, sends them.
 * Refresh: a second add of the same tuple updates its timeout.  Delete of
 * an expectation already used by its media (or expired): ENOENT, fine.
 * Clash: the same tuple under another master (a second inside host behind
 * the same public address announcing the same port, or an expectation
 * left by an earlier nfqd) is EBUSY; such adds are kept for
 * take_refused(), so the daemon moves the stream to another public port
 * (medport.c) and logs it there, once per port.
 */
#include "pinhole.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "cthelper.h"
#include "ctmap.h"
#include "log.h"

#define PENDING_MAX 256
#define REFUSED_MAX 32
#define NL_BUF 8192

enum op_kind { OP_ADD, OP_DEL };

struct op {
	enum op_kind kind;
	struct pinhole ph;
	struct ct_master m;
};

struct expect {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint32_t timeout_s;
	bool have_master;
	bool no_sip_fn;		/* nf_nat_sip absent: nat-follow-master */
	bool no_media_helper;	/* CTHELPER_MEDIA_NAME absent: all class 0 */
	struct ct_master master;
	struct op pending[PENDING_MAX];
	size_t npending;
	struct pinhole refused[REFUSED_MAX];	/* EBUSY adds, for take_refused() */
	size_t nrefused;
	char buf[NL_BUF], rbuf[NL_BUF];
};

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, const struct sn_addr *src,
		      uint16_t sport, const struct sn_addr *dst, uint16_t dport, uint8_t proto)
{
	bool v4 = src->family == AF_INET;
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, v4 ? 4 : 16, src->u.bytes);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, v4 ? 4 : 16, dst->u.bytes);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

static struct nlmsghdr *msg_start(struct expect *e, uint8_t msg, uint16_t flags, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(e->buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++e->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	return nlh;
}

/* Sends one request, reads its ACK: 0 or -1 with errno. */
static int talk(struct expect *e, struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(e->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (int i = 0; i < 16; i++) {
		ssize_t r = mnl_socket_recvfrom(e->nl, e->rbuf, sizeof(e->rbuf));
		int rc;

		if (r < 0)
			return -1;
		rc = mnl_cb_run(e->rbuf, (size_t)r, nlh->nlmsg_seq, e->portid, NULL, NULL);
		if (rc >= 0)
			return 0;
		if (errno != ESRCH && errno != EPROTO)
			return -1;	/* the kernel's error for our request */
		/* an answer to an older request (a stale sequence): read on */
	}
	errno = ETIMEDOUT;
	return -1;
}

/* The expected tuple: who sends (any port) to where the packets arrive
 * before NAT. */
static void exp_tuple(const struct pinhole *p, struct sn_addr *dst, uint16_t *dport)
{
	if (p->pub.addr.family) {
		*dst = p->pub.addr;
		*dport = p->pub.port;
	} else {
		*dst = p->dst;
		*dport = p->dport;
	}
}

static int send_add(struct expect *e, const struct op *o, const char *fn)
{
	const struct pinhole *p = &o->ph;
	const struct ct_tuple *mt = &o->m.orig;
	struct sn_addr dst, ones;
	uint16_t dport;
	struct nlmsghdr *nlh = msg_start(e, IPCTNL_MSG_EXP_NEW, NLM_F_CREATE, p->src.family);

	exp_tuple(p, &dst, &dport);
	memset(&ones, 0xff, sizeof(ones));
	ones.family = p->src.family;
	put_tuple(nlh, CTA_EXPECT_MASTER, &mt->src.addr, mt->src.port, &mt->dst.addr, mt->dst.port,
		  mt->l4proto);
	put_tuple(nlh, CTA_EXPECT_TUPLE, &p->src, 0, &dst, dport, p->l4proto);
	put_tuple(nlh, CTA_EXPECT_MASK, &ones, 0, &ones, 0xffff, p->l4proto);
	mnl_attr_put_u32(nlh, CTA_EXPECT_TIMEOUT, htonl(e->timeout_s));
	if (p->mclass == PIN_CLASS_OTHER && !e->no_media_helper) {
		mnl_attr_put_u32(nlh, CTA_EXPECT_CLASS, htonl(CTH_CLASS_OTHER));
		mnl_attr_put_strz(nlh, CTA_EXPECT_HELP_NAME, CTHELPER_MEDIA_NAME);
	} else {
		mnl_attr_put_u32(nlh, CTA_EXPECT_CLASS, htonl(CTH_CLASS_AV));
	}
	if (p->pub.addr.family) {
		struct nlattr *n = mnl_attr_nest_start(nlh, CTA_EXPECT_NAT);

		mnl_attr_put_u32(nlh, CTA_EXPECT_NAT_DIR, htonl(o->m.outside_dir));
		put_tuple(nlh, CTA_EXPECT_NAT_TUPLE, &p->dst, p->dport, &p->src, 0, p->l4proto);
		mnl_attr_nest_end(nlh, n);
		mnl_attr_put_strz(nlh, CTA_EXPECT_FN, fn);
	}
	return talk(e, nlh);
}

static int add_fn(struct expect *e, const struct op *o)
{
	if (!e->no_sip_fn) {
		if (send_add(e, o, "sip") == 0)
			return 0;
		if (errno != EINVAL || !o->ph.pub.addr.family)
			return -1;
		/* No "sip" expect function: nf_nat_sip is not loaded. */
		if (send_add(e, o, "nat-follow-master"))
			return -1;
		e->no_sip_fn = true;
		log_info("expectations: nf_nat_sip not loaded, using nat-follow-master "
			 "(media must go to the SIP party's own address)");
		return 0;
	}
	return send_add(e, o, "nat-follow-master");
}

static int do_add(struct expect *e, const struct op *o)
{
	if (o->ph.src.family != o->m.orig.src.addr.family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (add_fn(e, o) == 0)
		return 0;
	if (errno != EOPNOTSUPP || o->ph.mclass != PIN_CLASS_OTHER || e->no_media_helper)
		return -1;
	/* EOPNOTSUPP: the kernel does not know CTHELPER_MEDIA_NAME, or the
	 * master has no helper; only a retry without it tells them apart. */
	e->no_media_helper = true;
	if (add_fn(e, o)) {
		e->no_media_helper = false;
		return -1;
	}
	log_info("expectations: helper %s not registered, other media in class 0",
		 CTHELPER_MEDIA_NAME);
	return 0;
}

static int do_del(struct expect *e, const struct pinhole *p)
{
	struct sn_addr dst;
	uint16_t dport;
	struct nlmsghdr *nlh = msg_start(e, IPCTNL_MSG_EXP_DELETE, 0, p->src.family);

	exp_tuple(p, &dst, &dport);
	put_tuple(nlh, CTA_EXPECT_TUPLE, &p->src, 0, &dst, dport, p->l4proto);
	if (talk(e, nlh))
		return errno == ENOENT ? 0 : -1;
	return 0;
}

static int expect_open(void **ctx, const struct pin_backend_conf *conf)
{
	struct expect *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	e->timeout_s = CTH_TIMEOUT_S;
	e->seq = (uint32_t)time(NULL);
	e->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!e->nl || mnl_socket_bind(e->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		if (conf->errbuf && conf->errlen)
			snprintf(conf->errbuf, conf->errlen, "ctnetlink socket: %s", strerror(err));
		if (e->nl)
			mnl_socket_close(e->nl);
		free(e);
		errno = err;
		return -1;
	}
	e->portid = mnl_socket_get_portid(e->nl);
	*ctx = e;
	return 0;
}

static int expect_commit(void *ctx);

static int queue_op(struct expect *e, enum op_kind k, const struct pinhole *p)
{
	struct op *o;

	if (k == OP_ADD && !e->have_master) {
		errno = ENOTCONN;	/* no SIP flow to hang it off */
		return -1;
	}
	if (e->npending == PENDING_MAX && expect_commit(e) > 0)
		log_warn("expectations: pending list full, committed early");
	o = &e->pending[e->npending++];
	o->kind = k;
	o->ph = *p;
	if (e->have_master)
		o->m = e->master;
	return 0;
}

static int expect_add(void *ctx, const struct pinhole *p)
{
	return queue_op(ctx, OP_ADD, p);
}

static int expect_del(void *ctx, const struct pinhole *p)
{
	return queue_op(ctx, OP_DEL, p);
}

static void expect_set_master(void *ctx, const struct ct_master *m)
{
	struct expect *e = ctx;

	e->have_master = m != NULL;
	if (m)
		e->master = *m;
}

static int expect_commit(void *ctx)
{
	struct expect *e = ctx;
	int failed = 0;

	for (size_t i = 0; i < e->npending; i++) {
		const struct op *o = &e->pending[i];
		int r = o->kind == OP_ADD ? do_add(e, o) : do_del(e, &o->ph);

		if (r && errno == EBUSY && o->kind == OP_ADD && o->ph.pub.addr.family) {
			failed++;
			if (e->nrefused < REFUSED_MAX)
				e->refused[e->nrefused++] = o->ph;
		} else if (r) {
			char src[SN_ADDRSTRLEN], dst[SN_ADDRSTRLEN];

			failed++;
			sn_addr_format(&o->ph.src, src, sizeof(src));
			sn_addr_format(&o->ph.dst, dst, sizeof(dst));
			log_warn("expectation %s %s -> %s port %u: %s",
				 o->kind == OP_ADD ? "add" : "delete", src, dst, o->ph.dport,
				 strerror(errno));
		}
	}
	e->npending = 0;
	return failed;
}

static size_t expect_take_refused(void *ctx, struct pinhole *out, size_t max)
{
	struct expect *e = ctx;
	size_t n = e->nrefused < max ? e->nrefused : max;

	memcpy(out, e->refused, n * sizeof(*out));
	memmove(e->refused, e->refused + n, (e->nrefused - n) * sizeof(*out));
	e->nrefused -= n;
	return n;
}

/* Every expectation of helper "sipnat" (master flows of our helper). */
static int expect_flush(void *ctx)
{
	struct expect *e = ctx;
	int rc = 0;

	e->npending = 0;
	for (int i = 0; i < 2; i++) {
		struct nlmsghdr *nlh = msg_start(e, IPCTNL_MSG_EXP_DELETE, 0,
						 i ? AF_INET6 : AF_INET);

		mnl_attr_put_strz(nlh, CTA_EXPECT_HELP_NAME, CTHELPER_NAME);
		if (talk(e, nlh) && errno != ENOENT)
			rc = -1;
	}
	return rc;
}

static void expect_close(void *ctx)
{
	struct expect *e = ctx;

	if (!e)
		return;
	if (e->npending)
		expect_commit(e);
	mnl_socket_close(e->nl);
	free(e);
}

const struct pinhole_ops pin_expect_ops = {
	.name = "expect",
	.open = expect_open,
	.add = expect_add,
	.del = expect_del,
	.flush = expect_flush,
	.close = expect_close,
	.set_master = expect_set_master,
	.commit = expect_commit,
	.take_refused = expect_take_refused,
};
