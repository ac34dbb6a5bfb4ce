/* probe.c - see probe.h.
 *
 * Owns: the list of kernel features nfqd and the tests care about.  Add
 * a line here when code starts to depend on a feature (kernel-facts.md
 * lists the ones that differ between the host and Debian's kernel).
 * Must not: leave state behind.
 */
#include "probe.h"
#include "cthelper.h"
#include "pinhole.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_cthelper.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "queue.h"

/* Queue used for flag probes when the configured one is busy (nfqd is
 * running): flags are per queue, support is per kernel. */
#define SPARE_QUEUE 65531

static void line(FILE *out, const char *name, int err, const char *no_word)
{
	if (err == 0)
		fprintf(out, "%s: yes\n", name);
	else
		fprintf(out, "%s: %s (%s)\n", name, no_word, strerror(err));
}

/* 0 when table exists, else the errno (ENOENT: absent). */
static int nft_table_exists(const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL);
	int rc = 0;
	ssize_t r;

	t = nftnl_table_alloc();
	if (!t)
		return ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = errno;
		goto out;
	}
	/* A GET answers with the table and then the ACK, or an error. */
	for (int i = 0; i < 4; i++) {
		r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0) {
			rc = errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)r, seq, mnl_socket_get_portid(nl), NULL, NULL);
		if (r < 0) {
			rc = errno;
			break;
		}
		if (r == MNL_CB_STOP)
			break;
	}
out:
	mnl_socket_close(nl);
	return rc;
}

/* Sends len bytes of requests and reads the answers until every one of
 * the n sequence numbers from first got its ACK or error, or a dump ends.
 * Returns 0, or the first error (positive errno). */
static int talk(struct mnl_socket *nl, const void *buf, size_t len, uint32_t first, unsigned n)
{
	static char rbuf[16384];
	unsigned answered = 0;
	int first_err = 0;

	if (mnl_socket_sendto(nl, buf, len) < 0)
		return errno;
	/* Bounded: each answer is one of ours or a dump part. */
	for (int i = 0; i < 64 && answered < n; i++) {
		ssize_t r = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		const struct nlmsghdr *m;
		int left;

		if (r < 0)
			return first_err ? first_err : errno;
		left = (int)r;
		for (m = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_seq < first || m->nlmsg_seq >= first + n)
				continue;
			if (m->nlmsg_type == NLMSG_DONE) {
				answered++;
			} else if (m->nlmsg_type == NLMSG_ERROR &&
				   m->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

				answered++;
				if (e->error && !first_err)
					first_err = -e->error;
			}
		}
	}
	return first_err;
}

static struct mnl_socket *nl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* Whether an nfnetlink subsystem answers a dump request (0) or not. */
static int nfnl_dump(uint8_t subsys, uint8_t msg)
{
	char buf[256];
	struct mnl_socket *nl = nl_open();
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	uint32_t seq = (uint32_t)time(NULL);
	int rc;

	if (!nl)
		return errno;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)(subsys << 8 | msg);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	rc = talk(nl, buf, nlh->nlmsg_len, seq, 1);
	mnl_socket_close(nl);
	return rc;
}

/* Whether nf_tables takes a rule with the `queue` expression: a batch
 * that creates a scratch table, a base chain and the rule, sent without
 * its end message, so the kernel validates it all and then aborts:
 * nothing is ever committed. */
static int nft_queue_supported(void)
{
	static char buf[8192];
	struct mnl_socket *nl = nl_open();
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e = nftnl_expr_alloc("queue");
	uint32_t seq = (uint32_t)time(NULL), first;
	char name[32];
	size_t len = 0;
	struct nlmsghdr *nlh;
	int rc = ENOMEM;

	if (!nl || !t || !c || !r || !e) {
		rc = nl ? ENOMEM : errno;
		goto out;
	}
	snprintf(name, sizeof(name), "sipnat_probe_%d", (int)getpid());
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "probe");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, name);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "probe");
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, 0);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS);
	nftnl_rule_add_expr(r, e);
	e = NULL;	/* the rule owns it */

	nlh = nftnl_batch_begin(buf, seq++);
	len += nlh->nlmsg_len;
	first = seq;
	nlh = nftnl_table_nlmsg_build_hdr(buf + len, NFT_MSG_NEWTABLE, NFPROTO_INET,
					  NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	len += nlh->nlmsg_len;
	nlh = nftnl_chain_nlmsg_build_hdr(buf + len, NFT_MSG_NEWCHAIN, NFPROTO_INET,
					  NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	len += nlh->nlmsg_len;
	nlh = nftnl_rule_nlmsg_build_hdr(buf + len, NFT_MSG_NEWRULE, NFPROTO_INET,
					 NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	len += nlh->nlmsg_len;
	/* No NFNL_MSG_BATCH_END: the kernel aborts after validating. */
	rc = talk(nl, buf, len, first, 3);
out:
	if (e)
		nftnl_expr_free(e);
	if (r)
		nftnl_rule_free(r);
	if (c)
		nftnl_chain_free(c);
	if (t)
		nftnl_table_free(t);
	if (nl)
		mnl_socket_close(nl);
	return rc;
}

/* --- the kernel's own SIP ALG in the ruleset ------------------------ */

/* The kernel's helper is registered as "sip" (nf_conntrack_sip). */
#define KERNEL_SIP_HELPER "sip"
/* ct helper objects of type sip remembered while rules are read. */
#define ALG_OBJ_MAX 64

struct alg_obj {
	uint32_t family;
	char table[64];
	char name[64];
};

struct alg_scan {
	struct alg_obj objs[ALG_OBJ_MAX];
	int nobjs;
	bool objs_truncated;	/* more sip objects than remembered */
	struct probe_alg_hit *hits;
	int max, nhits;
	/* the rule being read */
	uint32_t family;
	const char *table, *chain;
};

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	default: return "?";
	}
}

static const char *str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static void alg_hit(struct alg_scan *s, const char *fmt, const char *arg)
{
	if (s->nhits < s->max) {
		struct probe_alg_hit *h = &s->hits[s->nhits];

		snprintf(h->family, sizeof(h->family), "%s", family_name(s->family));
		snprintf(h->table, sizeof(h->table), "%s", str_or(s->table, "?"));
		snprintf(h->chain, sizeof(h->chain), "%s", str_or(s->chain, "?"));
		snprintf(h->what, sizeof(h->what), fmt, arg);
	}
	s->nhits++;
}

static bool alg_obj_known(const struct alg_scan *s, const char *name)
{
	for (int i = 0; i < s->nobjs; i++)
		if (s->objs[i].family == s->family && !strcmp(s->objs[i].table, s->table) &&
		    (!name || !strcmp(s->objs[i].name, name)))
			return true;
	return false;
}

static int alg_obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct alg_scan *s = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *helper, *table, *name;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_CT_HELPER) {
		helper = nftnl_obj_get_str(o, NFTNL_OBJ_CT_HELPER_NAME);
		table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
		name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
		if (helper && table && name && !strcmp(helper, KERNEL_SIP_HELPER)) {
			if (s->nobjs < ALG_OBJ_MAX) {
				struct alg_obj *a = &s->objs[s->nobjs++];

				a->family = nftnl_obj_get_u32(o, NFTNL_OBJ_FAMILY);
				snprintf(a->table, sizeof(a->table), "%s", table);
				snprintf(a->name, sizeof(a->name), "%s", name);
			} else {
				s->objs_truncated = true;
			}
		}
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

static int alg_expr_cb(struct nftnl_expr *e, void *data)
{
	struct alg_scan *s = data;
	const char *kind = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t len = 0;

	if (!kind)
		return MNL_CB_OK;
	if (!strcmp(kind, "objref")) {
		const char *obj, *set;

		if (nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_IMM_TYPE) &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE) == NFT_OBJECT_CT_HELPER) {
			obj = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME);
			if (obj && (alg_obj_known(s, obj) || s->objs_truncated))
				alg_hit(s, "ct helper \"%s\"", obj);
		} else if (nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_SET_NAME)) {
			/* A map picks the object per packet: any sip object
			 * in the table may be the one. */
			set = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_SET_NAME);
			if (set && (alg_obj_known(s, NULL) || s->objs_truncated))
				alg_hit(s, "ct helper map @%s", set);
		}
	} else if (!strcmp(kind, "target")) {
		/* iptables-nft -j CT: struct xt_ct_target_info (rev 0 and 1)
		 * holds char helper[16] after u16 flags, u16 zone, u32
		 * ct_events, u32 exp_events. */
		const char *tg = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
		const char *info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);

		if (tg && !strcmp(tg, "CT") && info && len >= 12 + 16 &&
		    !strncmp(info + 12, KERNEL_SIP_HELPER, 16))
			alg_hit(s, "%s", "iptables -j CT --helper sip");
	}
	return MNL_CB_OK;
}

static int alg_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct alg_scan *s = data;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0) {
		s->family = nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
		s->table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
		s->chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		if (s->table)
			nftnl_expr_foreach(r, alg_expr_cb, s);
		s->table = s->chain = NULL;
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* One dump request; every answer goes to cb.  0 or errno. */
static int nft_dump(uint16_t msg, mnl_cb_t cb, void *data)
{
	/* A dump part is at most what the receive buffer holds; 64 KiB
	 * is above the kernel's largest dump skb. */
	static char buf[65536];
	struct mnl_socket *nl = nl_open();
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	int rc = 0;

	if (!nl)
		return errno ? errno : EIO;
	nlh = nftnl_nlmsg_build_hdr(buf, msg, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = errno;
		goto out;
	}
	/* Bounded: a ruleset that needs more parts than this is beyond
	 * any router we are meant for; what was read is still checked. */
	for (int i = 0; i < 100000; i++) {
		ssize_t r = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (r < 0) {
			rc = errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)r, seq, mnl_socket_get_portid(nl), cb, data);
		if (r < 0) {
			rc = errno ? errno : EIO;
			break;
		}
		if (r == MNL_CB_STOP)
			break;
	}
out:
	mnl_socket_close(nl);
	return rc;
}

int probe_kernel_alg(struct probe_alg_hit *hits, int max)
{
	static struct alg_scan s;
	int err;

	memset(&s, 0, sizeof(s));
	s.hits = hits;
	s.max = max;
	/* Objects first: a rule names its object only by name. */
	err = nft_dump(NFT_MSG_GETOBJ, alg_obj_cb, &s);
	if (!err)
		err = nft_dump(NFT_MSG_GETRULE, alg_rule_cb, &s);
	/* No nf_tables at all: then nothing can attach a helper. */
	if (err == EAFNOSUPPORT || err == EPROTONOSUPPORT)
		return 0;
	return err ? -err : s.nhits;
}

void probe_alg_where(const struct probe_alg_hit *h, char *buf, size_t len)
{
	snprintf(buf, len, "table %.7s %.63s (%.95s, chain %.63s)", h->family, h->table, h->what, h->chain);
}

int probe_run(const struct conf *c, FILE *out)
{
	struct utsname u;
	char name[128];
	uint16_t q = c->queue_num;
	int err, ct_err, cth_err;

	if (uname(&u) == 0)
		fprintf(out, "kernel: %s %s\n", u.sysname, u.release);

	err = queue_probe_flag(q, 0);
	snprintf(name, sizeof(name), "nfqueue bind (queue %u)", q);
	if (err == EBUSY || err == EPERM) {
		/* EPERM is also what a queue held by another socket gives:
		 * a spare queue tells the two apart. */
		int spare = queue_probe_flag(SPARE_QUEUE, 0);

		if (spare == 0) {
			fprintf(out, "%s: busy (bound by another process: nfqd running?)\n", name);
			q = SPARE_QUEUE;
			snprintf(name, sizeof(name), "nfqueue bind (spare queue %u)", q);
		}
		err = spare;
	}
	line(out, name, err, "no");
	if (err) {
		fprintf(out, "nfqueue: cannot bind a queue; nfqd cannot run here\n");
		return 1;
	}
	line(out, "nfqueue fail-open (NFQA_CFG_F_FAIL_OPEN)",
	     queue_probe_flag(q, NFQA_CFG_F_FAIL_OPEN), "no");
	ct_err = queue_probe_flag(q, NFQA_CFG_F_CONNTRACK);
	line(out, "nfqueue conntrack (NFQA_CFG_F_CONNTRACK)", ct_err, "no");
	line(out, "nfqueue gso (NFQA_CFG_F_GSO)", queue_probe_flag(q, NFQA_CFG_F_GSO), "no");

	line(out, "nft queue statement (NFT_QUEUE)", nft_queue_supported(), "no");
	line(out, "ctnetlink (conntrack entries)",
	     nfnl_dump(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET_STATS_CPU), "no");
	line(out, "ctnetlink expectations",
	     nfnl_dump(NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_GET_STATS_CPU), "no");
	cth_err = nfnl_dump(NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_GET);
	line(out, "userspace conntrack helpers (nfnetlink_cthelper)", cth_err, "no");

	err = nft_table_exists(c->table);
	snprintf(name, sizeof(name), "nft table inet %s", c->table);
	if (err == ENOENT)
		fprintf(out, "%s: absent (load the rules: sipnat-rules)\n", name);
	else
		line(out, name, err, "unknown");

	{
		/* The choice media-backend auto makes (daemon.c media_open):
		 * the nftset ruleset when loaded, else the conntrack helper. */
		struct pin_backend_conf pc = { .table = c->table, .default_timeout_s = 60 };
		void *ctx = NULL;
		bool nftset = pin_nftset_ops.open(&ctx, &pc) == 0;

		if (nftset)
			pin_nftset_ops.close(ctx);
		fprintf(out, "media-backend auto: %s\n",
			nftset ? "nftset (the nftset ruleset is loaded)" :
			!ct_err && !cth_err ? "expect (conntrack helper " CTHELPER_NAME
					      ", NFQA_CT; map optional)" :
			"none (no nftset ruleset loaded, no conntrack helpers here)");
	}
	{
		struct probe_alg_hit hits[PROBE_ALG_MAX];
		char where[256];
		int n = probe_kernel_alg(hits, PROBE_ALG_MAX);

		if (n < 0) {
			fprintf(out, "kernel SIP ALG in the ruleset: unknown (%s)\n", strerror(-n));
		} else if (n == 0) {
			fprintf(out, "kernel SIP ALG in the ruleset: no\n");
		} else {
			for (int i = 0; i < n && i < PROBE_ALG_MAX; i++) {
				probe_alg_where(&hits[i], where, sizeof(where));
				fprintf(out, "kernel SIP ALG in the ruleset: yes, %s: nfqd refuses "
					"to start (--allow-kernel-alg)\n", where);
			}
		}
	}
	return 0;
}
