/* nfq_accept.c - the bench's NFQUEUE baseline: accept every packet.
 *
 * Owns: binding one queue, copying each packet to userspace (as nfqd must,
 * to read the SIP in it) and accepting it unchanged, one verdict per
 * packet.  The difference between this phase and plain forwarding is the
 * price of the queue round trip itself; the difference between it and
 * nfqd is the price of nfqd's own work.
 * Must not: change packets, or run after SIGTERM (it prints its count and
 * exits, so bench.sh can stop it by PID).
 *
 *   nfq_accept QUEUE_NUM
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stop;
static uint64_t accepted;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int send_verdict(struct mnl_socket *nl, uint16_t queue, uint32_t id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

struct cb_ctx {
	struct mnl_socket *nl;
	uint16_t queue;
};

static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct cb_ctx *ctx = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;	/* not a packet: nothing to verdict */
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (send_verdict(ctx->nl, ctx->queue, ntohl(ph->packet_id)) < 0)
		return MNL_CB_ERROR;
	accepted++;
	return MNL_CB_OK;
}

static int config(struct mnl_socket *nl, uint16_t queue)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	/* Same policy as nfqd's default (fail-open): a full queue accepts. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(4096));
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	size_t bufsz = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
	struct mnl_socket *nl;
	struct sigaction sa;
	struct cb_ctx ctx;
	char *buf;
	unsigned long q;
	int one = 1, rcvbuf = 8 << 20;
	char *end;

	if (argc != 2)
		goto usage;
	q = strtoul(argv[1], &end, 10);
	if (*end || q > 65535)
		goto usage;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: recv() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	buf = malloc(bufsz);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!buf || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_accept: netlink");
		return 1;
	}
	ctx.nl = nl;
	ctx.queue = (uint16_t)q;
	if (config(nl, ctx.queue) < 0) {
		perror("nfq_accept: bind queue");
		return 1;
	}
	/* Overruns are counted by the kernel; do not stop on ENOBUFS. */
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	printf("nfq_accept: queue %lu bound\n", q);
	fflush(stdout);

	while (!stop) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, bufsz);

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("nfq_accept: recv");
			break;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(nl), on_packet, &ctx) < 0 &&
		    errno != EINTR) {
			perror("nfq_accept: verdict");
			break;
		}
	}
	printf("nfq_accept: accepted=%" PRIu64 "\n", accepted);
	mnl_socket_close(nl);
	free(buf);
	return 0;
usage:
	fprintf(stderr, "usage: nfq_accept QUEUE_NUM\n");
	return 2;
}
