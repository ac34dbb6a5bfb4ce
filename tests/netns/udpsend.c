/* udpsend - sends COUNT UDP datagrams from SRC to DST:PORT, for
 * tests/netns/test-pinholes.sh (bash's /dev/udp cannot pick the source
 * address).  Not installed.
 *
 *   udpsend SRC DST PORT COUNT [INTERVAL_MS [SPORT]]
 *
 * Each run uses a fresh socket: a new source port (so a new conntrack
 * entry) unless SPORT fixes it (to answer on an existing flow).  Send errors (ICMP unreachable, firewall drops) are ignored: the
 * test counts what arrives.  Exit 0, or 2 on bad usage, 1 on socket errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fill(struct sockaddr_storage *ss, socklen_t *len, const char *a, unsigned port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	char payload[172];
	unsigned long port, count, interval = 20, sport = 0;
	int one = 1;
	int fd;

	if (argc < 5 || argc > 7)
		goto usage;
	port = strtoul(argv[3], NULL, 10);
	count = strtoul(argv[4], NULL, 10);
	if (argc >= 6)
		interval = strtoul(argv[5], NULL, 10);
	if (argc == 7)
		sport = strtoul(argv[6], NULL, 10);
	if (port == 0 || port > 65535 || count > 100000 || interval > 10000 || sport > 65535 ||
	    fill(&src, &slen, argv[1], (unsigned)sport) || fill(&dst, &dlen, argv[2], (unsigned)port) ||
	    src.ss_family != dst.ss_family)
		goto usage;
	fd = socket(src.ss_family, SOCK_DGRAM, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, slen) < 0) {
		perror("udpsend");
		return 1;
	}
	memset(payload, 0x80, sizeof(payload));	/* looks like RTP v2 */
	for (unsigned long i = 0; i < count; i++) {
		struct timespec ts = { .tv_sec = (time_t)(interval / 1000),
				       .tv_nsec = (long)(interval % 1000) * 1000000L };

		sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&dst, dlen);
		if (i + 1 < count)
			nanosleep(&ts, NULL);
	}
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: udpsend SRC DST PORT COUNT [INTERVAL_MS [SPORT]]\n");
	return 2;
}
