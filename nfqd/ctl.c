/* ctl.c - see ctl.h; also `nfqd status` (cmd_status).
 *
 * Owns: the control socket protocol.
 * Must not: trust the peer: requests are bounded by CTL_REQ_MAX and must
 * be one of the known lines; anything else gets one error line.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmds.h"
#include "conf.h"
#include "log.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* mkdir of the socket's parent directory (one level: /run/sipnat). */
static void make_parent(const char *path)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		log_warn("control socket: mkdir %s: %s", dir, strerror(errno));
}

int ctl_open(struct ctl *ctl, const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, e;

	memset(ctl, 0, sizeof(*ctl));
	ctl->lfd = -1;
	for (int i = 0; i < CTL_CLIENTS; i++)
		ctl->c[i].fd = -1;
	if (fill_addr(&sa, path))
		return -1;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	make_parent(path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			errno = EADDRINUSE;
			return -1;
		}
		close(fd);
		unlink(path);	/* stale: nobody listens */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* Counters are not secret, but the socket is root's business. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, CTL_CLIENTS)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	ctl->lfd = fd;
	return 0;
}

size_t ctl_pollfds(struct ctl *ctl, struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	if (ctl->lfd < 0 || max == 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = ctl->lfd, .events = POLLIN };
	for (int i = 0; i < CTL_CLIENTS && n < max; i++)
		if (ctl->c[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = ctl->c[i].fd, .events = POLLIN };
	return n;
}

static void drop(struct ctl *ctl, int i)
{
	close(ctl->c[i].fd);
	ctl->c[i].fd = -1;
}

static void reply(struct ctl *ctl, int i, struct stats *s, uint64_t now)
{
	static char buf[CTL_REPLY_MAX];
	const char *req = ctl->c[i].req;
	size_t len;

	if (!strcmp(req, "status") || !strcmp(req, "status json")) {
		stats_read_kernel(s, STATS_PROC_QUEUE);
		len = stats_format(s, now, req[6] != '\0', buf, sizeof(buf));
	} else {
		len = (size_t)snprintf(buf, sizeof(buf), "error: unknown request\n");
	}
	/* Small enough for an empty socket buffer; a peer that cannot take
	 * it gets what fits. */
	if (write(ctl->c[i].fd, buf, len) < 0)
		log_debug("control socket: write: %s", strerror(errno));
	drop(ctl, i);
}

static void serve(struct ctl *ctl, int i, struct stats *s, uint64_t now)
{
	size_t room = sizeof(ctl->c[i].req) - ctl->c[i].len;
	ssize_t r = read(ctl->c[i].fd, ctl->c[i].req + ctl->c[i].len, room);
	char *nl;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		drop(ctl, i);
		return;
	}
	ctl->c[i].len += (size_t)r;
	nl = memchr(ctl->c[i].req, '\n', ctl->c[i].len);
	if (!nl) {
		if (ctl->c[i].len == sizeof(ctl->c[i].req)) {
			log_debug("control socket: request too long");
			drop(ctl, i);
		}
		return;
	}
	/* A NUL inside would make "status\0anything" pass as "status". */
	if (memchr(ctl->c[i].req, '\0', (size_t)(nl - ctl->c[i].req)))
		ctl->c[i].req[0] = '\0';
	*nl = '\0';
	reply(ctl, i, s, now);
}

void ctl_handle(struct ctl *ctl, const struct pollfd *pfd, size_t n, struct stats *s,
		uint64_t now)
{
	for (size_t k = 1; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		for (int i = 0; i < CTL_CLIENTS; i++)
			if (ctl->c[i].fd == pfd[k].fd) {
				serve(ctl, i, s, now);
				break;
			}
	}
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0 && now > ctl->c[i].deadline)
			drop(ctl, i);
	if (n > 0 && (pfd[0].revents & POLLIN)) {
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int i;

		if (fd < 0)
			return;
		for (i = 0; i < CTL_CLIENTS && ctl->c[i].fd >= 0; i++)
			;
		if (i == CTL_CLIENTS) {
			close(fd);	/* busy: the client retries */
			return;
		}
		ctl->c[i].fd = fd;
		ctl->c[i].len = 0;
		ctl->c[i].deadline = now + CTL_TIMEOUT_MS;
	}
}

void ctl_close(struct ctl *ctl)
{
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0)
			drop(ctl, i);
	if (ctl->lfd >= 0) {
		close(ctl->lfd);
		unlink(ctl->path);
		ctl->lfd = -1;
	}
}

static void status_usage(FILE *f)
{
	fprintf(f, "usage: nfqd status [--json] [--control-socket PATH] [-c|--config FILE]\n");
}

/* `nfqd status`: asks the daemon for its counters and prints them. */
int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "control-socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct conf conf;
	const char *sock = NULL, *cfile = NULL;
	static char buf[CTL_REPLY_MAX];
	char err[512];
	struct sockaddr_un sa;
	bool json = false;
	size_t len = 0;
	int o, fd;

	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = true;
			break;
		case 's':
			sock = optarg;
			break;
		case 'c':
			cfile = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		status_usage(stderr);
		return 2;
	}
	conf_defaults(&conf);
	/* The socket path may live in the configuration file; a missing
	 * default file is fine, a named one must load. */
	if (!sock && (cfile || access(CONF_DEFAULT_PATH, R_OK) == 0)) {
		if (conf_load(&conf, cfile ? cfile : CONF_DEFAULT_PATH, err, sizeof(err))) {
			fprintf(stderr, "nfqd: %s\n", err);
			return 2;
		}
	}
	if (!sock)
		sock = conf.control_socket;
	if (fill_addr(&sa, sock)) {
		fprintf(stderr, "nfqd: --control-socket: path too long\n");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		fprintf(stderr, "nfqd: cannot connect to %s: %s%s\n", sock, strerror(e),
			e == EACCES || e == EPERM ? " (the socket is root's)" :
			e == ENOENT || e == ECONNREFUSED ? " (is nfqd running?)" : "");
		if (fd >= 0)
			close(fd);
		return 1;
	}
	snprintf(buf, sizeof(buf), "status%s\n", json ? " json" : "");
	if (write(fd, buf, strlen(buf)) < 0) {
		fprintf(stderr, "nfqd: %s: %s\n", sock, strerror(errno));
		close(fd);
		return 1;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 5000) <= 0) {
			fprintf(stderr, "nfqd: %s: no answer\n", sock);
			close(fd);
			return 1;
		}
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(fd);
	if (len == 0) {
		fprintf(stderr, "nfqd: %s: empty answer\n", sock);
		return 1;
	}
	fwrite(buf, 1, len, stdout);
	return strncmp(buf, "error:", 6) == 0 ? 1 : 0;
}
