/*
 * tests/vm/nlprobe.c: raw nfnetlink probes for the stock-kernel checks.
 *
 * Owns: asking the kernel, over nfnetlink, whether two features sipnat needs on a stock
 * kernel really work, and answering with an exit status (0 works, 1 refused, 2 usage).
 * Must not: keep state or change anything it does not undo, except cthelper-add, whose
 * helper outlives the process on purpose (cthelper-del removes it).
 *
 *   nlprobe queue-ct QNUM        bind queue QNUM, then ask for NFQA_CFG_F_CONNTRACK,
 *                                i.e. NFQA_CT on queued packets (EOPNOTSUPP without
 *                                CONFIG_NETFILTER_NETLINK_GLUE_CT)
 *   nlprobe cthelper-add NAME    register a userspace conntrack helper NAME (UDP, IPv4,
 *                                queue 0, one expectation policy) via nfnetlink_cthelper
 *   nlprobe cthelper-del NAME    unregister it
 *
 * Plain sockets rather than libmnl so it builds with nothing but libc.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cthelper.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct msg {
	char buf[1024];
	struct nlmsghdr *nlh;
	struct nlattr *nest[4];
	int depth;
};

static void msg_init(struct msg *m, uint8_t subsys, uint8_t type, uint16_t flags,
		     uint8_t family, uint16_t res_id)
{
	struct nfgenmsg *nfg;

	memset(m, 0, sizeof(*m));
	m->nlh = (struct nlmsghdr *)m->buf;
	m->nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*nfg));
	m->nlh->nlmsg_type = (uint16_t)(subsys << 8 | type);
	m->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nfg = NLMSG_DATA(m->nlh);
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
}

static struct nlattr *put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + NLMSG_ALIGN(m->nlh->nlmsg_len));
	size_t total = NLA_ALIGN(NLA_HDRLEN + len);

	if (NLMSG_ALIGN(m->nlh->nlmsg_len) + total > sizeof(m->buf)) {
		fprintf(stderr, "nlprobe: message too long\n");
		exit(2);
	}
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nlh->nlmsg_len = (uint32_t)(NLMSG_ALIGN(m->nlh->nlmsg_len) + total);
	return a;
}

static void put_be32(struct msg *m, uint16_t type, uint32_t v)
{
	v = htonl(v);
	put(m, type, &v, sizeof(v));
}

static void nest_start(struct msg *m, uint16_t type)
{
	m->nest[m->depth++] = put(m, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct msg *m)
{
	struct nlattr *a = m->nest[--m->depth];

	a->nla_len = (uint16_t)(m->buf + m->nlh->nlmsg_len - (char *)a);
}

/* Sends one request and returns the kernel's answer: 0 or a negative errno. */
static int talk(int fd, struct msg *m)
{
	static uint32_t seq = 1;
	char rbuf[8192];
	ssize_t n;

	m->nlh->nlmsg_seq = seq++;
	if (send(fd, m->buf, m->nlh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h;

		n = recv(fd, rbuf, sizeof(rbuf), 0);
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != m->nlh->nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
		}
	}
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("nlprobe: netlink socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int report(const char *what, int err)
{
	if (err) {
		fprintf(stderr, "nlprobe: %s: %s\n", what, strerror(-err));
		return 1;
	}
	return 0;
}

static int queue_ct(uint16_t qnum)
{
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	struct msg m;
	int fd = nl_open(), err;

	msg_init(&m, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, 0, AF_UNSPEC, qnum);
	put(&m, NFQA_CFG_CMD, &cmd, sizeof(cmd));
	if ((err = talk(fd, &m)))
		return report("bind queue", err);
	msg_init(&m, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, 0, AF_UNSPEC, qnum);
	put_be32(&m, NFQA_CFG_MASK, NFQA_CFG_F_CONNTRACK);
	put_be32(&m, NFQA_CFG_FLAGS, NFQA_CFG_F_CONNTRACK);
	err = talk(fd, &m);
	close(fd);	/* unbinds the queue */
	return report("NFQA_CFG_F_CONNTRACK", err);
}

static int cthelper(const char *name, int add)
{
	struct msg m;
	int fd = nl_open(), err;

	if (strlen(name) >= 16) {
		fprintf(stderr, "nlprobe: helper name longer than 15\n");
		return 2;
	}
	msg_init(&m, NFNL_SUBSYS_CTHELPER, add ? NFNL_MSG_CTHELPER_NEW : NFNL_MSG_CTHELPER_DEL,
		 add ? NLM_F_CREATE | NLM_F_EXCL : 0, AF_INET, 0);
	put(&m, NFCTH_NAME, name, strlen(name) + 1);
	if (add) {
		uint16_t l3 = htons(AF_INET);
		uint8_t l4 = IPPROTO_UDP;

		nest_start(&m, NFCTH_TUPLE);
		put(&m, NFCTH_TUPLE_L3PROTONUM, &l3, sizeof(l3));
		put(&m, NFCTH_TUPLE_L4PROTONUM, &l4, sizeof(l4));
		nest_end(&m);
		put_be32(&m, NFCTH_QUEUE_NUM, 0);
		nest_start(&m, NFCTH_POLICY);
		put_be32(&m, NFCTH_POLICY_SET_NUM, 1);
		nest_start(&m, NFCTH_POLICY_SET1);
		put(&m, NFCTH_POLICY_NAME, "media", sizeof("media"));
		put_be32(&m, NFCTH_POLICY_EXPECT_MAX, 4);
		put_be32(&m, NFCTH_POLICY_EXPECT_TIMEOUT, 60);
		nest_end(&m);
		nest_end(&m);
		put_be32(&m, NFCTH_PRIV_DATA_LEN, 0);
		put_be32(&m, NFCTH_STATUS, NFCT_HELPER_STATUS_ENABLED);
	}
	err = talk(fd, &m);
	close(fd);
	return report(add ? "register helper" : "unregister helper", err);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "queue-ct") == 0)
		return queue_ct((uint16_t)atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "cthelper-add") == 0)
		return cthelper(argv[2], 1);
	if (argc == 3 && strcmp(argv[1], "cthelper-del") == 0)
		return cthelper(argv[2], 0);
	fprintf(stderr, "usage: nlprobe queue-ct QNUM | cthelper-add NAME | cthelper-del NAME\n");
	return 2;
}
