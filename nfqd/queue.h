/* queue.h - one NFQUEUE queue, bound over libmnl with
 * libnetfilter_queue's nfq_nlmsg_* helpers.
 *
 *   kernel --NFQNL_MSG_PACKET (id, payload)--> queue_receive --> handler
 *   kernel <--NFQNL_MSG_VERDICT (id, verdict, new payload)-- changed/dropped
 *   kernel <--NFQNL_MSG_VERDICT_BATCH (highest id, accept)-- all unchanged
 *
 * Owns: the netlink socket, queue configuration (copy range, fail-open),
 * receiving, and verdicts, batched: one recv burst gets one sendto, with
 * the individual verdicts first and one batch accept for the rest last
 * (a batch verdict applies to every id up to its own still queued, so it
 * must follow the individual ones).
 * Must not: look inside the packet; the handler decides.
 */
#ifndef SIPNAT_QUEUE_H
#define SIPNAT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;

struct queue {
	struct mnl_socket *nl;
	uint16_t num;
	uint32_t portid;
	uint8_t *rbuf, *sbuf;
	size_t rsize, ssize, slen;
	uint32_t batch_id;	/* highest id to accept unchanged; 0: none */
	bool have_batch;
	uint64_t enobufs, verdict_errors;
	/* The packet being handled: its NFQA_CT nest payload (CTA_*
	 * attributes) and NFQA_CT_INFO, when queue_want_conntrack() asked for
	 * them; NULL/0 outside the handler. */
	const void *ct;
	size_t ct_len;
	uint32_t ctinfo;
	bool have_ctinfo;
};

enum queue_verdict_kind { QV_ACCEPT, QV_ACCEPT_NEW, QV_DROP };

struct queue_verdict {
	enum queue_verdict_kind kind;
	const uint8_t *data;	/* QV_ACCEPT_NEW: the new packet */
	size_t len;
};

/* Returns the verdict for one packet (data/len: from the IP header). */
typedef void (*queue_handler)(void *ctx, const uint8_t *data, size_t len,
			      struct queue_verdict *v);

/* Binds queue num; fail_open sets NFQA_CFG_F_FAIL_OPEN (accept rather
 * than drop when the queue is full).  0, or -1 with errno set and a
 * reason in err. */
int queue_open(struct queue *q, uint16_t num, bool fail_open, char *err, size_t errlen);
int queue_fd(const struct queue *q);
/* Reads up to max packets without blocking, calls h for each, sends the
 * verdicts.  Returns how many packets were handled, or -1 on a socket
 * error other than EAGAIN/ENOBUFS (ENOBUFS is counted). */
int queue_receive(struct queue *q, queue_handler h, void *ctx, int max);
/* Asks the kernel to attach the conntrack (NFQA_CT, NFQA_CT_INFO) to
 * every queued packet (NFQA_CFG_F_CONNTRACK); the handler reads them with
 * queue_packet_ct().  0, or -1 with errno (EOPNOTSUPP: the kernel lacks
 * NETLINK_GLUE_CT) and a reason in err. */
int queue_want_conntrack(struct queue *q, char *err, size_t errlen);
/* Inside the handler: the current packet's conntrack attributes (the
 * payload of NFQA_CT, i.e. a run of CTA_* attributes) and ctinfo
 * (enum ip_conntrack_info).  false when the packet came without them. */
bool queue_packet_ct(const struct queue *q, const void **ct, size_t *len, uint32_t *ctinfo);
/* Unbinds and closes. */
void queue_close(struct queue *q);

/* For --probe: binds num, asks for flags (NFQA_CFG_F_*) and reports the
 * kernel's answer: 0 supported, else the errno (EOPNOTSUPP, EBUSY, ...). */
int queue_probe_flag(uint16_t num, uint32_t flag);

#endif
