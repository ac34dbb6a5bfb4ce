/* pinctl - drives the nft set pinhole backend (nfqd/pin_nftset.c) from the
 * command line, for tests/netns/test-pinholes.sh.  Not installed.
 *
 *   pinctl [-t TABLE] open                      check the ruleset is loaded
 *   pinctl [-t TABLE] add udp|tcp SRC DST DPORT [TIMEOUT_S]
 *   pinctl [-t TABLE] del udp|tcp SRC DST DPORT
 *   pinctl [-t TABLE] flush
 *
 * Exit 0 on success, 1 with the backend's error on stderr, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "pinhole.h"

static int usage(void)
{
	fprintf(stderr, "usage: pinctl [-t TABLE] open|flush\n"
			"       pinctl [-t TABLE] add|del udp|tcp SRC DST DPORT [TIMEOUT_S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct pinhole_ops *ops = &pin_nftset_ops;
	char err[256] = "";
	struct pin_backend_conf conf = { .table = "sipnat", .default_timeout_s = 60,
					 .errbuf = err, .errlen = sizeof(err) };
	struct pinhole ph = { 0 };
	void *ctx;
	int opt, ret;
	const char *cmd;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			return usage();
		conf.table = optarg;
	}
	if (optind >= argc)
		return usage();
	cmd = argv[optind++];
	if (!strcmp(cmd, "add") || !strcmp(cmd, "del")) {
		char *end;
		unsigned long port;

		if (argc - optind < 4 || argc - optind > 5)
			return usage();
		if (!strcmp(argv[optind], "udp"))
			ph.l4proto = IPPROTO_UDP;
		else if (!strcmp(argv[optind], "tcp"))
			ph.l4proto = IPPROTO_TCP;
		else
			return usage();
		if (sn_addr_parse(&ph.src, argv[optind + 1], strlen(argv[optind + 1])) ||
		    sn_addr_parse(&ph.dst, argv[optind + 2], strlen(argv[optind + 2])))
			return usage();
		port = strtoul(argv[optind + 3], &end, 10);
		if (*end || port == 0 || port > 65535)
			return usage();
		ph.dport = (uint16_t)port;
		if (argc - optind == 5)
			ph.timeout_s = (uint32_t)strtoul(argv[optind + 4], NULL, 10);
	} else if (strcmp(cmd, "open") && strcmp(cmd, "flush")) {
		return usage();
	}

	if (ops->open(&ctx, &conf) < 0) {
		fprintf(stderr, "pinctl: %s\n", err[0] ? err : strerror(errno));
		return 1;
	}
	if (!strcmp(cmd, "add"))
		ret = ops->add(ctx, &ph);
	else if (!strcmp(cmd, "del"))
		ret = ops->del(ctx, &ph);
	else if (!strcmp(cmd, "flush"))
		ret = ops->flush(ctx);
	else
		ret = 0;
	if (ret < 0)
		fprintf(stderr, "pinctl: %s: %s\n", cmd, strerror(errno));
	ops->close(ctx);
	return ret < 0 ? 1 : 0;
}
