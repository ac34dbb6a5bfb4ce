/* fp_flood.c - sends COUNT RTP-shaped UDP datagrams as cheaply as possible,
 * for tests/vm/bench-kmod.sh: the sender's own instructions must be small
 * and the same in every phase, so it batches with sendmmsg and does no I/O
 * besides.
 *
 *   fp_flood SRC SPORT DST DPORT COUNT [IPLEN]    (IPv4; IPLEN default 200)
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

int main(int argc, char **argv)
{
	static uint8_t buf[BATCH][1500];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	long count, len = 200 - 28, sent = 0;
	int fd, i, n;

	if (argc < 6 || inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: fp_flood SRC SPORT DST DPORT COUNT [IPLEN]\n");
		return 2;
	}
	src.sin_port = htons((uint16_t)atoi(argv[2]));
	dst.sin_port = htons((uint16_t)atoi(argv[4]));
	count = atol(argv[5]);
	if (argc > 6)
		len = atol(argv[6]) - 28;
	if (len < 12 || len > 1472 || count < 0)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("fp_flood: socket");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (i = 0; i < BATCH; i++) {
		buf[i][0] = 0x80;			/* RTP v2, PT 0 */
		buf[i][8] = 0x51;			/* SSRC */
		iov[i].iov_base = buf[i];
		iov[i].iov_len = (size_t)len;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (sent < count) {
		n = count - sent < BATCH ? (int)(count - sent) : BATCH;
		for (i = 0; i < n; i++) {
			uint32_t seq = (uint32_t)(sent + i), ts = seq * 160;

			buf[i][2] = seq >> 8;
			buf[i][3] = seq & 0xff;
			buf[i][4] = ts >> 24;
			buf[i][5] = ts >> 16;
			buf[i][6] = ts >> 8;
			buf[i][7] = ts & 0xff;
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
