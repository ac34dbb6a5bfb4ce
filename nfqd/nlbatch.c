/* nlbatch.c - see nlbatch.h. */
#include <errno.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "nlbatch.h"

int nlbatch_read_acks(struct mnl_socket *nl, unsigned int portid, char *buf, size_t buflen,
		      uint32_t first, uint32_t last)
{
	uint32_t want = last - first + 1, got = 0;
	int err = 0;

	while (got < want) {
		/* After an error, wait for nothing more: an aborted batch may
		 * ack only its errors.  Otherwise block (SO_RCVTIMEO bounds it). */
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, buflen,
				 err ? MSG_DONTWAIT : 0);
		const struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && err)
				break;
			return -1;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			/* modular: the sequence number wraps in a long run */
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    (uint32_t)(nlh->nlmsg_seq - first) > last - first ||
			    nlh->nlmsg_pid != portid)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			got++;
			if (e->error && !err)
				err = -e->error;
		}
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
