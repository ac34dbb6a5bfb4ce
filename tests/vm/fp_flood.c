/* fp_flood.c - sends COUNT RTP-shaped UDP datagrams as cheaply as possible,
 * for tests/vm/bench-kmod.sh: the sender's own instructions must be small
 * and the same in every phase, so it batches with sendmmsg and does no I/O
 * besides.
 *
 *   fp_flood [-f FLOWS] [-q SEQ0] [-l IPLEN] SRC SPORT DST DPORT COUNT
 *   fp_flood -s -f FLOWS SRC SPORT DST DPORT
 *
 * IPv4.  With -f the datagrams go round-robin to FLOWS destination ports
 * DPORT..DPORT+FLOWS-1, each flow with its own SSRC and its own RTP
 * sequence, starting at SEQ0 (so that successive runs continue a stream).
 * -s sends one datagram from each source port SPORT..SPORT+FLOWS-1 to
 * DST:DPORT instead (a socket per port: the replies that make the router's
 * conntrack entries established, not fast).  IPLEN defaults to 200.
 *
 * Exit 0 when every datagram was handed to the kernel, 1 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32

static int usage(void)
{
	fprintf(stderr, "usage: fp_flood [-f FLOWS] [-q SEQ0] [-l IPLEN] SRC SPORT DST DPORT COUNT\n"
			"       fp_flood -s -f FLOWS SRC SPORT DST DPORT\n");
	return 2;
}

/* -s: one datagram from each of FLOWS source ports. */
static int per_source(struct sockaddr_in src, const struct sockaddr_in *dst, long flows)
{
	uint8_t buf[172] = { 0x80 };
	int port0 = ntohs(src.sin_port), one = 1;
	long i;

	for (i = 0; i < flows; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		src.sin_port = htons((uint16_t)(port0 + i));
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
		    sendto(fd, buf, sizeof(buf), 0, (const struct sockaddr *)dst,
			   sizeof(*dst)) != (ssize_t)sizeof(buf)) {
			perror("fp_flood -s");
			return 1;
		}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[BATCH][1500];
	static struct sockaddr_in to[BATCH];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	long count = 0, len = 200 - 28, sent = 0, flows = 1, seq0 = 0;
	int fd, i, n, c, dport0, each_source = 0;

	while ((c = getopt(argc, argv, "f:q:l:s")) != -1) {
		switch (c) {
		case 'f': flows = atol(optarg); break;
		case 'q': seq0 = atol(optarg); break;
		case 'l': len = atol(optarg) - 28; break;
		case 's': each_source = 1; break;
		default: return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 4 + !each_source || inet_pton(AF_INET, argv[0], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1)
		return usage();
	src.sin_port = htons((uint16_t)atoi(argv[1]));
	dport0 = atoi(argv[3]);
	dst.sin_port = htons((uint16_t)dport0);
	if (!each_source)
		count = atol(argv[4]);
	if (len < 12 || len > 1472 || count < 0 || flows < 1 || flows > 65535 ||
	    seq0 < 0 || (each_source ? atoi(argv[1]) : dport0) + flows - 1 > 65535)
		return 2;
	if (each_source)
		return per_source(src, &dst, flows);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("fp_flood: socket");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (i = 0; i < BATCH; i++) {
		buf[i][0] = 0x80;			/* RTP v2, PT 0 */
		iov[i].iov_base = buf[i];
		iov[i].iov_len = (size_t)len;
		to[i] = dst;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &to[i];
		m[i].msg_hdr.msg_namelen = sizeof(to[i]);
	}
	while (sent < count) {
		n = count - sent < BATCH ? (int)(count - sent) : BATCH;
		for (i = 0; i < n; i++) {
			long k = sent + i, flow = k % flows;
			uint32_t seq = (uint32_t)(seq0 + k / flows), ts = seq * 160;
			uint32_t ssrc = 0x51000000u | (uint32_t)flow;

			to[i].sin_port = htons((uint16_t)(dport0 + flow));
			buf[i][2] = seq >> 8;
			buf[i][3] = seq & 0xff;
			buf[i][4] = ts >> 24;
			buf[i][5] = ts >> 16;
			buf[i][6] = ts >> 8;
			buf[i][7] = ts & 0xff;
			buf[i][8] = ssrc >> 24;
			buf[i][9] = ssrc >> 16;
			buf[i][10] = ssrc >> 8;
			buf[i][11] = ssrc & 0xff;
		}
		n = sendmmsg(fd, m, (unsigned int)n, 0);
		if (n <= 0) {
			perror("fp_flood: sendmmsg");
			return 1;
		}
		sent += n;
	}
	close(fd);
	return 0;
}
