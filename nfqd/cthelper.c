/* cthelper.c - see cthelper.h.
 *
 * Owns: the NFNL_MSG_CTHELPER_NEW/DEL messages (built by
 * libnetfilter_cthelper) and reading their ACKs.
 * Must not: keep state: the helper lives in the kernel, global to every
 * network namespace, and outlives nfqd when a ruleset names it.
 *
 * NEW is sent without NLM_F_EXCL: a restarted nfqd (after SIGKILL the
 * helper stays registered) updates the existing helper (queue, policies)
 * instead of failing.
 */
#include "cthelper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cthelper.h>
#include <libnetfilter_cthelper/libnetfilter_cthelper.h>

static const struct {
	const char *name;
	uint32_t max, timeout_s;
} policies[CTH_CLASS__COUNT] = {
	[CTH_CLASS_SIGNALLING] = { "signalling", CTH_MAX_SIGNALLING, CTH_TIMEOUT_S },
	[CTH_CLASS_AV] = { "audio-video", CTH_MAX_AV, CTH_TIMEOUT_S },
	[CTH_CLASS_OTHER] = { "other-media", CTH_MAX_OTHER, CTH_TIMEOUT_S },
};

/* Sends one request and reads its ACK.  0 or -1 with errno. */
static int talk(struct nlmsghdr *nlh)
{
	char buf[8192];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	uint32_t portid;
	int rc = -1, e;
	ssize_t r;

	if (!nl)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	/* Bounded: the kernel answers a request with exactly one ACK. */
	for (int i = 0; i < 8; i++) {
		r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0)
			goto out;
		r = mnl_cb_run(buf, (size_t)r, nlh->nlmsg_seq, portid, NULL, NULL);
		if (r == MNL_CB_STOP || r == MNL_CB_OK) {
			rc = 0;
			goto out;
		}
		if (r < 0)
			goto out;
	}
	errno = ETIMEDOUT;
out:
	e = errno;
	mnl_socket_close(nl);
	errno = e;
	return rc;
}

static int send_helper(const char *name, uint8_t cmd, uint16_t l3, uint16_t qnum)
{
	char buf[4096];
	struct nfct_helper *h = nfct_helper_alloc();
	struct nfct_helper_policy *p[CTH_CLASS__COUNT] = { NULL };
	struct nlmsghdr *nlh;
	int rc = -1, e;

	if (!h) {
		errno = ENOMEM;
		return -1;
	}
	nfct_helper_attr_set_str(h, NFCTH_ATTR_NAME, name);
	nfct_helper_attr_set_u16(h, NFCTH_ATTR_PROTO_L3NUM, l3);
	nfct_helper_attr_set_u8(h, NFCTH_ATTR_PROTO_L4NUM, IPPROTO_UDP);
	if (cmd == NFNL_MSG_CTHELPER_NEW) {
		nfct_helper_attr_set_u32(h, NFCTH_ATTR_QUEUE_NUM, qnum);
		nfct_helper_attr_set_u32(h, NFCTH_ATTR_PRIV_DATA_LEN, 0);
		/* The media helper disabled: its hook accepts, never queues. */
		nfct_helper_attr_set_u32(h, NFCTH_ATTR_STATUS,
					 strcmp(name, CTHELPER_NAME) == 0 ?
					 NFCT_HELPER_STATUS_ENABLED : NFCT_HELPER_STATUS_DISABLED);
		for (int i = 0; i < CTH_CLASS__COUNT; i++) {
			p[i] = nfct_helper_policy_alloc();
			if (!p[i]) {
				errno = ENOMEM;
				goto out;
			}
			nfct_helper_policy_attr_set_str(p[i], NFCTH_ATTR_POLICY_NAME,
							policies[i].name);
			nfct_helper_policy_attr_set_u32(p[i], NFCTH_ATTR_POLICY_TIMEOUT,
							policies[i].timeout_s);
			nfct_helper_policy_attr_set_u32(p[i], NFCTH_ATTR_POLICY_MAX,
							policies[i].max);
			nfct_helper_attr_set(h, (enum nfct_helper_attr_type)(NFCTH_ATTR_POLICY1 + i),
					     p[i]);
		}
	}
	nlh = nfct_helper_nlmsg_build_hdr(buf, cmd,
					  cmd == NFNL_MSG_CTHELPER_NEW ? NLM_F_CREATE | NLM_F_ACK
								       : NLM_F_ACK,
					  (uint32_t)time(NULL));
	nfct_helper_nlmsg_build_payload(nlh, h);
	rc = talk(nlh);
out:
	e = errno;
	/* The helper holds the policies by pointer and frees them with
	 * itself in libnetfilter_cthelper 1.0.x. */
	nfct_helper_free(h);
	errno = e;
	return rc;
}

int cthelper_register(uint16_t qnum, char *err, size_t errlen)
{
	if (send_helper(CTHELPER_NAME, NFNL_MSG_CTHELPER_NEW, AF_INET, qnum) ||
	    send_helper(CTHELPER_NAME, NFNL_MSG_CTHELPER_NEW, AF_INET6, qnum) ||
	    send_helper(CTHELPER_MEDIA_NAME, NFNL_MSG_CTHELPER_NEW, AF_INET, qnum) ||
	    send_helper(CTHELPER_MEDIA_NAME, NFNL_MSG_CTHELPER_NEW, AF_INET6, qnum)) {
		int e = errno;

		if (err && errlen)
			snprintf(err, errlen, "register conntrack helper %s: %s%s", CTHELPER_NAME,
				 strerror(e), e == ENOENT || e == EPROTONOSUPPORT || e == EOPNOTSUPP ?
				 " (no nfnetlink_cthelper in this kernel)" : "");
		cthelper_unregister();
		errno = e;
		return -1;
	}
	return 0;
}

static int unregister_one(const char *name)
{
	int r4 = send_helper(name, NFNL_MSG_CTHELPER_DEL, AF_INET, 0), e4 = errno;
	int r6 = send_helper(name, NFNL_MSG_CTHELPER_DEL, AF_INET6, 0);

	if (r4 && e4 != ENOENT) {
		errno = e4;
		return -1;
	}
	if (r6 && errno != ENOENT)
		return -1;
	return 0;
}

int cthelper_unregister(void)
{
	if (unregister_one(CTHELPER_NAME))
		return -1;
	return unregister_one(CTHELPER_MEDIA_NAME);
}
