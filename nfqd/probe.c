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

#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
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

	err = nft_table_exists(c->table);
	snprintf(name, sizeof(name), "nft table inet %s", c->table);
	if (err == ENOENT)
		fprintf(out, "%s: absent (load the rules: sipnat-rules)\n", name);
	else
		line(out, name, err, "unknown");
	return 0;
}
