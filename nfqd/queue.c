/* queue.c - see queue.h.
 *
 * Owns: NFQUEUE over netlink.
 * Must not: inspect payloads, allocate per packet, or block: the socket
 * is read with MSG_DONTWAIT after poll said it is readable.
 */
#include "queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/types.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* A queued packet is at most 64 KiB (copy range 0xffff) plus the
 * attributes around it. */
#define RBUF_SIZE (0xffff + 8192)
/* Room for a few rewritten packets per sendto; flushed early if full. */
#define SBUF_SIZE (4 * (0xffff + 256))
#define COPY_RANGE 0xffff
/* Big enough to ride out a burst while we rewrite; FORCE needs
 * CAP_NET_ADMIN, which we have when we can bind a queue at all. */
#define RCVBUF (8 << 20)

static int set_err(char *err, size_t errlen, const char *what)
{
	int e = errno;

	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, strerror(e));
	errno = e;
	return -1;
}

/* Sends one config message with NLM_F_ACK and waits for the answer. */
static int config_ack(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	static char buf[RBUF_SIZE];
	static unsigned seq;
	ssize_t r;

	if (seq == 0)
		seq = (unsigned)time(NULL);
	seq++;
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	/* Packets may already arrive for us (after BIND): they are skipped
	 * here and accepted by the next batch verdict, which covers every
	 * lower id.  Bounded, in case the ACK never comes. */
	for (int i = 0; i < 256; i++) {
		const struct nlmsghdr *m;
		int len;

		r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0) {
			if (errno == ENOBUFS || errno == ENOSPC)
				continue;	/* overrun, or a packet too big for buf */
			return -1;
		}
		len = (int)r;
		for (m = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			const struct nlmsgerr *e;

			if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq != seq ||
			    m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(m);
			if (e->error == 0)
				return 0;
			errno = -e->error;
			return -1;
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

static int cfg_cmd(struct mnl_socket *nl, uint16_t num, uint8_t cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
	return config_ack(nl, nlh);
}

static int cfg_flags(struct mnl_socket *nl, uint16_t num, uint32_t mask, uint32_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);

	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	return config_ack(nl, nlh);
}

static int cfg_params(struct mnl_socket *nl, uint16_t num)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);

	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
	return config_ack(nl, nlh);
}

static struct mnl_socket *open_nl(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

int queue_open(struct queue *q, uint16_t num, bool fail_open, char *err, size_t errlen)
{
	int fd, one = 1, sz = RCVBUF;

	memset(q, 0, sizeof(*q));
	q->num = num;
	q->rsize = RBUF_SIZE;
	q->ssize = SBUF_SIZE;
	q->rbuf = malloc(q->rsize);
	q->sbuf = malloc(q->ssize);
	if (!q->rbuf || !q->sbuf) {
		set_err(err, errlen, "queue buffers");
		goto fail;
	}
	q->nl = open_nl();
	if (!q->nl) {
		set_err(err, errlen, "netlink socket");
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	fd = mnl_socket_get_fd(q->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* Kernel errors for verdicts come back as messages; ask for the
	 * extended form so they are attributable (best effort). */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (cfg_cmd(q->nl, num, NFQNL_CFG_CMD_BIND)) {
		char what[128];

		/* The kernel answers EPERM both to a missing CAP_NET_ADMIN
		 * and to a queue another socket holds. */
		snprintf(what, sizeof(what), "bind queue %u%s", num,
			 errno == EBUSY || errno == EPERM ?
			 " (bound by another process, or no CAP_NET_ADMIN)" : "");
		set_err(err, errlen, what);
		goto fail;
	}
	if (cfg_params(q->nl, num)) {
		set_err(err, errlen, "queue copy mode");
		goto fail_unbind;
	}
	if (cfg_flags(q->nl, num, NFQA_CFG_F_FAIL_OPEN, fail_open ? NFQA_CFG_F_FAIL_OPEN : 0)) {
		set_err(err, errlen, "queue fail-open flag");
		goto fail_unbind;
	}
	return 0;

fail_unbind:
	cfg_cmd(q->nl, num, NFQNL_CFG_CMD_UNBIND);
fail:
	{
		int e = errno;

		queue_close(q);
		errno = e;
	}
	return -1;
}

int queue_want_conntrack(struct queue *q, char *err, size_t errlen)
{
	if (cfg_flags(q->nl, q->num, NFQA_CFG_F_CONNTRACK, NFQA_CFG_F_CONNTRACK))
		return set_err(err, errlen, "queue conntrack flag (NFQA_CFG_F_CONNTRACK)");
	return 0;
}

bool queue_packet_ct(const struct queue *q, const void **ct, size_t *len, uint32_t *ctinfo)
{
	if (!q->have_ctinfo || !q->ct)
		return false;
	*ct = q->ct;
	*len = q->ct_len;
	*ctinfo = q->ctinfo;
	return true;
}

int queue_fd(const struct queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

static void flush(struct queue *q)
{
	if (q->slen == 0)
		return;
	/* On failure the packets stay queued until a later batch verdict
	 * covers them or the kernel drops them when we unbind. */
	if (mnl_socket_sendto(q->nl, q->sbuf, q->slen) < 0)
		q->verdict_errors++;
	q->slen = 0;
}

/* Appends a verdict message; flushes first when it would not fit. */
static void put_verdict(struct queue *q, uint32_t id, int verdict, const uint8_t *data,
			size_t len)
{
	size_t need = MNL_ALIGN(sizeof(struct nlmsghdr)) + MNL_ALIGN(sizeof(struct nfgenmsg)) +
		      MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(struct nfqnl_msg_verdict_hdr)) +
		      (data ? MNL_ALIGN(MNL_ATTR_HDRLEN + len) : 0);
	struct nlmsghdr *nlh;

	if (q->slen + need > q->ssize)
		flush(q);
	nlh = nfq_nlmsg_put((char *)q->sbuf + q->slen, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (data)
		nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	q->slen += nlh->nlmsg_len;
}

static void put_batch(struct queue *q)
{
	size_t need = 256;
	struct nlmsghdr *nlh;

	if (!q->have_batch)
		return;
	if (q->slen + need > q->ssize)
		flush(q);
	nlh = nfq_nlmsg_put((char *)q->sbuf + q->slen, NFQNL_MSG_VERDICT_BATCH, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)q->batch_id, NF_ACCEPT);
	q->slen += nlh->nlmsg_len;
	q->have_batch = false;
}

struct rx {
	struct queue *q;
	queue_handler h;
	void *ctx;
};

static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct rx *rx = data;
	struct queue *q = rx->q;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	struct queue_verdict v = { QV_ACCEPT, NULL, 0 };
	const uint8_t *payload = NULL;
	size_t plen = 0;
	uint32_t id;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return MNL_CB_OK;	/* nothing we can give a verdict to */
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	if (attr[NFQA_PAYLOAD]) {
		payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		plen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	if (attr[NFQA_CT] && attr[NFQA_CT_INFO] &&
	    mnl_attr_get_payload_len(attr[NFQA_CT_INFO]) >= sizeof(uint32_t)) {
		q->ct = mnl_attr_get_payload(attr[NFQA_CT]);
		q->ct_len = mnl_attr_get_payload_len(attr[NFQA_CT]);
		q->ctinfo = ntohl(mnl_attr_get_u32(attr[NFQA_CT_INFO]));
		q->have_ctinfo = true;
	}
	rx->h(rx->ctx, payload, plen, &v);
	q->ct = NULL;
	q->ct_len = 0;
	q->have_ctinfo = false;
	if (v.kind == QV_ACCEPT) {
		q->batch_id = id;
		q->have_batch = true;
	} else {
		/* Earlier packets still waiting for the batch accept go
		 * first: the kernel reinjects in verdict order, and SIP must
		 * not overtake itself (a 200 ahead of its 100 aborts calls). */
		put_batch(q);
		put_verdict(q, id, v.kind == QV_DROP ? NF_DROP : NF_ACCEPT,
			    v.kind == QV_ACCEPT_NEW ? v.data : NULL, v.len);
	}
	return MNL_CB_OK;
}

int queue_receive(struct queue *q, queue_handler h, void *ctx, int max)
{
	struct rx rx = { q, h, ctx };
	int n = 0, rc = 0;

	while (n < max) {
		ssize_t r = recv(mnl_socket_get_fd(q->nl), q->rbuf, q->rsize, MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				/* The kernel dropped messages for us; what
				 * stays queued is still ours to answer.
				 * Counted in n so the loop stays bounded. */
				q->enobufs++;
				n++;
				continue;
			}
			rc = -1;
			break;
		}
		n++;
		if (mnl_cb_run(q->rbuf, (size_t)r, 0, q->portid, on_packet, &rx) < 0)
			q->verdict_errors++;	/* an NLMSG_ERROR answering a verdict */
	}
	put_batch(q);
	flush(q);
	return rc < 0 ? -1 : n;
}

void queue_close(struct queue *q)
{
	if (q->nl) {
		put_batch(q);
		flush(q);
		cfg_cmd(q->nl, q->num, NFQNL_CFG_CMD_UNBIND);
		mnl_socket_close(q->nl);
		q->nl = NULL;
	}
	free(q->rbuf);
	free(q->sbuf);
	q->rbuf = q->sbuf = NULL;
}

int queue_probe_flag(uint16_t num, uint32_t flag)
{
	struct mnl_socket *nl = open_nl();
	int rc = 0;

	if (!nl)
		return errno;
	if (cfg_cmd(nl, num, NFQNL_CFG_CMD_BIND)) {
		rc = errno;
	} else {
		if (flag && cfg_flags(nl, num, flag, flag))
			rc = errno;
		cfg_cmd(nl, num, NFQNL_CFG_CMD_UNBIND);
	}
	mnl_socket_close(nl);
	return rc;
}
