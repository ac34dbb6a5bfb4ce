/* Unit tests of the rewrite core (rewrite.c, sdp_rewrite.c): every rule of
 * the map with exact expected bytes, idempotence, the inverse, and the
 * corpus: every invalid message passes through byte-identical. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

static struct natmap map;
static struct arena arena;
static char outbuf[RW_MAX_MESSAGE + 1];

static void map_reset(void)
{
	memset(&map, 0, sizeof(map));
}

static void add_map(const char *spec)
{
	char err[128];

	assert_int_equal(natmap_add_spec(&map, spec, err, sizeof(err)), 0);
}

static void add_name(const char *spec)
{
	char err[128];

	assert_int_equal(natmap_add_name(&map, spec, err, sizeof(err)), 0);
}

static void add_media(const char *spec)
{
	char err[128];

	assert_int_equal(natmap_add_media_ports(&map, spec, err, sizeof(err)), 0);
}

/* Runs the core; returns the output as a NUL-terminated string. */
static const char *rw_full(const char *msg, size_t len, enum rw_dir dir, bool fromto,
			   bool strict, enum rw_transport tr, struct rw_result *res)
{
	struct rw_config cfg = { .map = &map, .rewrite_from_to = fromto, .strict = strict };
	struct rw_input in = { .msg = (const uint8_t *)msg, .len = len, .dir = dir,
			       .transport = tr };

	arena_reset(&arena);
	rw_rewrite(&cfg, &in, &arena, res);
	assert_true(res->out_len <= RW_MAX_MESSAGE);
	memcpy(outbuf, res->out, res->out_len);
	outbuf[res->out_len] = '\0';
	return outbuf;
}

static const char *rw(const char *msg, enum rw_dir dir, struct rw_result *res)
{
	return rw_full(msg, strlen(msg), dir, false, false, RW_UDP, res);
}

/* out must equal want; rewriting want again changes nothing. */
static void expect(const char *msg, enum rw_dir dir, const char *want)
{
	struct rw_result res;
	char *copy;

	rw(msg, dir, &res);
	assert_string_equal(outbuf, want);
	assert_int_equal(res.status, strcmp(msg, want) ? RW_REWRITTEN : RW_UNCHANGED);
	copy = strdup(outbuf);
	rw(copy, dir, &res);
	assert_int_equal(res.status, RW_UNCHANGED);
	assert_string_equal(outbuf, want);
	free(copy);
}

static int setup(void **state)
{
	map_reset();
	return arena_init(&arena, ARENA_DEFAULT_SIZE);
}

static int teardown(void **state)
{
	arena_free(&arena);
	return 0;
}

#define INVITE_HDRS(ruri, via, contact)                                              \
	"INVITE " ruri " SIP/2.0\r\n"                                                \
	"Via: SIP/2.0/UDP " via ";branch=z9hG4bK776asdhds\r\n"                       \
	"Max-Forwards: 70\r\n"                                                       \
	"To: Bob <sip:bob@biloxi.example.com>\r\n"                                   \
	"From: Alice <sip:alice@10.0.0.5>;tag=1928301774\r\n"                        \
	"Call-ID: a84b4c76e66710@10.0.0.5\r\n"                                       \
	"CSeq: 314159 INVITE\r\n"                                                    \
	"Contact: <sip:alice@" contact ">\r\n"

static void test_basic_out_in(void **state)
{
	static const char sdp_priv[] =
		"v=0\r\n"
		"o=alice 2890844526 2890844526 IN IP4 10.0.0.5\r\n"
		"s=-\r\n"
		"c=IN IP4 10.0.0.5\r\n"
		"t=0 0\r\n"
		"m=audio 49170 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n";
	static const char sdp_pub[] =
		"v=0\r\n"
		"o=alice 2890844526 2890844526 IN IP4 203.0.113.5\r\n"
		"s=-\r\n"
		"c=IN IP4 203.0.113.5\r\n"
		"t=0 0\r\n"
		"m=audio 49170 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n";
	char in[2048], want[2048];
	struct rw_result res;

	add_map("10.0.0.5=203.0.113.5");
	snprintf(in, sizeof(in),
		 INVITE_HDRS("sip:bob@10.0.0.9", "10.0.0.5:5060", "10.0.0.5:5060")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_priv), sdp_priv);
	snprintf(want, sizeof(want),
		 INVITE_HDRS("sip:bob@10.0.0.9", "203.0.113.5:5060", "203.0.113.5:5060")
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp_pub), sdp_pub);
	expect(in, RW_OUT, want);
	rw(in, RW_OUT, &res);
	assert_int_equal(res.sip.n_media, 1);
	assert_string_equal(res.sip.media[0].type, "audio");
	assert_int_equal(res.sip.media[0].orig.port, 49170);
	assert_int_equal(res.sip.media[0].rewritten.port, 49170);
	assert_string_equal(res.sip.call_id, "a84b4c76e66710@10.0.0.5");
	assert_string_equal(res.sip.from_tag, "1928301774");
	assert_string_equal(res.sip.to_tag, "");
	assert_string_equal(res.sip.method, "INVITE");
	assert_int_equal(res.sip.cseq, 314159);
	assert_true(res.sip.has_sdp);
}

/* FQDN in SIP headers (SDP keeps the IP), port translation both ways. */
static void test_fqdn_port(void **state)
{
	static const char in_out[] =
		"REGISTER sip:registrar.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.5:5062;rport;branch=z9hG4bKnashds7\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:alice@example.com>;tag=456248\r\n"
		"Call-ID: 843817637684230@998sdasdh09\r\n"
		"CSeq: 1826 REGISTER\r\n"
		"Contact: <sip:alice@10.0.0.5:5062;transport=udp>;expires=7200;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char want_out[] =
		"REGISTER sip:registrar.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP sip.example.net:5060;rport;branch=z9hG4bKnashds7\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:alice@example.com>;tag=456248\r\n"
		"Call-ID: 843817637684230@998sdasdh09\r\n"
		"CSeq: 1826 REGISTER\r\n"
		"Contact: <sip:alice@sip.example.net:5060;transport=udp>;expires=7200;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char req_in[] =
		"INVITE sip:alice@sip.example.net SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK1\r\n"
		"Route: <sip:203.0.113.5;lr>\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:bob@example.org>;tag=1\r\n"
		"Call-ID: x1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char want_in[] =
		"INVITE sip:alice@10.0.0.5:5062 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK1\r\n"
		"Route: <sip:10.0.0.5:5062;lr>\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:bob@example.org>;tag=1\r\n"
		"Call-ID: x1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";

	add_map("10.0.0.5:5062=203.0.113.5:5060");
	add_name("203.0.113.5=sip.example.net");
	add_media("10.0.0.5:20000-20999=203.0.113.5:40000");
	expect(in_out, RW_OUT, want_out);
	expect(req_in, RW_IN, want_in);
}

static void test_corpus_invalid_passthrough(void **state)
{
	FILE *idx = fopen("../shared/corpus/sip/INDEX.tsv", "r");
	char line[4096];
	int seen = 0;

	if (!idx) {
		print_message("corpus not found (../shared/corpus/sip), skipped\n");
		return;
	}
	add_map("10.0.0.1=203.0.113.1");
	add_map("192.168.1.50=203.0.113.50");
	while (fgets(line, sizeof(line), idx)) {
		char *f = strtok(line, "\t"), *valid;
		char path[512];
		static char buf[RW_MAX_MESSAGE + 1];
		struct rw_result res;
		size_t n;
		FILE *m;

		for (int k = 0; k < 3; k++)
			strtok(NULL, "\t");
		valid = strtok(NULL, "\t");
		if (!f || !valid || strcmp(valid, "torture-invalid") != 0)
			continue;
		snprintf(path, sizeof(path), "../shared/corpus/sip/%s", f);
		m = fopen(path, "rb");
		assert_non_null(m);
		n = fread(buf, 1, sizeof(buf), m);
		fclose(m);
		for (int dir = RW_OUT; dir <= RW_IN; dir++) {
			rw_full(buf, n, (enum rw_dir)dir, true, false, RW_UDP, &res);
			if (res.status != RW_PASSTHROUGH)
				fail_msg("%s: not passed through", f);
			assert_int_not_equal(res.reason, RW_OK);
			assert_int_equal(res.out_len, n);
			assert_memory_equal(res.out, buf, n);
			rw_full(buf, n, (enum rw_dir)dir, true, true, RW_UDP, &res);
			assert_int_equal(res.status, RW_DROP);
		}
		seen++;
	}
	fclose(idx);
	assert_true(seen >= 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic_out_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fqdn_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corpus_invalid_passthrough, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
