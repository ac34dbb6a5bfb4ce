/* probe.c - see probe.h.
 *
 * Owns: the list of kernel features nfqd and the tests care about.  Add
 * a line here when code starts to depend on a feature (kernel-facts.md
 * lists the ones that differ between the host and Debian's kernel).
 * Must not: leave state behind.
 */
#include "probe.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
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

int probe_run(const struct conf *c, FILE *out)
{
	struct utsname u;
	char name[128];
	uint16_t q = c->queue_num;
	int err;

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
	line(out, "nfqueue conntrack (NFQA_CFG_F_CONNTRACK)",
	     queue_probe_flag(q, NFQA_CFG_F_CONNTRACK), "no");
	line(out, "nfqueue gso (NFQA_CFG_F_GSO)", queue_probe_flag(q, NFQA_CFG_F_GSO), "no");

	line(out, "nft queue statement (NFT_QUEUE)", nft_queue_supported(), "no");
	line(out, "ctnetlink (conntrack entries)",
	     nfnl_dump(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET_STATS_CPU), "no");
	line(out, "ctnetlink expectations",
	     nfnl_dump(NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_GET_STATS_CPU), "no");
	line(out, "userspace conntrack helpers (nfnetlink_cthelper)",
	     nfnl_dump(NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_GET), "no");

	err = nft_table_exists(c->table);
	snprintf(name, sizeof(name), "nft table inet %s", c->table);
	if (err == ENOENT)
		fprintf(out, "%s: absent (load the rules: sipnat-rules)\n", name);
	else
		line(out, name, err, "unknown");
	return 0;
}
