/* cmd_fp.c - `nfqd fp`: talk to the sipnat_fp module by hand.
 *
 *   nfqd fp add match=ADDR:PORT [src=ADDR[:PORT]] [snat=ADDR[:PORT]|:PORT]
 *               [dnat=ADDR[:PORT]|:PORT] [latch[=MS]] [dscp=N] [timeout=S]
 *               [clock=HZ] [reverse=ID] [cookie=N] [owned]
 *                                                       prints the new ID
 *               (owned: the flow ends with this command's socket, i.e. at
 *               once; for testing what a daemon's flows do when it exits)
 *   nfqd fp del ID | cookie=N
 *   nfqd fp get ID                                      one line (fp_format)
 *   nfqd fp list [cookie=N]                             one line per flow
 *   nfqd fp flush
 *   nfqd fp events SECONDS                              flows removed for
 *                                                       idleness, as they go
 *   nfqd fp raw CMD HEX                                 send attribute bytes
 *                                                       as they are (tests)
 *
 * Owns: the command line and printing.  Must not: hold netlink code (that is
 * fastpath.c).  Exit: 0 done, 1 the kernel said no (errno name printed),
 * 2 bad usage, 3 the module is not loaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kmod/uapi/sipnat_fp.h"
#include "cmds.h"
#include "fastpath.h"

static void fp_usage(void)
{
	fputs("usage: nfqd fp add match=ADDR:PORT [src=ADDR[:PORT]] [snat=ADDR[:PORT]]\n"
	      "                  [dnat=ADDR[:PORT]] [latch[=MS]] [dscp=N] [timeout=S]\n"
	      "                  [clock=HZ] [reverse=ID] [cookie=N] [owned]\n"
	      "       nfqd fp del ID|cookie=N\n"
	      "       nfqd fp get ID\n"
	      "       nfqd fp list [cookie=N]\n"
	      "       nfqd fp flush\n"
	      "       nfqd fp events SECONDS\n"
	      "       nfqd fp raw add|del|get|flush|expired|NUM HEX\n", stderr);
}

static const char *fp_errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EBADR: return "EBADR";
	case ENOSPC: return "ENOSPC";
	case EPERM: return "EPERM";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ENOMEM: return "ENOMEM";
	case EPROTO: return "EPROTO";
	case ERANGE: return "ERANGE";
	default: return "error";
	}
}

static int fp_fail(const char *what)
{
	int e = errno;

	fprintf(stderr, "nfqd fp: %s: %s (%s)\n", what, fp_errname(e), strerror(e));
	printf("%s\n", fp_errname(e));
	return 1;
}

static int fp_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end || *out > max ? -1 : 0;
}

/* ADDR[:PORT] or, with port_only, also ":PORT". */
static int fp_ep(const char *s, struct sn_endpoint *e, bool port_only)
{
	uint64_t port;

	if (port_only && s[0] == ':') {
		memset(e, 0, sizeof(*e));
		if (fp_num(s + 1, 65535, &port) || !port)
			return -1;
		e->port = (uint16_t)port;
		return 0;
	}
	return sn_endpoint_parse(e, s, strlen(s));
}

static int fp_parse_add(int argc, char **argv, struct fp_flow *f)
{
	uint64_t v;
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 1; i < argc; i++) {
		char *k = argv[i], *val = strchr(k, '=');
		size_t kl = val ? (size_t)(val - k) : strlen(k);
		int bad = 0;

		if (val)
			val++;
#define KEY(name) (kl == strlen(name) && strncmp(k, name, kl) == 0)
		if (KEY("owned") && !val) {
			f->flags |= SIPNAT_FP_F_OWNED;
		} else if (KEY("latch")) {
			f->flags |= SIPNAT_FP_F_LATCH;
			if (val)
				bad = fp_num(val, UINT32_MAX, &v) || !(f->latch_window_ms = (uint32_t)v);
		} else if (!val) {
			bad = 1;
		} else if (KEY("match")) {
			bad = fp_ep(val, &f->match_dst, false) || !f->match_dst.port;
		} else if (KEY("src")) {
			bad = fp_ep(val, &f->match_src, false);
		} else if (KEY("snat")) {
			bad = fp_ep(val, &f->new_src, true);
		} else if (KEY("dnat")) {
			bad = fp_ep(val, &f->new_dst, true);
		} else if (KEY("dscp")) {
			bad = fp_num(val, 255, &v);
			f->dscp = (uint8_t)v;
			f->flags |= SIPNAT_FP_F_DSCP;
		} else if (KEY("timeout")) {
			bad = fp_num(val, UINT32_MAX, &v);
			f->timeout_s = (uint32_t)v;
		} else if (KEY("clock")) {
			bad = fp_num(val, UINT32_MAX, &v);
			f->clock_rate = (uint32_t)v;
		} else if (KEY("reverse")) {
			bad = fp_num(val, UINT32_MAX, &v);
			f->reverse_id = (uint32_t)v;
		} else if (KEY("cookie")) {
			bad = fp_num(val, UINT64_MAX, &v);
			f->cookie = v;
		} else {
			bad = 1;
		}
#undef KEY
		if (bad) {
			fprintf(stderr, "nfqd fp add: bad argument '%s'\n", k);
			return -1;
		}
	}
	if (!f->match_dst.addr.family) {
		fprintf(stderr, "nfqd fp add: match=ADDR:PORT is required\n");
		return -1;
	}
	/* The kernel checks that every address has the match's family; we
	 * only pass what was typed. */
	return 0;
}

static int fp_hexbytes(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;
	unsigned int b;

	while (*s) {
		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (n == max || sscanf(s, "%2x", &b) != 1 || !s[1])
			return -1;
		out[n++] = (uint8_t)b;
		s += 2;
	}
	*len = n;
	return 0;
}

static int fp_print(const struct fp_flow *f, void *arg)
{
	char line[512];

	fp_format(f, line, sizeof(line));
	puts(line);
	return 0;
}

int cmd_fp(int argc, char **argv)
{
	struct fp_client c;
	struct fp_flow f;
	uint64_t v;
	int ret = 0;

	if (argc < 2) {
		fp_usage();
		return 2;
	}
	if (fp_open(&c) < 0) {
		if (errno == ENOENT) {
			fprintf(stderr, "nfqd fp: the sipnat_fp module is not loaded\n");
			return 3;
		}
		return fp_fail("cannot open generic netlink");
	}
	if (strcmp(argv[1], "add") == 0) {
		if (fp_parse_add(argc - 1, argv + 1, &f) < 0)
			ret = 2;
		else if (fp_add(&c, &f) < 0)
			ret = fp_fail("add");
		else
			printf("%" PRIu32 "\n", f.id);
	} else if (strcmp(argv[1], "del") == 0 && argc == 3) {
		if (strncmp(argv[2], "cookie=", 7) == 0) {
			if (fp_num(argv[2] + 7, UINT64_MAX, &v))
				ret = 2;
			else if (fp_del_cookie(&c, v) < 0)
				ret = fp_fail("del");
		} else if (fp_num(argv[2], UINT32_MAX, &v)) {
			ret = 2;
		} else if (fp_del(&c, (uint32_t)v) < 0) {
			ret = fp_fail("del");
		}
	} else if (strcmp(argv[1], "get") == 0 && argc == 3) {
		if (fp_num(argv[2], UINT32_MAX, &v))
			ret = 2;
		else if (fp_get(&c, (uint32_t)v, &f) < 0)
			ret = fp_fail("get");
		else
			fp_print(&f, NULL);
	} else if (strcmp(argv[1], "list") == 0 && argc <= 3) {
		bool has_cookie = argc == 3, intr;

		if (has_cookie && (strncmp(argv[2], "cookie=", 7) || fp_num(argv[2] + 7, UINT64_MAX, &v)))
			ret = 2;
		else if (fp_dump(&c, has_cookie, has_cookie ? v : 0, fp_print, NULL, &intr) < 0)
			ret = fp_fail("list");
		else if (intr)
			fprintf(stderr, "nfqd fp: flows changed during the listing\n");
	} else if (strcmp(argv[1], "flush") == 0 && argc == 2) {
		if (fp_flush(&c) < 0)
			ret = fp_fail("flush");
	} else if (strcmp(argv[1], "events") == 0 && argc == 3) {
		if (fp_num(argv[2], 86400, &v))
			ret = 2;
		else {
			/* Line-buffered: a test reads the lines while we wait. */
			setvbuf(stdout, NULL, _IOLBF, 0);
			if (fp_events(&c, (int)v * 1000, fp_print, NULL) < 0)
				ret = fp_fail("events");
		}
	} else if (strcmp(argv[1], "raw") == 0 && argc == 4) {
		static const char *const names[] = { "unspec", "add", "del", "get", "flush", "expired" };
		uint8_t attrs[1024];
		size_t len, i;
		long cmd = -1;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(argv[2], names[i]) == 0)
				cmd = (long)i;
		if (cmd < 0 && fp_num(argv[2], 255, &v) == 0)
			cmd = (long)v;
		if (cmd < 0 || fp_hexbytes(argv[3], attrs, sizeof(attrs), &len) < 0)
			ret = 2;
		else if (fp_raw(&c, (uint8_t)cmd, attrs, len) < 0)
			ret = fp_fail("raw");
		else
			puts("OK");
	} else {
		ret = 2;
	}
	if (ret == 2)
		fp_usage();
	fp_close(&c);
	return ret;
}
