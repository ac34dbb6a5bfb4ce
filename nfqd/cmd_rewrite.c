/* cmd_rewrite.c - `nfqd rewrite`: the rewrite core on one message from a
 * file or stdin, for troubleshooting and for the corpus tests.
 *
 * Owns: the command line, reading one message, writing the forwarded bytes
 * to stdout and the --explain lines to stderr.
 * Must not: differ from what the daemon forwards: it calls rw_rewrite()
 * with the same configuration keys (conf.c) and writes res.out verbatim.
 *
 * --explain lines (stderr, one per line, fields separated by one space;
 * strings are C-escaped inside double quotes: \r \n \t \\ \" \xNN):
 *   edit WHERE OFF+LEN "OLD" -> "NEW"
 *       OFF/LEN index the input; WHERE is rw_edit.where with spaces
 *       replaced by '_' ("request-uri", "via", "sdp_c=", ...).
 *   media N TYPE PROTO udp|tcp private=EP public=EP rtcp=R mux=yes|no dir=D pinhole=P
 *       N counts m= lines from 0; EP is ADDR:PORT ([v6]:PORT), "-" when the
 *       address is a name or absent; R is PRIV/PUB (a=rtcp ports) or "-";
 *       D is sendrecv|sendonly|recvonly|inactive; P is "yes" or
 *       "no(port-0)", "no(hold)", "no(fqdn)", "no(no-address)".
 *   result rewritten|unchanged edits=N media=N
 *   result passthrough|drop reason=REASON
 *
 * Exit: 0 whenever a message was handled (also passed through, or dropped
 * in strict mode: nothing written), 2 for bad usage, configuration or an
 * unreadable input, 1 when stdout cannot be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "conf.h"
#include "rewrite.h"

static const char usage[] =
	"usage: nfqd rewrite --dir out|in [--map PRIV[:PORT]=PUB[:PORT]]...\n"
	"                    [--public-name PUB=FQDN]... [--media-ports PRIV:LO-HI=PUB:LO]...\n"
	"                    [--config FILE] [--transport udp|tcp] [--src ADDR:PORT]\n"
	"                    [--dst ADDR:PORT] [--rewrite-from-to] [--strict] [--explain]\n"
	"                    [--media-pair PRIV:PORT=PUB:PORT]...\n"
	"                    [FILE|-]\n"
	"Runs the rewrite core on one SIP message and writes the bytes nfqd would\n"
	"forward to stdout; --explain lists each edit and media stream on stderr.\n"
	"A masqueraded phone's message is rewritten with the map its leases make:\n"
	"--map PRIV:SPORT=PUB:LEASED plus one --media-pair per leased media port.\n";

static void put_escaped(FILE *f, const void *p, size_t n)
{
	const unsigned char *s = p;

	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = s[i];

		if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch == '\\' || ch == '"')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_ep(FILE *f, const char *key, const struct sn_endpoint *e)
{
	char buf[SN_ADDRSTRLEN];

	if (e->addr.family == 0) {
		fprintf(f, " %s=-", key);
		return;
	}
	/* Always with the port, also 0, so the line has one shape. */
	{
		char ip[SN_ADDRSTRLEN];

		sn_addr_format(&e->addr, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), e->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
			 e->port);
	}
	fprintf(f, " %s=%s", key, buf);
}

static void explain(FILE *f, const struct rw_input *in, const struct rw_result *r)
{
	static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	for (size_t i = 0; i < r->n_edits; i++) {
		const struct rw_edit *e = &r->edits[i];

		fputs("edit ", f);
		for (const char *w = e->where; *w; w++)
			fputc(*w == ' ' ? '_' : *w, f);
		fprintf(f, " %zu+%zu ", e->off, e->len);
		put_escaped(f, in->msg + e->off, e->len);
		fputs(" -> ", f);
		put_escaped(f, e->text, e->text_len);
		fputc('\n', f);
	}
	if (r->status == RW_REWRITTEN || r->status == RW_UNCHANGED) {
		for (size_t i = 0; i < r->sip.n_media; i++) {
			const struct rw_media *m = &r->sip.media[i];
			const struct sn_endpoint *priv = in->dir == RW_OUT ? &m->orig : &m->rewritten;
			const struct sn_endpoint *pub = in->dir == RW_OUT ? &m->rewritten : &m->orig;
			const char *ph = "yes";

			if (m->orig.port == 0)
				ph = "no(port-0)";
			else if (m->hold)
				ph = "no(hold)";
			else if (m->conn_is_name)
				ph = "no(fqdn)";
			else if (m->orig.addr.family == 0)
				ph = "no(no-address)";
			fprintf(f, "media %zu %s %s %s", i, m->type, m->proto,
				m->l4proto == IPPROTO_TCP ? "tcp" : "udp");
			put_ep(f, "private", priv);
			put_ep(f, "public", pub);
			if (m->rtcp_orig)
				fprintf(f, " rtcp=%u/%u",
					in->dir == RW_OUT ? m->rtcp_orig : m->rtcp_rewritten,
					in->dir == RW_OUT ? m->rtcp_rewritten : m->rtcp_orig);
			else
				fputs(" rtcp=-", f);
			fprintf(f, " mux=%s dir=%s pinhole=%s\n", m->rtcp_mux ? "yes" : "no",
				dirs[m->mdir & 3], ph);
		}
		fprintf(f, "result %s edits=%zu media=%zu\n",
			r->status == RW_REWRITTEN ? "rewritten" : "unchanged", r->n_edits,
			r->sip.n_media);
	} else {
		fprintf(f, "result %s reason=%s\n", r->status == RW_DROP ? "drop" : "passthrough",
			rw_reason_name(r->reason));
	}
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads up to cap bytes; returns the count, -1 on error. */
static ssize_t read_upto(int fd, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

static int bad(const char *msg, const char *arg)
{
	fprintf(stderr, "nfqd rewrite: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	return 2;
}

enum { O_DIR = 256, O_MAP, O_NAME, O_MEDIA, O_CONFIG, O_TRANSPORT, O_SRC, O_DST, O_EXPLAIN,
       O_STRICT, O_FROMTO, O_HELP, O_PAIR };

int cmd_rewrite(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, O_DIR },
		{ "map", required_argument, NULL, O_MAP },
		{ "public-name", required_argument, NULL, O_NAME },
		{ "media-ports", required_argument, NULL, O_MEDIA },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "transport", required_argument, NULL, O_TRANSPORT },
		{ "src", required_argument, NULL, O_SRC },
		{ "dst", required_argument, NULL, O_DST },
		{ "explain", no_argument, NULL, O_EXPLAIN },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "rewrite-from-to", no_argument, NULL, O_FROMTO },
		{ "help", no_argument, NULL, O_HELP },
		{ "media-pair", required_argument, NULL, O_PAIR },
		{ NULL, 0, NULL, 0 },
	};
	static struct conf conf;
	/* Flags are applied after the file, maps before names and media
	 * ports (those refer to a map entry), whatever order they came in. */
	const char *maps[NATMAP_MAX * 2], *names[NATMAP_MAX], *medias[NATMAP_MAX];
	const char *pairs[NATMAP_PAIRS_MAX];
	size_t n_maps = 0, n_names = 0, n_medias = 0, n_pairs = 0;
	const char *config = NULL, *path = "-";
	bool explain_on = false, strict = false, fromto = false, have_dir = false;
	struct rw_input in = { 0 };
	struct rw_config cfg;
	struct rw_result res;
	struct arena a;
	static uint8_t buf[RW_MAX_MESSAGE + 1];
	char err[512];
	ssize_t n;
	int fd = 0, o;

	optind = 0;	/* glibc: full re-initialisation (tests call us repeatedly) */
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_DIR:
			if (strcmp(optarg, "out") == 0)
				in.dir = RW_OUT;
			else if (strcmp(optarg, "in") == 0)
				in.dir = RW_IN;
			else
				return bad("--dir must be out or in", optarg);
			have_dir = true;
			break;
		case O_MAP:
			if (n_maps == sizeof(maps) / sizeof(maps[0]))
				return bad("too many --map", NULL);
			maps[n_maps++] = optarg;
			break;
		case O_NAME:
			if (n_names == NATMAP_MAX)
				return bad("too many --public-name", NULL);
			names[n_names++] = optarg;
			break;
		case O_MEDIA:
			if (n_medias == NATMAP_MAX)
				return bad("too many --media-ports", NULL);
			medias[n_medias++] = optarg;
			break;
		case O_PAIR:
			if (n_pairs == NATMAP_PAIRS_MAX)
				return bad("too many --media-pair", NULL);
			pairs[n_pairs++] = optarg;
			break;
		case O_CONFIG:
			config = optarg;
			break;
		case O_TRANSPORT:
			if (strcmp(optarg, "udp") == 0)
				in.transport = RW_UDP;
			else if (strcmp(optarg, "tcp") == 0)
				in.transport = RW_TCP;
			else
				return bad("--transport must be udp or tcp", optarg);
			break;
		case O_SRC:
		case O_DST:
			if (sn_endpoint_parse(o == O_SRC ? &in.src : &in.dst, optarg, strlen(optarg)))
				return bad(o == O_SRC ? "--src: bad ADDR:PORT" : "--dst: bad ADDR:PORT",
					   optarg);
			break;
		case O_EXPLAIN:
			explain_on = true;
			break;
		case O_STRICT:
			strict = true;
			break;
		case O_FROMTO:
			fromto = true;
			break;
		case O_HELP:
			fputs(usage, stdout);
			return 0;
		default:
			return bad("unknown option or missing value (see --help)",
				   optind > 0 && optind <= argc ? argv[optind - 1] : NULL);
		}
	}
	if (!have_dir)
		return bad("--dir out|in is required", NULL);
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return bad("one input file at most", argv[optind]);

	conf_defaults(&conf);
	if (config && conf_load(&conf, config, err, sizeof(err)))
		return bad(err, NULL);
	for (size_t i = 0; i < n_maps; i++)
		if (conf_set_flag(&conf, "map", maps[i], err, sizeof(err)))
			return bad(err, NULL);
	for (size_t i = 0; i < n_names; i++)
		if (conf_set_flag(&conf, "public-name", names[i], err, sizeof(err)))
			return bad(err, NULL);
	for (size_t i = 0; i < n_medias; i++)
		if (conf_set_flag(&conf, "media-ports", medias[i], err, sizeof(err)))
			return bad(err, NULL);
	for (size_t i = 0; i < n_pairs; i++)
		if (natmap_add_media_pair(&conf.map, pairs[i], err, sizeof(err)))
			return bad(err, NULL);
	if (strict)
		conf.strict = true;
	if (fromto)
		conf.rewrite_from_to = true;
	if (conf_check(&conf, err, sizeof(err)))
		return bad(err, NULL);

	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) < 0)
		return bad(strerror(errno), path);
	n = read_upto(fd, buf, sizeof(buf));
	if (n < 0)
		return bad(strerror(errno), path);
	if (arena_init(&a, ARENA_DEFAULT_SIZE))
		return bad("out of memory", NULL) - 1;	/* runtime failure: 1 */

	cfg = (struct rw_config){ .map = &conf.map, .rewrite_from_to = conf.rewrite_from_to,
				  .strict = conf.strict };
	in.msg = buf;
	in.len = (size_t)n;
	rw_rewrite(&cfg, &in, &a, &res);
	if (n > RW_MAX_MESSAGE) {
		/* The core said too-big without looking; forward all of it, as
		 * the daemon passes such a message (it cannot see one on UDP). */
		fprintf(stderr, "nfqd rewrite: input larger than %u bytes: %s unchanged (too-big)\n",
			RW_MAX_MESSAGE, res.status == RW_DROP ? "dropped" : "passed through");
	}
	if (explain_on)
		explain(stderr, &in, &res);
	if (res.status != RW_DROP) {
		if (write_all(1, res.out, res.out_len)) {
			arena_free(&a);
			return bad("write error", strerror(errno)) - 1;	/* runtime failure: 1 */
		}
		if (n > RW_MAX_MESSAGE) {
			while ((n = read_upto(fd, buf, sizeof(buf))) > 0)
				if (write_all(1, buf, (size_t)n))
					break;
		}
	}
	arena_free(&a);
	if (fd > 0)
		close(fd);
	return 0;
}
