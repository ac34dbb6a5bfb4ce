/* rwcheck.c - runs the rewrite core on one corpus message the way the
 * corpus runner needs it: checks the properties of tests/fuzz/rw_check.h,
 * and prints a stable, reviewable record of what happened (status, each
 * edit with its old and new text, the media streams, mapped addresses still
 * in the message and where, whether the opposite direction restores the
 * input).  That record is what tests/corpus/expected/ stores, so expected
 * files never hold a copy of the third-party corpus text.
 *
 * Also writes pcap files (--pcap) so tshark can judge many messages in one
 * run.
 *
 * Owns: nothing the daemon uses.  Must not: be linked into nfqd.
 *
 *   rwcheck [--map S]... [--public-name S]... [--media-ports S]... --dir out|in
 *           [--transport udp|tcp] [--rewrite-from-to] [--strict]
 *           [--write OUTFILE] FILE
 *   rwcheck --pcap OUT.pcap FILE...
 * Exit: 0 all properties hold, 1 one broke (reason on stderr), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natmap.h"
#include "rewrite.h"
#include "../fuzz/rw_check.h"

#define MAX_FILE (RW_MAX_MESSAGE + 1)

static int read_file(const char *path, uint8_t *buf, size_t size, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;

	if (!f) {
		fprintf(stderr, "rwcheck: %s: %s\n", path, strerror(errno));
		return -1;
	}
	*len = fread(buf, 1, size, f);
	if (f != stdin)
		fclose(f);
	return 0;
}

/* Text with C escapes so records stay one line and diffable. */
static void put_escaped(FILE *o, const void *p, size_t n)
{
	const unsigned char *s = p;

	fputc('"', o);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fprintf(o, "\\%c", s[i]);
		else if (s[i] == '\r')
			fputs("\\r", o);
		else if (s[i] == '\n')
			fputs("\\n", o);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			fprintf(o, "\\x%02x", s[i]);
		else
			fputc(s[i], o);
	}
	fputc('"', o);
}

static const char *status_name(enum rw_status s)
{
	switch (s) {
	case RW_REWRITTEN: return "rewritten";
	case RW_UNCHANGED: return "unchanged";
	case RW_PASSTHROUGH: return "passthrough";
	case RW_DROP: return "drop";
	}
	return "?";
}

static const char *mdir_name(enum rw_media_dir d)
{
	static const char *n[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	return (unsigned)d < 4 ? n[d] : "?";
}

static void put_endpoint(FILE *o, const struct sn_endpoint *e)
{
	char b[SN_ADDRSTRLEN];

	if (e->addr.family == 0) {
		fprintf(o, "-:%u", e->port);
		return;
	}
	sn_endpoint_format(e, b, sizeof(b));
	/* port 0 (m=video 0) would vanish in the text form */
	if (e->port == 0)
		fprintf(o, "%s:0", b);
	else
		fputs(b, o);
}

/* Where a line sits: the header name, or "sdp x=" for body lines. */
static void line_label(const uint8_t *m, size_t len, size_t at, size_t body, char *out, size_t size)
{
	size_t ls = at, n = 0;

	while (ls > 0 && m[ls - 1] != '\n')
		ls--;
	if (ls == 0) {
		snprintf(out, size, "start-line");
		return;
	}
	if (ls >= body) {
		if (ls + 1 < len && m[ls + 1] == '=')
			snprintf(out, size, "body %c=", m[ls]);
		else
			snprintf(out, size, "body");
		return;
	}
	if (m[ls] == ' ' || m[ls] == '\t') {
		snprintf(out, size, "folded");
		return;
	}
	while (ls + n < len && n + 1 < size && m[ls + n] != ':' && m[ls + n] != '\n' &&
	       m[ls + n] != ' ' && m[ls + n] != '\t')
		n++;
	snprintf(out, size, "%.*s", (int)n, (const char *)m + ls);
	for (char *c = out; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

/* Lists each mapped address of the side the message leaves (or a public
 * name, inbound) still in out, once per line it occurs on. */
static void put_left(FILE *o, const struct natmap *map, enum rw_dir dir,
		     const uint8_t *m, size_t len)
{
	size_t body = rwchk_body_start(m, len);

	for (size_t j = 0; j < map->n; j++) {
		char a[SN_ADDRSTRLEN + NATMAP_FQDN_MAX];
		const char *names[2];
		int nn = 0;

		sn_addr_format(dir == RW_OUT ? &map->e[j].priv : &map->e[j].pub, a, SN_ADDRSTRLEN);
		names[nn++] = a;
		if (dir == RW_IN && map->e[j].fqdn[0])
			names[nn++] = map->e[j].fqdn;
		for (int k = 0; k < nn; k++) {
			size_t ls = 0;

			while (ls < len) {
				size_t le = ls;

				while (le < len && m[le] != '\n')
					le++;
				if (rwchk_has_token((const char *)m + ls, le - ls, names[k])) {
					char lab[40];

					line_label(m, len, ls, body, lab, sizeof(lab));
					fprintf(o, "left %s in %s\n", names[k], lab);
				}
				ls = le + 1;
			}
		}
	}
}

/* The way back did not restore the input: say, per forward edit, whether
 * the opposite direction undid it ("undone" is not printed), left it
 * ("kept", e.g. a request's Via, which only responses rewrite inbound) or
 * wrote something else ("mismatch"), and list reverse edits that undo
 * nothing ("extra").  Content-Length is left out: it follows the rest. */
static void put_roundtrip(const struct rw_input *in, const struct rw_result *fw,
			  const struct rw_result *bw)
{
	long shift = 0;
	bool *used = calloc(bw->n_edits + 1, sizeof(bool));

	if (!used)
		exit(1);
	printf("roundtrip differs\n");
	for (size_t k = 0; k < fw->n_edits; k++) {
		const struct rw_edit *f = &fw->edits[k];
		size_t xoff = (size_t)((long)f->off + shift);
		const struct rw_edit *r = NULL;

		shift += (long)f->text_len - (long)f->len;
		for (size_t j = 0; j < bw->n_edits; j++)
			if (bw->edits[j].off < xoff + f->text_len &&
			    bw->edits[j].off + bw->edits[j].len > xoff) {
				r = &bw->edits[j];
				used[j] = true;
				break;
			}
		if (!strcmp(f->where, "content-length"))
			continue;
		if (!r) {
			printf("roundtrip kept %s at %zu\n", f->where, f->off);
		} else if (r->off != xoff || r->len != f->text_len || r->text_len != f->len ||
			   memcmp(r->text, in->msg + f->off, f->len)) {
			printf("roundtrip mismatch %s at %zu: ", f->where, f->off);
			put_escaped(stdout, in->msg + f->off, f->len);
			fputs(" -> ", stdout);
			put_escaped(stdout, f->text, f->text_len);
			fputs(" -> ", stdout);
			put_escaped(stdout, r->text, r->text_len);
			putchar('\n');
		}
	}
	for (size_t j = 0; j < bw->n_edits; j++)
		if (!used[j] && strcmp(bw->edits[j].where, "content-length")) {
			printf("roundtrip extra %s at %zu: ", bw->edits[j].where, bw->edits[j].off);
			put_escaped(stdout, bw->edits[j].text, bw->edits[j].text_len);
			putchar('\n');
		}
	free(used);
}

static int write_pcap(const char *outpath, int nfiles, char **files)
{
	static uint8_t buf[MAX_FILE + 28];
	FILE *o = fopen(outpath, "wb");
	/* pcap header: magic, v2.4, tz 0, sigfigs 0, snaplen, LINKTYPE_RAW */
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535 + 28, 101 };

	if (!o) {
		fprintf(stderr, "rwcheck: %s: %s\n", outpath, strerror(errno));
		return 1;
	}
	fwrite(gh, sizeof(gh), 1, o);
	for (int i = 0; i < nfiles; i++) {
		size_t len;

		if (read_file(files[i], buf + 28, MAX_FILE, &len))
			return 1;
		if (len > 65535 - 28)
			len = 65535 - 28;
		/* IPv4 192.0.2.1 -> 192.0.2.2, UDP 5060 -> 5060, checksum 0 */
		size_t tot = len + 28;
		uint8_t *ip = buf, *udp = buf + 20;
		uint32_t sum = 0;

		memset(buf, 0, 28);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(tot >> 8);
		ip[3] = (uint8_t)tot;
		ip[8] = 64;
		ip[9] = 17;
		ip[12] = 192; ip[13] = 0; ip[14] = 2; ip[15] = 1;
		ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = 2;
		for (int k = 0; k < 20; k += 2)
			sum += (uint32_t)(ip[k] << 8 | ip[k + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		ip[10] = (uint8_t)(~sum >> 8);
		ip[11] = (uint8_t)~sum;
		udp[0] = 5060 >> 8; udp[1] = 5060 & 0xff;
		udp[2] = 5060 >> 8; udp[3] = 5060 & 0xff;
		udp[4] = (uint8_t)((len + 8) >> 8);
		udp[5] = (uint8_t)(len + 8);

		uint32_t ph[4] = { (uint32_t)i + 1, 0, (uint32_t)tot, (uint32_t)tot };

		fwrite(ph, sizeof(ph), 1, o);
		fwrite(buf, 1, tot, o);
	}
	return fclose(o) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: rwcheck [--map S]... [--public-name S]... --dir out|in "
		"[--transport udp|tcp] [--rewrite-from-to] [--strict] [--write OUT] FILE\n"
		"       rwcheck --pcap OUT.pcap FILE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct natmap map;
	static uint8_t msg[MAX_FILE];
	struct rw_config cfg = { .map = &map };
	struct rw_input in = { .dir = RW_OUT, .transport = RW_UDP };
	struct arena a1, a2;
	struct rw_result res;
	struct rwchk_report rep = { .n = 0 };
	const char *file = NULL, *write_to = NULL;
	bool have_dir = false;
	char err[256];
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "--pcap")) {
			if (!val || i + 2 > argc)
				usage();
			return write_pcap(val, argc - i - 2, argv + i + 2);
		} else if (!strcmp(arg, "--map") && val) {
			if (natmap_add_spec(&map, val, err, sizeof(err))) {
				fprintf(stderr, "rwcheck: --map: %s\n", err);
				return 2;
			}
			i++;
		} else if (!strcmp(arg, "--public-name") && val) {
			if (natmap_add_name(&map, val, err, sizeof(err))) {
				fprintf(stderr, "rwcheck: --public-name: %s\n", err);
				return 2;
			}
			i++;
		} else if (!strcmp(arg, "--media-ports") && val) {
			if (natmap_add_media_ports(&map, val, err, sizeof(err))) {
				fprintf(stderr, "rwcheck: --media-ports: %s\n", err);
				return 2;
			}
			i++;
		} else if (!strcmp(arg, "--dir") && val) {
			if (!strcmp(val, "out"))
				in.dir = RW_OUT;
			else if (!strcmp(val, "in"))
				in.dir = RW_IN;
			else
				usage();
			have_dir = true;
			i++;
		} else if (!strcmp(arg, "--transport") && val) {
			in.transport = !strcmp(val, "tcp") ? RW_TCP : RW_UDP;
			i++;
		} else if (!strcmp(arg, "--rewrite-from-to")) {
			cfg.rewrite_from_to = true;
		} else if (!strcmp(arg, "--strict")) {
			cfg.strict = true;
		} else if (!strcmp(arg, "--write") && val) {
			write_to = val;
			i++;
		} else if (arg[0] == '-' && arg[1] == '-') {
			usage();
		} else if (!file) {
			file = arg;
		} else {
			usage();
		}
	}
	if (!file || !have_dir)
		usage();
	if (read_file(file, msg, sizeof(msg), &in.len))
		return 2;
	in.msg = msg;
	if (arena_init(&a1, ARENA_DEFAULT_SIZE) || arena_init(&a2, ARENA_DEFAULT_SIZE))
		return 1;

	rw_rewrite(&cfg, &in, &a1, &res);
	rwchk_check(&cfg, &in, &res, &rep);
	if (rep.n == 0)
		rwchk_check_idempotent(&cfg, &in, &res, &a2, &rep);

	printf("status %s", status_name(res.status));
	if (res.reason != RW_OK)
		printf(" %s", rw_reason_name(res.reason));
	putchar('\n');
	for (size_t k = 0; rep.n == 0 && k < res.n_edits; k++) {
		const struct rw_edit *e = &res.edits[k];

		printf("edit %zu+%zu %s ", e->off, e->len, e->where);
		put_escaped(stdout, in.msg + e->off, e->len);
		fputs(" -> ", stdout);
		put_escaped(stdout, e->text, e->text_len);
		putchar('\n');
	}
	if (res.status == RW_REWRITTEN || res.status == RW_UNCHANGED) {
		const struct rw_sip *s = &res.sip;

		for (size_t k = 0; k < s->n_media && s->media; k++) {
			const struct rw_media *md = &s->media[k];

			printf("media %zu %.16s %.32s ", k, md->type, md->proto);
			put_endpoint(stdout, &md->orig);
			fputs(" -> ", stdout);
			put_endpoint(stdout, &md->rewritten);
			printf(" n=%u rtcp=%u->%u%s%s%s %s\n", md->nports, md->rtcp_orig,
			       md->rtcp_rewritten, md->rtcp_mux ? " mux" : "",
			       md->conn_is_name ? " name" : "", md->hold ? " hold" : "",
			       mdir_name(md->mdir));
		}
	}
	put_left(stdout, &map, in.dir, res.out, res.out_len);

	/* Does the opposite direction give the input back? */
	if (rep.n == 0 && res.status == RW_REWRITTEN) {
		struct rw_input back = in;
		struct rw_result res3;

		back.dir = in.dir == RW_OUT ? RW_IN : RW_OUT;
		back.msg = res.out;
		back.len = res.out_len;
		arena_reset(&a2);
		rw_rewrite(&cfg, &back, &a2, &res3);
		if (res3.out_len == in.len && !memcmp(res3.out, in.msg, in.len))
			printf("roundtrip same\n");
		else
			put_roundtrip(&in, &res, &res3);
	}

	if (write_to) {
		FILE *o = fopen(write_to, "wb");

		if (!o || fwrite(res.out, 1, res.out_len, o) != res.out_len || fclose(o)) {
			fprintf(stderr, "rwcheck: %s: %s\n", write_to, strerror(errno));
			return 1;
		}
	}
	for (int k = 0; k < rep.n && k < 8; k++)
		fprintf(stderr, "rwcheck: %s: %s\n", file, rep.why[k]);
	arena_free(&a1);
	arena_free(&a2);
	return rep.n ? 1 : 0;
}
