/* ctl.h - both ends of nfqd's control socket: the daemon's listener and
 * `nfqd status`, the client.
 *
 *   client: "status\n" or "status json\n" (at most CTL_REQ_MAX bytes)
 *   daemon: the counters (stats_format), then closes the connection
 *
 * Owns: the unix socket, its requests (length-checked) and replies.
 * Must not: block the queue loop: every socket is non-blocking, a client
 * that does not finish its request within CTL_TIMEOUT_MS is dropped.
 */
#ifndef SIPNAT_CTL_H
#define SIPNAT_CTL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define CTL_REQ_MAX 64
/* The longest reply: the counters and up to FP_SYNC_STATUS_MAX fast-path
 * streams; well below a unix socket's send buffer, so one write. */
#define CTL_REPLY_MAX 65536
#define CTL_CLIENTS 4
#define CTL_TIMEOUT_MS 2000

struct ctl {
	int lfd;
	char path[108];
	struct {
		int fd;
		uint64_t deadline;
		size_t len;
		char req[CTL_REQ_MAX];
	} c[CTL_CLIENTS];
};

/* Creates the socket's directory if missing, removes a stale socket (one
 * nobody answers on), binds and listens.  0, or -1 with errno set
 * (EADDRINUSE: another daemon answers there). */
int ctl_open(struct ctl *ctl, const char *path);
/* Fills up to max pollfds; returns how many. */
size_t ctl_pollfds(struct ctl *ctl, struct pollfd *pfd, size_t max);
/* Serves whatever poll reported on the fds ctl_pollfds gave. */
void ctl_handle(struct ctl *ctl, const struct pollfd *pfd, size_t n, struct stats *s,
		uint64_t now);
void ctl_close(struct ctl *ctl);

#endif
